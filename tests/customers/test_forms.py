"""The person and organization forms and the services behind them: every field
checked and normalised the same way in the UI and the API, psychographic data only
for roles that may see it, custom fields, customer numbers, nothing saved half."""

import importlib

import pytest
from django.apps import apps
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import translation

from kontor.core import audit
from kontor.core.models import CustomField
from kontor.customers import contact_data, services
from kontor.customers.forms import OrganizationForm, PersonForm
from kontor.customers.models import Organization, Person, Tag
from tests.customers.factories import OrganizationFactory, PersonFactory, owned_by

pytestmark = pytest.mark.django_db

EVIL = '<script>alert("x")</script>'
EVIL_ESCAPED = "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;"


def person_post(**values):
    data = {
        "salutation": "",
        "title": "",
        "first_name": "",
        "last_name": "Muster",
        "organization": "",
        "job_title": "",
        "department": "",
        "email": "",
        "email2": "",
        "phone": "",
        "mobile": "",
        "street": "",
        "postal_code": "",
        "city": "",
        "country": "DE",
        "birth_date": "",
        "language": "de",
        "preferred_channel": "",
        "gender": "",
        "household_size": "",
        "profession": "",
        "income_band": "",
        "version": "",
    }
    data.update(values)
    return data


def org_post(**values):
    data = {
        "name": "Muster GmbH",
        "legal_name": "",
        "kind": "business",
        "status": "prospect",
        "industry": "",
        "parent": "",
        "employees": "",
        "revenue_band": "",
        "street": "",
        "postal_code": "",
        "city": "",
        "country": "DE",
        "website": "",
        "phone": "",
        "email": "",
        "vat_id": "",
        "version": "",
    }
    data.update(values)
    return data


# --- Contact data ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("0221 1234567", "+492211234567"),
        ("+49 (221) 123 45 67", "+492211234567"),
        ("0049 221 1234567", "+492211234567"),
        ("0171/1234567", "+491711234567"),
        ("+43 1 5123456", "+4315123456"),
    ],
)
def test_phone_is_stored_in_e164(typed, stored):
    assert contact_data.phone_normalize(typed) == stored


def test_phone_is_shown_nationally_at_home_and_internationally_abroad():
    assert contact_data.phone_display("+492211234567") == "0221 1234567"
    assert contact_data.phone_display("+4315123456") == "+43 1 5123456"
    assert contact_data.phone_display("not a number") == "not a number"


def test_person_form_stores_phones_in_e164_and_shows_them_formatted(as_user, owner):
    client = as_user(owner)
    response = client.post(
        reverse("customers:person_create"),
        person_post(phone="0221 1234567", mobile="0171 1234567"),
    )
    person = Person.objects.get()
    assert response.status_code == 302
    assert (person.phone, person.mobile) == ("+492211234567", "+491711234567")
    detail = client.get(person.get_absolute_url())
    assert '<a href="tel:+492211234567">0221 1234567</a>' in detail.text
    edit = client.get(reverse("customers:person_edit", args=[person.uuid]))
    assert edit.context["form"]["phone"].value() == "0221 1234567"


def test_every_invalid_field_is_named_at_once_and_nothing_is_saved(as_user, owner):
    response = as_user(owner).post(
        reverse("customers:person_create"),
        person_post(phone="12", mobile="abc", email="not-an-address", postal_code="123"),
    )
    assert response.status_code == 422
    assert response.context["form"].errors == {
        "phone": ["Enter a valid phone number, e.g. 0221 123456 or +49 221 123456."],
        "mobile": ["Enter a valid phone number, e.g. 0221 123456 or +49 221 123456."],
        "email": ["Enter a valid email address."],
        "postal_code": ["A German postal code has five digits, e.g. 50667."],
    }
    assert not Person.objects.exists()


@pytest.mark.parametrize(
    ("country", "postal_code", "ok"),
    [
        ("DE", "50667", True),
        ("DE", "5066", False),
        ("DE", "50667a", False),
        ("AT", "1010", True),
        ("GB", "SW1A 1AA", True),
        ("NL", "1234 AB", True),
        ("AT", "<b>", False),
    ],
)
def test_postal_code_is_strict_for_germany_and_lenient_elsewhere(country, postal_code, ok):
    if ok:
        assert contact_data.postal_code_normalize(postal_code, country=country) == postal_code
    else:
        with pytest.raises(ValidationError):
            contact_data.postal_code_normalize(postal_code, country=country)


@pytest.mark.parametrize(
    ("typed", "stored"),
    [("DE 123 456 789", "DE123456789"), ("atu12345678", "ATU12345678"), ("", "")],
)
def test_vat_id_is_normalised(typed, stored):
    assert contact_data.vat_id_normalize(typed) == stored


