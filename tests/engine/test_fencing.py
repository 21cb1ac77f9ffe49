"""Fenced writes: a step frozen past the stale window (its job failed by the Watcher, a newer
cycle started), then resumed, commits nothing (issue 26, point 3)."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from syncapp.engine import watcher
from syncapp.engine.cycle import start_cycle
from syncapp.engine.steps import matching
from syncapp.engine.steps.context import StepContext
from syncapp.models import (
    AsyncJob,
    CleanCandidate,
    MatchScanHit,
    Prospect,
    RecordSnapshot,
    SWApexJob,
    SyncCursor,
    SyncStatus,
)
from syncapp.models.statuses import CycleStatus, JobStatus, Trigger

pytestmark = pytest.mark.django_db


def mirror_state():
    """Everything a step commits: prospects' statuses and values, cursors, snapshots, the
    scan's hits, the clean candidates."""
    return {
        "prospects": sorted(
            Prospect.objects.values_list(
                "backend_id",
                "scores",
                "sync_status",
                "lead_pending",
                "contact_pending",
                "lead_sync_attempts",
                "contact_sync_attempts",
                "matched_lead_ids",
                "matched_contact_ids",
                "last_error",
                "lead_clean_pending",
                "contact_clean_pending",
            )
        ),
        "cursors": sorted(SyncCursor.objects.values_list("name", "value")),
        "snapshots": sorted(RecordSnapshot.objects.values_list()),
        "hits": sorted(MatchScanHit.objects.values_list("object", "prospect_pk", "record_id")),
        "candidates": sorted(CleanCandidate.objects.values_list("object", "salesforce_id")),
    }


def change_fit(world, value):
    world.sw.put_prospect(**{**world.sw.prospect("p_cy"), "scores": {"fit": value}})


# (step, Match in scan mode, the commit it freezes before: 1 = its first)
@pytest.mark.parametrize(
    "frozen_step, scan, at",
    [
        ("MatchProspectsToLeads", False, 1),  # the batch's statuses
        ("MatchProspectsToLeads", True, 3),  # the settlement, after the scan's write
        ("GetProspects", None, 1),  # a page and the cursor past it
        ("UpdateToSalesWings", None, 2),  # snapshots and the watermark
    ],
)
def test_a_step_frozen_past_the_stale_window_commits_nothing_once_resumed(
    world, monkeypatch, frozen_step, scan, at
):
    if scan is not None:
        monkeypatch.setattr(matching.MatchProspects, "choose_scan", lambda self, *a, **k: scan)
    world.cycle()
    change_fit(world, 4)  # what the frozen cycle is about to write

    real_fenced = StepContext.fenced
    seen, calls = {}, []

    def meanwhile(ctx):
        """While the old step is frozen before its commit: the Watcher finds it stale and
        fails it, the backend changes again, a newer cycle fetches that change."""
        later = timezone.now() + timedelta(seconds=settings.SWSTUDIO_STALE_AFTER + 1)
        assert watcher.fail_stale_jobs(later) >= 1
        change_fit(world, 5)
        newer = start_cycle(Trigger.RESTART)
        assert newer is not None, "the newer cycle did not start"
        fetched = AsyncJob.objects.filter(
            cycle=newer, step="GetProspects", status=JobStatus.COMPLETED
        )
        while not fetched.exists():
            world.job_queue.run_next()
        seen["newer"] = newer.pk
        seen["before"] = mirror_state()

    def fenced(ctx):
        if ctx.job.step == frozen_step and not seen:
            calls.append(ctx.job.pk)
            if len(calls) == at:
                seen["old_job"] = ctx.job.pk
                meanwhile(ctx)
        return real_fenced(ctx)

    monkeypatch.setattr(StepContext, "fenced", fenced)
    old = start_cycle(Trigger.RUNNER)
    # Until the frozen step has resumed and given up (within one run_next).
    while "before" not in seen and world.job_queue.ids:
        world.job_queue.run_next()
    assert "before" in seen, f"{frozen_step} never reached a commit"

    # Nothing the resumed step did landed.
    assert mirror_state() == seen["before"]
    job = AsyncJob.objects.get(pk=seen["old_job"])
    assert job.status == JobStatus.FAILED
    assert "stopped responding" in job.extended_status
    old.refresh_from_db()
    assert old.status != CycleStatus.PROCESSING
    # Closed by the Watcher (its note names the stale job, or a queued one of the same cycle
    # that no worker took meanwhile).
    assert "stopped responding" in old.note or "never picked up" in old.note
    assert old.step(frozen_step)["status"] == "Failed"

    # The newer cycle finishes; the change it fetched reaches the org, no Full Synchronization.
    world.job_queue.run_all()
    newer = SWApexJob.objects.get(pk=seen["newer"])
    assert newer.status == CycleStatus.COMPLETED, newer.steps
    assert world.sf.get(world.ids["cy_lead"])["SW_Fit_Score__c"] == 5
    cy = Prospect.objects.get(backend_id="p_cy")
    assert (cy.scores, cy.sync_status) == ({"fit": 5}, SyncStatus.PROCESSED)
    assert int(SyncCursor.get(SyncCursor.PROSPECTS)) == max(s for s, _ in world.sw.prospect_rows)


def test_the_fence_refuses_a_job_that_is_not_processing_or_of_an_older_generation(world):
    from syncapp.engine import control
    from syncapp.engine.steps import Cancelled

    cycle = start_cycle(Trigger.RUNNER)
    job = AsyncJob.objects.get(cycle=cycle, status=JobStatus.QUEUED)
    ctx = StepContext(job=job, cycle=cycle, options=None, batch_size=10)
    with pytest.raises(Cancelled), ctx.fenced():  # Queued: not started
        SyncCursor.put("probe", "queued")
    assert ctx.cancelled.is_set()
    job.mark_processing(timezone.now())
    job.save()
    ctx = StepContext(job=job, cycle=cycle, options=None, batch_size=10)
    with ctx.fenced():
        SyncCursor.put("probe", "live")
    control.turn_off()
    AsyncJob.objects.filter(pk=job.pk).update(status=JobStatus.PROCESSING)  # as if missed
    with pytest.raises(Cancelled), ctx.fenced():  # an older generation: turned off
        SyncCursor.put("probe", "late")
    assert SyncCursor.get("probe") == "live"


def test_an_enqueuer_failed_while_frozen_neither_closes_its_cycle_again_nor_schedules(world):
    from syncapp.engine import scheduling
    from syncapp.engine.cycle import close_cycle
    from syncapp.engine.steps import Cancelled
    from syncapp.models import ScheduledJob

    cycle = start_cycle(Trigger.RUNNER)
    while not AsyncJob.objects.filter(cycle=cycle, step="Enqueuer").exists():
        world.job_queue.run_next()
    job = AsyncJob.objects.get(cycle=cycle, step="Enqueuer")
    job.mark_processing(timezone.now())
    job.save()
    later = timezone.now() + timedelta(seconds=settings.SWSTUDIO_STALE_AFTER + 1)
    assert watcher.fail_stale_jobs(later) == 1
    ScheduledJob.objects.runner().delete()
    cycle.refresh_from_db()
    closed = (cycle.status, cycle.end_time, cycle.note)
    ctx = StepContext(job=job, cycle=cycle, options=None, batch_size=10)
    with pytest.raises(Cancelled):
        close_cycle(ctx)
    cycle.refresh_from_db()
    assert (cycle.status, cycle.end_time, cycle.note) == closed
    assert not scheduling.runner_pending()
