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


def cmdline(pid):
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def parent(pid):
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return None


@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="reads /proc")
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["TERM", "INT"])
def test_a_signal_to_the_process_group_stops_web_and_worker(tmp_path, signum):
    stop_and_check(tmp_path, signum, to_group=True, kill_workers=False)


@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="reads /proc")
@pytest.mark.parametrize("to_group", [False, True], ids=["script", "group"])
def test_it_stops_within_10_s_even_after_its_workers_were_killed(tmp_path, to_group):
    """kill -9 of the cluster's children (its workers, as an OOM killer would), then a SIGTERM
    to the script alone (a plain `kill <pid>`) or to its group: everything is gone within 10 s."""
    stop_and_check(tmp_path, signal.SIGTERM, to_group=to_group, kill_workers=True, within=10)


def stop_and_check(tmp_path, signum, *, to_group, kill_workers, within=None):
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
        if kill_workers:
            ours = processes_with(marker)
            master = next(p for p in ours if parent(p) == script.pid and "qcluster" in cmdline(p))
            children = [p for p in ours if p != master and "qcluster" in cmdline(p)]
            assert children
            for pid in children:
                os.kill(pid, signal.SIGKILL)
            time.sleep(1)
        started = time.monotonic()
        if to_group:
            os.killpg(script.pid, signum)
        else:
            os.kill(script.pid, signum)
        script.wait(timeout=30)
        deadline = time.monotonic() + 20
        while processes_with(marker) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert processes_with(marker) == []
        if within is not None:
            assert time.monotonic() - started <= within
    finally:
        for pid in processes_with(marker):
            os.kill(pid, signal.SIGKILL)
        if script.poll() is None:
            os.killpg(script.pid, signal.SIGKILL)
