"""Steps of a parallel group: queued together, the next step once the last of them ends."""

import pytest

from syncapp.admin.dashboard import progress_json
from syncapp.engine import control
from syncapp.engine.cycle import run_step, start_cycle
from syncapp.models import AsyncJob, StudioOptions, SWApexJob, WorkflowOption
from syncapp.models.statuses import CycleStatus, JobStatus, StepStatus, Trigger
from tests.steps import LANES, SIDE_BY_SIDE

pytestmark = pytest.mark.django_db


@pytest.fixture
def sides(admin_user, settings):
    settings.SWSTUDIO_WORKFLOW = SIDE_BY_SIDE
    control.turn_on(admin_user)


def steps_of(job_ids):
    return [AsyncJob.objects.get(pk=i).step for i in job_ids]


def test_the_steps_of_a_group_are_queued_together_and_the_next_waits_for_both(sides, job_queue):
    cycle = start_cycle(Trigger.WATCHER)
    assert [s.get("group", "") for s in cycle.steps] == ["", "sides", "sides", "", "", ""]
    job_queue.run_next()  # Counting
    assert steps_of(job_queue.ids) == ["LeftSide", "RightSide"]

    left, right = job_queue.ids
    job_queue.ids.clear()
    run_step(right)  # the order the workers end them in does not matter
    assert job_queue.ids == []  # LeftSide has not run yet: nothing after the group
    cycle.refresh_from_db()
    assert cycle.step("Second")["status"] == StepStatus.QUEUED
    assert not AsyncJob.objects.filter(step="Second").exists()

    run_step(left)
    assert steps_of(job_queue.ids) == ["Second"]
    job_queue.run_all()
    cycle.refresh_from_db()
    assert cycle.status == CycleStatus.COMPLETED
    assert AsyncJob.objects.filter(cycle=cycle, step="Second").count() == 1
    assert all(s["status"] == StepStatus.COMPLETED for s in cycle.steps)


def test_the_live_progress_names_every_step_running(sides, job_queue):
    cycle = start_cycle(Trigger.WATCHER)
    job_queue.run_next()
    cycle.refresh_from_db()
    cycle.start_step("LeftSide", job_queue.ids[0], cycle.created_at)
    cycle.start_step("RightSide", job_queue.ids[1], cycle.created_at)
    progress = progress_json(cycle)
    assert progress["currentStep"] == "SWJobLeftSide + SWJobRightSide"
    assert progress["currentStepStatus"] == StepStatus.PROCESSING


def test_a_failing_step_of_a_group_does_not_stop_the_others(sides, job_queue, settings):
    settings.SWSTUDIO_WORKFLOW = [
        "tests.steps.LeftSide",
        "tests.steps.CrashingSide",
        "tests.steps.Second",
        "tests.steps.Finalizer",
        "tests.steps.Enqueuer",
    ]
    cycle = start_cycle(Trigger.WATCHER)
    assert steps_of(job_queue.ids) == ["LeftSide", "CrashingSide"]
    job_queue.ids.reverse()  # the failing one ends first
    job_queue.run_all()
    cycle.refresh_from_db()
    assert cycle.step("CrashingSide")["status"] == StepStatus.FAILED
    assert cycle.step("LeftSide")["status"] == StepStatus.COMPLETED
    assert cycle.step("Second")["status"] == StepStatus.COMPLETED
    assert cycle.status == CycleStatus.PARTIALLY_COMPLETED


def test_a_group_that_ends_the_plan_closes_the_cycle_once(sides, job_queue, settings):
    settings.SWSTUDIO_WORKFLOW = ["tests.steps.LeftSide", "tests.steps.RightSide"]
    cycle = start_cycle(Trigger.WATCHER)
    job_queue.run_next()
    assert SWApexJob.objects.get(pk=cycle.pk).is_in_progress
    job_queue.run_next()
    cycle.refresh_from_db()
    assert cycle.status == CycleStatus.COMPLETED


