"""The Setup page's Connection section, over the SalesWings and Salesforce clients.

SalesWings: the token pasted on the Setup page (`syncapp.engine.backend.connect` checks it with
the backend and stores it encrypted), or SALESWINGS_API_TOKEN from the environment.
Salesforce: credentials come from the environment; the page shows what was last kept of the
org (`OrgStatus`: refreshed by cycles and by an administrator's check, which asks the org
through the engine's network seam, `syncapp.engine.clients`). A build without one of the client
packages says so on the page instead of failing, and the switch's gate then applies only to
the connections that can be checked.
"""

import logging
from dataclasses import dataclass, field

from django.conf import settings
from django.utils import timezone

from syncapp.models import Credential
from syncapp.models.org import OrgStatus

log = logging.getLogger(__name__)

NOT_AVAILABLE = "Not available in this build: the {} client is not installed."
NOT_CHECKED = "Not checked yet: the first cycle, or Check Salesforce now, tells."


@dataclass
class ConnectionStatus:
    available: bool
    connected: bool = False
    error: str = ""
    details: dict = field(default_factory=dict)

    @property
    def blocks_sync(self):
        return self.available and not self.connected


def saleswings_connect_function():
    """`syncapp.engine.backend.connect`, or None when the client is not in this build."""
    try:
        import syncapp.saleswings  # noqa: F401  (the client is in this build)
    except ImportError:
        return None
    from syncapp.engine import backend

    return backend.connect


def saleswings_errors():
    from syncapp.saleswings.errors import AuthError, SalesWingsError

    return AuthError, SalesWingsError


def _sandbox_hint():
    """On the embedded sandbox, the token to paste (it is well known: a local stand-in)."""
    if not getattr(settings, "SANDBOX_ENABLED", False):
        return ""
    try:
        from syncapp.engine.backend import endpoint
        from syncapp.saleswings import sandbox_endpoint

        if endpoint() != sandbox_endpoint():
            return ""
    except ImportError:
        return ""
    return getattr(settings, "SANDBOX_SALESWINGS_TOKEN", "")


def saleswings_status():
    """Whether a SalesWings token is there. Shows only its hint and the account, never it."""
    credential = (
        Credential.objects.filter(name=Credential.SALESWINGS_TOKEN)
        .select_related("connected_by")
        .first()
    )
    available = saleswings_connect_function() is not None
    error = "" if available else NOT_AVAILABLE.format("SalesWings")
    if credential is not None and available:
        from syncapp.engine.backend import endpoint

        if credential.bound_elsewhere(endpoint()):
            return ConnectionStatus(
                available=True,
                error="The stored token was connected to another API Endpoint: connect again.",
                details={"sandbox_token": _sandbox_hint()},
            )
    if credential is not None:
        return ConnectionStatus(
            available=available,
            connected=True,
            error=error,
            details={
                "source": "Setup page",
                "account": credential.account_name,
                "hint": credential.hint,
                "connected_at": credential.connected_at,
                "connected_by": credential.connected_by,
            },
        )
    if getattr(settings, "SALESWINGS_API_TOKEN", ""):
        return ConnectionStatus(
            available=available,
            connected=True,
            error=error,
            details={"source": "environment (SALESWINGS_API_TOKEN)"},
        )
    return ConnectionStatus(
        available=available,
        error=error,
        details={"sandbox_token": _sandbox_hint() if available else ""},
    )


def salesforce_status():
    """The org's identity and daily API usage as last kept (`OrgStatus`), with their time.

    Never asks the org: cycles keep these figures up to date, and an administrator's check
    (`check_salesforce`) refreshes them on request.
    """
    try:
        import syncapp.salesforce.errors  # noqa: F401  (the client is in this build)
    except ImportError:
        return ConnectionStatus(available=False, error=NOT_AVAILABLE.format("Salesforce"))
    kept = OrgStatus.load()
    details = {
        "org_id": kept.org_id,
        "instance_url": kept.instance_url,
        "username": kept.username,
        "daily_used": kept.api_calls_used,
        "daily_max": kept.api_calls_limit,
        "daily_percent": kept.api_calls_percent,
        "api_usage_at": kept.api_usage_at,
        "checked_at": kept.checked_at,
    }
    if kept.checked_at is None:
        return ConnectionStatus(available=True, error=NOT_CHECKED, details=details)
    return ConnectionStatus(
        available=True, connected=kept.connected, error=kept.error, details=details
    )


def check_salesforce():
    """Ask the org who we are, now: one attempt with a short timeout
    (SALESFORCE_CHECK_TIMEOUT), kept in `OrgStatus`. Returns the new status."""
    try:
        from syncapp.engine import clients
        from syncapp.salesforce.errors import SalesforceError
    except ImportError:
        return salesforce_status()
    try:
        identity = clients.salesforce_check().identity()
    except SalesforceError as exc:
        OrgStatus.record_check(timezone.now(), error=str(exc) or type(exc).__name__)
    except Exception as exc:  # the check must say what happened whatever the org does
        log.exception("Salesforce connection check failed")
        OrgStatus.record_check(timezone.now(), error=f"{type(exc).__name__}: {exc}")
    else:
        OrgStatus.record_check(timezone.now(), identity=identity)
    return salesforce_status()
