"""The one place the engine gets its network clients from.

Steps call `clients.salesforce()` / `clients.saleswings()` rather than importing the client
packages at module level, so tests can put in-memory fakes at exactly the network seam.

While a step runs (`tracking()`), the clients it gets are remembered, so its run record can
say how many transient failures (retried 5xx, row locks, expired sessions) they met and how
many API calls each service was sent (`api_calls()`); what they saw of the org (its identity
and daily API usage) is kept in `OrgStatus` when the step ends: the Setup page and the API read
that, never the org.
"""

import logging
import threading
from collections import Counter
from contextlib import contextmanager

log = logging.getLogger(__name__)

_local = threading.local()


def salesforce():
    from syncapp.salesforce import get_client

    return _track(get_client(), "salesforce")


def salesforce_check(timeout=None):
    """A Salesforce client for a check someone waits for (the Setup page's, the org check's):
    one attempt per call, each giving up after `timeout` seconds (default
    SALESFORCE_CHECK_TIMEOUT), so an org that does not answer is reported within it."""
    from syncapp.salesforce import get_client

    return _track(get_client(interactive=True, timeout=timeout), "salesforce")


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
        keep_org_status(clients)


def keep_org_status(clients):
    """What the step's Salesforce clients saw of the org (identity, daily API usage), kept
    for the Setup page and the API to read without asking the org."""
    seen = None
    for client in clients:
        seen = (getattr(client, "seen", None) or (lambda: None))() or seen
    if seen is None:
        return
    from django.utils import timezone

    from syncapp.models.org import OrgStatus

    try:
        OrgStatus.record_seen(timezone.now(), **seen)
    except Exception:  # bookkeeping: never the reason a step fails
        log.exception("Could not keep the org's status")
