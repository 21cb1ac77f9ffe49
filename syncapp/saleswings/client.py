"""The SalesWings backend client, written against docs/saleswings-api.md.

Every call has connect/read timeouts and is retried on 5xx, 429 (honouring Retry-After),
timeouts and connection errors with exponential backoff and jitter, a bounded number of
times; each such failure is counted in `transient` by code (`SalesWings HTTP_503`,
`SalesWings HTTP_429`, `SalesWings NETWORK`), for the step's run record. Answers are checked
against the contract's shapes; anything else is a BadResponse.
The items of a /prospects or /activities page are the exception: one malformed item must not
block the page (the steps count it as a failed record), so only the page's envelope is checked.
The token travels only in the Authorization header: it is not in any message, log or repr.
"""

import logging
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

import requests

from syncapp.backoff import backoff_delay
from syncapp.fastjson import loads

from .errors import AuthError, BadResponse, RequestError, SalesWingsError, TransientError

log = logging.getLogger(__name__)

MAX_PAGE = 1000  # the contract's largest `limit`
MAX_POST = 500  # the contract's largest batch of log entries or changes


@dataclass
class Page:
    """One page of /prospects or /activities.

    Only the envelope is checked here (the list, an integer nextSince, a boolean hasMore):
    `items` is passed through as the backend sent it, so one malformed item (not an object,
    no id, wrong types) does not block the page. The steps validate every item and count a
    malformed one as a failed record with a message; the cursor still moves past it.
    """

    items: list
    next_since: int
    has_more: bool


@dataclass(frozen=True)
class ClientConfig:
    base_url: str
    token: str = field(repr=False)
    connect_timeout: float = 10.0
    read_timeout: float = 60.0
    retry_attempts: int = 5
    retry_base_delay: float = 1.0
    retry_max_delay: float = 30.0


MAX_SEQ = 2**63 - 1  # change numbers are stored as 64-bit integers


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


