"""`manage.py check --deploy` is clean under production settings (issue 7, item 6).

Run in a subprocess: settings are read once per process, from the environment.
"""

import os
import secrets
import string
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PRODUCTION = {
    "DEBUG": "False",
    "ALLOWED_HOSTS": "sw.example.com",
    "SANDBOX_ENABLED": "False",
    "SALESFORCE_LOGIN_URL": "https://login.salesforce.com",
    "SALESFORCE_CLIENT_ID": "x",
    "SALESFORCE_CLIENT_SECRET": "y",
    "SALESWINGS_API_URL": "https://api.example.com",
}


def check_deploy(tmp_path, **extra):
    alphabet = string.ascii_letters + string.digits + string.punctuation.replace("$", "")
    env = {
        **os.environ,
        **PRODUCTION,
        "SECRET_KEY": "".join(secrets.choice(alphabet) for _ in range(50)),
        "SWSTUDIO_VAR_DIR": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "DJANGO_SETTINGS_MODULE": "swstudio_site.settings",
        **extra,
    }
    for name in ("SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS", "SESSION_COOKIE_SECURE"):
        env.pop(name, None)  # the production defaults, not whatever this shell exports
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_is_clean_in_production(tmp_path):
    result = check_deploy(tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_check_deploy_flags_the_sandbox_left_on(tmp_path):
    """The same command is not blind: leaving the sandbox on in production is reported."""
    result = check_deploy(tmp_path, SANDBOX_ENABLED="True")
    assert result.returncode != 0
    assert "swstudio.W001" in result.stdout + result.stderr


def test_check_deploy_flags_debug(tmp_path):
    result = check_deploy(tmp_path, DEBUG="True")
    assert result.returncode != 0
    assert "security.W018" in result.stdout + result.stderr
