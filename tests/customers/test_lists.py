"""The person and organization lists: filters on any field (custom fields included),
sorting with keyset paging through every row exactly once, choosable columns, the
URL as the whole state, and the queries a page costs."""

import datetime
import re
from urllib.parse import urlencode

import pytest
from django.db import connection
from django.http import QueryDict
from django.urls import reverse

from kontor.core import search
from kontor.core.api.pagination import paginate
from kontor.core.models import CustomField, Role
from kontor.core.permissions import Capability, RoleCode
from kontor.core.search import backends
from kontor.customers import listing, services
from kontor.customers.models import Organization, Person, Tag
from kontor.customers.views.lists import PAGE_SIZE
from tests.core.factories import UserFactory
from tests.core.test_api import reader
from tests.customers.factories import OrganizationFactory, PersonFactory, owned_by

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
PERSONS = reverse("customers:person_list")


@pytest.fixture
def as_user(client):
    def login(user):
        client.force_login(user)
        return client

    return login


ORGANIZATIONS = reverse("customers:organization_list")


def names(response) -> list[str]:
    return re.findall(
        r'<td><a href="/customers/(?:persons|organizations)/[^"]+/">([^<]+)</a></td>', response.text
    )


def person_names(user, query: str) -> list[str]:
    lq = listing.parse(listing.PERSONS, user, QueryDict(query))
    assert lq.errors == {}
    return [p.last_name for p in lq.queryset().order_by(*lq.order)]


# --- Filters ---------------------------------------------------------------------------


def test_text_filters_contain_or_start_with(owner):
    owned_by(PersonFactory, owner, last_name="Abel", city="Köln")
    owned_by(PersonFactory, owner, last_name="Bauer", city="Bad Kölnhausen")
    owned_by(PersonFactory, owner, last_name="Cramer", city="Bonn")
    assert person_names(owner, "city=köln") == ["Abel", "Bauer"]
    assert person_names(owner, "city__start=köln") == ["Abel"]
    assert person_names(owner, "last_name__start=b&city=köln") == ["Bauer"]


def test_choice_date_and_number_filters(owner):
    owned_by(
        PersonFactory,
        owner,
        last_name="Abel",
        gender="female",
        household_size=1,
        birth_date=datetime.date(1980, 5, 1),
    )
    owned_by(
        PersonFactory,
        owner,
        last_name="Bauer",
        gender="male",
        household_size=3,
        birth_date=datetime.date(1990, 1, 1),
    )
    owned_by(
        PersonFactory,
        owner,
        last_name="Cramer",
        gender="diverse",
        household_size=None,
        birth_date=None,
    )
    assert person_names(owner, "gender=female&gender=diverse") == ["Abel", "Cramer"]
    assert person_names(owner, "birth_date__from=1985-01-01") == ["Bauer"]
    assert person_names(owner, "birth_date__to=1985-01-01") == ["Abel"]
    assert person_names(owner, "household_size__from=2&household_size__to=5") == ["Bauer"]


def test_owner_team_tag_organization_and_presence_filters(owner, teammate, team):
    org = owned_by(OrganizationFactory, owner, name="Muster GmbH")
    vip = Tag.objects.create(name="VIP")
    abel = owned_by(PersonFactory, owner, last_name="Abel", organization=org, phone="0221 1")
    abel.tags.add(vip)
    owned_by(PersonFactory, teammate, last_name="Bauer", email="", phone="", mobile="")
    PersonFactory(owner=owner, team=None, last_name="Cramer", phone="", mobile="0170 1")
    assert person_names(owner, "owner=me") == ["Abel", "Cramer"]
    assert person_names(owner, f"owner={teammate.uuid}") == ["Bauer"]
    assert person_names(owner, f"team={team.uuid}") == ["Abel", "Bauer"]
    assert person_names(owner, f"tag={vip.pk}") == ["Abel"]
    assert person_names(owner, f"organization={org.uuid}") == ["Abel"]
    assert person_names(owner, "has_email=0") == ["Bauer"]
    assert person_names(owner, "has_phone=1") == ["Abel", "Cramer"]