class SalesWingsClient:
    def __init__(self, config, *, session=None, sleep=time.sleep):
        if not config.token:
            raise AuthError("No SalesWings API token: connect on the Setup page.")
        self.config = config
        self.base_url = config.base_url.rstrip("/")
        self.session = session or requests.Session()
        self.calls = 0
        # Transient failures met (each retried, or the last before giving up), by code: the
        # run record counts them as it counts Salesforce's. A read-ahead thread calls too.
        self.transient = Counter()
        self._transient_lock = threading.Lock()
        self._sleep = sleep

    def __repr__(self):
        return f"<SalesWingsClient {self.base_url}>"

    # --- transport -------------------------------------------------------------------------

    def _request(self, method, path, *, params=None, json=None):
        """The decoded JSON answer of one call, after retries."""
        url = f"{self.base_url}{path}"
        what = f"SalesWings {method} {path}"
        attempts = max(1, self.config.retry_attempts)
        for attempt in range(1, attempts + 1):
            retry_after = None
            try:
                self.calls += 1
                response = self.session.request(
                    method,
                    url,
                    params=params,
                    json=json,
                    headers={
                        "Authorization": f"Bearer {self.config.token}",
                        "Accept": "application/json",
                    },
                    timeout=(self.config.connect_timeout, self.config.read_timeout),
                )
            except (requests.Timeout, requests.ConnectionError) as exc:
                error = TransientError(f"{what}: {type(exc).__name__}")
                self._count_transient("SalesWings NETWORK")
            else:
                status = response.status_code
                if 200 <= status < 300:
                    return self._decode(response, what)
                code, message = self._error_body(response)
                text = f"{what}: HTTP {status}" + (f" {code}: {message}" if code else "")
                if status == 401:
                    raise AuthError(
                        f"{what}: the backend refused the API token ({code or 'HTTP 401'})",
                        status=status,
                        code=code,
                    )
                if status >= 500 or status == 429:
                    error = TransientError(text, status=status, code=code)
                    retry_after = self._retry_after(response)
                    self._count_transient(f"SalesWings HTTP_{status}")
                else:
                    raise RequestError(text, status=status, code=code)
            if attempt >= attempts:
                raise TransientError(
                    f"{error} (gave up after {attempt} attempts)",
                    status=error.status,
                    code=error.code,
                )
            delay = backoff_delay(
                attempt, self.config.retry_base_delay, self.config.retry_max_delay
            )
            if retry_after is not None:
                delay = max(delay, min(retry_after, self.config.retry_max_delay))
            log.warning("%s (attempt %d of %d); retrying in %.1fs", error, attempt, attempts, delay)
            self._sleep(delay)
        raise AssertionError("unreachable")

    def _count_transient(self, code):
        with self._transient_lock:
            self.transient[code] += 1

    @staticmethod
    def _decode(response, what):
        if response.status_code == 204 or not response.content:
            return {}
        try:
            return loads(response.content)
        except ValueError:
            raise BadResponse(
                f"{what}: the answer is not JSON", status=response.status_code
            ) from None

    @staticmethod
    def _error_body(response):
        try:
            body = response.json()
        except ValueError:
            return "", ""
        err = body.get("error") if isinstance(body, dict) else None
        if isinstance(err, dict):
            return str(err.get("code", "")), str(err.get("message", ""))[:300]
        return "", ""

    @staticmethod
    def _retry_after(response):
        try:
            return float(response.headers.get("Retry-After", ""))
        except ValueError:
            return None

    @staticmethod
    def _expect(body, key, kind, what):
        value = body.get(key) if isinstance(body, dict) else None
        if not isinstance(value, kind):
            raise BadResponse(f"{what}: the answer has no {key!r} {kind.__name__}")
        return value

    def _list_of_objects(self, body, key, what):
        items = self._expect(body, key, list, what)
        if not all(isinstance(item, dict) for item in items):
            raise BadResponse(f"{what}: {key!r} holds something other than objects")
        return items

    # --- the contract --------------------------------------------------------------------

    def account(self):
        what = "SalesWings account"
        account = self._expect(self._request("GET", "/account"), "account", dict, what)
        if "id" not in account:
            raise BadResponse(f"{what}: the account has no id")
        return account

    def tags(self):
        return self._list_of_objects(self._request("GET", "/tags"), "tags", "SalesWings tags")

    def scores(self):
        return self._list_of_objects(self._request("GET", "/scores"), "scores", "SalesWings scores")

    def _page(self, path, key, since, limit):
        what = f"SalesWings {key}"
        if not _is_int(since) or since < 0:
            raise ValueError(f"since must be a non-negative integer, not {since!r}")
        limit = max(1, min(int(limit), MAX_PAGE))
        body = self._request("GET", path, params={"since": since, "limit": limit})
        items = self._expect(body, key, list, what)
        malformed = sum(1 for item in items if not isinstance(item, dict))
        if malformed:
            log.warning("%s: %d item(s) on the page are not objects", what, malformed)
        next_since = body.get("nextSince")
        has_more = body.get("hasMore")
        if not _is_int(next_since) or not isinstance(has_more, bool):
            raise BadResponse(f"{what}: the answer has no integer nextSince or boolean hasMore")
        if next_since > MAX_SEQ:
            raise BadResponse(f"{what}: nextSince {next_since} is past 2**63 - 1")
        if next_since < since:
            raise BadResponse(f"{what}: nextSince {next_since} went back from since {since}")
        return Page(items=items, next_since=next_since, has_more=has_more)

    def prospects(self, since, limit=500):
        """Prospects with seq > since, ascending. Store `next_since` only once committed."""
        return self._page("/prospects", "prospects", since, limit)

    def activities(self, since, limit=500):
        return self._page("/activities", "activities", since, limit)

    def send_metrics(self, metrics):
        if not isinstance(metrics, dict):
            raise ValueError("metrics must be a JSON object (dict)")
        self._request("POST", "/metrics", json=metrics)

    def _post_batches(self, path, key, items, what):
        accepted = 0
        for start in range(0, len(items), MAX_POST):
            body = self._request("POST", path, json={key: items[start : start + MAX_POST]})
            count = body.get("accepted") if isinstance(body, dict) else None
            if not _is_int(count):
                raise BadResponse(f"{what}: the answer has no integer 'accepted'")
            accepted += count
        return accepted

    def send_logs(self, entries):
        """Ship log entries (≤ 500 a call); returns how many the backend accepted."""
        return self._post_batches("/logs", "entries", list(entries), "SalesWings logs")

    def send_changes(self, records):
        """Send Lead/Contact changes up (≤ 500 a call); returns how many were accepted."""
        return self._post_batches(
            "/salesforce-changes", "records", list(records), "SalesWings changes"
        )


__all__ = ["Page", "SalesWingsClient", "ClientConfig", "SalesWingsError"]
