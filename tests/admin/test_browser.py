"""The admin in a real browser (Playwright + Debian's Chromium) against `live_server`, with the
real clients talking to the sandbox that the same server serves.

Log in, connect, turn the sync on, watch a cycle progress and finish on the Setup page (its
steps run in this process, one at a time, so the test sees every stage), open the run record,
filter Apex Jobs by SW Studio Steps, turn the sync off. Takes the README's screenshots,
setup.png and run-record.png, into a temporary folder, or into the folder
SWSTUDIO_SCREENSHOTS names (scripts/screenshots: docs/screenshots).
"""

import datetime as dt
import os
import shutil
from pathlib import Path

import pytest
from django.conf import settings as django_settings

from syncapp.engine import jobs
from syncapp.models import Credential, SWApexJob, SyncState
from syncapp.models.schedules import WATCHER_NAME, ScheduledJob
from tests import factories

pytestmark = [pytest.mark.browser, pytest.mark.real_clients]

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PASSWORD = "pw-for-tests-1"
TIMEOUT = 10_000  # ms: the page polls every 1.5 s


@pytest.fixture
def browser_page(monkeypatch):
    if not shutil.which(CHROMIUM) and not os.path.exists(CHROMIUM):
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    # Playwright's sync API keeps an event loop in this thread; the test's own ORM calls are
    # ordinary synchronous code all the same.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        context.set_default_timeout(TIMEOUT)
        yield context.new_page()
        context.close()
        browser.close()


