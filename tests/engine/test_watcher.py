import json
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone
from django_q.models import Schedule

from syncapp.engine import control, scheduling
from syncapp.engine.cycle import start_cycle
from syncapp.engine.watcher import (
    cleanup_history,
    run_liveness,
    run_watcher,
    send_notifications,
)
from syncapp.models import AsyncJob, StudioOptions, SWApexJob, SyncState
from syncapp.models.schedules import LIVENESS_NAME, RUNNER_NAME
from syncapp.models.statuses import CycleStatus, JobStatus, StepStatus, Trigger
from tests.factories import CycleFactory, NotificationSettingFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def sync_on(admin_user):
    control.turn_on(admin_user)
    return SyncState.load()


def test_the_first_watcher_run_starts_the_first_cycle(sync_on, job_queue):
    report = run_watcher(generation=sync_on.generation)
    cycle = SWApexJob.objects.get()
    assert report["started"] == cycle.name
    assert cycle.trigger == Trigger.WATCHER
    assert len(job_queue.ids) == 1


def test_a_watcher_from_an_old_generation_does_nothing(sync_on, job_queue):
    assert run_watcher(generation=sync_on.generation - 1) == {"skipped": True}
    assert not SWApexJob.objects.exists()


def test_the_watcher_does_nothing_while_off(job_queue):
    assert run_watcher() == {"skipped": True}


def test_no_restart_while_a_cycle_runs_or_a_runner_is_pending(sync_on, job_queue):
    start_cycle(Trigger.WATCHER)
    assert run_watcher()["started"] is None
    job_queue.run_all()
    assert Schedule.objects.filter(name=RUNNER_NAME).exists()
    assert run_watcher()["started"] is None
    assert SWApexJob.objects.count() == 1


def test_restarts_a_sync_that_failed_to_re_enqueue_itself(sync_on, job_queue):
    start_cycle(Trigger.WATCHER)
    job_queue.run_all()
    scheduling.ScheduledJob.objects.runner().delete()  # the Runner is gone
    report = run_watcher()
    assert SWApexJob.objects.newest().trigger == Trigger.RESTART
    assert report["started"] == SWApexJob.objects.newest().name


def test_cleanup_keeps_exactly_the_newest_n(sync_on):
    cycles = CycleFactory.create_batch(12)
    for c in cycles:
        AsyncJob.objects.create(class_name="SWJobX", job_type="Queueable", cycle=c, generation=1)
    assert cleanup_history(5) == 7
    kept = list(SWApexJob.objects.order_by("id").values_list("id", flat=True))
    assert kept == [c.pk for c in cycles[-5:]]
    assert AsyncJob.objects.count() == 5
    assert cleanup_history(5) == 0


def test_cleanup_runs_a_bounded_number_of_queries(sync_on, django_assert_max_num_queries):
    SWApexJob.objects.bulk_create(
        [SWApexJob(trigger=Trigger.RUNNER, generation=1, name=f"S{i}") for i in range(3000)]
    )
    with django_assert_max_num_queries(6):
        assert cleanup_history(100) == 2900


def test_the_watcher_cleans_up_by_the_threshold_option(sync_on, job_queue):
    options = StudioOptions.load()
    options.apex_jobs_threshold = 3
    options.save()
    CycleFactory.create_batch(5)
    report = run_watcher()
    assert report["deleted"] == 2, report
    # three kept, then the Watcher started a new one
    assert SWApexJob.objects.count() == 4


def a_step_whose_worker_died(settings, job_queue):
    """A cycle whose step a worker took, then died: Processing, heartbeat long ago."""
    cycle = start_cycle(Trigger.WATCHER)
    job = AsyncJob.objects.get(step="Counting")
    long_ago = timezone.now() - timedelta(seconds=settings.SWSTUDIO_STALE_AFTER + 60)
    job.mark_processing(long_ago)
    job.save()
    cycle.start_step("Counting", job.pk, long_ago)
    cycle.save()
    job_queue.ids.clear()
    return cycle, job


