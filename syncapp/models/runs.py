"""Run records: one SW Apex Job per cycle, and the async jobs ("Apex Jobs") it is made of."""

from django.conf import settings
from django.db import models
from django.db.models import Exists, OuterRef
from django.utils import timezone

from syncapp.models.state import SyncState
from syncapp.models.statuses import (
    ACTIVE_JOB_STATUSES,
    CycleStatus,
    JobStatus,
    JobType,
    StepStatus,
    Trigger,
    cycle_status,
)
from syncapp.models.step_entries import add_error, api_calls_total

__all__ = ["AsyncJob", "SWApexJob"]

SW_STUDIO_ALL_PREFIXES = ("SWJob", "SWLog", "UpdateToSalesWings")
SW_STUDIO_STEPS_PREFIX = "SWJob"


class SWApexJobQuerySet(models.QuerySet):
    def in_progress(self):
        return self.filter(status__in=[CycleStatus.QUEUED, CycleStatus.PROCESSING])

    def newest(self):
        return self.order_by("-id").first()


class SWApexJob(models.Model):
    """One synchronization cycle. Its `steps` JSON holds each step's statistics."""

    name = models.CharField(max_length=20, unique=True, editable=False, blank=True)
    status = models.CharField(
        max_length=20, choices=CycleStatus.choices, default=CycleStatus.QUEUED, db_index=True
    )
    trigger = models.CharField(max_length=10, choices=Trigger.choices)
    generation = models.PositiveBigIntegerField(
        help_text="The sync generation this cycle belongs to."
    )
    full_sync = models.BooleanField("full synchronization", default=False)
    created_at = models.DateTimeField(default=timezone.now)
    start_time = models.DateTimeField(null=True, blank=True)
    end_time = models.DateTimeField(null=True, blank=True)
    steps = models.JSONField(default=list, blank=True)
    note = models.TextField(
        blank=True, help_text="Why the cycle ended as it did, when it did not simply run."
    )
    # Set when turning the sync off or restarting it cut the cycle: its status stays one of
    # the five (from its steps), and these say it was aborted, when and by whom.
    aborted_at = models.DateTimeField("aborted", null=True, blank=True)
    aborted_by = models.CharField(
        "aborted by",
        max_length=150,
        blank=True,
        help_text="Who turned the sync off or restarted it.",
    )

    objects = SWApexJobQuerySet.as_manager()

    class Meta:
        verbose_name = "SW Apex Job"
        verbose_name_plural = "SW Apex Jobs"
        ordering = ["-id"]
        indexes = [models.Index(fields=["status", "end_time"])]

    def __str__(self):
        return self.name or f"SW Apex Job {self.pk}"

    def save(self, *args, **kwargs):
        super().save(*args, **kwargs)
        if not self.name:
            # Autonumber like Salesforce's: SAJ-000042.
            self.name = f"SAJ-{self.pk:06d}"
            type(self).objects.filter(pk=self.pk).update(name=self.name)

    @property
    def is_in_progress(self):
        return self.status in (CycleStatus.QUEUED, CycleStatus.PROCESSING)

    @property
    def duration(self):
        if self.start_time and self.end_time:
            return self.end_time - self.start_time
        return None

    def step(self, name):
        for step in self.steps:
            if step["name"] == name:
                return step
        raise KeyError(name)

    @property
    def was_aborted(self):
        return self.aborted_at is not None

    def totals(self):
        keys = ("examined", "modified", "failed", "skipped")
        return {k: sum(s.get(k, 0) for s in self.steps) for k in keys}

    def api_calls(self):
        """API calls of the whole cycle, by service: the sum of its steps'."""
        return api_calls_total(self.steps)

    # --- state changes (callers hold the sync state lock and save) ------------------------

    def start_step(self, name, job_id, now):
        if self.status == CycleStatus.QUEUED:
            self.status = CycleStatus.PROCESSING
            self.start_time = now
        entry = self.step(name)
        entry.update(status=StepStatus.PROCESSING, start=now.isoformat(), job_id=job_id)

    def record_progress(self, name, counters):
        self.step(name).update(counters)

    def finish_step(self, name, counters, status, now):
        entry = self.step(name)
        entry.update(counters)
        entry.update(status=status, end=now.isoformat())

    def next_queued_step(self):
        for entry in self.steps:
            if entry["status"] == StepStatus.QUEUED:
                return entry["name"]
        return None

    def next_queued_steps(self):
        """The next planned step, with the steps of its parallel group planned right after
        it: they are queued together, the first step of each lane (`Step.lane`; the others
        follow their lane, see `lane_successor`)."""
        names, group, lanes = [], None, set()
        for entry in self.steps:
            if entry["status"] != StepStatus.QUEUED:
                if names:
                    break
                continue
            if names and (not group or entry.get("group") != group):
                break
            lane = entry.get("lane") or entry["name"]
            if lane not in lanes:
                lanes.add(lane)
                names.append(entry["name"])
            group = entry.get("group")
        return names

    def lane_successor(self, name):
        """The step planned next in `name`'s lane of its parallel group, not started yet (it
        is queued when `name` ends), or None."""
        i = [e["name"] for e in self.steps].index(name)
        group, lane = self.steps[i].get("group"), self.steps[i].get("lane")
        if not group or not lane:
            return None
        for entry in self.steps[i + 1 :]:
            if entry.get("group") != group:
                return None
            if entry.get("lane") == lane:
                return entry["name"] if entry["status"] == StepStatus.QUEUED else None
        return None

    def group_running(self, name):
        """Whether another step of `name`'s parallel group (the steps with its group planned
        next to it) is still queued or running."""
        i = [e["name"] for e in self.steps].index(name)
        group = self.steps[i].get("group")
        if not group:
            return False
        lo, hi = i, i
        while lo > 0 and self.steps[lo - 1].get("group") == group:
            lo -= 1
        while hi + 1 < len(self.steps) and self.steps[hi + 1].get("group") == group:
            hi += 1
        return any(
            e["status"] in (StepStatus.QUEUED, StepStatus.PROCESSING)
            for j, e in enumerate(self.steps[lo : hi + 1], lo)
            if j != i
        )

    def close(self, now, note=""):
        """Give the cycle its final status from its steps' statuses."""
        counted = [s for s in self.steps if s.get("counts_toward_status", True)] or self.steps
        self.status = cycle_status(s["status"] for s in counted)
        if self.status == CycleStatus.COMPLETED and any(
            s["status"] == StepStatus.FAILED for s in self.steps
        ):
            # A wrap-up step (Finalizer, Enqueuer) that failed: the data steps completed, but
            # the cycle did not.
            self.status = CycleStatus.PARTIALLY_COMPLETED
        if self.start_time is None:
            self.start_time = now
        self.end_time = now
        if note:
            self.note = note

    def abort(self, reason, now, *, by=None):
        """End the cycle now with `reason`, kept once, in the note. Steps that were running
        fail with it; steps that never started fail without an error of their own (they did
        not run). `by`: the sync was turned off or restarted (by that user, or "" when no user
        is known): the cycle is marked aborted, when and by whom."""
        for entry in self.steps:
            if entry["status"] == StepStatus.PROCESSING:
                add_error(entry, reason)
            if entry["status"] in (StepStatus.QUEUED, StepStatus.PROCESSING):
                entry["status"] = StepStatus.FAILED
                entry["end"] = now.isoformat()
        if by is not None:
            self.aborted_at = now
            self.aborted_by = str(by)[:150]
        self.close(now, note=reason)


