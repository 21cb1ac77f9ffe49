"""The status JSON (`syncapp.api.status`) and the raw-SQL reader under it."""

import json
import re
from pathlib import Path

import pytest
from django.utils import timezone

from syncapp.api.status import cycle_json, schedule_json, sync_status
from syncapp.engine import control, status_reader
from syncapp.engine.cycle import start_cycle
from syncapp.models import AsyncJob, SWApexJob
from syncapp.models.schedules import RUNNER_NAME, WATCHER_NAME
from syncapp.models.statuses import CycleStatus, Trigger

pytestmark = pytest.mark.django_db

API_DOC = Path(__file__).resolve().parents[2] / "docs" / "api.md"


def test_status_is_empty_objects_when_nothing_exists():
    assert sync_status() == {
        "syncEnabled": False,
        "asyncQueued": {},
        "scheduledRunner": {},
        "scheduledWatcher": {},
        "lastExecution": {},
        "workerSilentSince": None,
    }


def test_status_reports_watcher_runner_jobs_and_last_execution(admin_user, job_queue):
    control.turn_on(admin_user)
    start_cycle(Trigger.WATCHER)
    status = sync_status()
    assert status["syncEnabled"] is True
    assert status["scheduledWatcher"]["name"] == WATCHER_NAME
    assert status["scheduledWatcher"]["state"] == "WAITING"
    assert status["scheduledRunner"] == {}
    assert status["asyncQueued"]["count"] == 1
    assert status["asyncQueued"]["jobs"][0]["apexClass"] == "SWJobCounting"
    assert status["lastExecution"]["status"] == CycleStatus.QUEUED

    job_queue.run_all()
    status = sync_status()
    assert status["asyncQueued"] == {}
    assert status["scheduledRunner"]["name"] == RUNNER_NAME
    assert status["lastExecution"]["status"] == CycleStatus.COMPLETED
    assert [s["name"] for s in status["lastExecution"]["steps"]] == [
        "Counting",
        "Second",
        "Finalizer",
        "Enqueuer",
    ]


def test_status_agrees_with_the_models(admin_user, job_queue):
    """The reader uses plain SQL: every value must be what the ORM says."""
    from syncapp.models.schedules import ScheduledJob, ScheduleStats

    control.turn_on(admin_user)
    start_cycle(Trigger.WATCHER)
    job_queue.run_all()  # a finished cycle with steps, and a Runner scheduled
    start_cycle(Trigger.RUNNER)  # and a queued one
    watcher = ScheduledJob.objects.get(name=WATCHER_NAME)
    ScheduleStats.objects.create(
        schedule=watcher, times_triggered=3, previous_fire_time=timezone.now()
    )
    status = sync_status()

    cycle = SWApexJob.objects.newest()
    assert status["lastExecution"] == cycle_json(cycle)
    for key, name in (("scheduledWatcher", WATCHER_NAME), ("scheduledRunner", RUNNER_NAME)):
        schedule = ScheduledJob.objects.select_related("stats").get(name=name)
        assert status[key] == schedule_json(schedule)
    assert status["scheduledWatcher"]["timesTriggered"] == 3
    assert status["scheduledWatcher"]["previousFireTime"].endswith("+00:00")
    active = list(AsyncJob.objects.active().order_by("created_date", "id"))
    assert status["asyncQueued"]["count"] == len(active) == 1
    assert status["asyncQueued"]["jobs"] == [
        {
            "id": j.pk,
            "apexClass": j.class_name,
            "jobType": j.job_type,
            "status": j.status,
            "createdDate": j.created_date.isoformat(),
        }
        for j in active
    ]


def test_status_counts_active_jobs_beyond_the_listed_ones(job_queue):
    AsyncJob.objects.bulk_create(
        [
            AsyncJob(class_name=f"SWJobX{i}", job_type="Queueable", generation=1)
            for i in range(status_reader.MAX_JOBS_LISTED + 5)
        ]
    )
    queued = sync_status()["asyncQueued"]
    assert queued["count"] == status_reader.MAX_JOBS_LISTED + 5
    assert len(queued["jobs"]) == status_reader.MAX_JOBS_LISTED