def test_a_stale_processing_job_is_failed_and_the_sync_restarted(sync_on, job_queue, settings):
    cycle, job = a_step_whose_worker_died(settings, job_queue)

    report = run_watcher()

    assert report["stale"] == 1
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED and "stopped responding" in job.extended_status
    cycle.refresh_from_db()
    assert cycle.status == CycleStatus.FAILED
    assert cycle.step("Counting")["status"] == StepStatus.FAILED
    restarted = SWApexJob.objects.newest()
    assert restarted.pk != cycle.pk and restarted.trigger == Trigger.RESTART
    assert len(job_queue.ids) == 1


def test_a_live_processing_job_is_left_alone(sync_on, job_queue):
    start_cycle(Trigger.WATCHER)
    job = AsyncJob.objects.get(step="Counting")
    job.mark_processing(timezone.now())
    job.save()
    assert run_watcher()["stale"] == 0
    assert AsyncJob.objects.get(pk=job.pk).status == JobStatus.PROCESSING


def test_a_job_the_broker_lost_is_failed(sync_on, job_queue, settings):
    start_cycle(Trigger.WATCHER)
    AsyncJob.objects.filter(step="Counting").update(
        created_date=timezone.now() - timedelta(seconds=settings.SWSTUDIO_QUEUED_STALE_AFTER + 5)
    )
    assert run_watcher()["stale"] == 1
    lost = AsyncJob.objects.get(step="Counting", status=JobStatus.FAILED)
    assert "never picked up" in lost.extended_status


def test_a_queued_job_a_dead_worker_took_is_failed_once_nothing_runs_for_the_stale_window(
    sync_on, job_queue, settings
):
    """A killed worker's broker may keep the task it had taken (the ORM broker hides it for
    its `retry` period; Redis loses it): with nothing running, the Watcher (itself on a
    worker) does not wait for SWSTUDIO_QUEUED_STALE_AFTER."""
    cycle = start_cycle(Trigger.WATCHER)
    job_queue.ids.clear()  # taken by the dead worker's cluster
    waited = timezone.now() - timedelta(seconds=settings.SWSTUDIO_STALE_AFTER - 5)
    AsyncJob.objects.filter(step="Counting").update(created_date=waited)
    assert run_watcher()["stale"] == 0  # within the stale window: a worker may yet take it
    waited = timezone.now() - timedelta(seconds=settings.SWSTUDIO_STALE_AFTER + 5)
    AsyncJob.objects.filter(step="Counting").update(created_date=waited)
    report = run_watcher()
    assert report["stale"] == 1
    cycle.refresh_from_db()
    assert cycle.status == CycleStatus.FAILED and "never picked up" in cycle.note
    assert SWApexJob.objects.newest().trigger == Trigger.RESTART
    assert len(job_queue.ids) == 1


def test_a_queued_job_waits_while_another_step_runs(sync_on, job_queue, settings):
    start_cycle(Trigger.WATCHER)
    waited = timezone.now() - timedelta(seconds=settings.SWSTUDIO_STALE_AFTER + 5)
    AsyncJob.objects.filter(step="Counting").update(created_date=waited)
    AsyncJob.objects.create(
        class_name="SWJobOther",
        job_type="Queueable",
        status=JobStatus.PROCESSING,
        generation=sync_on.generation,
        last_heartbeat=timezone.now(),
    )
    assert run_watcher()["stale"] == 0


