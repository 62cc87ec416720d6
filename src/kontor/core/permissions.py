"""The capabilities a role can grant, and the default permission matrix.

A capability is a plain string such as ``customers.edit``. The defaults below are
written into the Role rows by a migration; administrators change them on the
permission page (Administration → Roles). Code asks ``user_can(user, "customers.edit")``
(core.access) and never looks at role names.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Capability(models.TextChoices):
    CUSTOMERS_VIEW = "customers.view", _("See customers")
    CUSTOMERS_EDIT = "customers.edit", _("Create and edit customers")
    CUSTOMERS_DELETE = "customers.delete", _("Delete customers")
    CUSTOMERS_EXPORT = "customers.export", _("Export customers")
    CUSTOMERS_PSYCHOGRAPHIC = "customers.psychographic", _("See psychographic data")
    ACTIVITIES_EDIT = "activities.edit", _("Log activities and tasks")
    SALES_EDIT = "sales.edit", _("Work on opportunities, offers and orders")
    SERVICE_EDIT = "service.edit", _("Work on complaints and requests")
    MARKETING_EDIT = "marketing.edit", _("Run campaigns and segments")
    MAIL_MANAGE = "mail.manage", _("Manage mailboxes and shared e-mail templates")
    PROCESSES_MANAGE = "processes.manage", _("Define customer processes")
    ANALYTICS_VIEW = "analytics.view", _("See analyses and dashboards")
    AUDIT_VIEW = "audit.view", _("See the audit trail")
    API_TOKENS = "api.tokens", _("Create API tokens")
    ADMIN_USERS = "admin.users", _("Manage users, teams and roles")


class RoleCode(models.TextChoices):
    ADMINISTRATOR = "administrator", _("Administrator")
    SALES_MANAGER = "sales_manager", _("Sales manager")
    SALES_REP = "sales_rep", _("Sales rep")
    SERVICE_AGENT = "service_agent", _("Service agent")
    MARKETING = "marketing", _("Marketing")
    READ_ONLY = "read_only", _("Read-only")


class Visibility(models.TextChoices):
    OWN = "own", _("Own records")
    TEAM = "team", _("Own and team records")
    ALL = "all", _("All records")


C = Capability
ALL_CAPABILITIES = [c.value for c in Capability]
# Capabilities that only let a user look: a role with nothing beyond them reads only.
READ_CAPABILITIES = frozenset(
    {
        C.CUSTOMERS_VIEW,
        C.CUSTOMERS_EXPORT,
        C.CUSTOMERS_PSYCHOGRAPHIC,
        C.ANALYTICS_VIEW,
        C.AUDIT_VIEW,
    }
)

DEFAULT_ROLES: dict[str, dict] = {
    RoleCode.ADMINISTRATOR: {"visibility": Visibility.ALL, "capabilities": ALL_CAPABILITIES},
    RoleCode.SALES_MANAGER: {
        "visibility": Visibility.ALL,
        "capabilities": [c.value for c in Capability if c != C.ADMIN_USERS],
    },
    RoleCode.SALES_REP: {
        "visibility": Visibility.TEAM,
        "capabilities": [
            C.CUSTOMERS_VIEW,
            C.CUSTOMERS_EDIT,
            C.CUSTOMERS_EXPORT,
            C.CUSTOMERS_PSYCHOGRAPHIC,
            C.ACTIVITIES_EDIT,
            C.SALES_EDIT,
            C.API_TOKENS,
        ],
    },
    RoleCode.SERVICE_AGENT: {
        "visibility": Visibility.ALL,
        "capabilities": [
            C.CUSTOMERS_VIEW,
            C.CUSTOMERS_EDIT,
            C.ACTIVITIES_EDIT,
            C.SERVICE_EDIT,
        ],
    },
    RoleCode.MARKETING: {
        "visibility": Visibility.ALL,
        "capabilities": [
            C.CUSTOMERS_VIEW,
            C.CUSTOMERS_EXPORT,
            C.CUSTOMERS_PSYCHOGRAPHIC,
            C.ACTIVITIES_EDIT,
            C.MARKETING_EDIT,
            C.ANALYTICS_VIEW,
            C.API_TOKENS,
        ],
    },
    RoleCode.READ_ONLY: {"visibility": Visibility.TEAM, "capabilities": [C.CUSTOMERS_VIEW]},
}
