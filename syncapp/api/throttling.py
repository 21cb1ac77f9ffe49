"""Per-user rate limit on the API's POST endpoints (turn on/off, restart)."""

from django.conf import settings
from rest_framework.throttling import UserRateThrottle


class SyncPostThrottle(UserRateThrottle):
    """SWSTUDIO_API_POST_RATE requests per user (e.g. "30/min"); GETs are not counted.

    The counters live in Django's default cache. With the default per-process cache each web
    process counts on its own; a shared cache (CACHE_URL) gives one limit per user across
    processes and machines.
    """

    scope = "sync_post"

    def get_rate(self):
        # Read at request time (DRF's class attribute is frozen at import), so tests and
        # operators can change the setting without reloading the module.
        return settings.SWSTUDIO_API_POST_RATE or None

    def allow_request(self, request, view):
        if request.method != "POST":
            return True
        return super().allow_request(request, view)
