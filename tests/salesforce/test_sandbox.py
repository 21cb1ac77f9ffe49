"""The Salesforce client against the sandbox's org stand-in, over real HTTP, with zero
configuration: login, paging, IN lists, collections, and every injected fault."""

import datetime as dt

import pytest

from sandbox import seed
from syncapp.engine.preflight import api_reserve as preflight_api_reserve
from syncapp.salesforce import get_client
from syncapp.salesforce.errors import LimitExhausted, PermanentError
from tests import sandboxcontrol as sandbox_control

pytestmark = pytest.mark.integration

BASE_TIME = dt.datetime(2026, 11, 1, 12, 0, tzinfo=dt.UTC)
SIZES = seed.Sizes(
    prospects=500, leads=450, contacts=60, accounts=6, opportunities=8, activities_per_prospect=0
)


@pytest.fixture
def sandbox(live_server, settings, transactional_db):
    """The embedded default: no SALESFORCE_* set, the sandbox served by the live server."""
    settings.SANDBOX_BASE_URL = live_server.url
    settings.SANDBOX_ENABLED = True
    for name in ("LOGIN_URL", "USERNAME", "PASSWORD", "CLIENT_ID", "CLIENT_SECRET", "JWT_KEY_FILE"):
        setattr(settings, f"SALESFORCE_{name}", "")
    settings.SALESFORCE_RETRY_ATTEMPTS = 12
    seed.seed(SIZES, 11, BASE_TIME)
    return live_server.url


@pytest.fixture
def faults(sandbox):
    def put(**changes):
        r = sandbox_control.put(f"{sandbox}/sandbox/control/faults", json=changes, timeout=10)
        assert r.status_code == 200, r.text
        return r.json()

    return put


def _stats(sandbox):
    return sandbox_control.get(f"{sandbox}/sandbox/control/stats", timeout=10).json()


def test_zero_configuration_reaches_the_sandbox(sandbox):
    client = get_client()
    identity = client.identity()
    assert identity["instance_url"] == sandbox
    assert identity["org_id"].startswith("00D")
    assert identity["username"] == "sync@swstudio.sandbox"
    assert identity["daily_max"] == 100000
    assert client.api_usage[1] == 100000


def test_paging_counts_and_describe(sandbox):
    client = get_client()
    assert client.count("SELECT COUNT() FROM Lead") == 450
    leads = list(client.query("SELECT Id, Email FROM Lead", page_size=200))
    assert len(leads) == 450 == len({lead["Id"] for lead in leads})
    assert all("attributes" not in lead for lead in leads)
    assert client.calls == 1 + 3  # the count, then pages of 200, 200, 50
    assert {"SW_Tags__c", "SW_Prospect_Id__c", "Email"} <= set(client.fields("Lead"))


@pytest.mark.real_clients
def test_a_score_mapping_is_checked_against_the_sandboxs_describe(sandbox):
    """Through the real client and the org stand-in: a Number field is taken, a text field
    (a Lead's LastName) is refused, so no score is ever written over a name."""
    from django.core.exceptions import ValidationError

    from syncapp.engine.field_mappings import check_target

    check_target("Lead", "SW_Engagement_Score__c")
    with pytest.raises(ValidationError, match="Lead.LastName is a string field"):
        check_target("Lead", "LastName")


def test_query_in_finds_the_same_records_in_chunks(sandbox):
    client = get_client()
    leads = [r for r in client.query("SELECT Id, Email FROM Lead") if r["Email"]]
    emails = [r["Email"] for r in leads]
    calls = client.calls
    found = list(
        client.query_in(
            "SELECT Id, Email FROM Lead WHERE Email IN ({values})", emails, chunk_chars=3000
        )
    )
    assert sorted(r["Id"] for r in found) == sorted(r["Id"] for r in leads)
    assert client.calls - calls > 3  # several chunks


