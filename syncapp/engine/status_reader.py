"""The sync's status as read from the database: the state, the active jobs, the Watcher and
Runner schedules and the newest cycle. Plain records; the API turns them into its JSON.

Monitoring polls the status, so it is read with four SQL statements on a plain cursor:
compiling the equivalent ORM queries costs more than running them. The statements are built
once per database vendor from the models' metadata; tests/api/test_status.py checks the
records against the models.
"""

import datetime
import json
from dataclasses import dataclass

from django.db import connection
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from syncapp.engine import liveness
from syncapp.models import AsyncJob, SWApexJob, SyncState
from syncapp.models.schedules import (
    LIVENESS_NAME,
    RUNNER_NAME,
    WATCHER_NAME,
    ScheduledJob,
    ScheduleStats,
)
from syncapp.models.statuses import ACTIVE_JOB_STATUSES, JobStatus

MAX_JOBS_LISTED = 50


@dataclass(slots=True)
class QueuedJob:
    """An async job Holding, Queued, Preparing or Processing."""

    id: int
    class_name: str
    job_type: str
    status: str
    created_date: datetime.datetime | None
    last_heartbeat: datetime.datetime | None = None


@dataclass(slots=True)
class PendingSchedule:
    """The Watcher or the Runner, while it has firings left."""

    id: int
    name: str
    state: str
    next_fire_time: datetime.datetime | None
    previous_fire_time: datetime.datetime | None
    times_triggered: int


@dataclass(slots=True)
class LastCycle:
    """The newest SW Apex Job; `steps` as stored (a list of dicts)."""

    id: int
    name: str
    status: str
    trigger: str
    full_sync: bool
    start_time: datetime.datetime | None
    end_time: datetime.datetime | None
    note: str
    steps: list
    aborted_at: datetime.datetime | None = None
    aborted_by: str = ""


@dataclass(slots=True)
class Status:
    enabled: bool
    queued_count: int  # every active job, beyond the listed ones too
    queued_jobs: list[QueuedJob]  # the oldest, at most MAX_JOBS_LISTED
    runner: PendingSchedule | None
    watcher: PendingSchedule | None
    last_cycle: LastCycle | None
    # When a worker last answered, if none has for too long (`engine/liveness.py`).
    worker_silent_since: datetime.datetime | None = None


def read():
    """The status, in a constant number of queries whatever the history."""
    return _Statements.for_connection(connection).read(connection)


class _Statements:
    """The status's reads as SQL text, built once per database vendor from the models."""

    _by_vendor = {}

    @classmethod
    def for_connection(cls, conn):
        statements = cls._by_vendor.get(conn.vendor)
        if statements is None:
            statements = cls._by_vendor[conn.vendor] = cls(conn)
        return statements

    def __init__(self, conn):
        q = conn.ops.quote_name

        def table(model):
            return q(model._meta.db_table)

        def cols(model, *names):
            return ", ".join(q(model._meta.get_field(n).column) for n in names)

        active = ", ".join(["%s"] * len(ACTIVE_JOB_STATUSES))
        self.statuses = [str(s) for s in ACTIVE_JOB_STATUSES]
        self.state_sql = (
            f"SELECT {cols(SyncState, 'enabled', 'since')} FROM {table(SyncState)} "
            f"WHERE {cols(SyncState, 'id')} = 1"
        )
        self.jobs_sql = (
            "SELECT "
            f"{cols(AsyncJob, 'id', 'class_name', 'job_type', 'status', 'created_date')}, "
            f"{cols(AsyncJob, 'last_heartbeat')} FROM {table(AsyncJob)} "
            f"WHERE {cols(AsyncJob, 'status')} IN ({active}) "
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
            f"WHERE {sched}.{q('name')} IN (%s, %s, %s) AND {sched}.{q('repeats')} <> 0 "
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
                "aborted_at",
                "aborted_by",
            )
            + f" FROM {table(SWApexJob)} ORDER BY {cols(SWApexJob, 'id')} DESC LIMIT 1"
        )

    def read(self, conn):
        with conn.cursor() as cursor:
            cursor.execute(self.state_sql)
            row = cursor.fetchone()
            enabled = bool(row[0]) if row else False
            since = _datetime(row[1]) if row else None
            cursor.execute(self.jobs_sql, self.statuses)
            jobs = [
                QueuedJob(*row[:4], _datetime(row[4]), _datetime(row[5]))
                for row in cursor.fetchall()
            ]
            count = len(jobs)
            if count >= MAX_JOBS_LISTED:
                cursor.execute(self.count_sql, self.statuses)
                count = cursor.fetchone()[0]
            cursor.execute(self.schedules_sql, [WATCHER_NAME, RUNNER_NAME, LIVENESS_NAME])
            schedules = {
                name: PendingSchedule(
                    id=pk,
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
            pk, name, cycle_status, trigger, full_sync, start, end, note, steps, *aborted = row
            cycle = LastCycle(
                id=pk,
                name=name,
                status=cycle_status,
                trigger=trigger,
                full_sync=bool(full_sync),
                start_time=_datetime(start),
                end_time=_datetime(end),
                note=note,
                steps=json.loads(steps) if isinstance(steps, (str, bytes)) else steps,
                aborted_at=_datetime(aborted[0]),
                aborted_by=aborted[1],
            )
        watcher, check = schedules.get(WATCHER_NAME), schedules.get(LIVENESS_NAME)
        silent = liveness.silent_since(
            enabled=enabled,
            heartbeats=[j.last_heartbeat for j in jobs if j.status == JobStatus.PROCESSING],
            answers=liveness.signs_of_life(since=since, schedules=(watcher, check), cycle=cycle),
        )
        return Status(
            enabled=enabled,
            queued_count=count,
            queued_jobs=jobs,
            runner=schedules.get(RUNNER_NAME),
            watcher=watcher,
            last_cycle=cycle,
            worker_silent_since=silent,
        )


def _datetime(value):
    """A datetime column's value, aware. SQLite keeps naive UTC (as text, or parsed by the
    converters Django registers); PostgreSQL answers aware."""
    if isinstance(value, str):
        value = parse_datetime(value)
    if value is not None and timezone.is_naive(value):
        value = value.replace(tzinfo=datetime.UTC)
    return value
