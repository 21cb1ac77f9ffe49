"""Malformed backend items over HTTP (the sandbox's malformed rate): noted, asked for again once
the backend serves them well, and the org converges to the backend record by record without a
Full Synchronization (issue 26, point 4)."""

import pytest

from syncapp.engine.backend import get_client as sw_client
from syncapp.models import MalformedItem, StudioOptions, WaitingActivity
from syncapp.models.statuses import CycleStatus
from syncapp.salesforce import get_client
from tests import sandboxcontrol as sandbox_control
from tests.integration.test_sync_sandbox import assert_org_matches_backend, live  # noqa: F401

pytestmark = [pytest.mark.integration, pytest.mark.real_clients]


# Churns of the seeded world that put a malformed prospect's e-mail on a new prospect: once
# the older item reads, asked for again, it must not take the newer one's records.
CHURN_SEEDS = [9, 28, 37, None]


@pytest.mark.parametrize("churn_seed", CHURN_SEEDS, ids=lambda s: f"churn-{s}")
def test_after_cycles_with_malformed_items_clean_cycles_converge_without_a_full_sync(
    live,  # noqa: F811
    churn_seed,
):
    live.faults(sw_malformed_rate=0.3)
    try:
        first = live()
        # The backend moves on (visits, merges, deletions, new prospects), then a second
        # cycle at the same rate.
        params = {"size": 40} | ({} if churn_seed is None else {"seed": churn_seed})
        r = sandbox_control.post(f"{live.url}/sandbox/control/churn", params=params, timeout=30)
        assert r.status_code == 200, r.text
        live()
    finally:
        live.faults(sw_malformed_rate=0.0)
    assert "Prospect skipped" in " ".join(first.step("GetProspects")["errors"])
    assert MalformedItem.objects.pending().exists()
    assert not StudioOptions.load().full_sync_requested

    cycle = live()  # asks for every noted item again: the backend now serves them well
    assert not MalformedItem.objects.exists()
    if cycle.status != CycleStatus.COMPLETED:
        cycle = live()
    assert cycle.status == CycleStatus.COMPLETED, cycle.steps
    assert not any(c.full_sync for c in [first, cycle])
    assert_org_matches_backend()


def test_with_activity_sync_no_activity_of_a_malformed_prospect_is_lost(live):  # noqa: F811
    # The seeded world gives every prospect an activity. A prospect whose first item is
    # malformed is not stored when its activities are read: they wait for it, and reach the
    # org once its item reads.
    options = StudioOptions.load()
    options.activity_sync = True
    options.save()
    live.faults(sw_malformed_rate=0.3)
    try:
        live()
        r = sandbox_control.post(
            f"{live.url}/sandbox/control/churn", params={"size": 40, "seed": 9}, timeout=30
        )
        assert r.status_code == 200, r.text
        live()
    finally:
        live.faults(sw_malformed_rate=0.0)
    assert WaitingActivity.objects.exists() or MalformedItem.objects.exists()
    cycle = live()
    if cycle.status != CycleStatus.COMPLETED:
        cycle = live()
    assert cycle.status == CycleStatus.COMPLETED, cycle.steps
    assert not WaitingActivity.objects.exists()
    org = assert_org_matches_backend()

    emails = {
        (r["Email"] or "").lower()
        for obj in ("Lead", "Contact")
        for r in org.db[obj].values()
        if not r.get("IsConverted")
    }
    matched = {
        p["id"]
        for _, p in org.prospect_rows
        if p["lifecycle"] == "Active" and (p["email"] or "").lower() in emails
    }
    sw, since, served = sw_client(), 0, set()
    while True:
        page = sw.activities(since, 1000)
        served |= {(a["id"], a["prospectId"]) for a in page.items}
        if not page.has_more:
            break
        since = page.next_since
    expected = {(a, p) for a, p in served if p in matched}
    written = {
        (r["SW_Activity_Id__c"], r["SW_Prospect_Id__c"])
        for r in get_client().query(
            "SELECT SW_Activity_Id__c, SW_Prospect_Id__c FROM SW_Activity__c"
        )
    }
    # Every activity of a matched prospect is in the org; the org holds no other than the
    # backend's (those of prospects merged or deleted since they were written stay, as
    # history).
    assert expected and expected <= written <= served
