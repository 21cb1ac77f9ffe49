"""What the Setup page shows, computed once per request in a constant number of queries.

Kept apart from the views so the page, its JSON progress feed and the index card agree.
"""

from dataclasses import dataclass

from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

from syncapp import roles
from syncapp.engine import liveness
from syncapp.models import AsyncJob, StudioOptions, SWApexJob, SyncState
from syncapp.models.schedules import (
    LIVENESS_NAME,
    RUNNER_NAME,
    SW_STUDIO_SCHEDULE_PREFIX,
    WATCHER_NAME,
    ScheduledJob,
)
from syncapp.models.statuses import FINAL_STEP_STATUSES, CycleStatus, JobStatus, StepStatus

HISTORY_SIZE = 25


def format_datetime(value):
    """With seconds and the time zone: 2026-12-07 09:14:02 UTC."""
    if value is None:
        return ""
    return date_format(timezone.localtime(value), "Y-m-d H:i:s T")


def format_duration(delta):
    """1 h 05 min, 2 min 03 s, 4.2 s: short enough for a table cell."""
    if delta is None:
        return ""
    seconds = delta.total_seconds()
    if seconds < 10:
        return f"{seconds:.1f} s"
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes:02d} min"
    if minutes:
        return f"{minutes} min {secs:02d} s"
    return f"{secs} s"


def state():
    """The sync state row with its running user (one query)."""
    found = SyncState.objects.select_related("running_user").filter(pk=1).first()
    return found or SyncState.load()


def running_user_info(sync_state):
    user = sync_state.running_user
    if user is None:
        return None
    problems = []
    if not user.is_active:
        problems.append("the account is inactive")
    elif not roles.is_administrator(user):
        problems.append(f"they no longer hold the {roles.ADMINISTRATOR} role")
    return {"user": user, "qualifies": not problems, "problems": problems}


def schedules():
    """The Watcher and the Runner (pending or not), and the liveness check, by role."""
    found = {
        s.name: s
        for s in ScheduledJob.objects.filter(
            Q(name__startswith=SW_STUDIO_SCHEDULE_PREFIX) | Q(name=LIVENESS_NAME)
        ).with_stats()
    }
    return {
        "watcher": found.get(WATCHER_NAME),
        "runner": found.get(RUNNER_NAME),
        "liveness": found.get(LIVENESS_NAME),
    }


def schedule_json(schedule):
    if schedule is None:
        return None
    return {
        "name": schedule.name,
        "state": schedule.state,
        "nextFireTime": schedule.next_fire_time.isoformat() if schedule.next_fire_time else None,
        "nextFireTimeDisplay": format_datetime(schedule.next_fire_time),
        "previousFireTimeDisplay": format_datetime(schedule.previous_fire_time),
        "timesTriggered": schedule.times_triggered,
    }


def history():
    """The last cycles, newest first (one query)."""
    return list(SWApexJob.objects.order_by("-id")[:HISTORY_SIZE])


def run_record_url(cycle):
    return reverse("admin:syncapp_swapexjob_change", args=[cycle.pk])


def step_totals(cycle):
    """Records examined / modified / failed / skipped by the steps that do the sync's work."""
    counted = [s for s in cycle.steps if s.get("counts_toward_status", True)]
    keys = ("examined", "modified", "failed", "skipped")
    return {k: sum(s.get(k, 0) for s in counted) for k in keys}


def format_api_calls(calls):
    """{"salesforce": 12, "saleswings": 3} as "12 Salesforce · 3 SalesWings"."""
    return f"{calls.get('salesforce', 0):,} Salesforce · {calls.get('saleswings', 0):,} SalesWings"


def aborted_text(cycle):
    """ "Aborted 2026-12-07 09:14:02 UTC by admin" for a cycle cut by turning the sync off or
    restarting it; "" for any other."""
    if not cycle.was_aborted:
        return ""
    who = f" by {cycle.aborted_by}" if cycle.aborted_by else ""
    return f"Aborted {format_datetime(cycle.aborted_at)}{who}"