def test_organization_filters_kind_status_employees(owner):
    owned_by(OrganizationFactory, owner, name="Alpha", kind="business", status="lead", employees=5)
    owned_by(OrganizationFactory, owner, name="Beta", kind="trade", status="customer", employees=50)
    owned_by(OrganizationFactory, owner, name="Gamma", kind="trade", status="lead", employees=None)
    lq = listing.parse(listing.ORGANIZATIONS, owner, QueryDict("kind=trade&status=lead"))
    assert [o.name for o in lq.queryset()] == ["Gamma"]
    lq = listing.parse(listing.ORGANIZATIONS, owner, QueryDict("employees__from=10"))
    assert [o.name for o in lq.queryset()] == ["Beta"]


def test_filters_only_see_visible_records(owner, outsider):
    owned_by(PersonFactory, owner, last_name="Abel", city="Köln")
    owned_by(PersonFactory, outsider, last_name="Fremd", city="Köln")
    assert person_names(owner, "city=Köln") == ["Abel"]


def test_custom_field_filters(owner):
    CustomField.objects.create(
        entity="customers.person", key="segment", label="Segment", field_type="text"
    )
    CustomField.objects.create(
        entity="customers.person", key="score", label="Score", field_type="number"
    )
    owned_by(PersonFactory, owner, last_name="Abel", custom={"segment": "Mittelstand", "score": 3})
    owned_by(PersonFactory, owner, last_name="Bauer", custom={"segment": "Konzern", "score": 8})
    owned_by(PersonFactory, owner, last_name="Cramer", custom={})
    assert person_names(owner, "cf.segment=mittel") == ["Abel"]
    assert person_names(owner, "cf.score__from=5") == ["Bauer"]
    assert person_names(owner, "cf.score__to=5") == ["Abel"]
    assert person_names(owner, "cf.score__empty=1") == ["Cramer"]


def test_a_bad_filter_value_is_a_message_not_an_error(as_user, owner):
    owned_by(PersonFactory, owner, last_name="Abel", first_name="")
    CustomField.objects.create(
        entity="customers.person", key="score", label="Score", field_type="number"
    )
    response = as_user(owner).get(PERSONS, {"birth_date__from": "gestern", "cf.score__from": "x"})
    assert response.status_code == 200
    assert set(response.context["lq"].errors) == {"birth_date", "cf.score__from"}
    assert names(response) == ["Abel"]  # the other filters still apply


def test_psychographic_filters_and_columns_need_the_capability(owner, admin):
    service = Role.objects.get(code=RoleCode.SERVICE_AGENT)
    assert Capability.CUSTOMERS_PSYCHOGRAPHIC not in service.capabilities
    agent = UserFactory(username="agent", role=service)
    owned_by(PersonFactory, owner, last_name="Abel", interests="Golf")
    owned_by(PersonFactory, owner, last_name="Bauer", interests="Segeln")
    lq = listing.parse(listing.PERSONS, agent, QueryDict("interests=golf&cols=name,interests"))
    assert [p.last_name for p in lq.queryset()] == ["Abel", "Bauer"]  # ignored
    assert [c.key for c in lq.columns] == ["name"]
    lq = listing.parse(listing.PERSONS, admin, QueryDict("interests=golf&cols=name,interests"))
    assert [p.last_name for p in lq.queryset()] == ["Abel"]
    assert [c.key for c in lq.columns] == ["name", "interests"]


# --- Sorting and keyset paging ---------------------------------------------------------


def _page_through(entity, user, query, limit=7):
    lq = listing.parse(entity, user, QueryDict(query))
    seen, cursor = [], None
    while True:
        rows, cursor = paginate(lq.queryset(), cursor=cursor, limit=limit, order=lq.order)
        seen += [r.pk for r in rows]
        if cursor is None:
            return seen


def _key(value):
    # NULL sorts as the largest value, in both directions.
    return (value is None, value)


