"""Checks run before a cycle starts (settings.SWSTUDIO_PREFLIGHT).

Each check is a callable taking nothing and returning None, or why no cycle may start now.
They may call the network, so they run before, never inside, the transaction that creates
the cycle.
"""

from django.conf import settings
from django.utils.module_loading import import_string

from syncapp.engine import clients
from syncapp.models import StudioOptions
from syncapp.salesforce.errors import LimitExhausted, SalesforceError


def problem():
    """Why a cycle must not start now (the first check that objects), or None."""
    for path in getattr(settings, "SWSTUDIO_PREFLIGHT", []):
        found = import_string(path)()
        if found:
            return found
    return None


def api_reserve():
    """None, or why a cycle must not start: the org has fewer daily API calls left than
    Studio Options' reserve (so other integrations keep room to work)."""
    return api_reserve_problem(StudioOptions.load().api_call_reserve)


def api_reserve_problem(reserve):
    """None, or why the org's daily API calls left are below `reserve` (0: no check)."""
    if not reserve:
        return None
    client = clients.salesforce()
    try:
        remaining = client.daily_api_remaining()
    except LimitExhausted:
        return f"the org has no daily API calls left, below the reserve of {reserve}"
    except SalesforceError as exc:
        return f"could not check the org's daily API calls: {exc}"
    clients.keep_org_status([client])
    if remaining is not None and remaining < reserve:
        return f"the org has {remaining} daily API calls left, below the reserve of {reserve}"
    return None
