"""SW Apex Jobs: the list of cycles and the run record."""

from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import pytest
from django.urls import reverse
from django.utils import timezone

from syncapp.engine import control
from syncapp.engine.cycle import start_cycle
from syncapp.models import AsyncJob, SWApexJob
from syncapp.models.statuses import CycleStatus, Trigger
from tests import factories

pytestmark = pytest.mark.django_db

LIST = "admin:syncapp_swapexjob_changelist"


@pytest.fixture
def finished_cycle(admin_user, job_queue, settings):
    settings.SWSTUDIO_WORKFLOW = [
        "tests.steps.Counting",
        "tests.steps.PartlyFailing",
        "tests.steps.Finalizer",
        "tests.steps.Enqueuer",
    ]
    control.turn_on(admin_user)
    cycle = start_cycle(Trigger.WATCHER)
    job_queue.run_all()
    cycle.refresh_from_db()
    return cycle


def test_the_list_shows_status_badge_duration_and_records(admin_client_sw, finished_cycle):
    content = admin_client_sw.get(reverse(LIST)).content.decode()
    assert finished_cycle.name in content
    assert 'class="sw-badge sw-status-Partially_Completed"' in content
    # Counting 30/30 + PartlyFailing 10 examined, 4 modified, 1 failed.
    row = content.split(finished_cycle.name, 1)[1].split("</tr>", 1)[0]
    for cell in ('field-list_examined">40<', 'field-list_modified">34<', 'field-list_failed">1<'):
        assert cell in row


def test_the_list_filters_by_status_trigger_and_date(admin_client_sw):
    now = timezone.now()
    old = factories.CycleFactory(
        status=CycleStatus.FAILED,
        trigger=Trigger.WATCHER,
        start_time=now - timedelta(days=40),
        end_time=now - timedelta(days=40),
    )
    new = factories.CycleFactory(status=CycleStatus.COMPLETED, trigger=Trigger.RUNNER)

    def names(query):
        response = admin_client_sw.get(reverse(LIST) + query)
        return {c.name for c in response.context["cl"].result_list}

    assert names("?status__exact=Failed") == {old.name}
    assert names("?trigger__exact=Runner") == {new.name}
    week_ago = urlencode({"start_time__gte": (now - timedelta(days=7)).isoformat()})
    assert names(f"?{week_ago}") == {new.name}


def test_the_run_record_shows_steps_and_pretty_json(admin_client_sw, finished_cycle):
    url = reverse("admin:syncapp_swapexjob_change", args=[finished_cycle.pk])
    content = admin_client_sw.get(url).content.decode()
    assert "SWJobPartlyFailing" in content
    assert "FIELD_CUSTOM_VALIDATION_EXCEPTION: rejected by a rule" in content
    assert '<pre class="sw-json">[\n  {\n    &quot;name&quot;: &quot;Counting&quot;' in content
    assert f"?cycle__id__exact={finished_cycle.pk}" in content
    jobs = admin_client_sw.get(
        reverse("admin:syncapp_asyncjob_changelist") + f"?cycle__id__exact={finished_cycle.pk}"
    )
    assert jobs.status_code == 200
    assert len(jobs.context["cl"].result_list) == 5


def test_run_records_are_read_only(admin_client_sw, finished_cycle):
    assert admin_client_sw.get(reverse("admin:syncapp_swapexjob_add")).status_code == 403
    change = reverse("admin:syncapp_swapexjob_change", args=[finished_cycle.pk])
    admin_client_sw.post(change, {"status": "Completed"})
    delete = reverse("admin:syncapp_swapexjob_delete", args=[finished_cycle.pk])
    assert admin_client_sw.post(delete, {"post": "yes"}).status_code == 403
    assert SWApexJob.objects.get(pk=finished_cycle.pk).status == CycleStatus.PARTIALLY_COMPLETED


@pytest.fixture
def aborted_cycle(admin_user, job_queue):
    """A cycle cut by turning the sync off after its first step (through the Setup page)."""
    control.turn_on(admin_user)
    cycle = start_cycle(Trigger.WATCHER)
    job_queue.run_next()
    return cycle


