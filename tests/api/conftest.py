import pytest
from django.core.cache import cache
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests import factories

ENDPOINTS = {
    "GetSyncStatus": ("get", "/Sync/v1/GetSyncStatus"),
    "RestartSync": ("post", "/Sync/v1/RestartSync"),
    "TurnSyncOn": ("post", "/Sync/v1/TurnSyncOn"),
    "TurnSyncOff": ("post", "/Sync/v1/TurnSyncOff"),
}


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # The personas get hashed passwords; the default hasher is slow on purpose.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _fresh_throttle_counters():
    # The throttle counts in the process-wide cache; every test starts at zero.
    cache.clear()
    yield
    cache.clear()


def token_client(user):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client


@pytest.fixture
def admin_client(admin_user):
    return token_client(admin_user)


@pytest.fixture
def viewer_client(viewer_user):
    return token_client(viewer_user)


@pytest.fixture
def outsider_client(outsider_user):
    return token_client(outsider_user)


@pytest.fixture
def anon_client(db):
    return APIClient()


@pytest.fixture
def persona_client(request, db):
    """Parametrize with indirect=True: "administrator", "viewer", "outsider", "anonymous"."""
    makers = {
        "administrator": factories.administrator,
        "viewer": factories.viewer,
        "outsider": factories.outsider,
    }
    if request.param == "anonymous":
        return APIClient()
    return token_client(makers[request.param](username=f"{request.param}-client"))


def assert_error(response, status, code):
    """The stable error shape: {"error": {"code": ..., "message": ...}}."""
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    return body["error"]
