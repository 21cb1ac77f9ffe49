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


def org_ready():
    """None, or why no cycle may start: the org lacks an object or field the sync needs, or
    the integration user cannot edit one (`syncapp.engine.org_check`); the reason names them.

    A kept result that passed against the same requirements (Studio Options, Field Mappings)
    within SWSTUDIO_ORG_CHECK_MAX_AGE seconds answers without a call. Otherwise the org is
    checked now (about eight API calls) and the result kept: so a result with gaps is
    checked again before each cycle, and a cycle starts by itself once the fields are
    deployed, without anyone pressing a button.
    """
    from syncapp.engine import org_check
    from syncapp.models import OrgCheck

    reqs = org_check.current_requirements()
    max_age = getattr(settings, "SWSTUDIO_ORG_CHECK_MAX_AGE", 3600)
    if org_check.kept_result_holds(org_check.last(), reqs, max_age):
        return None
    row = org_check.run(OrgCheck.Source.PREFLIGHT, sf=clients.salesforce())
    if row.status == OrgCheck.Status.UNREACHABLE:
        return f"could not check the org: {row.error}"
    blocking = row.blocking
    if not blocking:
        return None
    gaps = "; ".join(
        f"{'.'.join(p for p in (f['object'], f['field']) if p)}: {f['problem']}" for f in blocking
    )
    return (
        f"the org is not ready for the sync ({len(blocking)} gap(s)): {gaps}. "
        "`manage.py checkorg` (or the Setup page's Org check) says how to fix each; the next "
        "cycle checks again"
    )
