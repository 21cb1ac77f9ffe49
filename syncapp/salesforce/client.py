"""The Salesforce client the steps use: queries, sObject Collections writes, describe, limits.

Every call goes through `_call`, which classifies failures (design.md §2):
- transient (5xx, 429, timeouts, connection errors, UNABLE_TO_LOCK_ROW): retried with
  exponential backoff and jitter, SALESFORCE_RETRY_ATTEMPTS attempts in all, then
  `TransientError`;
- 401 INVALID_SESSION_ID: log in again once for that call, then retry it;
- 403 REQUEST_LIMIT_EXCEEDED: `LimitExhausted` (a StopStep), never retried;
- anything else: `PermanentError` saying what Salesforce answered.
Writes use sObject Collections with allOrNone=false, 200 records a call, and answer one
`RecordResult` per input record, in input order. Records that failed only because of
UNABLE_TO_LOCK_ROW are sent again on their own (with backoff) before their result is final.
"""

import logging
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import requests
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceError as SimpleSalesforceError

from syncapp.backoff import backoff_delay
from syncapp.fastjson import loads

from . import soql
from .auth import login, token_cache
from .errors import LimitExhausted, PermanentError, SalesforceError, TransientError
from .transport import build_session, prepare_for_instance

log = logging.getLogger(__name__)

COLLECTION_SIZE = 200  # sObject Collections take at most 200 records a call
LOCK_ERROR = "UNABLE_TO_LOCK_ROW"
MAX_MESSAGE = 300


@dataclass
class RecordResult:
    """The outcome for one record of a write, in the order the records were given."""

    id: str | None
    success: bool
    errors: list[str] = field(default_factory=list)
    codes: list[str] = field(default_factory=list)
    # Upserts only: whether the record was created (True) or updated (False).
    created: bool | None = None

    @property
    def message(self):
        """The errors as one line, `CODE: message; ...`."""
        return "; ".join(
            f"{code}: {text}" if code else text
            for code, text in zip(self.codes, self.errors, strict=False)
        )

    @classmethod
    def from_api(cls, raw):
        if not isinstance(raw, dict) or "success" not in raw:
            raise PermanentError(f"Malformed per-record result from Salesforce: {str(raw)[:200]}")
        errors, codes = [], []
        for err in raw.get("errors") or []:
            code = str(err.get("statusCode", "")) if isinstance(err, dict) else ""
            text = str(err.get("message", "")) if isinstance(err, dict) else str(err)
            fields = err.get("fields") if isinstance(err, dict) else None
            if fields:
                text = f"{text} (fields: {', '.join(map(str, fields))})"
            errors.append(text)
            codes.append(code)
        return cls(
            id=raw.get("id"),
            success=bool(raw["success"]),
            errors=errors,
            codes=codes,
            created=raw.get("created"),
        )


def _error_items(content):
    """Salesforce error bodies: a list of {errorCode, message} (or one such dict)."""
    if isinstance(content, dict):
        content = [content]
    if not isinstance(content, list):
        return []
    return [item for item in content if isinstance(item, dict)]


def _describe_error(exc):
    """(code, text) of a simple-salesforce exception, without the URL (it holds the query)."""
    items = _error_items(exc.content)
    if items:
        code = str(items[0].get("errorCode") or items[0].get("error") or "")
        text = str(items[0].get("message") or items[0].get("error_description") or "")
        return code, text
    body = exc.content.decode(errors="replace") if isinstance(exc.content, bytes) else exc.content
    return "", str(body or "").strip()[:MAX_MESSAGE]


def _trim(text):
    return text if len(text) <= MAX_MESSAGE else text[: MAX_MESSAGE - 1] + "…"


