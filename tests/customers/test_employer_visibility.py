"""A person one may see, at an organization one may not: everywhere the person is
shown, the organization is not — neither its name nor a link or its uuid — only
that there is one (customers.queries.with_organization_visibility has the rule).
Who sees both sees it. The owner (a sales rep, team visibility) sees the person of
their team but not the organization of another team; the admin sees everything."""

import csv
import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from kontor.core import search
from kontor.core.permissions import Capability
from kontor.customers import duplicates, queries, services, vcard
from kontor.customers.models import BuyingRole, ContactRole, Organization, Person
from tests.core.test_api import reader, writer
from tests.customers.factories import OrganizationFactory, PersonFactory, owned_by

pytestmark = pytest.mark.django_db

SECRET = "Geheimwerk"
PLACEHOLDER = "(organization not visible)"
PERSONS = reverse("customers:person_list")
ORGANIZATIONS = reverse("customers:organization_list")
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def hidden_org(outsider):
    return owned_by(OrganizationFactory, outsider, name=f"{SECRET} GmbH", city="Bonn")


@pytest.fixture
def person(owner, hidden_org):
    return owned_by(
        PersonFactory,
        owner,
        first_name="Vera",
        last_name="Sichtbar",
        city="Köln",
        email="vera@example.de",
        organization=hidden_org,
    )


def login(client, user):
    client.force_login(user)
    return client


# --- The rule ----------------------------------------------------------------------------


def test_the_rule_on_a_loaded_person(owner, admin, person, hidden_org):
    mine = queries.person_get(user=owner, uuid=person.uuid)
    assert (queries.organization_hidden(mine), queries.linked_organization(mine)) == (True, None)
    assert queries.organization_text(mine) == PLACEHOLDER
    theirs = queries.person_get(user=admin, uuid=person.uuid)
    assert (queries.organization_hidden(theirs), queries.linked_organization(theirs)) == (
        False,
        hidden_org,
    )
    assert queries.organization_text(theirs) == f"{SECRET} GmbH"


def test_a_consumer_has_no_organization_and_nothing_hidden(owner):
    consumer = owned_by(PersonFactory, owner, organization=None)
    loaded = queries.person_get(user=owner, uuid=consumer.uuid)
    assert (queries.organization_hidden(loaded), queries.organization_text(loaded)) == (False, "")


def test_a_person_loaded_without_the_rule_shows_no_organization(person):
    # fail closed: a person read past customers.queries counts as hidden
    raw = Person.objects.get(pk=person.pk)
    assert (queries.organization_hidden(raw), queries.linked_organization(raw)) == (True, None)


# --- Person list -------------------------------------------------------------------------


def test_person_list_shows_the_placeholder_not_the_name(client, owner, person, hidden_org):
    response = login(client, owner).get(PERSONS)
    assert response.status_code == 200
    assert "Sichtbar" in response.text
    assert SECRET not in response.text
    assert str(hidden_org.uuid) not in response.text
    assert PLACEHOLDER in response.text


def test_person_list_shows_the_name_to_who_sees_both(client, admin, person):
    response = login(client, admin).get(PERSONS)
    assert f"{SECRET} GmbH" in response.text
    assert PLACEHOLDER not in response.text


def test_filtering_by_an_organization_one_may_not_see_finds_nobody(
    client, owner, admin, person, hidden_org
):
    query = {"organization": str(hidden_org.uuid)}
    response = login(client, owner).get(PERSONS, query, **HTMX)
    assert "Sichtbar" not in response.text
    assert "Sichtbar" in login(client, admin).get(PERSONS, query, **HTMX).text


@pytest.mark.parametrize("rows", [5, 20])  # two persons a row, within the page of 50
def test_person_list_costs_the_same_queries_with_hidden_and_visible_organizations(
    client, owner, outsider, rows, django_assert_num_queries
):
    mine = owned_by(OrganizationFactory, owner, name="Offen AG")
    for i in range(rows):
        theirs = owned_by(OrganizationFactory, outsider, name=f"{SECRET} {i}")
        owned_by(PersonFactory, owner, organization=theirs)
        owned_by(PersonFactory, owner, organization=mine)
    login(client, owner)
    query = {"cols": "name,organization,city"}
    client.get(PERSONS, query, **HTMX)
    # session, user, authenticator, role, team ids, custom fields, rows: one query,
    # the organizations' visibility included
    with django_assert_num_queries(7):
        response = client.get(PERSONS, query, **HTMX)
    assert response.text.count("<td>Offen AG</td>") == rows
    assert response.text.count(f"<td>{PLACEHOLDER}</td>") == rows
    assert SECRET not in response.text


