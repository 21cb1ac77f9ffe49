"""Malformed backend items over HTTP (the sandbox's malformed rate): noted, asked for again once
the backend serves them well, and the org converges to the backend record by record without a
Full Synchronization (issue 26, point 4)."""

import pytest

from syncapp.models import MalformedItem, StudioOptions
from syncapp.models.statuses import CycleStatus
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
