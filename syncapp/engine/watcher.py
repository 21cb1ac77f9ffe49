"""`SalesWings Studio : Watcher` (hourly, as the product's: SWSTUDIO_WATCHER_INTERVAL_MINUTES):
housekeeping and the sync's safety net. The liveness check (every minute:
SWSTUDIO_LIVENESS_INTERVAL_MINUTES) runs its safety-net duties in between, so a dead worker's
step is found within the stale window plus a minute and the sync restarted, and the
Notification Settings' thresholds are checked to the minute."""

import logging
from datetime import timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from syncapp.engine import cycle as cycle_engine
from syncapp.models import (
    AsyncJob,
    NotificationSetting,
    ScheduledJob,
    StudioOptions,
    SWApexJob,
    SyncState,
)
from syncapp.models.statuses import CycleStatus, JobStatus, Trigger

log = logging.getLogger(__name__)


def run_watcher(generation=None, now=None):
    """Every duty of the Watcher, in order. Returns what it did (for logs and tests)."""
    now = now or timezone.now()
    if not _current(generation):
        return {"skipped": True}
    report = {"deleted": cleanup_history(StudioOptions.load().apex_jobs_threshold)}
    return report | _safety_net(now)


def run_liveness(generation=None, now=None):
    """The liveness check: the Watcher's safety-net duties (stale jobs, restart, notifications)
    between two Watcher runs."""
    now = now or timezone.now()
    if not _current(generation):
        return {"skipped": True}
    return _safety_net(now)


def _current(generation):
    state = SyncState.load()
    return state.enabled and (generation is None or generation == state.generation)


def _safety_net(now):
    report = {"stale": fail_stale_jobs(now)}
    report["started"] = restart_if_needed(now)
    report["notified"] = send_notifications(now)
    return report


def cleanup_history(threshold):
    """Delete SW Apex Jobs beyond the newest `threshold`, with their async jobs.

    Three statements whatever the excess: find the newest id to delete, then delete the jobs
    and the cycles at or below it in set-based DELETEs (no rows are loaded).
    """
    cutoff = SWApexJob.objects.order_by("-id").values_list("id", flat=True)[
        threshold : threshold + 1
    ]
    cutoff = list(cutoff)
    if not cutoff:
        return 0
    with transaction.atomic():
        AsyncJob.objects.filter(cycle_id__lte=cutoff[0]).delete()
        deleted, _ = SWApexJob.objects.filter(id__lte=cutoff[0]).delete()
    return deleted


def fail_stale_jobs(now):
    """Fail jobs whose worker died (Processing, heartbeat stale) or that the broker lost
    (Queued for too long), and close their cycles. Returns how many jobs were failed.

    A job Queued for the stale window while no job runs was lost too: this Watcher runs on a
    worker, so workers take work, and nothing ahead of it holds them. (A broker may keep a
    task a killed worker had taken: django-q2's ORM broker hides it for its `retry` period,
    Redis loses it.)
    """
    processing_cutoff = now - timedelta(seconds=settings.SWSTUDIO_STALE_AFTER)
    queued_cutoff = now - timedelta(seconds=settings.SWSTUDIO_QUEUED_STALE_AFTER)
    failed = 0
    with transaction.atomic():
        SyncState.lock()
        stale = Q(status=JobStatus.PROCESSING, last_heartbeat__lt=processing_cutoff) | Q(
            status=JobStatus.QUEUED, created_date__lt=queued_cutoff
        )
        live = AsyncJob.objects.filter(
            status=JobStatus.PROCESSING, last_heartbeat__gte=processing_cutoff
        )
        if not live.exists():
            stale |= Q(status=JobStatus.QUEUED, created_date__lt=processing_cutoff)
        for job in AsyncJob.objects.active().filter(stale).select_for_update():
            if job.status == JobStatus.PROCESSING:
                reason = (
                    f"{job.class_name} stopped responding (no heartbeat since "
                    f"{job.last_heartbeat:%Y-%m-%d %H:%M:%S %Z}); its worker probably died."
                )
            else:
                reason = f"{job.class_name} was never picked up by a worker."
            job.mark_failed(reason, now)
            job.save()
            failed += 1
            if job.cycle_id:
                cycle = SWApexJob.objects.select_for_update().get(pk=job.cycle_id)
                if cycle.is_in_progress:
                    cycle.abort(reason, now)
                    cycle.save()
                # A step running side by side with it ends with the cycle (its heartbeat
                # notices and stops it); the cycle's queued steps never start.
                for other in (
                    AsyncJob.objects.active()
                    .filter(cycle_id=job.cycle_id)
                    .exclude(pk=job.pk)
                    .select_for_update()
                ):
                    other.mark_aborted(f"The cycle was aborted: {reason}", now)
                    other.save()
            log.warning("Watcher: %s", reason)
    return failed


