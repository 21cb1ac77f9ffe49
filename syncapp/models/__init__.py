from .credentials import Credential
from .logs import LoggerOptions, LogLevel, PendingLogEntry
from .mirror import (
    Activity,
    ActivityType,
    CleanCandidate,
    FieldMapping,
    Lifecycle,
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
from .runs import AsyncJob, CycleStatus, StepStatus, SWApexJob, Trigger
from .schedules import ScheduledJob, ScheduleStats
from .state import SyncState

__all__ = [
    "Activity",
    "ActivityType",
    "FieldMapping",
    "Lifecycle",
    "LoggerOptions",
    "LogLevel",
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
