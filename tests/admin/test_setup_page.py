"""The Setup page's read side: synchronization facts, live progress feed, Status and chart."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from syncapp.admin import dashboard
from syncapp.engine import control
from syncapp.engine.cycle import start_cycle
from syncapp.models.statuses import CycleStatus, Trigger
from tests import factories

pytestmark = pytest.mark.django_db

PAGE = "admin:swstudio_setup"
PROGRESS = "admin:swstudio_setup_progress"


def test_progress_follows_a_cycle_step_by_step(admin_client_sw, admin_user, job_queue):
    control.turn_on(admin_user)
    data = admin_client_sw.get(reverse(PROGRESS)).json()
    assert data["syncEnabled"] is True
    assert data["inProgress"] is None and data["lastExecution"] is None
    assert data["watcher"]["name"] == "SalesWings Studio : Watcher"
    assert data["runner"] is None

    cycle = start_cycle(Trigger.WATCHER)
    job_queue.run_next()  # Counting done, Second queued
    progress = admin_client_sw.get(reverse(PROGRESS)).json()["inProgress"]
    assert progress["name"] == cycle.name
    assert (progress["stepsDone"], progress["stepsTotal"]) == (1, 4)
    assert progress["currentStep"] == "SWJobSecond"
    assert (progress["examined"], progress["modified"], progress["failed"]) == (30, 30, 0)
    assert progress["percent"] == 25

    job_queue.run_all()
    data = admin_client_sw.get(reverse(PROGRESS)).json()
    assert data["inProgress"] is None
    last = data["lastExecution"]
    assert (last["name"], last["status"], last["examined"]) == (cycle.name, "Completed", 60)
    assert data["runner"]["state"] == "WAITING"
    assert data["runner"]["nextFireTimeDisplay"]


def test_a_cycle_whose_worker_died_is_shown_as_not_progressing(
    admin_client_sw, admin_user, job_queue
):
    from syncapp.models import AsyncJob
    from syncapp.models.statuses import JobStatus

    control.turn_on(admin_user)
    start_cycle(Trigger.WATCHER)
    job = AsyncJob.objects.get(status=JobStatus.QUEUED)
    AsyncJob.objects.filter(pk=job.pk).update(
        status=JobStatus.PROCESSING, last_heartbeat=timezone.now()
    )
    data = admin_client_sw.get(reverse(PROGRESS)).json()
    assert data["workerSilent"] is None
    page = admin_client_sw.get(reverse(PAGE)).content.decode()
    assert ">In progress</span>" in page and "No worker has answered" not in page

    # Its worker was killed: the heartbeat stops.
    beat = timezone.now() - timedelta(minutes=2)
    AsyncJob.objects.filter(pk=job.pk).update(last_heartbeat=beat)
    data = admin_client_sw.get(reverse(PROGRESS)).json()
    shown = f"{timezone.localtime(beat):%Y-%m-%d %H:%M:%S}"
    assert data["workerSilent"].startswith(f"No worker has answered since {shown}")
    assert data["inProgress"] is not None  # the run record still reads Processing
    page = admin_client_sw.get(reverse(PAGE)).content.decode()
    assert f"No worker has answered since {shown}" in page
    assert ">Not progressing</span>" in page


def test_the_progress_feed_is_for_viewers_only(viewer_client, outsider_client):
    assert viewer_client.get(reverse(PROGRESS)).status_code == 200
    assert outsider_client.get(reverse(PROGRESS)).status_code == 403


def test_the_running_user_is_shown_with_whether_they_still_qualify(admin_client_sw):
    former = factories.administrator(username="former-admin")
    control.turn_on(former)
    page = admin_client_sw.get(reverse(PAGE))
    assert page.context["running_user"]["qualifies"] is True
    assert "holds the SW Studio Administrator role" in page.content.decode()

    former.groups.clear()
    page = admin_client_sw.get(reverse(PAGE))
    assert page.context["running_user"]["qualifies"] is False
    assert "no longer hold the SW Studio Administrator role" in page.content.decode()

    former.is_active = False
    former.save()
    page = admin_client_sw.get(reverse(PAGE))
    assert page.context["running_user"]["problems"] == ["the account is inactive"]


def test_status_lists_the_last_25_cycles_with_their_steps(admin_client_sw, settings):
    now = timezone.now()
    cycles = []
    for i in range(30):
        cycles.append(
            factories.CycleFactory(
                start_time=now - timedelta(minutes=i + 1),
                end_time=now - timedelta(minutes=i),
                steps=[
                    {
                        "name": "Counting",
                        "class": "SWJobCounting",
                        "status": "Completed",
                        "start": None,
                        "end": None,
                        "batches_total": 1,
                        "batches_failed": 0,
                        "examined": i,
                        "modified": i,
                        "failed": 0,
                        "errors": [f"error of cycle {i}"] if i == 3 else [],
                        "errors_dropped": 0,
                    }
                ],
            )
        )
    page = admin_client_sw.get(reverse(PAGE))
    assert len(page.context["cycles"]) == 25
    content = page.content.decode()
    newest, fifth = cycles[29].name, cycles[4].name
    assert newest in content and fifth not in content.split('id="status"')[1]
    assert "error of cycle 3" not in content  # the fourth cycle: older than the last 25
    assert content.count('<rect class="sw-bar"') == 25
    fragment = admin_client_sw.get(reverse("admin:swstudio_setup_status")).content.decode()
    assert fragment.strip().startswith('<div id="sw-status-body">')
    assert fragment.count('<tbody class="sw-cycle">') == 25


def test_the_chart_scales_bars_and_lines_to_round_maxima():
    now = timezone.now()
    cycles = [
        factories.CycleFactory.build(
            name=f"SAJ-{i:06d}",
            status=status,
            start_time=now,
            end_time=now + timedelta(seconds=seconds),
            steps=[{"examined": examined, "modified": examined // 2, "failed": 0}],
        )
        for i, (status, seconds, examined) in enumerate(
            [
                (CycleStatus.COMPLETED, 30, 80),
                (CycleStatus.FAILED, 45, 0),
                (CycleStatus.PARTIALLY_COMPLETED, 15, 40),
            ],
            start=1,
        )
    ]
    chart = dashboard.chart(list(reversed(cycles)))  # newest first, as the page has them
    assert chart["max_duration"] == "50 s" and chart["max_records"] == 100
    heights = [b["height"] for b in chart["bars"]]
    plot_h = chart["bottom"] - chart["top"]
    assert heights == [round(plot_h * s / 50, 1) for s in (30, 45, 15)]
    assert [b["label"] for b in chart["bars"]] == ["1", "2", "3"]
    assert chart["bars"][1]["colour"] == dashboard.STATUS_COLOURS[CycleStatus.FAILED]
    assert len(chart["examined"].split()) == 3


def test_no_chart_without_a_finished_cycle():
    assert dashboard.chart([]) is None


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [(4.25, "4.2 s"), (42, "42 s"), (123, "2 min 03 s"), (3900, "1 h 05 min")],
)
def test_durations_read_well(seconds, shown):
    assert dashboard.format_duration(timedelta(seconds=seconds)) == shown


def _entry(name, **counts):
    return {
        "name": name, "class": f"SWJob{name}", "status": "Completed", "start": None, "end": None,
        "examined": 0, "modified": 0, "failed": 0, "batches_total": 1, "batches_failed": 0,
        "errors": [], "errors_dropped": 0, **counts,
    }  # fmt: skip


def test_last_execution_and_the_table_show_api_calls_and_skipped_records(admin_client_sw):
    factories.CycleFactory(
        steps=[
            _entry("GetProspectPages", skipped=200, api_calls={"salesforce": 0, "saleswings": 5}),
            _entry("MatchProspectsToLeads", api_calls={"salesforce": 1200, "saleswings": 0}),
        ]
    )
    last = admin_client_sw.get(reverse(PROGRESS)).json()["lastExecution"]
    assert last["apiCalls"] == {"salesforce": 1200, "saleswings": 5}
    assert last["apiCallsDisplay"] == "1,200 Salesforce · 5 SalesWings"
    assert (last["failed"], last["skipped"]) == (0, 200)
    content = admin_client_sw.get(reverse(PAGE)).content.decode()
    last_box = content.split('id="sw-last"', 1)[1].split("</section>", 1)[0]
    assert "1,200 Salesforce · 5 SalesWings" in last_box and "200 skipped" in last_box
    table = content.split('class="sw-history"', 1)[1].split("</table>", 1)[0]
    assert '<td class="sw-api-calls">1,200 Salesforce · 5 SalesWings</td>' in table


def test_an_aborted_last_execution_says_so_when_and_by_whom(admin_client_sw, admin_user, job_queue):
    control.turn_on(admin_user)
    cycle = start_cycle(Trigger.WATCHER)
    job_queue.run_next()
    admin_client_sw.post(reverse("admin:swstudio_setup_switch"), {"action": "off"})
    cycle.refresh_from_db()
    text = f"Aborted {dashboard.format_datetime(cycle.aborted_at)} by {admin_user.username}"

    assert admin_client_sw.get(reverse(PROGRESS)).json()["lastExecution"]["aborted"] == text
    content = admin_client_sw.get(reverse(PAGE)).content.decode()
    last_box = content.split('id="sw-last"', 1)[1].split("</section>", 1)[0]
    assert text in last_box and 'data-live="last-aborted" class="sw-aborted" >' in last_box
    table = content.split('class="sw-history"', 1)[1].split("</table>", 1)[0]
    assert ">Aborted</span>" in table and text in table


def test_the_page_says_when_no_field_mapping_exists(admin_client_sw):
    content = admin_client_sw.get(reverse(PAGE)).content.decode()
    assert 'id="sw-no-field-mapping"' in content and "no score" in content
    factories.FieldMappingFactory()
    content = admin_client_sw.get(reverse(PAGE)).content.decode()
    assert 'id="sw-no-field-mapping"' not in content


def test_the_schedules_help_gives_the_watcher_and_liveness_intervals(admin_client_sw, settings):
    text = admin_client_sw.get(reverse(PAGE)).content.decode()
    assert "then every 60 minutes: it starts the first cycle" in text
    assert "a liveness check every 1 minute closes a cycle whose worker died" in text
    settings.SWSTUDIO_WATCHER_INTERVAL_MINUTES = 1
    settings.SWSTUDIO_LIVENESS_INTERVAL_MINUTES = 2
    text = admin_client_sw.get(reverse(PAGE)).content.decode()
    assert "then every 1 minute: it starts" in text
    assert "a liveness check every 2 minutes closes" in text
