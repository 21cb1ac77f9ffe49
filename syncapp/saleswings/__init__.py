"""The SalesWings backend client (docs/saleswings-api.md).

    from syncapp.saleswings import get_client
    page = get_client().prospects(since=cursor, limit=500)

The endpoint is Studio Options' API Endpoint, else SALESWINGS_API_URL, else the sandbox. The
token is the one connected on the Setup page, else SALESWINGS_API_TOKEN, else (only when
talking to the embedded sandbox) the sandbox's seeded token.
"""

import logging

from django.conf import settings

from .client import ClientConfig, Page, SalesWingsClient
from .errors import AuthError

__all__ = ["Page", "SalesWingsClient", "connect", "get_client", "endpoint"]

log = logging.getLogger(__name__)

SANDBOX_PATH = "/sandbox/saleswings/api/v1"


def sandbox_endpoint():
    return settings.SANDBOX_BASE_URL.rstrip("/") + SANDBOX_PATH


def endpoint():
    """The backend's base URL: Studio Options, then settings, then the sandbox."""
    from syncapp.models import StudioOptions  # lazy: models may import this package

    configured = StudioOptions.load().api_endpoint or settings.SALESWINGS_API_URL
    return (configured or sandbox_endpoint()).rstrip("/")


def _config(base_url, token):
    return ClientConfig(
        base_url=base_url,
        token=token,
        connect_timeout=settings.SALESWINGS_CONNECT_TIMEOUT,
        read_timeout=settings.SALESWINGS_READ_TIMEOUT,
        retry_attempts=settings.SALESWINGS_RETRY_ATTEMPTS,
        retry_base_delay=settings.SALESWINGS_RETRY_BASE_DELAY,
        retry_max_delay=settings.SALESWINGS_RETRY_MAX_DELAY,
    )


def _token(base_url):
    from syncapp.models import Credential

    token = Credential.reveal(Credential.SALESWINGS_TOKEN) or settings.SALESWINGS_API_TOKEN
    if not token and settings.SANDBOX_ENABLED and base_url == sandbox_endpoint():
        # The embedded default works with zero configuration: the sandbox's seeded token.
        token = getattr(settings, "SANDBOX_SALESWINGS_TOKEN", "")
    return token


def get_client(**kwargs):
    """A client for the configured backend; AuthError when there is no token."""
    base_url = endpoint()
    token = _token(base_url)
    if not token:
        raise AuthError(
            "No SalesWings API token: connect on the Setup page or set SALESWINGS_API_TOKEN."
        )
    return SalesWingsClient(_config(base_url, token), **kwargs)


def connect(token, user=None, **kwargs):
    """The Setup page's Connect: check the token with GET /account and store it encrypted.

    Returns the account. Raises AuthError when the backend refuses the token (nothing is
    stored then), or another SalesWingsError when the backend cannot be reached.
    """
    token = (token or "").strip()
    if not token:
        raise AuthError("Paste the SalesWings API token first.")
    client = SalesWingsClient(_config(endpoint(), token), **kwargs)
    account = client.account()
    from syncapp.models import Credential

    Credential.store(
        Credential.SALESWINGS_TOKEN,
        token,
        user=user,
        account_name=str(account.get("name") or account.get("id")),
    )
    log.info("Connected to the SalesWings account %s", account.get("name") or account.get("id"))
    return account
