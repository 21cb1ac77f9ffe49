"""`kill -9` of the worker running a step, five times, with the real steps against the sandbox
(issue 7, item 4): each time the Watcher fails the stale job and the sync resumes; the next
cycle finishes the work and the org's records end equal to the backend's data."""

import os
import re
import signal
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from syncapp.engine import watcher
from syncapp.models import AsyncJob, SWApexJob, SyncState
from syncapp.models.statuses import CycleStatus, JobStatus, Trigger
from tests.integration.test_sync_sandbox import assert_org_matches_backend
from tests.scale.conftest import Deadline, fire_due_schedules, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.real_clients]

# Crashes in these steps, in this order: reading the backend, writing the org (Leads and
# Contacts, which run side by side on the two workers: both workers are killed), cleaning,
# aggregating. Five crashes in four cycles; every one restarts the sync from the top.
TARGETS = [
    ("GetProspects",),
    ("MatchProspectsToLeads", "MatchProspectsToContacts"),
    ("CleanLeads",),
    ("AggregateTags",),
]
STALE_AFTER = 2  # seconds without a heartbeat (the cluster beats every second)
WORKER = re.compile(r"Running in process (\d+) on ")


def test_kill_9_of_a_worker_mid_step_five_times_then_the_org_equals_the_backend(
    qcluster, sandbox_world, settings
):
    deadline = Deadline(240, "five crashes and the recovery")
    settings.SWSTUDIO_STALE_AFTER = STALE_AFTER
    cluster = qcluster(workers=2, extra_env=sandbox_world.env())
    # Each API call takes 250 ms more, so every step lasts long enough to be caught mid-way.
    sandbox_world.faults(latency_ms=250, sw_latency_ms=250)
    # The first cycle: the Runner, through django-q2's own scheduler.
    from syncapp.engine import scheduling

    scheduling.schedule_runner(SyncState.load().generation, 1)
    fire_due_schedules()

    crashed = []
    for targets in TARGETS:
        jobs = [
            wait_for(
                lambda target=target: AsyncJob.objects.filter(
                    step=target, status=JobStatus.PROCESSING
                ).first(),
                deadline.left,
                interval=0.02,
                message=f"{target} to run",
            )
            for target in targets
        ]
        time.sleep(0.05)  # into its first network call
        for job in jobs:
            pid = int(WORKER.match(job.extended_status).group(1))
            assert pid in cluster.processes(), (pid, cluster.processes())  # one of ours
            assert pid != cluster.proc.pid
            job.refresh_from_db()
            assert job.status == JobStatus.PROCESSING, "the step ended before it could be killed"
            os.kill(pid, signal.SIGKILL)
            crashed.append(job.pk)

        # No heartbeat any more: once it is stale, the Watcher fails the job and restarts.
        def stale(jobs=jobs):
            for job in jobs:
                job.refresh_from_db()
                assert job.status == JobStatus.PROCESSING, (job.status, job.extended_status)
            return all(
                job.last_heartbeat < timezone.now() - timedelta(seconds=STALE_AFTER + 0.5)
                for job in jobs
            )

        wait_for(stale, 30, message=f"{targets}' heartbeats to go stale")
        report = watcher.run_watcher()
        assert report["stale"] == len(jobs), report
        for job in jobs:
            job.refresh_from_db()
            assert job.status == JobStatus.FAILED and "stopped responding" in job.extended_status
        cycle = SWApexJob.objects.get(pk=jobs[0].cycle_id)
        assert not cycle.is_in_progress and "stopped responding" in cycle.note
        restarted = SWApexJob.objects.get(name=report["started"])
        assert restarted.trigger == Trigger.RESTART
        assert cluster.proc.poll() is None, cluster.log()

    # Faults off: the cycle the last Watcher started runs to the end and finishes the work.
    sandbox_world.faults(latency_ms=0, sw_latency_ms=0)

    def done():
        restarted.refresh_from_db()
        return not restarted.is_in_progress

    wait_for(done, deadline.left, interval=0.2, message="the cycle after the last crash")
    assert restarted.status == CycleStatus.COMPLETED, restarted.steps
    assert len(crashed) == 5
    assert AsyncJob.objects.filter(pk__in=crashed, status=JobStatus.FAILED).count() == 5
    assert not AsyncJob.objects.filter(status=JobStatus.PROCESSING).exists()
    assert_org_matches_backend()
