from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from kontor.core.access import user_can
from kontor.core.permissions import Capability

# The modules in the navigation: (key, label, url name, capability needed or None).
MODULES = [
    ("customers", _("Customers"), "customers:person_list", Capability.CUSTOMERS_VIEW),
    ("activities", _("My day"), "activities:my_day", None),
    ("calendar", _("Calendar"), "activities:calendar", None),
    ("mail", _("E-mail"), "mail:inbox", None),
    ("sales", _("Sales"), "core:module_sales", Capability.SALES_EDIT),
    ("service", _("Service"), "core:module_service", Capability.SERVICE_EDIT),
    ("marketing", _("Marketing"), "core:module_marketing", Capability.MARKETING_EDIT),
    ("processes", _("Processes"), "processes:process_list", None),
    ("analytics", _("Analytics"), "core:module_analytics", Capability.ANALYTICS_VIEW),
    ("admin", _("Administration"), "core:admin_home", Capability.ADMIN_USERS),
]


def shell(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    path = request.path
    nav = []
    for key, label, url_name, capability in MODULES:
        if capability is not None and not user_can(user, capability):
            continue
        url = reverse(url_name)
        nav.append({"key": key, "label": label, "url": url, "active": path.startswith(url)})
    return {"nav_modules": nav}
