"""The step framework: what a workflow step is, the registry, and a step's running context.

A step is a class with a `name` (its async job's class name is `SWJob<name>`) and a `run(ctx)`
method. It works in batches: each `with ctx.batch() as batch:` block is one batch whose
exception is captured (the batch counts as failed, its message is kept) so the step goes on.
An exception outside a batch, or `StopStep`, ends the step.
"""

import threading
import time
from contextlib import contextmanager
from functools import cache

from django.conf import settings
from django.utils.module_loading import import_string

from syncapp.engine.statuses import JobType, StepStatus, step_status

MAX_ERRORS_KEPT = 20
MAX_ERROR_LENGTH = 500
# The live counters are saved after a batch at most this often (seconds): a large step runs
# hundreds of batches, each save is a locked write of the cycle record.
PROGRESS_INTERVAL = 0.25


class StopStep(Exception):  # noqa: N818  (a signal, not an error of the step's code)
    """Raised by a step to stop early with a message (e.g. the daily API limit is used up).

    What was done so far stands; what was not stays pending for the next cycle.
    """


class Cancelled(Exception):  # noqa: N818
    """The sync was turned off or restarted while the step ran."""


class Step:
    name = ""
    job_type = JobType.QUEUEABLE
    default_batch_size = 200
    # The wrap-up steps (Finalizer, Enqueuer) do bookkeeping; a cycle whose data steps all
    # failed is Failed even though its bookkeeping worked.
    counts_toward_status = True
    # Steps every cycle needs (the Finalizer, the Enqueuer that closes the cycle and schedules
    # the next): a Workflow Option cannot turn them off.
    required = False
    # Steps next to each other in a cycle's plan with the same group run side by side, each
    # its own async job (on as many workers as are free); the step after them is queued when
    # the last of them ends. Empty: the step runs alone. Decided when the cycle is planned
    # (`group`), kept in its step entries.
    parallel_group = ""
    # Within a group, steps of the same lane run one after the other in plan order, and each
    # lane goes at its own pace: the next step of a lane is queued when the one before it in
    # that lane ends (e.g. CleanLeads once MatchProspectsToLeads ends, whatever the Contacts
    # side is doing). Empty: the step is a lane of its own.
    lane = ""

    @property
    def class_name(self):
        return f"SWJob{self.name}"

    def applies(self, options):
        """Whether the step belongs in a cycle with these Studio Options."""
        return True

    def group(self, options):
        """The parallel group the step runs in under these Studio Options ("": alone)."""
        return self.parallel_group

    def run(self, ctx):
        raise NotImplementedError


@cache
def _workflow(paths):
    steps = [import_string(path)() for path in paths]
    names = [s.name for s in steps]
    if len(set(names)) != len(names):
        raise ValueError(f"SWSTUDIO_WORKFLOW names a step twice: {names}")
    return steps


def workflow():
    """Every step the product knows, in order."""
    return _workflow(tuple(settings.SWSTUDIO_WORKFLOW))


def get_step(name):
    for step in workflow():
        if step.name == name:
            return step
    raise KeyError(f"No workflow step named {name!r}")


def plan(options, workflow_options):
    """The steps a cycle starting now runs, each with its batch size.

    `workflow_options` maps step name to its WorkflowOption (missing: enabled; no batch size: the
    step's own default).
    """
    planned = []
    for step in workflow():
        opt = workflow_options.get(step.name)
        if opt is not None and not opt.enabled and not step.required:
            continue
        if not step.applies(options):
            continue
        planned.append((step, (opt and opt.batch_size) or step.default_batch_size))
    return planned


def new_step_entry(step, batch_size, group=""):
    """A step's JSON entry in its cycle, as planned (`group`: see `Step.parallel_group`; the
    keys `group` and `lane` are there only for a step that runs side by side with others)."""
    entry = {
        "name": step.name,
        "class": step.class_name,
        "status": "Queued",
        "batch_size": batch_size,
        "counts_toward_status": step.counts_toward_status,
        "start": None,
        "end": None,
        "batches_total": 0,
        "batches_failed": 0,
        "examined": 0,
        "modified": 0,
        "failed": 0,
        "errors": [],
        "errors_dropped": 0,
        # Transient failures the step's clients met and retried, by code (e.g. HTTP_503).
        "transient_errors": {},
        "job_id": None,
    }
    if group:
        entry["group"] = group
        if step.lane:
            entry["lane"] = step.lane
    return entry


