"""GetSyncStatus throughput against a trivial DRF endpoint on the same gunicorn server.

    .venv/bin/python bench/api_status.py [--rounds 3] [--seconds 8] [--client wrk|python]

Migrates a fresh SQLite database (var/bench/api.sqlite3, through DATABASE_URL), fills it with
10,000 SW Apex Jobs (17 steps each) and 1,000 async jobs, turns the sync on (Watcher and
Runner pending, the newest cycle Processing with one active job, so every part of the status
is filled), starts gunicorn on loopback and measures, in alternating rounds:

- GET /Sync/v1/GetSyncStatus                (token auth, role check, the status)
- GET /bench/trivial                         (token auth, role check, {"ok": true})
- GET /bench/trivial-anonymous               (no auth: DRF's floor)

The client is `wrk` when installed (apt-get install wrk), else requests.Session in threads
with keep-alive. Prints a Markdown table for docs/benchmarks.md (--json: and a last line of
JSON with the figures for bench/run). Not run by CI.
"""

import argparse
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VAR = ROOT / "var" / "bench"
DB = VAR / "api.sqlite3"
CYCLES = 10_000
ASYNC_JOBS = 1_000
STEPS = 17

ENV = {
    "DATABASE_URL": f"sqlite:///{DB}",
    "DJANGO_SETTINGS_MODULE": "bench.api_settings",
    "DEBUG": "false",
    "SECRET_KEY": "bench-only-secret-key-not-for-production",
    "LOG_LEVEL": "WARNING",
    # Production-like: the sandbox off, so an org and a backend must be named (never called).
    "SANDBOX_ENABLED": "false",
    "SALESFORCE_LOGIN_URL": "https://login.salesforce.com",
    "SALESFORCE_CLIENT_ID": "bench",
    "SALESFORCE_CLIENT_SECRET": "bench",
    "SALESWINGS_API_URL": "https://api.example.com",
    "SECURE_SSL_REDIRECT": "false",  # plain HTTP on loopback; no TLS proxy in front
}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def seed():
    """Fill the bench database; return an administrator's API token."""
    os.environ.update(ENV)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.utils import timezone

    from syncapp.api.tokens import issue_token
    from syncapp.engine import control, scheduling
    from syncapp.models import AsyncJob, SWApexJob, SyncState
    from syncapp.models.statuses import CycleStatus, JobStatus, JobType, Trigger
    from tests import factories

    admin = factories.administrator(username="bench-admin")
    control.turn_on(admin)
    generation = SyncState.load().generation
    scheduling.schedule_runner(generation, 5)
    now = timezone.now().isoformat()

    def steps(status):
        return [
            {
                "name": f"Step{n:02d}",
                "class": f"SWJobStep{n:02d}",
                "status": status,
                "start": now,
                "end": now,
                "batches_total": 5,
                "batches_failed": 0,
                "examined": 1000,
                "modified": 990,
                "failed": 10,
                "errors": ["FIELD_CUSTOM_VALIDATION_EXCEPTION: rejected by a rule"] * 3,
            }
            for n in range(STEPS)
        ]

    done = CycleStatus.COMPLETED
    for start in range(0, CYCLES, 1000):
        SWApexJob.objects.bulk_create(
            SWApexJob(
                name=f"SAJ-{i + 1:06d}",
                trigger=Trigger.RUNNER,
                generation=generation,
                status=CycleStatus.PROCESSING if i == CYCLES - 1 else done,
                start_time=timezone.now(),
                end_time=None if i == CYCLES - 1 else timezone.now(),
                steps=steps(done),
            )
            for i in range(start, min(start + 1000, CYCLES))
        )
    AsyncJob.objects.bulk_create(
        AsyncJob(
            class_name=f"SWJobStep{i % STEPS:02d}",
            job_type=JobType.QUEUEABLE,
            status=JobStatus.PROCESSING if i == ASYNC_JOBS - 1 else JobStatus.COMPLETED,
            generation=generation,
        )
        for i in range(ASYNC_JOBS)
    )
    token, _ = issue_token(admin)
    return token.key


def start_server(port, workers, threads):
    env = {**os.environ, **ENV}
    cmd = [
        sys.executable,
        "-m",
        "gunicorn",
        "swstudio_site.wsgi:application",
        f"--bind=127.0.0.1:{port}",
        f"--workers={workers}",
        "--worker-class=gthread",
        f"--threads={threads}",
        "--keep-alive=60",
        "--log-level=warning",
    ]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env)
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return proc
        except OSError:
            time.sleep(0.2)
    proc.terminate()
    raise SystemExit("gunicorn did not start")


def run_wrk(url, headers, seconds, connections):
    cmd = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", url]
    for k, v in headers.items():
        cmd += ["-H", f"{k}: {v}"]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    if "Non-2xx" in out:
        raise SystemExit(f"errors from {url}:\n{out}")
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    requests_done = int(re.search(r"(\d+) requests in", out).group(1))
    return rate, requests_done


def run_python(url, headers, seconds, connections):
    import requests

    counts = [0] * connections
    stop = time.time() + seconds

    def worker(i):
        with requests.Session() as s:
            s.headers.update(headers)
            while time.time() < stop:
                r = s.get(url)
                if r.status_code != 200:
                    raise SystemExit(f"{url}: {r.status_code} {r.text[:200]}")
                counts[i] += 1

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(connections)]
    started = time.time()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(counts) / (time.time() - started), sum(counts)


