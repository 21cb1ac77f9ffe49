"""The broker loses what it held while the workers were down (issue 7, bad input): once it is
back, the Watcher fails the cycle whose job was never picked up, and the sync resumes.

The broker "goes away" with the qcluster stopped: its messages are purged (the ORM broker's
rows deleted; with Redis, FLUSHDB of the test's own Redis database, as a Redis restart without
persistence would do).
"""

import time

import pytest
from django.conf import settings as django_settings
from django.utils import timezone
from django_q.brokers import get_broker

from syncapp.engine import control, scheduling, watcher
from syncapp.engine import cycle as cycle_engine
from syncapp.models import AsyncJob, StudioOptions, SWApexJob, SyncState
from syncapp.models.statuses import CycleStatus, JobStatus, StepStatus, Trigger
from tests.scale.conftest import Deadline, fire_due_schedules, wait_for

pytestmark = [pytest.mark.integration]

WORKFLOW = [
    "tests.steps.Counting",
    "tests.steps.Second",
    "tests.steps.Finalizer",
    "tests.steps.Enqueuer",
]


def lose_everything_in_the_broker():
    broker = get_broker()
    if django_settings.Q_CLUSTER.get("redis"):
        broker.connection.flushdb()
    else:
        broker.purge_queue()
    assert broker.queue_size() == 0


def finished(cycle):
    cycle.refresh_from_db()
    return not cycle.is_in_progress


@pytest.fixture
def sync_on(settings, admin_user):
    settings.SWSTUDIO_WORKFLOW = WORKFLOW
    StudioOptions.objects.update_or_create(pk=1, defaults={"sync_gap_minutes": 1})
    control.turn_on(admin_user)
    return SyncState.load()


def test_a_step_hand_off_lost_mid_cycle_is_failed_by_the_watcher_and_the_sync_resumes(
    qcluster, sync_on, settings
):
    deadline = Deadline(60, "the broker outage test")
    # A worker ran the first step and handed the second one to the broker...
    cycle = cycle_engine.start_cycle(Trigger.RUNNER)
    first = AsyncJob.objects.get(cycle=cycle, step="Counting")
    get_broker().purge_queue()  # (this test process plays that worker)
    assert cycle_engine.run_step(first.pk) == StepStatus.COMPLETED
    lost = AsyncJob.objects.get(cycle=cycle, step="Second")
    assert lost.status == JobStatus.QUEUED and lost.task_id
    assert get_broker().queue_size() == 1

    # ...then the broker lost it, with no worker running.
    lose_everything_in_the_broker()

    # The broker is back with the workers: nothing will ever run that step.
    qcluster()
    time.sleep(2)
    lost.refresh_from_db()
    assert lost.status == JobStatus.QUEUED
    cycle.refresh_from_db()
    assert cycle.status == CycleStatus.PROCESSING

    # The Watcher, once the job has been Queued longer than SWSTUDIO_QUEUED_STALE_AFTER.
    settings.SWSTUDIO_QUEUED_STALE_AFTER = 1
    report = watcher.run_watcher()
    assert report["stale"] == 1, report
    lost.refresh_from_db()
    assert lost.status == JobStatus.FAILED
    assert "never picked up" in lost.extended_status
    cycle.refresh_from_db()
    # Closed: Counting had completed, Second and the steps after it failed.
    assert cycle.status == CycleStatus.PARTIALLY_COMPLETED
    assert cycle.step("Second")["status"] == StepStatus.FAILED
    assert "never picked up" in cycle.note

    # The sync resumed: the Watcher started a new cycle, which the cluster runs to the end.
    restarted = SWApexJob.objects.get(name=report["started"])
    assert restarted.trigger == Trigger.RESTART
    wait_for(lambda: finished(restarted), deadline.left, message="the restarted cycle")
    assert restarted.status == CycleStatus.COMPLETED, restarted.steps
    assert scheduling.runner_pending()
    assert not AsyncJob.objects.active().exists()


def test_a_runner_firing_lost_by_the_broker_is_made_up_by_the_watcher(qcluster, sync_on, settings):
    deadline = Deadline(60, "the lost Runner test")
    cluster = qcluster()
    # One whole cycle through the cluster, then it stops (workers down).
    scheduling.schedule_runner(sync_on.generation, 1)
    fire_due_schedules()
    first = wait_for(
        lambda: SWApexJob.objects.exclude(status__in=["Queued", "Processing"]).first(),
        deadline.left,
        message="the first cycle",
    )
    assert first.status == CycleStatus.COMPLETED, (first.steps, cluster.log())
    cluster.stop()

    # The Runner fires into the broker, which then loses the task.
    fire_due_schedules()
    assert not scheduling.runner_pending()  # it fired (a one-off)
    lose_everything_in_the_broker()

    qcluster()
    time.sleep(2)
    assert SWApexJob.objects.count() == 1  # no cycle: the Runner's task is gone

    # The Watcher gives a Runner that has just fired the time to start its cycle; past that,
    # with no cycle in progress and no Runner pending, it restarts the sync.
    assert watcher.run_watcher()["started"] is None
    later = timezone.now() + watcher.RUNNER_START_GRACE
    report = watcher.run_watcher(now=later)
    restarted = SWApexJob.objects.get(name=report["started"])
    assert restarted.trigger == Trigger.RESTART
    wait_for(lambda: finished(restarted), deadline.left, message="the restarted cycle")
    assert restarted.status == CycleStatus.COMPLETED, restarted.steps
