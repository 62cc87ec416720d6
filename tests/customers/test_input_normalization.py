"""Text as typed is stored as it is meant: NFC, names without invisible format
characters (bidi overrides, zero-width spaces, BOM, soft hyphen); a name of only
spaces or invisible characters is missing; countries are ISO 3166 codes, languages
known codes, birth dates between 1900 and today. The forms and the API refuse the same
input with the same message at the same field; the search finds a name whatever
Unicode form it was stored or typed in."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from kontor.core import search
from kontor.core.search import tokens
from kontor.customers.models import Organization, Person
from tests.core.test_api import assert_problem, post_json, writer
from tests.customers.factories import OrganizationFactory, PersonFactory, owned_by
from tests.customers.test_api import INVALID, patch_json
from tests.customers.test_forms import org_post, person_post

pytestmark = pytest.mark.django_db

REQUIRED = "This field is required."
COUNTRY = "Enter a country as its ISO 3166 code, e.g. DE, AT or CH."
LANGUAGE = "Enter a language as its code, e.g. de, en or fr."
FUTURE = "A birth date cannot lie in the future."
TOO_EARLY = "Enter a birth date from 1900 on."
TOMORROW = (timezone.localdate() + datetime.timedelta(days=1)).isoformat()

# (field, value, message) refused for a person.
PERSON_REFUSED = [
    ("last_name", "   ", REQUIRED),
    ("last_name", "\u200b\ufeff", REQUIRED),
    ("last_name", " \u202e\u2066\u00ad ", REQUIRED),
    ("country", "zz", COUNTRY),
    ("country", "XK", COUNTRY),
    ("language", "klingon", LANGUAGE),
    ("birth_date", "9999-12-31", FUTURE),
    ("birth_date", TOMORROW, FUTURE),
    ("birth_date", "1899-12-31", TOO_EARLY),
]
# (field, typed, stored) for a person.
PERSON_CLEANED = [
    ("last_name", "\u202eMüller", "Müller"),
    ("last_name", "Mu\u0308ller", "Müller"),
    ("last_name", "\ufeffMül\u200bler\u200d", "Müller"),
    ("last_name", "  Mül\u00adler ", "Müller"),
    ("first_name", "\u2067Anna\u2069", "Anna"),
    ("title", "Dr.\u200b", "Dr."),
    ("city", "Ko\u0308ln", "Köln"),
    ("country", "at", "AT"),
    ("language", "EN", "en"),
    ("birth_date", "1900-01-01", datetime.date(1900, 1, 1)),
]


def form_errors(client, url, data) -> dict:
    response = client.post(url, data)
    assert response.status_code == 422
    return response.context["form"].errors


def api_problem(client, user, value_field, value, url="/api/v1/persons", base=None):
    body = dict(base or {"last_name": "Muster"}, **{value_field: value})
    return post_json(client, url, body, **writer(user))


# --- Refused ----------------------------------------------------------------------------


@pytest.mark.parametrize(("field", "value", "message"), PERSON_REFUSED)
def test_the_person_form_refuses(as_user, owner, field, value, message):
    errors = form_errors(
        as_user(owner), reverse("customers:person_create"), person_post(**{field: value})
    )
    assert errors == {field: [message]}
    assert not Person.objects.exists()


@pytest.mark.parametrize(("field", "value", "message"), PERSON_REFUSED)
def test_the_api_refuses_a_new_person(client, owner, field, value, message):
    response = api_problem(client, owner, field, value)
    assert_problem(response, 422, *INVALID, errors=[{"field": field, "message": message}])
    assert not Person.objects.exists()


@pytest.mark.parametrize(("field", "value", "message"), PERSON_REFUSED)
def test_the_api_refuses_a_change_of_a_person(client, owner, field, value, message):
    person = owned_by(PersonFactory, owner, last_name="Muster")
    response = patch_json(
        client,
        f"/api/v1/persons/{person.uuid}",
        {field: value, "version": person.version},
        **writer(owner),
    )
    assert_problem(response, 422, *INVALID, errors=[{"field": field, "message": message}])
    person.refresh_from_db()
    assert (person.last_name, person.version) == ("Muster", 1)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [("name", " \u200b ", REQUIRED), ("name", "\u202e", REQUIRED), ("country", "zz", COUNTRY)],
)
def test_organizations_are_refused_alike_in_form_and_api(
    as_user, client, owner, field, value, message
):
    errors = form_errors(
        as_user(owner), reverse("customers:organization_create"), org_post(**{field: value})
    )
    assert errors == {field: [message]}
    response = api_problem(
        client, owner, field, value, url="/api/v1/organizations", base={"name": "Muster GmbH"}
    )
    assert_problem(response, 422, *INVALID, errors=[{"field": field, "message": message}])
    assert not Organization.objects.exists()


def test_the_messages_are_translated_in_form_and_api(as_user, client, owner):
    owner.language = "de"
    owner.save(update_fields=["language"])
    errors = form_errors(
        as_user(owner),
        reverse("customers:person_create"),
        person_post(last_name="\u200b", country="zz", language="klingon", birth_date="9999-01-01"),
    )
    german = {
        "last_name": ["Dieses Feld ist zwingend erforderlich."],
        "country": ["Geben Sie das Land als ISO-3166-Code an, z. B. DE, AT oder CH."],
        "language": ["Geben Sie die Sprache als Code an, z. B. de, en oder fr."],
        "birth_date": ["Ein Geburtsdatum kann nicht in der Zukunft liegen."],
    }
    assert errors == german
    response = api_problem(client, owner, "country", "zz")
    assert response.json()["errors"] == [{"field": "country", "message": german["country"][0]}]
    response = api_problem(client, owner, "last_name", "\u200b")
    assert response.json()["errors"] == [{"field": "last_name", "message": german["last_name"][0]}]


# --- Cleaned ----------------------------------------------------------------------------


@pytest.mark.parametrize(("field", "typed", "stored"), PERSON_CLEANED)
def test_the_person_form_stores_clean_text(as_user, owner, field, typed, stored):
    response = as_user(owner).post(
        reverse("customers:person_create"), person_post(**{field: typed})
    )
    assert response.status_code == 302
    assert getattr(Person.objects.get(), field) == stored


@pytest.mark.parametrize(("field", "typed", "stored"), PERSON_CLEANED)
def test_the_api_stores_clean_text(client, owner, field, typed, stored):
    response = api_problem(client, owner, field, typed)
    assert response.status_code == 201
    assert getattr(Person.objects.get(), field) == stored


def test_the_api_stores_clean_organization_names(client, owner):
    response = post_json(
        client,
        "/api/v1/organizations",
        {"name": "\u202eMu\u0308ller GmbH\u200b", "legal_name": "\ufeffMüller"},
        **writer(owner),
    )
    assert response.status_code == 201
    org = Organization.objects.get()
    assert (org.name, org.legal_name) == ("Müller GmbH", "Müller")


def test_joiners_stay_where_a_script_needs_them(client, owner):
    persian = "می\u200cخواهم"
    response = api_problem(client, owner, "last_name", persian)
    assert response.status_code == 201
    assert Person.objects.get().last_name == persian


# --- Search -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("stored", "typed"),
    [("Mu\u0308ller", "Müller"), ("Müller", "Mu\u0308ller"), ("Mül\u200bler", "Müller")],
)
def test_a_name_is_found_whatever_its_unicode_form(owner, stored, typed):
    # Stored past the services (older data, an import): the index normalises too.
    person = owned_by(PersonFactory, owner, first_name="Hans", last_name=stored)
    results = search.search(user=owner, q=typed, kinds=["person"])
    assert [hit.uuid for group in results.groups for hit in group.hits] == [person.uuid]


def test_an_organization_stored_decomposed_is_found(owner):
    org = owned_by(OrganizationFactory, owner, name="Mu\u0308ller GmbH")
    results = search.search(user=owner, q="Müller", kinds=["organization"])
    assert [hit.uuid for group in results.groups for hit in group.hits] == [org.uuid]


def test_the_sort_key_of_a_name_stored_with_invisible_characters_is_the_plain_name():
    assert tokens.sort_key("Mül\u200bler, Hans") == tokens.sort_key("Mu\u0308ller, Hans")
    assert tokens.sort_key("Mu\u0308ller, Hans") == "mueller hans"


def test_an_unknown_country_is_its_own_error_not_the_phones(as_user, client, owner):
    errors = form_errors(
        as_user(owner),
        reverse("customers:person_create"),
        person_post(country="zz", phone="0221 1234567"),
    )
    assert errors == {"country": [COUNTRY]}
    response = api_problem(
        client, owner, "country", "zz", base={"last_name": "M", "phone": "0221 1234567"}
    )
    assert response.json()["errors"] == [{"field": "country", "message": COUNTRY}]