# --- Exports ---------------------------------------------------------------------------


def _export(client, user, action):
    login(client, user)
    url = reverse("customers:bulk_action", args=["person"])
    response = client.post(url, {"action": action, "all": "1", "query": ""})
    assert response.status_code == 200
    return b"".join(response.streaming_content)


def _csv(content: bytes) -> list[dict]:
    return list(csv.DictReader(io.StringIO(content.decode("utf-8")[1:]), delimiter=";"))


def _xlsx(content: bytes) -> list[dict]:
    sheet = load_workbook(io.BytesIO(content)).active
    header, *rows = list(sheet.iter_rows(values_only=True))
    return [dict(zip(header, row, strict=True)) for row in rows]


def test_csv_export_leaves_the_organization_empty(client, owner, admin, person):
    content = _export(client, owner, "export_csv")
    assert SECRET.encode() not in content
    assert [(r["last name"], r["organization"]) for r in _csv(content)] == [("Sichtbar", "")]
    rows = _csv(_export(client, admin, "export_csv"))
    assert [(r["last name"], r["organization"]) for r in rows] == [("Sichtbar", f"{SECRET} GmbH")]


def test_xlsx_export_leaves_the_organization_empty(client, owner, admin, person):
    rows = _xlsx(_export(client, owner, "export_xlsx"))
    assert [(r["last name"], r["organization"]) for r in rows] == [("Sichtbar", None)]
    rows = _xlsx(_export(client, admin, "export_xlsx"))
    assert [(r["last name"], r["organization"]) for r in rows] == [("Sichtbar", f"{SECRET} GmbH")]


# --- The 360° page -----------------------------------------------------------------------


def test_person_page_shows_the_placeholder_without_a_link(client, owner, person, hidden_org):
    response = login(client, owner).get(person.get_absolute_url())
    assert response.status_code == 200
    assert SECRET not in response.text
    assert hidden_org.get_absolute_url() not in response.text
    assert PLACEHOLDER in response.text


def test_person_page_links_the_organization_for_who_sees_it(client, admin, person, hidden_org):
    response = login(client, admin).get(person.get_absolute_url())
    assert f'<a href="{hidden_org.get_absolute_url()}">{SECRET} GmbH</a>' in response.text


def test_buying_center_leaves_out_links_to_organizations_one_may_not_see(
    client, owner, admin, person, hidden_org
):
    ContactRole.objects.create(
        person=person,
        organization=hidden_org,
        job_title="Einkauf",
        buying_roles=[BuyingRole.DECIDER],
    )
    url = reverse("customers:person_section", args=[person.uuid, "buying_center"])
    mine = login(client, owner).get(url)
    assert (mine.status_code, SECRET in mine.text, "Einkauf" in mine.text) == (200, False, False)
    theirs = login(client, admin).get(url)
    assert (SECRET in theirs.text, "Einkauf" in theirs.text) == (True, True)


def test_edit_form_neither_shows_nor_drops_the_organization(client, owner, person, hidden_org):
    url = reverse("customers:person_edit", args=[person.uuid])
    page = login(client, owner).get(url)
    assert page.status_code == 200
    assert SECRET not in page.text
    assert 'name="organization"' not in page.text
    response = client.post(
        url,
        {
            "last_name": "Sichtbar",
            "first_name": "Vera",
            "country": "DE",
            "language": "de",
            "city": "Bonn",
            "version": person.version,
        },
    )
    assert response.status_code == 302
    person.refresh_from_db()
    assert (person.city, person.organization_id) == ("Bonn", hidden_org.pk)


