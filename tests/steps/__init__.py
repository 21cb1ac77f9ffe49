"""Test-only workflow steps: they exercise the framework without touching the network."""

import time

from syncapp.engine.steps import Step, StopStep, wrapup
from syncapp.engine.steps.wrapup import Enqueuer  # noqa: F401  (re-exported)


class Finalizer(wrapup.Finalizer):
    """The real Finalizer, minus the network: framework tests run with no backend."""

    def send_metrics(self, ctx, metrics):
        ctx.entry["metrics_sent"] = True


class Counting(Step):
    """Three batches of 10 records, all written."""

    name = "Counting"
    batches = 3
    per_batch = 10

    def run(self, ctx):
        for _ in range(self.batches):
            with ctx.batch() as batch:
                batch.examined += self.per_batch
                batch.modified += self.per_batch


class Second(Counting):
    name = "Second"


class PartlyFailing(Step):
    """Two batches: the first writes, the second raises; one record of the first fails."""

    name = "PartlyFailing"

    def run(self, ctx):
        with ctx.batch() as batch:
            batch.examined += 5
            batch.modified += 4
            batch.record_failure("FIELD_CUSTOM_VALIDATION_EXCEPTION: rejected by a rule")
        with ctx.batch() as batch:
            batch.examined += 5
            raise RuntimeError("backend answered 500")


class Crashing(Step):
    name = "Crashing"

    def run(self, ctx):
        raise ValueError("irrecoverable")


class Stopping(Step):
    name = "Stopping"

    def run(self, ctx):
        with ctx.batch() as batch:
            batch.examined += 1
            batch.modified += 1
        raise StopStep("REQUEST_LIMIT_EXCEEDED: the daily API limit is used up")


class Slow(Step):
    """Sleeps in small batches until cancelled (or ~30 s): a step to interrupt."""

    name = "Slow"

    def run(self, ctx):
        for _ in range(300):
            with ctx.batch() as batch:
                time.sleep(0.1)
                batch.examined += 1


def _do_nothing(self, ctx):
    pass


# Fifteen distinct empty steps (Empty01 ... Empty15) for the orchestration benchmark and the
# integration tests: they measure the hand-off, nothing else.
EMPTY = []
for _n in range(1, 16):
    _name = f"Empty{_n:02d}"
    globals()[_name] = type(_name, (Step,), {"name": _name, "run": _do_nothing})
    EMPTY.append(f"tests.steps.{_name}")

BASIC = [
    "tests.steps.Counting",
    "tests.steps.Second",
    "tests.steps.Finalizer",
    "tests.steps.Enqueuer",
]


class LeftSide(Counting):
    """Runs side by side with RightSide (a parallel group)."""

    name = "LeftSide"
    parallel_group = "sides"
    lane = "left"


class RightSide(Counting):
    name = "RightSide"
    parallel_group = "sides"
    lane = "right"


class LeftAfter(Counting):
    """Follows LeftSide in its lane: queued when LeftSide ends, whatever RightSide does."""

    name = "LeftAfter"
    parallel_group = "sides"
    lane = "left"


class RightAfter(Counting):
    name = "RightAfter"
    parallel_group = "sides"
    lane = "right"


class CrashingSide(Crashing):
    name = "CrashingSide"
    parallel_group = "sides"
    lane = "right"


SIDE_BY_SIDE = [
    "tests.steps.Counting",
    "tests.steps.LeftSide",
    "tests.steps.RightSide",
    "tests.steps.Second",
    "tests.steps.Finalizer",
    "tests.steps.Enqueuer",
]


LANES = [
    "tests.steps.Counting",
    "tests.steps.LeftSide",
    "tests.steps.RightSide",
    "tests.steps.LeftAfter",
    "tests.steps.RightAfter",
    "tests.steps.Second",
    "tests.steps.Finalizer",
    "tests.steps.Enqueuer",
]


class NappingLeft(Step):
    """Takes ~1.5 s (three batches), side by side with NappingRight."""

    name = "NappingLeft"
    parallel_group = "naps"

    def run(self, ctx):
        for _ in range(3):
            with ctx.batch() as batch:
                time.sleep(0.5)
                batch.examined += 1


class NappingRight(NappingLeft):
    name = "NappingRight"
