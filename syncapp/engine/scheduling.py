"""The two django-q2 schedules of the sync. Only the control plane creates or removes them."""

from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from django_q.models import Schedule

from syncapp.models.schedules import RUNNER_NAME, WATCHER_NAME, ScheduledJob  # noqa: F401

WATCHER_FUNC = "syncapp.engine.jobs.watcher"
RUNNER_FUNC = "syncapp.engine.jobs.runner"


def create_watcher(generation, now=None):
    """`SalesWings Studio : Watcher`: fires 1 minute from now, then every
    SWSTUDIO_WATCHER_INTERVAL_MINUTES (1 by default)."""
    now = now or timezone.now()
    ScheduledJob.objects.watcher().delete()
    return Schedule.objects.create(
        name=WATCHER_NAME,
        func=WATCHER_FUNC,
        kwargs=repr({"generation": generation}),
        schedule_type=Schedule.MINUTES,
        minutes=settings.SWSTUDIO_WATCHER_INTERVAL_MINUTES,
        repeats=-1,
        next_run=now + timedelta(minutes=1),
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
    return ScheduledJob.objects.filter(name__in=[WATCHER_NAME, RUNNER_NAME]).delete()[0]


def runner_pending():
    return ScheduledJob.objects.runner().pending().exists()
