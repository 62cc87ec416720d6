"""The customers endpoints: what each persona may read and change, optimistic
locking, validation, and the queries a list or a record costs."""

import json

import pytest

from kontor.core import audit
from kontor.core.models import AuditEntry, CustomField
from kontor.customers.models import Organization, Person, Tag
from tests.core.test_api import assert_problem, post_json, reader, writer
from tests.customers.factories import OrganizationFactory, PersonFactory, owned_by

pytestmark = pytest.mark.django_db

NOT_FOUND = ("Not found", "No such record, or you may not see it.")
FORBIDDEN = ("Forbidden", "Your role does not allow this.")
INVALID = ("Invalid input", "Some fields are not valid.")


def patch_json(client, url, data, **headers):
    return client.patch(url, data=json.dumps(data), content_type="application/json", **headers)


# --- Reading ---------------------------------------------------------------------------


def test_list_shows_what_the_user_may_see_in_name_order(client, owner, teammate, outsider):
    owned_by(PersonFactory, owner, last_name="Bauer", first_name="Anna")
    owned_by(PersonFactory, teammate, last_name="Albers", first_name="Ben")
    owned_by(PersonFactory, outsider, last_name="Outsider")
    body = client.get("/api/v1/persons", **reader(owner)).json()
    assert [(p["last_name"], p["owner"]) for p in body["items"]] == [
        ("Albers", "teammate"),
        ("Bauer", "owner"),
    ]
    assert body["next_cursor"] is None
    assert client.get("/api/v1/persons", **reader(outsider)).json()["items"][0]["last_name"] == (
        "Outsider"
    )


def test_list_filters_by_name_start(client, owner):
    # Fixed names and cities: q matches every indexed field, and random ones may start "mus".
    owned_by(PersonFactory, owner, first_name="Anna", last_name="Muster", city="Köln")
    owned_by(PersonFactory, owner, first_name="Berta", last_name="Schmidt", city="Bonn")
    body = client.get("/api/v1/persons", {"q": " mus "}, **reader(owner)).json()
    assert [p["last_name"] for p in body["items"]] == ["Muster"]


def test_one_person_with_its_organization(client, owner):
    org = owned_by(OrganizationFactory, owner, name="Muster GmbH")
    person = owned_by(PersonFactory, owner, last_name="Muster", organization=org)
    body = client.get(f"/api/v1/persons/{person.uuid}", **reader(owner)).json()
    assert (body["uuid"], body["organization"], body["owner"], body["version"]) == (
        str(person.uuid),
        str(org.uuid),
        "owner",
        1,
    )


def test_a_record_without_owner_is_served_with_owner_null(client, admin):
    person = PersonFactory(last_name="Orphan")
    body = client.get(f"/api/v1/persons/{person.uuid}", **reader(admin)).json()
    assert body["owner"] is None


@pytest.mark.parametrize("path", ["persons", "organizations"])
def test_invisible_and_unknown_records_are_the_same_404(client, owner, outsider, path):
    factory = PersonFactory if path == "persons" else OrganizationFactory
    record = owned_by(factory, owner)
    headers = reader(outsider)
    invisible = client.get(f"/api/v1/{path}/{record.uuid}", **headers)
    unknown = client.get(f"/api/v1/{path}/00000000-0000-0000-0000-000000000000", **headers)
    assert_problem(invisible, 404, *NOT_FOUND)
    assert_problem(unknown, 404, *NOT_FOUND)


@pytest.mark.parametrize("method", ["get", "patch", "delete"])
def test_malformed_uuid_in_the_path_is_a_404_not_a_500(client, admin, method):
    response = getattr(client, method)("/api/v1/persons/not-a-uuid", **writer(admin))
    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"


def test_role_without_view_capability_cannot_list(client, team):
    from tests.core.factories import UserFactory

    nobody = UserFactory(username="nobody", role=None, teams=[team])
    assert_problem(client.get("/api/v1/persons", **reader(nobody)), 403, *FORBIDDEN)


def test_organizations_list_and_filter(client, owner, outsider):
    owned_by(OrganizationFactory, owner, name="Muster GmbH", city="Köln")
    owned_by(OrganizationFactory, owner, name="Beispiel AG", city="Bonn")
    owned_by(OrganizationFactory, outsider, name="Fremd KG")
    headers = reader(owner)
    names = [o["name"] for o in client.get("/api/v1/organizations", **headers).json()["items"]]
    assert names == ["Beispiel AG", "Muster GmbH"]
    by_city = client.get("/api/v1/organizations", {"q": "köln"}, **headers).json()["items"]
    assert [o["name"] for o in by_city] == ["Muster GmbH"]


