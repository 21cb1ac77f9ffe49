import datetime as dt

import pytest
import requests

from sandbox import runtime, seed
from tests import sandboxcontrol as sandbox_control
from tests.sandbox import sfclient

BASE_TIME = dt.datetime(2026, 11, 1, 12, 0, tzinfo=dt.UTC)
SMALL = seed.Sizes(
    prospects=60, leads=40, contacts=40, accounts=6, opportunities=8, activities_per_prospect=2
)


@pytest.fixture
def sandbox_url(live_server, settings):
    # The OAuth stand-in answers instance_url = SANDBOX_BASE_URL.
    settings.SANDBOX_BASE_URL = live_server.url
    return live_server.url


@pytest.fixture
def cfg(transactional_db):
    return runtime.load_settings()


@pytest.fixture
def world(transactional_db):
    return seed.seed(SMALL, 7, BASE_TIME)


@pytest.fixture
def sf(sandbox_url, cfg, world):
    return sfclient.login_client(sandbox_url, cfg)


@pytest.fixture
def faults(sandbox_url):
    """Set faults through the HTTP control endpoint."""

    def put(**changes):
        r = sandbox_control.put(f"{sandbox_url}/sandbox/control/faults", json=changes, timeout=10)
        assert r.status_code == 200, r.text
        return r.json()

    return put


@pytest.fixture
def sw(sandbox_url, cfg, world):
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {cfg.saleswings_token}"
    base = f"{sandbox_url}/sandbox/saleswings/api/v1"

    class Client:
        url = base

        def get(self, path, **kw):
            return session.get(base + path, timeout=10, **kw)

        def post(self, path, **kw):
            return session.post(base + path, timeout=10, **kw)

    return Client()
