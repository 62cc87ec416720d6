import copy
from collections import Counter
from io import StringIO

import phonenumbers
import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models import Count, F, Q

from kontor.core import search
from kontor.core.models import CustomField, SearchEntry, Team, User
from kontor.core.permissions import RoleCode
from kontor.customers import duplicates
from kontor.customers.models import (
    BuyingRole,
    ContactRole,
    Equipment,
    Note,
    Organization,
    Person,
    Tag,
)
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
    numbers = list(Organization.objects.values_list("customer_number", flat=True))
    assert len(set(numbers)) == 20 and "" not in numbers
    assert ContactRole.objects.count() == Person.objects.filter(organization__isnull=False).count()
    assert SearchEntry.objects.count() == 120
    assert Tag.objects.count() == 10


def test_same_seed_same_names():
    load_demo(persons=30, seed=7, progress=lambda _m: None)
    first = list(Person.objects.order_by("id").values_list("first_name", "last_name", "email"))
    if connection.vendor == "postgresql":
        # The loader checks foreign keys row by row (SET CONSTRAINTS ALL IMMEDIATE) for the
        # rest of its transaction; a cascading delete across activities and tasks needs
        # Django's usual deferred checks, as it has outside of a load.
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
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


# --- Customer features ---------------------------------------------------------------------


@pytest.fixture
def small_demo():
    load_demo(size="small", progress=lambda _m: None)


def is_e164(number: str) -> bool:
    return (
        number.startswith("+49")
        and number[1:].isdigit()
        and phonenumbers.is_valid_number(phonenumbers.parse(number))
    )


def test_customer_numbers_are_set_and_unique(small_demo):
    numbers = list(Organization.objects.values_list("customer_number", flat=True))
    assert len(numbers) == SIZES["small"] // 5
    assert len(set(numbers)) == len(numbers)
    org = Organization.objects.order_by("pk").first()
    assert org.customer_number == f"K-{org.pk:07d}"
    assert Organization.objects.exclude(parent=None).exists()


def test_every_contact_person_has_a_contact_role_with_one_decider_per_organization(small_demo):
    with_org = Person.objects.filter(organization__isnull=False)
    assert ContactRole.objects.count() == with_org.count()
    assert not with_org.exclude(contact_roles__organization_id=F("organization_id")).exists()
    role = ContactRole.objects.select_related("person").exclude(job_title="").first()
    assert (role.job_title, role.department) == (role.person.job_title, role.person.department)
    assert role.department
    links = ContactRole.objects.values_list("organization_id", "buying_roles")
    deciders = Counter(org for org, roles in links if BuyingRole.DECIDER in roles)
    staffed = set(with_org.values_list("organization_id", flat=True))
    assert deciders == Counter(staffed)  # exactly one per organization with contacts
    used = {r for _org, roles in links for r in roles}
    assert used >= {"decider", "influencer", "buyer", "user", "gatekeeper"}
    assert used <= set(BuyingRole.values)


def test_phones_are_valid_e164(small_demo):
    for phone, mobile in Person.objects.values_list("phone", "mobile"):
        assert is_e164(phone), phone
        assert mobile == "" or is_e164(mobile), mobile
    assert Person.objects.exclude(mobile="").exists()
    for (phone,) in Organization.objects.values_list("phone"):
        assert is_e164(phone), phone


def test_match_keys_are_what_the_services_derive(small_demo):
    for model, keys in (
        (Person, duplicates.PERSON_KEYS),
        (Organization, duplicates.ORGANIZATION_KEYS),
    ):
        for record in model.objects.order_by("pk")[:100]:
            derived = copy.copy(record)
            duplicates.derive_keys(derived)
            assert [getattr(record, k) for k in keys] == [getattr(derived, k) for k in keys]
            assert record.name_key and record.phonetic_key and record.phone_key


def test_deliberate_near_duplicates_are_found(small_demo):
    admin = User.objects.get(username="admin")
    twins = (
        Person.objects.values("email_key")
        .annotate(n=Count("id"))
        .filter(n=2)
        .values_list("email_key", flat=True)
    )
    assert len(twins) >= 5
    folded = Person.objects.filter(email_key__in=list(twins), last_name__contains="ue").first()
    assert folded is not None  # "Mueller" beside "Müller"
    found = duplicates.candidates(user=admin, record=folded)
    twin = Person.objects.exclude(pk=folded.pk).get(email_key=folded.email_key)
    assert twin.last_name != folded.last_name
    assert found[0].record == twin
    assert "email" in found[0].reasons


def test_search_finds_a_demo_person_by_name(small_demo):
    admin = User.objects.get(username="admin")
    person = Person.objects.order_by("pk")[500]
    results = search.search(user=admin, q=f"{person.first_name} {person.last_name}", limit=50)
    hits = {hit.uuid for group in results.groups for hit in group.hits}
    assert person.uuid in hits
    assert SearchEntry.objects.count() == SIZES["small"] + SIZES["small"] // 5


def test_tags_equipment_notes_and_custom_fields(small_demo):
    assert Tag.objects.count() == 10
    tagged = Person.objects.filter(tags__isnull=False).distinct().count()
    assert 0.1 * SIZES["small"] < tagged < 0.35 * SIZES["small"]
    assert Organization.objects.filter(tags__isnull=False).exists()
    assert Equipment.objects.exists()
    assert not Equipment.objects.exclude(organization__kind="business").exists()
    note = Note.objects.first()
    assert note is not None and note.html.startswith("<") and "<script" not in note.html
    assert set(CustomField.objects.values_list("key", flat=True)) == {
        "newsletter_topics",
        "contact_time",
        "erp_number",
    }
    assert Person.objects.filter(custom__has_key="newsletter_topics").exists()
    org = Organization.objects.filter(custom__has_key="erp_number").first()
    assert org.custom == {"erp_number": f"ERP-{org.pk}"}
