"""The customers web UI (minimal for now): lists with filter and "show more" paging,
detail, create, edit with optimistic locking, delete, by persona; escaping; and the
queries a page costs."""

import html
import re

import pytest
from django.urls import reverse

from kontor.core import audit
from kontor.core.models import AuditEntry
from kontor.customers import services
from kontor.customers.models import Organization, Person
from kontor.customers.views.lists import PAGE_SIZE
from tests.customers.factories import OrganizationFactory, PersonFactory, owned_by

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
EVIL = '<script>alert("x")</script>'
EVIL_ESCAPED = "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;"


@pytest.fixture
def as_user(client):
    def login(user):
        client.force_login(user)
        return client

    return login


def person_url(name, person=None):
    return reverse(f"customers:{name}", args=[person.uuid] if person else [])


def person_form(person=None, **changes):
    """The edit form as the browser sends it, from ``person``'s current values."""
    data = {
        "salutation": "",
        "title": "",
        "first_name": "",
        "last_name": "",
        "organization": "",
        "job_title": "",
        "email": "",
        "phone": "",
        "city": "",
        "birth_date": "",
        "version": "",
        # The fields the issue-4 form added (test_forms.py covers them).
        "department": "",
        "email2": "",
        "mobile": "",
        "street": "",
        "postal_code": "",
        "country": "DE",
        "language": "de",
        "preferred_channel": "",
        "gender": "",
        "household_size": "",
        "profession": "",
        "income_band": "",
    }
    if person is not None:
        for name in data:
            value = getattr(person, "organization_id" if name == "organization" else name)
            data[name] = "" if value is None else value
    data.update(changes)
    return data


def names_in(response) -> list[str]:
    return re.findall(r'<td><a href="/customers/persons/[^"]+/">([^<]+)</a></td>', response.text)


def more_link(response) -> str | None:
    match = re.search(r'<tr class="more">.*?hx-get="([^"]+)"', response.text, re.S)
    return html.unescape(match.group(1)) if match else None


# --- List, filter, paging --------------------------------------------------------------


def test_list_shows_visible_persons_in_name_order(as_user, owner, teammate, outsider):
    owned_by(PersonFactory, owner, last_name="Bauer", first_name="Anna")
    owned_by(PersonFactory, teammate, last_name="Albers", first_name="")
    owned_by(PersonFactory, outsider, last_name="Outsider")
    response = as_user(owner).get(person_url("person_list"))
    assert response.status_code == 200
    assert names_in(response) == ["Albers", "Bauer, Anna"]
    assert more_link(response) is None


def test_empty_list_says_so(as_user, owner):
    response = as_user(owner).get(person_url("person_list"))
    assert "No persons found." in response.text


def test_filter_q_matches_name_email_or_company_start(as_user, owner):
    org = owned_by(OrganizationFactory, owner, name="Zeta GmbH")
    owned_by(PersonFactory, owner, last_name="Muster", first_name="Max")
    owned_by(PersonFactory, owner, last_name="Schmidt", first_name="Mia", organization=org)
    owned_by(PersonFactory, owner, last_name="Zander", first_name="Udo", email="udo@example.de")
    client = as_user(owner)
    assert names_in(client.get(person_url("person_list"), {"q": "mus"})) == ["Muster, Max"]
    assert names_in(client.get(person_url("person_list"), {"q": "zeta"})) == ["Schmidt, Mia"]
    assert names_in(client.get(person_url("person_list"), {"q": "udo@"})) == ["Zander, Udo"]
    response = client.get(person_url("person_list"), {"q": "mus"})
    assert 'value="mus"' in response.text


def test_htmx_filter_answers_the_table_only(as_user, owner):
    owned_by(PersonFactory, owner, last_name="Muster", first_name="Max")
    response = as_user(owner).get(person_url("person_list"), {"q": "Mus"}, **HTMX)
    assert response.status_code == 200
    assert response.text.lstrip().startswith('<div class="table-wrap">')
    assert "<html" not in response.text
    assert names_in(response) == ["Muster, Max"]
    assert "HX-Request" in response["Vary"]


