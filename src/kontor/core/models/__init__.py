from .audit import AuditAction, AuditEntry
from .records import OwnedRecord, VisibleQuerySet
from .tokens import ApiToken, TokenScope
from .users import Role, Team, User

__all__ = [
    "ApiToken",
    "AuditAction",
    "AuditEntry",
    "OwnedRecord",
    "Role",
    "Team",
    "TokenScope",
    "User",
    "VisibleQuerySet",
]
