"""The SalesWings client against the sandbox's backend stand-in, over real HTTP."""

import datetime as dt
import logging

import pytest

from sandbox import seed
from sandbox.models import SwReceived
from syncapp.engine.backend import connect, get_client
from syncapp.models import Credential
from syncapp.saleswings.errors import AuthError
from tests import sandboxcontrol as sandbox_control

pytestmark = pytest.mark.integration

BASE_TIME = dt.datetime(2026, 11, 1, 12, 0, tzinfo=dt.UTC)
SIZES = seed.Sizes(
    prospects=120, leads=20, contacts=20, accounts=3, opportunities=3, activities_per_prospect=2
)


@pytest.fixture
def sandbox(live_server, settings, transactional_db):
    settings.SANDBOX_BASE_URL = live_server.url
    settings.SANDBOX_ENABLED = True
    settings.SALESWINGS_API_URL = ""
    settings.SALESWINGS_API_TOKEN = ""
    settings.SALESWINGS_RETRY_ATTEMPTS = 12
    settings.SALESWINGS_RETRY_MAX_DELAY = 0.01  # the sandbox's 429s say Retry-After: 1
    seed.seed(SIZES, 5, BASE_TIME)
    sandbox_control.put(
        f"{live_server.url}/sandbox/control/faults", json={"auto_churn": False}, timeout=10
    ).raise_for_status()
    return live_server.url


@pytest.fixture
def faults(sandbox):
    def put(**changes):
        r = sandbox_control.put(f"{sandbox}/sandbox/control/faults", json=changes, timeout=10)
        assert r.status_code == 200, r.text

    return put


def _read_all(fetch, limit):
    cursor, items, calls = 0, [], 0
    while True:
        page = fetch(since=cursor, limit=limit)
        calls += 1
        items += page.items
        assert page.next_since >= cursor
        cursor = page.next_since
        if not page.has_more:
            return items, cursor, calls


def test_zero_configuration_reads_the_sandbox(sandbox):
    client = get_client()
    assert client.base_url == f"{sandbox}/sandbox/saleswings/api/v1"
    assert client.account() == {"id": "acc_1", "name": "Acme Corp"}
    assert {t["id"] for t in client.tags()} >= {"tag_pricing", "tag_demo"}
    assert {s["id"] for s in client.scores()} == {"engagement", "fit"}


def test_paging_reads_every_prospect_and_activity_once(sandbox):
    client = get_client()
    prospects, cursor, calls = _read_all(client.prospects, 25)
    assert len(prospects) == len({p["id"] for p in prospects}) >= 120
    assert [p["seq"] for p in prospects] == sorted(p["seq"] for p in prospects)
    assert cursor == prospects[-1]["seq"]
    assert calls == -(-len(prospects) // 25)  # full pages, no empty one at the end
    assert client.prospects(since=cursor, limit=25).items == []
    activities, _, _ = _read_all(client.activities, 100)
    assert len(activities) == len({a["id"] for a in activities}) > 0


def test_posts_are_accepted(sandbox):
    client = get_client()
    client.send_metrics({"cycle": 1, "status": "Completed"})
    entries = [
        {"level": "WARNING", "logger": "t", "message": str(i), "time": "t"} for i in range(600)
    ]
    assert client.send_logs(entries) == 600
    changes = [
        {"salesforceId": f"00Q00000000000{i}AAA", "object": "Lead", "email": f"u{i}@x.com"}
        for i in range(3)
    ]
    assert client.send_changes(changes) == 3
    kinds = list(SwReceived.objects.values_list("kind", flat=True))
    assert kinds.count("metrics") == 1 and kinds.count("log") == 600


def test_faults_are_retried_until_the_call_goes_through(sandbox, faults, settings):
    # About half the calls fail (0.4 + 0.6 x 0.2). Pages of 5 make ~24 calls: no fault at all
    # is 0.48^24 (2e-8), one call failing all 20 attempts 24 x 0.52^20 (5e-5). With pages of
    # 20 and 12 attempts both were near 1 %, and the test failed once.
    settings.SALESWINGS_RETRY_ATTEMPTS = 20
    faults(sw_error_rate=0.4, sw_rate_limit_rate=0.2)
    client = get_client()
    prospects, _, _ = _read_all(client.prospects, 5)
    assert len(prospects) >= 120
    stats = sandbox_control.get(f"{sandbox}/sandbox/control/stats", timeout=10).json()["counters"]
    assert stats.get("sw.fault.unavailable", 0) + stats.get("sw.fault.rate_limited", 0) > 0


def test_connect_checks_the_token_and_never_logs_it(sandbox, settings, caplog):
    caplog.set_level(logging.DEBUG)
    with pytest.raises(AuthError):
        connect("not-the-sandbox-token")
    assert not Credential.objects.exists()
    token = settings.SANDBOX_SALESWINGS_TOKEN
    assert connect(token)["name"] == "Acme Corp"
    assert Credential.objects.get().account_name == "Acme Corp"
    assert token not in caplog.text