def test_organizations_page_with_cursor(client, owner):
    for name in ["A", "B", "C"]:
        owned_by(OrganizationFactory, owner, name=name)
    headers = reader(owner)
    first = client.get("/api/v1/organizations?limit=2", **headers).json()
    rest = client.get(
        "/api/v1/organizations", {"limit": 2, "cursor": first["next_cursor"]}, **headers
    ).json()
    assert [o["name"] for o in first["items"] + rest["items"]] == ["A", "B", "C"]
    assert rest["next_cursor"] is None


# --- Queries ---------------------------------------------------------------------------


# Per request: the token (1; the rate limit counts in the cache), then the reader's
# team ids (1), the rows with their organization and owner joined (1), their tags (1)
# and the custom field definitions (1). A warm-up request first: last_used_at is then
# already fresh, as for a script paging a list.
AUTH_QUERIES = 1
READ_QUERIES = AUTH_QUERIES + 4


@pytest.mark.parametrize("rows", [5, 30])
def test_person_list_costs_the_same_queries_at_any_size(
    client, owner, rows, django_assert_num_queries
):
    org = owned_by(OrganizationFactory, owner)
    for _ in range(rows):
        owned_by(PersonFactory, owner, organization=org)
    headers = reader(owner)
    client.get("/api/v1/me", **headers)
    with django_assert_num_queries(READ_QUERIES):
        body = client.get("/api/v1/persons", **headers).json()
    assert len(body["items"]) == rows


@pytest.mark.parametrize("rows", [5, 30])
def test_organization_list_costs_the_same_queries_at_any_size(
    client, owner, rows, django_assert_num_queries
):
    for _ in range(rows):
        owned_by(OrganizationFactory, owner)
    headers = reader(owner)
    client.get("/api/v1/me", **headers)
    with django_assert_num_queries(READ_QUERIES):
        body = client.get("/api/v1/organizations", **headers).json()
    assert len(body["items"]) == rows


def test_one_person_costs_a_fixed_number_of_queries(client, owner, django_assert_num_queries):
    org = owned_by(OrganizationFactory, owner)
    person = owned_by(PersonFactory, owner, organization=org)
    headers = reader(owner)
    client.get("/api/v1/me", **headers)
    with django_assert_num_queries(READ_QUERIES):
        body = client.get(f"/api/v1/persons/{person.uuid}", **headers).json()
    assert body["organization"] == str(org.uuid)


# --- Creating --------------------------------------------------------------------------


def test_create_person_is_owned_by_the_actor_in_their_team_and_audited(client, owner, team):
    org = owned_by(OrganizationFactory, owner)
    body = {"last_name": "Muster", "first_name": "Max", "organization": str(org.uuid)}
    response = post_json(client, "/api/v1/persons", body, **writer(owner))
    assert response.status_code == 201
    person = Person.objects.get()
    assert (person.last_name, person.owner, person.team, person.organization) == (
        "Muster",
        owner,
        team,
        org,
    )
    assert response.json()["uuid"] == str(person.uuid)
    entry = audit.entries_for(person).get()
    assert (entry.action, entry.actor, entry.via) == ("create", owner, "api")


def test_create_organization(client, owner):
    body = {"name": "Muster GmbH", "kind": "trade", "city": "Köln"}
    response = post_json(client, "/api/v1/organizations", body, **writer(owner))
    assert response.status_code == 201
    org = Organization.objects.get()
    assert (org.name, org.kind, org.city, org.owner) == ("Muster GmbH", "trade", "Köln", owner)


def test_create_with_an_invisible_organization_is_404_and_creates_nothing(client, owner, outsider):
    org = owned_by(OrganizationFactory, outsider)
    body = {"last_name": "Muster", "organization": str(org.uuid)}
    response = post_json(client, "/api/v1/persons", body, **writer(owner))
    assert_problem(response, 404, *NOT_FOUND)
    assert not Person.objects.exists()


