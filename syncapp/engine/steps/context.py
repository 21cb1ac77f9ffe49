"""A running step's context: its batches, counters and cancellation."""

import threading
import time
from contextlib import contextmanager

from django.db import transaction

from syncapp.engine.steps import Cancelled, StopStep
from syncapp.models import AsyncJob
from syncapp.models.statuses import StepStatus, step_status
from syncapp.models.step_entries import add_error, new_counters

# The live counters are saved after a batch at most this often (seconds): a large step runs
# hundreds of batches, each save is a locked write of the cycle record.
PROGRESS_INTERVAL = 0.25


class Batch:
    def __init__(self):
        self.examined = 0
        self.modified = 0
        self.failed = 0
        self.skipped = 0  # passed over, no failure (see step_entries.new_step_entry)
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
        self.entry = new_counters()
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
    def fenced(self):
        """The transaction of a commit of the step's work (prospects' statuses, a cursor, the
        mirror): it commits only while the step's job is the live one. A step frozen past the
        stale window, whose job the Watcher failed (or that the sync's turning off or restart
        aborted), writes nothing once it resumes: a newer cycle may own those rows by then.

        The job's row stays locked until the commit (`AsyncJob.objects.lock_live`), so whoever
        ends the job waits for a commit already under way. It is taken before anything else in
        the transaction (e.g. `bulk.lock_prospect_statuses`)."""
        with transaction.atomic():
            if not AsyncJob.objects.lock_live(self.job.pk):
                self.cancelled.set()
                raise Cancelled()
            yield

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
        e["skipped"] += batch.skipped
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