@pytest.mark.parametrize("vat_id", ["DE12345678", "DE1234567890", "US123456789", "123456789"])
def test_invalid_vat_id_is_a_field_error_in_the_service(owner, vat_id):
    with pytest.raises(ValidationError) as exc:
        services.organization_create(actor=owner, data={"name": "Muster GmbH", "vat_id": vat_id})
    assert list(exc.value.message_dict) == ["vat_id"]
    assert not Organization.objects.exists()


def test_organization_form_saves_every_field(as_user, owner, team):
    parent = owned_by(OrganizationFactory, owner, name="Konzern AG")
    tag = Tag.objects.create(name="A-Kunde")
    response = as_user(owner).post(
        reverse("customers:organization_create"),
        org_post(
            name="Muster GmbH",
            legal_name="Muster Maschinenbau GmbH",
            kind="trade",
            status="customer",
            industry="Maschinenbau",
            parent=parent.pk,
            employees="120",
            revenue_band="10m-50m",
            street="Hauptstraße 5",
            postal_code="50667",
            city="Köln",
            phone="0221 1234567",
            email="info@muster.de",
            vat_id="de123456789",
            tags=[tag.pk],
        ),
    )
    org = Organization.objects.get(name="Muster GmbH")
    assert response.status_code == 302
    assert (
        org.legal_name,
        org.kind,
        org.status,
        org.parent,
        org.employees,
        org.revenue_band,
        org.postal_code,
        org.phone,
        org.vat_id,
        list(org.tags.all()),
        org.customer_number,
    ) == (
        "Muster Maschinenbau GmbH",
        "trade",
        "customer",
        parent,
        120,
        "10m-50m",
        "50667",
        "+492211234567",
        "DE123456789",
        [tag],
        f"K-{org.pk:07d}",
    )
    assert audit.entries_for(org).get().changes["tags"] == [None, ["A-Kunde"]]


def test_an_organization_cannot_be_its_own_ancestor(as_user, owner):
    top = owned_by(OrganizationFactory, owner, name="Top")
    sub = owned_by(OrganizationFactory, owner, name="Sub", parent=top)
    response = as_user(owner).post(
        reverse("customers:organization_edit", args=[top.uuid]),
        org_post(name="Top", parent=sub.pk, version=top.version),
    )
    assert response.status_code == 422
    assert response.context["form"].errors == {
        "parent": ["An organization cannot be placed below one of its subsidiaries."]
    }
    top.refresh_from_db()
    assert (top.parent, top.version) == (None, 1)


def test_customer_number_is_assigned_on_create(owner):
    org = services.organization_create(actor=owner, data={"name": "Muster GmbH"})
    assert org.customer_number == f"K-{org.pk:07d}"
    assert Organization.objects.get().customer_number == f"K-{org.pk:07d}"
    assert audit.entries_for(org).get().changes["customer_number"] == [None, org.customer_number]


def test_migration_numbers_existing_organizations_in_one_update(django_assert_num_queries):
    old = [OrganizationFactory(customer_number="") for _ in range(3)]
    kept = OrganizationFactory(customer_number="K-4711")
    migration = importlib.import_module("kontor.customers.migrations.0004_customer_numbers")
    with django_assert_num_queries(1):
        migration.assign(apps, None)
    numbers = dict(Organization.objects.values_list("pk", "customer_number"))
    assert numbers == {**{o.pk: f"K-{o.pk:07d}" for o in old}, kept.pk: "K-4711"}


# --- Names, salutations, titles ----------------------------------------------------------


def test_german_salutations_and_titles(as_user, owner):
    client = as_user(owner)
    client.post(
        reverse("customers:person_create"),
        person_post(salutation="ms", title="Prof. Dr.", first_name="Anna"),
    )
    person = Person.objects.get()
    assert (person.salutation, person.title, person.full_name) == (
        "ms",
        "Prof. Dr.",
        "Prof. Dr. Anna Muster",
    )
    assert (
        "<h1 hx-disable>Ms Prof. Dr. Anna Muster</h1>" in client.get(person.get_absolute_url()).text
    )
    with translation.override("de"):
        choices = {
            v: str(label) for v, label in PersonForm(user=owner).fields["salutation"].choices
        }
    assert choices == {"": "(keine)", "mr": "Herr", "ms": "Frau", "diverse": "Divers"}


def test_script_in_names_is_stored_as_text_and_escaped(as_user, owner):
    client = as_user(owner)
    client.post(reverse("customers:organization_create"), org_post(name=EVIL))
    org = Organization.objects.get()
    client.post(
        reverse("customers:person_create"),
        person_post(first_name=EVIL, last_name=EVIL, organization=org.pk),
    )
    person = Person.objects.get()
    assert (org.name, person.first_name, person.last_name) == (EVIL, EVIL, EVIL)
    for url in (
        person.get_absolute_url(),
        org.get_absolute_url(),
        reverse("customers:organization_section", args=[org.uuid, "buying_center"]),
        reverse("customers:person_section", args=[person.uuid, "buying_center"]),
    ):
        text = client.get(url).text
        assert EVIL not in text, url
        assert EVIL_ESCAPED in text, url


