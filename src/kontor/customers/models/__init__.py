from .duplicates import (
    DuplicateKind,
    DuplicatePair,
    DuplicateScan,
    DuplicateStatus,
    MergeRecord,
    ScanStatus,
)
from .equipment import Equipment
from .links import BuyingRole, ContactRole
from .notes import NOTE_MAX_LENGTH, Note
from .organizations import CustomerKind, LifecycleStatus, Organization, RevenueBand
from .persons import PSYCHOGRAPHIC_FIELDS, Channel, Gender, IncomeBand, Person, Salutation
from .tags import Tag

__all__ = [
    "NOTE_MAX_LENGTH",
    "PSYCHOGRAPHIC_FIELDS",
    "BuyingRole",
    "Channel",
    "ContactRole",
    "CustomerKind",
    "DuplicateKind",
    "DuplicatePair",
    "DuplicateScan",
    "DuplicateStatus",
    "Equipment",
    "Gender",
    "IncomeBand",
    "LifecycleStatus",
    "MergeRecord",
    "Note",
    "Organization",
    "Person",
    "RevenueBand",
    "Salutation",
    "ScanStatus",
    "Tag",
]