def test_show_more_pages_with_htmx_through_all_rows_once(as_user, owner):
    for i in range(PAGE_SIZE + 5):
        owned_by(PersonFactory, owner, last_name=f"Name{i:03d}", first_name="")
    client = as_user(owner)
    first = client.get(person_url("person_list"))
    assert len(names_in(first)) == PAGE_SIZE
    link = more_link(first)
    assert link is not None
    more = client.get(person_url("person_list") + link, **HTMX)
    assert more.status_code == 200
    # Only rows, to replace the "show more" row: no page, no table around them.
    assert more.text.lstrip().startswith("<tr hx-disable>")
    assert "<table" not in more.text
    assert more_link(more) is None
    assert names_in(first) + names_in(more) == [f"Name{i:03d}" for i in range(PAGE_SIZE + 5)]


def test_show_more_without_htmx_is_a_whole_page(as_user, owner):
    for i in range(PAGE_SIZE + 1):
        owned_by(PersonFactory, owner, last_name=f"Name{i:03d}", first_name="")
    client = as_user(owner)
    link = more_link(client.get(person_url("person_list")))
    response = client.get(person_url("person_list") + link)
    assert "<html" in response.text
    assert names_in(response) == [f"Name{PAGE_SIZE:03d}"]


def test_show_more_keeps_the_filter(as_user, owner):
    for i in range(PAGE_SIZE + 2):
        owned_by(PersonFactory, owner, last_name=f"Muster{i:03d}", first_name="")
    owned_by(PersonFactory, owner, last_name="Zander")
    client = as_user(owner)
    link = more_link(client.get(person_url("person_list"), {"q": "Muster"}))
    more = client.get(person_url("person_list") + link, **HTMX)
    assert names_in(more) == [f"Muster{PAGE_SIZE:03d}", f"Muster{PAGE_SIZE + 1:03d}"]


@pytest.mark.parametrize("cursor", ["!!!", "WyJhIiwgImIiLCAiYyJd", "bm90IGpzb24="])
def test_made_up_cursor_is_a_400_page_not_a_500(as_user, owner, cursor):
    response = as_user(owner).get(person_url("person_list"), {"cursor": cursor})
    assert response.status_code == 400
    assert "Bad request" in response.text


