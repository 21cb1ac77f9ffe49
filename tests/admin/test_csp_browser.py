"""The pages work under the Content-Security-Policy (issue 27, point 6), in a real browser.

Chromium (Playwright) against `live_server`: log in, the admin's index, lists and forms, the
Setup page (its script polls and updates the live box), the sandbox's admin, the API docs
(Swagger UI draws the operations). Every page must load with the policy header and without a
single CSP violation (collected from the console and from `securitypolicyviolation` events).
"""

import pytest

from syncapp.models import OrgStatus
from syncapp.models.statuses import CycleStatus
from tests import factories
from tests.admin.test_browser import PASSWORD, TIMEOUT, browser_page  # noqa: F401  (fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

COLLECT = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__csp.push(e.violatedDirective + " " + (e.blockedURI || "inline"));
});
"""


@pytest.fixture
def page(browser_page, live_server, settings):  # noqa: F811
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    browser_page.context.add_init_script(COLLECT)
    console = []
    browser_page.on("console", lambda m: console.append(m.text))
    browser_page.console_messages = console
    return browser_page


def _no_violation(page):
    events = page.evaluate("window.__csp || []")
    refused = [m for m in page.console_messages if "Content Security Policy" in m]
    assert events == [] and refused == [], (page.url, events, refused)


def _visit(page, url):
    response = page.goto(url)
    assert response.status == 200, url
    policy = response.headers.get("content-security-policy", "")
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    return response


def test_admin_setup_page_and_api_docs_work_under_the_policy(page, live_server):
    from playwright.sync_api import expect

    factories.administrator(username="ada", password=PASSWORD, is_superuser=True)
    OrgStatus.objects.all().delete()
    base = live_server.url

    _visit(page, base + "/admin/login/")
    page.fill("#id_username", "ada")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    expect(page.locator("#site-name")).to_contain_text("SW Studio")
    _no_violation(page)

    # The Setup page: its script polls and updates the Last Execution box without a reload.
    _visit(page, base + "/admin/setup/")
    expect(page.locator("#sw-last-none")).to_be_visible()
    cycle = factories.CycleFactory(status=CycleStatus.COMPLETED)
    expect(page.locator('[data-live="last-name"]')).to_have_text(cycle.name, timeout=TIMEOUT)
    expect(page.locator("#sw-last-facts")).to_be_visible()
    _no_violation(page)

    # Admin pages with the admin's own scripts: index, a list with actions, forms.
    for path in (
        "/admin/",
        "/admin/syncapp/swapexjob/",
        f"/admin/syncapp/swapexjob/{cycle.pk}/change/",
        "/admin/syncapp/studiooptions/1/change/",
        "/admin/syncapp/notificationsetting/add/",
        "/admin/auth/user/",
        "/admin/sandbox/",
    ):
        _visit(page, base + path)
        expect(page.locator("#content")).to_be_visible()
        _no_violation(page)
    # The user list's action bar is the admin's actions.js at work.
    _visit(page, base + "/admin/auth/user/")
    page.locator("#action-toggle").check()
    expect(page.locator(".action-counter")).to_contain_text("selected")
    _no_violation(page)

    # The API docs: Swagger UI (local assets, its initializer as a script file) draws the
    # operations from the schema.
    _visit(page, base + "/Sync/v1/docs")
    expect(page.locator(".opblock-summary-path").first).to_be_visible(timeout=TIMEOUT)
    expect(page.locator("#swagger-ui")).to_contain_text("GetSyncStatus")
    _no_violation(page)
