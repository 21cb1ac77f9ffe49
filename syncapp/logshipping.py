"""The logging handler that keeps the sync's warnings and errors for SWLogShipper.

Imported by the LOGGING setting before the apps are ready: it imports models lazily.
"""

import logging
import threading
import time

from django.db import connection
from django.utils import timezone

DEFAULT_NAMESPACE = "syncapp"
MAX_MESSAGE = 4000

RULES_TTL = 30.0  # seconds a worker trusts its copy of the Logger Options

_local = threading.local()
_rules = {"expires": 0.0, "rules": {}}


def forget_rules():
    _rules["expires"] = 0.0


def _current_rules():
    """{namespace: (level, ship)}, re-read at most every RULES_TTL seconds: a warning storm
    must not become a query storm."""
    now = time.monotonic()
    if now >= _rules["expires"]:
        from syncapp.models import LoggerOptions

        _rules["rules"] = {
            r.logger: (r.level, r.ship_to_backend) for r in LoggerOptions.objects.all()
        }
        _rules["expires"] = now + RULES_TTL
    return _rules["rules"]


def _connection_busy():
    """This thread's database connection is inside a call of its driver, which may log from
    there: psycopg warns from inside a failed executemany ("error ignored terminating
    <Pipeline>: pipeline aborted") while it holds the connection's lock, and a query on that
    connection then waits for the lock forever (a step hung instead of failing)."""
    raw = getattr(connection, "connection", None)  # None until it connects
    lock = getattr(raw, "lock", None)  # psycopg 3's per-connection lock
    if lock is not None and lock.locked():
        return True
    return bool(getattr(getattr(raw, "pgconn", None), "pipeline_status", 0))


class ShippingHandler(logging.Handler):
    """Stores WARNING+ records of namespaces whose Logger Options ship to the backend.

    Without a Logger Options row for a logger (or a parent namespace), records of the
    `syncapp` namespace ship and others do not.
    """

    def __init__(self, level=logging.WARNING):
        super().__init__(level=level)

    def emit(self, record):
        if getattr(_local, "busy", False) or record.levelno < logging.WARNING:
            return
        _local.busy = True  # our own DB writes must not log into ourselves
        try:
            if connection.in_atomic_block and connection.needs_rollback:
                return
            if _connection_busy():
                return  # not kept for shipping; the console handler still has it
            from syncapp.models import LoggerOptions, PendingLogEntry

            rule = LoggerOptions.rule_for(record.name, _current_rules())
            if rule is None:
                if not (
                    record.name == DEFAULT_NAMESPACE
                    or record.name.startswith(DEFAULT_NAMESPACE + ".")
                ):
                    return
            else:
                level, ship = rule
                if not ship or record.levelno < logging.getLevelName(level):
                    return
            PendingLogEntry.objects.create(
                time=timezone.now(),
                level=record.levelname,
                logger=record.name[:200],
                message=self.format(record)[:MAX_MESSAGE],
            )
        except Exception:  # logging must never break the code that logs
            pass
        finally:
            _local.busy = False
