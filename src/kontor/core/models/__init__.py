from .audit import AuditAction, AuditEntry
from .customfields import CustomField, CustomFieldType
from .jobs import BackgroundJob
from .lists import BulkJob, JobStatus, SavedView
from .records import OwnedRecord, VisibleQuerySet
from .search import SearchEntry
from .tokens import ApiToken, TokenScope
from .users import Role, Team, User

__all__ = [
    "ApiToken",
    "AuditAction",
    "AuditEntry",
    "BackgroundJob",
    "BulkJob",
    "CustomField",
    "CustomFieldType",
    "JobStatus",
    "OwnedRecord",
    "Role",
    "SavedView",
    "SearchEntry",
    "Team",
    "TokenScope",
    "User",
    "VisibleQuerySet",
]