def test_a_step_left_alone_by_the_workflow_options_runs_alone(sides, job_queue):
    WorkflowOption.objects.create(step="RightSide", enabled=False)
    cycle = start_cycle(Trigger.WATCHER)
    job_queue.run_next()
    assert steps_of(job_queue.ids) == ["LeftSide"]
    job_queue.run_all()
    cycle.refresh_from_db()
    assert cycle.status == CycleStatus.COMPLETED


def test_steps_of_a_group_apart_in_the_plan_run_one_after_the_other(sides, job_queue, settings):
    settings.SWSTUDIO_WORKFLOW = [
        "tests.steps.LeftSide",
        "tests.steps.Counting",
        "tests.steps.RightSide",
        "tests.steps.Finalizer",
        "tests.steps.Enqueuer",
    ]
    start_cycle(Trigger.WATCHER)
    assert steps_of(job_queue.ids) == ["LeftSide"]
    job_queue.run_next()
    assert steps_of(job_queue.ids) == ["Counting"]


def test_turning_off_while_a_group_runs_stops_the_step_not_yet_started(sides, job_queue):
    start_cycle(Trigger.WATCHER)
    job_queue.run_next()
    left, right = job_queue.ids
    run_step(left)
    control.turn_off()
    assert run_step(right) is None
    assert AsyncJob.objects.get(pk=right).status == JobStatus.ABORTED
    assert not AsyncJob.objects.filter(step="Second").exists()


def test_each_lane_of_a_group_goes_at_its_own_pace(sides, job_queue, settings):
    settings.SWSTUDIO_WORKFLOW = LANES
    cycle = start_cycle(Trigger.WATCHER)
    assert [(s.get("group", ""), s.get("lane", "")) for s in cycle.steps[1:5]] == [
        ("sides", "left"),
        ("sides", "right"),
        ("sides", "left"),
        ("sides", "right"),
    ]
    job_queue.run_next()  # Counting: the first step of each lane, together
    assert steps_of(job_queue.ids) == ["LeftSide", "RightSide"]
    left, right = job_queue.ids
    job_queue.ids.clear()

    run_step(left)  # its lane goes on while RightSide still runs
    assert steps_of(job_queue.ids) == ["LeftAfter"]
    (left_after,) = job_queue.ids
    job_queue.ids.clear()
    run_step(left_after)
    assert job_queue.ids == []  # the right lane is not done: nothing after the group

    run_step(right)
    assert steps_of(job_queue.ids) == ["RightAfter"]
    job_queue.run_all()  # RightAfter, then what follows the group, once
    cycle.refresh_from_db()
    assert cycle.status == CycleStatus.COMPLETED
    assert AsyncJob.objects.filter(cycle=cycle, step="Second").count() == 1
    assert all(s["status"] == StepStatus.COMPLETED for s in cycle.steps)


def test_a_lane_whose_first_step_failed_goes_on(sides, job_queue, settings):
    settings.SWSTUDIO_WORKFLOW = [
        "tests.steps.LeftSide",
        "tests.steps.CrashingSide",
        "tests.steps.LeftAfter",
        "tests.steps.RightAfter",
        "tests.steps.Second",
        "tests.steps.Finalizer",
        "tests.steps.Enqueuer",
    ]
    cycle = start_cycle(Trigger.WATCHER)
    assert steps_of(job_queue.ids) == ["LeftSide", "CrashingSide"]
    job_queue.ids.reverse()  # the failing one ends first
    job_queue.run_next()
    assert steps_of(job_queue.ids) == ["LeftSide", "RightAfter"]
    job_queue.run_all()
    cycle.refresh_from_db()
    assert cycle.step("CrashingSide")["status"] == StepStatus.FAILED
    assert all(
        cycle.step(name)["status"] == StepStatus.COMPLETED
        for name in ("LeftSide", "LeftAfter", "RightAfter", "Second")
    )
    assert AsyncJob.objects.filter(cycle=cycle, step="Second").count() == 1
    assert cycle.status == CycleStatus.PARTIALLY_COMPLETED


def test_a_lane_without_its_first_step_starts_with_the_next(sides, job_queue, settings):
    settings.SWSTUDIO_WORKFLOW = LANES
    WorkflowOption.objects.create(step="RightSide", enabled=False)
    cycle = start_cycle(Trigger.WATCHER)
    job_queue.run_next()
    assert steps_of(job_queue.ids) == ["LeftSide", "RightAfter"]
    job_queue.run_all()
    cycle.refresh_from_db()
    assert cycle.status == CycleStatus.COMPLETED
    assert all(s["status"] == StepStatus.COMPLETED for s in cycle.steps)