def test_read_only_role_cannot_create(client, readonly):
    body = {"name": "Muster GmbH"}
    response = post_json(client, "/api/v1/organizations", body, **writer(readonly))
    assert_problem(response, 403, *FORBIDDEN)
    assert not Organization.objects.exists()


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        (
            {"last_name": ""},
            [{"field": "last_name", "message": "This field is required."}],
        ),
        (
            {"last_name": "x" * 101},
            [{"field": "last_name", "message": "Enter at most 100 characters."}],
        ),
        ({"last_name": None}, [{"field": "last_name", "message": "Enter text."}]),
        ({"last_name": "Muster", "email": None}, [{"field": "email", "message": "Enter text."}]),
        (
            {"last_name": "Muster", "salutation": "king"},
            [{"field": "salutation", "message": "Value 'king' is not a valid choice."}],
        ),
        (
            {"last_name": "Muster", "birth_date": "31.02.2020"},
            [{"field": "birth_date", "message": "Enter a valid date."}],
        ),
        (
            {"last_name": "Muster", "organization": "nope"},
            [{"field": "organization", "message": "Enter a valid UUID."}],
        ),
        (
            {"last_name": "Mus\x00ter"},
            [{"field": "last_name", "message": "Null characters are not allowed."}],
        ),
        (
            {"last_name": "Muster", "owner": "admin"},
            [{"field": "owner", "message": "Unknown field."}],
        ),
    ],
)
def test_invalid_person_is_a_422_naming_the_field_and_saves_nothing(client, owner, body, errors):
    response = post_json(client, "/api/v1/persons", body, **writer(owner))
    assert_problem(response, 422, *INVALID, errors=errors)
    assert not Person.objects.exists()


def test_body_that_is_not_an_object_is_a_422(client, owner):
    response = post_json(client, "/api/v1/persons", ["Muster"], **writer(owner))
    assert response.status_code == 422
    assert not Person.objects.exists()


# --- Changing --------------------------------------------------------------------------


def test_patch_changes_only_the_fields_sent_and_bumps_the_version(client, owner):
    person = owned_by(PersonFactory, owner, last_name="Muster", city="Köln")
    response = patch_json(
        client, f"/api/v1/persons/{person.uuid}", {"city": "Bonn", "version": 1}, **writer(owner)
    )
    assert response.status_code == 200
    assert (response.json()["city"], response.json()["version"]) == ("Bonn", 2)
    person.refresh_from_db()
    assert (person.last_name, person.city, person.version) == ("Muster", "Bonn", 2)
    entry = AuditEntry.objects.get()
    assert (entry.action, entry.changes, entry.via) == ("update", {"city": ["Köln", "Bonn"]}, "api")


def test_patch_with_a_stale_version_is_a_409_and_changes_nothing(client, owner, teammate):
    person = owned_by(PersonFactory, owner, city="Köln")
    url = f"/api/v1/persons/{person.uuid}"
    assert (
        patch_json(client, url, {"city": "Bonn", "version": 1}, **writer(teammate)).status_code
        == 200
    )
    response = patch_json(client, url, {"city": "Aachen", "version": 1}, **writer(owner))
    assert_problem(
        response,
        409,
        "Conflict",
        "Someone else changed this record in the meantime. Read it again "
        "(now version 2) and repeat your change.",
        current_version=2,
    )
    person.refresh_from_db()
    assert (person.city, person.version) == ("Bonn", 2)
    retry = patch_json(client, url, {"city": "Aachen", "version": 2}, **writer(owner))
    assert (retry.status_code, retry.json()["city"], retry.json()["version"]) == (200, "Aachen", 3)


def test_patch_setting_an_invisible_organization_is_404_and_changes_nothing(
    client, owner, outsider
):
    mine = owned_by(OrganizationFactory, owner)
    theirs = owned_by(OrganizationFactory, outsider)
    person = owned_by(PersonFactory, owner, organization=mine, city="Köln")
    response = patch_json(
        client,
        f"/api/v1/persons/{person.uuid}",
        {"organization": str(theirs.uuid), "city": "Bonn", "version": 1},
        **writer(owner),
    )
    assert_problem(response, 404, *NOT_FOUND)
    person.refresh_from_db()
    assert (person.organization, person.city, person.version) == (mine, "Köln", 1)
    assert not AuditEntry.objects.exists()


