"""Raw capacity of the sandbox for 200-record sObject Collections PATCH calls.

Starts a real gunicorn (the embedded default's command line: gthread, 2 workers, 8 threads)
on loopback against a fresh SQLite database in a temporary directory, seeds it, then drives
it the way the sync will: simple-salesforce's `restful("composite/sobjects", method="PATCH")`
with 200 Lead updates per call, in a tight loop (one client, or --clients in parallel).

    .venv/bin/python bench/sandbox_collections.py [--leads 60000] [--calls 300] [--clients 1]
                                                  [--json]

Prints calls/s, records/s, client latency, server time and its CPU time (the Server-Timing
header the sandbox adds) percentiles, and whether the served socket has TCP_NODELAY set.
--json adds a last line of JSON with the figures for bench/run.
"""

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import requests
from requests.adapters import HTTPAdapter
from simple_salesforce import Salesforce

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable


class SandboxAdapter(HTTPAdapter):
    """simple-salesforce builds https:// URLs: send them to the sandbox over http."""

    def __init__(self, base_url):
        super().__init__()
        self.netloc = urlsplit(base_url).netloc

    def send(self, request, **kwargs):
        p = urlsplit(request.url)
        if p.scheme == "https":
            request.url = urlunsplit(("http", self.netloc, p.path, p.query, ""))
        return super().send(request, **kwargs)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pct(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--leads", type=int, default=60000)
    ap.add_argument("--calls", type=int, default=300, help="calls per client")
    ap.add_argument("--clients", type=int, default=1)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--threads", type=int, default=8)
    ap.add_argument("--json", action="store_true", help="a last line of JSON for bench/run")
    args = ap.parse_args()

    var = tempfile.mkdtemp(prefix="swstudio-bench-")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "SWSTUDIO_VAR_DIR": var, "SANDBOX_BASE_URL": base}
    run = {"cwd": ROOT, "env": env, "check": True}
    subprocess.run([PY, "manage.py", "migrate", "-v0"], **run)
    subprocess.run(
        [PY, "manage.py", "sandbox", "seed", "--prospects", str(args.leads),
         "--leads", str(args.leads), "--contacts", str(args.leads // 2), "--accounts", "1000",
         "--opportunities", "1000", "--activities-per-prospect", "0"],
        stdout=subprocess.DEVNULL, **run,
    )  # fmt: skip
    # The control endpoints are staff only: the sandbox's control user's token.
    token = subprocess.run(
        [PY, "manage.py", "sandbox", "control-token"], capture_output=True, text=True, **run
    ).stdout.strip()
    control = {"Authorization": f"Token {token}"}
    gunicorn = Path(PY).with_name("gunicorn")
    server = subprocess.Popen(
        [str(gunicorn), "swstudio_site.wsgi", "--bind", f"127.0.0.1:{port}",
         "--worker-class", "gthread", "--workers", str(args.workers),
         "--threads", str(args.threads), "--log-level", "warning"],
        cwd=ROOT, env=env,
    )  # fmt: skip
    try:
        for _ in range(300):
            try:
                requests.get(base + "/sandbox/control/stats", headers=control, timeout=5)
                break
            except requests.RequestException:
                time.sleep(0.1)
        stats = requests.get(base + "/sandbox/control/stats", headers=control, timeout=5).json()
        print(f"served socket TCP_NODELAY: {stats['server']['tcpNoDelay']}")

        def client():
            session = requests.Session()
            session.mount("https://", SandboxAdapter(base))
            return Salesforce(
                username="sync@swstudio.sandbox", password="sandbox-password",
                consumer_key="swstudio-sandbox-client-id",
                consumer_secret="swstudio-sandbox-client-secret", session=session,
            )  # fmt: skip

        sf = client()
        ids = [
            r["Id"]
            for r in sf.query_all("SELECT Id FROM Lead WHERE IsConverted = false")["records"]
        ]
        batches = [ids[i : i + 200] for i in range(0, len(ids) - 199, 200)]
        print(f"{len(ids)} unconverted leads, {len(batches)} batches of 200")

        results = []
        lock = threading.Lock()

        def loop(k):
            sf = client()
            lat = []
            for n in range(args.calls):
                batch = batches[(k * args.calls + n) % len(batches)]
                body = {
                    "allOrNone": False,
                    "records": [
                        {"attributes": {"type": "Lead"}, "id": i, "SW_Prospect_Id__c": f"p_{n}",
                         "SW_Tags__c": "Demo Request;Pricing Page", "SW_Temperature__c": "Hot",
                         "SW_Last_Visit__c": "2026-11-26T09:30:00+00:00",
                         "SW_Favorite__c": bool(n % 2), "SW_Engagement_Score__c": n % 100,
                         "SW_Fit_Score__c": 7}
                        for i in batch
                    ],
                }  # fmt: skip
                t = time.perf_counter()
                res = sf.restful("composite/sobjects", method="PATCH", json=body)
                lat.append((time.perf_counter() - t) * 1000)
                assert all(r["success"] for r in res), res[:2]
            with lock:
                results.append(lat)

        # warm-up
        sf.restful("composite/sobjects", method="PATCH", json={"allOrNone": False, "records": [
            {"attributes": {"type": "Lead"}, "id": i, "SW_Favorite__c": True} for i in batches[0]
        ]})  # fmt: skip
        requests.post(base + "/sandbox/control/reset-counters", headers=control, timeout=5)
        server_ms, server_cpu_ms = [], []
        orig = requests.Session.send

        def send(self, request, **kw):
            r = orig(self, request, **kw)
            timing = dict(
                (part.split(";dur=") + [""])[:2]
                for part in r.headers.get("Server-Timing", "").split(", ")
            )
            if timing.get("app"):
                server_ms.append(float(timing["app"]))
            if timing.get("cpu"):  # added 2026-11-27; older sandboxes send only "app"
                server_cpu_ms.append(float(timing["cpu"]))
            return r

        requests.Session.send = send
        # Side by side: a trivial API call (GET limits) gives the per-call floor of this
        # machine at this moment (auth, counters, Django); the shared machine is noisy.
        base_lat = []
        for _ in range(100):
            t = time.perf_counter()
            sf.limits()
            base_lat.append((time.perf_counter() - t) * 1000)
        base_srv, base_cpu = list(server_ms), list(server_cpu_ms)
        server_ms.clear()
        server_cpu_ms.clear()
        t = time.perf_counter()
        x = 0
        for i in range(1_000_000):
            x += i
        calib = time.perf_counter() - t
        started = time.perf_counter()
        threads = [threading.Thread(target=loop, args=(k,)) for k in range(args.clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - started
        requests.Session.send = orig
        lat = [x for r in results for x in r]
        calls = len(lat)
        print(f"clients {args.clients}, calls {calls}, wall {wall:.2f} s")
        print(f"calls/s {calls / wall:.1f}, records/s {calls * 200 / wall:.0f}")
        print(
            f"client latency ms: p50 {statistics.median(lat):.1f}, p95 {pct(lat, 0.95):.1f}, "
            f"max {max(lat):.1f}"
        )
        print(
            f"server time ms:    p50 {statistics.median(server_ms):.1f}, "
            f"p95 {pct(server_ms, 0.95):.1f}"
            + (
                f"; its thread's CPU time p50 {statistics.median(server_cpu_ms):.1f}, "
                f"p95 {pct(server_cpu_ms, 0.95):.1f}"
                if server_cpu_ms
                else ""
            )
        )
        print(
            f"baseline GET limits: client p50 {statistics.median(base_lat):.1f} ms, "
            f"server p50 {statistics.median(base_srv):.1f} ms"
            + (f" (CPU {statistics.median(base_cpu):.1f} ms); " if base_cpu else "; ")
            + f"CPU calibration: a 1,000,000-step Python loop took {calib:.3f} s"
        )
        stats_url = base + "/sandbox/control/stats"
        counters = requests.get(stats_url, headers=control, timeout=5).json()["counters"]
        print(f"sandbox counted {counters.get('sf.op.collections')} collection calls, "
              f"{counters.get('sf.records_written.Lead')} Lead records written")  # fmt: skip
        if args.json:
            limits_p50 = statistics.median(base_srv)
            figures = [
                {"figure": f"collection PATCH records/s ({args.clients} client)",
                 "value": calls * 200 / wall, "unit": "records/s",
                 "reference": "recorded 2026-11-27 (1 client)", "reference_value": 8769,
                 "target": None},
                {"figure": "PATCH server time p50", "value": statistics.median(server_ms),
                 "unit": "ms", "reference": "GET limits server p50 (same run)",
                 "reference_value": limits_p50, "target": None},
                {"figure": "CPU calibration (1,000,000-step loop)", "value": calib,
                 "unit": "s", "reference": "a quiet core", "reference_value": 0.04,
                 "target": None},
            ]  # fmt: skip
            if server_cpu_ms and base_cpu:
                figures.insert(2, {
                    "figure": "PATCH server CPU time p50",
                    "value": statistics.median(server_cpu_ms), "unit": "ms",
                    "reference": "GET limits server CPU p50 (same run)",
                    "reference_value": statistics.median(base_cpu), "target": None,
                })  # fmt: skip
            print(json.dumps({"bench": "sandbox_collections", "figures": figures}))
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
