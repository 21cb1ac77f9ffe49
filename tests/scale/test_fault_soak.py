"""Fault soak (issue 7, item 5): the sandbox injects 10% 5xx, 2% row locks, session expiry
every 250 calls and validation rules on 1% of the records over 20 cycles while the backend's
data keeps changing; then, faults off, one more cycle. Every matched record in the org
equals the backend's data, and the run records' failure counters add up to what the sandbox
injected. Cycles run in this process (the `job_queue` fixture), against the live server."""

import pytest

from sandbox import seed
from syncapp.engine.cycle import start_cycle
from syncapp.models import StudioOptions, SWApexJob
from syncapp.models.statuses import CycleStatus, Trigger
from tests.integration.test_sync_sandbox import assert_org_matches_backend
from tests.scale.conftest import Deadline

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.real_clients]

SOAK_CYCLES = 20
CHURN = 15  # prospects changed in the backend between two cycles
WORLD = seed.Sizes(
    prospects=300, leads=200, contacts=200, accounts=20, opportunities=30, activities_per_prospect=1
)
FAULTS = {
    "server_error_rate": 0.10,
    "lock_row_rate": 0.02,
    # The issue says every 500 calls; the soak's 21 cycles now use ~490 in all (the Clean steps
    # no longer scan while the send-up runs), so at 500 no session would ever expire.
    "session_expiry_calls": 250,
    "validation_rules": [{"object": "*", "share": 0.01, "message": "Blocked by the soak's rule"}],
}
TRANSIENT = ("HTTP_503", "UNABLE_TO_LOCK_ROW", "INVALID_SESSION_ID")


def run_cycle(job_queue):
    cycle = start_cycle(Trigger.RUNNER)
    assert cycle is not None
    job_queue.run_all(limit=1000)
    return SWApexJob.objects.get(pk=cycle.pk)


def totals(cycles):
    failed, transient = 0, {}
    for cycle in cycles:
        for step in cycle.steps:
            failed += step["failed"]
            for code, n in step.get("transient_errors", {}).items():
                transient[code] = transient.get(code, 0) + n
    return failed, transient


@pytest.mark.parametrize("sandbox_world", [WORLD], indirect=True)
def test_twenty_cycles_under_faults_then_one_clean_cycle_converge_and_add_up(
    sandbox_world, job_queue, settings
):
    deadline = Deadline(300, "the fault soak")
    # 5 attempts give up on a call once in 10^5 at 10% 5xx, about once in 200 runs of this
    # soak's ~500 calls, which would fail a batch and blur the sums; 8 make it ~never.
    settings.SALESFORCE_RETRY_ATTEMPTS = 8
    # Records blocked by a rule are retried every cycle rather than given up after 5.
    StudioOptions.objects.filter(pk=1).update(max_sync_attempts=1000)
    sandbox_world.reset_counters()
    sandbox_world.faults(**FAULTS)

    cycles = []
    for i in range(SOAK_CYCLES):
        deadline.check()
        if i:
            sandbox_world.churn(CHURN)
        cycles.append(run_cycle(job_queue))
    injected = sandbox_world.stats()["counters"]

    sandbox_world.faults(
        server_error_rate=0.0, lock_row_rate=0.0, session_expiry_calls=None, validation_rules=[]
    )
    final = run_cycle(job_queue)
    assert final.status == CycleStatus.COMPLETED, final.steps
    assert_org_matches_backend()

    failed, transient = totals([*cycles, final])
    print(
        f"soak: {[c.status for c in cycles]}; injected "
        f"{ {k: v for k, v in injected.items() if k.startswith('sf.fault.')} }; "
        f"run records: failed {failed}, transient {transient}"
    )
    # Nothing was injected during the clean cycle.
    assert sandbox_world.stats()["counters"].get("sf.fault.HTTP_503", 0) == injected.get(
        "sf.fault.HTTP_503", 0
    )
    # Each kind was injected, and every injected fault is in the run records.
    for code in TRANSIENT:
        assert injected.get(f"sf.fault.{code}", 0) > 0, (code, injected)
        assert transient.get(code, 0) == injected[f"sf.fault.{code}"], (code, transient, injected)
    assert injected.get("sf.fault.FIELD_CUSTOM_VALIDATION_EXCEPTION", 0) > 0, injected
    assert failed == injected["sf.fault.FIELD_CUSTOM_VALIDATION_EXCEPTION"], (failed, injected)
    # The retries hid every transient failure from the steps: none failed a batch.
    assert all(s["batches_failed"] == 0 for c in cycles for s in c.steps), [
        (c.name, s["name"], s["errors"]) for c in cycles for s in c.steps if s["batches_failed"]
    ]
