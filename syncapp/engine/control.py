"""The control plane: turn the sync on, off, and restart it.

The API, the admin's Setup page, management commands and jobs all call these functions.
Each transition runs in one transaction holding the sync state row lock.
"""

from django.db import transaction
from django.utils import timezone

from syncapp.engine import scheduling
from syncapp.models import AsyncJob, SWApexJob, SyncState


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
        _switch_off(state, reason, user)
    return True


def restart(user=None, force=False):
    """Off, then on. Refused while a cycle is in progress, unless forced. The running user
    stays whoever it was, unless `user` is given (it becomes the running user)."""
    with transaction.atomic():
        state = SyncState.lock()
        running = SWApexJob.objects.in_progress().order_by("-id").first()
        if running and not force:
            raise SyncRunning(running)
        restarted_by = user
        if user is None:
            user = state.running_user
        if state.enabled:
            reason = (
                f"The sync was restarted by {restarted_by}."
                if restarted_by
                else ("The sync was restarted.")
            )
            _switch_off(state, reason, restarted_by)
        _switch_on(state, user)


def _switch_on(state, user):
    state.switch_on(user, timezone.now())
    scheduling.create_watcher(state.generation, state.since)


def _switch_off(state, reason, user=None):
    """`user`: who turned it off (None: not known, e.g. a command without --user)."""
    now = timezone.now()
    state.switch_off(now)
    scheduling.delete_all()
    for job in AsyncJob.objects.active().select_for_update():
        job.mark_aborted(reason, now)
        job.save(update_fields=["status", "extended_status", "completed_date"])
    for cycle in SWApexJob.objects.in_progress().select_for_update():
        cycle.abort(reason, now, by=user or "")
        cycle.save()
