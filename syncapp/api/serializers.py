"""The shapes the API speaks, for the OpenAPI schema and for reading input.

The status JSON itself is built by `syncapp.api.status` (the `syncstatus` command prints
the same thing); these serializers describe it for drf-spectacular, and
tests/api/test_schema.py checks real responses against the generated schema so the two
cannot drift apart.
"""

from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from rest_framework import serializers

from syncapp.models.statuses import CycleStatus, JobStatus, JobType, Trigger

# --- input ---------------------------------------------------------------------------------

TRUE_VALUES = {"true", "1"}
FALSE_VALUES = {"false", "0"}


def parse_flag(value):
    """`true`/`false` in any case, or `1`/`0`. Anything else is None (the caller says 400).

    Stricter than DRF's BooleanField, which also takes yes/on/t: a typo must not restart
    the sync with force.
    """
    lowered = value.lower()
    if lowered in TRUE_VALUES:
        return True
    if lowered in FALSE_VALUES:
        return False
    return None


# --- output --------------------------------------------------------------------------------


class EmptyOr(serializers.Field):
    """`{}` when there is nothing, else the object `serializer_class` describes."""

    def __init__(self, serializer_class, **kwargs):
        self.serializer_class = serializer_class
        kwargs.setdefault("read_only", True)
        super().__init__(**kwargs)

    def to_representation(self, value):
        return self.serializer_class(value).data if value else {}


class EmptyOrExtension(OpenApiSerializerFieldExtension):
    target_class = "syncapp.api.serializers.EmptyOr"

    def map_serializer_field(self, auto_schema, direction):
        component = auto_schema.resolve_serializer(self.target.serializer_class, direction)
        return {"oneOf": [{"type": "object", "maxProperties": 0}, component.ref]}


class QueuedJobSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    apexClass = serializers.CharField(help_text="SWJob<Step>, WorkflowSchedulable, ...")
    jobType = serializers.ChoiceField(choices=JobType.choices)
    status = serializers.ChoiceField(choices=JobStatus.choices)
    createdDate = serializers.DateTimeField()


class AsyncQueuedSerializer(serializers.Serializer):
    count = serializers.IntegerField(
        help_text="How many jobs are Holding, Queued, Preparing or Processing."
    )
    jobs = QueuedJobSerializer(many=True, help_text="The oldest of them, at most 50.")


class ScheduledJobSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    state = serializers.ChoiceField(choices=["WAITING", "COMPLETE"])
    nextFireTime = serializers.DateTimeField(allow_null=True)
    previousFireTime = serializers.DateTimeField(allow_null=True)
    timesTriggered = serializers.IntegerField()


class ApiCallsSerializer(serializers.Serializer):
    salesforce = serializers.IntegerField()
    saleswings = serializers.IntegerField()


class StepSerializer(serializers.Serializer):
    name = serializers.CharField()
    apexClass = serializers.CharField()
    status = serializers.ChoiceField(choices=CycleStatus.choices)
    startTime = serializers.DateTimeField(allow_null=True)
    endTime = serializers.DateTimeField(allow_null=True)
    batchesTotal = serializers.IntegerField()
    batchesFailed = serializers.IntegerField()
    recordsExamined = serializers.IntegerField()
    recordsModified = serializers.IntegerField()
    recordsFailed = serializers.IntegerField()
    recordsSkipped = serializers.IntegerField(
        help_text="Passed over, no failure (an activity of a prospect the backend deleted)."
    )
    apiCalls = ApiCallsSerializer(help_text="API calls the step sent, each attempt counted.")
    errors = serializers.ListField(child=serializers.CharField())


class CycleSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField(help_text="SAJ-000042")
    status = serializers.ChoiceField(choices=CycleStatus.choices)
    trigger = serializers.ChoiceField(choices=Trigger.choices)
    fullSync = serializers.BooleanField()
    startTime = serializers.DateTimeField(allow_null=True)
    endTime = serializers.DateTimeField(allow_null=True)
    note = serializers.CharField(allow_blank=True)
    abortedAt = serializers.DateTimeField(
        allow_null=True, help_text="When turning the sync off or restarting it cut the cycle."
    )
    abortedBy = serializers.CharField(allow_blank=True, help_text="Who did; may be empty.")
    apiCalls = ApiCallsSerializer(help_text="The steps' API calls, summed.")
    steps = StepSerializer(many=True)


class SyncStatusSerializer(serializers.Serializer):
    syncEnabled = serializers.BooleanField()
    asyncQueued = EmptyOr(AsyncQueuedSerializer, help_text="`{}` when no job is active.")
    scheduledRunner = EmptyOr(
        ScheduledJobSerializer, help_text="`SalesWings Studio : Runner`; `{}` when none."
    )
    scheduledWatcher = EmptyOr(
        ScheduledJobSerializer, help_text="`SalesWings Studio : Watcher`; `{}` when off."
    )
    lastExecution = EmptyOr(CycleSerializer, help_text="The newest SW Apex Job; `{}` if none.")
    workerSilentSince = serializers.DateTimeField(
        allow_null=True,
        help_text="When a worker last answered, if none has for too long (the running step's "
        "heartbeat is stale, or nothing runs and the Watcher has not run); `null` while "
        "workers answer or the sync is off.",
    )


class ErrorDetailSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Stable, for programs: e.g. `sync_running`.")
    message = serializers.CharField(help_text="For people.")
    status = SyncStatusSerializer(required=False, help_text="412 only: the sync status.")
    retryAfter = serializers.IntegerField(required=False, help_text="429 only: seconds.")
    parameter = serializers.CharField(
        required=False, help_text="The query parameter at fault, when there is one."
    )
    fields = serializers.DictField(required=False, help_text="400 validation errors only.")


class ErrorSerializer(serializers.Serializer):
    error = ErrorDetailSerializer()
