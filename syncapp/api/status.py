"""The status JSON: what GetSyncStatus serves and the `syncstatus` command prints.

Built by hand from the status reader's records: DRF serializers would cost more than the
reads. The serializers in `serializers.py` document this shape for the OpenAPI schema;
tests/api/test_schema.py checks real responses against it, so the two cannot drift apart.
Each part is `{}` when there is nothing; keys keep the order docs/api.md shows.
"""

from syncapp.engine import status_reader
from syncapp.engine.status_reader import LastCycle, PendingSchedule, QueuedJob, Status
from syncapp.models.step_entries import api_calls_total
from syncapp.redaction import redact, redact_steps


def sync_status(*, redacted=False):
    """The status JSON, read now; `redacted` for read-only callers (`syncapp.redaction`)."""
    return status_json(status_reader.read(), redacted=redacted)


def status_json(status: Status, *, redacted=False):
    return {
        "syncEnabled": status.enabled,
        "asyncQueued": {
            "count": status.queued_count,
            "jobs": [job_json(job) for job in status.queued_jobs],
        }
        if status.queued_jobs
        else {},
        "scheduledRunner": schedule_json(status.runner),
        "scheduledWatcher": schedule_json(status.watcher),
        "lastExecution": cycle_json(status.last_cycle, redacted=redacted),
        "workerSilentSince": _iso(status.worker_silent_since),
    }


# The builders below take the reader's records, or the models they mirror (AsyncJob,
# ScheduledJob, SWApexJob): the attribute names are the same.


def job_json(job: QueuedJob):
    return {
        "id": job.id,
        "apexClass": job.class_name,
        "jobType": job.job_type,
        "status": job.status,
        "createdDate": _iso(job.created_date),
    }


def schedule_json(schedule: PendingSchedule | None):
    if schedule is None:
        return {}
    return {
        "id": schedule.id,
        "name": schedule.name,
        "state": schedule.state,
        "nextFireTime": _iso(schedule.next_fire_time),
        "previousFireTime": _iso(schedule.previous_fire_time),
        "timesTriggered": schedule.times_triggered,
    }


def cycle_json(cycle: LastCycle | None, *, redacted=False):
    if cycle is None:
        return {}
    note, steps = cycle.note, cycle.steps
    if redacted:
        note, steps = redact(note), redact_steps(steps)
    return {
        "id": cycle.id,
        "name": cycle.name,
        "status": cycle.status,
        "trigger": cycle.trigger,
        "fullSync": cycle.full_sync,
        "startTime": _iso(cycle.start_time),
        "endTime": _iso(cycle.end_time),
        "note": note,
        "abortedAt": _iso(cycle.aborted_at),
        "abortedBy": cycle.aborted_by,
        "apiCalls": api_calls_total(cycle.steps),
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
                # Entries written before these counters existed have neither.
                "recordsSkipped": s.get("skipped", 0),
                "apiCalls": api_calls_total([s]),
                "errors": s["errors"],
            }
            for s in steps
        ],
    }


def _iso(value):
    return value.isoformat() if value else None
