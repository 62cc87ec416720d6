import pytest
from django.core.cache import caches
from django.utils import translation

from kontor.core.models import Role, Team
from kontor.core.permissions import RoleCode
from tests.core.factories import UserFactory


@pytest.fixture(autouse=True)
def _isolate(settings, tmp_path):
    # Media under a temp dir; the lock-out counter is tested on its own.
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.AXES_ENABLED = False
    # The API rate limit counts in local memory, which outlives a test: each test
    # starts with no requests counted.
    caches["ratelimit"].clear()
    # Messages outside a request come in the active language: English, as the
    # factories' users speak it, whatever an earlier test's request left active.
    with translation.override("en"):
        yield


def role(code: str) -> Role:
    return Role.objects.get(code=code)


@pytest.fixture
def team(db) -> Team:
    return Team.objects.create(name="Vertrieb Nord")


@pytest.fixture
def other_team(db) -> Team:
    return Team.objects.create(name="Vertrieb Süd")


@pytest.fixture
def owner(team):
    """A sales rep who owns records in their team."""
    return UserFactory(username="owner", role=role(RoleCode.SALES_REP), teams=[team])


@pytest.fixture
def teammate(team):
    return UserFactory(username="teammate", role=role(RoleCode.SALES_REP), teams=[team])


@pytest.fixture
def outsider(other_team):
    """A sales rep in another team."""
    return UserFactory(username="outsider", role=role(RoleCode.SALES_REP), teams=[other_team])


@pytest.fixture
def manager(team):
    """A sales manager in the team: sees every record, may delete."""
    return UserFactory(username="manager", role=role(RoleCode.SALES_MANAGER), teams=[team])


@pytest.fixture
def admin(db):
    return UserFactory(username="admin", role=role(RoleCode.ADMINISTRATOR))


@pytest.fixture
def readonly(team):
    return UserFactory(username="readonly", role=role(RoleCode.READ_ONLY), teams=[team])


pytest_plugins = ["tests.mailsink", "tests.openapi_conformance", "tests.cross_team"]
