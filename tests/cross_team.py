"""The two-team scene of the visibility tests (loaded by tests/conftest.py): Nord's
rep is ``owner``, Süd's is ``outsider``. A record naming a customer of each team is
visible only to who may see both."""

import pytest

from tests.customers.factories import OrganizationFactory, PersonFactory, owned_by

HIDDEN_ORG_NAME = "Geheimwerk Süd AG"


@pytest.fixture
def nord_org(owner):
    return owned_by(OrganizationFactory, owner, name="Nordwerk GmbH")


@pytest.fixture
def sued_person(outsider, nord_org):
    """Süd's person at Nord's organization."""
    return owned_by(
        PersonFactory, outsider, first_name="Sven", last_name="Südlich", organization=nord_org
    )


@pytest.fixture
def hidden_org(outsider):
    """Süd's organization, hidden from Nord."""
    return owned_by(OrganizationFactory, outsider, name=HIDDEN_ORG_NAME)


@pytest.fixture
def nord_person(owner, hidden_org):
    """Nord's person at Süd's organization."""
    return owned_by(
        PersonFactory, owner, first_name="Nora", last_name="Nordlicht", organization=hidden_org
    )