def test_merge_form_shows_the_placeholder(client, owner, admin, person, hidden_org):
    other = owned_by(PersonFactory, owner, first_name="Vera", last_name="Sichtbar", city="Köln")
    url = reverse("customers:person_merge", args=[other.uuid, person.uuid])
    # a role that sees its team's records and may merge them
    owner.role.capabilities = [*owner.role.capabilities, Capability.CUSTOMERS_DELETE]
    owner.role.save()
    mine = login(client, owner).get(url)
    assert (mine.status_code, SECRET in mine.text, PLACEHOLDER in mine.text) == (200, False, True)
    theirs = login(client, admin).get(url)
    assert (f"{SECRET} GmbH" in theirs.text, PLACEHOLDER in theirs.text) == (True, False)


# --- Search ------------------------------------------------------------------------------


def _subtitles(results) -> list[str]:
    return [hit.subtitle for group in results.groups for hit in group.hits]


def test_search_subtitle_hides_the_organization(owner, admin, person):
    assert _subtitles(search.search(user=owner, q="Sichtbar")) == [
        f"{PLACEHOLDER} · Köln · vera@example.de"
    ]
    assert _subtitles(search.search(user=admin, q="Sichtbar")) == [
        f"{SECRET} GmbH · Köln · vera@example.de"
    ]


def test_search_box_and_api_hide_the_organization(client, owner, person):
    page = login(client, owner).get(reverse("core:search"), {"q": "Sichtbar"})
    assert ("Sichtbar" in page.text, SECRET in page.text) == (True, False)
    panel = client.get(
        reverse("core:search"),
        {"q": "Sic"},
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="global-search-results",
    )
    assert ("Sichtbar" in panel.text, SECRET in panel.text) == (True, False)
    api = client.get("/api/v1/search", {"q": "Sichtbar"}, **reader(owner))
    hits = api.json()["groups"][0]["hits"]
    assert [h["subtitle"] for h in hits] == [f"{PLACEHOLDER} · Köln · vera@example.de"]


@pytest.mark.parametrize("rows", [1, 8])
def test_search_costs_one_query_for_the_hidden_organizations(
    owner, outsider, rows, django_assert_num_queries
):
    for i in range(rows):
        theirs = owned_by(OrganizationFactory, outsider, name=f"{SECRET} {i}")
        owned_by(PersonFactory, owner, last_name="Sichtbar", organization=theirs)
    # the user's teams; whether the words and their sounds match few (see
    # search.search); per kind the names beginning "sichtbar" and "sichtbaer", the
    # page and the sound-alikes (the page is not full); for persons one more: which
    # hits are at organizations one may not see
    with django_assert_num_queries(12):
        results = search.search(user=owner, q="Sichtbar")
    assert len(_subtitles(results)) == rows
    assert not [s for s in _subtitles(results) if SECRET in s]


# --- API ---------------------------------------------------------------------------------


def test_api_person_has_no_uuid_of_a_hidden_organization(client, owner, admin, person, hidden_org):
    mine = client.get(f"/api/v1/persons/{person.uuid}", **reader(owner)).json()
    assert (mine["organization"], mine["organization_hidden"]) == (None, True)
    listed = client.get("/api/v1/persons", **reader(owner)).json()["items"]
    assert [(p["organization"], p["organization_hidden"]) for p in listed] == [(None, True)]
    assert str(hidden_org.uuid) not in client.get("/api/v1/persons", **reader(owner)).text
    theirs = client.get(f"/api/v1/persons/{person.uuid}", **reader(admin)).json()
    assert (theirs["organization"], theirs["organization_hidden"]) == (str(hidden_org.uuid), False)


def test_api_patch_with_null_keeps_a_hidden_organization(client, owner, person, hidden_org):
    response = client.patch(
        f"/api/v1/persons/{person.uuid}",
        {"organization": None, "city": "Bonn", "version": 1},
        content_type="application/json",
        **writer(owner),
    )
    assert response.status_code == 200
    assert (response.json()["organization"], response.json()["organization_hidden"]) == (
        None,
        True,
    )
    person.refresh_from_db()
    assert (person.city, person.organization_id) == ("Bonn", hidden_org.pk)