# A Runner that fired this recently may still be starting its cycle (its task waits for a
# worker): no restart meanwhile. Past it, the task was lost (a killed worker had taken it).
RUNNER_START_GRACE = timedelta(minutes=2)


def restart_if_needed(now=None):
    """Start a cycle when none is in progress and no Runner is pending.

    The first time after the sync was turned on this is the sync's start (trigger Watcher);
    later it means the sync failed to re-enqueue itself (trigger Restart): a cycle closed as
    stale, a failed Enqueuer, a Runner whose task was lost.
    """
    now = now or timezone.now()
    state = SyncState.load()
    first = not SWApexJob.objects.filter(generation=state.generation).exists()
    fired = (
        ScheduledJob.objects.runner()
        .filter(repeats=0, next_run__gt=now - RUNNER_START_GRACE)
        .values_list("next_run", flat=True)
        .first()
    )
    if not first and fired and not SWApexJob.objects.filter(created_at__gte=fired).exists():
        return None  # the Runner's cycle has not started yet
    cycle = cycle_engine.start_cycle(
        Trigger.WATCHER if first else Trigger.RESTART,
        generation=state.generation,
        require_no_runner=True,
    )
    return cycle.name if cycle else None


def send_notifications(now):
    """One e-mail when a rule's threshold passes without a Completed cycle, one on recovery.

    Only a Completed cycle counts (a Partially_Completed one left records behind). The clock
    starts at the last Completed cycle's end, or when the sync was turned on if that is later
    (the rule is about time the sync is on). Recovery is a Completed cycle that ended after
    the alert: turning the sync on or restarting it is not one.
    """
    state = SyncState.load()
    last_done = (
        SWApexJob.objects.filter(status=CycleStatus.COMPLETED, end_time__isnull=False)
        .order_by("-end_time")
        .values_list("end_time", flat=True)
        .first()
    )
    reference = max(filter(None, [last_done, state.since]), default=now)
    if last_done is None:
        since_text = f"the sync was turned on at {reference:%Y-%m-%d %H:%M %Z}"
    elif reference == last_done:
        since_text = f"{last_done:%Y-%m-%d %H:%M %Z}"
    else:
        since_text = (
            f"{last_done:%Y-%m-%d %H:%M %Z} (the sync was last turned on at "
            f"{reference:%Y-%m-%d %H:%M %Z})"
        )
    sent = []
    for rule in NotificationSetting.objects.filter(active=True).prefetch_related("users"):
        if rule.alerted_at is not None:
            if last_done is not None and last_done > rule.alerted_at:
                _mail(
                    rule,
                    "SW Studio: synchronization recovered",
                    f"The SalesWings sync completed a cycle at {last_done:%Y-%m-%d %H:%M %Z} "
                    f"(rule “{rule.name}”).",
                )
                rule.alerted_at = None
                rule.save(update_fields=["alerted_at"])
                sent.append(("recovery", rule.pk))
            continue
        if now - reference > timedelta(minutes=rule.threshold_minutes):
            _mail(
                rule,
                f"SW Studio: no completed synchronization for {rule.threshold_minutes} minutes",
                f"No SalesWings sync cycle has Completed since {since_text} (rule "
                f"“{rule.name}”). Check the SW Studio Setup page and the SW Apex Jobs.",
            )
            rule.alerted_at = now
            rule.save(update_fields=["alerted_at"])
            sent.append(("alert", rule.pk))
    return sent


def _mail(rule, subject, body):
    recipients = rule.recipients()
    if recipients:
        send_mail(subject, body, None, recipients, fail_silently=False)
