from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MailConfig(AppConfig):
    name = "kontor.mail"
    label = "mail"
    verbose_name = _("E-mail")

    def ready(self) -> None:
        from kontor.core import hooks

        hooks.declare("mail_queued")  # emitted by mail.services.outgoing.mail_send
        from kontor.core.sections import register_customer_actions

        register_customer_actions("mail/includes/customer_actions.html")
        from kontor.core.navigation import NavModule, register_nav_module

        register_nav_module(NavModule("mail", _("E-mail"), "mail:inbox", order=40))
