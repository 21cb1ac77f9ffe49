from django.conf import settings
from django.db import models


class SyncState(models.Model):
    """The one row every control transition locks.

    `generation` changes on every turn on, turn off and restart. Each queued job carries the
    generation it was born in and exits without work when it no longer matches: that is how
    turning the sync off cancels jobs still sitting in any broker, Redis included.
    """

    enabled = models.BooleanField("sync on", default=False)
    running_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Who turned the sync on. Cycles run on this user's behalf.",
    )
    since = models.DateTimeField(null=True, blank=True, help_text="When the sync last changed.")
    generation = models.PositiveBigIntegerField(default=0)

    class Meta:
        verbose_name = "sync state"
        permissions = [("manage_sync", "Can turn the sync on and off and change its setup")]

    def __str__(self):
        return "on" if self.enabled else "off"

    @classmethod
    def load(cls):
        obj, _ = cls.objects.get_or_create(pk=1)
        return obj

    def switch_on(self, user, now):
        """On, in a new generation, on behalf of `user` (None: nobody). The caller holds the
        lock (`lock()`)."""
        self.enabled = True
        self.generation += 1
        self.running_user = user if user is not None and user.pk else None
        self.since = now
        self.save()

    def switch_off(self, now):
        """Off, in a new generation. Jobs carry the generation they were born in; a job still
        in a broker (Redis queues cannot be edited) sees the new one when it starts and exits
        without work."""
        self.enabled = False
        self.generation += 1
        self.since = now
        self.save()

    @classmethod
    def lock(cls):
        """The state row, locked until the surrounding transaction ends."""
        locked = cls.objects.select_for_update(of=("self",)).select_related("running_user")
        try:
            return locked.get(pk=1)
        except cls.DoesNotExist:
            cls.objects.get_or_create(pk=1)
            return locked.get(pk=1)