@pytest.fixture
def screenshots(tmp_path):
    """Where the screenshots go: a test run leaves the tracked ones alone."""
    folder = Path(os.environ.get("SWSTUDIO_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def sandbox(live_server, settings, transactional_db):
    """The sandbox seeded small, served by live_server; the real workflow and clients."""
    from sandbox import runtime, seed

    settings.SANDBOX_BASE_URL = live_server.url
    settings.SALESWINGS_API_TOKEN = ""
    settings.SWSTUDIO_WORKFLOW = django_settings.SWSTUDIO_DEFAULT_WORKFLOW
    settings.SWSTUDIO_PREFLIGHT = ["syncapp.engine.preflight.api_reserve"]
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    cfg = runtime.load_settings()
    sizes = seed.Sizes(
        prospects=60, leads=40, contacts=40, accounts=6, opportunities=8, activities_per_prospect=2
    )
    seed.seed(sizes, 7, dt.datetime(2026, 11, 1, 12, 0, tzinfo=dt.UTC))
    return cfg


def _watch_no_reload(page):
    """Mark the window: the mark survives only if the page is not reloaded."""
    page.evaluate("window.__swNoReload = true")


def _not_reloaded(page):
    return page.evaluate("window.__swNoReload === true")


def test_the_setup_page_drives_and_shows_the_sync(
    browser_page, live_server, sandbox, job_queue, screenshots
):
    from playwright.sync_api import expect

    page = browser_page
    factories.administrator(username="ada", password=PASSWORD)

    # Log in: the Setup page is the first thing offered.
    page.goto(live_server.url + "/admin/login/")
    page.fill("#id_username", "ada")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    expect(page).to_have_url(live_server.url + "/admin/setup/")
    expect(page.locator("#site-name")).to_contain_text("SW Studio")

    # Connect SalesWings with the sandbox's token; the first Connect checks the org too (the
    # page itself never asks it: nothing is known of it before).
    switch = page.locator("#sw-switch-button")
    expect(switch).to_be_disabled()
    expect(page.locator("#connection")).to_contain_text("Not checked yet")
    page.fill("#id_token", sandbox.saleswings_token)
    page.get_by_role("button", name="Connect").click()
    expect(page.locator("#connection")).to_contain_text("Connected to Acme Corp")
    expect(page.locator("#connection")).to_contain_text("sync@swstudio.sandbox")
    assert sandbox.saleswings_token not in page.content()
    assert Credential.reveal(Credential.SALESWINGS_TOKEN) == sandbox.saleswings_token

    # Turn the sync on: the Watcher is scheduled.
    expect(switch).to_be_enabled()
    switch.click()
    expect(page.locator("#sw-sync-state")).to_have_text("ON")
    expect(page.locator(".messagelist")).to_contain_text("The sync is on")
    expect(page.locator('[data-live="watcher-next"]')).not_to_contain_text("not scheduled")
    assert ScheduledJob.objects.watcher().count() == 1
    page.goto(live_server.url + "/admin/syncapp/scheduledjob/?view=sw_studio")
    expect(page.locator("#result_list")).to_contain_text(WATCHER_NAME)
    expect(page.locator("#result_list")).to_contain_text("WAITING")

    # The Watcher fires: the first cycle starts. The page follows it without reloading.
    page.goto(live_server.url + "/admin/setup/")
    _watch_no_reload(page)
    jobs.watcher(generation=SyncState.load().generation)
    cycle = SWApexJob.objects.get()
    total = len(cycle.steps)
    progress = page.locator("#sw-progress")
    expect(progress).to_be_visible()
    expect(progress).to_contain_text(cycle.name)
    expect(page.locator('[data-live="progress-steps"]')).to_have_text(f"0 of {total}")

    for _ in range(4):  # SWJobUpdateToSalesWings, GetTags, GetScores, GetProspects
        job_queue.run_next()
    expect(page.locator('[data-live="progress-steps"]')).to_have_text(f"4 of {total}")
    expect(page.locator('[data-live="progress-current"]')).to_contain_text("(Queued)")
    examined = page.locator('[data-live="progress-records"]').inner_text()
    assert not examined.startswith("0 examined"), examined

    # Turning off during a cycle asks first; dismissing keeps the sync on.
    page.once("dialog", lambda dialog: dialog.dismiss())
    page.locator("#sw-switch-button").click()
    assert SyncState.load().enabled
    assert _not_reloaded(page)

    job_queue.run_all()
    cycle.refresh_from_db()
    assert not cycle.is_in_progress, cycle.status
    expect(progress).to_be_hidden()
    expect(page.locator('[data-live="last-name"]')).to_have_text(cycle.name)
    expect(page.locator('[data-live="last-status"]')).to_have_text(cycle.get_status_display())
    expect(page.locator("#sw-status-body")).to_contain_text(cycle.name)
    expect(page.locator("#sw-status-body svg rect.sw-bar")).to_have_count(1)
    assert _not_reloaded(page)
    page.locator("#sw-status-body details").first.click()  # open its steps for the picture
    page.screenshot(path=screenshots / "setup.png", full_page=True)

    # Its run record: the steps and the raw JSON.
    page.locator('[data-live="last-name"]').click()
    expect(page).to_have_url(f"{live_server.url}/admin/syncapp/swapexjob/{cycle.pk}/change/")
    expect(page.locator("table.sw-steps")).to_contain_text("SWJobMatchProspectsToLeads")
    expect(page.locator(".field-status_badge")).to_contain_text(cycle.get_status_display())
    page.screenshot(path=screenshots / "run-record.png", full_page=True)

    # Apex Jobs, SW Studio Steps view: only SWJob… classes.
    page.goto(live_server.url + "/admin/syncapp/asyncjob/")
    expect(page.locator("#result_list")).to_contain_text("WorkflowSchedulable")
    page.get_by_role("link", name="SW Studio Steps").click()
    expect(page).to_have_url(live_server.url + "/admin/syncapp/asyncjob/?view=sw_studio_steps")
    classes = page.locator("#result_list td.field-class_name, #result_list th.field-class_name")
    names = classes.all_inner_texts()
    assert names and all(n.startswith("SWJob") for n in names), names
    assert "SWJobMatchProspectsToLeads" in names

    # Turn the sync off: no schedule left.
    page.goto(live_server.url + "/admin/setup/")
    page.locator("#sw-switch-button").click()
    expect(page.locator("#sw-sync-state")).to_have_text("OFF")
    assert not ScheduledJob.objects.sw_studio().exists()
    page.goto(live_server.url + "/admin/syncapp/scheduledjob/?view=sw_studio")
    expect(page.locator("#changelist")).not_to_contain_text("SalesWings Studio :")
