"""The sandbox's control endpoints are staff only, even in the demo (issue 27, point 5).

Anonymous callers get 401 and change nothing; staff without the sandbox settings' permissions
403; a logged-in session must send its CSRF token (a cross-site POST fails); the control
user's token (`manage.py sandbox control-token`) works. A deeply nested JSON body is a 400.
"""

import io

import pytest
import requests
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.test import Client

from sandbox import runtime
from tests import factories
from tests import sandboxcontrol as sandbox_control

pytestmark = pytest.mark.django_db(transaction=True)

CALLS = [
    ("get", "/sandbox/control/faults", {}),
    ("put", "/sandbox/control/faults", {"json": {"latency_ms": 5}}),
    ("patch", "/sandbox/control/faults", {"json": {"latency_ms": 5}}),
    ("delete", "/sandbox/control/faults", {}),
    ("get", "/sandbox/control/stats", {}),
    ("post", "/sandbox/control/reset-counters", {}),
    ("post", "/sandbox/control/churn?size=3", {}),
]


@pytest.fixture
def url(live_server, settings):
    settings.SANDBOX_BASE_URL = live_server.url
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    runtime.load_settings()
    return live_server.url


@pytest.mark.parametrize(("method", "path", "kwargs"), CALLS)
def test_anonymous_callers_are_refused_and_nothing_changes(url, method, path, kwargs):
    before = sandbox_control.get(f"{url}/sandbox/control/faults", timeout=10).json()
    response = requests.request(method, url + path, timeout=10, **kwargs)
    assert response.status_code == 401, response.text
    assert response.json()["error"]["code"] == "not_authenticated"
    assert response.headers["WWW-Authenticate"] == "Token"
    assert sandbox_control.get(f"{url}/sandbox/control/faults", timeout=10).json() == before


def test_staff_without_the_sandbox_permissions_are_refused(url):
    viewer = factories.viewer(username="viewer-persona")  # staff, an SW Studio User
    browser = Client()
    browser.force_login(viewer)
    assert browser.get("/sandbox/control/stats").status_code == 403
    assert browser.delete("/sandbox/control/faults").status_code == 403


def _sandbox_staff():
    user = factories.outsider(username="sandbox-admin")
    user.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label="sandbox",
            codename__in=["view_sandboxsettings", "change_sandboxsettings"],
        )
    )
    return user


def test_a_session_must_send_its_csrf_token(url):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(_sandbox_staff())
    assert browser.get("/sandbox/control/faults").status_code == 200
    # A cross-site form or fetch rides on the session cookie but has no CSRF token.
    forged = browser.post("/sandbox/control/reset-counters")
    assert forged.status_code == 403 and "CSRF" in forged.json()["error"]["message"]
    forged = browser.put(
        "/sandbox/control/faults", '{"latency_ms": 5}', content_type="application/json"
    )
    assert forged.status_code == 403
    assert runtime.load_settings().latency_ms == 0
    browser.get("/admin/")  # sets the CSRF cookie, as every admin page does
    token = browser.cookies["csrftoken"].value
    ok = browser.put(
        "/sandbox/control/faults",
        '{"latency_ms": 5}',
        content_type="application/json",
        HTTP_X_CSRFTOKEN=token,
    )
    assert ok.status_code == 200 and ok.json()["latency_ms"] == 5


def test_the_control_token_from_the_management_command_works(url):
    out = io.StringIO()
    call_command("sandbox", "control-token", stdout=out)
    key = out.getvalue().strip()
    auth = {"Authorization": f"Token {key}"}
    response = requests.put(
        f"{url}/sandbox/control/faults", json={"latency_ms": 7}, headers=auth, timeout=10
    )
    assert response.status_code == 200 and response.json()["latency_ms"] == 7
    assert requests.delete(f"{url}/sandbox/control/faults", headers=auth, timeout=10).ok
    bad = requests.get(
        f"{url}/sandbox/control/stats", headers={"Authorization": "Token nope"}, timeout=10
    )
    assert bad.status_code == 401


@pytest.mark.parametrize("body", ["[" * 100_000, '{"a":' * 50_000])
def test_a_deeply_nested_body_is_400(url, body):
    response = sandbox_control.put(
        f"{url}/sandbox/control/faults",
        data=body,
        headers={"Content-Type": "application/json"},
        timeout=10,
    )
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == "bad_request"