def progress_json(cycle):
    """Live progress of a cycle in progress: current step, steps done of total, records."""
    if cycle is None:
        return None
    steps = cycle.steps
    done = sum(1 for s in steps if s["status"] in FINAL_STEP_STATUSES)
    # Steps of a parallel group run side by side: all of them are current.
    running = [s for s in steps if s["status"] == StepStatus.PROCESSING]
    current = next((s for s in steps if s["status"] == StepStatus.QUEUED), None)
    if running:
        current = {"class": " + ".join(s["class"] for s in running), "status": running[0]["status"]}
    started = cycle.start_time or cycle.created_at
    return {
        "id": cycle.pk,
        "name": cycle.name,
        "url": run_record_url(cycle),
        "status": cycle.status,
        "fullSync": cycle.full_sync,
        "currentStep": current["class"] if current else None,
        "currentStepStatus": current["status"] if current else None,
        "stepsDone": done,
        "stepsTotal": len(steps),
        "percent": round(100 * done / len(steps)) if steps else 0,
        **step_totals(cycle),
        "startTimeDisplay": format_datetime(started),
        "elapsedDisplay": format_duration(timezone.now() - started),
    }


def last_execution_json(cycle):
    if cycle is None:
        return None
    return {
        "id": cycle.pk,
        "name": cycle.name,
        "url": run_record_url(cycle),
        "status": cycle.status,
        "statusLabel": cycle.get_status_display(),
        "trigger": cycle.trigger,
        "fullSync": cycle.full_sync,
        "startTimeDisplay": format_datetime(cycle.start_time),
        "endTimeDisplay": format_datetime(cycle.end_time),
        "durationDisplay": format_duration(cycle.duration),
        "note": cycle.note,
        "aborted": aborted_text(cycle),
        "apiCalls": cycle.api_calls(),
        "apiCallsDisplay": format_api_calls(cycle.api_calls()),
        **step_totals(cycle),
    }


@dataclass
class Snapshot:
    """Everything live on the Setup page."""

    state: SyncState
    schedules: dict
    cycles: list
    in_progress: SWApexJob | None
    last_execution: SWApexJob | None
    # When a worker last answered, if none has for too long (engine/liveness.py).
    silent_since: object = None

    @classmethod
    def take(cls):
        cycles = history()
        in_progress = next((c for c in cycles if c.is_in_progress), None)
        last = next((c for c in cycles if not c.is_in_progress), None)
        sync_state, found = state(), schedules()
        heartbeats = []
        if in_progress is not None:
            heartbeats = AsyncJob.objects.filter(status=JobStatus.PROCESSING).values_list(
                "last_heartbeat", flat=True
            )
        watcher, check = found["watcher"], found["liveness"]
        newest = cycles[0] if cycles else None
        silent = liveness.silent_since(
            enabled=sync_state.enabled,
            heartbeats=list(heartbeats),
            answers=liveness.signs_of_life(
                since=sync_state.since, schedules=(watcher, check), cycle=newest
            ),
        )
        return cls(
            state=sync_state,
            schedules=found,
            cycles=cycles,
            in_progress=in_progress,
            last_execution=last,
            silent_since=silent,
        )

    def as_json(self):
        return {
            "syncEnabled": self.state.enabled,
            "inProgress": progress_json(self.in_progress),
            "workerSilent": liveness.describe(self.silent_since) if self.silent_since else None,
            "lastExecution": last_execution_json(self.last_execution),
            "watcher": schedule_json(self.schedules["watcher"]),
            "runner": schedule_json(self.schedules["runner"]),
        }


def full_sync_info():
    options = StudioOptions.load()
    return {
        "requested": options.full_sync_requested,
        "requested_at": options.full_sync_requested_at,
        "consumed_at": options.full_sync_consumed_at,
    }


# --- the chart ----------------------------------------------------------------------------------

