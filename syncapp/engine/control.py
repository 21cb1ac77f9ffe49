"""The control plane: turn the sync on, off, restart it, and report its status.

The API, the admin's Setup page, management commands and jobs all call these functions.
Each transition runs in one transaction holding the sync state row lock.
"""

from django.db import transaction
from django.utils import timezone

from syncapp.engine import scheduling
from syncapp.models import AsyncJob, SWApexJob, SyncState
from syncapp.models.schedules import ScheduledJob

MAX_JOBS_LISTED = 50


class SyncRunning(Exception):  # noqa: N818
    """Restart refused: a cycle is in progress and `force` was not given."""

    def __init__(self, cycle):
        self.cycle = cycle
        super().__init__(
            f"A synchronization cycle ({cycle.name}, {cycle.status}) is running. "
            "Use force to restart anyway."
        )


def turn_on(user=None):
    """Turn the sync on: a new generation and the Watcher. Returns False if it was on."""
    with transaction.atomic():
        state = SyncState.lock()
        if state.enabled:
            return False
        _switch_on(state, user)
    return True


def turn_off(user=None, reason="The sync was turned off."):
    """Turn the sync off: no schedule left, every job of the sync aborted or ignored.

    Returns False if it was already off.
    """
    with transaction.atomic():
        state = SyncState.lock()
        if not state.enabled:
            return False
        _switch_off(state, reason)
    return True


def restart(user=None, force=False):
    """Off, then on. Refused while a cycle is in progress, unless forced."""
    with transaction.atomic():
        state = SyncState.lock()
        running = SWApexJob.objects.in_progress().order_by("-id").first()
        if running and not force:
            raise SyncRunning(running)
        if state.enabled:
            _switch_off(state, "The sync was restarted.")
        _switch_on(state, user)


def _switch_on(state, user):
    state.enabled = True
    state.generation += 1
    state.running_user = user if user is not None and user.pk else None
    state.since = timezone.now()
    state.save()
    scheduling.create_watcher(state.generation, state.since)


def _switch_off(state, reason):
    now = timezone.now()
    state.enabled = False
    # Jobs carry the generation they were born in; a job still in a broker (Redis queues
    # cannot be edited) sees the new generation when it starts and exits without work.
    state.generation += 1
    state.since = now
    state.save()
    scheduling.delete_all()
    for job in AsyncJob.objects.active().select_for_update():
        job.mark_aborted(reason, now)
        job.save(update_fields=["status", "extended_status", "completed_date"])
    for cycle in SWApexJob.objects.in_progress().select_for_update():
        cycle.abort(reason, now)
        cycle.save()


# --- status ---------------------------------------------------------------------------------


def _iso(value):
    return value.isoformat() if value else None


def _schedule_json(schedule):
    if schedule is None:
        return {}
    return {
        "id": schedule.pk,
        "name": schedule.name,
        "state": schedule.state,
        "nextFireTime": _iso(schedule.next_fire_time),
        "previousFireTime": _iso(schedule.previous_fire_time),
        "timesTriggered": schedule.times_triggered,
    }


def cycle_json(cycle):
    if cycle is None:
        return {}
    return {
        "id": cycle.pk,
        "name": cycle.name,
        "status": cycle.status,
        "trigger": cycle.trigger,
        "fullSync": cycle.full_sync,
        "startTime": _iso(cycle.start_time),
        "endTime": _iso(cycle.end_time),
        "note": cycle.note,
        "steps": [
            {
                "name": s["name"],
                "apexClass": s["class"],
                "status": s["status"],
                "startTime": s["start"],
                "endTime": s["end"],
                "batchesTotal": s["batches_total"],
                "batchesFailed": s["batches_failed"],
                "recordsExamined": s["examined"],
                "recordsModified": s["modified"],
                "recordsFailed": s["failed"],
                "errors": s["errors"],
            }
            for s in cycle.steps
        ],
    }


def status():
    """What /Sync/v1/GetSyncStatus serves. A constant number of queries whatever the history."""
    state = SyncState.load()
    active = AsyncJob.objects.active().order_by("created_date", "id")
    jobs = list(active[:MAX_JOBS_LISTED])
    count = len(jobs) if len(jobs) < MAX_JOBS_LISTED else active.count()
    schedules = {
        s.name: s
        for s in ScheduledJob.objects.sw_studio().pending().with_stats().order_by("next_run")
    }
    return {
        "syncEnabled": state.enabled,
        "asyncQueued": {
            "count": count,
            "jobs": [
                {
                    "id": j.pk,
                    "apexClass": j.class_name,
                    "jobType": j.job_type,
                    "status": j.status,
                    "createdDate": _iso(j.created_date),
                }
                for j in jobs
            ],
        }
        if jobs
        else {},
        "scheduledRunner": _schedule_json(schedules.get(scheduling.RUNNER_NAME)),
        "scheduledWatcher": _schedule_json(schedules.get(scheduling.WATCHER_NAME)),
        "lastExecution": cycle_json(SWApexJob.objects.newest()),
    }


# --- the Setup page's Data section ------------------------------------------------------------


class DataDeletionRefused(Exception):  # noqa: N818
    """A data set cannot be deleted now (a cycle runs, or its option is still on)."""


DATASETS = {
    "activities": "SW Activity records (SW_Activity__c) and the local activities",
}


def delete_data(dataset):
    """Delete an optional data set the sync created while an option was on.

    Returns how many records went (in the org and locally). Refused while a cycle runs (it
    could be writing the same records) and while the option that creates the data is on.
    """
    from syncapp.engine import clients
    from syncapp.engine.steps.common import chunked
    from syncapp.models import Activity, StudioOptions

    if dataset not in DATASETS:
        raise ValueError(f"Unknown data set {dataset!r}; known: {', '.join(sorted(DATASETS))}.")
    running = SWApexJob.objects.in_progress().order_by("-id").first()
    if running:
        raise DataDeletionRefused(
            f"A synchronization cycle ({running.name}) is running; try again when it is over."
        )
    if StudioOptions.load().activity_sync:
        raise DataDeletionRefused(
            "SW Activity Data is on: switch it off first, or the next cycle creates them again."
        )
    sf = clients.salesforce()
    deleted = 0
    ids = [r["Id"] for r in sf.query("SELECT Id FROM SW_Activity__c")]
    failures = []
    for chunk in chunked(ids, 200):
        for result in sf.delete(chunk):
            if result.success:
                deleted += 1
            else:
                failures.append(f"{result.id}: {'; '.join(result.errors)}")
    deleted += Activity.objects.all().delete()[0]
    if failures:
        raise DataDeletionRefused(
            f"{deleted} records deleted, {len(failures)} could not be: {'; '.join(failures[:5])}"
        )
    return deleted
