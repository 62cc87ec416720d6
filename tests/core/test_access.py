"""The permission matrix: who sees which records, through one rule everywhere."""

import pytest
from django.http import Http404

from kontor.core.access import get_object_for_user, user_can
from kontor.core.models import Role
from kontor.core.permissions import Capability, RoleCode, Visibility
from kontor.customers.models import Person
from tests.core.factories import UserFactory
from tests.customers.factories import PersonFactory, owned_by

pytestmark = pytest.mark.django_db


def visible_names(user):
    return set(Person.objects.visible_to(user).values_list("last_name", flat=True))


def test_sales_rep_sees_own_and_team_records_but_not_other_teams(owner, teammate, outsider):
    # given
    owned_by(PersonFactory, owner, last_name="Owned")
    owned_by(PersonFactory, teammate, last_name="Teammates")
    owned_by(PersonFactory, outsider, last_name="Outsiders")
    # then
    assert visible_names(owner) == {"Owned", "Teammates"}
    assert visible_names(teammate) == {"Owned", "Teammates"}
    assert visible_names(outsider) == {"Outsiders"}


def test_admin_sees_everything(owner, outsider, admin):
    owned_by(PersonFactory, owner, last_name="Owned")
    owned_by(PersonFactory, outsider, last_name="Outsiders")
    assert visible_names(admin) == {"Owned", "Outsiders"}


def test_role_set_to_own_records_hides_team_records(owner, teammate):
    Role.objects.filter(code=RoleCode.SALES_REP).update(visibility=Visibility.OWN)
    owned_by(PersonFactory, owner, last_name="Owned")
    owned_by(PersonFactory, teammate, last_name="Teammates")
    owner.refresh_from_db()
    assert visible_names(owner) == {"Owned"}


def test_user_without_role_sees_only_own_records(team):
    loner = UserFactory(username="loner", role=None, teams=[team])
    owned_by(PersonFactory, loner, last_name="Mine")
    PersonFactory(last_name="Unowned", team=team)
    assert visible_names(loner) == {"Mine"}
    assert not user_can(loner, Capability.CUSTOMERS_VIEW)


def test_inactive_user_sees_nothing(owner):
    owned_by(PersonFactory, owner, last_name="Owned")
    owner.is_active = False
    assert visible_names(owner) == set()


def test_get_object_for_user_answers_404_for_what_one_may_not_see(owner, outsider):
    person = owned_by(PersonFactory, owner)
    assert get_object_for_user(Person, owner, uuid=person.uuid) == person
    with pytest.raises(Http404):
        get_object_for_user(Person, outsider, uuid=person.uuid)
    with pytest.raises(Http404):
        get_object_for_user(Person, owner, uuid="not-a-uuid")


@pytest.mark.parametrize(
    ("code", "capability", "expected"),
    [
        (RoleCode.ADMINISTRATOR, Capability.ADMIN_USERS, True),
        (RoleCode.SALES_MANAGER, Capability.ADMIN_USERS, False),
        (RoleCode.SALES_MANAGER, Capability.CUSTOMERS_DELETE, True),
        (RoleCode.SALES_REP, Capability.CUSTOMERS_EDIT, True),
        (RoleCode.SALES_REP, Capability.CUSTOMERS_DELETE, False),
        (RoleCode.SERVICE_AGENT, Capability.SERVICE_EDIT, True),
        (RoleCode.SERVICE_AGENT, Capability.SALES_EDIT, False),
        (RoleCode.MARKETING, Capability.MARKETING_EDIT, True),
        (RoleCode.MARKETING, Capability.CUSTOMERS_EDIT, False),
        (RoleCode.READ_ONLY, Capability.CUSTOMERS_VIEW, True),
        (RoleCode.READ_ONLY, Capability.CUSTOMERS_EDIT, False),
    ],
)
def test_default_permission_matrix(code, capability, expected):
    user = UserFactory(role=Role.objects.get(code=code))
    assert user_can(user, capability) is expected


def test_every_role_exists_with_a_visibility():
    assert set(Role.objects.values_list("code", flat=True)) == set(RoleCode.values)
