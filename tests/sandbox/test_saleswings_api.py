"""The SalesWings stand-in, over HTTP with requests, against docs/saleswings-api.md."""

import requests

from sandbox.models import SandboxSettings, SwProspect, SwReceived
from tests import sandboxcontrol as sandbox_control


def test_token_check_and_definitions(sw):
    assert sw.get("/account").json() == {"account": {"id": "acc_1", "name": "Acme Corp"}}
    tags = sw.get("/tags").json()["tags"]
    assert {
        "id": "tag_pricing",
        "name": "Pricing Page",
        "description": "Visited the pricing page",
    } in tags
    assert [s["id"] for s in sw.get("/scores").json()["scores"]] == ["engagement", "fit"]


BAD_OR_MISSING_TOKEN_CASES = [None, "Bearer wrong", "Token sw-sandbox-token"]


def test_bad_or_missing_token(sw):
    # One test over all cases: each live-server test costs a database flush.
    for header in BAD_OR_MISSING_TOKEN_CASES:
        headers = {"Authorization": header} if header else {}
        r = requests.get(sw.url + "/account", headers=headers, timeout=10)
        assert r.status_code == 401
        assert r.json()["error"]["code"] == "invalid_token"


def test_prospects_page_by_seq(sw, faults):
    faults(auto_churn=False)
    first = sw.get("/prospects", params={"limit": 25}).json()
    assert [p["seq"] for p in first["prospects"]] == list(range(1, 26))
    assert first["nextSince"] == 25 and first["hasMore"] is True
    p = first["prospects"][0]
    assert set(p) == {"id", "seq", "email", "firstName", "lastName", "lifecycle", "mergedInto",
                      "temperature", "lastVisit", "favorite", "assignee", "tags", "scores",
                      "updatedAt"}  # fmt: skip
    assert p["updatedAt"].endswith("+00:00")
    rest = sw.get("/prospects", params={"since": 25, "limit": 1000}).json()
    assert len(rest["prospects"]) == 35 and rest["hasMore"] is False and rest["nextSince"] == 60
    empty = sw.get("/prospects", params={"since": 60}).json()
    assert empty == {"prospects": [], "nextSince": 60, "hasMore": False}
    lifecycles = {p["lifecycle"] for p in first["prospects"] + rest["prospects"]}
    assert lifecycles <= {"Active", "Merged", "Deleted"}


def test_activities_page_by_seq(sw):
    page = sw.get("/activities", params={"since": 100, "limit": 10}).json()
    assert [a["seq"] for a in page["activities"]] == list(range(101, 111))
    assert page["activities"][0]["type"] in ("page_visit", "form_submit", "custom_event")
    assert page["hasMore"] is True


BAD_PAGING_PARAMETERS_CASES = [
    {"since": "x"},
    {"since": -1},
    {"limit": 0},
    {"limit": 1001},
    {"limit": "1.5"},
]


def test_bad_paging_parameters(sw):
    # One test over all cases: each live-server test costs a database flush.
    for params in BAD_PAGING_PARAMETERS_CASES:
        r = sw.get("/prospects", params=params)
        assert r.status_code == 400
        assert r.json()["error"]["code"] == "bad_request"


def test_incremental_reads_churn_the_world(sw, faults):
    faults(auto_churn=True, churn_interval_seconds=3600, churn_size=10)
    SandboxSettings.objects.update(last_churn_at=None)
    full = sw.get("/prospects", params={"since": 0, "limit": 1000}).json()
    assert full["nextSince"] == 60  # a full read does not churn
    changed = sw.get("/prospects", params={"since": 60, "limit": 1000}).json()
    assert len(changed["prospects"]) >= 10
    kinds = {p["lifecycle"] for p in changed["prospects"]}
    assert "Merged" in kinds
    merged = next(p for p in changed["prospects"] if p["lifecycle"] == "Merged")
    assert merged["mergedInto"]
    # At most once per interval.
    again = sw.get("/prospects", params={"since": changed["nextSince"]}).json()
    assert again["prospects"] == []


