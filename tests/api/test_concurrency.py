"""Concurrent calls from several threads, each with its own database connection.

The test database is a SQLite file opened in IMMEDIATE transaction mode, so the control
functions' transactions really queue up behind each other here, as they would on
PostgreSQL behind the sync state row lock.
"""

import threading

import pytest
from django.db import connections
from django_q.models import Schedule

from syncapp.engine import cycle as cycle_engine
from syncapp.engine.cycle import start_cycle
from syncapp.models import SWApexJob, SyncState
from syncapp.models.schedules import RUNNER_NAME, WATCHER_NAME
from syncapp.models.statuses import Trigger
from tests.api.conftest import token_client
from tests.factories import administrator

pytestmark = pytest.mark.django_db(transaction=True)

THREADS = 6


@pytest.fixture(autouse=True)
def _no_broker(monkeypatch):
    # The cycles' first steps would go to the broker; only their creation matters here.
    monkeypatch.setattr(cycle_engine, "_enqueue", lambda job_id, name: None)


def run_in_threads(*calls):
    """Start every call at once (a barrier), each in its own thread; return their results."""
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def worker(i, call):
        try:
            barrier.wait()
            results[i] = call()
        except Exception as exc:  # noqa: BLE001  (reported by the assertion below)
            results[i] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads)
    errors = [r for r in results if isinstance(r, Exception)]
    assert not errors, errors
    return results


def clients(n):
    return [token_client(administrator(username=f"admin-{i}")) for i in range(n)]


def test_concurrent_forced_restarts_leave_one_watcher(admin_user):
    token_client(admin_user).post("/Sync/v1/TurnSyncOn")
    start_cycle(Trigger.WATCHER)
    callers = clients(THREADS)

    responses = run_in_threads(
        *[lambda c=c: c.post("/Sync/v1/RestartSync?force=true") for c in callers]
    )

    assert [r.status_code for r in responses] == [200] * THREADS
    assert Schedule.objects.filter(name=WATCHER_NAME).count() == 1
    assert not Schedule.objects.filter(name=RUNNER_NAME).exists()
    assert not SWApexJob.objects.in_progress().exists()
    state = SyncState.load()
    # Each restart was whole: off then on, never interleaved with another.
    assert state.enabled and state.generation == 1 + 2 * THREADS


def test_concurrent_restarts_and_watcher_firings_never_run_two_cycles(admin_user):
    token_client(admin_user).post("/Sync/v1/TurnSyncOn")
    callers = clients(THREADS)

    def watcher_fires():
        return start_cycle(Trigger.WATCHER)

    calls = []
    for c in callers:
        calls += [lambda c=c: c.post("/Sync/v1/RestartSync?force=1"), watcher_fires]
    results = run_in_threads(*calls)

    assert {r.status_code for r in results[0::2]} == {200}
    assert Schedule.objects.filter(name=WATCHER_NAME).count() == 1
    # Every cycle but the newest was aborted by a later restart; at most one is running.
    assert SWApexJob.objects.in_progress().count() <= 1
    newest = SWApexJob.objects.newest()
    older = SWApexJob.objects.exclude(pk=newest.pk) if newest else SWApexJob.objects.none()
    assert not older.in_progress().exists()
    # Cycles belong to distinct generations: no two were started in the same one.
    generations = list(SWApexJob.objects.values_list("generation", flat=True))
    assert len(generations) == len(set(generations))


def test_concurrent_restarts_without_force_while_a_cycle_runs_are_all_refused(admin_user):
    token_client(admin_user).post("/Sync/v1/TurnSyncOn")
    cycle = start_cycle(Trigger.WATCHER)
    callers = clients(THREADS)

    responses = run_in_threads(*[lambda c=c: c.post("/Sync/v1/RestartSync") for c in callers])

    assert [r.status_code for r in responses] == [412] * THREADS
    cycle.refresh_from_db()
    assert cycle.is_in_progress
    assert SyncState.load().generation == 1
    assert Schedule.objects.filter(name=WATCHER_NAME).count() == 1


def test_concurrent_turn_on_turns_on_once(db):
    callers = clients(THREADS)

    responses = run_in_threads(*[lambda c=c: c.post("/Sync/v1/TurnSyncOn") for c in callers])

    assert [r.status_code for r in responses] == [200] * THREADS
    assert Schedule.objects.filter(name=WATCHER_NAME).count() == 1
    state = SyncState.load()
    assert state.generation == 1
    assert state.running_user.username.startswith("admin-")
