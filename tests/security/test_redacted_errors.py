"""Read-only callers see no internal addresses (issue 27, point 4).

A run record whose note, step errors and async job message name hosts, ports and URLs: an SW
Studio User (the admin pages, the Setup page, its live JSON, GetSyncStatus with their token)
sees the failure named without them; an Administrator sees everything.
"""

import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from syncapp.models.statuses import CycleStatus
from syncapp.models.step_entries import new_step_entry
from syncapp.redaction import redact
from tests import factories

pytestmark = pytest.mark.django_db

LOGIN_ERROR = (
    "TransientError: Salesforce login: ConnectionError: HTTPConnectionPool(host='10.1.2.3', "
    "port=8443): Max retries exceeded with url: /services/oauth2/token (Caused by "
    "NewConnectionError('<urllib3.connection.HTTPConnection object at 0x7f3a2b>: Failed to "
    "establish a new connection: [Errno 111] Connection refused')) (gave up after 5 attempts)"
)
BACKEND_ERROR = "GetProspects: HTTP 503 from https://sw-backend.internal/api/v1/prospects: down"
NOTE = "Broker lost the job: redis://cache.internal:6379/4 did not answer"
SECRETS = ["10.1.2.3", "8443", "/services/oauth2/token", "sw-backend.internal", "cache.internal"]


@pytest.fixture
def failed_cycle(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    step = new_step_entry("GetProspects", "SWJobGetProspects", 200)
    step.update(status="Failed", errors=[LOGIN_ERROR, BACKEND_ERROR])
    step["start"] = step["end"] = "2026-12-01T10:15:30.123000+00:00"
    cycle = factories.CycleFactory(status=CycleStatus.FAILED, note=NOTE, steps=[step])
    job = factories.AsyncJobFactory(
        cycle=cycle, class_name="SWJobGetProspects", extended_status=LOGIN_ERROR
    )
    return cycle, job


def _pages(cycle, job):
    return [
        reverse("admin:swstudio_setup"),
        reverse("admin:swstudio_setup_progress"),
        reverse("admin:swstudio_setup_status"),
        reverse("admin:syncapp_swapexjob_change", args=[cycle.pk]),
        reverse("admin:syncapp_asyncjob_change", args=[job.pk]),
    ]


def _browser(user):
    client = Client()
    client.force_login(user)
    return client


def _api(user):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client


def test_a_sw_studio_user_sees_the_failure_without_addresses(failed_cycle):
    cycle, job = failed_cycle
    viewer = factories.viewer(username="viewer-persona")
    browser = _browser(viewer)
    for url in _pages(cycle, job):
        response = browser.get(url)
        assert response.status_code == 200, url
        content = response.content.decode()
        for secret in SECRETS:
            assert secret not in content, (url, secret)
    content = browser.get(_pages(cycle, job)[3]).content.decode()
    assert "Connection refused" in content and "HTTP 503" in content  # the failure is named
    assert "host=&lt;hidden&gt;" in content

    body = _api(viewer).get("/Sync/v1/GetSyncStatus").json()
    text = str(body)
    for secret in SECRETS:
        assert secret not in text, secret
    last = body["lastExecution"]
    assert last["note"] == redact(NOTE) and "Broker lost the job" in last["note"]
    assert last["steps"][0]["errors"] == [redact(LOGIN_ERROR), redact(BACKEND_ERROR)]
    assert last["steps"][0]["startTime"] == "2026-12-01T10:15:30.123000+00:00"


def test_an_administrator_sees_everything(failed_cycle):
    cycle, job = failed_cycle
    admin = factories.administrator(username="admin-persona")
    browser = _browser(admin)
    pages = _pages(cycle, job)
    assert "10.1.2.3" in browser.get(pages[3]).content.decode()
    assert "sw-backend.internal" in browser.get(pages[2]).content.decode()
    assert "10.1.2.3" in browser.get(pages[4]).content.decode()
    assert "cache.internal" in str(browser.get(pages[1]).json())
    body = _api(admin).get("/Sync/v1/GetSyncStatus").json()
    assert body["lastExecution"]["steps"][0]["errors"] == [LOGIN_ERROR, BACKEND_ERROR]
    assert body["lastExecution"]["note"] == NOTE


def test_redaction_is_only_in_what_is_shown(failed_cycle):
    cycle, job = failed_cycle
    _browser(factories.viewer(username="viewer-persona")).get(_pages(cycle, job)[3])
    cycle.refresh_from_db()
    job.refresh_from_db()
    assert cycle.note == NOTE and cycle.steps[0]["errors"] == [LOGIN_ERROR, BACKEND_ERROR]
    assert job.extended_status == LOGIN_ERROR
