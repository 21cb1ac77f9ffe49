"""The Setup page's Data section: confirmation first, then the deletion and its count."""

import pytest
from django.urls import reverse

from syncapp.engine.cycle import start_cycle
from syncapp.models import Activity, WaitingActivity
from syncapp.models.statuses import Trigger

pytestmark = pytest.mark.django_db

DELETE = "admin:swstudio_setup_delete_data"


def test_the_setup_page_lists_the_data_sets(admin_client_sw, viewer_client):
    content = admin_client_sw.get(reverse("admin:swstudio_setup")).content.decode()
    assert content.count('id="data"') == 1
    assert reverse(DELETE, args=["activities"]) in content
    content = viewer_client.get(reverse("admin:swstudio_setup")).content.decode()
    assert reverse(DELETE, args=["activities"]) not in content


def test_deleting_asks_first_then_reports_the_count(admin_client_sw, activities_synced):
    url = reverse(DELETE, args=["activities"])
    confirm = admin_client_sw.get(url)
    assert confirm.status_code == 200
    assert "Yes, delete them" in confirm.content.decode()
    assert len(activities_synced.sf.db["SW_Activity__c"]) == 3  # asking deletes nothing

    # One more kept locally, waiting for its prospect: deleted with the local activities.
    WaitingActivity.objects.create(backend_id="a_w", prospect_backend_id="p_later", data={})
    response = admin_client_sw.post(url, follow=True)
    assert any("Deleted 7 records" in str(m) for m in response.context["messages"])
    assert activities_synced.sf.db["SW_Activity__c"] == {}
    assert not Activity.objects.exists()
    assert not WaitingActivity.objects.exists()


def test_a_refused_deletion_says_why_and_keeps_the_data(admin_client_sw, activities_synced):
    start_cycle(Trigger.RUNNER)
    response = admin_client_sw.post(reverse(DELETE, args=["activities"]), follow=True)
    assert any("is running" in str(m) for m in response.context["messages"])
    assert len(activities_synced.sf.db["SW_Activity__c"]) == 3


def test_only_administrators_delete(viewer_client, outsider_client, activities_synced):
    url = reverse(DELETE, args=["activities"])
    for client in (viewer_client, outsider_client):
        assert client.get(url).status_code == 403
        assert client.post(url).status_code == 403
    assert len(activities_synced.sf.db["SW_Activity__c"]) == 3


def test_an_unknown_data_set_is_not_found(admin_client_sw):
    assert admin_client_sw.post(reverse(DELETE, args=["everything"])).status_code == 404


def test_an_org_that_refuses_is_a_message_not_a_500(admin_client_sw, activities_synced):
    activities_synced.sf.limit_left = 0
    response = admin_client_sw.post(reverse(DELETE, args=["activities"]), follow=True)
    assert response.status_code == 200
    text = " ".join(str(m) for m in response.context["messages"])
    assert "0 records deleted in Salesforce, then it refused" in text
    assert Activity.objects.count() == 3


@pytest.mark.parametrize("method", ["put", "delete", "patch"])
def test_other_methods_are_405(admin_client_sw, method):
    response = getattr(admin_client_sw, method)(reverse(DELETE, args=["activities"]))
    assert response.status_code == 405
