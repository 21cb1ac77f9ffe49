"""Whether any worker still answers: what the Setup page and GetSyncStatus say instead of "In
progress" when every worker died.

Read from the database only (the page never waits on the broker): a running step's job
touches its heartbeat every SWSTUDIO_HEARTBEAT_SECONDS; between steps, the liveness check (a
django-q2 schedule every SWSTUDIO_LIVENESS_INTERVAL_MINUTES) and the Watcher record each run
they make on a worker.
"""

from datetime import timedelta

from django.conf import settings
from django.utils import timezone

# A django-q2 cluster looks for due schedules every 30 s; a busy queue may hold the Watcher a
# little longer.
SCHEDULER_SLACK_S = 90


def heartbeat_grace():
    """A running step whose heartbeat is older than this has no worker answering for it."""
    return timedelta(seconds=3 * settings.SWSTUDIO_HEARTBEAT_SECONDS)


def watcher_grace():
    """With nothing running, no liveness check (or Watcher) run for this long means no worker
    is taking work."""
    every = min(
        settings.SWSTUDIO_LIVENESS_INTERVAL_MINUTES, settings.SWSTUDIO_WATCHER_INTERVAL_MINUTES
    )
    return timedelta(seconds=every * 60 + SCHEDULER_SLACK_S)


def signs_of_life(*, since, schedules, cycle):
    """The `answers` of `silent_since` from what the status readers have: the moment the sync
    was turned on, the last runs of the schedules (the Watcher, the liveness check; any may be
    None), and the newest cycle's end or start."""
    return [
        since,
        *(s.previous_fire_time for s in schedules if s is not None),
        cycle and (cycle.end_time or cycle.start_time),
    ]


def silent_since(*, enabled, heartbeats, answers, now=None):
    """When a worker last answered, if none has answered for too long; else None.

    `heartbeats`: the heartbeats of the jobs Processing now; `answers`: other signs of a live
    worker (the liveness check's and the Watcher's last runs, the newest cycle's end, the
    moment the sync was turned on). None while the sync is off.
    """
    if not enabled:
        return None
    now = now or timezone.now()
    beats = [b for b in heartbeats if b is not None]
    if beats:
        # Steps run: their heartbeats tell (with every worker busy, the Watcher waits).
        newest = max(beats)
        return newest if now - newest > heartbeat_grace() else None
    seen = [a for a in answers if a is not None]
    if not seen:
        return None
    newest = max(seen)
    return newest if now - newest > watcher_grace() else None


def describe(since):
    """The sentence the Setup page shows."""
    local = timezone.localtime(since)
    return (
        f"No worker has answered since {local:%Y-%m-%d %H:%M:%S}: the worker processes "
        "(manage.py qcluster) may have stopped. Start them again; the Watcher then closes the "
        "stalled cycle and the sync resumes by itself."
    )
