"""The Salesforce seam: the only package that imports simple_salesforce.

    from syncapp.salesforce import get_client
    client = get_client()          # from the SALESFORCE_* settings; the sandbox by default
    for lead in client.query("SELECT Id, Email FROM Lead"): ...
    results = client.update("Lead", [{"Id": ..., "SW_Tags__c": ...}])

See docs/salesforce-connection.md for the settings and the error classes.
"""

from .client import COLLECTION_SIZE, RecordResult, SalesforceClient
from .config import config_from_settings
from .errors import LimitExhausted, SalesforceError

__all__ = [
    "COLLECTION_SIZE",
    "RecordResult",
    "SalesforceClient",
    "get_client",
    "preflight_api_reserve",
]


def get_client(**kwargs):
    """A client for the org the settings name. It logs in on its first call."""
    return SalesforceClient(config_from_settings(), **kwargs)


def preflight_api_reserve():
    """SWSTUDIO_PREFLIGHT check: None, or why a cycle must not start (too few API calls)."""
    from syncapp.models import StudioOptions  # lazy: models may import this package

    reserve = StudioOptions.load().api_call_reserve
    if not reserve:
        return None
    try:
        remaining = get_client().daily_api_remaining()
    except LimitExhausted:
        return f"the org has no daily API calls left, below the reserve of {reserve}"
    except SalesforceError as exc:
        return f"could not check the org's daily API calls: {exc}"
    if remaining is not None and remaining < reserve:
        return f"the org has {remaining} daily API calls left, below the reserve of {reserve}"
    return None
