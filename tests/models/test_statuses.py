import pytest

from syncapp.models.statuses import CycleStatus, cycle_status, step_status

C, P, F = CycleStatus.COMPLETED, CycleStatus.PARTIALLY_COMPLETED, CycleStatus.FAILED


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"crashed": False, "batches_total": 3, "batches_failed": 0, "records_failed": 0}, C),
        ({"crashed": False, "batches_total": 0, "batches_failed": 0, "records_failed": 0}, C),
        ({"crashed": False, "batches_total": 3, "batches_failed": 1, "records_failed": 0}, P),
        ({"crashed": False, "batches_total": 3, "batches_failed": 0, "records_failed": 2}, P),
        ({"crashed": False, "batches_total": 3, "batches_failed": 3, "records_failed": 0}, F),
        ({"crashed": True, "batches_total": 3, "batches_failed": 0, "records_failed": 0}, F),
    ],
)
def test_step_status(kwargs, expected):
    assert step_status(**kwargs) == expected


@pytest.mark.parametrize(
    ("steps", "expected"),
    [
        ([C, C, C], C),
        ([F, F], F),
        ([C, F], P),
        ([C, P], P),
        ([P, P], P),
        ([], C),
    ],
)
def test_cycle_status(steps, expected):
    assert cycle_status(steps) == expected
