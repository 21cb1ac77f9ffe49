from .credentials import Credential
from .logs import LoggerOptions, LogLevel, PendingLogEntry
from .mirror import (
    Activity,
    ActivityType,
    CleanCandidate,
    FieldMapping,
    HeldRecord,
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
    WaitingActivity,
)
from .options import NotificationSetting, StudioOptions, WorkflowOption
from .org import OrgStatus
from .orgcheck import OrgCheck
from .runs import AsyncJob, SWApexJob
from .schedules import ScheduledJob, ScheduleStats
from .state import SyncState
from .statuses import CycleStatus, StepStatus, Trigger

__all__ = [
    "Activity",
    "ActivityType",
    "FieldMapping",
    "HeldRecord",
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
    "OrgCheck",
    "OrgStatus",
    "ScheduleStats",
    "ScheduledJob",
    "StepStatus",
    "StudioOptions",
    "SWApexJob",
    "SyncState",
    "Trigger",
    "WaitingActivity",
    "WorkflowOption",
]
