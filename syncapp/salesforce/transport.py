"""The requests.Session under simple-salesforce.

simple-salesforce builds every URL as `https://{host}/services/...`. The sandbox's stand-in is
served over plain http (and possibly under a path prefix), so for that one host the session
carries an adapter that turns `https://host/services/...` back into `http://host/<prefix>/services/...`.
Real orgs are https and need none of this.
"""

from urllib.parse import urlsplit, urlunsplit

import requests
from requests.adapters import HTTPAdapter


class PlainHttpAdapter(HTTPAdapter):
    """Sends `https://host/...` requests to `http://host/<prefix>/...` (the sandbox)."""

    def __init__(self, prefix="", **kwargs):
        super().__init__(**kwargs)
        self.prefix = prefix.rstrip("/")

    def send(self, request, **kwargs):
        parts = urlsplit(request.url)
        path = parts.path
        # nextRecordsUrl may already carry the prefix when the server knows it.
        if self.prefix and not (path == self.prefix or path.startswith(self.prefix + "/")):
            path = self.prefix + path
        request.url = urlunsplit(("http", parts.netloc, path, parts.query, parts.fragment))
        return super().send(request, **kwargs)


def build_session():
    session = requests.Session()
    # Steps may run a few calls concurrently on one client; keep connections warm.
    adapter = HTTPAdapter(pool_connections=4, pool_maxsize=8)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


def instance_host(instance_url):
    """The `host[:port]` simple-salesforce will put in its https URLs for this instance."""
    parts = urlsplit(instance_url)
    host = parts.hostname or ""
    if parts.port not in (None, 443):
        host += f":{parts.port}"
    return host


def prepare_for_instance(session, instance_url):
    """Mount the http rewrite for a plain-http instance URL; nothing for https ones."""
    parts = urlsplit(instance_url)
    if parts.scheme != "http":
        return
    session.mount(
        f"https://{instance_host(instance_url)}/",
        PlainHttpAdapter(prefix=parts.path, pool_connections=4, pool_maxsize=8),
    )


def absolute(instance_url, path):
    """A full URL for a path Salesforce returned (e.g. an identity URL), as simple-salesforce
    would build it: unchanged when absolute, on the instance otherwise."""
    if urlsplit(path).scheme:
        return path
    parts = urlsplit(instance_url)
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))
