from datetime import timedelta

import pytest
from django.utils import timezone
from django_q.models import Schedule

from syncapp.engine import control
from syncapp.engine.cycle import start_cycle
from syncapp.models import AsyncJob, SWApexJob, SyncState
from syncapp.models.schedules import RUNNER_NAME, WATCHER_NAME
from syncapp.models.statuses import CycleStatus, JobStatus, StepStatus, Trigger

pytestmark = pytest.mark.django_db


def test_turn_on_creates_the_watcher_one_minute_out_then_hourly(admin_user):
    before = timezone.now()
    assert control.turn_on(admin_user) is True

    watcher = Schedule.objects.get(name=WATCHER_NAME)
    assert watcher.schedule_type == Schedule.MINUTES
    assert watcher.minutes == 60
    assert watcher.repeats == -1
    assert (
        before + timedelta(seconds=59) <= watcher.next_run <= timezone.now() + timedelta(seconds=61)
    )
    state = SyncState.load()
    assert state.enabled and state.running_user == admin_user and state.generation == 1


def test_turn_on_twice_changes_nothing(admin_user, viewer_user):
    control.turn_on(admin_user)
    watcher_id = Schedule.objects.get(name=WATCHER_NAME).pk
    assert control.turn_on(viewer_user) is False
    state = SyncState.load()
    assert state.generation == 1 and state.running_user == admin_user
    assert list(Schedule.objects.values_list("pk", flat=True)) == [watcher_id]


def test_turn_off_removes_schedules_and_aborts_jobs(admin_user, job_queue):
    control.turn_on(admin_user)
    cycle = start_cycle(Trigger.WATCHER)
    job_queue.run_next()  # first step done, second queued
    assert AsyncJob.objects.active().count() == 1

    assert control.turn_off(admin_user) is True

    assert not Schedule.objects.filter(name__in=[WATCHER_NAME, RUNNER_NAME]).exists()
    assert not AsyncJob.objects.active().exists()
    assert AsyncJob.objects.filter(status=JobStatus.ABORTED).count() == 1
    cycle.refresh_from_db()
    assert cycle.status == CycleStatus.PARTIALLY_COMPLETED  # one step done, the rest failed
    assert cycle.step("Counting")["status"] == StepStatus.COMPLETED
    assert cycle.step("Second")["status"] == StepStatus.FAILED
    assert "turned off" in cycle.step("Second")["errors"][0]
    assert cycle.end_time is not None


def test_turn_off_when_off_is_a_no_op():
    assert control.turn_off() is False
    assert SyncState.load().generation == 0


def test_a_job_left_in_the_broker_exits_without_work_after_turn_off(admin_user, job_queue):
    control.turn_on(admin_user)
    start_cycle(Trigger.WATCHER)
    control.turn_off()
    control.turn_on(admin_user)
    # The message from the old generation is still in the broker; it runs now.
    assert job_queue.run_next() is None
    assert AsyncJob.objects.get(step="Counting").status == JobStatus.ABORTED
    assert job_queue.ids == []


def test_restart_is_refused_while_a_cycle_runs(admin_user, job_queue):
    control.turn_on(admin_user)
    start_cycle(Trigger.WATCHER)
    with pytest.raises(control.SyncRunning, match=r"is running\.$"):
        control.restart(admin_user)
    assert SyncState.load().generation == 1
    assert SWApexJob.objects.in_progress().count() == 1


def test_forced_restart_aborts_the_cycle_and_turns_on_again(admin_user, job_queue):
    control.turn_on(admin_user)
    cycle = start_cycle(Trigger.WATCHER)
    control.restart(admin_user, force=True)

    cycle.refresh_from_db()
    assert cycle.status == CycleStatus.FAILED
    assert all(s["status"] == StepStatus.FAILED for s in cycle.steps)
    state = SyncState.load()
    assert state.enabled and state.generation == 3
    assert Schedule.objects.filter(name=WATCHER_NAME).count() == 1
    assert not AsyncJob.objects.active().exists()


def test_restart_when_off_turns_on(admin_user):
    control.restart(admin_user)
    assert SyncState.load().enabled


def test_status_is_empty_objects_when_nothing_exists():
    assert control.status() == {
        "syncEnabled": False,
        "asyncQueued": {},
        "scheduledRunner": {},
        "scheduledWatcher": {},
        "lastExecution": {},
    }


def test_status_reports_watcher_runner_jobs_and_last_execution(admin_user, job_queue):
    control.turn_on(admin_user)
    start_cycle(Trigger.WATCHER)
    status = control.status()
    assert status["syncEnabled"] is True
    assert status["scheduledWatcher"]["name"] == WATCHER_NAME
    assert status["scheduledWatcher"]["state"] == "WAITING"
    assert status["scheduledRunner"] == {}
    assert status["asyncQueued"]["count"] == 1
    assert status["asyncQueued"]["jobs"][0]["apexClass"] == "SWJobCounting"
    assert status["lastExecution"]["status"] == CycleStatus.QUEUED

    job_queue.run_all()
    status = control.status()
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
    """status() reads with plain SQL: every value must be what the ORM says."""
    from syncapp.models.schedules import ScheduledJob, ScheduleStats

    control.turn_on(admin_user)
    start_cycle(Trigger.WATCHER)
    job_queue.run_all()  # a finished cycle with steps, and a Runner scheduled
    start_cycle(Trigger.RUNNER)  # and a queued one
    watcher = ScheduledJob.objects.get(name=WATCHER_NAME)
    ScheduleStats.objects.create(
        schedule=watcher, times_triggered=3, previous_fire_time=timezone.now()
    )
    status = control.status()

    cycle = SWApexJob.objects.newest()
    assert status["lastExecution"] == control.cycle_json(cycle)
    for key, name in (("scheduledWatcher", WATCHER_NAME), ("scheduledRunner", RUNNER_NAME)):
        schedule = ScheduledJob.objects.select_related("stats").get(name=name)
        assert status[key] == control._schedule_json(schedule)
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
            for i in range(control.MAX_JOBS_LISTED + 5)
        ]
    )
    queued = control.status()["asyncQueued"]
    assert queued["count"] == control.MAX_JOBS_LISTED + 5
    assert len(queued["jobs"]) == control.MAX_JOBS_LISTED


def test_status_query_count_does_not_grow_with_history(
    admin_user, django_assert_max_num_queries, job_queue
):
    control.turn_on(admin_user)
    start_cycle(Trigger.WATCHER)
    with django_assert_max_num_queries(6) as small:
        control.status()
    SWApexJob.objects.bulk_create(
        [SWApexJob(trigger=Trigger.RUNNER, generation=1, name=f"X{i}") for i in range(500)]
    )
    with django_assert_max_num_queries(len(small.captured_queries)):
        control.status()