# --- Psychographic data ------------------------------------------------------------------


def test_psychographic_fields_are_in_the_form_only_for_roles_that_may_see_them(owner, agent):
    assert {"interests", "values", "attitudes", "preferences"} <= set(PersonForm(user=owner).fields)
    assert not {"interests", "values", "attitudes", "preferences"} & set(
        PersonForm(user=agent).fields
    )


def test_role_without_psychographic_access_cannot_write_them(as_user, owner, agent):
    person = owned_by(PersonFactory, owner, interests="Segeln")
    response = as_user(agent).post(
        reverse("customers:person_edit", args=[person.uuid]),
        person_post(last_name="Neu", interests="Golf", version=person.version),
    )
    assert response.status_code == 422
    assert response.context["form"].non_field_errors() == [
        "Your role may not change psychographic data."
    ]
    person.refresh_from_db()
    assert (person.last_name, person.interests, person.version) == (person.last_name, "Segeln", 1)
    with pytest.raises(PermissionDenied):
        services.person_update(person=person, actor=agent, data={"interests": "Golf"})
    person.refresh_from_db()
    assert person.interests == "Segeln"


def test_editing_without_psychographic_access_keeps_them(as_user, owner, agent):
    person = owned_by(PersonFactory, owner, last_name="Alt", interests="Segeln")
    response = as_user(agent).post(
        reverse("customers:person_edit", args=[person.uuid]),
        person_post(last_name="Neu", version=person.version),
    )
    assert response.status_code == 302
    person.refresh_from_db()
    assert (person.last_name, person.interests) == ("Neu", "Segeln")


def test_psychographic_data_is_shown_only_to_roles_that_may_see_it(as_user, owner, agent):
    person = owned_by(PersonFactory, owner, interests="Segeln auf dem Ijsselmeer")
    assert "Segeln auf dem Ijsselmeer" in as_user(owner).get(person.get_absolute_url()).text
    assert "Segeln auf dem Ijsselmeer" not in as_user(agent).get(person.get_absolute_url()).text


# --- Custom fields -----------------------------------------------------------------------


@pytest.fixture
def budget_field(db):
    return CustomField.objects.create(
        entity="customers.organization",
        key="budget",
        label="Budget",
        field_type="number",
        required=False,
    )


def test_custom_fields_are_in_the_form_and_saved_under_custom(as_user, owner, budget_field):
    client = as_user(owner)
    form = client.get(reverse("customers:organization_create")).context["form"]
    assert "cf_budget" in form.fields
    response = client.post(reverse("customers:organization_create"), org_post(cf_budget="5000"))
    org = Organization.objects.get()
    assert (response.status_code, org.custom) == (302, {"budget": 5000})
    edit = client.get(reverse("customers:organization_edit", args=[org.uuid]))
    assert edit.context["form"]["cf_budget"].value() == 5000


def test_invalid_custom_value_is_a_field_error_and_saves_nothing(as_user, owner, budget_field):
    response = as_user(owner).post(
        reverse("customers:organization_create"), org_post(cf_budget="viel", vat_id="DE1")
    )
    assert response.status_code == 422
    assert set(response.context["form"].errors) == {"cf_budget", "vat_id"}
    assert not Organization.objects.exists()


def test_service_names_custom_errors_by_key(owner, budget_field):
    with pytest.raises(ValidationError) as exc:
        services.organization_create(
            actor=owner, data={"name": "Muster GmbH", "custom": {"budget": "viel"}}
        )
    assert list(exc.value.message_dict) == ["custom.budget"]
    assert not Organization.objects.exists()


def test_conflict_shows_the_other_version_without_psychographic_fields(client, owner, agent):
    person = owned_by(PersonFactory, owner, last_name="Alt", interests="Segeln")
    services.person_update(person=person, actor=owner, data={"city": "Bonn"})
    client.force_login(agent)
    response = client.post(
        reverse("customers:person_edit", args=[person.uuid]),
        person_post(last_name="Neu", version=1),
    )
    assert response.status_code == 409
    labels = [str(label) for label, _value in response.context["conflict"]]
    assert "city" in labels
    assert "interests" not in labels
    assert "Segeln" not in response.text


def test_organization_form_offers_only_visible_parents(owner, outsider):
    mine = owned_by(OrganizationFactory, owner)
    owned_by(OrganizationFactory, outsider)
    form = OrganizationForm(user=owner)
    assert list(form.fields["parent"].queryset) == [mine]