def test_status_query_count_does_not_grow_with_history(
    admin_user, django_assert_max_num_queries, job_queue
):
    control.turn_on(admin_user)
    start_cycle(Trigger.WATCHER)
    with django_assert_max_num_queries(6) as small:
        sync_status()
    SWApexJob.objects.bulk_create(
        [SWApexJob(trigger=Trigger.RUNNER, generation=1, name=f"X{i}") for i in range(500)]
    )
    with django_assert_max_num_queries(len(small.captured_queries)):
        sync_status()


def _documented_status():
    """The GetSyncStatus example of docs/api.md."""
    section = API_DOC.read_text().split("## GetSyncStatus", 1)[1]
    return json.loads(re.search(r"```json\n(.*?)```", section, re.S).group(1))


def _keys(value):
    """Every key, in order, nested: the shape without the values."""
    if isinstance(value, dict):
        return [(k, _keys(v)) for k, v in value.items()]
    if isinstance(value, list):
        return [_keys(v) for v in value[:1]]
    return None


def test_a_full_status_has_the_documented_keys_in_the_documented_order(admin_user, job_queue):
    from syncapp.models.schedules import ScheduledJob, ScheduleStats

    control.turn_on(admin_user)
    start_cycle(Trigger.WATCHER)
    job_queue.run_next()  # a cycle Processing with an active job: every part is filled
    ScheduleStats.objects.create(
        schedule=ScheduledJob.objects.get(name=WATCHER_NAME),
        times_triggered=1,
        previous_fire_time=timezone.now(),
    )
    status = sync_status()
    documented = _documented_status()
    documented["scheduledRunner"] = documented["scheduledWatcher"]  # `{}` in the example
    status["scheduledRunner"] = status["scheduledWatcher"]
    assert _keys(status) == _keys(documented)


def test_a_stale_heartbeat_of_the_running_step_says_no_worker_answers(admin_user, job_queue):
    from datetime import timedelta

    from syncapp.models.statuses import JobStatus

    control.turn_on(admin_user)
    start_cycle(Trigger.WATCHER)
    job = AsyncJob.objects.get(status=JobStatus.QUEUED)
    beat = timezone.now() - timedelta(seconds=29)
    AsyncJob.objects.filter(pk=job.pk).update(status=JobStatus.PROCESSING, last_heartbeat=beat)
    assert sync_status()["workerSilentSince"] is None  # within three heartbeats
    beat = timezone.now() - timedelta(seconds=31)
    AsyncJob.objects.filter(pk=job.pk).update(last_heartbeat=beat)
    status = sync_status()
    assert status["workerSilentSince"] == beat.isoformat()
    assert status["lastExecution"]["status"] == CycleStatus.QUEUED  # the record is unchanged


def test_no_watcher_run_for_its_period_says_no_worker_answers(admin_user, job_queue):
    from datetime import timedelta

    from syncapp.models import SyncState
    from syncapp.models.schedules import ScheduledJob, ScheduleStats

    control.turn_on(admin_user)
    start_cycle(Trigger.WATCHER)
    job_queue.run_all()  # a finished cycle; nothing runs now
    long_ago = timezone.now() - timedelta(minutes=10)
    SyncState.objects.filter(pk=1).update(since=long_ago)
    SWApexJob.objects.update(start_time=long_ago, end_time=long_ago)
    stats = ScheduleStats.objects.create(
        schedule=ScheduledJob.objects.get(name=WATCHER_NAME),
        times_triggered=5,
        previous_fire_time=timezone.now() - timedelta(seconds=100),
    )
    assert sync_status()["workerSilentSince"] is None  # a minute's period plus 90 s
    stats.previous_fire_time = timezone.now() - timedelta(seconds=200)
    stats.save()
    assert sync_status()["workerSilentSince"] == stats.previous_fire_time.isoformat()
    control.turn_off(admin_user)
    assert sync_status()["workerSilentSince"] is None  # off: nobody is expected to answer
