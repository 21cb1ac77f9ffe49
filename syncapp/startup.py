"""Start-up checks: is the database reachable, is the broker reachable?

A process that cannot reach its database or its Redis broker should say so in one paragraph
that names the variable and the address, not in a 60-line traceback from deep inside a driver
or a django-q2 sentinel. `manage.py` runs these before the commands that need them and turns
connection errors raised later into the same message; the web app does the same on a request
(`StartupProblemMiddleware`).

Nothing here prints a password: addresses are host:port (and the database name), never URLs.
"""

import contextlib
import errno
import os
import socket
import sys

CONNECT_TIMEOUT = 3.0  # seconds; a start-up check must not hang for the driver's default

# Commands that need the database (the rest, e.g. `help`, `check`, `collectstatic`, don't, or
# fail cleanly through `explain()` when they do).
NEEDS_DATABASE = {
    "migrate",
    "runserver",
    "qcluster",
    "bootstrap",
    "syncon",
    "syncoff",
    "restartsync",
    "syncstatus",
    "runwatcher",
    "issuetoken",
    "createsuperuser",
    "sandbox",
}
NEEDS_BROKER = {"qcluster", "qinfo", "qmonitor", "qmemory"}


class Unreachable(Exception):
    """The message is the one paragraph shown to the operator."""


def _reason(exc):
    if isinstance(exc, socket.timeout | TimeoutError):
        return f"no answer within {CONNECT_TIMEOUT:g} s"
    if isinstance(exc, socket.gaierror):
        return f"the host name does not resolve ({exc.strerror or exc})"
    if isinstance(exc, OSError) and exc.errno in (errno.ECONNREFUSED,):
        return "connection refused"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror[0].lower() + exc.strerror[1:]
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return first


def _probe(host, port):
    """Open and close a TCP connection (OSError when nothing answers)."""
    with socket.create_connection((host, int(port)), timeout=CONNECT_TIMEOUT):
        pass


def _variable(name):
    return name if os.environ.get(name) else f"{name}, not set: the embedded default"


def database_address(db=None):
    from django.conf import settings

    db = db or settings.DATABASES["default"]
    if db["ENGINE"].endswith("sqlite3"):
        return str(db["NAME"])
    host = db.get("HOST") or "localhost"
    port = db.get("PORT") or {"postgresql": 5432, "mysql": 3306}.get(
        db["ENGINE"].rsplit(".", 1)[-1], ""
    )
    where = f"{host}:{port}" if port and not str(host).startswith("/") else str(host)
    return f"{where}/{db.get('NAME', '')}"


def check_database(alias="default"):
    """Raise Unreachable when the database cannot be connected to."""
    from django.conf import settings
    from django.db import connections

    db = settings.DATABASES[alias]
    address = database_address(db)
    variable = _variable("DATABASE_URL")
    hint = "Check DATABASE_URL and that the server is running."
    if not db["ENGINE"].endswith("sqlite3"):
        host, port = db.get("HOST") or "", db.get("PORT") or 5432
        if host and not host.startswith("/"):
            try:
                _probe(host, port)
            except OSError as exc:
                raise Unreachable(
                    f"Cannot reach the database at {address.split('/')[0]} ({variable}): "
                    f"{_reason(exc)}. {hint}"
                ) from None
    else:
        hint = "Check DATABASE_URL (or SWSTUDIO_VAR_DIR) and that the directory is writable."
    connection = connections[alias]
    try:
        connection.ensure_connection()
    except Exception as exc:  # the driver's own error: authentication, unknown database...
        raise Unreachable(
            f"Cannot connect to the database at {address} ({variable}): {_reason(exc)}. {hint}"
        ) from None


def broker_address():
    from urllib.parse import urlsplit

    from django.conf import settings

    parts = urlsplit(settings.REDIS_URL)
    return parts.hostname or "localhost", parts.port or 6379, parts.path.lstrip("/") or "0"


def check_broker():
    """Raise Unreachable when the Redis broker cannot be reached (the ORM broker is the
    database, checked by check_database)."""
    from django.conf import settings

    if not settings.REDIS_URL:
        return
    host, port, db = broker_address()
    hint = "Check REDIS_URL and that the server is running."
    try:
        _probe(host, port)
    except OSError as exc:
        raise Unreachable(
            f"Cannot reach the Redis broker at {host}:{port} (REDIS_URL): {_reason(exc)}. {hint}"
        ) from None
    import redis

    try:
        client = redis.Redis.from_url(
            settings.REDIS_URL,
            socket_connect_timeout=CONNECT_TIMEOUT,
            socket_timeout=CONNECT_TIMEOUT,
        )
        client.ping()
        client.close()
    except redis.RedisError as exc:
        raise Unreachable(
            f"Cannot use the Redis broker at {host}:{port}/{db} (REDIS_URL): {_reason(exc)}. {hint}"
        ) from None


def is_connection_error(exc):
    """Errors that mean "the database or the broker is not there" (not a bad query)."""
    from django.db import InterfaceError, OperationalError

    if isinstance(exc, OperationalError | InterfaceError):
        return True
    try:
        import redis
    except ImportError:  # pragma: no cover - redis is a requirement
        return False
    return isinstance(exc, redis.ConnectionError | redis.TimeoutError)


def explain(exc):
    """The operator's paragraph for a connection error raised while running, or None when
    both the database and the broker answer (the error was something else)."""
    from django.db import connections

    # A broken connection may fail to close; we are diagnosing anyway.
    with contextlib.suppress(Exception):
        connections["default"].close()
    for check in (check_database, check_broker):
        try:
            check()
        except Unreachable as problem:
            return str(problem)
    return None


def preflight(argv):
    """Run before `manage.py <command>`: exit with the paragraph when a dependency is down."""
    command = argv[1] if len(argv) > 1 else ""
    if any(a in ("-h", "--help") for a in argv[2:]):
        return
    checks = []
    if command in NEEDS_DATABASE:
        checks.append(check_database)
    if command in NEEDS_BROKER:
        checks.append(check_broker)
    if not checks:
        return
    import django

    django.setup()
    for check in checks:
        try:
            check()
        except Unreachable as problem:
            fail(str(problem))


def fail(message):
    sys.stderr.write(f"SW Studio cannot start: {message}\n")
    sys.exit(2)


class StartupProblemMiddleware:
    """A request that finds the database or the broker gone answers 503 and logs the
    paragraph (one line, no traceback). The address stays in the log unless DEBUG is on: a
    public error page is no place for the layout of the network."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exc):
        import logging

        from django.conf import settings
        from django.http import HttpResponse

        if not is_connection_error(exc):
            return None
        message = explain(exc)
        if message is None:
            return None
        log = logging.getLogger("syncapp.startup")
        log.error("%s %s: %s", request.method, request.path, message)
        body = "SW Studio is unavailable: the database or the broker cannot be reached."
        if settings.DEBUG:
            body += f"\n\n{message}"
        return HttpResponse(body + "\n", status=503, content_type="text/plain; charset=utf-8")
