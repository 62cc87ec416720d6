"""Customer pages, one module per area; urls.py addresses them as views.<name>."""

from .records import (
    organization_delete,
    organization_detail,
    organization_edit,
    organization_list,
    person_delete,
    person_detail,
    person_edit,
    person_list,
)

__all__ = [
    "organization_delete",
    "organization_detail",
    "organization_edit",
    "organization_list",
    "person_delete",
    "person_detail",
    "person_edit",
    "person_list",
]
