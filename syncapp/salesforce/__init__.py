"""The Salesforce seam: the only package that imports simple_salesforce.

    from syncapp.salesforce import get_client
    client = get_client()          # from the SALESFORCE_* settings; the sandbox by default
    for lead in client.query("SELECT Id, Email FROM Lead"): ...
    results = client.update("Lead", [{"Id": ..., "SW_Tags__c": ...}])

See docs/salesforce-connection.md for the settings and the error classes.
"""

from dataclasses import replace

from .client import COLLECTION_SIZE, RecordResult, SalesforceClient
from .config import config_from_settings
from .errors import LimitExhausted, SalesforceError

__all__ = [
    "COLLECTION_SIZE",
    "LimitExhausted",
    "RecordResult",
    "SalesforceClient",
    "SalesforceError",
    "get_client",
]


def get_client(*, overrides=None, **kwargs):
    """A client for the org the settings name. It logs in on its first call.

    `overrides`: connection settings to use instead of the configured ones (e.g.
    `{"retry_attempts": 1, "connect_timeout": 5}` for a check that must answer quickly).
    """
    config = config_from_settings()
    if overrides:
        config = replace(config, **overrides)
    return SalesforceClient(config, **kwargs)
