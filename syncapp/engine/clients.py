"""The one place the engine gets its network clients from.

Steps call `clients.salesforce()` / `clients.saleswings()` rather than importing the client
packages at module level, so tests can put in-memory fakes at exactly the network seam.
"""


def salesforce():
    from syncapp.salesforce import get_client

    return get_client()


def saleswings():
    from syncapp.saleswings import get_client

    return get_client()
