"""`/metrics` (issue 28): a whole cycle of the real workflow over HTTP against the sandbox,
then the scrape parsed with the client library's own parser, every value checked against the
cycle's run record (and the API calls against what the sandbox counted)."""

import datetime as dt

import pytest
import requests
from django.conf import settings as django_settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from sandbox import seed
from syncapp.engine import control
from syncapp.engine.cycle import start_cycle
from syncapp.models import AsyncJob, OrgStatus, StudioOptions, SWApexJob
from syncapp.models.statuses import CycleStatus, JobStatus, Trigger
from syncapp.salesforce import auth
from tests import sandboxcontrol as sandbox_control
from tests.sandboxsetup import configure_everything

TOKEN = "metrics-token-for-the-tests-0123456789"
BASE_TIME = dt.datetime(2026, 11, 1, 12, 0, tzinfo=dt.UTC)
SIZES = seed.Sizes(
    prospects=60, leads=40, contacts=40, accounts=5, opportunities=5, activities_per_prospect=1
)


def parse(text):
    """{metric name: {frozenset(labels.items()): value}} of an exposition."""
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found.setdefault(sample.name, {})[frozenset(sample.labels.items())] = sample.value
    return found


def labels(**kw):
    return frozenset(kw.items())


def scrape(url, token=TOKEN):
    response = requests.get(
        f"{url}/metrics", headers={"Authorization": f"Bearer {token}"}, timeout=10
    )
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    return parse(response.text)


@pytest.fixture
def live(live_server, settings, transactional_db, job_queue, admin_user):
    settings.SANDBOX_BASE_URL = live_server.url
    settings.SWSTUDIO_WORKFLOW = django_settings.SWSTUDIO_DEFAULT_WORKFLOW
    settings.SALESWINGS_API_URL = ""
    settings.SALESWINGS_API_TOKEN = settings.SANDBOX_SALESWINGS_TOKEN
    settings.SWSTUDIO_METRICS_TOKEN = TOKEN
    auth.token_cache.clear()
    seed.seed(SIZES, 5, BASE_TIME)

    def control_call(method, path, **kw):
        r = requests.request(
            method,
            f"{live_server.url}/sandbox/control/{path}",
            headers=sandbox_control.headers(),
            timeout=10,
            **kw,
        )
        assert r.status_code == 200, r.text
        return r.json()

    # Faults that leave traces in the run record: records refused by a validation rule
    # (failed), row locks and 503s retried (transient errors).
    control_call(
        "PUT",
        "faults",
        json={
            "auto_churn": False,
            "lock_row_rate": 0.2,
            "server_error_rate": 0.05,
            "validation_rules": [{"object": "Lead", "share": 0.3, "message": "Blocked"}],
        },
    )
    configure_everything(activity_sync=True)
    control.turn_on(admin_user)

    def cycle():
        control_call("POST", "reset-counters")
        started = start_cycle(Trigger.RUNNER)
        assert started is not None
        job_queue.run_all()
        return SWApexJob.objects.get(pk=started.pk), control_call("GET", "stats")

    cycle.url = live_server.url
    yield cycle
    sandbox_control.delete(f"{live_server.url}/sandbox/control/faults", timeout=10)
    auth.token_cache.clear()


@pytest.mark.real_clients
def test_every_value_of_a_scrape_is_what_the_run_records_say(live):
    cycle, stats = live()
    assert cycle.status in (CycleStatus.COMPLETED, CycleStatus.PARTIALLY_COMPLETED), cycle.steps
    before = timezone.now()
    m = scrape(live.url)
    after = timezone.now()
    cycle.refresh_from_db()
    steps = cycle.steps

    assert m["swstudio_sync_enabled"] == {labels(): 1.0}
    options = StudioOptions.load()
    assert m["swstudio_sync_gap_seconds"] == {labels(): options.sync_gap_minutes * 60}
    assert m["swstudio_salesforce_daily_api_call_reserve"] == {labels(): options.api_call_reserve}
    # The org's daily calls left: the value the cycle kept (OrgStatus), never asked live.
    org = OrgStatus.load()
    assert org.api_calls_left is not None, "the cycle kept no API usage"
    assert m["swstudio_salesforce_daily_api_calls_left"] == {labels(): org.api_calls_left}
    assert m["swstudio_salesforce_daily_api_usage_timestamp_seconds"] == {
        labels(): org.api_usage_at.timestamp()
    }
    assert m["swstudio_last_cycle_info"] == {
        labels(cycle=cycle.name, status=cycle.status, trigger=cycle.trigger): 1.0
    }
    assert m["swstudio_cycle_duration_seconds"] == {
        labels(status=cycle.status): (cycle.end_time - cycle.start_time).total_seconds()
    }
    completed = SWApexJob.objects.filter(status=CycleStatus.COMPLETED).first()
    if completed:
        assert m["swstudio_last_completed_cycle_end_timestamp_seconds"] == {
            labels(): completed.end_time.timestamp()
        }
    else:
        assert "swstudio_last_completed_cycle_end_timestamp_seconds" not in m

    # Records per step, every step of the run record, each figure.
    assert len(steps) >= 15
    for key in ("examined", "modified", "failed", "skipped"):
        assert m[f"swstudio_last_cycle_records_{key}"] == {
            labels(step=s["name"]): s[key] for s in steps
        }, key
    assert sum(s["failed"] for s in steps) > 0, "the validation rule failed no record"

    # API calls per step and service; their sum is what the org and the backend counted.
    assert m["swstudio_last_cycle_api_calls"] == {
        labels(step=s["name"], service=service): s["api_calls"][service]
        for s in steps
        for service in ("salesforce", "saleswings")
    }
    sf_calls = sum(s["api_calls"]["salesforce"] for s in steps)
    sw_calls = sum(s["api_calls"]["saleswings"] for s in steps)
    assert sf_calls == stats["salesforce"]["apiUsed"] > 0
    assert sw_calls == stats["counters"]["sw.requests"] > 0

    # Transient errors by step and code: whatever the run record's entries hold.
    assert m.get("swstudio_last_cycle_transient_errors", {}) == {
        labels(step=s["name"], code=code): n
        for s in steps
        for code, n in s["transient_errors"].items()
    }
    assert sum(sum(s["transient_errors"].values()) for s in steps) > 0

    # Jobs and heartbeats: nothing runs after the cycle; the youngest heartbeat is the
    # newest any job wrote.
    assert m["swstudio_async_jobs"] == {
        labels(status=s): 0 for s in ("Holding", "Queued", "Preparing", "Processing")
    }
    assert "swstudio_step_heartbeat_age_seconds" not in m
    youngest = max(j.last_heartbeat for j in AsyncJob.objects.exclude(last_heartbeat=None))
    (age,) = m["swstudio_worker_heartbeat_age_seconds"].values()
    assert (before - youngest).total_seconds() <= age <= (after - youngest).total_seconds()


