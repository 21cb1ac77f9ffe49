"""A small scriptable Salesforce REST stand-in on a real local HTTP server.

Unit tests of the client mock only at the network seam: the client talks HTTP to this, over
the same plain-http rewrite it uses for the sandbox. It answers the OAuth token endpoint, the
identity URL, query / query-more, sObject Collections, describe and limits, and lets a test
queue faults (any status and body) for the next matching requests.
"""

import contextlib
import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlsplit

from tests.localserver import LocalServer

API = "/services/data/v59.0"
SESSION_EXPIRED = [{"errorCode": "INVALID_SESSION_ID", "message": "Session expired or invalid"}]


def sf_error(code, message="boom"):
    return [{"errorCode": code, "message": message}]


class FakeOrg(LocalServer):
    def __init__(self, prefix=""):
        self.prefix = prefix
        self.lock = threading.Lock()
        self.username = "sync@fake.org"
        self.password = "pw"
        self.client_id = "cid"
        self.client_secret = "csecret"
        self.tokens = set()
        self.token_counter = 0
        self.logins = []  # the login forms received
        self.requests = []  # (method, path, params, body) of data API calls
        self.faults = []  # [method, path regex, status, body, remaining count]
        self.slow = []  # [path regex, seconds, remaining count]
        self.used = 0
        self.max = 15000
        self.remaining = 14000
        self.page_size = 3
        self.rows = {}  # object name -> list of records (queries select from these)
        self.record_outcome = None  # fn(method, object, record) -> dict result or None
        self.fields = {
            "Lead": ["Id", "Email", "SW_Tags__c", "SW_Engagement_Score__c"],
            "Contact": ["Id", "Email"],
        }
        super().__init__()

    # --- scripting ---------------------------------------------------------------------------

    def fail(self, method, path_pattern, status, body, times=1, headers=None):
        """The next `times` requests matching method and path regex get this answer."""
        with self.lock:
            self.faults.append([method, re.compile(path_pattern), status, body, times, headers])

    def slow_down(self, path_pattern, seconds, times=1):
        with self.lock:
            self.slow.append([re.compile(path_pattern), seconds, times])

    def expire_sessions(self):
        with self.lock:
            self.tokens.clear()

    def data_calls(self, method=None, path_pattern=None):
        return [
            r
            for r in self.requests
            if (method is None or r[0] == method)
            and (path_pattern is None or re.search(path_pattern, r[1]))
        ]

    # --- the server ----------------------------------------------------------------------

    def _handler(self):
        org = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _send(self, status, body=None, headers=None):
                data = (
                    b""
                    if body is None
                    else (body if isinstance(body, bytes) else json.dumps(body).encode())
                )
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.end_headers()
                # The client may have timed out and left.
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self.wfile.write(data)

            def _body(self):
                length = int(self.headers.get("Content-Length") or 0)
                return self.rfile.read(length) if length else b""

            def _dispatch(self, method):
                parts = urlsplit(self.path)
                path = parts.path
                if org.prefix:
                    if not path.startswith(org.prefix + "/"):
                        return self._send(404, [{"errorCode": "NOT_FOUND", "message": path}])
                    path = path[len(org.prefix) :]
                params = {k: v[0] for k, v in parse_qs(parts.query).items()}
                raw = self._body()
                if path == "/services/oauth2/token":
                    return self._token(raw)
                if path.startswith("/id/"):
                    return self._send(200, {"username": org.username, "organization_id": "00DFAKE"})
                body = json.loads(raw) if raw else None
                with org.lock:
                    org.requests.append((method, path, params, body))
                    fault = None
                    for f in org.faults:
                        if f[0] == method and f[1].search(path) and f[4] > 0:
                            f[4] -= 1
                            fault = f
                            break
                    auth = self.headers.get("Authorization", "")
                    valid = auth.startswith("Bearer ") and auth[7:] in org.tokens
                    if valid:
                        org.used += 1
                    delay = 0
                    for s in org.slow:
                        if s[0].search(path) and s[2] > 0:
                            s[2] -= 1
                            delay = s[1]
                            break
                if delay:
                    time.sleep(delay)
                limit = {"Sforce-Limit-Info": f"api-usage={org.used}/{org.max}"}
                if not valid:
                    return self._send(401, SESSION_EXPIRED)
                if fault is not None:
                    return self._send(fault[2], fault[3], {**limit, **(fault[5] or {})})
                status, answer = org.answer(method, path, params, body)
                return self._send(status, answer, limit)

            def _token(self, raw):
                form = {k: v[0] for k, v in parse_qs(raw.decode()).items()}
                with org.lock:
                    org.logins.append(form)
                    fault = None
                    for f in org.faults:
                        if f[0] == "POST" and f[1].search("/services/oauth2/token") and f[4] > 0:
                            f[4] -= 1
                            fault = f
                            break
                if fault is not None:
                    return self._send(fault[2], fault[3])
                grant = form.get("grant_type")
                ok = (
                    (
                        grant == "password"
                        and form.get("username") == org.username
                        and form.get("password") == org.password
                        and form.get("client_id") == org.client_id
                        and form.get("client_secret") == org.client_secret
                    )
                    or (
                        grant == "client_credentials"
                        and form.get("client_id") == org.client_id
                        and form.get("client_secret") == org.client_secret
                    )
                    or (
                        grant == "urn:ietf:params:oauth:grant-type:jwt-bearer"
                        and form.get("assertion")
                    )
                )
                if not ok:
                    return self._send(
                        400,
                        {"error": "invalid_grant", "error_description": "authentication failure"},
                    )
                with org.lock:
                    org.token_counter += 1
                    token = f"00DFAKE!token{org.token_counter}"
                    org.tokens.add(token)
                return self._send(
                    200,
                    {
                        "access_token": token,
                        "instance_url": org.url,
                        "id": f"{org.url}/id/00DFAKE/005FAKE",
                        "token_type": "Bearer",
                    },
                )

            def do_GET(self):
                self._dispatch("GET")

            def do_POST(self):
                self._dispatch("POST")

            def do_PATCH(self):
                self._dispatch("PATCH")

            def do_DELETE(self):
                self._dispatch("DELETE")

        return Handler

    # --- default answers -------------------------------------------------------------------

    def answer(self, method, path, params, body):
        if path in (f"{API}/query", f"{API}/query/") and method == "GET":
            # The outermost FROM is the last one (subqueries come first in the select list).
            found = re.findall(r"\bFROM\s+(\w+)", params.get("q", ""), re.I)
            match = re.match(r"(\w+)", found[-1]) if found else None
            rows = self.rows.get(match.group(1) if match else "", [])
            if re.match(r"\s*SELECT\s+COUNT\(\)", params.get("q", ""), re.I):
                return 200, {"totalSize": len(rows), "done": True, "records": []}
            return 200, self._page(match.group(1) if match else "", rows, 0)
        more = re.fullmatch(rf"{API}/query/01gFAKE-(\w+)-(\d+)", path)
        if more and method == "GET":
            obj, offset = more.group(1), int(more.group(2))
            return 200, self._page(obj, self.rows.get(obj, []), offset)
        desc = re.fullmatch(rf"{API}/sobjects/(\w+)/describe", path)
        if desc:
            obj = desc.group(1)
            if obj not in self.fields:
                return 404, sf_error("NOT_FOUND", "The requested resource does not exist")
            return 200, {"name": obj, "fields": [{"name": f} for f in self.fields[obj]]}
        if path.rstrip("/") == f"{API}/limits":
            return 200, {"DailyApiRequests": {"Max": self.max, "Remaining": self.remaining}}
        coll = re.fullmatch(rf"{API}/composite/sobjects(?:/(\w+)/(\w+))?", path)
        if coll:
            if method == "DELETE":
                ids = params.get("ids", "").split(",")
                return 200, [self._outcome("DELETE", None, {"Id": i}) for i in ids]
            records = body["records"]
            if len(records) > 200:
                return 400, sf_error("EXCEEDED_ID_LIMIT", "record limit reached")
            return 200, [self._outcome(method, r["attributes"]["type"], r) for r in records]
        return 404, sf_error("NOT_FOUND", f"no route {method} {path}")

    def _page(self, obj, rows, offset):
        chunk = rows[offset : offset + self.page_size]
        page = {
            "totalSize": len(rows),
            "done": offset + self.page_size >= len(rows),
            "records": [{"attributes": {"type": obj, "url": "/x"}, **r} for r in chunk],
        }
        if not page["done"]:
            page["nextRecordsUrl"] = f"{API}/query/01gFAKE-{obj}-{offset + self.page_size}"
        return page

    def _outcome(self, method, obj, record):
        if self.record_outcome is not None:
            result = self.record_outcome(method, obj, record)
            if result is not None:
                return result
        rid = record.get("Id") or f"00QFAKE{len(self.requests):05d}{id(record) % 1000:03d}"
        result = {"id": rid, "success": True, "errors": []}
        if method == "PATCH" and "Id" not in record:
            result["created"] = True
        return result
