import pytest
from django.test import Client


def _client_for(user):
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def admin_client_sw(admin_user):
    """Logged in as the SW Studio Administrator persona."""
    return _client_for(admin_user)


@pytest.fixture
def viewer_client(viewer_user):
    return _client_for(viewer_user)


@pytest.fixture
def outsider_client(outsider_user):
    return _client_for(outsider_user)


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # The personas' passwords are hashed once per test; the default hasher is slow on purpose.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


IDENTITY = {
    "org_id": "00D000000000001",
    "instance_url": "https://sandbox.my.salesforce.com",
    "username": "integration@acme.example",
    "daily_used": 2500,
    "daily_max": 100000,
}


@pytest.fixture(autouse=True)
def connected(request, settings, network, monkeypatch):
    """Both connections work unless a test says otherwise: a SalesWings token from the
    environment, and an org (the fake at the network seam) that says who it is, as kept from
    an earlier check (`OrgStatus`).

    Returns a namespace whose `identity` (a dict, or an exception to raise) the test may change;
    the Setup page's check (`check_salesforce`) asks it.
    """
    import types

    from django.utils import timezone

    from syncapp.models import OrgStatus

    state = types.SimpleNamespace(identity=dict(IDENTITY))
    if "real_clients" in request.keywords:
        return state
    settings.SALESWINGS_API_TOKEN = "sw-env-token-for-tests"
    if "django_db" in request.keywords or "db" in request.fixturenames:
        OrgStatus.record_check(timezone.now(), identity=dict(IDENTITY))

    def identity():
        if isinstance(state.identity, Exception):
            raise state.identity
        return state.identity

    monkeypatch.setattr(network.sf, "identity", identity, raising=False)
    return state
