import pytest
from django_q.models import Schedule

from syncapp.engine import control
from syncapp.engine.cycle import start_cycle
from syncapp.models import AsyncJob, SWApexJob, SyncState
from syncapp.models.schedules import LIVENESS_NAME, WATCHER_NAME
from syncapp.models.statuses import CycleStatus, Trigger
from tests.api.conftest import assert_error

pytestmark = pytest.mark.django_db

URL = "/Sync/v1/RestartSync"


def test_restart_when_idle_turns_off_and_on(admin_user, admin_client):
    control.turn_on(admin_user)
    old_watcher = Schedule.objects.get(name=WATCHER_NAME).pk

    response = admin_client.post(URL)

    assert response.status_code == 200
    body = response.json()
    assert body["syncEnabled"] is True
    new_watcher = Schedule.objects.get(name=WATCHER_NAME)
    assert body["scheduledWatcher"]["id"] == new_watcher.pk != old_watcher
    assert SyncState.load().generation == 3  # on, off, on


def test_restart_when_off_turns_on_and_the_caller_becomes_the_running_user(
    admin_user, admin_client
):
    assert admin_client.post(URL).status_code == 200
    state = SyncState.load()
    assert state.enabled and state.running_user == admin_user


@pytest.mark.parametrize("force", [None, "false", "FALSE", "0"])
def test_412_while_a_cycle_runs_and_nothing_changes(admin_user, admin_client, job_queue, force):
    control.turn_on(admin_user)
    cycle = start_cycle(Trigger.WATCHER)
    watcher = Schedule.objects.get(name=WATCHER_NAME).pk

    response = admin_client.post(URL if force is None else f"{URL}?force={force}")

    error = assert_error(response, 412, "sync_running")
    assert cycle.name in error["message"] and "force" in error["message"]
    # The error carries the status, so the caller sees what is running.
    assert error["status"]["lastExecution"]["id"] == cycle.pk
    assert error["status"]["lastExecution"]["status"] == CycleStatus.QUEUED
    assert SyncState.load().generation == 1
    assert list(Schedule.objects.exclude(name=LIVENESS_NAME).values_list("pk", flat=True)) == [
        watcher
    ]
    cycle.refresh_from_db()
    assert cycle.status == CycleStatus.QUEUED


def test_412_while_a_cycle_is_processing(admin_user, admin_client, job_queue):
    control.turn_on(admin_user)
    start_cycle(Trigger.WATCHER)
    job_queue.run_next()  # first step done; the cycle is Processing
    assert SWApexJob.objects.get().status == CycleStatus.PROCESSING
    assert_error(admin_client.post(URL), 412, "sync_running")


@pytest.mark.parametrize("force", ["true", "True", "TRUE", "tRuE", "1"])
def test_force_restarts_anyway(admin_user, admin_client, job_queue, force):
    control.turn_on(admin_user)
    cycle = start_cycle(Trigger.WATCHER)

    response = admin_client.post(f"{URL}?force={force}")

    assert response.status_code == 200, response.content
    cycle.refresh_from_db()
    assert cycle.status == CycleStatus.FAILED
    assert not AsyncJob.objects.active().exists()
    assert Schedule.objects.filter(name=WATCHER_NAME).count() == 1
    body = response.json()
    assert body["asyncQueued"] == {} and body["lastExecution"]["status"] == "Failed"


@pytest.mark.parametrize("force", ["yes", "on", "t", "", "2", "true ", "truee", "%00"])
def test_any_other_force_is_400_and_changes_nothing(admin_user, admin_client, job_queue, force):
    control.turn_on(admin_user)
    cycle = start_cycle(Trigger.WATCHER)

    error = assert_error(admin_client.post(f"{URL}?force={force}"), 400, "invalid_parameter")

    assert error["parameter"] == "force"
    cycle.refresh_from_db()
    assert cycle.status == CycleStatus.QUEUED
    assert SyncState.load().generation == 1


def test_force_given_twice_is_400(admin_client):
    error = assert_error(
        admin_client.post(f"{URL}?force=true&force=false"), 400, "repeated_parameter"
    )
    assert error["parameter"] == "force"
    assert not SyncState.load().enabled


def test_viewer_cannot_restart(admin_user, viewer_client):
    control.turn_on(admin_user)
    assert_error(viewer_client.post(f"{URL}?force=true"), 403, "permission_denied")
    assert SyncState.load().generation == 1
