"""Which org to talk to and how to log in, read from settings (the SALESFORCE_* variables).

Flows, chosen by which variables are set (docs/salesforce-connection.md):
- JWT bearer: SALESFORCE_JWT_KEY_FILE + SALESFORCE_CLIENT_ID + SALESFORCE_USERNAME;
- username-password: SALESFORCE_USERNAME + SALESFORCE_PASSWORD (+ SALESFORCE_SECURITY_TOKEN)
  with the connected app's SALESFORCE_CLIENT_ID / SALESFORCE_CLIENT_SECRET;
- client credentials: SALESFORCE_CLIENT_ID + SALESFORCE_CLIENT_SECRET only (needs a My Domain
  login URL);
- nothing set: the bundled sandbox, with its seeded connected app and user.
"""

from dataclasses import dataclass, field, replace
from urllib.parse import urlsplit

from django.conf import settings

from .errors import ConfigurationError

PASSWORD = "password"
CLIENT_CREDENTIALS = "client_credentials"
JWT_BEARER = "jwt_bearer"

# The sandbox's seeded connected app and integration user (see docs/sandbox.md); settings of
# the same names override them.
SANDBOX_DEFAULTS = {
    # Where the org stand-in is served under SANDBOX_BASE_URL ("" = at the root).
    "SANDBOX_SF_PATH": "",
    "SANDBOX_SF_USERNAME": "sync@swstudio.sandbox",
    "SANDBOX_SF_PASSWORD": "sandbox-password",
    "SANDBOX_SF_CLIENT_ID": "swstudio-sandbox-client-id",
    "SANDBOX_SF_CLIENT_SECRET": "swstudio-sandbox-client-secret",
}


def _sandbox(name):
    return getattr(settings, name, SANDBOX_DEFAULTS[name])


@dataclass(frozen=True)
class ConnectionConfig:
    login_url: str
    flow: str
    username: str = ""
    # Secrets are kept out of repr() so a config never ends up in a log or a traceback.
    password: str = field(default="", repr=False)
    security_token: str = field(default="", repr=False)
    client_id: str = ""
    client_secret: str = field(default="", repr=False)
    jwt_key_file: str = ""
    jwt_audience: str = ""
    api_version: str = "59.0"
    connect_timeout: float = 10.0
    read_timeout: float = 120.0
    retry_attempts: int = 5
    retry_base_delay: float = 1.0
    retry_max_delay: float = 30.0
    max_query_uri_bytes: int = 15000
    check_timeout: float = 5.0
    is_sandbox: bool = False

    @property
    def timeout(self):
        return (self.connect_timeout, self.read_timeout)

    def for_interactive_check(self, timeout=None):
        """The same connection with a single attempt and the check's timeout (`timeout`
        seconds, default the configured check timeout) on connecting and on each answer."""
        timeout = timeout or self.check_timeout
        return replace(self, connect_timeout=timeout, read_timeout=timeout, retry_attempts=1)

    @property
    def token_url(self):
        return f"{self.login_url}/services/oauth2/token"

    @property
    def cache_key(self):
        return (self.login_url, self.flow, self.username, self.client_id)

    @property
    def audience(self):
        """The JWT `aud`: Salesforce wants its login server, not a My Domain."""
        if self.jwt_audience:
            return self.jwt_audience
        host = urlsplit(self.login_url).hostname or ""
        if host == "test.salesforce.com" or ".sandbox.my.salesforce.com" in host:
            return "https://test.salesforce.com"
        if host.endswith(".salesforce.com") or host.endswith(".force.com"):
            return "https://login.salesforce.com"
        return self.login_url


def _common():
    return {
        "api_version": settings.SALESFORCE_API_VERSION,
        "connect_timeout": settings.SALESFORCE_CONNECT_TIMEOUT,
        "read_timeout": settings.SALESFORCE_READ_TIMEOUT,
        "retry_attempts": max(1, settings.SALESFORCE_RETRY_ATTEMPTS),
        "retry_base_delay": settings.SALESFORCE_RETRY_BASE_DELAY,
        "retry_max_delay": settings.SALESFORCE_RETRY_MAX_DELAY,
        "max_query_uri_bytes": settings.SALESFORCE_MAX_QUERY_URI_BYTES,
        "check_timeout": settings.SALESFORCE_CHECK_TIMEOUT,
    }


def sandbox_login_url():
    return settings.SANDBOX_BASE_URL.rstrip("/") + _sandbox("SANDBOX_SF_PATH")


def config_from_settings():
    """The connection described by settings; ConfigurationError when it is incomplete."""
    s = settings
    login_url = s.SALESFORCE_LOGIN_URL.rstrip("/")
    has_credentials = any(
        [s.SALESFORCE_USERNAME, s.SALESFORCE_CLIENT_ID, s.SALESFORCE_JWT_KEY_FILE]
    )
    if not has_credentials:
        if login_url:
            raise ConfigurationError(
                "SALESFORCE_LOGIN_URL is set but no credentials are: set SALESFORCE_USERNAME "
                "and SALESFORCE_PASSWORD, SALESFORCE_CLIENT_ID and SALESFORCE_CLIENT_SECRET, or "
                "SALESFORCE_JWT_KEY_FILE (see docs/salesforce-connection.md)."
            )
        return ConnectionConfig(
            login_url=sandbox_login_url(),
            flow=PASSWORD,
            username=_sandbox("SANDBOX_SF_USERNAME"),
            password=_sandbox("SANDBOX_SF_PASSWORD"),
            client_id=_sandbox("SANDBOX_SF_CLIENT_ID"),
            client_secret=_sandbox("SANDBOX_SF_CLIENT_SECRET"),
            is_sandbox=True,
            **_common(),
        )
    login_url = login_url or "https://login.salesforce.com"
    missing = []
    if s.SALESFORCE_JWT_KEY_FILE:
        flow = JWT_BEARER
        missing = [n for n in ("SALESFORCE_CLIENT_ID", "SALESFORCE_USERNAME") if not getattr(s, n)]
    elif s.SALESFORCE_USERNAME:
        flow = PASSWORD
        missing = [
            n
            for n in ("SALESFORCE_PASSWORD", "SALESFORCE_CLIENT_ID", "SALESFORCE_CLIENT_SECRET")
            if not getattr(s, n)
        ]
    else:
        flow = CLIENT_CREDENTIALS
        missing = [n for n in ("SALESFORCE_CLIENT_SECRET",) if not getattr(s, n)]
    if missing:
        raise ConfigurationError(
            f"The Salesforce {flow.replace('_', ' ')} login needs {', '.join(missing)} "
            "(see docs/salesforce-connection.md)."
        )
    return ConnectionConfig(
        login_url=login_url,
        flow=flow,
        username=s.SALESFORCE_USERNAME,
        password=s.SALESFORCE_PASSWORD,
        security_token=s.SALESFORCE_SECURITY_TOKEN,
        client_id=s.SALESFORCE_CLIENT_ID,
        client_secret=s.SALESFORCE_CLIENT_SECRET,
        jwt_key_file=s.SALESFORCE_JWT_KEY_FILE,
        jwt_audience=s.SALESFORCE_JWT_AUDIENCE,
        **_common(),
    )
