"""OAuth 2.0 logins against `{login_url}/services/oauth2/token`, done with requests.

We log in ourselves rather than through simple-salesforce so that every flow (password,
client credentials, JWT bearer) works the same way, the sandbox's plain-http login URL works,
and re-login after INVALID_SESSION_ID is ours to control. Nothing here logs or puts a
password, secret, key or access token in an exception message.
"""

import threading
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import jwt

from . import config as cfg
from .errors import AuthenticationError, ConfigurationError, TransientError


@dataclass(frozen=True)
class Token:
    access_token: str = field(repr=False)
    instance_url: str
    # The identity URL (…/id/<org id>/<user id>) Salesforce returns with every token.
    id_url: str = ""

    @property
    def org_id(self):
        parts = urlsplit(self.id_url).path.rstrip("/").split("/")
        return parts[-2] if len(parts) >= 3 and parts[-3] == "id" else ""

    @property
    def user_id(self):
        parts = urlsplit(self.id_url).path.rstrip("/").split("/")
        return parts[-1] if len(parts) >= 3 and parts[-3] == "id" else ""


def _form(config):
    if config.flow == cfg.PASSWORD:
        return {
            "grant_type": "password",
            "client_id": config.client_id,
            "client_secret": config.client_secret,
            "username": config.username,
            "password": config.password + config.security_token,
        }
    if config.flow == cfg.CLIENT_CREDENTIALS:
        return {
            "grant_type": "client_credentials",
            "client_id": config.client_id,
            "client_secret": config.client_secret,
        }
    if config.flow == cfg.JWT_BEARER:
        return {
            "grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer",
            "assertion": _jwt_assertion(config),
        }
    raise ConfigurationError(f"Unknown Salesforce login flow {config.flow!r}")


def _jwt_assertion(config):
    try:
        with open(config.jwt_key_file) as fh:
            key = fh.read()
    except OSError as exc:
        raise ConfigurationError(
            f"Cannot read SALESFORCE_JWT_KEY_FILE {config.jwt_key_file}: {exc.strerror}"
        ) from None
    claims = {
        "iss": config.client_id,
        "sub": config.username,
        "aud": config.audience,
        # Salesforce accepts assertions that expire within 3 minutes.
        "exp": int(time.time()) + 170,
    }
    try:
        return jwt.encode(claims, key, algorithm="RS256")
    except (ValueError, TypeError, jwt.PyJWTError) as exc:
        raise ConfigurationError(
            f"SALESFORCE_JWT_KEY_FILE is not a usable RSA private key ({type(exc).__name__})"
        ) from None


def login(config, session):
    """Log in with the configured flow and return a Token.

    5xx answers raise TransientError (timeouts and connection errors propagate as requests'
    exceptions); both are retried by the caller. A refused login raises AuthenticationError.
    """
    where = f"Salesforce login ({config.flow.replace('_', ' ')} flow at {config.login_url})"
    response = session.post(config.token_url, data=_form(config), timeout=config.timeout)
    if response.status_code >= 500:
        raise TransientError(f"{where}: HTTP {response.status_code}", status=response.status_code)
    try:
        body = response.json()
    except ValueError:
        body = None
    if response.status_code != 200 or not isinstance(body, dict):
        detail = f"HTTP {response.status_code}"
        code = ""
        if isinstance(body, dict) and body.get("error"):
            code = str(body["error"])
            detail = f"{code}: {body.get('error_description', '')}".rstrip(": ")
        raise AuthenticationError(
            f"{where} failed: {detail}", code=code, status=response.status_code
        )
    if not body.get("access_token") or not body.get("instance_url"):
        raise AuthenticationError(f"{where}: the answer has no access_token or instance_url")
    return Token(
        access_token=body["access_token"],
        instance_url=body["instance_url"].rstrip("/"),
        id_url=body.get("id", ""),
    )


class TokenCache:
    """One access token per connection config and process, shared by the clients of all the
    steps a worker runs, so each step does not log in again (Salesforce rate-limits logins).
    A client that meets INVALID_SESSION_ID replaces the cached token."""

    def __init__(self):
        self._lock = threading.Lock()
        self._tokens = {}

    def get(self, config):
        with self._lock:
            return self._tokens.get(config.cache_key)

    def put(self, config, token):
        with self._lock:
            self._tokens[config.cache_key] = token

    def discard(self, config, token):
        with self._lock:
            if self._tokens.get(config.cache_key) is token:
                del self._tokens[config.cache_key]

    def clear(self):
        with self._lock:
            self._tokens.clear()


token_cache = TokenCache()