def ordered_entry(entry):
    """A step entry with its keys in the planned order (PostgreSQL's jsonb reorders them)."""
    order = {key: i for i, key in enumerate(_ENTRY_KEYS)}
    return dict(sorted(entry.items(), key=lambda item: order.get(item[0], len(order))))


def add_error(entry, message):
    """Keep an error message in a step entry, within the size cap."""
    message = str(message)
    if len(message) > MAX_ERROR_LENGTH:
        message = message[: MAX_ERROR_LENGTH - 1] + "…"
    if len(entry["errors"]) < MAX_ERRORS_KEPT:
        entry["errors"].append(message)
    else:
        entry["errors_dropped"] += 1


_ENTRY_KEYS = list(new_step_entry(type("Planned", (Step,), {"name": "Planned"})(), 0).keys())


class Batch:
    def __init__(self):
        self.examined = 0
        self.modified = 0
        self.failed = 0
        self.errors = []
        self.closed = False  # counted (done or failed)

    def record_failure(self, message, count=1):
        """Some records of the batch failed (a validation rule, a malformed record)."""
        self.failed += count
        self.errors.append(message)


class StepContext:
    """What a running step sees: its cycle, options, batch size, counters and cancellation."""

    def __init__(self, *, job, cycle, options, batch_size, on_progress=None):
        self.job = job
        self.cycle = cycle
        self.options = options
        self.batch_size = batch_size
        self.full_sync = cycle.full_sync
        self.entry = {
            "batches_total": 0,
            "batches_failed": 0,
            "examined": 0,
            "modified": 0,
            "failed": 0,
            "errors": [],
            "errors_dropped": 0,
        }
        self.crashed = False
        self.stopped = False
        self.cancelled = threading.Event()
        self._on_progress = on_progress
        self._progress_saved = 0.0

    def check_cancelled(self):
        if self.cancelled.is_set():
            raise Cancelled()

    def error(self, message):
        add_error(self.entry, message)

    @contextmanager
    def batch(self):
        """One batch: its exception fails the batch, not the step."""
        batch = self.begin_batch()
        with self.batch_part(batch, last=True):
            yield batch

    def begin_batch(self):
        """A batch worked in several parts (`batch_part`), e.g. prepared, then finished once
        its write (sent on another thread while the next batch is prepared) has answered."""
        self.check_cancelled()
        return Batch()

    @contextmanager
    def batch_part(self, batch, *, last):
        """One part of a batch: its exception fails the batch (the step goes on; a caller
        skips the batch's later parts once `batch.closed`). The batch is counted once: after
        its last part, or when a part fails."""
        try:
            yield batch
        except (StopStep, Cancelled):
            batch.closed = True
            self._count(batch, failed=True)
            raise
        except Exception as exc:  # a batch's failure is recorded; the step goes on
            batch.closed = True
            self.error(f"{type(exc).__name__}: {exc}")
            self._count(batch, failed=True)
            return
        if last:
            batch.closed = True
            self._count(batch, failed=False)

    def _count(self, batch, *, failed):
        e = self.entry
        e["batches_total"] += 1
        e["batches_failed"] += int(failed)
        e["examined"] += batch.examined
        e["modified"] += batch.modified
        e["failed"] += batch.failed
        for message in batch.errors:
            add_error(e, message)
        now = time.monotonic()
        if self._on_progress and (failed or now - self._progress_saved >= PROGRESS_INTERVAL):
            self._progress_saved = now
            self._on_progress(self)

    def status(self):
        e = self.entry
        if self.stopped and not self.crashed:
            # Stopped early with a reason: what was done stands, the rest is pending.
            done = e["batches_total"] - e["batches_failed"]
            return StepStatus.PARTIALLY_COMPLETED if done else StepStatus.FAILED
        return step_status(
            crashed=self.crashed,
            batches_total=e["batches_total"],
            batches_failed=e["batches_failed"],
            records_failed=e["failed"],
        )
