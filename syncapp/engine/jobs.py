"""Job functions django-q2 runs, addressed by dotted path. Each takes ids and is safe to run
twice: it checks the sync generation and the job's status before doing anything."""

from syncapp.engine import cycle as cycle_engine
from syncapp.engine import watcher as watcher_engine
from syncapp.models.schedules import LIVENESS_NAME, RUNNER_NAME, WATCHER_NAME, ScheduleStats
from syncapp.models.statuses import Trigger


def watcher(generation=None, **_):
    ScheduleStats.record_firing(WATCHER_NAME)
    return watcher_engine.run_watcher(generation=generation)


def liveness(generation=None, **_):
    ScheduleStats.record_firing(LIVENESS_NAME)
    return watcher_engine.run_liveness(generation=generation)


def runner(generation=None, **_):
    ScheduleStats.record_firing(RUNNER_NAME)
    cycle = cycle_engine.start_cycle(Trigger.RUNNER, generation=generation)
    return cycle.pk if cycle else None


def run_step(job_id, **_):
    from syncapp.models import LoggerOptions

    # Logger Options edited on the Setup page reach this worker's loggers.
    LoggerOptions.apply_all()
    return cycle_engine.run_step(job_id)


def org_check(check_id, **_):
    """An org check asked for on the Setup page (`org_check.request`)."""
    from syncapp.engine import org_check as org_check_engine

    return org_check_engine.run_queued(check_id)
