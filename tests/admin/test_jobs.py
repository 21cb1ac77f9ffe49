"""Apex Jobs: Salesforce's columns and the SW Studio All / SW Studio Steps views."""

import pytest
from django.urls import reverse

from syncapp.models import AsyncJob
from tests import factories

pytestmark = pytest.mark.django_db

LIST = "admin:syncapp_asyncjob_changelist"


@pytest.fixture
def jobs(admin_user):
    for name in ("SWJobGetTags", "SWLogShipper", "UpdateToSalesWings", "WorkflowSchedulable"):
        factories.AsyncJobFactory(class_name=name, submitted_by=admin_user)


def _classes(client, query=""):
    response = client.get(reverse(LIST) + query)
    assert response.status_code == 200
    return sorted(j.class_name for j in response.context["cl"].result_list)


def test_the_view_filter_uses_the_queryset_methods(admin_client_sw, jobs):
    assert _classes(admin_client_sw) == [
        "SWJobGetTags",
        "SWLogShipper",
        "UpdateToSalesWings",
        "WorkflowSchedulable",
    ]
    assert _classes(admin_client_sw, "?view=sw_studio_all") == sorted(
        AsyncJob.objects.sw_studio_all().values_list("class_name", flat=True)
    )
    assert _classes(admin_client_sw, "?view=sw_studio_all") == [
        "SWJobGetTags",
        "SWLogShipper",
        "UpdateToSalesWings",
    ]
    assert _classes(admin_client_sw, "?view=sw_studio_steps") == ["SWJobGetTags"]


def test_the_list_has_salesforces_columns(admin_client_sw, jobs):
    content = admin_client_sw.get(reverse(LIST)).content.decode()
    for header in (
        "Job type",
        "Status",
        "Apex class",
        "Total batches",
        "Batches processed",
        "Failures",
        "Submitted by",
        "Submitted date",
        "Completion date",
    ):
        assert header in content, header
    assert "SW Studio Steps" in content and "SW Studio All" in content


def test_apex_jobs_are_read_only(admin_client_sw, jobs):
    job = AsyncJob.objects.first()
    assert admin_client_sw.get(reverse("admin:syncapp_asyncjob_add")).status_code == 403
    delete = reverse("admin:syncapp_asyncjob_delete", args=[job.pk])
    assert admin_client_sw.post(delete, {"post": "yes"}).status_code == 403
    response = admin_client_sw.get(reverse("admin:syncapp_asyncjob_change", args=[job.pk]))
    assert not response.context["adminform"].form.fields
    assert AsyncJob.objects.count() == 4
