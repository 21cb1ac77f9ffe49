import pytest
from django.utils import timezone
from django_q.models import Schedule

from syncapp.engine import control
from syncapp.engine.cycle import start_cycle
from syncapp.engine.steps import Step
from syncapp.models import AsyncJob, StudioOptions, SWApexJob, WorkflowOption
from syncapp.models.schedules import RUNNER_NAME
from syncapp.models.statuses import CycleStatus, JobStatus, JobType, StepStatus, Trigger
from tests.steps import BASIC

pytestmark = pytest.mark.django_db


@pytest.fixture
def sync_on(admin_user):
    control.turn_on(admin_user)
    return admin_user


def test_a_cycle_runs_every_step_as_its_own_job_and_schedules_the_runner(sync_on, job_queue):
    options = StudioOptions.load()
    options.sync_gap_minutes = 7
    options.save()
    cycle = start_cycle(Trigger.WATCHER)
    assert cycle.status == CycleStatus.QUEUED
    assert [s["status"] for s in cycle.steps] == [StepStatus.QUEUED] * 4

    assert job_queue.run_all() == 4

    cycle.refresh_from_db()
    assert cycle.status == CycleStatus.COMPLETED
    assert cycle.start_time <= cycle.end_time
    counting = cycle.step("Counting")
    assert counting["status"] == StepStatus.COMPLETED
    assert (counting["examined"], counting["modified"], counting["batches_total"]) == (30, 30, 3)
    classes = list(
        AsyncJob.objects.filter(cycle=cycle).order_by("id").values_list("class_name", flat=True)
    )
    assert classes == [
        "WorkflowSchedulable",
        "SWJobCounting",
        "SWJobSecond",
        "SWJobFinalizer",
        "SWJobEnqueuer",
    ]
    assert AsyncJob.objects.get(class_name="WorkflowSchedulable").job_type == JobType.SCHEDULED
    assert set(AsyncJob.objects.values_list("status", flat=True)) == {JobStatus.COMPLETED}
    runner = Schedule.objects.get(name=RUNNER_NAME)
    assert runner.schedule_type == Schedule.ONCE
    minutes = (runner.next_run - cycle.end_time).total_seconds() / 60
    assert 6.9 < minutes < 7.1


def test_only_one_cycle_at_a_time(sync_on, job_queue):
    first = start_cycle(Trigger.WATCHER)
    assert first is not None
    assert start_cycle(Trigger.RUNNER) is None
    assert SWApexJob.objects.count() == 1


def test_a_cycle_does_not_start_when_off_or_from_a_stale_generation(admin_user, job_queue):
    assert start_cycle(Trigger.RUNNER) is None
    control.turn_on(admin_user)
    assert start_cycle(Trigger.RUNNER, generation=0) is None
    assert start_cycle(Trigger.RUNNER, generation=1) is not None


def test_a_step_job_runs_once_even_if_delivered_twice(sync_on, job_queue):
    start_cycle(Trigger.WATCHER)
    job_id = job_queue.ids[0]
    job_queue.run_next()
    assert len(job_queue.ids) == 1
    from syncapp.engine.cycle import run_step

    assert run_step(job_id) is None  # already Completed: nothing happens
    assert len(job_queue.ids) == 1


