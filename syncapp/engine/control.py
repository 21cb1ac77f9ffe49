"""The control plane: turn the sync on, off, restart it, and report its status.

The API, the admin's Setup page, management commands and jobs all call these functions.
Each transition runs in one transaction holding the sync state row lock.
"""

import datetime
import json
from types import SimpleNamespace

from django.db import connection, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from syncapp.engine import scheduling
from syncapp.models import AsyncJob, SWApexJob, SyncState
from syncapp.models.schedules import ScheduledJob
from syncapp.models.statuses import ACTIVE_JOB_STATUSES

MAX_JOBS_LISTED = 50


class SyncRunning(Exception):  # noqa: N818
    """Restart refused: a cycle is in progress and `force` was not given."""

    def __init__(self, cycle):
        self.cycle = cycle
        # Each caller says how to force it (the API's force=true, the command's --force).
        super().__init__(f"A synchronization cycle ({cycle.name}, {cycle.status}) is running.")


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
    """Off, then on. Refused while a cycle is in progress, unless forced. The running user
    stays whoever it was, unless `user` is given (it becomes the running user)."""
    with transaction.atomic():
        state = SyncState.lock()
        running = SWApexJob.objects.in_progress().order_by("-id").first()
        if running and not force:
            raise SyncRunning(running)
        if user is None:
            user = state.running_user
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
    """What /Sync/v1/GetSyncStatus serves. A constant number of queries whatever the history.

    Monitoring polls this, so it reads with four precompiled SQL statements on a plain cursor
    (Django's query compilation cost more than the queries themselves: docs/benchmarks.md).
    The statements are built from the models' metadata; tests/engine/test_control.py checks
    the answer against the models.
    """
    enabled, jobs, count, schedules, cycle = _StatusReader.for_connection(connection).read(
        connection
    )
    return {
        "syncEnabled": enabled,
        "asyncQueued": {
            "count": count,
            "jobs": [
                {
                    "id": pk,
                    "apexClass": class_name,
                    "jobType": job_type,
                    "status": job_status,
                    "createdDate": _iso(created),
                }
                for pk, class_name, job_type, job_status, created in jobs
            ],
        }
        if jobs
        else {},
        "scheduledRunner": _schedule_json(schedules.get(scheduling.RUNNER_NAME)),
        "scheduledWatcher": _schedule_json(schedules.get(scheduling.WATCHER_NAME)),
        "lastExecution": cycle_json(cycle),
    }


