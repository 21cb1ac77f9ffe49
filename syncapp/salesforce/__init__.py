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
    "LimitExhausted",
    "RecordResult",
    "SalesforceClient",
    "SalesforceError",
    "get_client",
]


def get_client(*, interactive=False, timeout=None, **kwargs):
    """A client for the org the settings name. It logs in on its first call.

    interactive: for a check someone waits for (the Setup page's, the org check's): every call
    gives up after `timeout` seconds (default SALESFORCE_CHECK_TIMEOUT) and nothing is retried.
    """
    config = config_from_settings()
    if interactive:
        config = config.for_interactive_check(timeout)
    return SalesforceClient(config, **kwargs)
