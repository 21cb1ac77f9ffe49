import logging

import pytest

from syncapp import logshipping
from syncapp.engine import clients
from syncapp.engine import cycle as cycle_engine
from tests import factories
from tests.fakes import FakeSalesforce, FakeSalesWings
from tests.steps import BASIC


@pytest.fixture(autouse=True)
def _basic_workflow(settings):
    settings.SWSTUDIO_WORKFLOW = BASIC
    # Unit tests have no org: no preflight (tests that want one set it), and retries of the
    # network clients do not sleep.
    settings.SWSTUDIO_PREFLIGHT = []
    settings.SALESFORCE_RETRY_BASE_DELAY = 0
    settings.SALESWINGS_RETRY_BASE_DELAY = 0


@pytest.fixture(autouse=True)
def _logger_levels():
    """Logger Options set the levels of process-wide loggers (a step applies them): put every
    level back after each test, so one test's options do not silence another's logs."""
    loggers = logging.root.manager.loggerDict
    before = {name: lg.level for name, lg in loggers.items() if isinstance(lg, logging.Logger)}
    yield
    for name, lg in list(loggers.items()):
        if isinstance(lg, logging.Logger) and lg.level != before.get(name, logging.NOTSET):
            lg.setLevel(before.get(name, logging.NOTSET))


class Network:
    """The two fake clients every test gets at the network seam (`syncapp.engine.clients`)."""

    def __init__(self):
        self.sf = FakeSalesforce()
        self.sw = FakeSalesWings()


@pytest.fixture(autouse=True)
def network(monkeypatch, request):
    logshipping.forget_rules()  # Logger Options cached by an earlier test's database
    net = Network()
    if "real_clients" in request.keywords:
        return net
    monkeypatch.setattr(clients, "salesforce", lambda: net.sf)
    monkeypatch.setattr(clients, "salesforce_check", lambda timeout=None: net.sf)
    monkeypatch.setattr(clients, "saleswings", lambda: net.sw)
    return net


@pytest.fixture
def admin_user(db):
    return factories.administrator(username="admin-persona")


@pytest.fixture
def viewer_user(db):
    return factories.viewer(username="viewer-persona")


@pytest.fixture
def outsider_user(db):
    return factories.outsider(username="outsider-persona")


class JobQueue:
    """Stands in for the broker hand-off in unit tests: collects queued job ids and runs
    them in this process."""

    def __init__(self):
        self.ids = []

    def run_next(self):
        return cycle_engine.run_step(self.ids.pop(0))

    def run_all(self, limit=100):
        ran = 0
        while self.ids and ran < limit:
            self.run_next()
            ran += 1
        return ran


@pytest.fixture
def job_queue(monkeypatch):
    queue = JobQueue()
    monkeypatch.setattr(cycle_engine, "_enqueue", lambda job_id, _name: queue.ids.append(job_id))
    # The test's transaction never commits; collecting the id right away is what a commit
    # would have done.
    monkeypatch.setattr(cycle_engine.transaction, "on_commit", lambda fn, using=None: fn())
    return queue


# The seeded world (tests/world.py) for tests that run whole cycles.
from tests.world import activities_synced, real_workflow, world  # noqa: E402, F401
