"""Secrets never appear in logs, admin pages or API responses (issue 7, item 6).

Already proven elsewhere, not repeated here: the SalesWings token is kept out of the logs,
exception texts and reprs of the client (tests/saleswings/test_connect.py,
tests/saleswings/test_sandbox.py), the Salesforce client secret and access tokens out of the
Salesforce client's logs (tests/salesforce/test_connection.py). What this file adds: one whole
cycle of the real workflow over HTTP against the sandbox, after a Connect on the Setup page,
with every logger at DEBUG; then a crawl of every admin page and every API answer, all
searched for every secret at once.
"""

import contextlib
import logging

import pytest
from django.conf import settings as django_settings
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import NoReverseMatch, reverse
from rest_framework.test import APIClient

from sandbox import seed
from syncapp.api.tokens import issue_token
from syncapp.engine import control
from syncapp.engine.cycle import start_cycle
from syncapp.models import Credential, StudioOptions, SWApexJob
from syncapp.models.statuses import CycleStatus, Trigger
from syncapp.salesforce import auth
from tests import factories
from tests import sandboxcontrol as sandbox_control

pytestmark = [pytest.mark.real_clients, pytest.mark.integration]

SIZES = seed.Sizes(
    prospects=30, leads=20, contacts=20, accounts=3, opportunities=3, activities_per_prospect=1
)


@pytest.fixture
def synced(live_server, settings, transactional_db, job_queue, caplog):
    """Connect on the Setup page, then one whole cycle, with every logger at DEBUG."""
    import datetime as dt

    caplog.set_level(logging.DEBUG)
    settings.SANDBOX_BASE_URL = live_server.url
    settings.SANDBOX_ENABLED = True
    settings.SWSTUDIO_WORKFLOW = django_settings.SWSTUDIO_DEFAULT_WORKFLOW
    settings.SALESWINGS_API_URL = ""
    settings.SALESWINGS_API_TOKEN = ""  # the token connected on the Setup page, not settings
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    auth.token_cache.clear()
    seed.seed(SIZES, 3, dt.datetime(2026, 11, 1, 12, 0, tzinfo=dt.UTC))
    sandbox_control.put(
        f"{live_server.url}/sandbox/control/faults", json={"auto_churn": False}, timeout=10
    ).raise_for_status()
    options = StudioOptions.load()
    options.api_call_reserve = 0
    options.save()

    administrator = factories.administrator(username="sec-admin")
    viewer = factories.viewer(username="sec-viewer")
    setup = Client()
    setup.force_login(administrator)
    token = settings.SANDBOX_SALESWINGS_TOKEN
    response = setup.post(reverse("admin:swstudio_setup_connect"), {"token": token})
    assert response.status_code == 302
    assert Credential.reveal(Credential.SALESWINGS_TOKEN) == token

    control.turn_on(administrator)
    cycle = start_cycle(Trigger.RUNNER)
    job_queue.run_all()
    cycle = SWApexJob.objects.get(pk=cycle.pk)
    assert cycle.status == CycleStatus.COMPLETED, cycle.steps

    access_tokens = [t.access_token for t in auth.token_cache._tokens.values()]
    assert access_tokens, "the cycle logged in to the org"
    secrets = {
        "SalesWings API token (Credential)": token,
        "Salesforce password": settings.SANDBOX_SF_PASSWORD,
        "Salesforce client secret": settings.SANDBOX_SF_CLIENT_SECRET,
        "SECRET_KEY": settings.SECRET_KEY,
        "administrator's API token": issue_token(administrator)[0].key,
        "viewer's API token": issue_token(viewer)[0].key,
        **{f"Salesforce access token {i}": t for i, t in enumerate(access_tokens)},
    }
    # caplog.text only holds the test's own phase; this fixture's records are the setup's.
    formatter = logging.Formatter("%(levelname)s %(name)s: %(message)s")
    log = "\n".join(formatter.format(r) for r in caplog.get_records("setup"))
    return {"secrets": secrets, "administrator": administrator, "log": log}


def leaked(text, secrets):
    return sorted(name for name, value in secrets.items() if value and value in text)


def admin_urls():
    """Every changelist, add and change view of every registered model (the sandbox's own
    admin aside: it shows the credentials the stand-in accepts on purpose, and is off in
    production), plus the Setup page and its fragments."""
    urls = [reverse("admin:index")]
    for name in ("setup", "setup_progress", "setup_status"):
        urls.append(reverse(f"admin:swstudio_{name}"))
    for model, _model_admin in admin.site._registry.items():
        opts = model._meta
        if opts.app_label == "sandbox":
            continue
        base = f"admin:{opts.app_label}_{opts.model_name}"
        urls.append(reverse(f"{base}_changelist"))
        with contextlib.suppress(NoReverseMatch):
            urls.append(reverse(f"{base}_add"))
        for obj in model._default_manager.order_by("pk")[:3]:
            pk = obj.user_id if opts.model_name == "tokenproxy" else obj.pk
            urls.append(reverse(f"{base}_change", args=[pk]))
    return urls


def test_no_secret_in_the_logs_of_a_connect_and_a_whole_cycle(synced):
    text = synced["log"]
    assert "Connected to the SalesWings account" in text  # the log did capture the Connect
    assert leaked(text, synced["secrets"]) == []


@pytest.mark.parametrize("who", ["administrator", "superuser"])
def test_no_secret_on_any_admin_page(synced, who):
    user = synced["administrator"]
    if who == "superuser":
        user = get_user_model().objects.create_superuser("sec-root", "r@example.com", "pw-r-1")
    client = Client()
    client.force_login(user)
    opened = 0
    for url in admin_urls():
        response = client.get(url, follow=True)
        if response.status_code == 403 and (who == "administrator" or url.endswith("/add/")):
            # Not the role's page (auth, tokens: the superuser run opens it), or a table
            # nobody adds rows to by hand (django-q2's task results).
            continue
        assert response.status_code == 200, url
        assert leaked(response.content.decode(), synced["secrets"]) == [], url
        opened += 1
    assert opened > 30


def test_no_secret_in_any_api_response(synced):
    secrets = synced["secrets"]
    client = APIClient()
    key = secrets["administrator's API token"]
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    responses = [
        client.get("/Sync/v1/GetSyncStatus"),
        client.post("/Sync/v1/RestartSync", {"force": True}, format="json"),
        client.post("/Sync/v1/TurnSyncOff"),
        client.post("/Sync/v1/TurnSyncOn"),
        client.get("/Sync/v1/schema"),
        client.get("/Sync/v1/docs"),
        client.get("/Sync/v1/NoSuchEndpoint"),
        APIClient().get("/Sync/v1/GetSyncStatus"),
    ]
    for response in responses:
        assert response.status_code < 500, response.content
        body = response.content.decode() + str(dict(response.headers))
        assert leaked(body, secrets) == [], response.request["PATH_INFO"]
