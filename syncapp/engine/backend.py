"""Which SalesWings backend the product talks to, and with which token.

The endpoint is Studio Options' API Endpoint, else SALESWINGS_API_URL, else the sandbox. The
token is the one connected on the Setup page (stored encrypted), else SALESWINGS_API_TOKEN,
else (only when talking to the embedded sandbox) the sandbox's seeded token.
"""

import logging

from syncapp import saleswings
from syncapp.models import Credential, StudioOptions

log = logging.getLogger(__name__)


def endpoint():
    return saleswings.endpoint(StudioOptions.load().api_endpoint)


def get_client(**kwargs):
    """A client for the configured backend; AuthError when there is no token."""
    base_url = endpoint()
    token = Credential.reveal(Credential.SALESWINGS_TOKEN) or saleswings.default_token(base_url)
    return saleswings.client(base_url, token, **kwargs)


def connect(token, user=None, **kwargs):
    """The Setup page's Connect: check the token with the backend and store it encrypted.

    Returns the account. Raises AuthError when the backend refuses the token (nothing is
    stored then), or another SalesWingsError when the backend cannot be reached.
    """
    account = saleswings.check_token(endpoint(), token, **kwargs)
    name = str(account.get("name") or account.get("id"))
    Credential.store(Credential.SALESWINGS_TOKEN, token.strip(), user=user, account_name=name)
    log.info("Connected to the SalesWings account %s", name)
    return account
