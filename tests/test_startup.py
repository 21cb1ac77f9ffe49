"""The database or the broker unreachable at start: one paragraph naming the variable and
the address, a non-zero exit, no traceback (syncapp/startup.py, manage.py)."""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import OperationalError
from django.test import RequestFactory

from syncapp import startup

ROOT = Path(__file__).resolve().parents[1]


def closed_port():
    """A local port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(args, tmp_path, **env):
    full = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "swstudio_site.settings",
        "SWSTUDIO_VAR_DIR": str(tmp_path),
        "PYTHONUNBUFFERED": "1",
        **env,
    }
    if "REDIS_URL" not in env:
        full.pop("REDIS_URL", None)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=full,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    "command",
    [["migrate", "--noinput"], ["runserver", "--noreload"], ["qcluster"], ["syncstatus"]],
    ids=lambda c: c[0],
)
def test_commands_name_the_database_that_is_not_there(command, tmp_path):
    port = closed_port()
    url = f"postgres://swstudio:hunter2-secret@127.0.0.1:{port}/swstudio"

    result = run(command, tmp_path, DATABASE_URL=url)

    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert (
        f"Cannot reach the database at 127.0.0.1:{port} (DATABASE_URL): connection refused. "
        "Check DATABASE_URL and that the server is running."
    ) in output
    assert "Traceback" not in output
    assert "hunter2-secret" not in output


def test_qcluster_names_the_broker_that_is_not_there(tmp_path):
    port = closed_port()

    result = run(
        ["qcluster"],
        tmp_path,
        # A database that answers (this run's may be a PostgreSQL one only the tests create).
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        REDIS_URL=f"redis://:hunter2-secret@127.0.0.1:{port}/3",
    )

    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert (
        f"Cannot reach the Redis broker at 127.0.0.1:{port} (REDIS_URL): connection refused. "
        "Check REDIS_URL and that the server is running."
    ) in output
    assert "Traceback" not in output
    assert "hunter2-secret" not in output


def test_an_unknown_host_is_named_too(tmp_path):
    result = run(["migrate"], tmp_path, DATABASE_URL="postgres://u:p@db.invalid:5432/swstudio")

    assert result.returncode != 0
    assert "Cannot reach the database at db.invalid:5432 (DATABASE_URL)" in result.stderr
    assert "does not resolve" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_start_script_stops_at_the_first_command(tmp_path):
    """scripts/start migrates first under `set -e`: the same paragraph, then it stops."""
    start = (ROOT / "scripts" / "start").read_text()
    assert start.index("manage.py migrate") < start.index("gunicorn")
    assert "set -euo pipefail" in start


def test_the_web_app_answers_503_and_logs_one_line(tmp_path):
    """gunicorn on an unreachable database: the first API request gets a 503 in the API's
    error shape, and the server log has the paragraph instead of a traceback."""
    db_port, web_port = closed_port(), closed_port()
    log = tmp_path / "gunicorn.log"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "swstudio_site.settings",
        "SWSTUDIO_VAR_DIR": str(tmp_path),
        "DATABASE_URL": f"postgres://swstudio:hunter2-secret@127.0.0.1:{db_port}/swstudio",
    }
    env.pop("REDIS_URL", None)
    with log.open("w") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "swstudio_site.wsgi", "--bind",
             f"127.0.0.1:{web_port}", "--workers", "1", "--log-level", "warning"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        import requests

        deadline = time.monotonic() + 30
        while True:
            try:
                response = requests.get(
                    f"http://127.0.0.1:{web_port}/Sync/v1/GetSyncStatus",
                    headers={"Authorization": "Token " + "0123456789" * 4},  # a well-formed key
                    timeout=10,
                )
                break
            except requests.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
    finally:
        server.terminate()
        server.wait(timeout=30)

    assert response.status_code == 503
    assert response.json()["error"]["code"] == "unavailable"
    assert "hunter2" not in response.text and str(db_port) not in response.text
    text = log.read_text()
    assert f"Cannot reach the database at 127.0.0.1:{db_port} (DATABASE_URL)" in text
    assert "Traceback" not in text
    assert "hunter2-secret" not in text


def test_the_middleware_turns_a_lost_database_into_a_503(monkeypatch, settings):
    settings.DEBUG = False

    def down():
        raise startup.Unreachable("Cannot reach the database at db:5432 (DATABASE_URL): boom.")

    monkeypatch.setattr(startup, "check_database", down)
    middleware = startup.StartupProblemMiddleware(lambda request: None)
    request = RequestFactory().get("/admin/")

    response = middleware.process_exception(request, OperationalError("connection failed"))

    assert response.status_code == 503
    assert b"db:5432" not in response.content  # the address stays in the log

    settings.DEBUG = True
    response = middleware.process_exception(request, OperationalError("connection failed"))
    assert b"db:5432 (DATABASE_URL)" in response.content


def test_other_errors_pass_through(monkeypatch):
    middleware = startup.StartupProblemMiddleware(lambda request: None)
    request = RequestFactory().get("/admin/")
    assert middleware.process_exception(request, ValueError("a bug")) is None
    # A database error while both dependencies answer is not an operations problem.
    monkeypatch.setattr(startup, "check_database", lambda: None)
    monkeypatch.setattr(startup, "check_broker", lambda: None)
    assert middleware.process_exception(request, OperationalError("locked")) is None