def test_failures_are_recorded_and_the_cycle_goes_on(sync_on, job_queue, settings):
    settings.SWSTUDIO_WORKFLOW = [
        "tests.steps.Counting",
        "tests.steps.PartlyFailing",
        "tests.steps.Crashing",
        "tests.steps.Stopping",
        "tests.steps.Finalizer",
        "tests.steps.Enqueuer",
    ]
    cycle = start_cycle(Trigger.WATCHER)
    job_queue.run_all()
    cycle.refresh_from_db()

    partly = cycle.step("PartlyFailing")
    assert partly["status"] == StepStatus.PARTIALLY_COMPLETED
    assert (partly["batches_total"], partly["batches_failed"]) == (2, 1)
    assert (partly["examined"], partly["modified"], partly["failed"]) == (10, 4, 1)
    assert any("FIELD_CUSTOM_VALIDATION_EXCEPTION" in e for e in partly["errors"])
    assert any("backend answered 500" in e for e in partly["errors"])

    crashing = cycle.step("Crashing")
    assert crashing["status"] == StepStatus.FAILED
    assert crashing["errors"] == ["ValueError: irrecoverable"]
    assert AsyncJob.objects.get(class_name="SWJobCrashing").status == JobStatus.FAILED

    stopping = cycle.step("Stopping")
    assert stopping["status"] == StepStatus.PARTIALLY_COMPLETED
    assert "REQUEST_LIMIT_EXCEEDED" in stopping["errors"][0]

    assert cycle.status == CycleStatus.PARTIALLY_COMPLETED
    assert Schedule.objects.filter(name=RUNNER_NAME).exists()


def test_a_cycle_whose_data_steps_all_fail_is_failed(sync_on, job_queue, settings):
    settings.SWSTUDIO_WORKFLOW = [
        "tests.steps.Crashing",
        "tests.steps.Finalizer",
        "tests.steps.Enqueuer",
    ]
    cycle = start_cycle(Trigger.WATCHER)
    job_queue.run_all()
    cycle.refresh_from_db()
    assert cycle.status == CycleStatus.FAILED


def test_the_plan_follows_workflow_options(sync_on, job_queue):
    WorkflowOption.objects.create(step="Second", enabled=False)
    WorkflowOption.objects.create(step="Counting", batch_size=50)
    # Saved before the form refused it: the steps every cycle needs run all the same.
    WorkflowOption.objects.create(step="Enqueuer", enabled=False)
    cycle = start_cycle(Trigger.WATCHER)
    assert [s["name"] for s in cycle.steps] == ["Counting", "Finalizer", "Enqueuer"]
    assert cycle.step("Counting")["batch_size"] == 50


def test_a_workflow_option_without_a_batch_size_plans_the_steps_default(
    sync_on, job_queue, monkeypatch
):
    from tests.steps import Counting

    monkeypatch.setattr(Counting, "default_batch_size", 700)  # as GetProspects has 5,000
    WorkflowOption.objects.create(step="Counting", enabled=True)
    cycle = start_cycle(Trigger.WATCHER)
    assert cycle.step("Counting")["batch_size"] == 700


def test_an_enqueuer_that_fails_leaves_no_completed_cycle(sync_on, job_queue, monkeypatch):
    """The Enqueuer could not schedule the Runner (a Sync Gap past what a date holds did
    that once): the cycle is not Completed, and its note says what happens next."""
    from syncapp.engine import scheduling

    def overflow(*args, **kwargs):
        raise OverflowError("date value out of range")

    monkeypatch.setattr(scheduling, "schedule_runner", overflow)
    cycle = start_cycle(Trigger.WATCHER)
    job_queue.run_all()
    cycle.refresh_from_db()
    assert cycle.step("Counting")["status"] == StepStatus.COMPLETED
    assert cycle.step("Enqueuer")["status"] == StepStatus.FAILED
    assert cycle.status == CycleStatus.PARTIALLY_COMPLETED
    assert "Enqueuer failed, so no Runner was scheduled" in cycle.note
    assert not Schedule.objects.filter(name=RUNNER_NAME).exists()


def test_full_synchronization_is_cleared_by_the_finalizer(sync_on, job_queue):
    options = StudioOptions.load()
    options.full_sync_requested = True
    options.full_sync_requested_at = timezone.now()
    options.save()
    cycle = start_cycle(Trigger.WATCHER)
    assert cycle.full_sync
    job_queue.run_all()
    options.refresh_from_db()
    assert options.full_sync_requested is False
    assert options.full_sync_consumed_at is not None
    cycle.refresh_from_db()
    assert cycle.step("Finalizer")["metrics"]["examined"] == 60