@pytest.mark.parametrize("sort", sorted(listing.PERSONS.sorts))
@pytest.mark.parametrize("descending", [False, True])
def test_every_person_sort_pages_through_all_rows_exactly_once(owner, sort, descending):
    # Repeated names, cities and dates, and NULL birth dates: ties broken by id.
    for i in range(23):
        owned_by(
            PersonFactory,
            owner,
            last_name=["Abel", "Bauer", "Cramer"][i % 3],
            first_name=["Max", "Anna"][i % 2],
            city=["Köln", "Bonn"][i % 2],
            postal_code=f"5{i % 4}000",
            email=f"p{i % 5}@example.de",
            birth_date=None if i % 4 == 0 else datetime.date(1980 + i % 3, 1, 1),
        )
    seen = _page_through(listing.PERSONS, owner, f"sort={'-' if descending else ''}{sort}")
    order = listing.PERSONS.sorts[sort]
    people = list(Person.objects.all())
    expected = sorted(
        people,
        key=lambda p: tuple(_key(getattr(p, f)) for f in order),
        reverse=descending,
    )
    assert seen == [p.pk for p in expected]


@pytest.mark.parametrize("sort", sorted(listing.ORGANIZATIONS.sorts))
def test_every_organization_sort_pages_through_all_rows_exactly_once(owner, sort):
    for i in range(17):
        owned_by(
            OrganizationFactory,
            owner,
            name=f"Firma {i % 4}",
            city=["Köln", "Bonn"][i % 2],
            employees=None if i % 3 == 0 else i % 5,
            status=["lead", "customer"][i % 2],
        )
    for descending in (False, True):
        seen = _page_through(
            listing.ORGANIZATIONS, owner, f"sort={'-' if descending else ''}{sort}"
        )
        assert sorted(seen) == sorted(Organization.objects.values_list("pk", flat=True))
        assert len(seen) == len(set(seen))


def test_unknown_sort_falls_back_to_name(owner):
    lq = listing.parse(listing.PERSONS, owner, QueryDict("sort=-password"))
    assert (lq.sort, lq.descending, lq.order) == ("name", False, ("last_name", "first_name", "id"))


def test_sorted_filtered_list_shows_more_in_the_same_view(as_user, owner):
    for i in range(PAGE_SIZE + 3):
        owned_by(
            PersonFactory,
            owner,
            last_name=f"Name{i:03d}",
            first_name="",
            city="Köln" if i % 2 else "Bonn",
        )
    client = as_user(owner)
    first = client.get(PERSONS, {"city": "Köln", "sort": "-name"})
    link = re.search(r'<tr class="more">.*?hx-get="([^"]+)"', first.text, re.S)
    assert link is None  # 27 rows: one page
    first = client.get(PERSONS, {"sort": "-name"})
    more = re.search(r'<tr class="more">.*?hx-get="\?([^"]+)"', first.text, re.S).group(1)
    more = more.replace("&amp;", "&")
    assert "sort=-name" in more
    rest = client.get(f"{PERSONS}?{more}", **HTMX)
    assert names(first) + names(rest) == [f"Name{i:03d}" for i in reversed(range(PAGE_SIZE + 3))]


def test_header_links_sort_and_reverse(as_user, owner):
    owned_by(PersonFactory, owner, last_name="Abel", city="Bonn")
    response = as_user(owner).get(PERSONS, {"city": "o", "sort": "city"})
    # The city header reverses; the name header sorts by name; both keep the filter.
    assert 'hx-get="?city=o&amp;sort=-city"' in response.text
    assert 'hx-get="?city=o&amp;sort=name"' in response.text


# --- The quick filter (q): the search index -----------------------------------------


def org_names(user, query: str) -> list[str]:
    lq = listing.parse(listing.ORGANIZATIONS, user, QueryDict(query))
    return [o.name for o in lq.queryset().order_by(*lq.order)]


@pytest.fixture
def mix(owner, teammate, outsider):
    """Persons and organizations found by name, e-mail, phone, company and city."""
    meier_gmbh = owned_by(OrganizationFactory, owner, name="Meier GmbH", city="Hagen")
    owned_by(OrganizationFactory, owner, name="Müller Metall AG", city="Köln")
    owned_by(OrganizationFactory, outsider, name="Meier Werke KG", city="Essen")
    for last, first, extra in [
        ("Müller", "Anna", {"city": "Köln"}),
        ("Mueller", "Bernd", {"city": "Bonn"}),
        ("Meier", "Dieter", {"city": "Bonn", "phone": "+49 221 1234567"}),
        ("Mayer", "Eva", {"city": "Köln"}),
        ("Abel", "Fritz", {"organization": meier_gmbh, "city": "Hagen"}),
        ("Zorn", "Gerd", {"email": "gerd@mueller-bau.de", "city": "Bonn"}),
        ("Lang", "Hans", {"city": "Mayersdorf"}),  # a city that only sounds like a name
    ]:
        owned_by(PersonFactory, owner, last_name=last, first_name=first, **extra)
    owned_by(PersonFactory, teammate, last_name="Meyer", first_name="Ida", city="Bonn")
    owned_by(PersonFactory, outsider, last_name="Meier", first_name="Udo", city="Bonn")


