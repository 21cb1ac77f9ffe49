"""Every list view runs the same number of queries whatever its size (10 or 5,000 rows)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_q.models import Schedule

from syncapp.models import (
    Activity,
    AsyncJob,
    FieldMapping,
    LoggerOptions,
    NotificationSetting,
    Prospect,
    ScheduleStats,
    ScoreDefinition,
    SWApexJob,
    TagDefinition,
    WorkflowOption,
)
from syncapp.models.statuses import CycleStatus, JobStatus, JobType, StepStatus, Trigger
from tests import factories

pytestmark = pytest.mark.django_db


def _step(name, n):
    return {
        "name": name,
        "class": f"SWJob{name}",
        "status": StepStatus.COMPLETED,
        "start": None,
        "end": None,
        "batches_total": 1,
        "batches_failed": 0,
        "examined": n,
        "modified": n,
        "failed": 0,
        "errors": [],
        "errors_dropped": 0,
    }


def make_cycles(n, _user=None):
    now = timezone.now()
    start = SWApexJob.objects.count() + 1
    SWApexJob.objects.bulk_create(
        SWApexJob(
            name=f"SAJ-{i:06d}",
            status=CycleStatus.COMPLETED,
            trigger=Trigger.RUNNER,
            generation=1,
            start_time=now,
            end_time=now,
            steps=[_step("Counting", i), _step("Second", 1)],
        )
        for i in range(start, start + n)
    )


def make_jobs(n, user):
    cycle = factories.CycleFactory()
    now = timezone.now()
    AsyncJob.objects.bulk_create(
        AsyncJob(
            class_name="SWJobCounting" if i % 2 else "UpdateToSalesWings",
            job_type=JobType.QUEUEABLE,
            status=JobStatus.COMPLETED,
            cycle=cycle if i % 3 else None,
            generation=1,
            submitted_by=user,
            created_date=now,
            completed_date=now,
        )
        for i in range(n)
    )


def make_schedules(n, _user):
    start = Schedule.objects.count()
    schedules = Schedule.objects.bulk_create(
        Schedule(
            name=f"SalesWings Studio : Test {i}",
            func="math.floor",
            schedule_type=Schedule.ONCE,
            next_run=timezone.now(),
        )
        for i in range(start, start + n)
    )
    ScheduleStats.objects.bulk_create(
        ScheduleStats(schedule_id=s.pk, times_triggered=1) for s in schedules[::2]
    )


def make_rules(n, user):
    start = NotificationSetting.objects.count()  # names are unique
    rules = NotificationSetting.objects.bulk_create(
        NotificationSetting(name=f"rule {i}", emails="ops@example.com, a@example.com")
        for i in range(start, start + n)
    )
    through = NotificationSetting.users.through
    through.objects.bulk_create(
        through(notificationsetting_id=r.pk, user_id=user.pk) for r in rules[::2]
    )


def make_workflow_options(n, _user):
    start = WorkflowOption.objects.count()
    WorkflowOption.objects.bulk_create(
        WorkflowOption(step=f"Step{i}") for i in range(start, start + n)
    )


def make_mappings(n, _user):
    start = ScoreDefinition.objects.count()
    scores = ScoreDefinition.objects.bulk_create(
        ScoreDefinition(backend_id=f"score_{i}", name=f"Score {i}") for i in range(start, start + n)
    )
    FieldMapping.objects.bulk_create(
        FieldMapping(score=s, object="Lead", field="SW_Engagement_Score__c") for s in scores
    )


def make_logger_options(n, _user):
    start = LoggerOptions.objects.count()
    LoggerOptions.objects.bulk_create(
        LoggerOptions(logger=f"syncapp.part{i}") for i in range(start, start + n)
    )


def make_prospects(n, _user):
    start = Prospect.objects.count()
    prospects = Prospect.objects.bulk_create(
        Prospect(backend_id=f"p_{i}", email=f"p{i}@example.com", lifecycle="Active")
        for i in range(start, start + n)
    )
    Activity.objects.bulk_create(
        Activity(
            backend_id=f"act_{p.backend_id}",
            prospect=p,
            type="page_visit",
            occurred_at=timezone.now(),
        )
        for p in prospects
    )
    TagDefinition.objects.bulk_create(
        TagDefinition(backend_id=f"tag_{i}", name=f"Tag {i}") for i in range(start, start + n)
    )


LISTS = [
    ("admin:syncapp_swapexjob_changelist", make_cycles, ""),
    ("admin:syncapp_asyncjob_changelist", make_jobs, ""),
    ("admin:syncapp_asyncjob_changelist", make_jobs, "?view=sw_studio_steps"),
    ("admin:syncapp_scheduledjob_changelist", make_schedules, "?view=sw_studio"),
    ("admin:syncapp_notificationsetting_changelist", make_rules, ""),
    ("admin:syncapp_workflowoption_changelist", make_workflow_options, ""),
    ("admin:syncapp_fieldmapping_changelist", make_mappings, ""),
    ("admin:syncapp_loggeroptions_changelist", make_logger_options, ""),
    ("admin:syncapp_prospect_changelist", make_prospects, ""),
    ("admin:syncapp_activity_changelist", make_prospects, ""),
    ("admin:syncapp_tagdefinition_changelist", make_prospects, ""),
    ("admin:syncapp_scoredefinition_changelist", make_mappings, ""),
]


def _count(client, url):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries), response


@pytest.mark.parametrize(("name", "make", "query"), LISTS, ids=[f"{n}{q}" for n, _, q in LISTS])
def test_list_views_run_a_constant_number_of_queries(
    name, make, query, admin_user, admin_client_sw
):
    url = reverse(name) + query
    make(10, admin_user)
    small, response = _count(admin_client_sw, url)
    assert 0 < len(response.context["cl"].result_list) <= 10
    make(4990, admin_user)
    large, response = _count(admin_client_sw, url)
    assert len(response.context["cl"].result_list) == response.context["cl"].list_per_page
    assert small == large


def test_the_setup_page_runs_a_constant_number_of_queries(admin_user, admin_client_sw):
    make_cycles(10, admin_user)
    make_jobs(10, admin_user)
    # The first visit creates the singleton rows (options, sync state); count from the second.
    admin_client_sw.get(reverse("admin:swstudio_setup"))
    small, _ = _count(admin_client_sw, reverse("admin:swstudio_setup"))
    small_json, _ = _count(admin_client_sw, reverse("admin:swstudio_setup_progress"))
    make_cycles(4990)
    make_jobs(4990, admin_user)
    large, response = _count(admin_client_sw, reverse("admin:swstudio_setup"))
    large_json, _ = _count(admin_client_sw, reverse("admin:swstudio_setup_progress"))
    assert len(response.context["cycles"]) == 25
    assert (small, small_json) == (large, large_json)
