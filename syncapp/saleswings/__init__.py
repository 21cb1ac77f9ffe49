"""The SalesWings backend client (docs/saleswings-api.md).

    from syncapp import saleswings
    client = saleswings.client(base_url, token)
    page = client.prospects(since=cursor, limit=500)

The seam takes where the backend is and the token as arguments; which endpoint and token the
product uses (Studio Options, the token connected on the Setup page) is the engine's choice:
`syncapp.engine.backend`.
"""

from django.conf import settings

from .client import ClientConfig, Page, SalesWingsClient
from .errors import AuthError

__all__ = [
    "Page",
    "SalesWingsClient",
    "check_token",
    "client",
    "default_token",
    "endpoint",
    "sandbox_endpoint",
]

SANDBOX_PATH = "/sandbox/saleswings/api/v1"


def sandbox_endpoint():
    return settings.SANDBOX_BASE_URL.rstrip("/") + SANDBOX_PATH


def endpoint(configured=""):
    """The backend's base URL: the one configured (Studio Options), then settings, then the
    sandbox."""
    return (configured or settings.SALESWINGS_API_URL or sandbox_endpoint()).rstrip("/")


def default_token(base_url):
    """The token from settings when none was connected; talking to the embedded sandbox, its
    seeded token (the embedded default works with zero configuration)."""
    token = settings.SALESWINGS_API_TOKEN
    if not token and settings.SANDBOX_ENABLED and base_url == sandbox_endpoint():
        token = getattr(settings, "SANDBOX_SALESWINGS_TOKEN", "")
    return token


def client(base_url, token, **kwargs):
    """A client for the backend at `base_url` with `token`; AuthError when there is no token."""
    if not token:
        raise AuthError(
            "No SalesWings API token: connect on the Setup page or set SALESWINGS_API_TOKEN."
        )
    config = ClientConfig(
        base_url=base_url,
        token=token,
        connect_timeout=settings.SALESWINGS_CONNECT_TIMEOUT,
        read_timeout=settings.SALESWINGS_READ_TIMEOUT,
        retry_attempts=settings.SALESWINGS_RETRY_ATTEMPTS,
        retry_base_delay=settings.SALESWINGS_RETRY_BASE_DELAY,
        retry_max_delay=settings.SALESWINGS_RETRY_MAX_DELAY,
    )
    return SalesWingsClient(config, **kwargs)


def check_token(base_url, token, **kwargs):
    """The Setup page's Connect, on the wire: GET /account with `token`. Returns the account;
    AuthError when the backend refuses the token, another SalesWingsError when it cannot be
    reached."""
    token = (token or "").strip()
    if not token:
        raise AuthError("Paste the SalesWings API token first.")
    return client(base_url, token, **kwargs).account()