def test_no_restart_while_a_runner_that_just_fired_starts_its_cycle(sync_on, job_queue):
    start_cycle(Trigger.WATCHER)
    job_queue.run_all()
    runner = scheduling.ScheduledJob.objects.runner().get()
    now = timezone.now()
    SWApexJob.objects.update(created_at=now - timedelta(minutes=10))  # the cycle before it
    # Fired by django-q2 a moment ago (a one-off keeps its due time), its task not run yet.
    runner.repeats, runner.next_run = 0, now - timedelta(seconds=30)
    runner.save()
    assert run_watcher(now=now)["started"] is None
    # Its task was lost (a killed worker had taken it): the Watcher starts the cycle.
    report = run_watcher(now=now + timedelta(minutes=2))
    assert report["started"] == SWApexJob.objects.newest().name
    assert SWApexJob.objects.newest().trigger == Trigger.RESTART


def test_one_alert_per_outage_and_one_on_recovery(sync_on, admin_user):
    rule = NotificationSettingFactory(threshold_minutes=60, emails="ops@example.com")
    rule.users.add(admin_user)
    now = timezone.now()
    SyncState.objects.filter(pk=1).update(since=now - timedelta(hours=3))
    CycleFactory(end_time=now - timedelta(minutes=90))

    assert send_notifications(now) == [("alert", rule.pk)]
    assert len(mail.outbox) == 1
    assert sorted(mail.outbox[0].to) == ["admin-persona@example.com", "ops@example.com"]
    assert "no completed synchronization" in mail.outbox[0].subject

    # Still down an hour later: nothing new.
    assert send_notifications(now + timedelta(hours=1)) == []
    assert len(mail.outbox) == 1

    # A cycle completes: one recovery e-mail, then silence.
    CycleFactory(end_time=now + timedelta(hours=1, minutes=30))
    later = now + timedelta(hours=2)
    assert send_notifications(later) == [("recovery", rule.pk)]
    assert "recovered" in mail.outbox[1].subject
    assert send_notifications(later) == []
    assert len(mail.outbox) == 2


def test_failed_cycles_do_not_count_as_completed(sync_on):
    NotificationSettingFactory(threshold_minutes=30)
    now = timezone.now()
    SyncState.objects.filter(pk=1).update(since=now - timedelta(hours=5))
    CycleFactory(status=CycleStatus.FAILED, end_time=now - timedelta(minutes=1))
    assert [kind for kind, _ in send_notifications(now)] == ["alert"]


def test_inactive_rules_send_nothing(sync_on):
    NotificationSettingFactory(threshold_minutes=1, active=False)
    SyncState.objects.filter(pk=1).update(since=timezone.now() - timedelta(hours=5))
    assert send_notifications(timezone.now()) == []
    assert mail.outbox == []


RUNWATCHER_OUTPUT = []


def runwatcher_meanwhile():
    """A preflight check that runs `manage.py runwatcher` while the Runner checks."""
    import io

    from django.core.management import call_command

    out = io.StringIO()
    call_command("runwatcher", stdout=out)
    RUNWATCHER_OUTPUT.append(json.loads(out.getvalue()))
    return None


def test_runwatcher_during_the_runners_checks_starts_no_second_cycle(sync_on, job_queue, settings):
    # The Runner's schedule has fired (no Runner pending) and it runs its pre-cycle checks:
    # it counts as a cycle starting, so the Watcher run meanwhile starts nothing.
    from syncapp.engine import jobs

    settings.SWSTUDIO_PREFLIGHT = ["tests.engine.test_watcher.runwatcher_meanwhile"]
    RUNWATCHER_OUTPUT.clear()
    cycle_id = jobs.runner(generation=sync_on.generation)

    assert RUNWATCHER_OUTPUT[0]["started"] is None
    cycle = SWApexJob.objects.get()
    assert cycle.pk == cycle_id and cycle.trigger == Trigger.RUNNER
    assert cycle.status == CycleStatus.QUEUED and len(job_queue.ids) == 1
    entry = AsyncJob.objects.get(class_name="WorkflowSchedulable")
    assert entry.status == JobStatus.COMPLETED


