"""Retries on 5xx / 429 / timeouts / connection errors (bounded); BadResponse for answers
that break the contract; AuthError on a refused token; other 4xx raise at once."""

import pytest

from syncapp.engine.backend import get_client
from syncapp.saleswings.errors import AuthError, BadResponse, RequestError, TransientError


def test_a_5xx_is_retried(sw, backend):
    backend.script("GET", "/tags", 503, {"error": {"code": "unavailable", "message": "x"}}, times=2)
    assert sw.tags()[0]["id"] == "tag_pricing"
    assert len(backend.calls("GET", "/tags")) == 3


def test_transient_failures_are_counted_by_code(sw_settings, backend, db):
    sw_settings.SALESWINGS_RETRY_BASE_DELAY = 0
    sw_settings.SALESWINGS_RETRY_MAX_DELAY = 0
    client = get_client(sleep=lambda _: None)
    backend.script("GET", "/tags", 503, {"error": {"code": "unavailable", "message": "x"}}, times=2)
    backend.script("GET", "/scores", 429, {"error": {"code": "rate_limited", "message": "x"}})
    client.tags()
    client.scores()
    assert client.transient == {"SalesWings HTTP_503": 2, "SalesWings HTTP_429": 1}
    sw_settings.SALESWINGS_API_URL = "http://127.0.0.1:9/api/v1"
    unreachable = get_client(sleep=lambda _: None)
    with pytest.raises(TransientError):
        unreachable.tags()
    assert unreachable.transient == {"SalesWings NETWORK": sw_settings.SALESWINGS_RETRY_ATTEMPTS}


def test_retries_are_bounded(sw, backend, sw_settings):
    backend.script(
        "GET", "/tags", 500, {"error": {"code": "server_error", "message": "x"}}, times=9
    )
    with pytest.raises(TransientError, match="HTTP 500 server_error.*gave up after 3 attempts"):
        sw.tags()
    assert len(backend.calls("GET", "/tags")) == sw_settings.SALESWINGS_RETRY_ATTEMPTS


def test_rate_limits_wait_for_retry_after(sw_settings, backend, db):
    sw_settings.SALESWINGS_RETRY_BASE_DELAY = 0.01
    slept = []
    client = get_client(sleep=slept.append)
    backend.script(
        "GET",
        "/scores",
        429,
        {"error": {"code": "rate_limited", "message": "slow down"}},
        headers={"Retry-After": "2"},
    )
    client.scores()
    assert slept == [2.0]


def test_backoff_grows(sw_settings, backend, db):
    sw_settings.SALESWINGS_RETRY_BASE_DELAY = 1.0
    sw_settings.SALESWINGS_RETRY_ATTEMPTS = 4
    slept = []
    client = get_client(sleep=slept.append)
    backend.script("GET", "/tags", 502, b"bad gateway", times=9)
    with pytest.raises(TransientError):
        client.tags()
    assert len(slept) == 3
    for n, delay in enumerate(slept):
        assert 0.5 * 2**n <= delay <= 2**n


def test_a_timeout_is_retried(sw_settings, backend, db):
    sw_settings.SALESWINGS_READ_TIMEOUT = 0.2
    backend.script("GET", "/account", None, delay=1.0)
    assert get_client().account()["id"] == "acc_1"
    assert len(backend.calls("GET", "/account")) == 2


def test_connection_errors_are_retried_then_transient(sw_settings, db):
    sw_settings.SALESWINGS_API_URL = "http://127.0.0.1:9/api/v1"
    with pytest.raises(TransientError, match="ConnectionError"):
        get_client().tags()


@pytest.mark.parametrize(
    ("status", "code"), [(400, "bad_request"), (404, "not_found"), (413, "too_large")]
)
def test_request_errors_are_not_retried(sw, backend, status, code):
    backend.script("POST", "/logs", status, {"error": {"code": code, "message": "nope"}})
    with pytest.raises(RequestError, match=f"HTTP {status} {code}: nope"):
        sw.send_logs([{"level": "ERROR", "logger": "x", "message": "m", "time": "t"}])
    assert len(backend.calls("POST", "/logs")) == 1


def test_a_refused_token_is_an_auth_error(sw_settings, backend, db):
    sw_settings.SALESWINGS_API_TOKEN = "wrong-token-abcdef"
    with pytest.raises(AuthError, match="invalid_token"):
        get_client().account()
    assert len(backend.calls()) == 1


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/tags", b"<html>not json</html>"),
        ("/tags", {"tags": "oops"}),
        ("/tags", {"tags": [1, 2]}),
        ("/tags", ["not", "an", "object"]),
        ("/prospects", {"prospects": [], "nextSince": "12", "hasMore": False}),
        ("/prospects", {"prospects": [], "nextSince": 12}),
        ("/prospects", {"prospects": [], "nextSince": 2, "hasMore": False}),
        ("/prospects", {"prospects": {"id": "p_1"}, "nextSince": 12, "hasMore": False}),
        ("/prospects", {"nextSince": 12, "hasMore": False}),
        ("/prospects", {"prospects": [], "nextSince": 12, "hasMore": "no"}),
        # Past what a 64-bit change number holds: it could never be stored as the cursor.
        ("/prospects", {"prospects": [], "nextSince": 2**63, "hasMore": False}),
        ("/account", {"account": {"name": "no id"}}),
        ("/logs", {"accepted": "all"}),
    ],
)
def test_answers_that_break_the_contract_are_bad_responses(sw, backend, path, body):
    method = "POST" if path == "/logs" else "GET"
    backend.script(method, path, 200, body)
    call = {
        "/tags": lambda: sw.tags(),
        "/prospects": lambda: sw.prospects(since=5, limit=10),
        "/account": lambda: sw.account(),
        "/logs": lambda: sw.send_logs([{"level": "ERROR"}]),
    }[path]
    with pytest.raises(BadResponse):
        call()