@pytest.mark.parametrize("activity_sync, group", [(False, "persons"), (True, "")])
def test_the_match_steps_run_side_by_side_unless_activities_are_synced_the_clean_steps_always(
    admin_user, job_queue, settings, activity_sync, group
):
    settings.SWSTUDIO_WORKFLOW = settings.SWSTUDIO_DEFAULT_WORKFLOW
    options = StudioOptions.load()
    options.activity_sync = activity_sync
    options.save()
    control.turn_on(admin_user)
    cycle = start_cycle(Trigger.WATCHER)
    groups = {s["name"]: s.get("group", "") for s in cycle.steps}
    assert groups["MatchProspectsToLeads"] == groups["MatchProspectsToContacts"] == group
    # The Clean steps of Leads and Contacts side by side whatever the activity setting; each
    # in the lane of its side (after its Match step, when that is in the group).
    assert groups["CleanLeads"] == groups["CleanContacts"] == "persons"
    lanes = {s["name"]: s.get("lane", "") for s in cycle.steps if s.get("group")}
    assert lanes["CleanLeads"] == "lead" and lanes["CleanContacts"] == "contact"
    if group:
        assert lanes["MatchProspectsToLeads"] == "lead"
        assert lanes["MatchProspectsToContacts"] == "contact"
    assert {name for name, g in groups.items() if g} == {"CleanLeads", "CleanContacts"} | (
        {"MatchProspectsToLeads", "MatchProspectsToContacts"} if group else set()
    )


def test_when_a_step_of_a_group_dies_the_watcher_ends_the_other_with_the_cycle(
    sides, job_queue, settings
):
    from datetime import timedelta

    from django.utils import timezone

    from syncapp.engine.watcher import run_watcher

    cycle = start_cycle(Trigger.WATCHER)
    job_queue.run_next()
    left, right = (AsyncJob.objects.get(pk=i) for i in job_queue.ids)
    job_queue.ids.clear()
    long_ago = timezone.now() - timedelta(seconds=settings.SWSTUDIO_STALE_AFTER + 60)
    left.mark_processing(long_ago)  # its worker died
    left.save()
    right.mark_processing(timezone.now())  # still running on the other worker
    right.save()

    assert run_watcher()["stale"] == 1

    left.refresh_from_db()
    right.refresh_from_db()
    assert left.status == JobStatus.FAILED
    assert right.status == JobStatus.ABORTED
    assert "The cycle was aborted" in right.extended_status
    cycle.refresh_from_db()
    assert not cycle.is_in_progress  # Partially_Completed: Counting ran before
    assert cycle.step("LeftSide")["status"] == cycle.step("RightSide")["status"] == "Failed"
    # The survivor's end finds its job closed: it hands nothing off.
    from syncapp.engine.cycle import finish_step
    from syncapp.engine.steps.context import StepContext

    ctx = StepContext(job=right, cycle=cycle, options=StudioOptions.load(), batch_size=10)
    assert finish_step(right.pk, ctx) is None
    assert not AsyncJob.objects.filter(cycle=cycle, step="Second").exists()


def test_a_heartbeat_cancels_its_step_once_its_job_was_ended_elsewhere(sides, job_queue):
    import threading

    from syncapp.engine.cycle import Heartbeat
    from syncapp.engine.steps.context import StepContext

    cycle = start_cycle(Trigger.WATCHER)
    job = AsyncJob.objects.get(step="Counting")
    job.mark_processing(cycle.created_at)
    job.save()
    ctx = StepContext(job=job, cycle=cycle, options=StudioOptions.load(), batch_size=10)
    AsyncJob.objects.filter(pk=job.pk).update(status=JobStatus.ABORTED)
    beat = Heartbeat(job, ctx)
    beat.interval = 0.01
    beat._stop = threading.Event()
    beat._beat_once()
    assert ctx.cancelled.is_set()
