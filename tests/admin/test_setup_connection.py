"""The Connection section: the SalesWings token and the Salesforce check, and the gate they
put on the sync switch.

The network is replaced at its seams: `syncapp.engine.backend.connect`'s HTTP call (by a stand-in
connect that stores the token the same way) and the fake org of `syncapp.engine.clients`.
The browser test connects for real against the sandbox.
"""

import pytest
from django.urls import reverse

from syncapp.admin import connection
from syncapp.engine import backend as sw_backend
from syncapp.models import Credential, OrgStatus, SyncState
from syncapp.salesforce.errors import SalesforceError
from syncapp.saleswings.errors import AuthError, SalesWingsError

pytestmark = pytest.mark.django_db

SWITCH = "admin:swstudio_setup_switch"
CONNECT = "admin:swstudio_setup_connect"
CHECK = "admin:swstudio_setup_check_salesforce"
GOOD_TOKEN = "sw_live_0123456789abcdef"


@pytest.fixture
def backend(monkeypatch, settings):
    """A backend that knows one token; no token in the environment."""
    settings.SALESWINGS_API_TOKEN = ""
    calls = []

    def connect(token, user=None):
        calls.append(token)
        if token != GOOD_TOKEN:
            raise AuthError("invalid_token: the token is not valid")
        Credential.store(Credential.SALESWINGS_TOKEN, token, user=user, account_name="Acme Corp")
        return {"id": "acc_1", "name": "Acme Corp"}

    monkeypatch.setattr(sw_backend, "connect", connect)
    return calls


def test_connect_stores_the_token_and_never_shows_it_again(backend, admin_client_sw):
    response = admin_client_sw.post(reverse(CONNECT), {"token": GOOD_TOKEN}, follow=True)
    assert response.status_code == 200
    assert Credential.reveal(Credential.SALESWINGS_TOKEN) == GOOD_TOKEN
    content = response.content.decode()
    assert GOOD_TOKEN not in content
    assert "Connected to Acme Corp" in content and "…cdef" in content
    assert "Replace token" in content


def test_a_refused_token_is_reported_on_the_field_and_not_stored(backend, admin_client_sw):
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
    backend, admin_client_sw, token, message
):
    response = admin_client_sw.post(reverse(CONNECT), {"token": token})
    assert response.status_code == 400
    assert message in response.context["connect_form"].errors["token"][0]
    assert backend == []
    assert not Credential.objects.exists()


def test_an_unreachable_backend_is_reported_on_the_field(backend, admin_client_sw, monkeypatch):
    def down(token, user=None):
        raise SalesWingsError("503 unavailable")

    monkeypatch.setattr(sw_backend, "connect", down)
    response = admin_client_sw.post(reverse(CONNECT), {"token": GOOD_TOKEN})
    errors = response.context["connect_form"].errors["token"]
    assert "could not be reached: 503 unavailable" in errors[0]
    assert not Credential.objects.exists()


def test_the_salesforce_check_shows_org_user_and_api_usage(admin_client_sw):
    content = admin_client_sw.get(reverse("admin:swstudio_setup")).content.decode()
    assert "00D000000000001" in content
    assert "integration@acme.example" in content
    assert "2500 of 100000 calls" in content and "(2 %)" in content


def test_an_environment_token_counts_as_connected(admin_client_sw):
    page = admin_client_sw.get(reverse("admin:swstudio_setup"))
    assert page.context["saleswings"].connected
    assert "SALESWINGS_API_TOKEN" in page.content.decode()


def test_the_switch_is_disabled_until_both_are_connected(backend, connected, admin_client_sw):
    page = admin_client_sw.get(reverse("admin:swstudio_setup"))
    assert page.context["switch_blockers"] == ["connect SalesWings"]
    assert "disabled" in page.content.decode().split('id="sw-switch-button"')[1].split(">")[0]
    # The server enforces it too: a crafted POST does not turn the sync on.
    response = admin_client_sw.post(reverse(SWITCH), {"action": "on"}, follow=True)
    assert not SyncState.load().enabled
    assert any("cannot be turned on yet" in str(m) for m in response.context["messages"])

    connected.identity = SalesforceError("INVALID_SESSION_ID: Session expired or invalid")
    admin_client_sw.post(reverse(CONNECT), {"token": GOOD_TOKEN})
    admin_client_sw.post(reverse(CHECK))
    page = admin_client_sw.get(reverse("admin:swstudio_setup"))
    assert page.context["switch_blockers"] == ["fix the Salesforce connection"]
    assert "INVALID_SESSION_ID" in page.content.decode()
    # Turning on with a kept failure checks the org once more: still refused.
    admin_client_sw.post(reverse(SWITCH), {"action": "on"})
    assert not SyncState.load().enabled

    connected.identity = _identity()
    admin_client_sw.post(reverse(SWITCH), {"action": "on"})
    assert SyncState.load().enabled
    page = admin_client_sw.get(reverse("admin:swstudio_setup"))
    assert page.context["switch_blockers"] == []


def _identity():
    return {
        "org_id": "00D000000000001",
        "instance_url": "https://sandbox.my.salesforce.com",
        "username": "integration@acme.example",
        "daily_used": 0,
        "daily_max": 100000,
    }


def test_an_org_that_cannot_answer_does_not_break_the_page(connected, admin_client_sw):
    connected.identity = ConnectionError("connection refused")
    response = admin_client_sw.post(reverse(CHECK), follow=True)
    assert response.status_code == 200
    assert "ConnectionError: connection refused" in response.content.decode()
    assert not OrgStatus.load().connected


def test_the_page_shows_the_kept_status_and_never_asks_the_org(connected, admin_client_sw):
    connected.identity = AssertionError("the page must not ask the org")
    content = admin_client_sw.get(reverse("admin:swstudio_setup")).content.decode()
    assert "00D000000000001" in content and "2500 of 100000 calls" in content
    assert "as of " in content and "Last reached or tried" in content


def test_a_viewer_cannot_check_the_connection(connected, viewer_client):
    assert viewer_client.post(reverse(CHECK)).status_code == 403
    assert viewer_client.get(reverse(CHECK)).status_code == 405


def test_nothing_kept_yet_says_so_and_connect_checks_the_org(backend, admin_client_sw):
    OrgStatus.objects.all().delete()
    page = admin_client_sw.get(reverse("admin:swstudio_setup"))
    assert connection.NOT_CHECKED in page.content.decode()
    assert page.context["switch_blockers"] == [
        "connect SalesWings",
        "fix the Salesforce connection",
    ]
    admin_client_sw.post(reverse(CONNECT), {"token": GOOD_TOKEN})
    kept = OrgStatus.load()
    assert kept.connected and kept.org_id == "00D000000000001" and kept.api_calls_left == 97500
    assert admin_client_sw.get(reverse("admin:swstudio_setup")).context["switch_blockers"] == []


def test_a_build_without_the_clients_says_so(admin_client_sw, monkeypatch):
    import sys

    for name in ("syncapp.saleswings", "syncapp.salesforce.errors"):
        monkeypatch.setitem(sys.modules, name, None)  # importing it raises ImportError
    page = admin_client_sw.get(reverse("admin:swstudio_setup"))
    content = page.content.decode()
    assert "the SalesWings client is not installed" in content
    assert "the Salesforce client is not installed" in content
    assert page.context["switch_blockers"] == []
    response = admin_client_sw.post(reverse(CONNECT), {"token": GOOD_TOKEN})
    errors = response.context["connect_form"].errors["token"]
    assert connection.NOT_AVAILABLE.format("SalesWings") in errors[0]
