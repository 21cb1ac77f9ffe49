"""The two steps that close every cycle."""

from django.utils import timezone

from syncapp.engine import clients
from syncapp.engine.cycle import close_cycle
from syncapp.engine.steps import Step
from syncapp.models import StudioOptions, SWApexJob
from syncapp.models.statuses import StepStatus


def cycle_metrics(cycle):
    """Success and error figures of the steps that ran before the Finalizer."""
    steps = [s for s in cycle.steps if s.get("counts_toward_status", True)]
    return {
        "cycle": cycle.name,
        "trigger": cycle.trigger,
        "fullSync": cycle.full_sync,
        "steps": len(steps),
        "stepsFailed": sum(1 for s in steps if s["status"] == "Failed"),
        "stepsPartial": sum(1 for s in steps if s["status"] == "Partially_Completed"),
        "examined": sum(s["examined"] for s in steps),
        "modified": sum(s["modified"] for s in steps),
        "failed": sum(s["failed"] for s in steps),
    }


class Finalizer(Step):
    """Resets per-cycle state (a consumed Full Synchronization request) and collects metrics."""

    name = "Finalizer"
    counts_toward_status = False
    required = True

    def run(self, ctx):
        with ctx.batch() as batch:
            cycle = SWApexJob.objects.get(pk=ctx.cycle.pk)
            failed = [
                s["name"]
                for s in cycle.steps
                if s.get("counts_toward_status", True) and s["status"] == StepStatus.FAILED
            ]
            if cycle.full_sync and failed:
                # Not carried out: the next cycle is a Full Synchronization again (a backend
                # that failed GetProspects, an org out of API calls, ...).
                ctx.error(
                    f"The Full Synchronization stays requested: {', '.join(failed)} failed, so "
                    "the next cycle runs it again."
                )
            elif cycle.full_sync:
                with ctx.fenced():
                    StudioOptions.consume_full_sync(cycle.created_at, timezone.now())
                batch.modified += 1
            ctx.entry["metrics"] = cycle_metrics(cycle)
        # A batch of its own: a backend that cannot take the metrics fails this batch (the
        # Finalizer is Partially_Completed and says why), not the cycle's bookkeeping.
        with ctx.batch() as batch:
            self.send_metrics(ctx, ctx.entry["metrics"])
            batch.modified += 1

    def send_metrics(self, ctx, metrics):
        """Send the cycle's success and error figures to the SalesWings backend."""
        clients.saleswings().send_metrics(metrics)


class Enqueuer(Step):
    """Closes the cycle with its final status and schedules the Runner."""

    name = "Enqueuer"
    counts_toward_status = False
    required = True

    def run(self, ctx):
        close_cycle(ctx)
