"""The Setup page's actions: who may act, CSRF, and a switch that cannot double up."""

import pytest
from django.test import Client
from django.urls import reverse
from django_q.models import Schedule

from syncapp.engine import control
from syncapp.engine.cycle import start_cycle
from syncapp.models import StudioOptions, SWApexJob, SyncState
from syncapp.models.schedules import WATCHER_NAME
from syncapp.models.statuses import CycleStatus, Trigger

pytestmark = pytest.mark.django_db

SWITCH = "admin:swstudio_setup_switch"
FULL_SYNC = "admin:swstudio_setup_full_sync"
CONNECT = "admin:swstudio_setup_connect"


def _messages(response):
    return [str(m) for m in response.context["messages"]] if response.context else []


def test_administrator_turns_the_sync_on_and_off(admin_client_sw, admin_user):
    response = admin_client_sw.post(reverse(SWITCH), {"action": "on"}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("admin:swstudio_setup")
    state = SyncState.load()
    assert state.enabled and state.running_user == admin_user
    assert Schedule.objects.filter(name=WATCHER_NAME).count() == 1
    assert any("The sync is on" in m for m in _messages(response))

    response = admin_client_sw.post(reverse(SWITCH), {"action": "off"}, follow=True)
    assert not SyncState.load().enabled
    assert not Schedule.objects.filter(name__startswith="SalesWings Studio").exists()
    assert any("The sync is off" in m for m in _messages(response))


def test_a_double_submitted_switch_creates_one_watcher(admin_client_sw):
    first = admin_client_sw.post(reverse(SWITCH), {"action": "on"})
    second = admin_client_sw.post(reverse(SWITCH), {"action": "on"}, follow=True)
    assert first.status_code == 302
    assert Schedule.objects.filter(name=WATCHER_NAME).count() == 1
    assert SyncState.load().generation == 1
    assert any("already on" in m for m in _messages(second))


def test_a_double_submitted_off_stays_off(admin_client_sw, admin_user):
    control.turn_on(admin_user)
    admin_client_sw.post(reverse(SWITCH), {"action": "off"})
    admin_client_sw.post(reverse(SWITCH), {"action": "off"})
    state = SyncState.load()
    assert not state.enabled and state.generation == 2
    assert not Schedule.objects.exists()


def test_turning_off_during_a_cycle_aborts_it(admin_client_sw, admin_user, job_queue):
    control.turn_on(admin_user)
    cycle = start_cycle(Trigger.WATCHER)
    page = admin_client_sw.get(reverse("admin:swstudio_setup"))
    # The page carries what setup.js needs to ask for confirmation first.
    assert page.context["live"]["inProgress"]["name"] == cycle.name
    admin_client_sw.post(reverse(SWITCH), {"action": "off"})
    cycle.refresh_from_db()
    assert cycle.status == CycleStatus.FAILED
    assert f"turned off by {admin_user}" in cycle.note


@pytest.mark.parametrize("persona", ["viewer_client", "outsider_client"])
@pytest.mark.parametrize(
    ("url", "data"),
    [
        (SWITCH, {"action": "on"}),
        (SWITCH, {"action": "off"}),
        (FULL_SYNC, {"requested": "1"}),
        (CONNECT, {"token": "sw_live_abcdefghijkl"}),
    ],
)
def test_viewers_and_outsiders_cannot_act(request, persona, url, data, admin_user):
    if data.get("action") == "off":
        control.turn_on(admin_user)
    before = (SyncState.load().generation, StudioOptions.load().full_sync_requested)
    client = request.getfixturevalue(persona)
    assert client.post(reverse(url), data).status_code == 403
    assert (SyncState.load().generation, StudioOptions.load().full_sync_requested) == before


@pytest.mark.parametrize("url", [SWITCH, FULL_SYNC, CONNECT])
def test_anonymous_is_sent_to_log_in(url):
    response = Client().post(reverse(url), {"action": "on", "requested": "1"})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))
    assert not SyncState.load().enabled


def test_csrf_is_enforced(admin_user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_user)
    assert client.post(reverse(SWITCH), {"action": "on"}).status_code == 403
    assert not SyncState.load().enabled

    page = client.get(reverse("admin:swstudio_setup"))
    token = page.cookies["csrftoken"].value
    response = client.post(reverse(SWITCH), {"action": "on", "csrfmiddlewaretoken": token})
    assert response.status_code == 302
    assert SyncState.load().enabled


def test_actions_refuse_get(admin_client_sw):
    for url in (SWITCH, FULL_SYNC, CONNECT):
        assert admin_client_sw.get(reverse(url)).status_code == 405
    assert not SyncState.load().enabled


def test_an_unknown_switch_position_changes_nothing(admin_client_sw):
    response = admin_client_sw.post(reverse(SWITCH), {"action": "toggle"}, follow=True)
    assert any("Unknown switch position" in m for m in _messages(response))
    assert not SyncState.load().enabled


def test_full_synchronization_is_requested_and_withdrawn(admin_client_sw):
    response = admin_client_sw.post(reverse(FULL_SYNC), {"requested": "1"}, follow=True)
    options = StudioOptions.load()
    assert options.full_sync_requested and options.full_sync_requested_at is not None
    assert any("queued for the next cycle" in m for m in _messages(response))
    assert b"QUEUED" in response.content

    admin_client_sw.post(reverse(FULL_SYNC), {"requested": "0"})
    options.refresh_from_db()
    assert not options.full_sync_requested and options.full_sync_requested_at is None


def test_a_requested_full_sync_is_shown_consumed_after_the_cycle(
    admin_client_sw, admin_user, job_queue
):
    admin_client_sw.post(reverse(FULL_SYNC), {"requested": "1"})
    control.turn_on(admin_user)
    cycle = start_cycle(Trigger.WATCHER)
    job_queue.run_all()
    assert SWApexJob.objects.get(pk=cycle.pk).full_sync
    page = admin_client_sw.get(reverse("admin:swstudio_setup"))
    full_sync = page.context["full_sync"]
    assert not full_sync["requested"] and full_sync["consumed_at"] is not None


def test_a_bad_full_sync_value_changes_nothing(admin_client_sw):
    response = admin_client_sw.post(reverse(FULL_SYNC), {"requested": "yes"}, follow=True)
    assert any("nothing changed" in m for m in _messages(response))
    assert not StudioOptions.load().full_sync_requested


def test_the_viewer_sees_the_page_without_buttons(viewer_client):
    content = viewer_client.get(reverse("admin:swstudio_setup")).content.decode()
    assert "read-only" in content
    assert 'id="sw-switch-button"' not in content
    assert "Request a Full Synchronization</button>" not in content
    assert 'name="token"' not in content


def test_the_administrator_sees_the_switch(admin_client_sw):
    content = admin_client_sw.get(reverse("admin:swstudio_setup")).content.decode()
    assert 'id="sw-switch-button"' in content
    assert "Turn the sync on" in content
    assert "read-only" not in content