class AsyncJobQuerySet(models.QuerySet):
    def sw_studio_all(self):
        q = models.Q()
        for prefix in SW_STUDIO_ALL_PREFIXES:
            q |= models.Q(class_name__startswith=prefix)
        return self.filter(q)

    def steps(self):
        return self.filter(class_name__startswith=SW_STUDIO_STEPS_PREFIX)

    def active(self):
        return self.filter(status__in=ACTIVE_JOB_STATUSES)

    def lock_live(self, job_id):
        """Whether job `job_id` is still the live one (Processing, in the current generation
        of a sync that is on), its row locked until the surrounding transaction ends.

        A step's commits take it first (`StepContext.fenced`): whoever ends the job (the
        Watcher, turning off, restarting) changes its row, so either the commit lands before
        that or it sees the job ended and writes nothing. One indexed read.
        """
        current = SyncState.objects.filter(pk=1, enabled=True, generation=OuterRef("generation"))
        live = (
            self.select_for_update(of=("self",))
            .filter(pk=job_id, status=JobStatus.PROCESSING)
            .filter(Exists(current))
            .values_list("pk", flat=True)
        )
        return bool(list(live))


class AsyncJob(models.Model):
    """An asynchronous job of the sync, in Salesforce's AsyncApexJob vocabulary."""

    class_name = models.CharField("Apex class", max_length=80, db_index=True)
    job_type = models.CharField(max_length=20, choices=JobType.choices)
    status = models.CharField(
        max_length=12, choices=JobStatus.choices, default=JobStatus.QUEUED, db_index=True
    )
    cycle = models.ForeignKey(
        SWApexJob,
        null=True,
        blank=True,
        # The Watcher deletes old cycles and their jobs in two set-based statements (jobs
        # first); CASCADE would make Django fetch every row first.
        on_delete=models.DO_NOTHING,
        related_name="jobs",
    )
    step = models.CharField(max_length=80, blank=True)
    generation = models.PositiveBigIntegerField()
    total_batches = models.PositiveIntegerField("total batches", default=0)
    batches_processed = models.PositiveIntegerField("batches processed", default=0)
    number_of_errors = models.PositiveIntegerField("failures", default=0)
    extended_status = models.TextField(blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_date = models.DateTimeField("submitted date", default=timezone.now, db_index=True)
    started_date = models.DateTimeField(null=True, blank=True)
    completed_date = models.DateTimeField("completion date", null=True, blank=True)
    last_heartbeat = models.DateTimeField(null=True, blank=True)
    task_id = models.CharField("django-q2 task", max_length=32, blank=True)

    objects = AsyncJobQuerySet.as_manager()

    class Meta:
        verbose_name = "Apex Job"
        verbose_name_plural = "Apex Jobs"
        ordering = ["-id"]

    def __str__(self):
        return f"{self.class_name} #{self.pk}"

    @property
    def is_active(self):
        return self.status in ACTIVE_JOB_STATUSES

    # --- state changes ----------------------------------------------------------------------

    def mark_processing(self, now, worker=""):
        self.status = JobStatus.PROCESSING
        self.started_date = now
        self.last_heartbeat = now
        if worker:
            # Which machine and process runs it: what an operator needs to find (or kill) a
            # stuck worker. Replaced by the result when the job ends.
            self.extended_status = f"Running in {worker}"

    def mark_finished(self, *, failed, batches_total, batches_processed, errors, message, now):
        self.status = JobStatus.FAILED if failed else JobStatus.COMPLETED
        self.total_batches = batches_total
        self.batches_processed = batches_processed
        self.number_of_errors = errors
        self.extended_status = message[:2000]
        self.completed_date = now

    def mark_aborted(self, reason, now):
        self.status = JobStatus.ABORTED
        self.extended_status = reason
        self.completed_date = now

    def mark_failed(self, reason, now):
        self.status = JobStatus.FAILED
        self.extended_status = reason
        self.number_of_errors += 1
        self.completed_date = now
