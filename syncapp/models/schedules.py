"""The "Scheduled Jobs" page: django-q2 schedules seen through Salesforce's CronTrigger."""

from django.db import models, transaction
from django.utils import timezone
from django_q.models import Schedule

WATCHER_NAME = "SalesWings Studio : Watcher"
RUNNER_NAME = "SalesWings Studio : Runner"
SW_STUDIO_SCHEDULE_PREFIX = "SalesWings Studio"
# The minute-by-minute liveness check (a dead worker's step found in minutes, not at the
# hourly Watcher). Plumbing of this service, not one of the product's two slots: its name
# keeps it out of the "SW Studio" Scheduled Jobs view.
LIVENESS_NAME = "SW Studio liveness check"


class ScheduledJobQuerySet(models.QuerySet):
    def sw_studio(self):
        return self.filter(name__startswith=SW_STUDIO_SCHEDULE_PREFIX)

    def watcher(self):
        return self.filter(name=WATCHER_NAME)

    def runner(self):
        return self.filter(name=RUNNER_NAME)

    def liveness(self):
        return self.filter(name=LIVENESS_NAME)

    def pending(self):
        return self.exclude(repeats=0)

    def with_stats(self):
        return self.select_related("stats")


class ScheduledJob(Schedule):
    objects = ScheduledJobQuerySet.as_manager()

    class Meta:
        proxy = True
        verbose_name = "Scheduled Job"
        verbose_name_plural = "Scheduled Jobs"
        ordering = ["next_run"]

    @property
    def state(self):
        """The CronTrigger state: WAITING until it fires, COMPLETE once a one-off has fired."""
        return "COMPLETE" if self.repeats == 0 else "WAITING"

    @property
    def _stats(self):
        try:
            return self.stats
        except ScheduleStats.DoesNotExist:
            return None

    @property
    def previous_fire_time(self):
        return self._stats.previous_fire_time if self._stats else None

    @property
    def times_triggered(self):
        return self._stats.times_triggered if self._stats else 0

    @property
    def next_fire_time(self):
        return self.next_run if self.repeats != 0 else None


class ScheduleStats(models.Model):
    """What django-q2 does not keep about a schedule: when it last fired and how often."""

    schedule = models.OneToOneField(
        Schedule, primary_key=True, on_delete=models.CASCADE, related_name="stats"
    )
    times_triggered = models.PositiveIntegerField(default=0)
    previous_fire_time = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "schedule statistics"

    def __str__(self):
        return f"{self.schedule_id}: fired {self.times_triggered} times"

    @classmethod
    def record_firing(cls, name):
        """Called by the job a schedule started: counts the firing.

        Under the sync state lock, like every change to the schedules: without it, on
        PostgreSQL, a turn-off or restart deleting this schedule at the same moment found no
        stats row to cascade to, this insert committed in between, and the turn-off failed
        at COMMIT on the (deferred) foreign key, a 500 from the API (found by
        tests/scale/test_concurrency.py). SQLite's IMMEDIATE transactions hid it.
        """
        from syncapp.models.state import SyncState

        with transaction.atomic():
            SyncState.lock()
            schedule_id = Schedule.objects.filter(name=name).values_list("id", flat=True).first()
            if schedule_id is None:
                return
            stats, _ = cls.objects.get_or_create(schedule_id=schedule_id)
            cls.objects.filter(pk=stats.pk).update(
                times_triggered=models.F("times_triggered") + 1, previous_fire_time=timezone.now()
            )
