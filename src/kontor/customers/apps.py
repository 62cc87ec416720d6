from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CustomersConfig(AppConfig):
    name = "kontor.customers"
    label = "customers"
    verbose_name = _("Customers")

    def ready(self) -> None:
        # Core knows persons and organizations only through what is registered here.
        from kontor.core import customfields, search
        from kontor.core.access import register_customer_kind
        from kontor.core.navigation import NavModule, register_nav_module
        from kontor.core.permissions import Capability
        from kontor.customers import queries

        # core.access.customer_get finds persons and organizations through these.
        register_customer_kind("person", queries.person_get)
        register_customer_kind("organization", queries.organization_get)
        search.register_kind(
            search.Kind(
                "person",
                "customers.Person",
                _("Persons"),
                "customers:person_detail",
                related=("organization",),
                related_fields=("organization__name",),  # what Person.search_document() reads
                follows=("organization", "organization"),
                hits_for_user=queries.person_search_hits,
                fields=(
                    *("title", "first_name", "last_name", "organization", "city", "job_title"),
                    *("department", "email", "email2", "phone", "mobile", "custom"),
                ),
            )
        )
        search.register_kind(
            search.Kind(
                "organization",
                "customers.Organization",
                _("Organizations"),
                "customers:organization_detail",
                fields=(
                    *("name", "legal_name", "city", "industry", "email", "phone"),
                    *("customer_number", "custom"),
                ),
            )
        )
        customfields.register_entity("customers.person", _("Persons"))
        customfields.register_entity("customers.organization", _("Organizations"))
        register_nav_module(
            NavModule(
                "customers",
                _("Customers"),
                "customers:person_list",
                Capability.CUSTOMERS_VIEW,
                order=10,
            )
        )