def classify(exc, what):
    """Map a failure of one call to one of our error classes (an instance, not raised)."""
    if isinstance(exc, SalesforceError):
        return exc
    if isinstance(exc, SimpleSalesforceError):
        code, text = _describe_error(exc)
        status = exc.status
        message = _trim(f"{what}: HTTP {status} {code + ': ' if code else ''}{text}".rstrip(": "))
        if code == LOCK_ERROR:
            return TransientError(message, code=code, status=status)
        if status == 403 and code == "REQUEST_LIMIT_EXCEEDED":
            return LimitExhausted(
                f"The org's daily API request limit is used up ({text or code}); the rest "
                "stays pending until the limit resets.",
                code=code,
                status=status,
            )
        if status >= 500 or status == 429:
            return TransientError(message, code=code, status=status)
        if status in (414, 431):  # the org's web server answers, in HTML
            sent = "URI" if status == 414 else "URI and headers"
            return PermanentError(
                f"{what}: HTTP {status}: the request's {sent} are over Salesforce's 16,384-byte "
                "limit (a query travels in the URI: lower SALESFORCE_MAX_QUERY_URI_BYTES).",
                status=status,
            )
        return PermanentError(message, code=code, status=status)
    if isinstance(
        exc, (requests.Timeout, requests.ConnectionError, requests.exceptions.ChunkedEncodingError)
    ):
        return TransientError(f"{what}: {type(exc).__name__}: {_trim(str(exc))}")
    if isinstance(exc, ValueError):  # includes requests' JSONDecodeError
        return PermanentError(f"{what}: Salesforce answered something that is not JSON")
    return None


def _transient_key(error):
    """HTTP_503 for a 5xx or 429 answer (whatever its errorCode), else the code."""
    if error.status and (error.status >= 500 or error.status == 429):
        return f"HTTP_{error.status}"
    return error.code or "NETWORK"


_SCALARS = frozenset((str, int, float, bool, type(None)))


class _Salesforce(Salesforce):
    """simple-salesforce's client, its JSON answers decoded by orjson (`syncapp.fastjson`):
    a query page of 2,000 records takes about half the standard library's time."""

    def parse_result_to_json(self, result):
        return loads(result.content)


def _strip_attributes(record):
    """A query record without `attributes`, also inside parent and child relationships.

    The record is changed in place and returned: the client decoded it and owns it.
    """
    record.pop("attributes", None)
    # The usual record holds only scalars: told by its values' types, in C.
    if not _SCALARS.issuperset(map(type, record.values())):
        for value in record.values():
            if isinstance(value, dict):
                if "records" in value and isinstance(value["records"], list):
                    value["records"] = [_strip_attributes(r) for r in value["records"]]
                else:
                    _strip_attributes(value)
    return record


def _chunks(items, size):
    for start in range(0, len(items), size):
        yield items[start : start + size]


