"""How the embedded default serves the sandbox: gunicorn gthread, no Nagle delays."""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from django.db import connection

from tests import sandboxcontrol as sandbox_control

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.integration
def test_gunicorn_connections_have_tcp_nodelay(transactional_db):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    db = connection.settings_dict["NAME"]
    env = {**os.environ, "SANDBOX_BASE_URL": f"http://127.0.0.1:{port}"}
    if connection.vendor == "sqlite":
        env["DATABASE_URL"] = f"sqlite:///{db}"
    else:
        pytest.skip("checked on the embedded default")
    gunicorn = Path(sys.executable).with_name("gunicorn")
    server = subprocess.Popen(
        [str(gunicorn), "swstudio_site.wsgi", "--bind", f"127.0.0.1:{port}",
         "--worker-class", "gthread", "--workers", "1", "--threads", "2",
         "--log-level", "warning"],
        cwd=ROOT, env=env,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                r = sandbox_control.get(f"http://127.0.0.1:{port}/sandbox/control/stats", timeout=5)
                break
            except requests.RequestException:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        assert r.status_code == 200
        assert r.json()["server"]["tcpNoDelay"] is True
    finally:
        server.terminate()
        server.wait(timeout=30)
