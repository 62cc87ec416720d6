"""Customers' writes: one function per use case, transactional and audited.

Forms, views and API endpoints call these and hold no rule. By sub-domain: ``records``
(persons, organizations, contact roles, equipment), and further modules as they move here.
"""

from kontor.core.access import EditConflict
from kontor.customers.services.records import (
    contact_role_remove,
    contact_role_set,
    contact_roles_replace,
    equipment_create,
    equipment_delete,
    equipment_update,
    organization_create,
    organization_delete,
    organization_update,
    person_create,
    person_delete,
    person_update,
)

__all__ = [
    "EditConflict",
    "contact_role_remove",
    "contact_role_set",
    "contact_roles_replace",
    "equipment_create",
    "equipment_delete",
    "equipment_update",
    "organization_create",
    "organization_delete",
    "organization_update",
    "person_create",
    "person_delete",
    "person_update",
]