def test_patch_organization_null_unlinks(client, owner):
    org = owned_by(OrganizationFactory, owner)
    person = owned_by(PersonFactory, owner, organization=org)
    response = patch_json(
        client,
        f"/api/v1/persons/{person.uuid}",
        {"organization": None, "version": 1},
        **writer(owner),
    )
    assert response.json()["organization"] is None
    person.refresh_from_db()
    assert person.organization is None


def test_patch_of_an_invisible_person_is_404_and_changes_nothing(client, owner, outsider):
    person = owned_by(PersonFactory, owner, last_name="Owned")
    response = patch_json(
        client,
        f"/api/v1/persons/{person.uuid}",
        {"last_name": "Hacked", "version": 1},
        **writer(outsider),
    )
    assert_problem(response, 404, *NOT_FOUND)
    person.refresh_from_db()
    assert person.last_name == "Owned"


def test_read_only_role_cannot_patch(client, owner, readonly):
    person = owned_by(PersonFactory, owner, last_name="Owned")
    response = patch_json(
        client,
        f"/api/v1/persons/{person.uuid}",
        {"last_name": "Changed", "version": 1},
        **writer(readonly),
    )
    assert_problem(response, 403, *FORBIDDEN)
    person.refresh_from_db()
    assert person.last_name == "Owned"


@pytest.mark.parametrize(
    ("body", "field"),
    [({"last_name": None}, "last_name"), ({"email": None}, "email"), ({"uuid": "x"}, "uuid")],
)
def test_patch_refuses_null_for_text_and_unknown_fields(client, owner, body, field):
    person = owned_by(PersonFactory, owner, last_name="Owned")
    body = {**body, "version": 1}
    response = patch_json(client, f"/api/v1/persons/{person.uuid}", body, **writer(owner))
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == [field]
    person.refresh_from_db()
    assert (person.last_name, person.version) == ("Owned", 1)


def test_patch_organization_with_invalid_values_names_the_fields(client, owner):
    org = owned_by(OrganizationFactory, owner, name="Muster GmbH")
    response = patch_json(
        client,
        f"/api/v1/organizations/{org.uuid}",
        {"kind": "nope", "website": "not a url", "version": 1},
        **writer(owner),
    )
    body = assert_problem(
        response,
        422,
        *INVALID,
        errors=[
            {"field": "kind", "message": "Value 'nope' is not a valid choice."},
            {"field": "website", "message": "Enter a valid URL."},
        ],
    )
    assert body["instance"] == f"/api/v1/organizations/{org.uuid}"
    org.refresh_from_db()
    assert (org.kind, org.version) == ("business", 1)


def test_patch_organization_with_a_stale_version_is_a_409(client, owner):
    org = owned_by(OrganizationFactory, owner, name="Muster GmbH")
    url = f"/api/v1/organizations/{org.uuid}"
    assert (
        patch_json(client, url, {"name": "Neu GmbH", "version": 1}, **writer(owner)).status_code
        == 200
    )
    response = patch_json(client, url, {"name": "Alt GmbH", "version": 1}, **writer(owner))
    assert (response.status_code, response.json()["current_version"]) == (409, 2)
    org.refresh_from_db()
    assert org.name == "Neu GmbH"


# --- Deleting --------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["persons", "organizations"])
def test_delete_needs_the_delete_capability(client, owner, path):
    # A sales rep may edit but not delete.
    factory = PersonFactory if path == "persons" else OrganizationFactory
    record = owned_by(factory, owner)
    response = client.delete(f"/api/v1/{path}/{record.uuid}", **writer(owner))
    assert_problem(response, 403, *FORBIDDEN)
    assert type(record).objects.filter(pk=record.pk).exists()


@pytest.mark.parametrize("path", ["persons", "organizations"])
def test_admin_deletes_and_it_is_audited(client, owner, admin, path):
    factory = PersonFactory if path == "persons" else OrganizationFactory
    record = owned_by(factory, owner)
    response = client.delete(f"/api/v1/{path}/{record.uuid}", **writer(admin))
    assert (response.status_code, response.content) == (204, b"")
    assert not type(record).objects.filter(pk=record.pk).exists()
    entry = AuditEntry.objects.get()
    assert (entry.action, entry.actor, entry.via) == ("delete", admin, "api")