def test_api_patch_cannot_replace_a_hidden_organization(client, owner, person, hidden_org):
    mine = owned_by(OrganizationFactory, owner)
    response = client.patch(
        f"/api/v1/persons/{person.uuid}",
        {"organization": str(mine.uuid), "version": 1},
        content_type="application/json",
        **writer(owner),
    )
    assert response.status_code == 422
    person.refresh_from_db()
    assert person.organization_id == hidden_org.pk


def test_api_create_answers_with_the_visible_organization(client, owner):
    mine = owned_by(OrganizationFactory, owner)
    response = client.post(
        "/api/v1/persons?allow_duplicates=true",
        {"last_name": "Neu", "organization": str(mine.uuid)},
        content_type="application/json",
        **writer(owner),
    )
    assert response.status_code == 201
    assert (response.json()["organization"], response.json()["organization_hidden"]) == (
        str(mine.uuid),
        False,
    )


def test_api_organization_parent_one_may_not_see(client, owner, admin, hidden_org):
    child = owned_by(OrganizationFactory, owner, parent=hidden_org)
    mine = client.get(f"/api/v1/organizations/{child.uuid}", **reader(owner)).json()
    assert (mine["parent"], mine["parent_hidden"]) == (None, True)
    theirs = client.get(f"/api/v1/organizations/{child.uuid}", **reader(admin)).json()
    assert (theirs["parent"], theirs["parent_hidden"]) == (str(hidden_org.uuid), False)


def test_organization_list_and_page_hide_a_parent_one_may_not_see(client, owner, admin, hidden_org):
    child = owned_by(OrganizationFactory, owner, name="Tochter KG", parent=hidden_org)
    login(client, owner)
    listed = client.get(ORGANIZATIONS, {"cols": "name,parent"}, **HTMX)
    assert ("Tochter KG" in listed.text, SECRET in listed.text) == (True, False)
    assert f"<td>{PLACEHOLDER}</td>" in listed.text
    url = reverse("customers:organization_section", args=[child.uuid, "hierarchy"])
    section = client.get(url)
    assert (SECRET in section.text, PLACEHOLDER in section.text) == (False, True)
    assert SECRET in login(client, admin).get(url).text


# --- vCard -------------------------------------------------------------------------------


def test_vcard_has_no_org_line_for_a_hidden_organization(client, owner, admin, person):
    url = reverse("customers:person_vcard", args=[person.uuid])
    mine = login(client, owner).get(url).content.decode()
    assert ("FN:Vera Sichtbar" in mine, "ORG:" in mine, SECRET in mine) == (True, False, False)
    api = client.get(f"/api/v1/persons/{person.uuid}/vcard", **reader(owner)).content.decode()
    assert "ORG:" not in api
    theirs = login(client, admin).get(url).content.decode()
    assert f"ORG:{SECRET} GmbH" in theirs


def test_vcard_of_a_person_read_with_the_rule(admin, person):
    text = vcard.person_to_vcard(queries.person_get(user=admin, uuid=person.uuid))
    assert f"ORG:{SECRET} GmbH" in text


def test_services_still_see_the_link(owner, person, hidden_org):
    # the rule is about showing: the link itself is untouched
    services.person_update(person=person, actor=owner, data={"city": "Bonn"})
    assert Organization.objects.get(persons=person) == hidden_org


# --- Other apps showing the employer -----------------------------------------------------


def test_the_compose_page_names_only_an_employer_one_may_see(client, owner, admin, person):
    url = f"{reverse('mail:compose')}?person={person.uuid}"
    page = login(client, owner).get(url).content.decode()
    assert SECRET not in page and PLACEHOLDER in page
    assert f"{SECRET} GmbH" in login(client, admin).get(url).content.decode()


def test_the_capture_candidates_name_only_an_employer_one_may_see(client, owner, admin, person):
    duplicates.backfill_keys(Person, duplicates.derive_person_keys, duplicates.PERSON_KEYS)
    data = {"last_name": "Sichtbar", "email": "vera@example.de"}
    url = reverse("activities:capture_matches")
    page = login(client, owner).post(url, data).content.decode()
    assert "Sichtbar" in page and SECRET not in page and PLACEHOLDER in page
    assert f"{SECRET} GmbH" in login(client, admin).post(url, data).content.decode()