def server_cpu_seconds(master_pid):
    """CPU time (user + system) of gunicorn's master and workers, from /proc."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid, ppid = int(entry), int(fields[1])
        if pid == master_pid or ppid == master_pid:
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / tick


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--client", choices=["wrk", "python"], default=None)
    parser.add_argument(
        "--conn-max-age",
        type=int,
        default=0,
        help="Keep database connections this many seconds (DATABASE_URL ?conn_max_age=).",
    )
    parser.add_argument("--json", action="store_true", help="a last line of JSON for bench/run")
    args = parser.parse_args()
    if args.conn_max_age:
        ENV["DATABASE_URL"] += f"?conn_max_age={args.conn_max_age}"
    client = args.client or ("wrk" if shutil.which("wrk") else "python")
    measure = run_wrk if client == "wrk" else run_python

    VAR.mkdir(parents=True, exist_ok=True)
    for f in VAR.glob("api.sqlite3*"):
        f.unlink()
    env = {**os.environ, **ENV}
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    began = time.time()
    token = seed()
    print(f"seeded {CYCLES} cycles and {ASYNC_JOBS} async jobs in {time.time() - began:.1f} s")

    port = free_port()
    server = start_server(port, args.workers, args.threads)
    base = f"http://127.0.0.1:{port}"
    auth = {"Authorization": f"Token {token}"}
    targets = {
        "GetSyncStatus": (f"{base}/Sync/v1/GetSyncStatus", auth),
        "trivial (same auth + role)": (f"{base}/bench/trivial", auth),
        "trivial (no auth)": (f"{base}/bench/trivial-anonymous", {}),
    }
    try:
        import requests

        body = requests.get(targets["GetSyncStatus"][0], headers=auth, timeout=10)
        body.raise_for_status()
        status = body.json()
        assert status["asyncQueued"]["count"] == 1 and status["scheduledRunner"], status
        assert len(status["lastExecution"]["steps"]) == STEPS
        print(f"GetSyncStatus body: {len(body.content)} bytes")
        for url, headers in targets.values():  # warm up every worker
            measure(url, headers, 2, args.connections)
        rates = {name: [] for name in targets}
        cpu = {name: [] for name in targets}  # server CPU ms per request, per round
        for _ in range(args.rounds):
            for name, (url, headers) in targets.items():
                before = server_cpu_seconds(server.pid)
                rate, done = measure(url, headers, args.seconds, args.connections)
                rates[name].append(rate)
                cpu[name].append((server_cpu_seconds(server.pid) - before) * 1000 / done)
    finally:
        server.terminate()
        server.wait(timeout=30)

    median = {name: statistics.median(r) for name, r in rates.items()}
    reference = median["trivial (same auth + role)"]
    # Rounds of the two endpoints run back to back: the ratio within a round survives the
    # machine's noise better than the ratio of medians taken minutes apart.
    paired = statistics.median(
        a / b
        for a, b in zip(rates["GetSyncStatus"], rates["trivial (same auth + role)"], strict=True)
    )
    cpu_median = {name: statistics.median(c) for name, c in cpu.items()}
    print()
    print(
        f"client: {client}, {args.connections} connections; gunicorn {args.workers} gthread "
        f"workers x {args.threads} threads; {args.rounds} rounds x {args.seconds} s; "
        f"{os.cpu_count()} CPUs"
    )
    print()
    print(
        "| endpoint | req/s (median) | rounds | vs trivial (same auth) "
        "| server CPU per request (median) |"
    )
    print("|---|---|---|---|---|")
    for name, r in rates.items():
        rounds = ", ".join(f"{x:.0f}" for x in r)
        print(
            f"| {name} | {median[name]:.0f} | {rounds} | {median[name] / reference:.0%} "
            f"| {cpu_median[name]:.2f} ms |"
        )
    print()
    print(f"GetSyncStatus / trivial (same auth), median of the per-round ratios: {paired:.0%}")
    print(
        "server CPU per request, trivial (same auth) / GetSyncStatus: "
        f"{cpu_median['trivial (same auth + role)'] / cpu_median['GetSyncStatus']:.0%}"
    )
    if args.json:
        figures = [
            {"figure": "GetSyncStatus req/s", "value": median["GetSyncStatus"], "unit": "req/s",
             "reference": "trivial DRF endpoint, same auth + role (same run)",
             "reference_value": reference, "target": ">= 0.70"},
            {"figure": "GetSyncStatus / trivial (same auth), median of per-round ratios",
             "value": paired, "unit": "x", "reference": "a ratio already",
             "reference_value": 1.0, "target": ">= 0.70"},
            {"figure": "trivial DRF endpoint, no auth req/s",
             "value": median["trivial (no auth)"], "unit": "req/s",
             "reference": "trivial DRF endpoint, same auth + role (same run)",
             "reference_value": reference, "target": None},
        ]  # fmt: skip
        print(json.dumps({"bench": "api_status", "figures": figures}))


if __name__ == "__main__":
    main()
