"""Two real qcluster processes, ~50 cycles back to back, random on/off/restart(force) calls on
the REST API from several threads: one cycle at a time, one Watcher, one Runner, and nothing
left running once the sync is off (issue 7, item 3)."""

import random
import time

import pytest
from django.db.models import Count
from django_q.models import Schedule

from syncapp.models import AsyncJob, StudioOptions, SWApexJob
from syncapp.models.schedules import RUNNER_NAME, WATCHER_NAME
from tests.scale.conftest import (
    Api,
    Background,
    Deadline,
    assert_cycles_never_overlap,
    fire_due_schedules,
)
from tests.steps import EMPTY

pytestmark = [pytest.mark.integration, pytest.mark.slow]

# Fast steps: the proof is about the orchestration, not the steps' work.
WORKFLOW = ["tests.steps.Counting", *EMPTY[:3], "tests.steps.Finalizer", "tests.steps.Enqueuer"]
CYCLES = 50
API_THREADS = 3
SCHEDULER_THREADS = 2


def test_two_clusters_and_random_api_calls_never_run_two_cycles_at_once(
    qcluster, live_server, settings, admin_user, no_throttle
):
    deadline = Deadline(240, "50 cycles under concurrent API calls")
    settings.SWSTUDIO_WORKFLOW = WORKFLOW
    StudioOptions.objects.update_or_create(
        pk=1, defaults={"sync_gap_minutes": 1, "apex_jobs_threshold": 100000}
    )
    clusters = [qcluster(workers=2), qcluster(workers=2)]
    api = Api(live_server.url, admin_user)
    api.post("TurnSyncOn")

    samples = {"n": 0, "max_watchers": 0, "max_runners": 0, "max_in_progress": 0}
    calls = []

    def sample():
        counts = dict(
            Schedule.objects.filter(name__in=[WATCHER_NAME, RUNNER_NAME])
            .values_list("name")
            .annotate(n=Count("id"))
        )
        samples["n"] += 1
        samples["max_watchers"] = max(samples["max_watchers"], counts.get(WATCHER_NAME, 0))
        samples["max_runners"] = max(samples["max_runners"], counts.get(RUNNER_NAME, 0))
        in_progress = SWApexJob.objects.in_progress().count()
        samples["max_in_progress"] = max(samples["max_in_progress"], in_progress)

    last_watcher = [0.0] * SCHEDULER_THREADS

    def scheduler_loop(i):
        # django-q2's scheduler looks every ~30 s (hard-coded); for a tiny gap between cycles
        # these threads make the Runner due and call django-q2's own scheduler() every 50 ms,
        # two at once, beside the two clusters' own: a harsher condition than production.
        def body():
            # The Watcher starts the first cycle after every on/restart; fire it about twice
            # a second, the Runner on every turn.
            watcher = time.monotonic() - last_watcher[i] > 0.5
            if watcher:
                last_watcher[i] = time.monotonic()
            fire_due_schedules(runner=True, watcher=watcher)

        return body

    def api_loop(i):
        thread_rng = random.Random(i)

        def body():
            time.sleep(thread_rng.uniform(1.0, 4.0))
            action = thread_rng.choice(["TurnSyncOn", "TurnSyncOff", "RestartSync"])
            params = {"force": "true"} if action == "RestartSync" else {}
            api.post(action, **params)
            calls.append(action)

        return body

    background = Background()
    background.spawn("sampler", sample, 0.01)
    for i in range(SCHEDULER_THREADS):
        background.spawn(f"scheduler-{i}", scheduler_loop(i), 0.05)
    for i in range(API_THREADS):
        background.spawn(f"api-{i}", api_loop(i), 0)
    try:
        while SWApexJob.objects.count() < CYCLES and not background.errors:
            deadline.check()
            assert all(c.proc.poll() is None for c in clusters), [c.log() for c in clusters]
            time.sleep(0.5)
    finally:
        background.stop()

    api.post("TurnSyncOff")
    assert not AsyncJob.objects.active().exists()
    assert not Schedule.objects.filter(name__in=[WATCHER_NAME, RUNNER_NAME]).exists()
    # Tasks still in the broker (a Runner or Watcher fired just before, a step handed off)
    # must find the new generation and do nothing.
    time.sleep(3)
    status = api.status()
    assert status["syncEnabled"] is False
    assert status["asyncQueued"] == {}
    assert status["scheduledRunner"] == {} and status["scheduledWatcher"] == {}
    assert not AsyncJob.objects.active().exists()
    assert not SWApexJob.objects.in_progress().exists()
    assert not Schedule.objects.filter(name__in=[WATCHER_NAME, RUNNER_NAME]).exists()

    cycles = assert_cycles_never_overlap()
    assert samples["max_watchers"] <= 1, samples
    assert samples["max_runners"] <= 1, samples
    assert samples["max_in_progress"] <= 1, samples
    assert samples["n"] > 100, samples
    completed = [c for c in cycles if c.status == "Completed"]
    assert len(cycles) >= CYCLES
    # The random calls aborted some cycles, but most ran to the end.
    assert len(completed) >= CYCLES // 3, ([c.status for c in cycles], calls)
    assert {"TurnSyncOff", "RestartSync"} <= set(calls), calls
    for c in completed:
        assert c.step("Counting")["examined"] == 30
    print(
        f"{len(cycles)} cycles ({len(completed)} completed), {len(calls)} API calls, "
        f"{samples['n']} samples"
    )
