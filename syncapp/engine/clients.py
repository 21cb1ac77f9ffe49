"""The one place the engine gets its network clients from.

Steps call `clients.salesforce()` / `clients.saleswings()` rather than importing the client
packages at module level, so tests can put in-memory fakes at exactly the network seam.

While a step runs (`tracking()`), the clients it gets are remembered, so its run record can
say how many transient failures (retried 5xx, row locks, expired sessions) they met, and how
many API calls each service was sent (`api_calls()`).
"""

import threading
from collections import Counter
from contextlib import contextmanager

_local = threading.local()

# A describe of a large object answers in a second or two; the check waits no longer than this.
CHECK_READ_TIMEOUT = 30


def salesforce():
    from syncapp.salesforce import get_client

    return _track(get_client(), "salesforce")


def salesforce_check(timeout=None):
    """A Salesforce client for the org check: one attempt per call (no retries), and short
    timeouts, so an org that does not answer is reported within them. `timeout` (seconds)
    replaces both; by default the connect timeout is SALESFORCE_CONNECT_TIMEOUT and the read
    timeout at most CHECK_READ_TIMEOUT."""
    from django.conf import settings

    from syncapp.salesforce import get_client

    connect = timeout or settings.SALESFORCE_CONNECT_TIMEOUT
    read = timeout or min(settings.SALESFORCE_READ_TIMEOUT, CHECK_READ_TIMEOUT)
    overrides = {"retry_attempts": 1, "connect_timeout": connect, "read_timeout": read}
    return _track(get_client(overrides=overrides), "salesforce")


def saleswings():
    from syncapp.engine.backend import get_client

    return _track(get_client(), "saleswings")


def _track(client, service):
    tracked = getattr(_local, "clients", None)
    if tracked is not None:
        tracked.append(client)
        _local.services.append(service)
    return client


def api_calls():
    """The API calls the clients handed out in this `tracking()` made so far, by service
    (each attempt counts, as the org's daily limit counts it; logins do not)."""
    total = {"salesforce": 0, "saleswings": 0}
    for client, service in zip(
        getattr(_local, "clients", None) or [],
        getattr(_local, "services", None) or [],
        strict=True,
    ):
        total[service] += getattr(client, "calls", 0) or 0
    return total


@contextmanager
def tracking():
    """Remember the clients handed out in this thread; yields a function summing their
    transient failures by code."""
    _local.clients = []
    _local.services = []
    clients = _local.clients

    def transient():
        total = Counter()
        for client in clients:
            total.update(getattr(client, "transient", None) or {})
        return dict(total)

    try:
        yield transient
    finally:
        _local.clients = None
        _local.services = None
