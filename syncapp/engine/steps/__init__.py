"""The step contract and the workflow registry.

A step is a class with a `name` (its async job's class name is `SWJob<name>`) and a `run(ctx)`
method (`ctx`: a `StepContext`, see `context.py`). It works in batches: each
`with ctx.batch() as batch:` block is one batch whose exception is captured (the batch counts
as failed, its message is kept) so the step goes on. An exception outside a batch, or
`StopStep`, ends the step.

The workflow is the list of step classes in settings.SWSTUDIO_WORKFLOW, in order.
"""

from functools import cache

from django.conf import settings
from django.utils.module_loading import import_string

from syncapp.errors import StopStep
from syncapp.models.statuses import JobType

__all__ = ["Cancelled", "Step", "StopStep", "get_step", "plan", "workflow"]


class Cancelled(Exception):  # noqa: N818
    """The sync was turned off or restarted while the step ran."""


class Step:
    name = ""
    job_type = JobType.QUEUEABLE
    default_batch_size = 200
    # The wrap-up steps (Finalizer, Enqueuer) do bookkeeping; a cycle whose data steps all
    # failed is Failed even though its bookkeeping worked.
    counts_toward_status = True
    # Steps every cycle needs (the Finalizer, the Enqueuer that closes the cycle and schedules
    # the next): a Workflow Option cannot turn them off.
    required = False
    # Steps next to each other in a cycle's plan with the same group run side by side, each
    # its own async job (on as many workers as are free); the step after them is queued when
    # the last of them ends. Empty: the step runs alone. Decided when the cycle is planned
    # (`group`), kept in its step entries.
    parallel_group = ""
    # Within a group, steps of the same lane run one after the other in plan order, and each
    # lane goes at its own pace: the next step of a lane is queued when the one before it in
    # that lane ends (e.g. CleanLeads once MatchProspectsToLeads ends, whatever the Contacts
    # side is doing). Empty: the step is a lane of its own.
    lane = ""

    @property
    def class_name(self):
        return f"SWJob{self.name}"

    def applies(self, options):
        """Whether the step belongs in a cycle with these Studio Options."""
        return True

    def group(self, options):
        """The parallel group the step runs in under these Studio Options ("": alone)."""
        return self.parallel_group

    def run(self, ctx):
        raise NotImplementedError


@cache
def _workflow(paths):
    steps = [import_string(path)() for path in paths]
    names = [s.name for s in steps]
    if len(set(names)) != len(names):
        raise ValueError(f"SWSTUDIO_WORKFLOW names a step twice: {names}")
    return steps


def workflow():
    """Every step the product knows, in order."""
    return _workflow(tuple(settings.SWSTUDIO_WORKFLOW))


def get_step(name):
    for step in workflow():
        if step.name == name:
            return step
    raise KeyError(f"No workflow step named {name!r}")


def plan(options, workflow_options):
    """The steps a cycle starting now runs, each with its batch size.

    `workflow_options` maps step name to its WorkflowOption (missing: enabled; no batch size: the
    step's own default).
    """
    planned = []
    for step in workflow():
        opt = workflow_options.get(step.name)
        if opt is not None and not opt.enabled and not step.required:
            continue
        if not step.applies(options):
            continue
        planned.append((step, (opt and opt.batch_size) or step.default_batch_size))
    return planned
