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
    assert list(Schedule.objects.filter(name=WATCHER_NAME).values_list("pk", flat=True)) == [
        watcher_id
    ]
    assert Schedule.objects.count() == 2  # the Watcher and the liveness check beside it


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
    # Second never ran: the reason is the cycle's, once, not an error of the step.
    assert cycle.step("Second")["status"] == StepStatus.FAILED
    assert (cycle.step("Second")["start"], cycle.step("Second")["errors"]) == (None, [])
    assert "turned off" in cycle.note
    assert cycle.end_time is not None
    # Aborted: when and by whom.
    assert cycle.aborted_at == cycle.end_time
    assert cycle.aborted_by == admin_user.username


def test_a_forced_restart_aborts_the_cycle_and_says_who_restarted(admin_user, job_queue):
    control.turn_on(admin_user)
    cycle = start_cycle(Trigger.WATCHER)

    control.restart(admin_user, force=True)

    cycle.refresh_from_db()
    assert cycle.status == CycleStatus.FAILED and cycle.was_aborted
    assert cycle.aborted_by == admin_user.username
    assert cycle.note == f"The sync was restarted by {admin_user.username}."
    assert all(s["errors"] == [] for s in cycle.steps)


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
