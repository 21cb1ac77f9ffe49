"""A synchronization cycle: the entry job, the step jobs and their hand-off.

Every transition takes the sync state row lock first (then the cycle's and the job's rows),
so on/off/restart, the Watcher, the Runner and step hand-offs on any number of workers are
serialized. Network calls (the steps' work) happen outside any transaction.
"""

import logging
import os
import socket
import threading
from functools import cache
from types import SimpleNamespace

from django.conf import settings
from django.db import close_old_connections, connection, transaction
from django.utils import timezone
from django_q.brokers import get_broker
from django_q.tasks import async_task

from syncapp import logcontext
from syncapp.engine import clients, preflight, scheduling
from syncapp.engine.steps import Cancelled, StopStep, get_step, plan
from syncapp.engine.steps.context import StepContext
from syncapp.models import AsyncJob, StudioOptions, SWApexJob, SyncState, WorkflowOption
from syncapp.models.statuses import JobStatus, JobType, StepStatus
from syncapp.models.step_entries import new_step_entry

log = logging.getLogger(__name__)

RUN_STEP_FUNC = "syncapp.engine.jobs.run_step"
ENTRY_CLASS = "WorkflowSchedulable"


def start_cycle(trigger, *, generation=None, user=None, require_no_runner=False):
    """The entry job (`WorkflowSchedulable`): create the cycle and queue its first step.

    Returns the new SW Apex Job, or None when no cycle may start: the sync is off, the
    caller's generation is stale, a cycle is already in progress, or (with
    `require_no_runner`) a Runner is pending. A failed preflight records a Failed cycle that
    says why and schedules the Runner to try again after the Sync Gap.

    The cycle (Queued) and its entry job (Processing) exist before the preflight runs, so a
    Runner that is still checking counts as a cycle in progress: the Watcher or another
    trigger starts no second cycle meanwhile. A worker that dies during the preflight leaves
    the entry job without heartbeat; the Watcher fails it and closes the cycle.
    """
    with transaction.atomic():
        state = SyncState.lock()
        now = timezone.now()  # after the lock: run records' times follow the lock's order
        if not state.enabled or (generation is not None and generation != state.generation):
            return None
        if SWApexJob.objects.in_progress().exists():
            return None
        if require_no_runner and scheduling.runner_pending():
            return None
        options = StudioOptions.load()
        workflow_options = {o.step: o for o in WorkflowOption.objects.all()}
        steps = plan(options, workflow_options)
        cycle = SWApexJob.objects.create(
            trigger=trigger,
            generation=state.generation,
            full_sync=options.full_sync_requested,
            created_at=now,
            steps=[planned_entry(step, size, step.group(options)) for step, size in steps],
        )
        entry_job = AsyncJob.objects.create(
            class_name=ENTRY_CLASS,
            job_type=JobType.SCHEDULED,
            status=JobStatus.PROCESSING,
            cycle=cycle,
            generation=state.generation,
            submitted_by=user or state.running_user,
            created_date=now,
            started_date=now,
            last_heartbeat=now,
            extended_status="Running the checks before the cycle",
        )

    # Network calls (the org's API usage): outside any transaction. The entry job's
    # heartbeat goes on meanwhile: retried checks may outlast SWSTUDIO_STALE_AFTER.
    heartbeat = Heartbeat(entry_job, SimpleNamespace(cancelled=threading.Event()))
    heartbeat.start()
    try:
        problem = preflight.problem()
    finally:
        heartbeat.stop()

    with transaction.atomic():
        state = SyncState.lock()
        now = timezone.now()
        job = AsyncJob.objects.select_for_update().get(pk=entry_job.pk)
        cycle = SWApexJob.objects.select_for_update().get(pk=cycle.pk)
        if job.status != JobStatus.PROCESSING or job.generation != state.generation:
            # Turned off or restarted meanwhile (or failed by the Watcher): the cycle is closed.
            return cycle
        job.mark_finished(
            failed=False, batches_total=0, batches_processed=0, errors=0,
            message=f"Not started: {problem}" if problem else "", now=now,
        )  # fmt: skip
        job.save()
        if problem:
            cycle.abort(f"Not started: {problem}", now)
            cycle.save()
            scheduling.schedule_runner(state.generation, options.sync_gap_minutes, now)
            return cycle
        if not steps:
            cycle.close(now, note="No workflow step is enabled.")
            cycle.save()
            scheduling.schedule_runner(state.generation, options.sync_gap_minutes, now)
            return cycle
        queue_next(cycle, state)
    return cycle


