import pytest

from kontor.core.models import Role
from kontor.core.permissions import RoleCode
from tests.core.factories import UserFactory


@pytest.fixture
def agent(team):
    """A service agent: sees and edits all customers, but not psychographic data."""
    return UserFactory(
        username="agent", role=Role.objects.get(code=RoleCode.SERVICE_AGENT), teams=[team]
    )


@pytest.fixture
def as_user(client):
    def login(user):
        client.force_login(user)
        return client

    return login
