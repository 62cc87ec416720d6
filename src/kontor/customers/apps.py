from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CustomersConfig(AppConfig):
    name = "kontor.customers"
    label = "customers"
    verbose_name = _("Customers")

    def ready(self) -> None:
        # Core's customer_get finds persons and organizations through these.
        from kontor.core.access import register_customer_kind
        from kontor.customers import queries

        register_customer_kind("person", queries.person_get)
        register_customer_kind("organization", queries.organization_get)
