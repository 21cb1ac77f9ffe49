"""Injected faults raise what a real org's would, and every call and fault is counted."""

import time

import pytest
from simple_salesforce import (
    SalesforceGeneralError,
    SalesforceMalformedRequest,
    SalesforceRefusedRequest,
)

from sandbox.models import SfLead
from tests import sandboxcontrol as sandbox_control


def stats(url):
    return sandbox_control.get(f"{url}/sandbox/control/stats", timeout=10).json()


def test_unable_to_lock_row_per_record(sf, faults, sandbox_url):
    leads = list(SfLead.objects.filter(is_converted=False)[:3])
    faults(lock_row_rate=1.0)
    results = sf.restful("composite/sobjects", method="PATCH", json={
        "allOrNone": False,
        "records": [{"attributes": {"type": "Lead"}, "id": x.sf_id, "SW_Favorite__c": True}
                    for x in leads],
    })  # fmt: skip
    assert {r["errors"][0]["statusCode"] for r in results} == {"UNABLE_TO_LOCK_ROW"}
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf.Lead.update(leads[0].sf_id, {"SW_Favorite__c": True})
    assert exc.value.content[0]["errorCode"] == "UNABLE_TO_LOCK_ROW"
    assert stats(sandbox_url)["counters"]["sf.fault.UNABLE_TO_LOCK_ROW"] == 4


SERVER_ERRORS_CASES = [500, 503]


def test_server_errors(sf, faults):
    # One test over all cases: each live-server test costs a database flush.
    for status in SERVER_ERRORS_CASES:
        faults(server_error_rate=1.0, server_error_status=status)
        with pytest.raises(SalesforceGeneralError) as exc:
            sf.query("SELECT Id FROM Lead LIMIT 1")
        assert exc.value.status == status
        assert exc.value.content[0]["errorCode"] in ("UNKNOWN_EXCEPTION", "SERVER_UNAVAILABLE")


def test_daily_api_limit(sf, faults, sandbox_url):
    sandbox_control.post(f"{sandbox_url}/sandbox/control/reset-counters", timeout=10)
    faults(daily_api_limit=3)
    for _ in range(3):
        sf.query("SELECT COUNT() FROM Lead")
    with pytest.raises(SalesforceRefusedRequest) as exc:
        sf.query("SELECT COUNT() FROM Lead")
    assert exc.value.content[0]["errorCode"] == "REQUEST_LIMIT_EXCEEDED"
    s = stats(sandbox_url)
    assert s["salesforce"]["apiUsed"] == 3 and s["salesforce"]["apiRemaining"] == 0
    assert s["counters"]["sf.fault.REQUEST_LIMIT_EXCEEDED"] == 1
    sandbox_control.post(f"{sandbox_url}/sandbox/control/reset-counters", timeout=10)
    assert sf.query("SELECT COUNT() FROM Lead")["totalSize"] == 40


def test_added_latency(sf, faults, sandbox_url):
    faults(latency_ms=150)
    started = time.perf_counter()
    sf.query("SELECT Id FROM Lead LIMIT 1")
    assert time.perf_counter() - started >= 0.15
    assert stats(sandbox_url)["counters"]["sf.fault.LATENCY"] == 1


def test_validation_rule_by_share_is_stable(sf, faults):
    leads = list(SfLead.objects.filter(is_converted=False))
    faults(validation_rules=[{"share": 0.5}])
    body = {"allOrNone": False, "records": [
        {"attributes": {"type": "Lead"}, "id": x.sf_id, "SW_Favorite__c": True} for x in leads
    ]}  # fmt: skip
    first = [r["success"] for r in sf.restful("composite/sobjects", method="PATCH", json=body)]
    second = [r["success"] for r in sf.restful("composite/sobjects", method="PATCH", json=body)]
    assert first == second
    assert 0 < first.count(False) < len(leads)


def test_calls_are_counted_by_operation(sf, sandbox_url):
    sandbox_control.post(f"{sandbox_url}/sandbox/control/reset-counters", timeout=10)
    sf.query("SELECT Id FROM Lead LIMIT 1")
    sf.Lead.describe()
    counters = stats(sandbox_url)["counters"]
    assert counters["sf.api_calls"] == 2
    assert counters["sf.op.query"] == 1 and counters["sf.op.sobject_describe"] == 1


CONTROL_ENDPOINT_REFUSES_BAD_INPUT_CASES = [
    '{"lock_row_rate": 2}',
    '{"lock_row_rate": "high"}',
    '{"server_error_status": 404}',
    '{"no_such_knob": 1}',
    '{"validation_rules": [{"emailPattern": 5}]}',
    '{"validation_rules": "all"}',
    '{"daily_api_limit": null}',
    # NaN and Infinity (Python's JSON reads them): a 500 before, and a NOT NULL traceback
    # from `manage.py sandbox faults`.
    '{"lock_row_rate": NaN}',
    '{"daily_api_limit": NaN}',
    '{"server_error_rate": Infinity}',
    '{"latency_ms": 1e12}',
    '{"churn_size": 100001}',
    "[1, 2]",
    "{nope",
    '{"field_security": {"Lead.SW_Tags__c": "write"}}',
    '{"field_security": ["Lead.SW_Tags__c"]}',
    '{"missing_metadata": "SW_Activity__c"}',
    '{"missing_metadata": ["Lead.Email"]}',
]


def test_control_endpoint_refuses_bad_input(sandbox_url, cfg):
    # One test over all cases: each live-server test costs a database flush.
    for body in CONTROL_ENDPOINT_REFUSES_BAD_INPUT_CASES:
        r = sandbox_control.put(f"{sandbox_url}/sandbox/control/faults", data=body, timeout=10)
        assert r.status_code == 400
        assert r.json()["error"]["code"] == "bad_request"
        current = sandbox_control.get(f"{sandbox_url}/sandbox/control/faults", timeout=10).json()
        assert current["lock_row_rate"] == 0.0 and current["daily_api_limit"] == 100000


def test_control_reset_faults(sandbox_url, faults):
    faults(lock_row_rate=0.5, latency_ms=10)
    r = sandbox_control.delete(f"{sandbox_url}/sandbox/control/faults", timeout=10)
    assert r.json()["lock_row_rate"] == 0.0 and r.json()["latency_ms"] == 0


def test_the_orgs_shape_is_switched_like_the_faults(sandbox_url, faults, sf):
    """Field-level security and a bare org's missing metadata through the control endpoint,
    as the faults are: a field made unreadable leaves describe; DELETE restores the org."""
    body = faults(field_security={"Lead.SW_Tags__c": "none"}, missing_metadata=["SW_Activity__c"])
    assert body["field_security"] == {"Lead.SW_Tags__c": "none"}
    assert body["missing_metadata"] == ["SW_Activity__c"]
    assert "SW_Tags__c" not in {f["name"] for f in sf.Lead.describe()["fields"]}
    reset = sandbox_control.delete(f"{sandbox_url}/sandbox/control/faults", timeout=10).json()
    assert reset["field_security"] == {} and reset["missing_metadata"] == []
    assert "SW_Tags__c" in {f["name"] for f in sf.Lead.describe()["fields"]}
