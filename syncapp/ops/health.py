"""`/healthz` (the process answers) and `/readyz` (the database and the broker answer).

Answered by a middleware at the top of the stack, before the HTTPS redirect and the host
check: a load balancer or an orchestrator probes the process over plain HTTP, by its address.
The answer is `ok` (200) or `down` (503) and nothing else: no names, no addresses, no
reason (the server log has those, from the requests that fail). Neither ever touches
Salesforce or SalesWings.
"""

import contextlib
import os
import socket
import threading

from django.conf import settings
from django.db import connection
from django.http import HttpResponse

PATHS = ("/healthz", "/readyz")

_redis = {"url": None, "client": None}
_redis_lock = threading.Lock()


def answer(up):
    response = HttpResponse(
        b"ok\n" if up else b"down\n",
        status=200 if up else 503,
        content_type="text/plain; charset=utf-8",
    )
    response["Cache-Control"] = "no-store"
    return response


def database_up(timeout):
    """Whether the database answers a query on SW Studio's own tables (a database without
    them, e.g. a new SQLite file, is not ready)."""
    from syncapp.models import SyncState

    try:
        db = connection.settings_dict
        if connection.vendor == "sqlite":
            name = str(db["NAME"])
            # sqlite3 would create a missing file: an empty database, not ours.
            if not connection.is_in_memory_db() and not os.path.exists(name):
                return False
        elif connection.connection is None:
            host = db.get("HOST") or ""
            if host and not host.startswith("/"):
                # The driver waits for its own (unbounded) connect timeout on an address that
                # drops packets; a bare TCP connect says "down" within `timeout`.
                with socket.create_connection((host, int(db.get("PORT") or 5432)), timeout):
                    pass
        SyncState.objects.filter(pk=1).exists()
    except Exception:  # any failure is "down"; the reason is not this endpoint's to tell
        close_quietly()
        return False
    return True


def close_quietly():
    """Drop a connection that failed, so the next request connects (and probes) afresh."""
    # A broken connection may fail to close; it is dropped either way.
    with contextlib.suppress(Exception):
        connection.close()


def broker_up(timeout):
    """Whether the broker answers: Redis a PING within `timeout`; the ORM broker is the
    database."""
    if not settings.REDIS_URL:
        return database_up(timeout)
    try:
        return bool(_redis_client(timeout).ping())
    except Exception:  # down, whatever the reason
        return False


def _redis_client(timeout):
    import redis
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    with _redis_lock:
        if _redis["url"] != settings.REDIS_URL:
            if _redis["client"] is not None:
                _redis["client"].close()
            _redis["client"] = redis.Redis.from_url(
                settings.REDIS_URL,
                socket_connect_timeout=timeout,
                socket_timeout=timeout,
                # redis-py retries a failed command 10 times by default: a probe must not.
                retry=Retry(NoBackoff(), 0),
            )
            _redis["url"] = settings.REDIS_URL
        return _redis["client"]


def ready():
    timeout = settings.SWSTUDIO_HEALTH_TIMEOUT
    if not database_up(timeout):
        return False
    return not settings.REDIS_URL or broker_up(timeout)


class HealthMiddleware:
    """Answers the two probes before anything else runs (sessions, HTTPS redirect, hosts)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        path = request.path_info.rstrip("/") or "/"
        if path in PATHS and request.method in ("GET", "HEAD"):
            return answer(True if path == "/healthz" else ready())
        return self.get_response(request)
