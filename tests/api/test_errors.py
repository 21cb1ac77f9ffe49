"""Bad input and wrong addresses: a 4xx in the stable error shape, and no state change."""

import pytest
from django.test import override_settings
from django_q.models import Schedule

from syncapp.models import SyncState
from tests.api.conftest import ENDPOINTS, assert_error

pytestmark = pytest.mark.django_db

POSTS = ["/Sync/v1/RestartSync", "/Sync/v1/TurnSyncOn", "/Sync/v1/TurnSyncOff"]


@pytest.fixture(autouse=True)
def _nothing_changes(db):
    yield
    state = SyncState.load()
    assert (state.enabled, state.generation) == (False, 0)
    assert not Schedule.objects.exists()


@pytest.mark.parametrize(
    "path",
    [
        "/Sync/v1/Nope",
        "/Sync/v1/GetSyncStatus/",
        "/Sync/v1/getsyncstatus",
        "/Sync/v1/a/b",
    ],
)
@pytest.mark.parametrize("method", ["get", "post", "delete"])
def test_unknown_paths_are_json_404(anon_client, path, method):
    error = assert_error(getattr(anon_client, method)(path), 404, "not_found")
    assert path in error["message"]


@pytest.mark.parametrize(
    ("endpoint", "wrong"),
    [
        ("GetSyncStatus", "post"),
        ("GetSyncStatus", "delete"),
        ("RestartSync", "get"),
        ("RestartSync", "put"),
        ("TurnSyncOn", "get"),
        ("TurnSyncOff", "patch"),
    ],
)
def test_wrong_method_is_405_with_allow(admin_client, anon_client, endpoint, wrong):
    _, url = ENDPOINTS[endpoint]
    for client in (admin_client, anon_client):
        response = getattr(client, wrong)(url)
        error = assert_error(response, 405, "method_not_allowed")
        assert wrong.upper() in error["message"]
        assert "Allow" in response


@pytest.mark.parametrize("url", POSTS)
@pytest.mark.parametrize(
    ("body", "content_type", "status", "code"),
    [
        ("{not json", "application/json", 400, "parse_error"),
        ('{"force": true}', "application/json", 400, "unexpected_body"),
        ("[]", "application/json", 400, "unexpected_body"),
        ("null", "application/json", 400, "unexpected_body"),
        ('"force"', "application/json", 400, "unexpected_body"),
        ("force=true", "application/x-www-form-urlencoded", 415, "unsupported_media_type"),
        ("<force>true</force>", "application/xml", 415, "unsupported_media_type"),
        ("\xff\xfe", "application/json", 400, "parse_error"),
    ],
)
def test_malformed_or_unexpected_bodies(admin_client, url, body, content_type, status, code):
    response = admin_client.generic("POST", url, body, content_type=content_type)
    assert_error(response, status, code)


@pytest.mark.parametrize("url", POSTS + ["/Sync/v1/GetSyncStatus"])
def test_too_large_body_is_413(admin_client, url):
    method = "GET" if url.endswith("Status") else "POST"
    body = '{"x": "' + "a" * 5000 + '"}'
    error = assert_error(
        admin_client.generic(method, url, body, content_type="application/json"),
        413,
        "payload_too_large",
    )
    assert f"{len(body)} bytes" in error["message"]


def test_a_non_numeric_content_length_is_400(admin_client):
    response = admin_client.generic(
        "POST", "/Sync/v1/TurnSyncOn", "{}", content_type="application/json", CONTENT_LENGTH="ab"
    )
    assert_error(response, 400, "invalid_header")


@pytest.mark.parametrize("url", POSTS + ["/Sync/v1/GetSyncStatus"])
@pytest.mark.parametrize("body", ["{bad", "", "x" * 20_000])
def test_a_chunked_body_is_411_not_read_as_empty(admin_client, url, body):
    """The WSGI server hands the app no chunked body (no Content-Length): refused, not taken
    for an empty one (which let `{bad` through as a 200, and the action ran)."""
    method = "GET" if url.endswith("Status") else "POST"
    response = admin_client.generic(
        method, url, body, content_type="application/json", HTTP_TRANSFER_ENCODING="chunked"
    )
    assert_error(response, 411, "length_required")