def test_sinks(sw):
    assert sw.post("/metrics", json={"cycle": 1, "failed": 0}).status_code == 202
    r = sw.post("/logs", json={"entries": [{"level": "WARNING", "logger": "x", "message": "m",
                                            "time": "2026-11-27T10:00:00+00:00"}]})  # fmt: skip
    assert (r.status_code, r.json()) == (202, {"accepted": 1})
    change = {"salesforceId": "00Q000000000001AAA", "object": "Lead", "email": "a@b.io",
              "favorite": True, "firstName": "A", "lastName": "B", "ownerEmail": None,
              "prospectId": "p_000001"}  # fmt: skip
    r = sw.post("/salesforce-changes", json={"records": [change]})
    assert (r.status_code, r.json()) == (200, {"accepted": 1})
    assert SwReceived.objects.filter(kind="change").get().body == change
    assert SwReceived.objects.count() == 3


BAD_BODIES_CASES = [
    ("/metrics", "{nope", 400),
    ("/metrics", "[1]", 400),
    ("/logs", '{"entries": "x"}', 400),
    ("/logs", '{"entries": [' + ",".join(['{"message": "m"}'] * 501) + "]}", 413),
    ("/salesforce-changes", '{"records": [{"object": "Lead"}]}', 400),
    ("/salesforce-changes", '{"records": [{"salesforceId": "x", "object": "Task"}]}', 400),
]


def test_bad_bodies(sw):
    # One test over all cases: each live-server test costs a database flush.
    for path, body, status in BAD_BODIES_CASES:
        r = sw.post(path, data=body, headers={"Content-Type": "application/json"})
        assert r.status_code == status
        assert set(r.json()["error"]) == {"code", "message"}


def test_wrong_method_and_unknown_path(sw):
    assert sw.post("/prospects", json={}).json()["error"]["code"] == "method_not_allowed"
    r = sw.get("/nothing")
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"


def test_injected_faults(sw, faults):
    faults(sw_rate_limit_rate=1.0)
    r = sw.get("/tags")
    assert r.status_code == 429 and r.headers["Retry-After"] == "1"
    assert r.json()["error"]["code"] == "rate_limited"
    faults(sw_rate_limit_rate=0.0, sw_error_rate=1.0)
    r = sw.get("/tags")
    assert r.status_code == 503 and r.json()["error"]["code"] == "unavailable"


def test_malformed_items_are_served_as_python_writes_them(sw, faults):
    """Pages are written by orjson, which would write a NaN score as null; a page with a
    malformed item is written by the standard library, so the NaN fault reaches the client."""
    faults(auto_churn=False, sw_malformed_rate=1.0)
    text = sw.get("/prospects", params={"limit": 60}).text
    assert '"engagement":NaN' in text.replace(" ", "") or '"fit":NaN' in text.replace(" ", "")
    assert "<corrupt prospect" in text
    faults(sw_malformed_rate=0.0)
    text = sw.get("/prospects", params={"limit": 60}).text
    assert "NaN" not in text and "corrupt" not in text


def test_prospect_rows_are_what_the_api_serves(sw):
    p = SwProspect.objects.get(seq=1)
    [served] = sw.get("/prospects", params={"limit": 1}).json()["prospects"]
    assert served["id"] == p.id and served["email"] == p.email and served["tags"] == p.tags


def test_churn_on_demand(sw, sandbox_url):
    r = sandbox_control.post(f"{sandbox_url}/sandbox/control/churn", params={"size": 5}, timeout=10)
    assert r.status_code == 200 and r.json()["churned"]["visited"] >= 1
    after = sw.get("/prospects", params={"since": 60, "limit": 1000}).json()["prospects"]
    assert len(after) >= 5
    bad = sandbox_control.post(
        f"{sandbox_url}/sandbox/control/churn", params={"size": "x"}, timeout=10
    )
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "bad_request"
    for seed in ("-1", "x", "1" * 19):
        bad = sandbox_control.post(
            f"{sandbox_url}/sandbox/control/churn", params={"size": 5, "seed": seed}, timeout=10
        )
        assert bad.status_code == 400 and "seed" in bad.json()["error"]["message"], seed


def test_a_seeded_churn_repeats_exactly(sw, sandbox_url):
    from sandbox import seed as seeding
    from tests.sandbox.conftest import BASE_TIME, SMALL

    def churned():
        seeding.seed(SMALL, 7, BASE_TIME)
        r = sandbox_control.post(
            f"{sandbox_url}/sandbox/control/churn", params={"size": 10, "seed": 7}, timeout=10
        )
        assert r.status_code == 200, r.text
        return sorted(SwProspect.objects.values_list("id", "seq", "lifecycle", "temperature"))

    assert churned() == churned()
