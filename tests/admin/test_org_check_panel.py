"""The Setup page's Org check panel: an Administrator queues a check for a worker, everyone
who may see the page sees the last kept result, and a visit never asks the org."""

import datetime as dt

import pytest
from django.urls import reverse

from syncapp.engine import clients, jobs, org_check
from syncapp.models import OrgCheck
from tests.org.describedorg import DescribedOrg

pytestmark = pytest.mark.django_db

SETUP = "admin:swstudio_setup"
CHECK = "admin:swstudio_setup_org_check"


@pytest.fixture
def org(monkeypatch):
    fake = DescribedOrg()
    monkeypatch.setattr(clients, "salesforce_check", lambda timeout=None: fake)
    return fake


@pytest.fixture
def queued(monkeypatch):
    """The task ids the page hands to the broker (run by the test, as a worker would)."""
    ids = []
    monkeypatch.setattr(org_check, "_enqueue", ids.append)
    monkeypatch.setattr(org_check.transaction, "on_commit", lambda fn, using=None: fn())
    return ids


def _no_check_on_a_visit(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("the page asked the org")

    monkeypatch.setattr(org_check, "check", refuse)


def test_an_administrator_queues_a_check_and_the_page_shows_its_result(
    admin_client_sw, org, queued, network, monkeypatch
):
    org.drop("Lead", "SW_Tags__c")
    response = admin_client_sw.post(reverse(CHECK), follow=True)
    assert response.redirect_chain[-1][0] == reverse(SETUP) + "#org-check"
    assert "The org check is queued" in response.content.decode()
    row = OrgCheck.objects.get()
    assert row.status == OrgCheck.Status.QUEUED and queued == [row.pk]
    assert org.log == []  # the request did not wait on the org

    # A second press while it waits does not queue another.
    response = admin_client_sw.post(reverse(CHECK), follow=True)
    assert "already queued" in response.content.decode() and queued == [row.pk]

    assert jobs.org_check(row.pk) == row.pk  # the worker
    assert jobs.org_check(row.pk) is None  # a second delivery does nothing
    row.refresh_from_db()
    assert row.status == OrgCheck.Status.GAPS

    org.log.clear()
    _no_check_on_a_visit(monkeypatch)
    page = admin_client_sw.get(reverse(SETUP)).content.decode()
    assert org.log == [] and network.sf.calls == 0
    assert "Not ready: 1 gap keeps cycles from starting." in page
    assert "Lead.SW_Tags__c: missing, or not readable by the integration user." in page
    assert 'id="sw-org-check-button"' in page


def test_a_viewer_sees_the_kept_result_but_cannot_run_the_check(
    viewer_client, org, queued, network, monkeypatch
):
    org_check.run(OrgCheck.Source.COMMAND)
    org.log.clear()
    _no_check_on_a_visit(monkeypatch)
    page = viewer_client.get(reverse(SETUP)).content.decode()
    assert "Ready." in page and "Checked" in page and "manage.py checkorg" in page
    assert 'id="sw-org-check-button"' not in page
    assert viewer_client.post(reverse(CHECK)).status_code == 403
    assert queued == [] and org.log == [] and network.sf.calls == 0
    assert OrgCheck.objects.count() == 1


def test_an_outsider_cannot_run_the_check(outsider_client, org, queued):
    assert outsider_client.post(reverse(CHECK)).status_code == 403
    assert outsider_client.get(reverse(CHECK)).status_code in (403, 405)
    assert queued == []


def test_never_checked_and_an_unreachable_org(admin_client_sw, org, queued):
    page = admin_client_sw.get(reverse(SETUP)).content.decode()
    assert "Not checked yet." in page
    org.down = org_check.SalesforceError("Salesforce limits: ConnectTimeout: timed out")
    org_check.run(OrgCheck.Source.COMMAND)
    page = admin_client_sw.get(reverse(SETUP)).content.decode()
    assert "The org could not be checked: Salesforce limits: ConnectTimeout: timed out" in page


def test_a_queued_check_no_worker_took_is_shown_as_lost_and_may_be_asked_again(
    admin_client_sw, org, queued
):
    admin_client_sw.post(reverse(CHECK))
    row = OrgCheck.objects.get()
    OrgCheck.objects.filter(pk=row.pk).update(
        requested_at=row.requested_at - dt.timedelta(seconds=org_check.LOST_AFTER + 1)
    )
    page = admin_client_sw.get(reverse(SETUP)).content.decode()
    assert "was not run: is a worker" in page
    admin_client_sw.post(reverse(CHECK))
    assert len(queued) == 2
