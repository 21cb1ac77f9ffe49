"""The Setup page's Connection section, over the SalesWings and Salesforce clients.

SalesWings: the token pasted on the Setup page (`syncapp.engine.backend.connect` checks it with
the backend and stores it encrypted), or SALESWINGS_API_TOKEN from the environment.
Salesforce: credentials come from the environment; the page asks the org who we are through
the engine's network seam (`syncapp.engine.clients`). A build without one of the client
packages says so on the page instead of failing, and the switch's gate then applies only to
the connections that can be checked.
"""

import logging
from dataclasses import dataclass, field

from django.conf import settings

from syncapp.models import Credential

log = logging.getLogger(__name__)

NOT_AVAILABLE = "Not available in this build: the {} client is not installed."


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
    """Ask the org who we are: org id, instance, user and daily API usage."""
    try:
        from syncapp.engine import clients
        from syncapp.salesforce.errors import SalesforceError
    except ImportError:
        return ConnectionStatus(available=False, error=NOT_AVAILABLE.format("Salesforce"))
    try:
        identity = clients.salesforce().identity()
    except SalesforceError as exc:
        return ConnectionStatus(available=True, error=str(exc) or type(exc).__name__)
    except Exception as exc:  # the Setup page must render whatever the org does
        log.exception("Salesforce connection check failed")
        return ConnectionStatus(available=True, error=f"{type(exc).__name__}: {exc}")
    used, limit = identity.get("daily_used"), identity.get("daily_max")
    details = dict(identity)
    if used is not None and limit:
        details["daily_percent"] = round(100 * used / limit)
    return ConnectionStatus(available=True, connected=True, details=details)
