"""The one place the engine gets its network clients from.

Steps call `clients.salesforce()` / `clients.saleswings()` rather than importing the client
packages at module level, so tests can put in-memory fakes at exactly the network seam.

While a step runs (`tracking()`), the clients it gets are remembered, so its run record can
say how many transient failures (retried 5xx, row locks, expired sessions) they met.
"""

import threading
from collections import Counter
from contextlib import contextmanager

_local = threading.local()


def salesforce():
    from syncapp.salesforce import get_client

    return _track(get_client())


def saleswings():
    from syncapp.engine.backend import get_client

    return _track(get_client())


def _track(client):
    tracked = getattr(_local, "clients", None)
    if tracked is not None:
        tracked.append(client)
    return client


@contextmanager
def tracking():
    """Remember the clients handed out in this thread; yields a function summing their
    transient failures by code."""
    _local.clients = []
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