@pytest.mark.parametrize("url", POSTS + ["/Sync/v1/GetSyncStatus"])
@pytest.mark.parametrize("value", ["xml", "", "JSON"])
def test_an_unknown_format_is_400_naming_it(admin_client, url, value):
    method = "get" if url.endswith("Status") else "post"
    response = getattr(admin_client, method)(f"{url}?format={value}")
    error = assert_error(response, 400, "invalid_parameter")
    assert error["parameter"] == "format"
    assert "format must be json or api" in error["message"]


def test_an_unknown_parameter_names_what_the_endpoint_takes(admin_client):
    error = assert_error(admin_client.get("/Sync/v1/GetSyncStatus?foo=1"), 400, "unknown_parameter")
    assert error["message"] == "Unknown query parameter 'foo'. This endpoint takes: format."
    error = assert_error(admin_client.post("/Sync/v1/RestartSync?foo=1"), 400, "unknown_parameter")
    assert error["message"].endswith("This endpoint takes: force, format.")


@pytest.mark.parametrize("url", POSTS + ["/Sync/v1/GetSyncStatus"])
@pytest.mark.parametrize("query", ["forse=true", "user=admin", "x", "force%00=true"])
def test_unknown_query_parameters_are_400(admin_client, url, query):
    method = "get" if url.endswith("Status") else "post"
    response = getattr(admin_client, method)(f"{url}?{query}")
    error = assert_error(response, 400, "unknown_parameter")
    assert error["parameter"]


@pytest.mark.parametrize(
    "header",
    ["Token", "Token a b", "Token \x00", "Bearer abc", "Basic Zm9vOmJhcg==", "Token " + "x" * 5000],
)
def test_malformed_authorization_headers_are_401(anon_client, header):
    anon_client.credentials(HTTP_AUTHORIZATION=header)
    response = anon_client.post("/Sync/v1/TurnSyncOn")
    assert response.status_code == 401
    assert response.json()["error"]["code"] in {"authentication_failed", "not_authenticated"}


def test_an_unsatisfiable_accept_header_is_406_in_json(admin_client):
    response = admin_client.get("/Sync/v1/GetSyncStatus", HTTP_ACCEPT="application/xml")
    assert_error(response, 406, "not_acceptable")


def test_a_bug_is_a_json_500_not_an_html_page(admin_client, monkeypatch, caplog):
    from syncapp.api import status

    def broken(**kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(status, "sync_status", broken)
    with override_settings(DEBUG=False):
        response = admin_client.get("/Sync/v1/GetSyncStatus")
    error = assert_error(response, 500, "server_error")
    assert "boom" not in error["message"]
    assert "boom" in caplog.text


# --- Request shape never answers 500 (issue 27, point 3) ---------------------------------------

TOO_MANY = "&".join(f"p{i}=1" for i in range(1001))


@pytest.mark.parametrize("path", ["/Sync/v1/GetSyncStatus", "/Sync/v1/Nope", "/Sync/v1/docs"])
@pytest.mark.parametrize("who", ["anonymous", "administrator"])
def test_too_many_query_parameters_are_400_in_json(anon_client, admin_client, caplog, path, who):
    client = anon_client if who == "anonymous" else admin_client
    client.raise_request_exception = False
    response = client.get(f"{path}?{TOO_MANY}")
    error = assert_error(response, 400, "too_many_parameters")
    assert "1000" in error["message"]
    assert "Traceback" not in caplog.text and "Internal Server Error" not in caplog.text


def test_options_on_the_docs_answers_without_a_500(anon_client):
    response = anon_client.options("/Sync/v1/docs")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert anon_client.get("/Sync/v1/docs")["Content-Type"].startswith("text/html")


def test_errors_from_django_itself_are_json_too(anon_client):
    # Django's own 400 page (a Host not in ALLOWED_HOSTS), under /Sync/v1/: JSON instead.
    response = anon_client.get("/Sync/v1/GetSyncStatus", HTTP_HOST="elsewhere.example")
    assert_error(response, 400, "bad_request")
    response = anon_client.get("/Sync/v1/docs", HTTP_HOST="elsewhere.example")
    assert_error(response, 400, "bad_request")


@pytest.mark.parametrize("body", ["[" * 1000, "[" * 1024, '{"a":' * 170 + "1" + "}" * 170])
def test_deeply_nested_json_bodies_are_400(admin_client, body):
    response = admin_client.post("/Sync/v1/TurnSyncOn", body, content_type="application/json")
    assert response.status_code == 400, response.content
    assert response.json()["error"]["code"] in ("parse_error", "unexpected_body")
