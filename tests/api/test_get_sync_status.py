from datetime import datetime

import pytest
from django.utils import timezone

from syncapp.engine import control
from syncapp.engine.cycle import start_cycle
from syncapp.models import AsyncJob, SWApexJob
from syncapp.models.schedules import RUNNER_NAME, WATCHER_NAME
from syncapp.models.statuses import JobStatus, JobType, Trigger
from tests.factories import CycleFactory

pytestmark = pytest.mark.django_db

URL = "/Sync/v1/GetSyncStatus"


def _is_iso_with_offset(value):
    parsed = datetime.fromisoformat(value)
    return parsed.utcoffset() is not None


def test_nothing_yet_is_empty_objects(viewer_client):
    response = viewer_client.get(URL)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json() == {
        "syncEnabled": False,
        "asyncQueued": {},
        "scheduledRunner": {},
        "scheduledWatcher": {},
        "lastExecution": {},
        "workerSilentSince": None,
    }


def test_a_running_cycle_is_reported(admin_user, viewer_client, job_queue):
    control.turn_on(admin_user)
    cycle = start_cycle(Trigger.WATCHER)

    body = viewer_client.get(URL).json()

    assert body["syncEnabled"] is True
    watcher = body["scheduledWatcher"]
    assert watcher["name"] == WATCHER_NAME and watcher["state"] == "WAITING"
    assert _is_iso_with_offset(watcher["nextFireTime"])
    assert watcher["previousFireTime"] is None and watcher["timesTriggered"] == 0
    assert body["scheduledRunner"] == {}
    assert body["asyncQueued"]["count"] == 1
    (job,) = body["asyncQueued"]["jobs"]
    assert job["apexClass"] == "SWJobCounting" and job["status"] == JobStatus.QUEUED
    assert _is_iso_with_offset(job["createdDate"])
    last = body["lastExecution"]
    assert (last["id"], last["name"], last["status"]) == (cycle.pk, cycle.name, "Queued")
    assert last["trigger"] == "Watcher"
    assert [s["name"] for s in last["steps"]] == ["Counting", "Second", "Finalizer", "Enqueuer"]


def test_a_finished_cycle_shows_step_statistics_and_the_runner(
    admin_user, viewer_client, job_queue
):
    control.turn_on(admin_user)
    start_cycle(Trigger.WATCHER)
    job_queue.run_all()

    body = viewer_client.get(URL).json()

    assert body["asyncQueued"] == {}
    assert body["scheduledRunner"]["name"] == RUNNER_NAME
    last = body["lastExecution"]
    assert last["status"] == "Completed"
    assert _is_iso_with_offset(last["startTime"]) and _is_iso_with_offset(last["endTime"])
    counting = last["steps"][0]
    assert counting["apexClass"] == "SWJobCounting"
    assert (counting["recordsExamined"], counting["recordsModified"]) == (30, 30)
    assert (counting["recordsFailed"], counting["batchesTotal"]) == (0, 3)
    assert _is_iso_with_offset(counting["startTime"])


def test_last_execution_is_the_newest_cycle(viewer_client):
    CycleFactory.create_batch(3)
    newest = CycleFactory(status="Failed", note="the backend was down")
    last = viewer_client.get(URL).json()["lastExecution"]
    assert (last["id"], last["status"], last["note"]) == (
        newest.pk,
        "Failed",
        "the backend was down",
    )


def test_times_carry_the_offset_in_another_time_zone(settings, viewer_client):
    settings.TIME_ZONE = "Europe/Zurich"
    CycleFactory(start_time=timezone.now())
    assert _is_iso_with_offset(viewer_client.get(URL).json()["lastExecution"]["startTime"])


def test_head_is_allowed(viewer_client):
    assert viewer_client.head(URL).status_code == 200


def _history(cycles, jobs):
    first = SWApexJob.objects.count()
    SWApexJob.objects.bulk_create(
        SWApexJob(trigger=Trigger.RUNNER, generation=1, name=f"H-{first + i}", status="Completed")
        for i in range(cycles)
    )
    AsyncJob.objects.bulk_create(
        AsyncJob(
            class_name="SWJobGetProspects",
            job_type=JobType.QUEUEABLE,
            status=JobStatus.COMPLETED,
            generation=1,
        )
        for _ in range(jobs)
    )


def test_query_count_is_the_same_with_10_and_10000_cycles_in_history(
    admin_user, viewer_client, job_queue, django_assert_num_queries, django_assert_max_num_queries
):
    control.turn_on(admin_user)
    start_cycle(Trigger.WATCHER)
    job_queue.run_next()  # a cycle in progress with an active job: every part is filled
    _history(cycles=10, jobs=10)
    viewer_client.get(URL)  # warm: creates nothing on later calls
    with django_assert_max_num_queries(50) as small:
        body = viewer_client.get(URL).json()
    assert all(body[k] for k in ("asyncQueued", "scheduledWatcher", "lastExecution"))
    baseline = len(small.captured_queries)
    assert baseline > 0

    _history(cycles=10_000 - 10, jobs=1_000)

    with django_assert_num_queries(baseline):
        viewer_client.get(URL)
    assert SWApexJob.objects.count() > 10_000