def planned_entry(step, batch_size, group):
    """The step's entry in a cycle planned now (`group`: see `Step.parallel_group`)."""
    return new_step_entry(
        step.name,
        step.class_name,
        batch_size,
        counts_toward_status=step.counts_toward_status,
        group=group,
        lane=step.lane,
    )


def queue_next(cycle, state):
    """Queue the cycle's next planned step, and the steps of its parallel group planned right
    after it (they run side by side). Returns the names queued."""
    names = cycle.next_queued_steps()
    for name in names:
        queue_step(cycle, name, state)
    return names


def queue_step(cycle, step_name, state):
    """Create the step's async job (Queued) and hand it to the broker once committed.

    With the ORM broker a task enqueued inside a transaction that rolls back would vanish
    with it; on Redis it would run before its row exists. So the broker sees it on commit.
    """
    step = get_step(step_name)
    job = AsyncJob.objects.create(
        class_name=step.class_name,
        job_type=step.job_type,
        status=JobStatus.QUEUED,
        cycle=cycle,
        step=step.name,
        generation=state.generation,
        submitted_by=state.running_user,
    )
    transaction.on_commit(lambda: _enqueue(job.pk, step.class_name))
    return job


@cache
def _broker():
    # One broker per process: django-q2 otherwise builds a new one (a new Redis connection)
    # for every task, on the hand-off's path.
    return get_broker()


def _enqueue(job_id, class_name):
    task_id = async_task(
        RUN_STEP_FUNC, job_id, task_name=f"{class_name}-{job_id}", broker=_broker()
    )
    AsyncJob.objects.filter(pk=job_id).update(task_id=task_id or "")


@logcontext.scoped
def run_step(job_id):
    """Run one step job. Does nothing unless the job is Queued in the current generation.
    Once its job is Processing, every log line written carries the cycle and the step
    (`syncapp.logcontext`)."""
    with transaction.atomic():
        state = SyncState.lock()
        now = timezone.now()  # after the lock: run records' times follow the lock's order
        job = AsyncJob.objects.select_for_update().filter(pk=job_id).first()
        if job is None or job.status != JobStatus.QUEUED:
            return None
        if not state.enabled or job.generation != state.generation:
            job.mark_aborted("The sync was turned off or restarted before this job ran.", now)
            job.save()
            return None
        cycle = SWApexJob.objects.select_for_update().get(pk=job.cycle_id)
        job.mark_processing(now, worker=f"process {os.getpid()} on {socket.gethostname()}")
        job.save()
        cycle.start_step(job.step, job.pk, now)
        cycle.save(update_fields=["status", "start_time", "steps"])
        entry = cycle.step(job.step)

    logcontext.enter(cycle.name, job.step)
    step = get_step(job.step)
    ctx = StepContext(
        job=job,
        cycle=cycle,
        options=StudioOptions.load(),
        batch_size=entry.get("batch_size", step.default_batch_size),
        on_progress=_save_progress,
    )
    heartbeat = Heartbeat(job, ctx)
    heartbeat.start()
    with clients.tracking() as transient:
        try:
            step.run(ctx)
        except StopStep as exc:
            ctx.stopped = True
            ctx.error(str(exc))
        except Cancelled:
            pass
        except Exception as exc:
            log.exception("Step %s failed", step.class_name)
            ctx.crashed = True
            ctx.error(f"{type(exc).__name__}: {exc}")
        finally:
            heartbeat.stop()
            # Retried, not failed: the records they concerned went through (or are counted
            # in `failed`); kept so the run record adds up with what the org answered.
            ctx.entry["transient_errors"] = transient()
            ctx.entry["api_calls"] = clients.api_calls()
    return finish_step(job.pk, ctx)


def _save_progress(ctx):
    """After each batch: the live counters, so the Setup page can show progress."""
    now = timezone.now()
    e = ctx.entry
    with transaction.atomic():
        state = SyncState.lock()
        if state.generation != ctx.job.generation:
            ctx.cancelled.set()
            return
        cycle = SWApexJob.objects.select_for_update().get(pk=ctx.cycle.pk)
        live = AsyncJob.objects.filter(pk=ctx.job.pk, status=JobStatus.PROCESSING).update(
            total_batches=e["batches_total"],
            batches_processed=e["batches_total"],
            number_of_errors=e["batches_failed"] + e["failed"],
            last_heartbeat=now,
        )
        if not live:
            # Ended elsewhere (the Watcher failed it): its entry keeps the reason it was given.
            ctx.cancelled.set()
            return
        cycle.record_progress(ctx.job.step, {k: e[k] for k in e})
        cycle.save(update_fields=["steps"])


