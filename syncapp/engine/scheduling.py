"""The django-q2 schedules of the sync: the product's Watcher and Runner, and the liveness
check beside the Watcher. Only the control plane creates or removes them."""

from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from django_q.models import Schedule

from syncapp.models.schedules import (  # noqa: F401
    LIVENESS_NAME,
    RUNNER_NAME,
    WATCHER_NAME,
    ScheduledJob,
)

WATCHER_FUNC = "syncapp.engine.jobs.watcher"
LIVENESS_FUNC = "syncapp.engine.jobs.liveness"
RUNNER_FUNC = "syncapp.engine.jobs.runner"


def create_watcher(generation, now=None):
    """`SalesWings Studio : Watcher`: fires 1 minute from now, then every
    SWSTUDIO_WATCHER_INTERVAL_MINUTES (60, as the product's). Beside it the liveness check,
    every SWSTUDIO_LIVENESS_INTERVAL_MINUTES (1), from a minute after the Watcher's first run
    (which starts the first cycle). Returns the Watcher."""
    now = now or timezone.now()
    ScheduledJob.objects.filter(name__in=[WATCHER_NAME, LIVENESS_NAME]).delete()
    every = settings.SWSTUDIO_LIVENESS_INTERVAL_MINUTES
    _repeating(LIVENESS_NAME, LIVENESS_FUNC, generation, every, now + timedelta(minutes=2))
    every = settings.SWSTUDIO_WATCHER_INTERVAL_MINUTES
    return _repeating(WATCHER_NAME, WATCHER_FUNC, generation, every, now + timedelta(minutes=1))


def _repeating(name, func, generation, minutes, first):
    return Schedule.objects.create(
        name=name,
        func=func,
        kwargs=repr({"generation": generation}),
        schedule_type=Schedule.MINUTES,
        minutes=minutes,
        repeats=-1,
        next_run=first,
    )


def schedule_runner(generation, gap_minutes, now=None):
    """`SalesWings Studio : Runner`: fires once, `gap_minutes` from now, replacing any other."""
    now = now or timezone.now()
    ScheduledJob.objects.runner().delete()
    # repeats=1 rather than -1: django-q2 then keeps the row once it fired (repeats 0), so
    # the Scheduled Jobs page can show the Runner's last firing as COMPLETE.
    return Schedule.objects.create(
        name=RUNNER_NAME,
        func=RUNNER_FUNC,
        kwargs=repr({"generation": generation}),
        schedule_type=Schedule.ONCE,
        repeats=1,
        next_run=now + timedelta(minutes=gap_minutes),
    )


def delete_all():
    names = [WATCHER_NAME, RUNNER_NAME, LIVENESS_NAME]
    return ScheduledJob.objects.filter(name__in=names).delete()[0]


def runner_pending():
    return ScheduledJob.objects.runner().pending().exists()
