"""Customer pages, one module per area; urls.py addresses them as views.<name>."""

from .lists import (
    bulk_action,
    bulk_job,
    bulk_job_cancel,
    bulk_job_retry,
    organization_list,
    person_list,
    saved_view_delete,
    saved_view_save,
)
from .records import (
    organization_delete,
    organization_detail,
    organization_edit,
    person_delete,
    person_detail,
    person_edit,
)

__all__ = [
    "bulk_action",
    "bulk_job",
    "bulk_job_cancel",
    "bulk_job_retry",
    "organization_delete",
    "organization_detail",
    "organization_edit",
    "organization_list",
    "person_delete",
    "person_detail",
    "person_edit",
    "person_list",
    "saved_view_delete",
    "saved_view_save",
]