def test_delete_of_an_invisible_record_is_404_and_deletes_nothing(client, owner, team):
    from kontor.core.models import Role
    from kontor.core.permissions import RoleCode
    from tests.core.factories import UserFactory

    # A manager who may delete, but whose role only shows own records.
    Role.objects.filter(code=RoleCode.SALES_MANAGER).update(visibility="own")
    manager = UserFactory(
        username="manager", role=Role.objects.get(code=RoleCode.SALES_MANAGER), teams=[team]
    )
    person = owned_by(PersonFactory, owner)
    response = client.delete(f"/api/v1/persons/{person.uuid}", **writer(manager))
    assert_problem(response, 404, *NOT_FOUND)
    assert Person.objects.filter(pk=person.pk).exists()


def test_read_token_cannot_delete(client, admin):
    person = PersonFactory()
    response = client.delete(f"/api/v1/persons/{person.uuid}", **reader(admin))
    assert_problem(response, 403, "Forbidden", "This token may only read.")
    assert Person.objects.filter(pk=person.pk).exists()


# --- Issue 4: all fields, psychographic data, custom fields, tags, filters ----------------


def test_person_carries_every_field_and_stores_phones_in_e164(client, owner):
    org = owned_by(OrganizationFactory, owner)
    body = {
        "salutation": "mr",
        "title": "Prof. Dr.",
        "first_name": "Max",
        "last_name": "Muster",
        "organization": str(org.uuid),
        "department": "Einkauf",
        "email": "max@example.de",
        "email2": "max.privat@example.de",
        "phone": "0221 1234567",
        "mobile": "+49 171 1234567",
        "street": "Ring 1",
        "postal_code": "50667",
        "city": "Köln",
        "birth_date": "1970-05-01",
        "language": "en",
        "preferred_channel": "phone",
        "gender": "male",
        "household_size": 3,
        "profession": "Ingenieur",
        "income_band": "upper",
        "psychographic": {"interests": "Segeln"},
    }
    response = post_json(client, "/api/v1/persons", body, **writer(owner))
    assert response.status_code == 201
    out = response.json()
    assert {k: out[k] for k in body if k not in ("organization", "phone", "mobile")} == {
        **{k: v for k, v in body.items() if k not in ("organization", "phone", "mobile")},
        "psychographic": {
            "interests": "Segeln",
            "values": "",
            "attitudes": "",
            "preferences": "",
        },
    }
    assert (out["phone"], out["mobile"], out["tags"], out["custom"]) == (
        "+492211234567",
        "+491711234567",
        [],
        {},
    )


def test_psychographic_data_is_null_for_roles_that_may_not_see_it(client, owner, agent):
    person = owned_by(PersonFactory, owner, interests="Segeln")
    assert (
        client.get(f"/api/v1/persons/{person.uuid}", **reader(agent)).json()["psychographic"]
        is None
    )
    listed = client.get("/api/v1/persons", **reader(agent)).json()["items"]
    assert [p["psychographic"] for p in listed] == [None]
    assert (
        client.get(f"/api/v1/persons/{person.uuid}", **reader(owner)).json()["psychographic"][
            "interests"
        ]
        == "Segeln"
    )


def test_writing_psychographic_data_without_access_is_403_and_saves_nothing(client, owner, agent):
    person = owned_by(PersonFactory, owner, last_name="Alt", interests="Segeln")
    response = patch_json(
        client,
        f"/api/v1/persons/{person.uuid}",
        {"last_name": "Neu", "psychographic": {"interests": "Golf"}, "version": 1},
        **writer(agent),
    )
    assert_problem(response, 403, *FORBIDDEN)
    person.refresh_from_db()
    assert (person.last_name, person.interests, person.version) == ("Alt", "Segeln", 1)
    created = post_json(
        client,
        "/api/v1/persons",
        {"last_name": "X", "psychographic": {"values": "Y"}},
        **writer(agent),
    )
    assert created.status_code == 403
    assert Person.objects.count() == 1


def test_invalid_contact_data_names_every_field_and_saves_nothing(client, owner):
    response = post_json(
        client,
        "/api/v1/organizations",
        {"name": "Muster GmbH", "phone": "12", "postal_code": "123", "vat_id": "DE1"},
        **writer(owner),
    )
    assert_problem(
        response,
        422,
        *INVALID,
        errors=[
            {
                "field": "phone",
                "message": "Enter a valid phone number, e.g. 0221 123456 or +49 221 123456.",
            },
            {
                "field": "postal_code",
                "message": "A German postal code has five digits, e.g. 50667.",
            },
            {"field": "vat_id", "message": "A German VAT ID is DE followed by nine digits."},
        ],
    )
    assert not Organization.objects.exists()


