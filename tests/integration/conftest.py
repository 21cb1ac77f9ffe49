"""Real processes for integration tests: a `manage.py qcluster` sharing the test database."""

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import pytest
from django.db import connection
from django_q.brokers import get_broker

ROOT = Path(__file__).resolve().parents[2]


def database_url():
    """A DATABASE_URL for the test database this process is using."""
    s = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{s['NAME']}"
    if connection.vendor == "postgresql":
        auth = quote(s["USER"] or "postgres")
        if s.get("PASSWORD"):
            auth += ":" + quote(s["PASSWORD"])
        return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"
    raise NotImplementedError(connection.vendor)


def wait_for(predicate, timeout, interval=0.1, message="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"Timed out after {timeout}s waiting for {message}")


class Cluster:
    def __init__(self, proc, log_path):
        self.proc = proc
        self.log_path = log_path

    def log(self):
        return self.log_path.read_text(errors="replace")

    def processes(self):
        """PIDs of the cluster's process group (qcluster and the processes it forked), from
        /proc: {pid: parent pid}."""
        found = {}
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            # pid (comm) state ppid pgrp ...: comm may hold spaces, so split after its ')'.
            fields = stat[stat.rindex(")") + 2 :].split()
            if fields[0] != "Z" and int(fields[2]) == self.proc.pid:
                found[int(entry.name)] = int(fields[1])
        return found

    def stop(self):
        if self.proc.poll() is None:
            # SIGTERM to qcluster alone: it stops its workers in order (~1 s). Sent to the
            # whole group, the workers die under the sentinel and qcluster never exits.
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)  # anything of it left behind


@pytest.fixture
def qcluster(transactional_db, tmp_path, settings):
    """Start real qcluster processes running `settings.SWSTUDIO_WORKFLOW` on the test DB."""
    # Messages left in a shared broker by an earlier run must not be picked up.
    get_broker().purge_queue()
    clusters = []

    def start(workers=2, extra_env=None):
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "swstudio_site.settings",
            "DATABASE_URL": database_url(),
            "SWSTUDIO_WORKFLOW": ",".join(settings.SWSTUDIO_WORKFLOW),
            "SWSTUDIO_PREFLIGHT": ",".join(settings.SWSTUDIO_PREFLIGHT),
            "SWSTUDIO_HEARTBEAT_SECONDS": "1",
            "Q_WORKERS": str(workers),
            "Q_POLL": "0.02",
            "PYTHONUNBUFFERED": "1",
            **(extra_env or {}),
        }
        log_path = tmp_path / f"qcluster-{len(clusters)}.log"
        proc = subprocess.Popen(
            [sys.executable, "manage.py", "qcluster"],
            cwd=ROOT,
            env=env,
            stdout=log_path.open("w"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        cluster = Cluster(proc, log_path)
        clusters.append(cluster)
        return cluster

    yield start
    for cluster in clusters:
        cluster.stop()