def test_an_aborted_cycle_reads_as_aborted_in_the_list_and_the_run_record(
    admin_client_sw, admin_user, aborted_cycle
):
    admin_client_sw.post(reverse("admin:swstudio_setup_switch"), {"action": "off"})
    aborted_cycle.refresh_from_db()
    assert aborted_cycle.status == CycleStatus.PARTIALLY_COMPLETED  # one of the five
    when = aborted_cycle.aborted_at.strftime("%Y-%m-%d %H:%M:%S UTC")

    content = admin_client_sw.get(reverse(LIST)).content.decode()
    row = content.split(aborted_cycle.name, 1)[1].split("</tr>", 1)[0]
    assert 'class="sw-badge sw-status-Aborted"' in row and ">Aborted</span>" in row
    assert f"Aborted {when} by {admin_user.username}" in row

    detail = admin_client_sw.get(
        reverse("admin:syncapp_swapexjob_change", args=[aborted_cycle.pk])
    ).content.decode()
    assert f"Aborted {when} by {admin_user.username}" in detail
    # The reason once, in the note; the steps that never ran say so, with no error of theirs.
    assert detail.count(f"The sync was turned off by {admin_user.username}.") == 1
    assert detail.count(">Not run</span>") == 3


def test_a_cycle_that_failed_its_checks_shows_its_reason_once(
    admin_client_sw, admin_user, settings
):
    control.turn_on(admin_user)
    settings.SWSTUDIO_PREFLIGHT = ["tests.engine.test_cycle.below_reserve"]
    cycle = start_cycle(Trigger.RUNNER)
    assert cycle.status == CycleStatus.FAILED and not cycle.was_aborted
    detail = admin_client_sw.get(
        reverse("admin:syncapp_swapexjob_change", args=[cycle.pk])
    ).content.decode()
    assert detail.count("below the reserve of 1000") == 1
    assert detail.count(">Not run</span>") == len(cycle.steps)
    setup = admin_client_sw.get(reverse("admin:swstudio_setup")).content.decode()
    # In Last Execution's note and the table's summary line; in no step's row.
    assert "below the reserve of 1000" in setup.split('id="sw-last"', 1)[1]
    steps_tables = [part.split("</table>", 1)[0] for part in setup.split('class="sw-steps"')[1:]]
    assert steps_tables and not any("below the reserve" in t for t in steps_tables)


def test_list_times_have_seconds_and_the_time_zone(admin_client_sw, settings):
    settings.TIME_ZONE = "Europe/Zurich"
    moment = datetime(2026, 12, 7, 9, 14, 2, tzinfo=UTC)
    cycle = factories.CycleFactory(start_time=moment, end_time=moment + timedelta(seconds=3))
    content = admin_client_sw.get(reverse(LIST)).content.decode()
    row = content.split(cycle.name, 1)[1].split("</tr>", 1)[0]
    assert "2026-12-07 10:14:02 CET" in row and "3.0 s" in row


def test_the_run_record_shows_skipped_records_and_api_calls(admin_client_sw):
    entry = {
        "name": "GetProspectPages", "class": "SWJobGetProspectPages", "status": "Completed",
        "start": None, "end": None, "examined": 5, "modified": 3, "failed": 0, "skipped": 2,
        "batches_total": 1, "batches_failed": 0, "errors": [], "errors_dropped": 0,
        "api_calls": {"salesforce": 1234, "saleswings": 7},
    }  # fmt: skip
    cycle = factories.CycleFactory(steps=[entry])
    content = admin_client_sw.get(reverse(LIST)).content.decode()
    assert 'class="field-list_skipped">2<' in content.split(cycle.name, 1)[1].split("</tr>", 1)[0]
    detail = admin_client_sw.get(
        reverse("admin:syncapp_swapexjob_change", args=[cycle.pk])
    ).content.decode()
    assert "1,234 Salesforce · 7 SalesWings" in detail
    assert "1234 / 7" in detail


def test_the_apex_jobs_list_times_have_seconds_and_the_time_zone(admin_client_sw, admin_user):
    control.turn_on(admin_user)
    start_cycle(Trigger.WATCHER)
    job = AsyncJob.objects.get(class_name="WorkflowSchedulable")
    shown = timezone.localtime(job.created_date).strftime("%Y-%m-%d %H:%M:%S %Z")
    content = admin_client_sw.get(reverse("admin:syncapp_asyncjob_changelist")).content.decode()
    assert shown in content