class _StatusReader:
    """The status's reads as SQL text built once per database vendor from the models."""

    _by_vendor = {}

    @classmethod
    def for_connection(cls, conn):
        reader = cls._by_vendor.get(conn.vendor)
        if reader is None:
            reader = cls._by_vendor[conn.vendor] = cls(conn)
        return reader

    def __init__(self, conn):
        q = conn.ops.quote_name

        def table(model):
            return q(model._meta.db_table)

        def cols(model, *names):
            return ", ".join(q(model._meta.get_field(n).column) for n in names)

        from syncapp.models.schedules import ScheduleStats

        active = ", ".join(["%s"] * len(ACTIVE_JOB_STATUSES))
        self.statuses = [str(s) for s in ACTIVE_JOB_STATUSES]
        self.state_sql = (
            f"SELECT {cols(SyncState, 'enabled')} FROM {table(SyncState)} "
            f"WHERE {cols(SyncState, 'id')} = 1"
        )
        self.jobs_sql = (
            f"SELECT {cols(AsyncJob, 'id', 'class_name', 'job_type', 'status', 'created_date')} "
            f"FROM {table(AsyncJob)} WHERE {cols(AsyncJob, 'status')} IN ({active}) "
            f"ORDER BY {cols(AsyncJob, 'created_date')}, {cols(AsyncJob, 'id')} "
            f"LIMIT {MAX_JOBS_LISTED}"
        )
        self.count_sql = (
            f"SELECT COUNT(*) FROM {table(AsyncJob)} WHERE {cols(AsyncJob, 'status')} IN ({active})"
        )
        sched, stats = table(ScheduledJob), table(ScheduleStats)
        self.schedules_sql = (
            f"SELECT {sched}.{q('id')}, {sched}.{q('name')}, {sched}.{q('repeats')}, "
            f"{sched}.{q('next_run')}, {stats}.{cols(ScheduleStats, 'times_triggered')}, "
            f"{stats}.{cols(ScheduleStats, 'previous_fire_time')} "
            f"FROM {sched} LEFT OUTER JOIN {stats} "
            f"ON {stats}.{cols(ScheduleStats, 'schedule')} = {sched}.{q('id')} "
            f"WHERE {sched}.{q('name')} IN (%s, %s) AND {sched}.{q('repeats')} <> 0 "
            f"ORDER BY {sched}.{q('next_run')}"
        )
        self.cycle_sql = (
            "SELECT "
            + cols(
                SWApexJob,
                "id",
                "name",
                "status",
                "trigger",
                "full_sync",
                "start_time",
                "end_time",
                "note",
                "steps",
            )
            + f" FROM {table(SWApexJob)} ORDER BY {cols(SWApexJob, 'id')} DESC LIMIT 1"
        )

    def read(self, conn):
        with conn.cursor() as cursor:
            cursor.execute(self.state_sql)
            row = cursor.fetchone()
            enabled = bool(row[0]) if row else False
            cursor.execute(self.jobs_sql, self.statuses)
            jobs = [(*row[:4], _datetime(row[4])) for row in cursor.fetchall()]
            count = len(jobs)
            if count >= MAX_JOBS_LISTED:
                cursor.execute(self.count_sql, self.statuses)
                count = cursor.fetchone()[0]
            cursor.execute(self.schedules_sql, [scheduling.WATCHER_NAME, scheduling.RUNNER_NAME])
            schedules = {
                name: SimpleNamespace(
                    pk=pk,
                    name=name,
                    state="WAITING",  # repeats <> 0: it has not fired for the last time
                    next_fire_time=_datetime(next_run),
                    previous_fire_time=_datetime(previous),
                    times_triggered=fired or 0,
                )
                for pk, name, _repeats, next_run, fired, previous in cursor.fetchall()
            }
            cursor.execute(self.cycle_sql)
            row = cursor.fetchone()
        cycle = None
        if row:
            pk, name, cycle_status, trigger, full_sync, start, end, note, steps = row
            cycle = SimpleNamespace(
                pk=pk,
                name=name,
                status=cycle_status,
                trigger=trigger,
                full_sync=bool(full_sync),
                start_time=_datetime(start),
                end_time=_datetime(end),
                note=note,
                steps=json.loads(steps) if isinstance(steps, (str, bytes)) else steps,
            )
        return enabled, jobs, count, schedules, cycle


def _datetime(value):
    """A datetime column's value, aware. SQLite keeps naive UTC (as text, or parsed by the
    converters Django registers); PostgreSQL answers aware."""
    if isinstance(value, str):
        value = parse_datetime(value)
    if value is not None and timezone.is_naive(value):
        value = value.replace(tzinfo=datetime.UTC)
    return value


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
            f"Nothing was deleted: a synchronization cycle ({running.name}) is running; try "
            "again when it is over."
        )
    if StudioOptions.load().activity_sync:
        raise DataDeletionRefused(
            "Nothing was deleted: SW Activity Data is on. Switch it off first, or the next "
            "cycle creates them again."
        )
    from syncapp.salesforce import SalesforceError

    sf = clients.salesforce()
    deleted = 0
    failures = []
    try:
        ids = [r["Id"] for r in sf.query("SELECT Id FROM SW_Activity__c")]
        for chunk in chunked(ids, 200):
            for result in sf.delete(chunk):
                if result.success:
                    deleted += 1
                else:
                    failures.append(f"{result.id}: {'; '.join(result.errors)}")
    except SalesforceError as exc:
        # The org refused or could not be reached (its limit, an outage): what went is counted,
        # the local activities stay until the org's are gone, and deleting again goes on.
        raise DataDeletionRefused(
            f"{deleted} records deleted in Salesforce, then it refused: {exc}. Nothing else was "
            "deleted; delete again to go on."
        ) from exc
    deleted += Activity.objects.all().delete()[0]
    if failures:
        raise DataDeletionRefused(
            f"{deleted} records deleted; {len(failures)} could not be: {'; '.join(failures[:5])}"
        )
    return deleted
