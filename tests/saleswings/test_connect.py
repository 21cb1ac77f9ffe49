"""Where the client gets its endpoint and token; the Setup page's Connect; no token leaks."""

import logging

import pytest

from syncapp.engine.backend import connect, endpoint, get_client
from syncapp.models import Credential, StudioOptions
from syncapp.saleswings.errors import AuthError, TransientError

pytestmark = pytest.mark.django_db


def test_the_endpoint_defaults_to_the_sandbox(settings):
    settings.SALESWINGS_API_URL = ""
    settings.SANDBOX_BASE_URL = "http://127.0.0.1:8123"
    assert endpoint() == "http://127.0.0.1:8123/sandbox/saleswings/api/v1"


def test_studio_options_endpoint_wins(settings):
    settings.SALESWINGS_API_URL = "https://from-settings.example/api/v1"
    assert endpoint() == "https://from-settings.example/api/v1"
    options = StudioOptions.load()
    options.api_endpoint = "https://api.saleswings.pro/api/v1/"
    options.save()
    assert endpoint() == "https://api.saleswings.pro/api/v1"


def test_no_token_is_an_auth_error(settings):
    settings.SALESWINGS_API_URL = "https://api.saleswings.pro/api/v1"
    settings.SALESWINGS_API_TOKEN = ""
    with pytest.raises(AuthError, match="connect on the Setup page"):
        get_client()


def test_the_sandbox_works_with_no_token_configured(settings):
    settings.SALESWINGS_API_URL = ""
    settings.SALESWINGS_API_TOKEN = ""
    settings.SANDBOX_ENABLED = True
    settings.SANDBOX_SALESWINGS_TOKEN = "sw-sandbox-token"
    assert get_client().config.token == "sw-sandbox-token"


def test_a_connected_token_wins_over_the_environment(sw_settings, backend):
    sw_settings.SALESWINGS_API_TOKEN = "env-token-xxxxxxxx"
    Credential.store(Credential.SALESWINGS_TOKEN, backend.token)
    assert get_client().account()["name"] == "Acme Corp"


def test_connect_checks_and_stores_the_token(sw_settings, backend, admin_user):
    sw_settings.SALESWINGS_API_TOKEN = ""
    account = connect(f"  {backend.token}\n", user=admin_user)
    assert account == {"id": "acc_1", "name": "Acme Corp"}
    assert Credential.reveal(Credential.SALESWINGS_TOKEN) == backend.token
    stored = Credential.objects.get(name=Credential.SALESWINGS_TOKEN)
    assert stored.account_name == "Acme Corp"
    assert stored.connected_by == admin_user
    assert backend.token.encode() not in bytes(stored.ciphertext)
    assert get_client().account()["id"] == "acc_1"


def test_connect_with_a_wrong_token_stores_nothing(sw_settings, backend):
    with pytest.raises(AuthError):
        connect("wrong-token-0000000000")
    assert not Credential.objects.exists()


def test_connect_with_an_unreachable_backend_stores_nothing(sw_settings, backend):
    backend.script("GET", "/account", 503, b"down", times=9)
    with pytest.raises(TransientError):
        connect(backend.token)
    assert not Credential.objects.exists()


def test_connect_needs_a_token():
    with pytest.raises(AuthError, match="Paste"):
        connect("   ")


def test_the_token_never_appears_in_logs_messages_or_reprs(sw_settings, backend, caplog):
    caplog.set_level(logging.DEBUG)
    secret = "tok-NEVER-LOG-ME-42"
    backend.token = secret
    sw_settings.SALESWINGS_API_TOKEN = ""
    errors = []
    account = connect(secret)
    client = get_client()
    backend.script(
        "GET", "/tags", 500, {"error": {"code": "server_error", "message": "x"}}, times=9
    )
    try:
        client.tags()
    except TransientError as exc:
        errors.append(exc)
    backend.token = "rotated-token-xyz"
    try:
        client.scores()
    except AuthError as exc:
        errors.append(exc)
    try:
        connect("bad-" + secret)
    except AuthError as exc:
        errors.append(exc)
    assert account["id"] == "acc_1" and len(errors) == 3
    assert caplog.records  # retries and the connect were logged...
    assert secret not in caplog.text  # ...without the token
    for exc in errors:
        assert secret not in str(exc) and secret not in repr(exc)
    assert secret not in repr(client) and secret not in repr(client.config)
    assert secret not in str(Credential.objects.get())