def test_updates_in_collections_and_validation_rules_per_record(sandbox, faults):
    faults(
        validation_rules=[{"object": "Lead", "emailPattern": "*.org", "message": "No .org domains"}]
    )
    client = get_client()
    leads = list(client.query("SELECT Id, Email FROM Lead WHERE IsConverted = false"))
    calls = client.calls
    results = client.update("Lead", [{"Id": r["Id"], "SW_Tags__c": "Demo Request"} for r in leads])
    assert client.calls - calls == -(-len(leads) // 200)  # 200 records a call
    assert len(results) == len(leads)
    for lead, result in zip(leads, results, strict=True):
        if lead["Email"].lower().endswith(".org"):
            assert not result.success
            assert result.codes == ["FIELD_CUSTOM_VALIDATION_EXCEPTION"]
            assert "No .org domains" in result.errors[0]
        else:
            assert result.success and result.id == lead["Id"]
    # SW_Tags__c is a Long Text Area: SOQL cannot filter on it, so read it and filter here.
    written = {
        r["Id"]
        for r in client.query("SELECT Id, SW_Tags__c FROM Lead")
        if r["SW_Tags__c"] == "Demo Request"
    }
    assert written == {r.id for r in results if r.success}
    assert 0 < len(written) < len(leads)


def test_lock_errors_and_5xx_bursts_converge(sandbox, faults):
    # The update takes ~14 calls (3 collections and their lock-error resends). At a 5xx rate
    # of 0.3, none of them failing happened once in a full run (0.7^14 = 0.7 %); at 0.4 that
    # is 0.08 %, while a call failing all 12 attempts stays below 2e-5.
    faults(lock_row_rate=0.3, server_error_rate=0.4)
    client = get_client()
    leads = list(client.query("SELECT Id FROM Lead WHERE IsConverted = false"))
    results = client.update("Lead", [{"Id": r["Id"], "SW_Favorite__c": True} for r in leads])
    assert all(r.success for r in results)
    counters = _stats(sandbox)["counters"]
    assert counters.get("sf.fault.HTTP_503", 0) > 0
    faults(lock_row_rate=0.0, server_error_rate=0.0)
    assert client.count("SELECT COUNT() FROM Lead WHERE SW_Favorite__c = true") == len(leads)


def test_session_expiry_logs_in_again_for_every_kind_of_call(sandbox, faults):
    faults(session_expiry_calls=2)
    client = get_client()
    leads = list(client.query("SELECT Id FROM Lead WHERE IsConverted = false", page_size=200))
    assert len(leads) > 400  # 3 pages
    client.describe("Lead")
    client.update("Lead", [{"Id": r["Id"], "SW_Temperature__c": "Warm"} for r in leads])
    client.upsert(
        "SW_Activity__c",
        "SW_Activity_Id__c",
        [{"SW_Activity_Id__c": f"act_t{i}", "Name": f"t{i}"} for i in range(3)],
    )
    assert client.count("SELECT COUNT() FROM Lead WHERE SW_Temperature__c = 'Warm'") == len(leads)
    assert client.logins >= 4
    assert _stats(sandbox)["counters"]["sf.fault.INVALID_SESSION_ID"] >= 3


def test_upsert_then_delete(sandbox):
    client = get_client()
    rows = [{"SW_Activity_Id__c": f"act_x{i}", "Name": f"x{i}"} for i in range(250)]
    created = client.upsert("SW_Activity__c", "SW_Activity_Id__c", rows)
    assert all(r.success and r.created for r in created)
    again = client.upsert("SW_Activity__c", "SW_Activity_Id__c", rows[:2])
    assert [r.created for r in again] == [False, False]
    assert [r.id for r in again] == [r.id for r in created[:2]]
    deleted = client.delete([r.id for r in created])
    assert all(r.success for r in deleted)
    assert client.count("SELECT COUNT() FROM SW_Activity__c WHERE Name LIKE 'x%'") == 0


@pytest.mark.real_clients
def test_the_daily_limit_stops_the_step_and_blocks_the_next_cycle(sandbox, faults):
    client = get_client()
    client.limits()
    used = client.api_usage[0]
    faults(daily_api_limit=used + 3)
    leads = list(client.query("SELECT Id FROM Lead", page_size=200))
    with pytest.raises(LimitExhausted) as info:
        client.update("Lead", [{"Id": r["Id"], "SW_Tags__c": "x"} for r in leads])
    assert len(info.value.partial_results) == 0
    assert "daily API request limit is used up" in str(info.value)
    assert "no daily API calls left" in preflight_api_reserve()
    faults(daily_api_limit=100000)
    assert preflight_api_reserve() is None


def test_a_bad_query_is_permanent(sandbox):
    with pytest.raises(PermanentError) as info:
        list(get_client().query("SELECT Nope__c FROM Lead"))
    assert info.value.status == 400


def test_a_query_uri_over_the_orgs_limit_is_a_clear_error(sandbox, settings):
    emails = [f"someone.{i}@example.com" for i in range(2000)]
    template = "SELECT Id FROM Lead WHERE Email IN ({values})"
    # The default budget leaves room for the headers: every chunk is answered.
    assert list(get_client().query_in(template, emails)) == []
    settings.SALESFORCE_MAX_QUERY_URI_BYTES = 40_000
    with pytest.raises(PermanentError) as exc:
        list(get_client().query_in(template, emails))
    assert exc.value.status == 414
    assert "over Salesforce's 16,384-byte limit" in str(exc.value)
    assert "SALESFORCE_MAX_QUERY_URI_BYTES" in str(exc.value)
    settings.SALESFORCE_MAX_QUERY_URI_BYTES = 16_300  # the URI fits; with the headers it does not
    with pytest.raises(PermanentError) as exc:
        list(get_client().query_in(template, emails))
    assert exc.value.status == 431
    assert "URI and headers are over" in str(exc.value)
