from .activities import (
    ACTIVITY_TEXT_MAX_LENGTH,
    Activity,
    ActivityKind,
    ActivityQuerySet,
    Attachment,
    Direction,
)
from .appointments import Appointment, AppointmentStatus
from .feeds import CalendarFeed
from .tasks import Recurrence, Task, TaskPriority, TaskStatus

__all__ = [
    "ACTIVITY_TEXT_MAX_LENGTH",
    "Activity",
    "ActivityKind",
    "ActivityQuerySet",
    "Appointment",
    "AppointmentStatus",
    "Attachment",
    "CalendarFeed",
    "Direction",
    "Recurrence",
    "Task",
    "TaskPriority",
    "TaskStatus",
]
