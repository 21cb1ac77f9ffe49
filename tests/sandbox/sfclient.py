"""How a client reaches the sandbox's Salesforce stand-in over plain HTTP.

simple-salesforce builds every URL as `https://{instance}` and logs in at
`https://{domain}.salesforce.com/services/oauth2/token`. This adapter sends both to the
sandbox over http: requests to the sandbox's host:port and to any *.salesforce.com host
are rewritten to `http://<sandbox host:port>`, path and query kept.
"""

from urllib.parse import urlsplit, urlunsplit

import requests
from requests.adapters import HTTPAdapter
from simple_salesforce import Salesforce


class SandboxAdapter(HTTPAdapter):
    def __init__(self, base_url, **kwargs):
        super().__init__(**kwargs)
        self.netloc = urlsplit(base_url).netloc

    def send(self, request, **kwargs):
        parts = urlsplit(request.url)
        host = parts.hostname or ""
        if parts.scheme == "https" and (
            parts.netloc == self.netloc or host.endswith(".salesforce.com")
        ):
            request.url = urlunsplit(("http", self.netloc, parts.path, parts.query, ""))
        return super().send(request, **kwargs)


def sandbox_session(base_url):
    session = requests.Session()
    session.mount("https://", SandboxAdapter(base_url))
    return session


def login_client(base_url, cfg, **kwargs):
    """A client built from the username-password OAuth flow: it logs in again by itself
    when a call answers 401 INVALID_SESSION_ID."""
    return Salesforce(
        username=cfg.sf_username,
        password=cfg.sf_password,
        consumer_key=cfg.sf_client_id,
        consumer_secret=cfg.sf_client_secret,
        session=sandbox_session(base_url),
        **kwargs,
    )


def token(base_url, cfg, grant="password"):
    data = {
        "grant_type": grant,
        "client_id": cfg.sf_client_id,
        "client_secret": cfg.sf_client_secret,
    }
    if grant == "password":
        data.update(username=cfg.sf_username, password=cfg.sf_password)
    response = requests.post(f"{base_url}/services/oauth2/token", data=data, timeout=10)
    response.raise_for_status()
    return response.json()


def direct_client(base_url, cfg):
    """A client built from an access token (what the product does after its own login):
    simple-salesforce never refreshes such a client."""
    answer = token(base_url, cfg)
    return Salesforce(
        instance_url=answer["instance_url"],
        session_id=answer["access_token"],
        session=sandbox_session(base_url),
    )
