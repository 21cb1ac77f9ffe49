"""`/metrics`: the sync as Prometheus sees it, read from the database on every scrape.

Everything comes from the run records, the async jobs, the sync state and Studio Options, so
any web process (on any stack: SQLite or PostgreSQL, ORM broker or Redis) answers the same,
in the same six queries whatever the history. Nothing is kept in the process, and the
client library's process and platform collectors are left out for the same reason: they
would differ from one web process to the next.

The per-step figures are those of the newest *finished* cycle, which `swstudio_last_cycle_info`
names: a cycle in progress would show half-counted figures. They are gauges (a figure of one
cycle), not counters.
"""

import json

from django.db import connection, transaction
from django.db.models import Count, Max, Q
from django.utils import timezone
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from syncapp.models import AsyncJob, OrgStatus, StudioOptions, SWApexJob, SyncState
from syncapp.models.statuses import ACTIVE_JOB_STATUSES, CycleStatus, JobStatus

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
SERVICES = ("salesforce", "saleswings")
FINISHED = (CycleStatus.COMPLETED, CycleStatus.PARTIALLY_COMPLETED, CycleStatus.FAILED)
# A query that takes longer than this on PostgreSQL is cancelled: a scrape answers 503
# rather than hanging on a database that accepts connections but does not answer.
STATEMENT_TIMEOUT_MS = 2000


