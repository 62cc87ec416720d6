from .audit import AuditAction, AuditEntry
from .customfields import CustomField, CustomFieldType
from .ratelimit import RateCounter
from .records import OwnedRecord, VisibleQuerySet
from .tokens import ApiToken, TokenScope
from .users import Role, Team, User

__all__ = [
    "ApiToken",
    "AuditAction",
    "AuditEntry",
    "CustomField",
    "CustomFieldType",
    "OwnedRecord",
    "RateCounter",
    "Role",
    "Team",
    "TokenScope",
    "User",
    "VisibleQuerySet",
]
