"""Every endpoint for every persona: administrator, viewer, outsider (staff, no role), anonymous."""

import pytest
from django_q.models import Schedule

from syncapp.models import SyncState
from tests.api.conftest import ENDPOINTS, assert_error

pytestmark = pytest.mark.django_db

EXPECTED = {
    # endpoint: {persona: status}
    "GetSyncStatus": {"administrator": 200, "viewer": 200, "outsider": 403, "anonymous": 401},
    "RestartSync": {"administrator": 200, "viewer": 403, "outsider": 403, "anonymous": 401},
    "TurnSyncOn": {"administrator": 200, "viewer": 403, "outsider": 403, "anonymous": 401},
    "TurnSyncOff": {"administrator": 200, "viewer": 403, "outsider": 403, "anonymous": 401},
}
CASES = [(e, p, s) for e, by_persona in EXPECTED.items() for p, s in by_persona.items()]


@pytest.mark.parametrize(
    ("endpoint", "persona_client", "expected"), CASES, indirect=["persona_client"]
)
def test_endpoint_answers_each_persona(endpoint, persona_client, expected):
    method, url = ENDPOINTS[endpoint]
    before = SyncState.load().generation

    response = getattr(persona_client, method)(url)

    if expected == 200:
        assert response.status_code == 200, response.content
        assert "syncEnabled" in response.json()
        return
    code = {401: "not_authenticated", 403: "permission_denied"}[expected]
    error = assert_error(response, expected, code)
    if expected == 401:
        # 401, not 403: the client is told how to authenticate.
        assert response["WWW-Authenticate"] == "Token"
    else:
        assert "role" in error["message"]
    # A refused request changes nothing.
    assert SyncState.load().generation == before
    assert not Schedule.objects.exists()


def test_a_bad_token_is_401(anon_client):
    anon_client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    assert_error(anon_client.get("/Sync/v1/GetSyncStatus"), 401, "authentication_failed")


def test_an_inactive_administrator_is_refused(admin_user, admin_client):
    admin_user.is_active = False
    admin_user.save()
    # DRF's TokenAuthentication refuses inactive users outright.
    assert_error(admin_client.post("/Sync/v1/TurnSyncOn"), 401, "authentication_failed")
    assert not SyncState.load().enabled


def test_session_login_works_and_posts_need_the_csrf_token(admin_user):
    from rest_framework.test import APIClient

    client = APIClient(enforce_csrf_checks=True)
    client.force_login(admin_user)
    assert client.get("/Sync/v1/GetSyncStatus").status_code == 200
    # A session without the CSRF token cannot change anything (a forged cross-site POST).
    error = assert_error(client.post("/Sync/v1/TurnSyncOn"), 403, "permission_denied")
    assert "CSRF" in error["message"]
    assert not SyncState.load().enabled


def test_a_superuser_without_the_group_is_an_administrator(db):
    from tests.factories import UserFactory

    from .conftest import token_client

    root = UserFactory(username="root", is_superuser=True, is_staff=True)
    assert token_client(root).post("/Sync/v1/TurnSyncOn").status_code == 200


@pytest.mark.parametrize("scheme", ["Token", "Bearer", "bearer"])
def test_the_token_goes_with_either_scheme(viewer_user, scheme):
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"{scheme} {Token.objects.create(user=viewer_user).key}")
    assert client.get("/Sync/v1/GetSyncStatus").status_code == 200
