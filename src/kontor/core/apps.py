from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "kontor.core"
    label = "core"
    verbose_name = _("Core")

    def ready(self) -> None:
        from kontor.core.navigation import NavModule, register_nav_module
        from kontor.core.permissions import Capability as C

        # Core's own entries of the top bar. The domain apps add theirs (customers 10,
        # My day 20, calendar 30, e-mail 40, processes 80); sales, service, marketing
        # and analytics show a placeholder page until their app registers its module
        # under the same key, which replaces the placeholder.
        for key, label, capability, order in (
            ("sales", _("Sales"), C.SALES_EDIT, 50),
            ("service", _("Service"), C.SERVICE_EDIT, 60),
            ("marketing", _("Marketing"), C.MARKETING_EDIT, 70),
            ("analytics", _("Analytics"), C.ANALYTICS_VIEW, 90),
        ):
            register_nav_module(NavModule(key, label, f"core:module_{key}", capability, order))
        register_nav_module(
            NavModule("admin", _("Administration"), "core:admin_home", C.ADMIN_USERS, order=100)
        )