def render():
    """The text exposition of every metric (bytes)."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(SyncCollector(read()))
    return generate_latest(registry)


def read():
    """The database's figures. On PostgreSQL in one transaction: one consistent snapshot, and
    a statement timeout. Not on SQLite, where a transaction takes the write lock
    (`transaction_mode` IMMEDIATE) and a scrape would queue behind the workers."""
    if connection.vendor != "postgresql":
        return _read()
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(f"SET LOCAL statement_timeout = {STATEMENT_TIMEOUT_MS}")
        return _read()


def _read():
    now = timezone.now()
    enabled = SyncState.objects.filter(pk=1).values_list("enabled", flat=True).first()
    options = (
        StudioOptions.objects.filter(pk=1).values("sync_gap_minutes", "api_call_reserve").first()
    ) or {
        "sync_gap_minutes": StudioOptions._meta.get_field("sync_gap_minutes").default,
        "api_call_reserve": StudioOptions._meta.get_field("api_call_reserve").default,
    }
    # The org's daily API usage as the last cycle or check saw it (never asked live).
    usage = (
        OrgStatus.objects.filter(pk=1)
        .values("api_calls_used", "api_calls_limit", "api_usage_at")
        .first()
    )
    jobs = AsyncJob.objects.aggregate(
        youngest_heartbeat=Max("last_heartbeat"),
        **{str(s): Count("id", filter=Q(status=s)) for s in ACTIVE_JOB_STATUSES},
    )
    running = list(
        AsyncJob.objects.filter(status=JobStatus.PROCESSING)
        .order_by("id")
        .values("id", "step", "class_name", "last_heartbeat", "cycle__name")
    )
    last_completed_end = SWApexJob.objects.filter(status=CycleStatus.COMPLETED).aggregate(
        end=Max("end_time")
    )["end"]
    # The newest finished cycle of each final status: its duration, and the newest of them
    # all is the one whose steps the per-step figures describe.
    newest_ids = (
        SWApexJob.objects.filter(status__in=FINISHED, end_time__isnull=False)
        .order_by()
        .values("status")
        .annotate(newest=Max("id"))
        .values("newest")
    )
    finished = list(
        SWApexJob.objects.filter(id__in=newest_ids)
        .order_by("-id")
        .values("id", "name", "status", "trigger", "start_time", "end_time", "steps")
    )
    return {
        "now": now,
        "enabled": bool(enabled),
        "options": options,
        "usage": usage or {},
        "jobs": jobs,
        "running": running,
        "last_completed_end": last_completed_end,
        "finished": finished,
    }


def _seconds(delta):
    return delta.total_seconds()


def _timestamp(value):
    return value.timestamp()


def _steps(value):
    # SQLite's JSON arrives parsed by the field; a raw value would be text.
    return json.loads(value) if isinstance(value, str | bytes) else (value or [])


class SyncCollector(Collector):
    """Turns the figures `read()` returned into metric families."""

    def __init__(self, figures):
        self.f = figures

    def collect(self):
        f = self.f
        now = f["now"]
        yield GaugeMetricFamily(
            "swstudio_sync_enabled", "1 when the sync is on, 0 when off.", value=int(f["enabled"])
        )
        yield GaugeMetricFamily(
            "swstudio_sync_gap_seconds",
            "Studio Options' Sync Gap: the pause between two cycles.",
            value=f["options"]["sync_gap_minutes"] * 60,
        )
        yield GaugeMetricFamily(
            "swstudio_salesforce_daily_api_call_reserve",
            "Studio Options' Daily API call reserve: a cycle does not start below it.",
            value=f["options"]["api_call_reserve"],
        )
        usage = f["usage"]
        if usage.get("api_calls_used") is not None and usage.get("api_calls_limit") is not None:
            yield GaugeMetricFamily(
                "swstudio_salesforce_daily_api_calls_left",
                "The org's daily API calls left, as the last cycle or check saw them.",
                value=max(usage["api_calls_limit"] - usage["api_calls_used"], 0),
            )
            if usage.get("api_usage_at") is not None:
                yield GaugeMetricFamily(
                    "swstudio_salesforce_daily_api_usage_timestamp_seconds",
                    "When the org's daily API usage was last seen (Unix time).",
                    value=_timestamp(usage["api_usage_at"]),
                )
        if f["last_completed_end"] is not None:
            yield GaugeMetricFamily(
                "swstudio_last_completed_cycle_end_timestamp_seconds",
                "When the newest Completed cycle ended (Unix time).",
                value=_timestamp(f["last_completed_end"]),
            )

        duration = GaugeMetricFamily(
            "swstudio_cycle_duration_seconds",
            "Duration of the newest finished cycle of each final status.",
            labels=["status"],
        )
        for cycle in f["finished"]:
            if cycle["start_time"] and cycle["end_time"]:
                duration.add_metric(
                    [cycle["status"]], _seconds(cycle["end_time"] - cycle["start_time"])
                )
        yield duration

        yield from self._last_cycle(f["finished"][0] if f["finished"] else None)

        jobs = GaugeMetricFamily(
            "swstudio_async_jobs",
            "Async jobs (the steps' Apex Jobs) waiting or running, by status.",
            labels=["status"],
        )
        for status in ACTIVE_JOB_STATUSES:
            jobs.add_metric([str(status)], f["jobs"][str(status)])
        yield jobs

        beat = GaugeMetricFamily(
            "swstudio_step_heartbeat_age_seconds",
            "Seconds since each running step's job last wrote its heartbeat.",
            labels=["cycle", "step"],
        )
        for job in f["running"]:
            if job["last_heartbeat"] is not None:
                beat.add_metric(
                    [job["cycle__name"] or "", job["step"] or job["class_name"]],
                    max(_seconds(now - job["last_heartbeat"]), 0.0),
                )
        yield beat
        youngest = f["jobs"]["youngest_heartbeat"]
        if youngest is not None:
            yield GaugeMetricFamily(
                "swstudio_worker_heartbeat_age_seconds",
                "Seconds since the youngest heartbeat any worker wrote for any job.",
                value=max(_seconds(now - youngest), 0.0),
            )

    def _last_cycle(self, cycle):
        info = GaugeMetricFamily(
            "swstudio_last_cycle_info",
            "The newest finished cycle, whose figures the swstudio_last_cycle_* metrics give.",
            labels=["cycle", "status", "trigger"],
        )
        families = {
            key: GaugeMetricFamily(
                f"swstudio_last_cycle_records_{key}",
                f"Records {key} by each step of the newest finished cycle.",
                labels=["step"],
            )
            for key in ("examined", "modified", "failed", "skipped")
        }
        calls = GaugeMetricFamily(
            "swstudio_last_cycle_api_calls",
            "API calls each step of the newest finished cycle made, by service (retries "
            "included, logins not).",
            labels=["step", "service"],
        )
        transient = GaugeMetricFamily(
            "swstudio_last_cycle_transient_errors",
            "Transient errors each step of the newest finished cycle met and retried, by code.",
            labels=["step", "code"],
        )
        if cycle is not None:
            info.add_metric([cycle["name"], cycle["status"], cycle["trigger"]], 1)
            for entry in _steps(cycle["steps"]):
                step = entry["name"]
                for key in ("examined", "modified", "failed", "skipped"):
                    families[key].add_metric([step], entry.get(key, 0))
                made = entry.get("api_calls") or {}
                for service in SERVICES:
                    calls.add_metric([step, service], made.get(service, 0))
                for code, n in sorted((entry.get("transient_errors") or {}).items()):
                    transient.add_metric([step, code], n)
        yield info
        yield from families.values()
        yield calls
        yield transient
