import pytest
from django_q.models import Schedule

from syncapp.engine import control
from syncapp.engine.cycle import start_cycle
from syncapp.models import AsyncJob, SyncState
from syncapp.models.statuses import CycleStatus, JobStatus, Trigger
from tests.api.conftest import assert_error

pytestmark = pytest.mark.django_db

URL = "/Sync/v1/TurnSyncOff"


def test_turns_everything_off(admin_user, admin_client, job_queue):
    control.turn_on(admin_user)
    cycle = start_cycle(Trigger.WATCHER)

    response = admin_client.post(URL)

    assert response.status_code == 200
    body = response.json()
    assert body["syncEnabled"] is False
    assert body["scheduledWatcher"] == {} and body["asyncQueued"] == {}
    assert not Schedule.objects.exists()
    job = AsyncJob.objects.get(class_name="SWJobCounting")
    assert job.status == JobStatus.ABORTED
    assert "admin-persona" in job.extended_status and "API" in job.extended_status
    cycle.refresh_from_db()
    assert cycle.status == CycleStatus.FAILED
    # The status says the cycle was aborted, when and by whom; the reason once, in the note.
    last = body["lastExecution"]
    assert last["abortedBy"] == "admin-persona"
    assert last["abortedAt"] == last["endTime"] == cycle.aborted_at.isoformat()
    assert "turned off by admin-persona" in last["note"]
    assert all(step["errors"] == [] for step in last["steps"])


def test_is_idempotent(admin_user, admin_client):
    control.turn_on(admin_user)
    first = admin_client.post(URL)
    second = admin_client.post(URL)
    assert first.status_code == second.status_code == 200
    assert first.json() == second.json()
    assert SyncState.load().generation == 2


def test_viewer_cannot_turn_off(admin_user, viewer_client):
    control.turn_on(admin_user)
    assert_error(viewer_client.post(URL), 403, "permission_denied")
    assert SyncState.load().enabled
