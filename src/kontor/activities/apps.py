from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ActivitiesConfig(AppConfig):
    name = "kontor.activities"
    label = "activities"
    verbose_name = _("Contact history and calendar")

    def ready(self) -> None:
        from kontor.core import hooks

        # The events the activities services emit (kontor.core.hooks).
        for event in ("task_done", "task_reopened", "trade_fair_captured", "appointment_created"):
            hooks.declare(event)
        from kontor.core.sections import (
            CustomerSection,
            register_customer_actions,
            register_customer_section,
        )

        register_customer_actions("activities/includes/customer_actions.html")
        register_customer_section(
            CustomerSection("contact-history", "activities/includes/customer_history.html", 10)
        )
        register_customer_section(
            CustomerSection("appointments", "activities/includes/customer_appointments.html", 20)
        )
        register_customer_section(
            CustomerSection("tasks", "activities/includes/customer_tasks.html", 30)
        )
        from kontor.core.navigation import NavModule, register_nav_module

        register_nav_module(NavModule("activities", _("My day"), "activities:my_day", order=20))
        register_nav_module(NavModule("calendar", _("Calendar"), "activities:calendar", order=30))
        from kontor.core.navigation import register_settings_link

        register_settings_link(_("Calendar subscription"), "activities:feed_settings")