@pytest.fixture(params=["few", "many"])
def plan(request, monkeypatch):
    """On SQLite a quick filter with many matches walks the list's order instead of
    reading every match (``SQLiteBackend.filter_records``): the tests that take this
    run both ways, and the answer must be the same."""
    if request.param == "many":
        monkeypatch.setattr(backends.SQLiteBackend, "MANY", 1)


@pytest.mark.parametrize(
    "q, expected",
    [
        # every spelling of an umlaut, names and e-mail domain alike
        ("Müller", ["Mueller", "Müller", "Zorn"]),
        ("mueller", ["Mueller", "Müller", "Zorn"]),
        ("Muller", ["Mueller", "Müller", "Zorn"]),
        # a typo in a name by sound (Meier, Mayer, Meyer), the company by spelling
        ("Meier", ["Abel", "Mayer", "Meier", "Meyer"]),
        ("Maier", ["Mayer", "Meier", "Meyer"]),
        # several words: every one must match
        ("Meier Bonn", ["Meier", "Meyer"]),
        ("anna köln", ["Müller"]),
        # a phone number in another notation, an e-mail address, a prefix
        ("0221 1234567", ["Meier"]),
        ("gerd@mueller-bau.de", ["Zorn"]),
        ("Zo", ["Zorn"]),
        # nothing searchable in it: nothing found, as in the search box
        ("***", []),
    ],
)
def test_quick_filter_matches_as_the_global_search_does(owner, mix, q, expected, plan):
    assert person_names(owner, urlencode({"q": q})) == expected


def test_quick_filter_tolerates_typos_in_names_not_in_other_fields(owner, mix):
    # "Mayersdorf" sounds like "Maier" but is not spelled so: the global search ranks
    # Hans Lang last, the list (sorted by name, not by rank) leaves him out
    assert "Hans Lang" in [
        h.title for g in search.search(user=owner, q="Maier", limit=20).groups for h in g.hits
    ]
    assert "Lang" not in person_names(owner, "q=Maier")
    assert person_names(owner, "q=Mayersdorf") == ["Lang"]


def test_quick_filter_keeps_to_the_lists_kind(owner, mix, plan):
    assert org_names(owner, "q=Meier") == ["Meier GmbH"]
    assert org_names(owner, "q=Mueller") == ["Müller Metall AG"]
    assert org_names(owner, "q=Hagen") == ["Meier GmbH"]
    assert person_names(owner, "q=Metall") == []


def test_quick_filter_combines_with_filters_visibility_and_sort(owner, outsider, mix, plan):
    assert person_names(owner, "q=Meier&city=Bonn") == ["Meier", "Meyer"]
    assert person_names(owner, "q=Meier&sort=-name") == ["Meyer", "Meier", "Mayer", "Abel"]
    assert person_names(owner, "q=Meier&owner=me&has_phone=1") == ["Meier"]
    # the outsider finds only their own Meier and Meier Werke, never the others
    assert person_names(outsider, "q=Meier") == ["Meier"]
    assert org_names(outsider, "q=Meier") == ["Meier Werke KG"]


@pytest.mark.parametrize("sort", ["name", "-city", "created_at"])
def test_quick_filter_pages_through_every_match_exactly_once(owner, sort, plan):
    for i in range(23):
        owned_by(
            PersonFactory,
            owner,
            last_name=["Schmidt", "Schmitt", "Schmid", "Bauer"][i % 4],
            first_name=f"P{i:02d}",
            city=["Köln", "Bonn", None][i % 3] or "",
        )
    seen = _page_through(listing.PERSONS, owner, f"q=Schmidt&sort={sort}", limit=4)
    lq = listing.parse(listing.PERSONS, owner, QueryDict(f"sort={sort}"))
    expected = [p.pk for p in lq.queryset().order_by(*lq.order) if p.last_name.startswith("Schm")]
    assert len(expected) == 18
    assert seen == expected