def test_a_full_synchronization_whose_steps_failed_stays_requested(sync_on, job_queue, settings):
    """A backend that failed GetProspects (or an org out of API calls) did not carry the Full
    Synchronization out: the request stays for the next cycle, and the Finalizer says so."""
    settings.SWSTUDIO_WORKFLOW = [
        "tests.steps.Counting",
        "tests.steps.Crashing",
        "tests.steps.Finalizer",
        "tests.steps.Enqueuer",
    ]
    options = StudioOptions.load()
    options.full_sync_requested = True
    options.full_sync_requested_at = timezone.now()
    options.save()
    cycle = start_cycle(Trigger.WATCHER)
    job_queue.run_all()
    options.refresh_from_db()
    assert (options.full_sync_requested, options.full_sync_consumed_at) == (True, None)
    cycle.refresh_from_db()
    assert cycle.status == CycleStatus.PARTIALLY_COMPLETED
    (message,) = cycle.step("Finalizer")["errors"]
    assert message == (
        "The Full Synchronization stays requested: Crashing failed, so the next cycle runs it "
        "again."
    )
    settings.SWSTUDIO_WORKFLOW = BASIC
    cycle = start_cycle(Trigger.RUNNER)
    assert cycle.full_sync
    job_queue.run_all()
    assert StudioOptions.load().full_sync_requested is False


def test_a_full_sync_requested_during_the_cycle_waits_for_the_next(sync_on, job_queue):
    options = StudioOptions.load()
    options.full_sync_requested = True
    options.full_sync_requested_at = timezone.now()
    options.save()
    start_cycle(Trigger.WATCHER)
    job_queue.run_next()
    StudioOptions.objects.filter(pk=1).update(full_sync_requested_at=timezone.now())
    job_queue.run_all()
    assert StudioOptions.load().full_sync_requested is True


def test_a_failed_preflight_records_why_and_retries_after_the_gap(sync_on, job_queue, settings):
    settings.SWSTUDIO_PREFLIGHT = ["tests.engine.test_cycle.below_reserve"]
    cycle = start_cycle(Trigger.RUNNER)
    assert cycle.status == CycleStatus.FAILED
    assert "below the reserve" in cycle.note
    assert job_queue.ids == []
    assert Schedule.objects.filter(name=RUNNER_NAME).exists()


def below_reserve():
    return "the org has 12 daily API calls left, below the reserve of 1000"


class RetriedCalls(Step):
    """Two clients that each met transient failures (as SalesforceClient counts them)."""

    name = "RetriedCalls"

    def run(self, ctx):
        from syncapp.engine import clients

        clients.salesforce().transient.update({"HTTP_503": 2, "UNABLE_TO_LOCK_ROW": 1})
        clients.salesforce().transient.update({"HTTP_503": 1})


def test_a_steps_run_record_counts_the_transient_failures_its_clients_retried(
    sync_on, job_queue, settings, monkeypatch
):
    from collections import Counter
    from types import SimpleNamespace

    from syncapp.engine import clients

    settings.SWSTUDIO_WORKFLOW = ["tests.engine.test_cycle.RetriedCalls", *BASIC]
    monkeypatch.setattr(
        clients,
        "salesforce",
        lambda: clients._track(SimpleNamespace(transient=Counter(), calls=2), "salesforce"),
    )
    cycle = start_cycle(Trigger.RUNNER)
    job_queue.run_all()
    cycle.refresh_from_db()
    assert cycle.step("RetriedCalls")["transient_errors"] == {
        "HTTP_503": 3,
        "UNABLE_TO_LOCK_ROW": 1,
    }
    assert cycle.step("Counting")["transient_errors"] == {}
    # And their calls: two clients of two calls each.
    assert cycle.step("RetriedCalls")["api_calls"] == {"salesforce": 4, "saleswings": 0}
    assert cycle.api_calls() == {"salesforce": 4, "saleswings": 0}
