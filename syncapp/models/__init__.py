from .credentials import Credential
from .logs import LoggerOptions, LogLevel, PendingLogEntry
from .mirror import (
    Activity,
    ActivityType,
    CleanCandidate,
    FieldMapping,
    Lifecycle,
    MalformedItem,
    MappedObject,
    MatchScanHit,
    Prospect,
    RecordSnapshot,
    ScoreDefinition,
    SyncCursor,
    SyncStatus,
    TagDefinition,
)
from .options import NotificationSetting, StudioOptions, WorkflowOption
from .runs import AsyncJob, SWApexJob
from .schedules import ScheduledJob, ScheduleStats
from .state import SyncState
from .statuses import CycleStatus, StepStatus, Trigger

__all__ = [
    "Activity",
    "ActivityType",
    "FieldMapping",
    "Lifecycle",
    "LoggerOptions",
    "LogLevel",
    "MalformedItem",
    "MappedObject",
    "CleanCandidate",
    "MatchScanHit",
    "PendingLogEntry",
    "Prospect",
    "RecordSnapshot",
    "ScoreDefinition",
    "SyncCursor",
    "SyncStatus",
    "TagDefinition",
    "AsyncJob",
    "Credential",
    "CycleStatus",
    "NotificationSetting",
    "ScheduleStats",
    "ScheduledJob",
    "StepStatus",
    "StudioOptions",
    "SWApexJob",
    "SyncState",
    "Trigger",
    "WorkflowOption",
]
