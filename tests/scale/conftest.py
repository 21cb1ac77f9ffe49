"""Helpers for the scale-out and robustness proofs (issue 7): threads that drive django-q2's
own scheduler, the REST API over HTTP, and the run records' invariants."""

import threading
import time

import pytest
import requests
from django.db import connections
from django.utils import timezone
from django_q.models import Schedule
from django_q.scheduler import scheduler

from syncapp.models import SWApexJob
from syncapp.models.schedules import RUNNER_NAME, WATCHER_NAME
from tests import factories
from tests import sandboxcontrol as sandbox_control
from tests.integration.conftest import qcluster, wait_for  # noqa: F401  (fixture re-exported)
from tests.sandboxsetup import configure_everything


class Deadline:
    """A test's own time limit: loops ask it, and it fails the test when it is over."""

    def __init__(self, seconds, what):
        self.end = time.monotonic() + seconds
        self.seconds = seconds
        self.what = what

    @property
    def left(self):
        return self.end - time.monotonic()

    def check(self):
        if self.left <= 0:
            raise AssertionError(f"{self.what} did not finish within {self.seconds}s")


class Background:
    """Threads that loop until stopped, each with its own database connection, keeping the
    first exception they meet (re-raised by `stop`)."""

    def __init__(self):
        self.stopping = threading.Event()
        self.threads = []
        self.errors = []

    def spawn(self, name, body, interval):
        def loop():
            try:
                while not self.stopping.is_set():
                    body()
                    self.stopping.wait(interval)
            except Exception as exc:  # noqa: BLE001  (reported by stop())
                self.errors.append((name, exc))
            finally:
                connections.close_all()

        thread = threading.Thread(target=loop, name=name, daemon=True)
        thread.start()
        self.threads.append(thread)

    def stop(self, timeout=60):
        self.stopping.set()
        for thread in self.threads:
            thread.join(timeout)
        assert not [t.name for t in self.threads if t.is_alive()], "threads still running"
        assert not self.errors, self.errors


def fire_due_schedules(runner=True, watcher=False):
    """Make the pending Runner (and the Watcher) due now, then run django-q2's scheduler.

    `scheduler()` is django-q2's own code, the function each cluster runs every ~30 s
    (hard-coded); calling it here, more often and from several threads at once, is a harsher
    condition than production, not a different code path.
    """
    names = [n for n, on in ((RUNNER_NAME, runner), (WATCHER_NAME, watcher)) if on]
    if names:
        # Due now, not a moment ago: a Runner is never due before the cycle that scheduled it
        # started, and the Watcher tells a lost Runner firing by the cycles created since.
        Schedule.objects.filter(name__in=names).exclude(repeats=0).update(next_run=timezone.now())
    scheduler()


class Api:
    """The sync's REST API over real HTTP, as an administrator with a DRF token."""

    def __init__(self, base_url, user):
        self.base = f"{base_url}/Sync/v1"
        self.headers = {"Authorization": f"Token {factories.TokenFactory(user=user).key}"}

    def post(self, name, **params):
        r = requests.post(f"{self.base}/{name}", params=params, headers=self.headers, timeout=60)
        assert r.status_code == 200, (name, r.status_code, r.text[:500])
        return r.json()

    def status(self):
        r = requests.get(f"{self.base}/GetSyncStatus", headers=self.headers, timeout=60)
        assert r.status_code == 200, r.text[:500]
        return r.json()


def assert_cycles_never_overlap(cycles=None):
    """From the run records: every cycle ended, and each began after the previous one ended.

    A cycle is in progress from its creation (Queued) to its end time.
    """
    cycles = list(cycles if cycles is not None else SWApexJob.objects.order_by("created_at", "id"))
    assert all(c.end_time for c in cycles), [c.name for c in cycles if not c.end_time]
    overlaps = [
        (a.name, a.end_time.isoformat(), b.name, b.created_at.isoformat())
        for a, b in zip(cycles, cycles[1:], strict=False)
        if b.created_at < a.end_time
    ]
    assert not overlaps, overlaps
    return cycles


@pytest.fixture
def no_throttle(settings):
    # Random on/off/restart calls from several threads would hit the per-user rate limit.
    settings.SWSTUDIO_API_POST_RATE = ""


class SandboxWorld:
    """The sandbox seeded with a small world, served by the live server, and SW Studio set up
    for the real workflow against it (as tests/integration/test_sync_sandbox.py's `live`),
    with no in-process job queue: cycles go through whichever broker the test uses."""

    def __init__(self, url):
        self.url = url

    def faults(self, **changes):
        r = sandbox_control.put(f"{self.url}/sandbox/control/faults", json=changes, timeout=30)
        assert r.status_code == 200, r.text
        return r.json()

    def stats(self):
        r = sandbox_control.get(f"{self.url}/sandbox/control/stats", timeout=30)
        assert r.status_code == 200, r.text
        return r.json()

    def reset_counters(self):
        r = sandbox_control.post(f"{self.url}/sandbox/control/reset-counters", timeout=30)
        assert r.status_code == 200, r.text

    def churn(self, size):
        r = sandbox_control.post(
            f"{self.url}/sandbox/control/churn", params={"size": size}, timeout=60
        )
        assert r.status_code == 200, r.text
        return r.json()

    def env(self):
        """What a qcluster process needs to run the real steps against this sandbox."""
        return {
            "SANDBOX_BASE_URL": self.url,
            "SALESFORCE_RETRY_BASE_DELAY": "0",
            "SALESWINGS_RETRY_BASE_DELAY": "0",
        }


@pytest.fixture
def sandbox_world(request, live_server, settings, transactional_db, admin_user):
    """Parametrize indirectly with seed.Sizes, or get the default small world."""
    from django.conf import settings as django_settings

    from sandbox import seed
    from syncapp.engine import control
    from syncapp.salesforce import auth
    from tests.integration.test_sync_sandbox import BASE_TIME, SIZES

    sizes = getattr(request, "param", SIZES)
    settings.SANDBOX_BASE_URL = live_server.url
    settings.SWSTUDIO_WORKFLOW = django_settings.SWSTUDIO_DEFAULT_WORKFLOW
    settings.SALESFORCE_RETRY_BASE_DELAY = 0
    settings.SALESWINGS_RETRY_BASE_DELAY = 0
    auth.token_cache.clear()
    seed.seed(sizes, 11, BASE_TIME)
    world = SandboxWorld(live_server.url)
    world.faults(auto_churn=False)
    configure_everything(sync_gap_minutes=1)
    control.turn_on(admin_user)
    yield world
    world.faults(
        validation_rules=[], daily_api_limit=100000, lock_row_rate=0.0, server_error_rate=0.0,
        session_expiry_calls=None, latency_ms=0, sw_latency_ms=0,
    )  # fmt: skip
    auth.token_cache.clear()
