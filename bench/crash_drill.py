"""Crash drill: `kill -9` of the whole worker cluster mid-step, new workers started, nothing
else touched. Prints how long until the dead cycle is closed and the next cycle runs.

    .venv/bin/python bench/crash_drill.py                       # SQLite + the ORM broker
    .venv/bin/python bench/crash_drill.py --stack postgres \\
        --database-url postgres://postgres@127.0.0.1:5432/swstudio_drill \\
        --redis-url redis://127.0.0.1:6379/6                   # PostgreSQL + Redis

What it does, with the default settings (liveness check every minute, stale window 120 s, heartbeat
10 s), on a fresh database of its own (SQLite: a temporary SWSTUDIO_VAR_DIR; PostgreSQL: the
database named by --database-url, created and dropped by the drill):
1. migrates, seeds the sandbox (`manage.py bootstrap`), starts the web server (gunicorn: the
   sandbox) and a `qcluster` in a session of its own, makes every sandbox call 300 ms slower
   (so steps last), and turns the sync on (`manage.py syncon`);
2. once `--step` (default MatchProspectsToLeads) has run for a second, kills the cluster's
   whole process group with SIGKILL and starts a new `qcluster` at once;
3. watches the database (read only) and reports, from the kill: when GetSyncStatus first says
   that no worker answers (`workerSilentSince`), when the dead cycle was closed (and its note),
   when the next cycle's first step ran, and when that cycle ended.
Exits non-zero if the next cycle did not run within --limit seconds (300: issue 26).
"""

import argparse
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import requests

ROOT = Path(__file__).resolve().parents[1]
PY = str(ROOT / ".venv" / "bin" / "python") if (ROOT / ".venv").exists() else sys.executable


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def admin_url(database_url):
    """The same server's `postgres` database: where the drill's own is created and dropped."""
    parts = urlsplit(database_url)
    return urlunsplit(parts._replace(path="/postgres")), parts.path.lstrip("/")


def pg_database(database_url, create):
    import psycopg

    url, name = admin_url(database_url)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if create:
            conn.execute(f'CREATE DATABASE "{name}"')


def start_cluster(env, log):
    # A session of its own: one killpg reaches the master and every child (pusher, workers,
    # monitor, scheduler), as a crash of the machine's workers would.
    return subprocess.Popen(
        [PY, "manage.py", "qcluster"],
        env=env,
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def wait(predicate, timeout, interval=0.2):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    return None


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stack", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--database-url", default="")
    parser.add_argument("--redis-url", default="")
    parser.add_argument("--step", default="MatchProspectsToLeads", help="the step to kill in")
    parser.add_argument("--limit", type=float, default=300, help="seconds allowed (issue 26)")
    parser.add_argument("--keep", action="store_true", help="keep the logs' directory")
    args = parser.parse_args()

    var = tempfile.mkdtemp(prefix="swdrill-")
    port = free_port()
    env = dict(
        os.environ,
        SWSTUDIO_VAR_DIR=var,
        SANDBOX_ENABLED="true",
        SANDBOX_BASE_URL=f"http://127.0.0.1:{port}",
        DEBUG="true",  # bootstrap's admin user (the sync's running user)
        SECRET_KEY="swstudio-drill-only",
        LOG_LEVEL="WARNING",
        DJANGO_SETTINGS_MODULE="swstudio_site.settings",
    )
    for name in ("DATABASE_URL", "REDIS_URL", "CACHE_URL"):
        env.pop(name, None)
    if args.stack == "postgres":
        if not args.database_url or not args.redis_url:
            parser.error("--stack postgres needs --database-url and --redis-url")
        env.update(DATABASE_URL=args.database_url, REDIS_URL=args.redis_url)
        env["CACHE_URL"] = args.redis_url
        pg_database(args.database_url, create=True)
        import redis

        redis.Redis.from_url(args.redis_url).flushdb()
    os.environ.update(env)

    manage = [PY, "manage.py"]
    subprocess.run([*manage, "migrate", "-v", "0"], check=True, env=env, cwd=ROOT)
    subprocess.run([*manage, "bootstrap"], check=True, env=env, cwd=ROOT, capture_output=True)
    web = subprocess.Popen(
        [PY, "-m", "gunicorn", "swstudio_site.wsgi", "-b", f"127.0.0.1:{port}",
         "--worker-class", "gthread", "--workers", "2", "--threads", "8",
         "--limit-request-line", "0", "--log-level", "warning"],
        env=env, cwd=ROOT,
    )  # fmt: skip
    logs = [open(Path(var) / f"qcluster-{n}.log", "w") for n in (1, 2)]  # noqa: SIM115
    clusters = []
    try:
        base = f"http://127.0.0.1:{port}"
        if not wait(lambda: _up(base), 60):
            raise SystemExit("the web server did not start")
        # The sandbox's control endpoints are staff only: its control user's token.
        token = subprocess.run(
            [*manage, "sandbox", "control-token"],
            check=True, env=env, cwd=ROOT, capture_output=True, text=True,
        ).stdout.strip()  # fmt: skip
        requests.put(
            f"{base}/sandbox/control/faults",
            json={"auto_churn": False, "latency_ms": 300, "sw_latency_ms": 300},
            headers={"Authorization": f"Token {token}"},
            timeout=30,
        ).raise_for_status()
        clusters.append(start_cluster(env, logs[0]))
        subprocess.run([*manage, "syncon", "--user", "admin"], check=True, env=env, cwd=ROOT,
                       capture_output=True)  # fmt: skip
        report = drill(args, env, clusters, logs)
    finally:
        for proc in clusters:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        web.terminate()
        web.wait(timeout=30)
        for log in logs:
            log.close()
        from django.db import connections

        connections.close_all()
        if args.stack == "postgres":
            pg_database(args.database_url, create=False)
        if args.keep:
            print(f"logs kept in {var}")
        else:
            shutil.rmtree(var, ignore_errors=True)
    print(json.dumps(report, indent=2))
    ok = report.get("next_cycle_running_s") is not None
    ok = ok and report["next_cycle_running_s"] <= args.limit
    sys.exit(0 if ok else 1)


