"""The Finalizer's metrics go to the backend."""

import pytest

from syncapp.models.statuses import CycleStatus, StepStatus

pytestmark = pytest.mark.django_db


def test_the_finalizer_sends_the_cycles_metrics(world):
    cycle = world.cycle()
    (metrics,) = world.sw.metrics
    assert metrics["cycle"] == cycle.name
    assert metrics["modified"] == sum(
        s["modified"] for s in cycle.steps if s["name"] not in ("Finalizer", "Enqueuer")
    )
    assert metrics["stepsFailed"] == 0


def test_a_metrics_send_failure_is_a_batch_failure_not_a_crash(world):
    world.sw.fail_sends = True
    cycle = world.cycle()
    finalizer = cycle.step("Finalizer")
    assert finalizer["status"] == StepStatus.PARTIALLY_COMPLETED
    assert any("backend unavailable" in e for e in finalizer["errors"])
    assert cycle.status != CycleStatus.FAILED
    assert cycle.step("Enqueuer")["status"] == StepStatus.COMPLETED
