import factory
from django.utils.text import slugify

from kontor.core import search
from kontor.customers.models import Organization, Person


class IndexedFactory(factory.django.DjangoModelFactory):
    """Records in the search index, as the services keep them (the lists' quick
    filter goes through it). A test of records loaded past the services (the demo
    loader) uses ``Model.objects.create``/``bulk_create`` instead."""

    class Meta:
        abstract = True

    @classmethod
    def _after_postgeneration(cls, instance, create, results=None):
        super()._after_postgeneration(instance, create, results)
        if create:
            search.index(instance)


class OrganizationFactory(IndexedFactory):
    class Meta:
        model = Organization

    name = factory.Faker("company", locale="de_DE")
    city = factory.Faker("city", locale="de_DE")


class PersonFactory(IndexedFactory):
    class Meta:
        model = Person

    first_name = factory.Faker("first_name", locale="de_DE")
    last_name = factory.Faker("last_name", locale="de_DE")
    # A valid address whatever the name ("Müller", "von der Heide"): services run
    # full_clean() on every save, so an invalid factory value fails tests at random.
    email = factory.LazyAttribute(
        lambda p: f"{slugify(p.first_name) or 'x'}.{slugify(p.last_name) or 'x'}@example.de"
    )
    city = factory.Faker("city", locale="de_DE")


def owned_by(factory_class, user, **kwargs):
    """A record owned by ``user`` in the user's first team."""
    return factory_class(owner=user, team=user.teams.order_by("id").first(), **kwargs)
