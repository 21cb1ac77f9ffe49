"""The SW Apex Jobs list in a real browser (Playwright + Debian's Chromium) at 1,400 px: each
run record's name on one line, every column (the record counts last) within the window."""

import datetime as dt

import pytest

from syncapp.models.statuses import CycleStatus
from tests import factories
from tests.admin.test_browser import browser_page, screenshots  # noqa: F401 (fixtures)

pytestmark = [pytest.mark.browser]

PASSWORD = "pw-for-tests-1"


def _entry(n):
    return {
        "name": "MatchProspectsToLeads", "class": "SWJobMatchProspectsToLeads",
        "status": "Completed", "start": None, "end": None, "examined": 123456 + n,
        "modified": 65432 + n, "failed": 1234, "skipped": 200, "batches_total": 1,
        "batches_failed": 0, "errors": [], "errors_dropped": 0,
    }  # fmt: skip


def test_the_run_records_list_fits_1400_px(browser_page, live_server, settings, screenshots):  # noqa: F811
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    factories.administrator(username="ada", password=PASSWORD)
    start = dt.datetime(2026, 12, 7, 9, 14, 2, tzinfo=dt.UTC)
    cycles = []
    for n in range(5):
        cycle = factories.CycleFactory(
            status=CycleStatus.PARTIALLY_COMPLETED,
            start_time=start,
            end_time=start + dt.timedelta(minutes=1, seconds=n),
            steps=[_entry(n)],
            aborted_at=start + dt.timedelta(minutes=1) if n == 0 else None,
            aborted_by="ada" if n == 0 else "",
        )
        cycles.insert(0, cycle)  # the list shows the newest first
    page = browser_page
    page.set_viewport_size({"width": 1400, "height": 900})
    page.goto(live_server.url + "/admin/login/?next=/admin/syncapp/swapexjob/")
    page.fill("#id_username", "ada")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_selector("#result_list")
    page.screenshot(path=str(screenshots / "swapexjob-list-1400.png"), full_page=True)

    names = page.locator("#result_list th.field-name a")
    assert names.count() == 5
    for i in range(5):
        assert names.nth(i).inner_text() == cycles[i].name
        # One box: the name is on one line ("SAJ-" / "000017" were two).
        assert names.nth(i).evaluate("a => a.getClientRects().length") == 1, "a name wraps"
    rows = page.locator("#result_list tbody tr")
    for i in range(5):
        # Each row one line high (the times used to wrap onto three).
        assert rows.nth(i).bounding_box()["height"] < 3 * names.nth(i).bounding_box()["height"]
    width = page.evaluate("window.innerWidth")
    for column in ("examined", "modified", "failed", "skipped"):
        cell = page.locator(f"#result_list td.field-list_{column}").first
        box = cell.bounding_box()
        assert box["x"] + box["width"] <= width, f"the {column} column is cut off"
        assert cell.inner_text().strip().isdigit()
    no_scroll = page.evaluate(
        "document.querySelector('#changelist .results').scrollWidth"
        " <= document.querySelector('#changelist .results').clientWidth"
    )
    assert no_scroll, "the list scrolls sideways"
    row = page.locator("#result_list tbody tr").filter(has_text="Aborted")
    assert row.count() == 1
    assert "2026-12-07 09:14:02 UTC" in page.locator("#result_list").inner_text()
