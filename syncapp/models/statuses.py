"""The product's status vocabularies and the rules that derive one status from others."""

from django.db import models


class CycleStatus(models.TextChoices):
    QUEUED = "Queued"
    PROCESSING = "Processing"
    FAILED = "Failed"
    PARTIALLY_COMPLETED = "Partially_Completed"
    COMPLETED = "Completed"


# Steps share the cycle's five statuses.
StepStatus = CycleStatus


class Trigger(models.TextChoices):
    WATCHER = "Watcher"
    RUNNER = "Runner"
    RESTART = "Restart"
    MANUAL = "Manual"


class JobType(models.TextChoices):
    SCHEDULED = "ScheduledApex", "Scheduled Apex"
    QUEUEABLE = "Queueable"
    BATCH = "BatchApex", "Batch Apex"


class JobStatus(models.TextChoices):
    """Salesforce's AsyncApexJob statuses."""

    HOLDING = "Holding"
    QUEUED = "Queued"
    PREPARING = "Preparing"
    PROCESSING = "Processing"
    ABORTED = "Aborted"
    COMPLETED = "Completed"
    FAILED = "Failed"


ACTIVE_JOB_STATUSES = (
    JobStatus.HOLDING,
    JobStatus.QUEUED,
    JobStatus.PREPARING,
    JobStatus.PROCESSING,
)
FINAL_STEP_STATUSES = (StepStatus.FAILED, StepStatus.PARTIALLY_COMPLETED, StepStatus.COMPLETED)


def step_status(*, crashed, batches_total, batches_failed, records_failed):
    """A finished step's status.

    Failed: an irrecoverable error, or every batch failed. Partially_Completed: some batches
    (or records within them) failed. Completed: no error at all.
    """
    if crashed or (batches_total and batches_failed >= batches_total):
        return StepStatus.FAILED
    if batches_failed or records_failed:
        return StepStatus.PARTIALLY_COMPLETED
    return StepStatus.COMPLETED


def cycle_status(step_statuses):
    """A finished cycle's status from its steps' final statuses.

    Completed when every step completed, Failed when every step failed, otherwise
    Partially_Completed. A cycle with no steps at all has nothing that failed: Completed.
    """
    statuses = list(step_statuses)
    if all(s == StepStatus.COMPLETED for s in statuses):
        return CycleStatus.COMPLETED
    if all(s == StepStatus.FAILED for s in statuses):
        return CycleStatus.FAILED
    return CycleStatus.PARTIALLY_COMPLETED
