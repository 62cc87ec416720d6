from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProcessesConfig(AppConfig):
    name = "kontor.processes"
    label = "processes"
    verbose_name = _("Customer processes")

    def ready(self) -> None:
        from kontor.core.sections import CustomerSection, register_customer_section

        register_customer_section(
            CustomerSection("processes", "processes/includes/customer_processes.html", 5)
        )
        from kontor.core.navigation import NavModule, register_nav_module

        register_nav_module(
            NavModule("processes", _("Processes"), "processes:process_list", order=80)
        )
        from kontor.processes import listeners

        # Our reactions to other apps' events: all in listeners.py.
        listeners.register()
        from kontor.core import hooks

        # The events the engine emits (kontor.core.hooks).
        for event in ("process_started", "process_step_entered", "process_ended"):
            hooks.declare(event)