def finish_step(job_id, ctx):
    """Record the step's result and hand off to the next step."""
    status = ctx.status()
    e = ctx.entry
    with transaction.atomic():
        state = SyncState.lock()
        now = timezone.now()  # after the lock: run records' times follow the lock's order
        job = AsyncJob.objects.select_for_update().get(pk=job_id)
        if job.status != JobStatus.PROCESSING or job.generation != state.generation:
            # Turned off, restarted or failed by the Watcher meanwhile: they closed the cycle.
            # (Or the Enqueuer closed the cycle and its own job with it: close_cycle.)
            return None
        cycle = SWApexJob.objects.select_for_update().get(pk=job.cycle_id)
        job.mark_finished(
            failed=status == StepStatus.FAILED,
            batches_total=e["batches_total"],
            batches_processed=e["batches_total"],
            errors=e["batches_failed"] + e["failed"],
            message="; ".join(e["errors"][:3]),
            now=now,
        )
        job.save()
        cycle.finish_step(job.step, {k: e[k] for k in e}, status, now)
        successor = cycle.lane_successor(job.step)
        if successor:
            # The next step of its lane: the rest of the group goes on meanwhile.
            cycle.save(update_fields=["steps"])
            queue_step(cycle, successor, state)
        elif cycle.group_running(job.step):
            # A step of its group still runs (or waits for a worker): the last one to end
            # queues what comes next.
            cycle.save(update_fields=["steps"])
        elif cycle.next_queued_step():
            cycle.save(update_fields=["steps"])
            queue_next(cycle, state)
        else:
            # Normally the Enqueuer closed the cycle; this covers a workflow without one, and an
            # Enqueuer that failed (no Runner is scheduled then: the Watcher restarts the sync).
            if cycle.is_in_progress:
                note = ""
                if status == StepStatus.FAILED:
                    note = (
                        f"{job.step} failed, so no Runner was scheduled: the Watcher restarts "
                        "the sync at its next run."
                    )
                cycle.close(now, note=note)
            cycle.save()
    return status


def close_cycle(ctx):
    """The Enqueuer's work: the cycle's final status, then the Runner, Sync Gap from now."""
    with transaction.atomic():
        state = SyncState.lock()
        now = timezone.now()  # after the lock: run records' times follow the lock's order
        if not state.enabled or state.generation != ctx.job.generation:
            raise Cancelled()
        cycle = SWApexJob.objects.select_for_update().get(pk=ctx.cycle.pk)
        job = AsyncJob.objects.select_for_update().get(pk=ctx.job.pk)
        if job.status != JobStatus.PROCESSING:
            # Failed by the Watcher while it was frozen: that closed the cycle, and a newer
            # one (with its own Runner) may be running.
            raise Cancelled()
        e = ctx.entry
        cycle.finish_step(ctx.job.step, {k: e[k] for k in e}, StepStatus.COMPLETED, now)
        cycle.close(now)
        cycle.save()
        # The Enqueuer's own job ends with its cycle, in this transaction: otherwise the cycle
        # would read Completed while its last job still read Processing, and the next Runner
        # could start a cycle in between. finish_step then finds the job closed and leaves it.
        job.mark_finished(
            failed=False,
            batches_total=e["batches_total"],
            batches_processed=e["batches_total"],
            errors=e["batches_failed"] + e["failed"],
            message="",
            now=now,
        )
        job.save()
        scheduling.schedule_runner(state.generation, StudioOptions.load().sync_gap_minutes, now)
    return cycle


class Heartbeat:
    """Touches the job's heartbeat while its step runs, and notices cancellation.

    A thread, so that one long network call does not make a live step look dead.
    """

    def __init__(self, job, ctx):
        self.job = job
        self.ctx = ctx
        self.interval = settings.SWSTUDIO_HEARTBEAT_SECONDS
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, daemon=True, name="swstudio-heartbeat")

    def start(self):
        # SQLite in-memory test databases cannot be shared with another thread.
        if connection.vendor == "sqlite" and connection.is_in_memory_db():
            return
        self._thread.start()

    def stop(self):
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def _beat(self):
        try:
            while not self._stop.wait(self.interval):
                self._beat_once()
        finally:
            close_old_connections()
            connection.close()

    def _beat_once(self):
        state = SyncState.objects.filter(pk=1).values("generation", "enabled").first()
        if not state or not state["enabled"] or state["generation"] != self.job.generation:
            self.ctx.cancelled.set()
        beat = AsyncJob.objects.filter(pk=self.job.pk, status=JobStatus.PROCESSING).update(
            last_heartbeat=timezone.now()
        )
        if not beat:
            # Ended by someone else: the Watcher aborted its cycle (a step running side by
            # side with this one died), or the sync was turned off.
            self.ctx.cancelled.set()