def test_quick_filter_follows_changes_to_the_records(owner, admin):
    person = services.person_create(actor=owner, data={"last_name": "Altmann"})
    assert person_names(owner, "q=Altmann") == ["Altmann"]
    services.person_update(person=person, actor=owner, data={"last_name": "Neumann"})
    assert person_names(owner, "q=Altmann") == []
    assert person_names(owner, "q=Neumann") == ["Neumann"]


def test_quick_filter_in_the_page_and_the_api(as_user, owner, mix):
    response = as_user(owner).get(PERSONS, {"q": "Müller"}, **HTMX)
    assert names(response) == ["Mueller, Bernd", "Müller, Anna", "Zorn, Gerd"]
    body = as_user(owner).get(ORGANIZATIONS, {"q": "Muller"}, **HTMX)
    assert names(body) == ["Müller Metall AG"]
    api = as_user(owner).get("/api/v1/persons", {"q": "Maier", "limit": 2}, **reader(owner))
    first = api.json()
    assert [p["last_name"] for p in first["items"]] == ["Mayer", "Meier"]
    rest = as_user(owner).get(
        "/api/v1/persons", {"q": "Maier", "cursor": first["next_cursor"]}, **reader(owner)
    )
    assert [p["last_name"] for p in rest.json()["items"]] == ["Meyer"]


def test_quick_filter_costs_no_extra_query(client, owner, mix, django_assert_num_queries):
    client.force_login(owner)
    client.get(PERSONS, {"q": "Meier"}, **HTMX)
    # the search is a subquery of the rows' query: as many queries as without it
    # (SQLite first counts the matches, up to SQLiteBackend.MANY, to pick the plan)
    with django_assert_num_queries(8 if connection.vendor == "sqlite" else 7):
        response = client.get(PERSONS, {"q": "Meier"}, **HTMX)
    assert len(names(response)) == 4
    with django_assert_num_queries(7):
        client.get(PERSONS, **HTMX)


# --- Organization pickers --------------------------------------------------------------

SUGGEST = reverse("customers:organization_suggest")


def test_the_filter_form_has_organization_pickers(as_user, owner, outsider):
    meier = owned_by(OrganizationFactory, owner, name="Meier GmbH")
    hidden = owned_by(OrganizationFactory, outsider, name="Geheim AG")
    client = as_user(owner)

    page = client.get(PERSONS).text
    assert '<input type="hidden" name="organization" value="">' in page
    assert 'name="term" form="picker-terms" value=""' in page
    assert f'hx-get="{SUGGEST}"' in page
    assert '<form id="picker-terms" hidden></form>' in page
    assert "customers/record_picker.js" in page

    # a chosen organization: its uuid is sent, its name shown
    page = client.get(PERSONS, {"organization": str(meier.uuid)}).text
    assert f'<input type="hidden" name="organization" value="{meier.uuid}">' in page
    assert 'name="term" form="picker-terms" value="Meier GmbH"' in page
    # one the user may not see: its name is not given away
    page = client.get(PERSONS, {"organization": str(hidden.uuid)}).text
    assert "Geheim AG" not in page

    # the organization list picks the parent organization
    page = client.get(ORGANIZATIONS, {"parent": str(meier.uuid)}).text
    assert f'<input type="hidden" name="parent" value="{meier.uuid}">' in page
    assert 'name="term" form="picker-terms" value="Meier GmbH"' in page


def test_suggestions_are_organizations_the_user_may_see(as_user, owner, outsider):
    meier = owned_by(OrganizationFactory, owner, name="Meier GmbH", city="Hagen")
    mayer = owned_by(OrganizationFactory, owner, name="Mayer Bau", city="Köln")
    owned_by(OrganizationFactory, outsider, name="Meier Werke")
    owned_by(PersonFactory, owner, last_name="Meier")
    client = as_user(owner)

    response = client.get(SUGGEST, {"term": "meier"}, **HTMX)

    assert response.status_code == 200
    assert re.findall(r'data-pick="([^"]+)" data-name="([^"]+)"', response.text) == [
        (str(meier.uuid), "Meier GmbH"),
        (str(mayer.uuid), "Mayer Bau"),  # sounds alike: after the name spelled so
    ]
    assert "Meier Werke" not in response.text
    assert "No organizations found." in client.get(SUGGEST, {"term": "Zzyzx"}).text
    assert client.get(SUGGEST, {"term": ""}).text.strip() == ""


