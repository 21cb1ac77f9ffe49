"""Malformed backend items over HTTP (the sandbox's malformed rate): noted, asked for again once
the backend serves them well, and the org converges to the backend record by record without a
Full Synchronization (issue 26, point 4)."""

import pytest

from syncapp.models import MalformedItem, StudioOptions
from syncapp.models.statuses import CycleStatus
from tests.integration.test_sync_sandbox import assert_org_matches_backend, live  # noqa: F401

pytestmark = [pytest.mark.integration, pytest.mark.real_clients]


def test_after_cycles_with_malformed_items_clean_cycles_converge_without_a_full_sync(
    live,  # noqa: F811
):
    live.faults(sw_malformed_rate=0.3)
    try:
        first = live()
        # A second cycle at the same rate. (With the backend churning between the two, the
        # org does not always converge: an open defect, docs/operations.md "Known gaps".)
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
