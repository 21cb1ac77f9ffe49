import pytest
from django_q.models import Schedule

from syncapp.models import SyncState
from syncapp.models.schedules import WATCHER_NAME
from tests.api.conftest import assert_error

pytestmark = pytest.mark.django_db

URL = "/Sync/v1/TurnSyncOn"


def test_turns_the_sync_on_and_the_caller_becomes_the_running_user(admin_user, admin_client):
    response = admin_client.post(URL)

    assert response.status_code == 200
    body = response.json()
    assert body["syncEnabled"] is True
    assert body["scheduledWatcher"]["name"] == WATCHER_NAME
    state = SyncState.load()
    assert state.enabled and state.running_user == admin_user


def test_is_idempotent(admin_user, admin_client, db):
    from tests.api.conftest import token_client
    from tests.factories import administrator

    first = admin_client.post(URL).json()
    other_admin = token_client(administrator(username="second-admin"))
    second = other_admin.post(URL).json()

    assert second == first
    assert Schedule.objects.filter(name=WATCHER_NAME).count() == 1
    state = SyncState.load()
    # Already on: nothing changed, so the running user is still who turned it on.
    assert state.generation == 1 and state.running_user == admin_user


def test_accepts_an_empty_json_object_body(admin_client):
    assert admin_client.post(URL, {}, format="json").status_code == 200


def test_viewer_cannot_turn_on(viewer_client):
    assert_error(viewer_client.post(URL), 403, "permission_denied")
    assert not SyncState.load().enabled
