"""Pages and the API never wait on the org (issue 27, point 1).

The org is black-holed: a local socket that accepts connections and never answers. The Setup
page and GetSyncStatus, served by the live server over real HTTP, answer at once from the kept
`OrgStatus`; the administrator's check gives up after SALESFORCE_CHECK_TIMEOUT without a
retry; a step's client keeps what it saw of the org (over real HTTP to a local org stand-in).
"""

import socket
import threading
import time

import pytest
import requests
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from syncapp.admin import connection
from syncapp.api.tokens import issue_token
from syncapp.engine import clients
from syncapp.models import OrgStatus
from syncapp.salesforce import auth
from tests import factories
from tests.salesforce.fakeorg import FakeOrg

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.real_clients]


class BlackHole:
    """Accepts TCP connections and never answers a byte."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.accepted = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self):
        self.sock.settimeout(0.1)
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.accepted.append(conn)

    def close(self):
        self._stop.set()
        self._thread.join()
        for conn in self.accepted:
            conn.close()
        self.sock.close()


@pytest.fixture
def black_hole(settings):
    hole = BlackHole()
    auth.token_cache.clear()
    settings.SALESFORCE_LOGIN_URL = hole.url
    settings.SALESFORCE_USERNAME = "sync@acme.example"
    settings.SALESFORCE_PASSWORD = "pw"
    settings.SALESFORCE_CLIENT_ID = "cid"
    settings.SALESFORCE_CLIENT_SECRET = "secret"
    settings.SALESFORCE_JWT_KEY_FILE = ""
    # What a production deployment has: five attempts, long timeouts.
    settings.SALESFORCE_RETRY_ATTEMPTS = 5
    settings.SALESFORCE_CONNECT_TIMEOUT = 10.0
    settings.SALESFORCE_READ_TIMEOUT = 120.0
    settings.SALESWINGS_API_TOKEN = "sw-env-token-for-tests"
    yield hole
    hole.close()
    auth.token_cache.clear()


def _timed_get(session, url, **kwargs):
    started = time.monotonic()
    response = session.get(url, timeout=10, **kwargs)
    return response, time.monotonic() - started


@pytest.mark.parametrize("kept", [True, False], ids=["status-kept", "nothing-kept"])
def test_setup_page_and_get_sync_status_answer_at_once(black_hole, live_server, kept):
    if kept:
        OrgStatus.record_check(
            timezone.now(),
            identity={
                "org_id": "00D000000000001",
                "instance_url": "https://acme.my.salesforce.com",
                "username": "sync@acme.example",
                "daily_used": 2500,
                "daily_max": 100000,
            },
        )
    admin = factories.administrator(username="admin-persona")
    viewer = factories.viewer(username="viewer-persona")
    browser = Client()
    browser.force_login(viewer)
    page_session = requests.Session()
    page_session.cookies.set("sessionid", browser.cookies["sessionid"].value)
    api = requests.Session()
    api.headers["Authorization"] = f"Token {issue_token(admin)[0].key}"

    page, page_seconds = _timed_get(page_session, live_server.url + reverse("admin:swstudio_setup"))
    status, status_seconds = _timed_get(api, live_server.url + "/Sync/v1/GetSyncStatus")

    assert page.status_code == 200 and status.status_code == 200
    assert page_seconds < 1.0, page_seconds
    assert status_seconds < 1.0, status_seconds
    assert black_hole.accepted == []  # neither asked the org
    content = page.text
    if kept:
        assert "00D000000000001" in content and "2500 of 100000 calls" in content
    else:
        assert connection.NOT_CHECKED in content


def test_the_check_gives_up_after_its_timeout_without_retrying(black_hole, settings):
    settings.SALESFORCE_CHECK_TIMEOUT = 0.5
    started = time.monotonic()
    status = connection.check_salesforce()
    elapsed = time.monotonic() - started

    assert elapsed < 2.0, elapsed
    assert len(black_hole.accepted) == 1  # one attempt: the login, never retried
    assert not status.connected and "Timeout" in status.error
    kept = OrgStatus.load()
    assert not kept.connected and kept.checked_at is not None


def test_the_setup_page_check_button_is_bounded_too(black_hole, settings):
    settings.SALESFORCE_CHECK_TIMEOUT = 0.5
    browser = Client()
    browser.force_login(factories.administrator(username="admin-persona"))
    started = time.monotonic()
    response = browser.post(reverse("admin:swstudio_setup_check_salesforce"), follow=True)
    assert time.monotonic() - started < 2.0
    assert "Salesforce could not be reached" in response.content.decode()


def test_a_step_keeps_what_its_client_saw_of_the_org(settings):
    org = FakeOrg().start()
    try:
        auth.token_cache.clear()
        settings.SALESFORCE_LOGIN_URL = org.url
        settings.SALESFORCE_USERNAME = org.username
        settings.SALESFORCE_PASSWORD = org.password
        settings.SALESFORCE_CLIENT_ID = org.client_id
        settings.SALESFORCE_CLIENT_SECRET = org.client_secret
        settings.SALESFORCE_JWT_KEY_FILE = ""
        org.used = 1233
        with clients.tracking():
            clients.salesforce().describe("Lead")
            assert OrgStatus.load().checked_at is None  # kept when the step ends
        kept = OrgStatus.load()
        assert kept.connected and kept.error == ""
        assert (kept.api_calls_used, kept.api_calls_limit) == (1234, 15000)
        assert kept.api_calls_left == 15000 - 1234
        assert kept.org_id == "00DFAKE" and kept.username == org.username
        assert kept.api_usage_at is not None and kept.identity_at is not None
    finally:
        org.stop()
        auth.token_cache.clear()