def test_list_needs_login(client):
    response = client.get(person_url("person_list"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


# --- Detail ----------------------------------------------------------------------------


def test_detail_shows_the_person(as_user, owner, team):
    org = owned_by(OrganizationFactory, owner, name="Muster GmbH")
    person = owned_by(PersonFactory, owner, first_name="Max", last_name="Muster", organization=org)
    response = as_user(owner).get(person_url("person_detail", person))
    assert response.status_code == 200
    assert "Max Muster" in response.text
    assert f'<a href="{org.get_absolute_url()}">Muster GmbH</a>' in response.text
    assert team.name in response.text
    # A sales rep may edit, not delete, and does not see the audit trail.
    assert person_url("person_edit", person) in response.text
    assert person_url("person_delete", person) not in response.text
    assert "Audit trail" not in response.text


def test_admin_sees_delete_and_the_audit_trail(as_user, owner, admin):
    person = services.person_create(actor=owner, data={"last_name": "Muster"})
    response = as_user(admin).get(person_url("person_detail", person))
    assert person_url("person_delete", person) in response.text
    assert "Audit trail" in response.text


# --- Visibility ------------------------------------------------------------------------


def test_outsider_gets_404_everywhere_and_changes_nothing(as_user, owner, outsider):
    person = owned_by(PersonFactory, owner, last_name="Owned")
    client = as_user(outsider)
    assert client.get(person_url("person_detail", person)).status_code == 404
    assert client.get(person_url("person_edit", person)).status_code == 404
    response = client.post(
        person_url("person_edit", person), person_form(person, last_name="Hacked")
    )
    assert response.status_code == 404
    assert client.post(person_url("person_delete", person)).status_code == 404
    person.refresh_from_db()
    assert (person.last_name, person.version) == ("Owned", 1)
    assert not AuditEntry.objects.exists()


def test_teammate_sees_and_edits_team_records(as_user, owner, teammate):
    person = owned_by(PersonFactory, owner, last_name="Owned")
    client = as_user(teammate)
    assert client.get(person_url("person_detail", person)).status_code == 200
    response = client.post(person_url("person_edit", person), person_form(person, city="Bonn"))
    assert response.status_code == 302
    person.refresh_from_db()
    assert person.city == "Bonn"


def test_unknown_uuid_is_404(as_user, owner):
    url = "/customers/persons/00000000-0000-0000-0000-000000000000/"
    assert as_user(owner).get(url).status_code == 404


def test_malformed_uuid_is_404(as_user, owner):
    assert as_user(owner).get("/customers/persons/not-a-uuid/").status_code == 404


# --- Create ----------------------------------------------------------------------------


def test_create_person(as_user, owner, team):
    org = owned_by(OrganizationFactory, owner)
    client = as_user(owner)
    assert client.get(person_url("person_create")).status_code == 200
    response = client.post(
        person_url("person_create"),
        person_form(first_name="Max", last_name="Muster", organization=org.pk, city="Köln"),
    )
    person = Person.objects.get()
    assert response.status_code == 302
    assert response["Location"] == person.get_absolute_url()
    assert (person.full_name, person.organization, person.owner, person.team) == (
        "Max Muster",
        org,
        owner,
        team,
    )
    entry = audit.entries_for(person).get()
    assert (entry.action, entry.actor, entry.via) == ("create", owner, "ui")


def test_invalid_email_is_a_field_error_and_saves_nothing(as_user, owner):
    response = as_user(owner).post(
        person_url("person_create"), person_form(last_name="Muster", email="not-an-email")
    )
    assert response.status_code == 422
    assert response.context["form"].errors == {"email": ["Enter a valid email address."]}
    assert "Enter a valid email address." in response.text
    assert not Person.objects.exists()


def test_missing_last_name_is_a_field_error(as_user, owner):
    response = as_user(owner).post(person_url("person_create"), person_form(first_name="Max"))
    assert response.status_code == 422
    assert response.context["form"].errors == {"last_name": ["This field is required."]}
    assert not Person.objects.exists()


def test_an_invisible_organization_cannot_be_chosen(as_user, owner, outsider):
    theirs = owned_by(OrganizationFactory, outsider, name="Fremd KG")
    client = as_user(owner)
    assert "Fremd KG" not in client.get(person_url("person_create")).text
    response = client.post(
        person_url("person_create"), person_form(last_name="Muster", organization=theirs.pk)
    )
    assert response.status_code == 422
    assert list(response.context["form"].errors) == ["organization"]
    assert not Person.objects.exists()


def test_read_only_role_cannot_create(as_user, readonly):
    client = as_user(readonly)
    assert client.get(person_url("person_create")).status_code == 403
    response = client.post(person_url("person_create"), person_form(last_name="Muster"))
    assert response.status_code == 403
    assert not Person.objects.exists()


# --- Edit and optimistic locking -------------------------------------------------------


def test_edit_form_carries_the_version(as_user, owner):
    person = owned_by(PersonFactory, owner)
    response = as_user(owner).get(person_url("person_edit", person))
    assert response.status_code == 200
    assert '<input type="hidden" name="version" value="1"' in response.text


def test_edit_saves_and_is_audited(as_user, owner):
    person = owned_by(PersonFactory, owner, city="Köln")
    response = as_user(owner).post(
        person_url("person_edit", person), person_form(person, city="Bonn")
    )
    assert (response.status_code, response["Location"]) == (302, person.get_absolute_url())
    person.refresh_from_db()
    assert (person.city, person.version) == ("Bonn", 2)
    entry = AuditEntry.objects.get()
    assert (entry.action, entry.changes) == ("update", {"city": ["Köln", "Bonn"]})


def test_second_edit_from_the_same_version_gets_the_conflict_page(client, owner, teammate):
    person = owned_by(PersonFactory, owner, last_name="Muster", city="Köln", phone="")
    url = person_url("person_edit", person)
    # Both open the form at version 1; the teammate saves first.
    client.force_login(teammate)
    theirs = client.post(url, person_form(person, city="Bonn", phone="0221 123"))
    assert theirs.status_code == 302

    client.force_login(owner)
    mine = person_form(person, city="Aachen")
    response = client.post(url, mine)
    assert response.status_code == 409
    assert "Someone else saved this record while you were editing." in response.text
    # Their values beside the form; mine still in it, now at their version.
    conflict = dict((str(label), value) for label, value in response.context["conflict"])
    assert (conflict["city"], conflict["phone"]) == ("Bonn", "0221 123")
    form = response.context["form"]
    assert (form["city"].value(), form["version"].value()) == ("Aachen", 2)
    person.refresh_from_db()
    assert (person.city, person.version) == ("Bonn", 2)

    # Saving again keeps mine: the whole form, as the message says.
    again = client.post(url, {**mine, "version": 2})
    assert again.status_code == 302
    person.refresh_from_db()
    assert (person.city, person.phone, person.version) == ("Aachen", "", 3)


# --- Delete ----------------------------------------------------------------------------


def test_delete_needs_the_delete_capability(as_user, owner):
    person = owned_by(PersonFactory, owner)
    response = as_user(owner).post(person_url("person_delete", person))
    assert response.status_code == 403
    assert Person.objects.filter(pk=person.pk).exists()


def test_admin_deletes_and_it_is_audited(as_user, owner, admin):
    person = owned_by(PersonFactory, owner, last_name="Muster")
    response = as_user(admin).post(person_url("person_delete", person))
    assert (response.status_code, response["Location"]) == (302, person_url("person_list"))
    assert not Person.objects.exists()
    entry = AuditEntry.objects.get()
    assert (entry.action, entry.actor, entry.object_repr) == ("delete", admin, person.full_name)


def test_delete_by_get_is_not_allowed(as_user, admin):
    person = PersonFactory()
    response = as_user(admin).get(person_url("person_delete", person))
    assert response.status_code == 405
    assert Person.objects.filter(pk=person.pk).exists()


# --- Escaping --------------------------------------------------------------------------


def test_markup_in_a_name_is_shown_as_text_everywhere(client, owner, teammate, admin):
    person = services.person_create(
        actor=owner, data={"first_name": EVIL, "last_name": EVIL, "city": EVIL}
    )
    pages = []
    client.force_login(owner)
    pages.append(client.get(person_url("person_list")))
    pages.append(client.get(person_url("person_detail", person)))
    pages.append(client.get(person_url("person_edit", person)))
    client.force_login(admin)
    pages.append(client.get(person_url("person_detail", person)))  # with the audit trail
    # The conflict page shows the other person's values.
    client.force_login(teammate)
    pages.append(client.post(person_url("person_edit", person), person_form(person, version=0)))
    assert [p.status_code for p in pages] == [200, 200, 200, 200, 409]
    for page in pages:
        assert EVIL not in page.text
        assert EVIL_ESCAPED in page.text


# --- Organizations ---------------------------------------------------------------------


def org_form(**values):
    data = {
        "name": "",
        "kind": "business",
        "status": "prospect",
        "industry": "",
        "street": "",
        "postal_code": "",
        "city": "",
        "country": "DE",
        "website": "",
        "phone": "",
        "email": "",
        "version": "",
    }
    data.update(values)
    return data


def test_organization_list_filter_and_detail(as_user, owner, outsider):
    org = owned_by(OrganizationFactory, owner, name="Muster GmbH", city="Köln")
    owned_by(OrganizationFactory, owner, name="Beispiel AG", city="Bonn")
    owned_by(OrganizationFactory, outsider, name="Fremd KG")
    client = as_user(owner)
    page = client.get(reverse("customers:organization_list"))
    assert re.findall(r'/">([^<]+)</a></td>', page.text) == ["Beispiel AG", "Muster GmbH"]
    filtered = client.get(reverse("customers:organization_list"), {"q": "Köln"}, **HTMX)
    assert re.findall(r'/">([^<]+)</a></td>', filtered.text) == ["Muster GmbH"]
    detail = client.get(org.get_absolute_url())
    assert (detail.status_code, "<h1 hx-disable>Muster GmbH</h1>" in detail.text) == (200, True)


def test_organization_create_edit_and_conflict(as_user, owner):
    client = as_user(owner)
    response = client.post(
        reverse("customers:organization_create"),
        org_form(name="Muster GmbH", website="muster.de"),
    )
    org = Organization.objects.get()
    assert (response.status_code, org.website, org.owner) == (302, "https://muster.de", owner)
    edit = reverse("customers:organization_edit", args=[org.uuid])
    assert client.post(edit, org_form(name="Neu GmbH", version=1)).status_code == 302
    stale = client.post(edit, org_form(name="Alt GmbH", version=1))
    assert stale.status_code == 409
    org.refresh_from_db()
    assert (org.name, org.version) == ("Neu GmbH", 2)


def test_organization_outsider_404_and_delete_capability(as_user, owner, outsider, admin):
    org = owned_by(OrganizationFactory, owner)
    delete = reverse("customers:organization_delete", args=[org.uuid])
    assert as_user(outsider).post(delete).status_code == 404
    assert as_user(owner).post(delete).status_code == 403
    assert Organization.objects.filter(pk=org.pk).exists()
    assert as_user(admin).post(delete).status_code == 302
    assert not Organization.objects.exists()


# --- Queries ---------------------------------------------------------------------------


@pytest.fixture
def page_queries(client, django_assert_num_queries):
    """Loads ``url`` once to warm up, then counts the queries of a second load."""

    def count(url, expected):
        client.get(url)
        with django_assert_num_queries(expected):
            response = client.get(url)
        assert response.status_code == 200
        return response

    return count


# Every page: session, user, "has an authenticator?" (two-factor), the user's role.
SHELL_QUERIES = 4
# ...then the team ids (visibility), the custom fields (filters and columns), the rows
# with organization and owner joined, and for the whole page the saved views and the
# users, teams and tags offered by the filter and bulk forms.
LIST_PAGE_QUERIES = SHELL_QUERIES + 7


@pytest.mark.parametrize("rows", [5, 30])
def test_person_list_page_costs_the_same_queries_at_any_size(client, owner, rows, page_queries):
    org = owned_by(OrganizationFactory, owner)
    for _ in range(rows):
        owned_by(PersonFactory, owner, organization=org)
    client.force_login(owner)
    response = page_queries(person_url("person_list"), LIST_PAGE_QUERIES)
    assert len(names_in(response)) == rows


# ...then (for an administrator, who sees all and the audit trail) the person with
# organization, owner and team joined, the person's tags, and the entries with their
# actors (the content type is cached). The sections load on their own (test_detail.py).
DETAIL_PAGE_QUERIES = SHELL_QUERIES + 3


@pytest.mark.parametrize("rows", [5, 30])
def test_person_detail_page_costs_the_same_queries_at_any_size(
    client, owner, admin, rows, page_queries
):
    org = owned_by(OrganizationFactory, owner)
    person = services.person_create(actor=owner, data={"last_name": "Muster", "organization": org})
    for i in range(rows):  # as many other persons, and as many audit entries
        owned_by(PersonFactory, owner, organization=org)
        services.person_update(person=person, actor=owner, data={"city": f"Stadt {i}"})
    client.force_login(admin)
    response = page_queries(person_url("person_detail", person), DETAIL_PAGE_QUERIES)
    assert response.text.count('<li>\n    <time datetime="') == rows + 1
