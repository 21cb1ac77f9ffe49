"""The stored SalesWings token goes only where it was connected (issue 27, point 2).

An administrator connects on the Setup page against one backend (a local HTTP stand-in), then
changes Studio Options' API Endpoint to another host without entering the token again: the
token is deleted, and nothing is sent to the new host. Outside DEBUG the endpoint must be
https (this machine excepted: nothing crosses a network).
"""

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from syncapp.engine.backend import get_client
from syncapp.models import Credential, OrgStatus, StudioOptions
from syncapp.saleswings.errors import AuthError
from tests import factories
from tests.saleswings.fakebackend import FakeBackend

pytestmark = [pytest.mark.django_db, pytest.mark.real_clients]

OPTIONS_CHANGE = "admin:syncapp_studiooptions_change"


@pytest.fixture
def two_backends(settings):
    first, second = FakeBackend().start(), FakeBackend(token="sw-token-of-another-host").start()
    settings.SALESWINGS_API_URL = ""
    settings.SALESWINGS_API_TOKEN = ""
    settings.SALESWINGS_RETRY_ATTEMPTS = 1
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # The org is known to be connected: Connect has no reason to check it.
    OrgStatus.record_check(timezone.now(), identity={"org_id": "00D000000000001"})
    yield first, second
    first.stop()
    second.stop()


def _options(endpoint):
    return {
        "sync_gap_minutes": "5",
        "apex_jobs_threshold": "100",
        "api_endpoint": endpoint,
        "max_sync_attempts": "5",
        "api_call_reserve": "1000",
    }


@pytest.fixture
def admin_browser():
    browser = Client()
    browser.force_login(factories.administrator(username="admin-persona"))
    return browser


def test_changing_the_endpoint_deletes_the_token_and_sends_it_nowhere(two_backends, admin_browser):
    first, second = two_backends
    StudioOptions.load()
    admin_browser.post(reverse(OPTIONS_CHANGE, args=[1]), _options(first.url))
    response = admin_browser.post(reverse("admin:swstudio_setup_connect"), {"token": first.token})
    assert response.status_code == 302
    assert Credential.objects.get().endpoint == first.url

    response = admin_browser.post(
        reverse(OPTIONS_CHANGE, args=[1]), _options(second.url), follow=True
    )
    assert "the stored SalesWings token was deleted" in response.content.decode()
    assert not Credential.objects.exists()
    with pytest.raises(AuthError):
        get_client().account()
    assert second.requests == []  # the token never reached the new host
    page = admin_browser.get(reverse("admin:swstudio_setup"))
    assert page.context["saleswings"].blocks_sync


def test_a_token_bound_to_another_endpoint_is_not_sent(two_backends):
    first, second = two_backends
    Credential.store(Credential.SALESWINGS_TOKEN, first.token, endpoint=first.url)
    options = StudioOptions.load()
    options.api_endpoint = second.url  # changed behind the admin's back (a script, a restore)
    options.save()
    with pytest.raises(AuthError):
        get_client().account()
    assert second.requests == []


def test_saving_other_options_keeps_the_token(two_backends, admin_browser):
    first, _ = two_backends
    StudioOptions.load()
    admin_browser.post(reverse(OPTIONS_CHANGE, args=[1]), _options(first.url))
    Credential.store(Credential.SALESWINGS_TOKEN, first.token, endpoint=first.url)
    form = _options(first.url) | {"sync_gap_minutes": "7"}
    assert admin_browser.post(reverse(OPTIONS_CHANGE, args=[1]), form).status_code == 302
    assert Credential.reveal(Credential.SALESWINGS_TOKEN, endpoint=first.url) == first.token


def test_outside_debug_the_endpoint_must_be_https(admin_browser, settings):
    settings.DEBUG = False
    StudioOptions.load()
    response = admin_browser.post(
        reverse(OPTIONS_CHANGE, args=[1]), _options("http://api.saleswings.example/api/v1")
    )
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors["api_endpoint"]
    assert "must be https://" in errors[0]
    ok = admin_browser.post(
        reverse(OPTIONS_CHANGE, args=[1]), _options("https://api.saleswings.example/api/v1")
    )
    assert ok.status_code == 302
    settings.DEBUG = True
    insecure = admin_browser.post(
        reverse(OPTIONS_CHANGE, args=[1]), _options("http://api.saleswings.example/api/v1")
    )
    assert insecure.status_code == 302


def test_outside_debug_no_token_goes_over_plain_http(settings):
    settings.DEBUG = False
    settings.SALESWINGS_API_URL = "http://api.saleswings.example/api/v1"
    settings.SALESWINGS_API_TOKEN = "sw-env-token-0123456789"
    with pytest.raises(AuthError, match="must be https"):
        get_client()
