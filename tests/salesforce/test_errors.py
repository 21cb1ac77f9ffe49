"""Every failure is classified (design.md §2); only transient ones are retried, boundedly."""

import pytest

from syncapp.engine.steps import StopStep
from syncapp.salesforce.errors import LimitExhausted, PermanentError, TransientError
from tests.salesforce.fakeorg import sf_error


def test_a_5xx_is_retried_and_then_succeeds(client, org):
    org.fail("GET", r"/limits", 503, sf_error("SERVER_UNAVAILABLE"), times=2)
    assert client.daily_api_remaining() == 14000
    assert len(org.data_calls("GET", r"/limits")) == 3
    assert client.calls == 3
    assert client.transient == {"HTTP_503": 2}  # what the step's run record reports


def test_retries_are_bounded_then_transient_error(client, org, sf_settings):
    org.fail("GET", r"/limits", 500, sf_error("UNKNOWN_EXCEPTION", "oops"), times=10)
    with pytest.raises(TransientError) as info:
        client.limits()
    assert len(org.data_calls("GET", r"/limits")) == sf_settings.SALESFORCE_RETRY_ATTEMPTS
    assert "HTTP 500 UNKNOWN_EXCEPTION: oops" in str(info.value)
    assert "gave up after 3 attempts" in str(info.value)


def test_retries_wait_with_growing_backoff(sf_settings, org):
    from syncapp.salesforce import get_client

    sf_settings.SALESFORCE_RETRY_BASE_DELAY = 1.0
    sf_settings.SALESFORCE_RETRY_MAX_DELAY = 30.0
    sf_settings.SALESFORCE_RETRY_ATTEMPTS = 4
    slept = []
    client = get_client(sleep=slept.append)
    org.fail("GET", r"/limits", 502, b"<html>bad gateway</html>", times=10)
    with pytest.raises(TransientError):
        client.limits()
    assert len(slept) == 3  # between the 4 attempts
    # Equal jitter: each wait is between half and all of base * 2^n.
    for n, delay in enumerate(slept):
        assert 0.5 * 2**n <= delay <= 2**n


def test_unable_to_lock_row_on_a_call_is_transient(client, org):
    org.fail("GET", r"/query", 400, sf_error("UNABLE_TO_LOCK_ROW", "locked"), times=1)
    org.rows["Lead"] = [{"Id": "00Q1"}]
    assert list(client.query("SELECT Id FROM Lead")) == [{"Id": "00Q1"}]
    assert client.transient == {"UNABLE_TO_LOCK_ROW": 1}


def test_a_timeout_is_transient(sf_settings, org):
    from syncapp.salesforce import get_client

    sf_settings.SALESFORCE_READ_TIMEOUT = 0.2
    client = get_client()
    org.slow_down(r"/limits", 1.0, times=1)
    assert client.daily_api_remaining() == 14000
    assert len(org.data_calls("GET", r"/limits")) == 2


def test_connection_errors_are_transient_and_bounded(settings):
    from syncapp.salesforce import get_client

    settings.SALESFORCE_LOGIN_URL = "http://127.0.0.1:9"  # nothing listens there
    settings.SALESFORCE_USERNAME = "u"
    settings.SALESFORCE_PASSWORD = "p"
    settings.SALESFORCE_CLIENT_ID = "c"
    settings.SALESFORCE_CLIENT_SECRET = "s"
    settings.SALESFORCE_RETRY_ATTEMPTS = 2
    with pytest.raises(TransientError, match="ConnectionError"):
        get_client().limits()


def test_request_limit_exceeded_stops_the_step_without_retrying(client, org):
    org.fail(
        "GET", r"/query", 403, sf_error("REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.")
    )
    with pytest.raises(LimitExhausted) as info:
        list(client.query("SELECT Id FROM Lead"))
    assert isinstance(info.value, StopStep)
    assert "daily API request limit is used up" in str(info.value)
    assert len(org.data_calls("GET", r"/query")) == 1


def test_other_403s_are_permanent(client, org):
    org.fail("GET", r"/describe", 403, sf_error("INSUFFICIENT_ACCESS", "no access to Lead"))
    with pytest.raises(PermanentError, match="INSUFFICIENT_ACCESS: no access to Lead"):
        client.describe("Lead")
    assert len(org.data_calls("GET", r"/describe")) == 1


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (400, "MALFORMED_QUERY"),
        (400, "INVALID_FIELD"),
        (404, "NOT_FOUND"),
        (405, "METHOD_NOT_ALLOWED"),
    ],
)
def test_client_errors_are_permanent_with_a_clear_message(client, org, status, code):
    org.fail("GET", r"/query", status, sf_error(code, "unexpected token: FORM"))
    with pytest.raises(PermanentError) as info:
        list(client.query("SELECT Id FORM Lead"))
    assert not isinstance(info.value, TransientError)
    assert info.value.code == code
    assert info.value.status == status
    assert f"Salesforce query: HTTP {status} {code}: unexpected token: FORM" == str(info.value)
    assert len(org.data_calls("GET", r"/query")) == 1


def test_an_unknown_object_is_permanent(client):
    with pytest.raises(PermanentError, match="NOT_FOUND"):
        client.describe("Nope__c")


def test_a_body_that_is_not_json_is_permanent(client, org):
    org.fail("GET", r"/limits", 200, b"<html>maintenance</html>")
    with pytest.raises(PermanentError, match="not JSON"):
        client.limits()


def test_a_collection_answer_of_the_wrong_length_is_permanent(client, org):
    org.record_outcome = None
    org.fail("POST", r"/composite/sobjects", 200, [{"id": "x", "success": True, "errors": []}])
    with pytest.raises(PermanentError, match="expected 2 per-record results, got 1"):
        client.create("Lead", [{"LastName": "a"}, {"LastName": "b"}])
