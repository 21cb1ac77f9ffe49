"""Which SalesWings backend the product talks to, and with which token.

The endpoint is Studio Options' API Endpoint, else SALESWINGS_API_URL, else the sandbox. The
token is the one connected on the Setup page (stored encrypted), else SALESWINGS_API_TOKEN,
else (only when talking to the embedded sandbox) the sandbox's seeded token. A connected token
is bound to the endpoint it was checked with: sent nowhere else (changing Studio Options' API
Endpoint deletes it; see `syncapp.admin.options`), and outside DEBUG only over https.
"""

import logging
from urllib.parse import urlsplit

from django.conf import settings

from syncapp import saleswings
from syncapp.models import Credential, StudioOptions
from syncapp.saleswings.errors import AuthError

log = logging.getLogger(__name__)


def endpoint():
    return saleswings.endpoint(StudioOptions.load().api_endpoint)


def insecure_endpoint_problem(url):
    """Why `url` may not carry a token, or "": outside DEBUG only https does, except to this
    machine (the embedded sandbox, a local stand-in), where nothing crosses a network."""
    if url.lower().startswith("https://") or settings.DEBUG:
        return ""
    host = (urlsplit(url).hostname or "").lower()
    if host == "localhost" or host == "::1" or host.startswith("127."):
        return ""
    return "The SalesWings API endpoint must be https:// (DEBUG is off)."


def get_client(**kwargs):
    """A client for the configured backend; AuthError when there is no token. The stored
    token goes only to the endpoint it was connected to."""
    base_url = endpoint()
    problem = insecure_endpoint_problem(base_url)
    if problem:
        raise AuthError(f"{problem} No token is sent to {base_url}.")
    token = Credential.reveal(
        Credential.SALESWINGS_TOKEN, endpoint=base_url
    ) or saleswings.default_token(base_url)
    return saleswings.client(base_url, token, **kwargs)


def connect(token, user=None, **kwargs):
    """The Setup page's Connect: check the token with the backend and store it encrypted.

    Returns the account. Raises AuthError when the backend refuses the token (nothing is
    stored then), or another SalesWingsError when the backend cannot be reached.
    """
    base_url = endpoint()
    problem = insecure_endpoint_problem(base_url)
    if problem:
        raise AuthError(problem)
    account = saleswings.check_token(base_url, token, **kwargs)
    name = str(account.get("name") or account.get("id"))
    Credential.store(
        Credential.SALESWINGS_TOKEN,
        token.strip(),
        user=user,
        account_name=name,
        endpoint=base_url,
    )
    log.info("Connected to the SalesWings account %s", name)
    return account