def test_partially_completed_cycles_do_not_hold_off_the_alert(sync_on):
    rule = NotificationSettingFactory(threshold_minutes=30, emails="ops@example.com")
    now = timezone.now()
    SyncState.objects.filter(pk=1).update(since=now - timedelta(hours=5))
    CycleFactory(status=CycleStatus.COMPLETED, end_time=now - timedelta(minutes=45))
    CycleFactory(status=CycleStatus.PARTIALLY_COMPLETED, end_time=now - timedelta(minutes=1))
    assert send_notifications(now) == [("alert", rule.pk)]
    assert "has Completed since" in mail.outbox[0].body


def test_recovered_only_after_a_completed_cycle_that_follows_the_alert(sync_on):
    rule = NotificationSettingFactory(threshold_minutes=30, emails="ops@example.com")
    now = timezone.now()
    SyncState.objects.filter(pk=1).update(since=now - timedelta(hours=5))
    assert send_notifications(now) == [("alert", rule.pk)]
    # Within the threshold again, but only Partially_Completed (or Failed): still down.
    CycleFactory(status=CycleStatus.PARTIALLY_COMPLETED, end_time=now + timedelta(minutes=1))
    CycleFactory(status=CycleStatus.FAILED, end_time=now + timedelta(minutes=2))
    assert send_notifications(now + timedelta(minutes=3)) == []
    CycleFactory(status=CycleStatus.COMPLETED, end_time=now + timedelta(minutes=4))
    assert send_notifications(now + timedelta(minutes=5)) == [("recovery", rule.pk)]
    assert [m.subject for m in mail.outbox][-1] == "SW Studio: synchronization recovered"


def test_turning_on_or_restarting_after_an_alert_is_not_a_recovery(sync_on, admin_user):
    rule = NotificationSettingFactory(threshold_minutes=30, emails="ops@example.com")
    now = timezone.now()
    SyncState.objects.filter(pk=1).update(since=now - timedelta(hours=5))
    CycleFactory(status=CycleStatus.COMPLETED, end_time=now - timedelta(hours=2))
    assert send_notifications(now) == [("alert", rule.pk)]
    control.restart(admin_user, force=True)
    assert send_notifications(timezone.now()) == []
    control.turn_off(admin_user)
    control.turn_on(admin_user)
    assert send_notifications(timezone.now()) == []
    assert len(mail.outbox) == 1
    rule.refresh_from_db()
    assert rule.alerted_at is not None  # still down: one recovery e-mail once a cycle completes


def test_rules_are_checked_by_the_liveness_check_every_minute(sync_on, job_queue):
    """A 2-minute rule fires within a minute of its threshold, not at the next hourly Watcher:
    the liveness check beside the Watcher runs every minute."""
    watcher = Schedule.objects.get(name="SalesWings Studio : Watcher")
    assert (watcher.schedule_type, watcher.minutes) == (Schedule.MINUTES, 60)
    check = Schedule.objects.get(name=LIVENESS_NAME)
    assert (check.schedule_type, check.minutes, check.func) == (
        Schedule.MINUTES,
        1,
        "syncapp.engine.jobs.liveness",
    )
    rule = NotificationSettingFactory(threshold_minutes=2, emails="ops@example.com")
    since = SyncState.load().since
    assert run_liveness(now=since + timedelta(minutes=1, seconds=59))["notified"] == []
    assert run_liveness(now=since + timedelta(minutes=3))["notified"] == [("alert", rule.pk)]


def test_the_liveness_check_fails_a_dead_step_and_restarts_but_keeps_the_history(
    sync_on, job_queue, settings
):
    """Between two hourly Watchers: a step whose worker died is failed and the sync restarted;
    trimming the history stays the Watcher's."""
    StudioOptions.objects.filter(pk=1).update(apex_jobs_threshold=1)
    old = CycleFactory(status=CycleStatus.COMPLETED)
    a_step_whose_worker_died(settings, job_queue)

    report = run_liveness()

    assert report["stale"] == 1 and report["started"] is not None
    assert "deleted" not in report
    assert SWApexJob.objects.filter(pk=old.pk).exists()
