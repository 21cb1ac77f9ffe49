"""SW Apex Jobs: the list of cycles and the run record."""

from datetime import timedelta
from urllib.parse import urlencode

import pytest
from django.urls import reverse
from django.utils import timezone

from syncapp.engine import control
from syncapp.engine.cycle import start_cycle
from syncapp.models import SWApexJob
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
    for cell in ('class="field-examined">40<', 'class="field-modified">34<', 'field-failed">1<'):
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
