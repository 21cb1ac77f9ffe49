"""The org check through the real Salesforce client: against the sandbox's org over HTTP
(it holds every field: the check passes), and against orgs that do not answer (reported
within the timeout, no retry)."""

import datetime as dt
import io
import socket
import threading
import time

import pytest
from django.core.management import call_command

from sandbox import seed
from syncapp.engine import org_check
from syncapp.models import OrgCheck
from syncapp.salesforce import auth
from tests.salesforce.fakeorg import FakeOrg
from tests.sandboxsetup import configure_everything

BASE_TIME = dt.datetime(2026, 11, 1, 12, 0, tzinfo=dt.UTC)
SIZES = seed.Sizes(
    prospects=20, leads=20, contacts=10, accounts=2, opportunities=2, activities_per_prospect=1
)

pytestmark = [pytest.mark.django_db, pytest.mark.real_clients]


def _checkorg(*args):
    out = io.StringIO()
    started = time.monotonic()
    try:
        call_command("checkorg", *args, stdout=out)
        code = 0
    except SystemExit as exc:
        code = exc.code
    return code, out.getvalue(), time.monotonic() - started


@pytest.fixture(autouse=True)
def _fresh_tokens():
    auth.token_cache.clear()
    yield
    auth.token_cache.clear()


@pytest.fixture
def sandbox(live_server, settings, transactional_db):
    settings.SANDBOX_BASE_URL = live_server.url
    settings.SANDBOX_ENABLED = True
    for name in ("LOGIN_URL", "USERNAME", "PASSWORD", "CLIENT_ID", "CLIENT_SECRET", "JWT_KEY_FILE"):
        setattr(settings, f"SALESFORCE_{name}", "")
    seed.seed(SIZES, 3, BASE_TIME)
    return live_server.url


@pytest.mark.integration
def test_checkorg_against_the_sandbox_passes(sandbox):
    configure_everything(activity_sync=True)
    code, out, _ = _checkorg()
    row = org_check.last()
    assert code == 0, out
    assert row.status == OrgCheck.Status.PASSED and row.findings == [], row.findings
    assert row.facts["user"]["username"] == "sync@swstudio.sandbox"
    assert row.facts["versions"]["newest"] == "62.0"
    assert row.facts["daily_api"]["max"] == 100000
    assert out.splitlines()[-1] == (
        "Ready: every object and field the sync uses is there and editable."
    )


def _silent_server():
    """Accepts connections and never answers."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    held = []

    def accept():
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            held.append(conn)

    threading.Thread(target=accept, daemon=True).start()
    return listener, held


def _credentials(settings, url):
    settings.SALESFORCE_LOGIN_URL = url
    settings.SALESFORCE_USERNAME = "sync@acme.example"
    settings.SALESFORCE_PASSWORD = "pw"
    settings.SALESFORCE_CLIENT_ID = "cid"
    settings.SALESFORCE_CLIENT_SECRET = "secret"
    settings.SALESFORCE_JWT_KEY_FILE = ""
    settings.SALESFORCE_RETRY_ATTEMPTS = 5  # the check makes one attempt whatever this says


def test_an_org_that_accepts_but_never_answers_is_reported_within_the_timeout(settings):
    listener, held = _silent_server()
    try:
        _credentials(settings, f"http://127.0.0.1:{listener.getsockname()[1]}")
        code, out, elapsed = _checkorg("--timeout", "1")
    finally:
        listener.close()
        for conn in held:
            conn.close()
    assert code == 2
    # The login is made by the first call (the limits of the identity), which names itself.
    assert out.startswith("Could not check the org: Salesforce limits: ReadTimeout")
    assert elapsed < 2.5  # one attempt of 1 s, no retry
    assert len(held) == 1


def _full_listener():
    """A port whose accept queue is full: a new connection attempt hangs (its SYN is
    dropped), as with an org behind a firewall that drops packets."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    fillers = []
    for _ in range(4):
        filler = socket.socket()
        filler.settimeout(0.3)
        try:
            filler.connect(listener.getsockname())
        except OSError:
            filler.close()
            break
        fillers.append(filler)
    return listener, fillers


def test_an_org_that_does_not_accept_connections_is_reported_within_the_check_timeout(
    settings,
):
    listener, fillers = _full_listener()
    try:
        _credentials(settings, f"http://127.0.0.1:{listener.getsockname()[1]}")
        settings.SALESFORCE_CHECK_TIMEOUT = 1
        settings.SALESFORCE_CONNECT_TIMEOUT = 10
        settings.SALESFORCE_READ_TIMEOUT = 120
        code, out, elapsed = _checkorg()
    finally:
        for sock in [listener, *fillers]:
            sock.close()
    assert code == 2
    assert out.startswith("Could not check the org: Salesforce limits: ConnectTimeout")
    assert elapsed < 2.5  # SALESFORCE_CHECK_TIMEOUT, one attempt


def test_a_describe_that_hangs_is_not_retried(settings):
    org = FakeOrg().start()
    try:
        _credentials(settings, org.url)
        settings.SALESFORCE_USERNAME = org.username
        settings.SALESFORCE_PASSWORD = org.password
        settings.SALESFORCE_CLIENT_ID = org.client_id
        settings.SALESFORCE_CLIENT_SECRET = org.client_secret
        org.slow_down(r"/describe", 3, times=5)
        code, out, elapsed = _checkorg("--timeout", "1")
        describes = org.data_calls("GET", r"/describe")
    finally:
        org.stop()
    assert code == 2
    assert "Salesforce describe Lead: ReadTimeout" in out
    assert elapsed < 2.5
    assert len(describes) == 1