class SalesforceClient:
    def __init__(self, config, *, session=None, sleep=time.sleep, cache=token_cache):
        self.config = config
        self.session = session or build_session()
        self.calls = 0  # API calls made (each attempt counts; logins do not)
        self.logins = 0
        # Transient failures met, by code: each one retried (or, the last, given up on): 5xx
        # and 429 answers, timeouts, UNABLE_TO_LOCK_ROW (per record in collections) and
        # expired sessions (logged in again). Steps report them in their run record entry.
        self.transient = Counter()
        self._transient_lock = threading.Lock()
        self._sleep = sleep
        self._cache = cache
        self._token = None
        self._sf = None
        self._api_usage = None
        self._describes = {}
        self.session.hooks["response"].append(self._track_usage)

    def __repr__(self):
        return f"<SalesforceClient {self.config.login_url} ({self.config.flow})>"

    # --- connection ----------------------------------------------------------------------

    def _connect(self, *, fresh=False):
        token = None if fresh else (self._cache.get(self.config) if self._cache else None)
        if token is None:
            token = login(self.config, self.session)
            self.logins += 1
            if self._cache:
                self._cache.put(self.config, token)
        prepare_for_instance(self.session, token.instance_url)
        sf = _Salesforce(
            instance_url=token.instance_url,
            session_id=token.access_token,
            session=self.session,
            version=self.config.api_version,
            # Plain dicts wherever simple-salesforce still decodes by itself (an `SFType`'s
            # calls; the steps use none): the default OrderedDict hook is a Python call per
            # JSON object.
            object_pairs_hook=None,
        )
        sf.headers.pop("X-PrettyPrint", None)  # smaller answers
        self._token, self._sf = token, sf
        return sf

    def _relogin(self):
        if self._cache and self._token is not None:
            self._cache.discard(self.config, self._token)
        return self._connect(fresh=True)

    def _track_usage(self, response, *args, **kwargs):
        header = response.headers.get("Sforce-Limit-Info")
        if header:
            usage = Salesforce.parse_api_usage(header).get("api-usage")
            if usage is not None:
                self._api_usage = (usage.used, usage.total)

    @property
    def api_usage(self):
        """(used, max) daily API requests from the last Sforce-Limit-Info header, or None."""
        return self._api_usage

    def seen(self):
        """What this client learned of the org without asking for it: the identity of its
        session and the last daily API usage header. None when the org never answered."""
        if self._api_usage is None:
            return None
        token = self._token
        return {
            "org_id": token.org_id if token else "",
            "instance_url": token.instance_url if token else "",
            "username": self.config.username,
            "api_usage": self._api_usage,
        }

    # --- the retry loop ------------------------------------------------------------------

    def _call(self, what, fn):
        """Run fn(sf) with re-login on session expiry and retries on transient failures."""
        attempt = 0
        relogged = False
        while True:
            attempt += 1
            try:
                sf = self._sf or self._connect()
                with self._transient_lock:  # read-ahead and write-behind threads call too
                    self.calls += 1
                return fn(sf)
            except Exception as exc:  # classified below; unknown ones propagate
                if (
                    not relogged
                    and isinstance(exc, SimpleSalesforceError)
                    and exc.status == 401
                    and _describe_error(exc)[0] == "INVALID_SESSION_ID"
                ):
                    # The session expired (or was revoked): log in again, once per call.
                    log.info("Salesforce session expired during %s; logging in again", what)
                    self._count_transient("INVALID_SESSION_ID")
                    relogged = True
                    attempt -= 1
                    try:
                        self._relogin()
                    except Exception as login_exc:
                        exc = login_exc
                    else:
                        continue
                error = classify(exc, what)
                if error is None:
                    raise
                if isinstance(error, TransientError):
                    self._count_transient(_transient_key(error))
                if not isinstance(error, TransientError) or attempt >= self.config.retry_attempts:
                    if isinstance(error, TransientError) and error is not exc:
                        error = TransientError(
                            f"{error} (gave up after {attempt} attempts)",
                            code=error.code,
                            status=error.status,
                        )
                    raise error from (exc if error is not exc else None)
                delay = backoff_delay(
                    attempt, self.config.retry_base_delay, self.config.retry_max_delay
                )
                log.warning(
                    "%s (attempt %d of %d); retrying in %.1fs",
                    error,
                    attempt,
                    self.config.retry_attempts,
                    delay,
                )
                self._sleep(delay)

    def _count_transient(self, code, n=1):
        with self._transient_lock:
            self.transient[code] += n

    def _rest(self, what, path, method="GET", **kwargs):
        return self._call(
            what,
            lambda sf: sf.restful(path, method=method, timeout=self.config.timeout, **kwargs),
        )

    # --- reads ---------------------------------------------------------------------------

    def _page(self, what, fetch):
        page = self._call(what, fetch)
        if not isinstance(page, dict) or not isinstance(page.get("records"), list):
            raise PermanentError(f"{what}: Salesforce's answer has no records list")
        return page

    def query(self, statement, page_size=None, *, read_ahead=False):
        """Every record the SOQL statement selects, page by page (without `attributes`).

        `page_size` (200-2000) asks for smaller pages (Sforce-Query-Options: batchSize);
        Salesforce's default and maximum is 2,000, and it may answer fewer.
        `read_ahead`: the next page is fetched on a worker thread while the caller works
        through the current one (the org's time overlaps ours). For callers that read to the
        end: one that stops early may have spent one call on a page it never sees.
        """
        what = "Salesforce query"
        timeout = self.config.timeout
        headers = {"Sforce-Query-Options": f"batchSize={int(page_size)}"} if page_size else {}

        def fetch_more(url):
            return self._page(
                what,
                lambda sf: sf.query_more(
                    url, identifier_is_url=True, timeout=timeout, headers=dict(headers)
                ),
            )

        page = self._page(
            what, lambda sf: sf.query(statement, timeout=timeout, headers=dict(headers))
        )
        ahead = ThreadPoolExecutor(1, thread_name_prefix="sf-read-ahead") if read_ahead else None
        future = None
        try:
            while True:
                next_url = page.get("nextRecordsUrl")
                more = not page.get("done", True) and next_url
                if more and ahead:
                    future = ahead.submit(fetch_more, next_url)
                for record in page["records"]:
                    yield _strip_attributes(record)
                if not more:
                    return
                page, future = (future.result(), None) if future else (fetch_more(next_url), None)
        finally:
            if ahead:
                ahead.shutdown(wait=True, cancel_futures=True)

    def query_in(self, soql_template, values, chunk_chars=None):
        """`query` over `soql_template` with `{values}` replaced by successive chunks of
        quoted, escaped values, each statement within SOQL's and the URI's length limits."""
        for statement in soql.in_chunks(
            soql_template,
            values,
            chunk_chars=chunk_chars,
            max_uri_bytes=self.config.max_query_uri_bytes,
        ):
            yield from self.query(statement)

    def in_statements(self, soql_template, values, chunk_chars=None):
        """How many statements (at least as many API calls) `query_in` would send for
        `values`; no call is made."""
        return sum(
            1
            for _ in soql.in_chunks(
                soql_template,
                values,
                chunk_chars=chunk_chars,
                max_uri_bytes=self.config.max_query_uri_bytes,
            )
        )

    def count(self, statement):
        """The totalSize of a query (`SELECT COUNT() FROM ...`)."""
        what = "Salesforce count"
        page = self._call(what, lambda sf: sf.query(statement, timeout=self.config.timeout))
        if not isinstance(page, dict) or not isinstance(page.get("totalSize"), int):
            raise PermanentError(f"{what}: Salesforce's answer has no totalSize")
        return page["totalSize"]

    def describe(self, object_name):
        """The object's describe (cached for the life of this client)."""
        if object_name not in self._describes:
            result = self._rest(
                f"Salesforce describe {object_name}", f"sobjects/{object_name}/describe"
            )
            if not isinstance(result, dict) or not isinstance(result.get("fields"), list):
                raise PermanentError(f"Salesforce describe {object_name}: no fields in the answer")
            self._describes[object_name] = result
        return self._describes[object_name]

    def fields(self, object_name):
        """{API name: the field's describe} of the object."""
        return {f["name"]: f for f in self.describe(object_name)["fields"] if "name" in f}

    def limits(self):
        result = self._rest("Salesforce limits", "limits/")
        if not isinstance(result, dict):
            raise PermanentError("Salesforce limits: the answer is not an object")
        return result

    def daily_api_remaining(self):
        daily = self.limits().get("DailyApiRequests")
        if isinstance(daily, dict) and isinstance(daily.get("Remaining"), int):
            return daily["Remaining"]
        return None

    def identity(self):
        """What the Setup page shows about the connected org."""
        daily = self.limits().get("DailyApiRequests") or {}
        token = self._token
        username = self.config.username
        org_id = token.org_id if token else ""
        if token and token.id_url:
            info = self._identity_info(token)
            username = info.get("username") or username
            org_id = info.get("organization_id") or org_id
        daily_max = daily.get("Max")
        remaining = daily.get("Remaining")
        return {
            "org_id": org_id,
            "instance_url": token.instance_url if token else "",
            "username": username,
            "user_id": token.user_id if token else "",
            "daily_used": daily_max - remaining
            if isinstance(daily_max, int) and isinstance(remaining, int)
            else None,
            "daily_max": daily_max,
        }

    def versions(self):
        """The API versions the org serves (["58.0", "59.0", ...]), or None when it does not
        say. `/services/data/` needs no session and is not an API call."""
        instance = self._token.instance_url if self._token else None
        if instance is None:
            return None
        try:
            response = self.session.get(f"{instance}/services/data/", timeout=self.config.timeout)
            body = response.json() if response.status_code == 200 else None
        except (requests.RequestException, ValueError):
            return None
        if not isinstance(body, list):
            return None
        return [str(v["version"]) for v in body if isinstance(v, dict) and v.get("version")]

    def _identity_info(self, token):
        """The identity URL's answer (username, organization_id), or {} if unavailable."""
        try:
            response = self.session.get(
                token.id_url,
                headers={"Authorization": f"Bearer {token.access_token}"},
                timeout=self.config.timeout,
            )
            body = response.json() if response.status_code == 200 else {}
        except (requests.RequestException, ValueError):
            return {}
        return body if isinstance(body, dict) else {}

    # --- writes --------------------------------------------------------------------------

    def create(self, object_name, records):
        """Insert records (dicts of field values). One RecordResult each, in order."""
        return self._write(
            f"Salesforce create {object_name}",
            [self._typed(object_name, r) for r in records],
            lambda sf, chunk: sf.restful(
                "composite/sobjects",
                method="POST",
                json={"allOrNone": False, "records": chunk},
                timeout=self.config.timeout,
            ),
        )

    def update(self, object_name, records):
        """Update records; each carries its "Id"."""
        for record in records:
            if not record.get("Id"):
                raise ValueError(f"update({object_name}): every record needs an Id")
        return self._write(
            f"Salesforce update {object_name}",
            [self._typed(object_name, r) for r in records],
            lambda sf, chunk: sf.restful(
                "composite/sobjects",
                method="PATCH",
                json={"allOrNone": False, "records": chunk},
                timeout=self.config.timeout,
            ),
        )

    def upsert(self, object_name, external_id_field, records):
        """Insert or update by an external id field (each record carries it)."""
        for record in records:
            if record.get(external_id_field) in (None, ""):
                raise ValueError(f"upsert({object_name}): every record needs {external_id_field}")
        return self._write(
            f"Salesforce upsert {object_name}",
            [self._typed(object_name, r) for r in records],
            lambda sf, chunk: sf.restful(
                f"composite/sobjects/{object_name}/{external_id_field}",
                method="PATCH",
                json={"allOrNone": False, "records": chunk},
                timeout=self.config.timeout,
            ),
        )

    def delete(self, ids):
        """Delete records by id (any objects)."""
        return self._write(
            "Salesforce delete",
            list(ids),
            lambda sf, chunk: sf.restful(
                "composite/sobjects",
                method="DELETE",
                params={"ids": ",".join(chunk), "allOrNone": "false"},
                timeout=self.config.timeout,
            ),
        )

    @staticmethod
    def _typed(object_name, record):
        return {"attributes": {"type": object_name}, **record}

    def _write(self, what, items, send):
        results = []
        for chunk in _chunks(items, COLLECTION_SIZE):
            try:
                results.extend(self._write_chunk(what, chunk, send))
            except SalesforceError as exc:
                # The chunks before this one were written: say so, so a caller can mark
                # them done instead of writing them again next cycle.
                exc.partial_results = list(results)
                raise
        return results

    def _write_chunk(self, what, chunk, send):
        """One collection call, then the records that failed on a row lock sent again."""
        results = [None] * len(chunk)
        pending = list(range(len(chunk)))
        attempt = 0
        while True:
            attempt += 1
            batch = [chunk[i] for i in pending]
            raw = self._call(what, lambda sf, batch=batch: send(sf, batch))
            if not isinstance(raw, list) or len(raw) != len(batch):
                raise PermanentError(
                    f"{what}: expected {len(batch)} per-record results, got "
                    f"{len(raw) if isinstance(raw, list) else type(raw).__name__}"
                )
            locked = []
            for index, item in zip(pending, raw, strict=True):
                result = RecordResult.from_api(item)
                results[index] = result
                if not result.success and LOCK_ERROR in result.codes:
                    locked.append(index)
            if locked:
                self._count_transient(LOCK_ERROR, len(locked))
            if not locked or attempt >= self.config.retry_attempts:
                return results
            delay = backoff_delay(
                attempt, self.config.retry_base_delay, self.config.retry_max_delay
            )
            log.warning(
                "%s: %d record(s) hit %s (attempt %d of %d); sending them again in %.1fs",
                what,
                len(locked),
                LOCK_ERROR,
                attempt,
                self.config.retry_attempts,
                delay,
            )
            self._sleep(delay)
            pending = locked
