"""A scriptable SalesWings backend on a real local HTTP server (the network seam)."""

import contextlib
import json
import threading
import time
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlsplit

from tests.localserver import LocalServer

BASE = "/api/v1"


class FakeBackend(LocalServer):
    prefix = BASE

    def __init__(self, token="sw-token-0123456789"):
        self.token = token
        self.lock = threading.Lock()
        self.requests = []  # (method, path, params, body, headers)
        self.scripted = []  # [method, path, status, body(bytes|obj), times, headers, delay]
        self.prospects = [{"id": f"p_{i}", "seq": i, "email": f"u{i}@x.com"} for i in range(1, 8)]
        super().__init__()

    def script(self, method, path, status, body=None, times=1, headers=None, delay=0):
        with self.lock:
            self.scripted.append([method, path, status, body, times, headers, delay])

    def calls(self, method=None, path=None):
        return [
            r
            for r in self.requests
            if (method is None or r[0] == method) and (path is None or r[1] == path)
        ]

    def answer(self, method, path, params, body):
        if path == "/account":
            return 200, {"account": {"id": "acc_1", "name": "Acme Corp"}}
        if path == "/tags":
            return 200, {"tags": [{"id": "tag_pricing", "name": "Pricing Page"}]}
        if path == "/scores":
            return 200, {"scores": [{"id": "engagement", "name": "Engagement"}]}
        if path in ("/prospects", "/activities"):
            since, limit = int(params.get("since", 0)), int(params.get("limit", 500))
            rows = [p for p in self.prospects if p["seq"] > since] if path == "/prospects" else []
            page = rows[:limit]
            return 200, {
                path[1:]: page,
                "nextSince": page[-1]["seq"] if page else since,
                "hasMore": len(rows) > limit,
            }
        if path == "/metrics" and method == "POST":
            return 202, {"accepted": True}
        if path == "/logs" and method == "POST":
            return 202, {"accepted": len(body["entries"])}
        if path == "/salesforce-changes" and method == "POST":
            return 200, {"accepted": len(body["records"])}
        return 404, {"error": {"code": "not_found", "message": path}}

    def _handler(self):
        backend = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _send(self, status, body, headers=None):
                data = body if isinstance(body, bytes) else json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.end_headers()
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self.wfile.write(data)

            def _dispatch(self, method):
                parts = urlsplit(self.path)
                path = parts.path[len(BASE) :] if parts.path.startswith(BASE) else parts.path
                params = {k: v[0] for k, v in parse_qs(parts.query).items()}
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                body = json.loads(raw) if raw else None
                with backend.lock:
                    backend.requests.append((method, path, params, body, dict(self.headers)))
                    scripted = None
                    for s in backend.scripted:
                        if s[0] == method and s[1] == path and s[4] > 0:
                            s[4] -= 1
                            scripted = s
                            break
                if scripted and scripted[6]:
                    time.sleep(scripted[6])
                if self.headers.get("Authorization") != f"Bearer {backend.token}":
                    return self._send(
                        401, {"error": {"code": "invalid_token", "message": "Unknown API token"}}
                    )
                if scripted and scripted[2] is not None:
                    return self._send(scripted[2], scripted[3], scripted[5])
                status, answer = backend.answer(method, path, params, body)
                return self._send(status, answer)

            def do_GET(self):
                self._dispatch("GET")

            def do_POST(self):
                self._dispatch("POST")

        return Handler
