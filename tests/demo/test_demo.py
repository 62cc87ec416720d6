from io import StringIO

import pytest
from django.core.management import call_command
from django.db.models import Q

from kontor.core.models import Team, User
from kontor.core.permissions import RoleCode
from kontor.customers.models import Organization, Person
from kontor.demo.data import DEMO_PASSWORD, DEMO_USERS, SIZES, ascii_slug, demo_logins, load_demo

pytestmark = pytest.mark.django_db


def demo(*args: str, **options) -> str:
    out = StringIO()
    call_command("demo", *args, stdout=out, **options)
    return out.getvalue()


def test_small_size_loads_users_and_customers():
    output = demo("--size", "small")
    assert f"password for all: {DEMO_PASSWORD}" in output
    assert Person.objects.count() == SIZES["small"]
    assert Organization.objects.count() == SIZES["small"] // 5
    # every role has a demo user, and the printed password logs in
    assert {u.role.code for u in User.objects.select_related("role")} == set(RoleCode.values)
    for username, role_label in demo_logins():
        assert f"{username:<12} {role_label}" in output
        assert User.objects.get(username=username).check_password(DEMO_PASSWORD)


def test_demo_user_logs_in_over_http(client):
    demo("--persons", "20")
    response = client.post(
        "/accounts/login/", {"username": "rep", "password": DEMO_PASSWORD}, follow=False
    )
    assert response.status_code == 302
    assert client.get("/customers/persons/").status_code == 200


def test_every_record_has_an_owner_in_their_team():
    demo("--persons", "300")
    for model in (Person, Organization):
        assert not model.objects.filter(Q(owner=None) | Q(team=None)).exists()
        for record in model.objects.select_related("owner", "team")[:200]:
            assert record.owner.teams.filter(pk=record.team_id).exists()
            assert record.owner.role.code in {
                RoleCode.SALES_REP,
                RoleCode.SALES_MANAGER,
                RoleCode.SERVICE_AGENT,
            }
            assert record.version == 1
            assert record.created_at <= record.updated_at


def test_records_are_plausible():
    demo("--persons", "300")
    uuids = set(Person.objects.values_list("uuid", flat=True))
    assert len(uuids) == 300
    assert all(u.version == 4 for u in uuids)
    person = Person.objects.filter(organization__isnull=False).first()
    assert person.last_name and person.first_name and person.city
    assert person.email.endswith(person.organization.email.split("@")[1])
    assert person.email.isascii()
    assert person.get_absolute_url().endswith(f"/{person.uuid}/")
    for org in Organization.objects.all()[:50]:
        org.full_clean()  # what the edit form would accept
    for p in Person.objects.all()[:50]:
        p.full_clean()


def test_loading_twice_adds_customers_and_keeps_users():
    demo("--persons", "50")
    demo("--persons", "50")
    assert User.objects.count() == len(DEMO_USERS)
    assert Team.objects.count() == 4
    assert Person.objects.count() == 100
    assert Organization.objects.count() == 20
    assert Person.objects.values("uuid").distinct().count() == 100


def test_same_seed_same_names():
    load_demo(persons=30, seed=7, progress=lambda _m: None)
    first = list(Person.objects.order_by("id").values_list("first_name", "last_name", "email"))
    Person.objects.all().delete()
    load_demo(persons=30, seed=7, progress=lambda _m: None)
    second = list(Person.objects.order_by("id").values_list("first_name", "last_name", "email"))
    assert first == second


def test_logins_only_loads_nothing():
    output = demo("--logins")
    assert "rep" in output
    assert not Person.objects.exists()


def test_ascii_slug():
    assert ascii_slug("Jürgen Groß-Weiß") == "juergengross-weiss"
    assert ascii_slug("Zoë") == "zoe"


def test_bulk_load_keeps_indexes_and_foreign_keys(monkeypatch):
    """Big PostgreSQL loads drop indexes and foreign keys and make them again."""
    from django.db import connection

    from kontor.demo import data

    def constraints():
        with connection.cursor() as cursor:
            return {
                model: connection.introspection.get_constraints(cursor, model._meta.db_table)
                for model in (Person, Organization)
            }

    before = constraints()
    monkeypatch.setattr(data, "REBUILD_INDEXES_FROM", 10)
    demo("--persons", "60")
    assert constraints() == before
    assert Person.objects.filter(organization__isnull=False).exists()