def test_organization_carries_customer_number_parent_tags_and_custom(client, owner):
    CustomField.objects.create(
        entity="customers.organization", key="budget", label="Budget", field_type="number"
    )
    CustomField.objects.create(
        entity="customers.organization", key="since", label="Seit", field_type="date"
    )
    Tag.objects.create(name="A-Kunde")
    parent = owned_by(OrganizationFactory, owner)
    response = post_json(
        client,
        "/api/v1/organizations",
        {
            "name": "Muster GmbH",
            "parent": str(parent.uuid),
            "employees": 120,
            "revenue_band": "10m-50m",
            "vat_id": "DE 123 456 789",
            "tags": ["A-Kunde"],
            "custom": {"budget": "5000", "since": "2020-01-01"},
        },
        **writer(owner),
    )
    assert response.status_code == 201
    out = response.json()
    org = Organization.objects.get(uuid=out["uuid"])
    assert (
        out["customer_number"],
        out["parent"],
        out["employees"],
        out["vat_id"],
        out["tags"],
        out["custom"],
    ) == (
        f"K-{org.pk:07d}",
        str(parent.uuid),
        120,
        "DE123456789",
        ["A-Kunde"],
        {"budget": 5000, "since": "2020-01-01"},
    )


def test_custom_value_of_the_wrong_type_is_a_422_naming_it(client, owner):
    CustomField.objects.create(
        entity="customers.person", key="budget", label="Budget", field_type="number"
    )
    person = owned_by(PersonFactory, owner)
    response = patch_json(
        client,
        f"/api/v1/persons/{person.uuid}",
        {"city": "Bonn", "custom": {"budget": "viel"}, "version": 1},
        **writer(owner),
    )
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["custom.budget"]
    person.refresh_from_db()
    assert (person.city, person.custom, person.version) == (person.city, {}, 1)


def test_unknown_tag_is_a_422(client, owner):
    response = post_json(
        client, "/api/v1/persons", {"last_name": "X", "tags": ["gibt-es-nicht"]}, **writer(owner)
    )
    assert response.json()["errors"] == [
        {"field": "tags", "message": "Unknown tag: gibt-es-nicht."}
    ]
    assert not Person.objects.exists()


def test_parent_cannot_be_a_subsidiary(client, owner):
    top = owned_by(OrganizationFactory, owner)
    sub = owned_by(OrganizationFactory, owner, parent=top)
    response = patch_json(
        client,
        f"/api/v1/organizations/{top.uuid}",
        {"parent": str(sub.uuid), "version": 1},
        **writer(owner),
    )
    assert response.status_code == 422
    top.refresh_from_db()
    assert top.parent is None


def test_list_filters(client, owner, teammate, team):
    org = owned_by(OrganizationFactory, owner, name="Muster GmbH", city="Köln", status="customer")
    owned_by(OrganizationFactory, teammate, name="Beispiel AG", city="Bonn", kind="trade")
    tag = Tag.objects.create(name="A-Kunde")
    org.tags.add(tag)
    owned_by(PersonFactory, owner, last_name="Albers", organization=org, city="Köln")
    owned_by(PersonFactory, teammate, last_name="Bauer", city="Bonn")

    def names(path, **params):
        body = client.get(path, params, **reader(owner)).json()
        return [i.get("name") or i.get("last_name") for i in body["items"]]

    assert names("/api/v1/organizations", status="customer") == ["Muster GmbH"]
    assert names("/api/v1/organizations", kind="trade") == ["Beispiel AG"]
    assert names("/api/v1/organizations", city="bon") == ["Beispiel AG"]
    assert names("/api/v1/organizations", tag=tag.pk) == ["Muster GmbH"]
    assert names("/api/v1/organizations", owner=str(teammate.uuid)) == ["Beispiel AG"]
    assert names("/api/v1/organizations", team=str(team.uuid)) == ["Beispiel AG", "Muster GmbH"]
    assert names("/api/v1/persons", organization=str(org.uuid)) == ["Albers"]
    assert names("/api/v1/persons", owner="me") == ["Albers"]
    assert names("/api/v1/persons", city="Bonn") == ["Bauer"]


def test_malformed_filter_is_a_422(client, owner):
    response = client.get("/api/v1/organizations", {"status": "gibt-es-nicht"}, **reader(owner))
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["status"]