def _up(base):
    try:
        return requests.get(f"{base}/admin/login/", timeout=2).status_code == 200
    except requests.RequestException:
        return False


def drill(args, env, clusters, logs):
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.conf import settings
    from django.db import close_old_connections

    from syncapp.engine import status_reader
    from syncapp.models import AsyncJob, SWApexJob
    from syncapp.models.statuses import JobStatus

    def fresh(query):
        close_old_connections()
        return query()

    # The Watcher fires a minute after the sync is turned on and starts the first cycle.
    job = wait(
        lambda: fresh(
            lambda: AsyncJob.objects.filter(step=args.step, status=JobStatus.PROCESSING).first()
        ),
        600,
    )
    if job is None:
        raise SystemExit(f"{args.step} never ran")
    time.sleep(1.0)  # into the step's network calls
    dead_cycle = job.cycle_id
    os.killpg(clusters[0].pid, signal.SIGKILL)
    killed = time.monotonic()
    clusters[0].wait()
    clusters.append(start_cluster(env, logs[1]))

    def since():
        return round(time.monotonic() - killed, 1)

    report = {
        "stack": args.stack,
        "broker": "Redis" if env.get("REDIS_URL") else "ORM",
        "killed_in": args.step,
        "stale_after_s": settings.SWSTUDIO_STALE_AFTER,
        "liveness_every_min": settings.SWSTUDIO_LIVENESS_INTERVAL_MINUTES,
        "status_says_silent_s": None,
        "dead_cycle_closed_s": None,
        "dead_cycle_note": None,
        "next_cycle_running_s": None,
        "next_cycle_ended_s": None,
        "next_cycle_status": None,
    }
    deadline = killed + args.limit + 300
    while time.monotonic() < deadline:
        close_old_connections()
        if report["status_says_silent_s"] is None and status_reader.read().worker_silent_since:
            report["status_says_silent_s"] = since()
        dead = SWApexJob.objects.get(pk=dead_cycle)
        if report["dead_cycle_closed_s"] is None and not dead.is_in_progress:
            report["dead_cycle_closed_s"] = since()
            report["dead_cycle_note"] = dead.note
        newer = SWApexJob.objects.filter(pk__gt=dead_cycle).order_by("id").first()
        if newer is not None:
            started = (
                AsyncJob.objects.filter(cycle=newer).exclude(step="").exclude(started_date=None)
            )
            if report["next_cycle_running_s"] is None and started.exists():
                report["next_cycle_running_s"] = since()
                report["next_cycle_trigger"] = newer.trigger
            if not newer.is_in_progress and newer.end_time:
                report["next_cycle_ended_s"] = since()
                report["next_cycle_status"] = newer.status
                break
        time.sleep(0.5)
    return report


if __name__ == "__main__":
    main()
