"""`/metrics`, behind its guard (docs/operations.md, "Metrics").

The guard: a bearer token (`SWSTUDIO_METRICS_TOKEN`) and/or an allow-list of client addresses
(`SWSTUDIO_METRICS_ALLOWED_IPS`); with both set, a scrape needs both. With neither set the
endpoint is open only while DEBUG is on. A refused scrape gets the same 404 as any unknown
address, so it learns nothing, not even that metrics exist here.
"""

import hmac
import ipaddress
import logging

from django.conf import settings
from django.http import Http404, HttpResponse, HttpResponseNotAllowed
from django.views.decorators.cache import never_cache

from syncapp.ops import health, metrics

log = logging.getLogger(__name__)


def allowed(request):
    token = settings.SWSTUDIO_METRICS_TOKEN
    networks = settings.SWSTUDIO_METRICS_ALLOWED_IPS
    if not token and not networks:
        return settings.DEBUG
    if token:
        scheme, _, given = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(
            given.strip().encode(), token.encode()
        ):
            return False
    if networks:
        try:
            address = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
        except ValueError:
            return False
        if not any(address in network for network in networks):
            return False
    return True


class MetricsGuardMiddleware:
    """The guard, before the CSRF check: a stranger's POST must get the 404 of an unknown
    page too, not CSRF's 403. After the HTTPS redirect and the host check, which treat every
    page alike."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        # Raised here, the 404 goes out through every middleware, as an unknown page's does.
        if view_func is metrics_view and not allowed(request):
            raise Http404()


@never_cache
def metrics_view(request):
    if not allowed(request):  # also without the middleware (a test's own URLconf)
        raise Http404()
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET", "HEAD"])
    # The database checked the way /readyz does first: a scrape during an outage answers 503
    # within the health timeout instead of waiting on the driver.
    if not health.database_up(settings.SWSTUDIO_HEALTH_TIMEOUT):
        return _unavailable()
    try:
        body = metrics.render()
    except Exception:
        log.exception("Metrics could not be read from the database")
        health.close_quietly()
        return _unavailable()
    return HttpResponse(body, content_type=metrics.CONTENT_TYPE)


def _unavailable():
    return HttpResponse(b"unavailable\n", status=503, content_type="text/plain; charset=utf-8")
