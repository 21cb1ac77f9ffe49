"""A real django-q2 cluster runs whole cycles: Runner → steps → Enqueuer → next Runner."""

from datetime import timedelta

import pytest
from django.utils import timezone
from django_q.models import Schedule
from django_q.scheduler import scheduler

from syncapp.engine import control, scheduling
from syncapp.models import AsyncJob, StudioOptions, SWApexJob, SyncState
from syncapp.models.schedules import RUNNER_NAME, WATCHER_NAME
from syncapp.models.statuses import CycleStatus, JobStatus, StepStatus
from tests.integration.conftest import wait_for
from tests.steps import EMPTY

pytestmark = [pytest.mark.integration]

WORKFLOW = ["tests.steps.Counting", *EMPTY[:3], "tests.steps.Finalizer", "tests.steps.Enqueuer"]


def finished_cycles():
    return list(SWApexJob.objects.exclude(status__in=["Queued", "Processing"]).order_by("id"))


def test_a_real_cluster_runs_a_cycle_from_runner_to_runner(qcluster, settings, admin_user):
    settings.SWSTUDIO_WORKFLOW = WORKFLOW
    cluster = qcluster()
    options = StudioOptions.load()
    options.sync_gap_minutes = 1
    options.save()
    control.turn_on(admin_user)
    state = SyncState.load()

    # The Runner is due now; the real django-q2 scheduler turns it into a task for the cluster.
    scheduling.schedule_runner(state.generation, 0)
    scheduler()
    cycle = wait_for(lambda: finished_cycles(), 120, message="the first cycle")[0]

    assert cycle.status == CycleStatus.COMPLETED, (cycle.steps, cluster.log())
    assert [s["status"] for s in cycle.steps] == [StepStatus.COMPLETED] * len(WORKFLOW)
    assert cycle.step("Counting")["examined"] == 30
    step_jobs = AsyncJob.objects.filter(cycle=cycle).steps().order_by("id")
    assert [j.class_name for j in step_jobs] == [f"SWJob{p.rsplit('.', 1)[1]}" for p in WORKFLOW]
    assert {j.status for j in step_jobs} == {JobStatus.COMPLETED}
    assert all(j.task_id for j in step_jobs)

    runner = Schedule.objects.get(name=RUNNER_NAME)
    assert runner.repeats == 1
    gap = (runner.next_run - cycle.end_time).total_seconds()
    assert 59 <= gap <= 61

    # Make that Runner due and leave it to the cluster's own scheduler (it looks every ~30 s).
    Schedule.objects.filter(pk=runner.pk).update(next_run=timezone.now() - timedelta(seconds=1))
    wait_for(lambda: len(finished_cycles()) == 2, 120, interval=0.5, message="the second cycle")
    second = finished_cycles()[1]
    assert second.status == CycleStatus.COMPLETED
    assert second.trigger == "Runner"
    assert second.start_time >= cycle.end_time
    runner = Schedule.objects.get(name=RUNNER_NAME)
    assert runner.repeats == 1 and runner.next_run > second.end_time
    assert Schedule.objects.filter(name=WATCHER_NAME).count() == 1


def test_turning_off_mid_cycle_leaves_no_job_running_and_no_schedule(
    qcluster, settings, admin_user
):
    settings.SWSTUDIO_WORKFLOW = [
        "tests.steps.Slow",
        "tests.steps.Second",
        "tests.steps.Finalizer",
        "tests.steps.Enqueuer",
    ]
    # One worker: if it kept running the aborted step (30 s), nothing else could start.
    qcluster(workers=1)
    control.turn_on(admin_user)
    scheduling.schedule_runner(SyncState.load().generation, 0)
    scheduler()
    wait_for(
        lambda: AsyncJob.objects.filter(step="Slow", status=JobStatus.PROCESSING).exists(),
        30,
        message="the slow step to start",
    )

    control.turn_off(admin_user)

    assert not Schedule.objects.filter(name__startswith="SalesWings Studio").exists()
    assert not AsyncJob.objects.active().exists()
    cycle = SWApexJob.objects.get()
    assert cycle.status == CycleStatus.FAILED
    assert cycle.step("Slow")["status"] == StepStatus.FAILED
    assert AsyncJob.objects.filter(cycle=cycle).steps().count() == 1  # nothing handed off

    # The worker notices the new generation through its heartbeat and drops the step: a new
    # cycle's first step starts on that same single worker within seconds, not 30 s later.
    control.turn_on(admin_user)
    scheduling.schedule_runner(SyncState.load().generation, 0)
    scheduler()
    started = timezone.now()
    new_job = wait_for(
        lambda: AsyncJob.objects.filter(
            step="Slow", status=JobStatus.PROCESSING, cycle__generation=SyncState.load().generation
        ).first(),
        15,
        message="the single worker to be free again",
    )
    assert (new_job.started_date - started).total_seconds() < 15
    assert AsyncJob.objects.filter(cycle=cycle).steps().count() == 1
    control.turn_off(admin_user)
    assert not AsyncJob.objects.active().exists()


def test_a_real_cluster_runs_the_steps_of_a_group_side_by_side(qcluster, settings, admin_user):
    settings.SWSTUDIO_WORKFLOW = [
        "tests.steps.NappingLeft",
        "tests.steps.NappingRight",
        "tests.steps.Second",
        "tests.steps.Finalizer",
        "tests.steps.Enqueuer",
    ]
    cluster = qcluster(workers=2)
    control.turn_on(admin_user)
    scheduling.schedule_runner(SyncState.load().generation, 0)
    scheduler()
    cycle = wait_for(lambda: finished_cycles(), 120, message="the cycle")[0]

    assert cycle.status == CycleStatus.COMPLETED, (cycle.steps, cluster.log())
    jobs = {j.step: j for j in AsyncJob.objects.filter(cycle=cycle).steps()}
    left, right, after = jobs["NappingLeft"], jobs["NappingRight"], jobs["Second"]
    # Each took ~1.5 s, on two workers at once: they overlap.
    assert left.started_date < right.completed_date and right.started_date < left.completed_date
    assert after.started_date >= max(left.completed_date, right.completed_date)
    assert AsyncJob.objects.filter(cycle=cycle).steps().count() == 5