def test_suggestions_need_the_view_capability(client, team):
    nobody = UserFactory(username="nobody", role=None, teams=[team])
    client.force_login(nobody)
    assert client.get(SUGGEST, {"term": "a"}).status_code == 403
    client.logout()
    assert client.get(SUGGEST, {"term": "a"}).status_code == 302


def test_a_picked_organization_filters_the_list(as_user, owner):
    meier = owned_by(OrganizationFactory, owner, name="Meier GmbH")
    tochter = owned_by(OrganizationFactory, owner, name="Meier Tochter", parent=meier)
    owned_by(PersonFactory, owner, last_name="Abel", first_name="Anna", organization=meier)
    owned_by(PersonFactory, owner, last_name="Bauer", first_name="Ben", organization=tochter)
    client = as_user(owner)
    persons = client.get(PERSONS, {"organization": str(meier.uuid), "q": ""}, **HTMX)
    assert names(persons) == ["Abel, Anna"]
    organizations = client.get(ORGANIZATIONS, {"parent": str(meier.uuid)}, **HTMX)
    assert names(organizations) == ["Meier Tochter"]


# --- Columns ---------------------------------------------------------------------------


def test_chosen_columns_include_custom_fields(as_user, owner, team):
    CustomField.objects.create(
        entity="customers.person", key="segment", label="Segment", field_type="text"
    )
    person = owned_by(PersonFactory, owner, last_name="Abel", custom={"segment": "Mittelstand"})
    person.tags.add(Tag.objects.create(name="VIP"))
    response = as_user(owner).get(PERSONS, {"cols": "name,team,tags,cf.segment"}, **HTMX)
    headers = re.findall(r"<th[^>]*>(?:<a [^>]+>)?([^<]+)", response.text)
    assert headers == ["Name", "Team", "Tags", "Segment"]
    assert "<td>Vertrieb Nord</td><td>VIP</td><td>Mittelstand</td>" in response.text


def test_the_url_holds_the_whole_state(as_user, owner):
    owned_by(PersonFactory, owner, last_name="Abel", city="Köln")
    response = as_user(owner).get(PERSONS, {"city": "Köln", "sort": "-city", "cols": "name,city"})
    assert response.context["state"] == "city=K%C3%B6ln&sort=-city&cols=name%2Ccity"
    assert 'hx-push-url="true"' in response.text


# --- Queries ---------------------------------------------------------------------------


@pytest.mark.parametrize("rows", [5, 30])
@pytest.mark.parametrize("url", [PERSONS, ORGANIZATIONS])
def test_list_pages_cost_the_same_queries_at_any_size(
    client, owner, rows, url, django_assert_num_queries
):
    org = owned_by(OrganizationFactory, owner)
    tag = Tag.objects.create(name="VIP")
    for _ in range(rows):
        owned_by(PersonFactory, owner, organization=org).tags.add(tag)
        owned_by(OrganizationFactory, owner).tags.add(tag)
    client.force_login(owner)
    query = {"cols": "name,owner,team,tags,city", "city": ""}
    client.get(url, query)
    # Shell (4), team ids, custom fields, rows, tags, saved views, users, teams, tags.
    with django_assert_num_queries(12):
        response = client.get(url, query)
    assert len(names(response)) == rows + (1 if url == ORGANIZATIONS else 0)
    with django_assert_num_queries(8):  # the htmx table: no forms around it
        client.get(url, query, **HTMX)


@pytest.mark.parametrize("rows", [5, 30])
def test_custom_field_columns_cost_no_query_per_row(client, owner, rows, django_assert_num_queries):
    CustomField.objects.create(
        entity="customers.person", key="segment", label="Segment", field_type="text"
    )
    for i in range(rows):
        owned_by(PersonFactory, owner, custom={"segment": f"S{i}"})
    client.force_login(owner)
    query = {"cols": "name,cf.segment"}
    client.get(PERSONS, query, **HTMX)
    with django_assert_num_queries(7):  # the same at any size
        response = client.get(PERSONS, query, **HTMX)
    assert response.text.count("<td>S") == rows
