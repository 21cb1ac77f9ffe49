"""SalesWings transient errors (429, 503) are counted in the run record as Salesforce's are
(issue 26, point 6): the real client over HTTP against the sandbox's injected faults."""

import pytest

from tests import sandboxcontrol as sandbox_control
from tests.integration.test_sync_sandbox import live  # noqa: F401 (the fixture)

pytestmark = [pytest.mark.integration, pytest.mark.real_clients]


def test_backend_retries_are_counted_in_the_steps_transient_errors(live, settings):  # noqa: F811
    settings.SALESWINGS_RETRY_MAX_DELAY = 0  # the stand-in's Retry-After: 1, not waited for here
    settings.SALESWINGS_RETRY_ATTEMPTS = 8
    live.faults(sw_error_rate=0.3, sw_rate_limit_rate=0.2)
    try:
        # The faults are drawn at random per call, and a cycle makes only a few backend calls:
        # cycles until one met a fault (each counted from fresh counters).
        for _ in range(5):
            sandbox_control.post(
                f"{live.url}/sandbox/control/reset-counters", timeout=10
            ).raise_for_status()
            cycle = live()
            counters = sandbox_control.get(f"{live.url}/sandbox/control/stats", timeout=10).json()[
                "counters"
            ]
            injected = {
                "SalesWings HTTP_429": counters.get("sw.fault.rate_limited", 0),
                "SalesWings HTTP_503": counters.get("sw.fault.unavailable", 0),
            }
            if sum(injected.values()):
                break
    finally:
        live.faults(sw_error_rate=0.0, sw_rate_limit_rate=0.0)
    assert sum(injected.values()) > 0, counters
    recorded = {"SalesWings HTTP_429": 0, "SalesWings HTTP_503": 0}
    for step in cycle.steps:
        for code, n in step.get("transient_errors", {}).items():
            if code.startswith("SalesWings"):
                recorded[code] += n
    # Every injected failure is in the run record, under the step that met it.
    assert recorded == injected, (recorded, injected, cycle.steps)
