"""Scheduled Jobs: the SW Studio view, and the sync's schedules owned by the switch."""

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django_q.models import Schedule

from syncapp.engine import control
from syncapp.models.schedules import LIVENESS_NAME, WATCHER_NAME, ScheduleStats
from tests import factories

pytestmark = pytest.mark.django_db

LIST = "admin:syncapp_scheduledjob_changelist"


@pytest.fixture
def schedules(admin_user):
    control.turn_on(admin_user)
    ScheduleStats.record_firing(WATCHER_NAME)
    factories.ScheduleFactory(name="Nightly report")
    return Schedule.objects.get(name=WATCHER_NAME)


def test_the_sw_studio_view_shows_only_the_syncs_schedules(admin_client_sw, schedules):
    response = admin_client_sw.get(reverse(LIST) + "?view=sw_studio")
    assert [s.name for s in response.context["cl"].result_list] == [WATCHER_NAME]
    content = response.content.decode()
    assert "WAITING" in content
    for header in ("Next fire time", "Previous fire time", "Times triggered"):
        assert header in content
    row = content.split(WATCHER_NAME, 1)[1].split("</tr>", 1)[0]
    assert 'class="field-times_triggered">1<' in row
    all_names = {s.name for s in admin_client_sw.get(reverse(LIST)).context["cl"].result_list}
    # All: the liveness check beside the Watcher too (plumbing, not one of the product's slots).
    assert all_names == {WATCHER_NAME, LIVENESS_NAME, "Nightly report"}


def test_the_syncs_schedules_cannot_be_edited_or_deleted_by_hand(admin_client_sw, schedules):
    change = reverse("admin:syncapp_scheduledjob_change", args=[schedules.pk])
    response = admin_client_sw.get(change)
    assert not response.context["adminform"].form.fields
    admin_client_sw.post(change, {"name": "renamed", "repeats": "0"})
    delete = reverse("admin:syncapp_scheduledjob_delete", args=[schedules.pk])
    assert admin_client_sw.post(delete, {"post": "yes"}).status_code == 403
    assert Schedule.objects.get(pk=schedules.pk).name == WATCHER_NAME


def test_django_q_schedule_admin_hides_and_protects_the_syncs_schedules(client, schedules):
    root = get_user_model().objects.create_superuser("root", "root@example.com", "pw-root-1")
    client.force_login(root)
    listed = client.get(reverse("admin:django_q_schedule_changelist")).context["cl"].result_list
    assert [s.name for s in listed] == ["Nightly report"]
    # Not reachable by id either, so neither editable nor deletable there.
    delete = reverse("admin:django_q_schedule_delete", args=[schedules.pk])
    client.post(delete, {"post": "yes"})
    assert Schedule.objects.filter(pk=schedules.pk).exists()
    # And nobody creates a look-alike by hand.
    response = client.post(
        reverse("admin:django_q_schedule_add"),
        {
            "name": "SalesWings Studio : Runner",
            "func": "syncapp.engine.jobs.runner",
            "schedule_type": "O",
            "repeats": "-1",
            "minutes": "",
            "next_run_0": "2030-01-01",
            "next_run_1": "00:00:00",
        },
    )
    assert response.status_code == 200
    assert "belong to the sync" in " ".join(response.context["adminform"].form.errors["name"])
    assert not Schedule.objects.filter(name="SalesWings Studio : Runner").exists()


def test_the_administrator_role_does_not_see_django_qs_schedules(admin_client_sw):
    assert admin_client_sw.get(reverse("admin:django_q_schedule_changelist")).status_code == 403
