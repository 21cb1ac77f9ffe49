"""The Connection section: the SalesWings token and the Salesforce check, and the gate they
put on the sync switch.

The clients are replaced at their module boundary (`syncapp.saleswings.connect`,
`syncapp.salesforce.get_client`): these tests are about the page, not the network.
"""

import sys
import types

import pytest
from django.urls import reverse

from syncapp.admin import connection
from syncapp.models import Credential, SyncState

pytestmark = pytest.mark.django_db

SWITCH = "admin:swstudio_setup_switch"
CONNECT = "admin:swstudio_setup_connect"
GOOD_TOKEN = "sw_live_0123456789abcdef"


class SalesWingsError(Exception):
    pass


class AuthError(SalesWingsError):
    pass


class SalesforceError(Exception):
    pass


def _fake_connect(token, user=None):
    if token != GOOD_TOKEN:
        raise AuthError("invalid_token: the token is not valid")
    Credential.store(Credential.SALESWINGS_TOKEN, token, user=user, account_name="Acme Corp")
    return {"account": {"id": "acc_1", "name": "Acme Corp"}}


@pytest.fixture
def clients(monkeypatch):
    """Stand-in client modules; `clients.identity` decides what the org says."""
    saleswings = types.ModuleType("syncapp.saleswings")
    saleswings.connect = _fake_connect
    sw_errors = types.ModuleType("syncapp.saleswings.errors")
    sw_errors.AuthError, sw_errors.SalesWingsError = AuthError, SalesWingsError

    state = types.SimpleNamespace(
        identity={
            "org_id": "00D000000000001",
            "instance_url": "https://sandbox.my.salesforce.com",
            "username": "integration@acme.example",
            "daily_used": 2500,
            "daily_max": 100000,
        }
    )

    class Client:
        def identity(self):
            if isinstance(state.identity, Exception):
                raise state.identity
            return state.identity

    salesforce = types.ModuleType("syncapp.salesforce")
    salesforce.get_client = Client
    sf_errors = types.ModuleType("syncapp.salesforce.errors")
    sf_errors.SalesforceError = SalesforceError
    for name, module in {
        "syncapp.saleswings": saleswings,
        "syncapp.saleswings.errors": sw_errors,
        "syncapp.salesforce": salesforce,
        "syncapp.salesforce.errors": sf_errors,
    }.items():
        monkeypatch.setitem(sys.modules, name, module)
    return state


def test_connect_stores_the_token_and_never_shows_it_again(clients, admin_client_sw):
    response = admin_client_sw.post(reverse(CONNECT), {"token": GOOD_TOKEN}, follow=True)
    assert response.status_code == 200
    assert Credential.reveal(Credential.SALESWINGS_TOKEN) == GOOD_TOKEN
    content = response.content.decode()
    assert GOOD_TOKEN not in content
    assert "Acme Corp" in content and "…cdef" in content
    assert "Replace token" in content


def test_a_refused_token_is_reported_on_the_field_and_not_stored(clients, admin_client_sw):
    response = admin_client_sw.post(reverse(CONNECT), {"token": "sw_live_wrong_token"})
    assert response.status_code == 400
    form = response.context["connect_form"]
    assert "refused this token" in form.errors["token"][0]
    assert "sw_live_wrong_token" not in response.content.decode()
    assert not Credential.objects.exists()


@pytest.mark.parametrize(
    ("token", "message"),
    [
        ("", "This field is required."),
        ("   ", "This field is required."),
        ("short", "too short"),
        ("sw_live_0123 456789", "no spaces"),
        ("x" * 501, "at most 500"),
    ],
)
def test_malformed_tokens_are_refused_before_calling_saleswings(
    clients, admin_client_sw, token, message
):
    response = admin_client_sw.post(reverse(CONNECT), {"token": token})
    assert response.status_code == 400
    assert message in response.context["connect_form"].errors["token"][0]
    assert not Credential.objects.exists()


def test_an_unreachable_backend_is_reported_on_the_field(clients, admin_client_sw, monkeypatch):
    def down(token, user=None):
        raise SalesWingsError("503 unavailable")

    monkeypatch.setattr(sys.modules["syncapp.saleswings"], "connect", down)
    response = admin_client_sw.post(reverse(CONNECT), {"token": GOOD_TOKEN})
    assert (
        "could not be reached: 503 unavailable"
        in response.context["connect_form"].errors["token"][0]
    )
    assert not Credential.objects.exists()


def test_the_salesforce_check_shows_org_user_and_api_usage(clients, admin_client_sw):
    content = admin_client_sw.get(reverse("admin:swstudio_setup")).content.decode()
    assert "00D000000000001" in content
    assert "integration@acme.example" in content
    assert "2500 of 100000 calls" in content and "(2 %)" in content


def test_the_switch_is_disabled_until_both_are_connected(clients, admin_client_sw):
    page = admin_client_sw.get(reverse("admin:swstudio_setup"))
    assert page.context["switch_blockers"] == ["connect SalesWings"]
    assert "disabled" in page.content.decode().split('id="sw-switch-button"')[1].split(">")[0]
    # The server enforces it too: a crafted POST does not turn the sync on.
    response = admin_client_sw.post(reverse(SWITCH), {"action": "on"}, follow=True)
    assert not SyncState.load().enabled
    assert any("cannot be turned on yet" in str(m) for m in response.context["messages"])

    clients.identity = SalesforceError("INVALID_SESSION_ID: Session expired or invalid")
    admin_client_sw.post(reverse(CONNECT), {"token": GOOD_TOKEN})
    page = admin_client_sw.get(reverse("admin:swstudio_setup"))
    assert page.context["switch_blockers"] == ["fix the Salesforce connection"]
    assert "INVALID_SESSION_ID" in page.content.decode()
    admin_client_sw.post(reverse(SWITCH), {"action": "on"})
    assert not SyncState.load().enabled

    clients.identity = {**_identity(), "daily_used": 10}
    page = admin_client_sw.get(reverse("admin:swstudio_setup"))
    assert page.context["switch_blockers"] == []
    admin_client_sw.post(reverse(SWITCH), {"action": "on"})
    assert SyncState.load().enabled


def _identity():
    return {
        "org_id": "00D000000000001",
        "instance_url": "https://sandbox.my.salesforce.com",
        "username": "integration@acme.example",
        "daily_used": 0,
        "daily_max": 100000,
    }


def test_a_build_without_the_clients_says_so(admin_client_sw, monkeypatch):
    for name in ("syncapp.saleswings", "syncapp.salesforce"):
        monkeypatch.setitem(sys.modules, name, None)  # import raises ImportError
    page = admin_client_sw.get(reverse("admin:swstudio_setup"))
    content = page.content.decode()
    assert "the SalesWings client is not installed" in content
    assert "the Salesforce client is not installed" in content
    assert page.context["switch_blockers"] == []
    response = admin_client_sw.post(reverse(CONNECT), {"token": GOOD_TOKEN})
    assert (
        connection.NOT_AVAILABLE.format("SalesWings")
        in response.context["connect_form"].errors["token"][0]
    )
