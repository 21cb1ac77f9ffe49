"""`scripts/start` as a user runs it: up, then stopped by a signal to its process group (Ctrl-C
in a terminal, a service manager's SIGTERM). Everything it started must be gone: the cluster's
master used to wait forever for children the group's SIGTERM had killed."""

import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.integration


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def processes_with(marker):
    """Pids of the processes whose environment holds `marker` (this test's own var dir)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if marker in (entry / "environ").read_bytes():
                pids.append(int(entry.name))
        except OSError:  # gone meanwhile, or not ours to read
            continue
    return pids


@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="reads /proc")
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["TERM", "INT"])
def test_a_signal_to_the_process_group_stops_web_and_worker(tmp_path, signum):
    port = free_port()
    # The embedded defaults (SQLite in the var dir, the ORM broker), whatever CI's leg sets.
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DATABASE_", "REDIS_", "Q_", "SANDBOX_"))
    }
    env.update(PORT=str(port), SWSTUDIO_VAR_DIR=str(tmp_path))
    marker = f"SWSTUDIO_VAR_DIR={tmp_path}".encode()
    script = subprocess.Popen(
        [str(ROOT / "scripts" / "start")],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            try:
                if requests.get(f"http://127.0.0.1:{port}/admin/login/", timeout=2).ok:
                    break
            except (requests.ConnectionError, requests.Timeout):  # still starting (a busy machine)
                pass
            assert script.poll() is None, "scripts/start ended before serving"
            time.sleep(0.5)
        else:
            pytest.fail("scripts/start did not serve within 3 minutes")
        # The cluster is up: its master, the sentinel, the pusher, the monitor and the workers.
        while len(processes_with(marker)) < 6 and time.monotonic() < deadline:
            time.sleep(0.5)
        time.sleep(2)  # the cluster's children settled (its "running" line)
        os.killpg(script.pid, signum)
        script.wait(timeout=30)
        deadline = time.monotonic() + 20
        while processes_with(marker) and time.monotonic() < deadline:
            time.sleep(0.5)
        assert processes_with(marker) == []
    finally:
        for pid in processes_with(marker):
            os.kill(pid, signal.SIGKILL)
        if script.poll() is None:
            os.killpg(script.pid, signal.SIGKILL)