@pytest.mark.real_clients
def test_a_scrape_costs_the_same_queries_after_one_cycle_or_three(live, client):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {TOKEN}"}
    live()
    with CaptureQueriesContext(connection) as one:
        assert client.get("/metrics", **headers).status_code == 200
    live()
    live()
    with CaptureQueriesContext(connection) as three:
        assert client.get("/metrics", **headers).status_code == 200
    assert SWApexJob.objects.count() == 3
    assert len(one.captured_queries) == len(three.captured_queries)
    # The health check's query, then the collector's seven (PostgreSQL adds its transaction
    # and statement timeout around them).
    reads = [q["sql"] for q in three.captured_queries if q["sql"].startswith("SELECT")]
    assert len(reads) == 8, reads


def test_running_and_queued_jobs_and_the_running_steps_heartbeat(world, settings, client):
    """A step Processing with a heartbeat 42 s old, a second one Queued: what the Setup page
    would show as a stuck step."""
    settings.SWSTUDIO_METRICS_TOKEN = TOKEN
    cycle = start_cycle(Trigger.RUNNER)
    first = world.job_queue.ids.pop(0)
    job = AsyncJob.objects.get(pk=first)
    beat = timezone.now() - dt.timedelta(seconds=42)
    job.mark_processing(beat)
    job.save()
    # The entry job's own beat, from the worker that ran the cycle's pre-cycle checks: older.
    AsyncJob.objects.filter(cycle=cycle, class_name="WorkflowSchedulable").update(
        last_heartbeat=beat - dt.timedelta(seconds=10)
    )
    AsyncJob.objects.create(
        class_name="SWJobExtra", job_type="Queueable", cycle=cycle, generation=job.generation
    )

    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    m = parse(response.content.decode())
    assert m["swstudio_async_jobs"] == {
        labels(status="Holding"): 0,
        labels(status="Queued"): 1,
        labels(status="Preparing"): 0,
        labels(status="Processing"): 1,
    }
    ((key, age),) = m["swstudio_step_heartbeat_age_seconds"].items()
    assert key == labels(cycle=cycle.name, step=job.step)
    assert 42 <= age < 45
    assert 42 <= m["swstudio_worker_heartbeat_age_seconds"][labels()] < 45
    # No cycle has finished: no per-cycle figures, no Completed end time.
    assert "swstudio_last_cycle_info" not in m
    assert "swstudio_last_completed_cycle_end_timestamp_seconds" not in m
    assert job.status == JobStatus.PROCESSING


def test_an_empty_database_scrapes_without_a_cycle(db, settings, client):
    settings.SWSTUDIO_METRICS_TOKEN = TOKEN
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200
    m = parse(response.content.decode())
    assert m["swstudio_sync_enabled"] == {labels(): 0.0}
    assert "swstudio_worker_heartbeat_age_seconds" not in m
    assert "swstudio_cycle_duration_seconds" not in m  # a family without samples


def test_the_figures_do_not_depend_on_the_process(world, settings, client):
    """Two scrapes by different means (the test client, and a fresh collector) say the same:
    nothing comes from the process's memory."""
    from syncapp.ops import metrics

    settings.SWSTUDIO_METRICS_TOKEN = TOKEN
    world.cycle()
    a = parse(metrics.render().decode())
    b = parse(client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").content.decode())
    for name in ("swstudio_worker_heartbeat_age_seconds",):
        a.pop(name, None), b.pop(name, None)
    assert a == b