CHART_WIDTH = 760
CHART_HEIGHT = 220
PAD_LEFT, PAD_RIGHT, PAD_TOP, PAD_BOTTOM = 56, 64, 16, 34
MAX_BAR_WIDTH = 36

STATUS_COLOURS = {
    CycleStatus.COMPLETED: "#3a8a3a",
    CycleStatus.PARTIALLY_COMPLETED: "#c98a00",
    CycleStatus.FAILED: "#ba2121",
    CycleStatus.PROCESSING: "#417690",
    CycleStatus.QUEUED: "#8a8a8a",
}


def _nice_max(value):
    """A round axis maximum at or above `value` (1, 2, 5 × 10^n)."""
    if value <= 0:
        return 1
    magnitude = 1
    while magnitude * 10 <= value:
        magnitude *= 10
    for step in (1, 2, 5, 10):
        if step * magnitude >= value:
            return step * magnitude
    return 10 * magnitude


def chart(cycles):
    """Geometry of an SVG chart over finished cycles, oldest on the left: a bar per cycle for
    its duration (coloured by status) and lines for records examined and modified."""
    finished = [c for c in reversed(cycles) if c.duration is not None]
    if not finished:
        return None
    plot_w = CHART_WIDTH - PAD_LEFT - PAD_RIGHT
    plot_h = CHART_HEIGHT - PAD_TOP - PAD_BOTTOM
    slot = plot_w / len(finished)
    durations = [c.duration.total_seconds() for c in finished]
    totals = [step_totals(c) for c in finished]
    max_d = _nice_max(max(durations))
    max_r = _nice_max(max(max(t["examined"], t["modified"]) for t in totals))
    bars, examined_points, modified_points, points = [], [], [], []
    bottom = PAD_TOP + plot_h
    for i, (cycle, seconds, t) in enumerate(zip(finished, durations, totals, strict=True)):
        x = PAD_LEFT + i * slot
        h = plot_h * seconds / max_d
        centre = x + slot / 2
        width = min(max(slot * 0.6, 1), MAX_BAR_WIDTH)
        bars.append(
            {
                "x": round(x + (slot - width) / 2, 1),
                "y": round(bottom - h, 1),
                "width": round(width, 1),
                "height": round(h, 1),
                "colour": STATUS_COLOURS.get(cycle.status, "#8a8a8a"),
                "title": f"{cycle.name} · {cycle.get_status_display()}"
                f"{' · Aborted' if cycle.was_aborted else ''} · "
                f"{format_duration(cycle.duration)} · {t['examined']} examined, "
                f"{t['modified']} modified, {t['failed']} failed",
                "label": cycle.name.removeprefix("SAJ-").lstrip("0") or "0",
                "label_x": round(centre, 1),
            }
        )
        examined_y = round(bottom - plot_h * t["examined"] / max_r, 1)
        modified_y = round(bottom - plot_h * t["modified"] / max_r, 1)
        examined_points.append(f"{centre:.1f},{examined_y}")
        modified_points.append(f"{centre:.1f},{modified_y}")
        points.append({"x": round(centre, 1), "examined_y": examined_y, "modified_y": modified_y})
    return {
        "width": CHART_WIDTH,
        "height": CHART_HEIGHT,
        "left": PAD_LEFT,
        "right": CHART_WIDTH - PAD_RIGHT,
        "top": PAD_TOP,
        "bottom": bottom,
        "mid": PAD_TOP + plot_h / 2,
        "label_y": bottom + 14,
        "axis_title_y": bottom + 28,
        "max_duration": format_duration_axis(max_d),
        "half_duration": format_duration_axis(max_d / 2),
        "max_records": max_r,
        "half_records": max_r // 2 if max_r >= 2 else max_r / 2,
        "bars": bars,
        "examined": " ".join(examined_points),
        "modified": " ".join(modified_points),
        "points": points,
        "show_labels": len(finished) <= 30,
    }


def format_duration_axis(seconds):
    if seconds >= 120:
        return f"{seconds / 60:g} min"
    return f"{seconds:g} s"
