from .credentials import Credential
from .options import NotificationSetting, StudioOptions, WorkflowOption
from .runs import AsyncJob, CycleStatus, StepStatus, SWApexJob, Trigger
from .schedules import ScheduledJob, ScheduleStats
from .state import SyncState

__all__ = [
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
