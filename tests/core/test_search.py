"""The global search, through its public entry points (``core.search``, the page,
the htmx dropdown, the API), on whichever database the suite runs: SQLite (FTS5)
and PostgreSQL (tsvector) must give the same answers."""

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from kontor.core import search
from kontor.core.models import CustomField, CustomFieldType, SearchEntry
from kontor.core.search import backends, tokens
from kontor.customers import services
from kontor.customers.models import Organization, Person
from tests.core.test_api import reader
from tests.customers.factories import OrganizationFactory, PersonFactory, owned_by

pytestmark = pytest.mark.django_db

# The ranking across the whole result (title word > title prefix > title sound >
# other fields) took a query per tier and 2 s per search at a million persons
# (benchmark, large). search() ranks the names that begin the sort key first (a
# surname, "Müller Hans"), then title matches first within the page only, until an
# index orders by rank. These tests keep the wanted order.
RANKING_REVERTED = "ranking by tiers reverted for speed; see search.search"


@pytest.fixture(autouse=True, params=["few", "many"])
def plan(request, monkeypatch):
    """Every search both ways: its matches read from the full-text index and sorted
    (few, as in a small database), and the walk along the sort index (many)."""
    if request.param == "many":
        for backend in (backends.SQLiteBackend, backends.PostgresBackend):
            monkeypatch.setattr(backend, "FEW_MATCHES", 0)
    return request.param


def titles(user, q, **kwargs) -> dict[str, list[str]]:
    """The hits' titles by kind, in their order."""
    results = search.search(user=user, q=q, **kwargs)
    return {g.kind: [h.title for h in g.hits] for g in results.groups}


def person(user, **kwargs) -> Person:
    return services.person_create(actor=user, data=kwargs)


def organization(user, **kwargs) -> Organization:
    return services.organization_create(actor=user, data=kwargs)


@pytest.fixture
def muellers(owner):
    """Persons whose names are spelled alike or sound alike."""
    for first, last in [
        ("Anna", "Müller"),
        ("Bernd", "Mueller"),
        ("Carla", "Muller"),
        ("Dieter", "Meier"),
        ("Eva", "Mayer"),
        ("Frank", "Meyer"),
        ("Gerd", "Schulz"),
    ]:
        person(owner, first_name=first, last_name=last)


# --- Typical queries -------------------------------------------------------------------


@pytest.mark.parametrize("q", ["Müller", "Mueller", "Muller", "müller", "MUELLER"])
def test_a_surname_is_found_in_every_spelling(owner, muellers, q):
    assert titles(owner, q)["person"] == ["Anna Müller", "Bernd Mueller", "Carla Muller"]


def test_names_that_sound_alike_are_found_after_those_spelled_alike(owner, muellers):
    # given Meier, Mayer, Meyer: Kölner Phonetik codes all of them "67"
    # when searching "Meier", then Meier is found by spelling, the others by sound
    results = search.search(user=owner, q="Meier")
    (group,) = results.groups
    assert [(h.title, h.phonetic) for h in group.hits] == [
        ("Dieter Meier", False),
        ("Eva Mayer", True),
        ("Frank Meyer", True),
    ]


def test_a_misspelled_name_is_found_by_its_first_three_letters(owner):
    person(owner, first_name="Jana", last_name="Schmidt")
    person(owner, first_name="Jan", last_name="Bauer")
    assert titles(owner, "Shm") == {"person": ["Jana Schmidt"]}
    assert titles(owner, "Shmit") == {"person": ["Jana Schmidt"]}


def test_prefixes_find_as_you_type(owner):
    organization(owner, name="Schmitz Maschinenbau GmbH", city="Köln")
    organization(owner, name="Schmidt & Söhne KG", city="Bonn")
    organization(owner, name="Bauer AG", city="Erfurt")
    assert titles(owner, "Schmi") == {
        "organization": ["Schmidt & Söhne KG", "Schmitz Maschinenbau GmbH"]
    }
    assert titles(owner, "Schmitz Masch") == {"organization": ["Schmitz Maschinenbau GmbH"]}


def test_a_surname_comes_before_a_company_of_that_name(owner):
    # given people at Müller GmbH, who all sort before the Müllers
    muller_gmbh = organization(owner, name="Müller GmbH", city="Köln")
    for last in ("Abel", "Adler", "Arndt"):
        person(owner, first_name="Till", last_name=last, organization=muller_gmbh)
    person(owner, first_name="Zoe", last_name="Müller")
    person(owner, first_name="Hans", last_name="Müller")
    results = search.search(user=owner, q="Muller", kinds=["person"], limit=2)
    (group,) = results.groups
    assert ([h.title for h in group.hits], group.more) == (["Hans Müller", "Zoe Müller"], True)
    assert titles(owner, "Müller")["person"] == [
        *("Hans Müller", "Zoe Müller"),
        *("Till Abel", "Till Adler", "Till Arndt"),
    ]


@pytest.mark.parametrize("q", ["Müller Hans", "Hans Müller", "mueller h"])
def test_a_whole_name_comes_first_in_either_order(owner, q):
    # given Müllers who have "Hans" elsewhere (a street, a company), sorting first
    person(owner, first_name="Anna", last_name="Müller", city="Hansestadt Rostock")
    person(owner, first_name="Bea", last_name="Müller", job_title="Hanse-Lotsin")
    person(owner, first_name="Hans", last_name="Müller")
    assert titles(owner, q, limit=1)["person"] == ["Hans Müller"]


def test_whole_words_rank_above_prefixes(owner):
    person(owner, first_name="Anna", last_name="Meierhof")
    person(owner, first_name="Bert", last_name="Meier")
    assert titles(owner, "Meier")["person"] == ["Bert Meier", "Anna Meierhof"]


@pytest.mark.xfail(strict=True, reason=RANKING_REVERTED)
def test_names_rank_above_other_fields_and_sound_alikes_in_between(owner):
    # given a realistic mix: Meiers, a Meierhofer, a Mayer and a Maier found by sound,
    # people whose company, e-mail or city holds "Meier", and one only sounding so
    # in another field
    meier_gmbh = organization(owner, name="Meier GmbH", city="Hagen")
    person(owner, first_name="Bruno", last_name="Abel", organization=meier_gmbh)
    person(owner, first_name="Carla", last_name="Adler", email="c.adler@meier-gmbh.de")
    person(owner, first_name="Dora", last_name="Zorn", city="Meiersberg")
    person(owner, first_name="Emil", last_name="Bach", email="emil@mayer-bau.de")
    person(owner, first_name="Hans", last_name="Meier")
    person(owner, first_name="Anna", last_name="Meier")
    person(owner, first_name="Otto", last_name="Meierhofer")
    person(owner, first_name="Eva", last_name="Mayer")
    person(owner, first_name="Ida", last_name="Maier", email="ida@meier-gmbh.de")
    person(owner, first_name="Karl", last_name="Schmitz")

    results = search.search(user=owner, q="Meier", kinds=["person"], limit=20)

    # then: whole name, start of a name, a name sounding alike, other fields by
    # spelling, other fields by sound; alphabetical (surname first) within each
    (group,) = results.groups
    assert [(h.title, h.phonetic) for h in group.hits] == [
        ("Anna Meier", False),
        ("Hans Meier", False),
        ("Otto Meierhofer", False),
        ("Ida Maier", False),  # sounds like it, and works at meier-gmbh.de
        ("Eva Mayer", True),
        ("Bruno Abel", False),  # at Meier GmbH
        ("Carla Adler", False),  # c.adler@meier-gmbh.de
        ("Dora Zorn", False),  # lives in Meiersberg
        ("Emil Bach", True),  # emil@mayer-bau.de: only by sound, not in the name
    ]
    assert group.more is False


@pytest.mark.xfail(strict=True, reason=RANKING_REVERTED)
def test_a_typo_finds_the_name_before_other_fields_spelled_so(owner):
    # given "Maier" typed for Meier, and someone whose e-mail domain is maier.de
    person(owner, first_name="Jan", last_name="Albrecht", email="jan@maier.de")
    person(owner, first_name="Lutz", last_name="Meier")
    assert titles(owner, "Maier") == {"person": ["Lutz Meier", "Jan Albrecht"]}


def test_the_ranking_holds_across_pages_of_the_limit(owner):
    # given more persons at meier-gmbh.de than the page holds, all sorting before
    # the one Meier alphabetically
    for last in ("Abel", "Adler", "Arndt", "Bach"):
        person(owner, first_name="X", last_name=last, email=f"{last.lower()}@meier-gmbh.de")
    person(owner, first_name="Zoe", last_name="Meier")
    results = search.search(user=owner, q="Meier", kinds=["person"], limit=2)
    (group,) = results.groups
    assert ([h.title for h in group.hits], group.more) == (["Zoe Meier", "X Abel"], True)


@pytest.mark.xfail(strict=True, reason=RANKING_REVERTED)
def test_several_words_rank_by_the_title_too(owner):
    person(owner, first_name="Jens", last_name="Hansen", email="hans@meier-gmbh.de")
    person(owner, first_name="Hannes", last_name="Mayer")
    person(owner, first_name="Hansi", last_name="Meier")
    person(owner, first_name="Hans", last_name="Meier", city="Köln")
    assert titles(owner, "Hans Meier") == {
        "person": ["Hans Meier", "Hansi Meier", "Hannes Mayer", "Jens Hansen"]
    }


@pytest.mark.xfail(strict=True, reason=RANKING_REVERTED)
def test_an_organization_is_ranked_likewise(owner):
    organization(owner, name="Bäckerei Schulz", city="Berlin")
    organization(owner, name="Autohaus Ost", city="Schulzendorf")
    organization(owner, name="Schultze & Co")
    organization(owner, name="Schulz AG")
    assert titles(owner, "Schulz") == {
        "organization": [
            "Bäckerei Schulz",
            "Schulz AG",
            "Schultze & Co",  # sounds alike
            "Autohaus Ost",  # the city begins with it
        ]
    }


def test_every_word_must_match(owner):
    person(owner, first_name="Anna", last_name="Müller", city="Köln")
    person(owner, first_name="Bernd", last_name="Müller", city="Bonn")
    assert titles(owner, "Müller Köln") == {"person": ["Anna Müller"]}
    assert titles(owner, "mueller koeln") == {"person": ["Anna Müller"]}
    assert titles(owner, "Anna Bonn") == {}


def test_an_email_address_whole_or_in_part(owner):
    person(owner, first_name="Anna", last_name="Lang", email="a.lang@beispiel.de")
    person(owner, first_name="Otto", last_name="Kurz", email="otto@kurz-gmbh.de")
    assert titles(owner, "a.lang@beispiel.de") == {"person": ["Anna Lang"]}
    assert titles(owner, "alang") == {"person": ["Anna Lang"]}
    assert titles(owner, "kurz-gmbh") == {"person": ["Otto Kurz"]}


def test_an_email_address_is_one_term_matched_as_typed(owner):
    person(owner, first_name="Anna", last_name="Lang", email="anna.lang@beispiel.de")
    person(owner, first_name="Anna", last_name="Lange", email="anna.lange@beispiel.de")
    person(owner, first_name="Bernd", last_name="Beispiel", email="bernd@anna-lang.de")
    assert tokens.parse_query("anna.lang@beispiel.de") == [
        tokens.Term(prefixes=("annalangbeispielde",), selective=True)
    ]
    assert titles(owner, "anna.lang@beispiel.de") == {"person": ["Anna Lang"]}
    assert titles(owner, "Anna.Lange@Beispiel.DE") == {"person": ["Anna Lange"]}
    # while typing: everything up to the "@" and beyond is a prefix of the address
    assert titles(owner, "anna.lange@beis") == {"person": ["Anna Lange"]}
    assert titles(owner, "bernd@") == {"person": ["Bernd Beispiel"]}


@pytest.mark.parametrize("looked_up_first", [1000, 1], ids=["few matches", "many matches"])
def test_an_email_address_finds_the_same_however_many_it_matches(
    owner, outsider, monkeypatch, looked_up_first
):
    # A selective query's few matches are looked up first, many are filtered by the
    # index as any other query's: the answer is the same either way.
    for backend in (backends.SQLiteBackend, backends.PostgresBackend):
        monkeypatch.setattr(backend, "FEW_MATCHES", looked_up_first)
    person(owner, first_name="Anna", last_name="Lange", email="anna.lange@beispiel.de")
    person(owner, first_name="Anna", last_name="Lang", email="anna.lang@beispiel.de")
    person(outsider, first_name="Anna", last_name="Langer", email="anna.langer@beispiel.de")
    assert titles(owner, "Anna.Lang@") == {"person": ["Anna Lang", "Anna Lange"]}
    assert titles(outsider, "anna.lang@") == {"person": ["Anna Langer"]}
    assert titles(owner, "anna.langer@") == {}


@pytest.mark.parametrize(
    "q", ["0221 1234567", "+49 221 1234567", "0221/123 45 67", "+49 (221) 1234567", "02211234"]
)
def test_a_phone_number_in_any_notation(owner, q):
    person(owner, first_name="Anna", last_name="Lang", phone="+49 221 1234567")
    person(owner, first_name="Otto", last_name="Kurz", phone="030 9876543")
    assert titles(owner, q) == {"person": ["Anna Lang"]}


def test_a_city_and_a_customer_number(owner):
    kaiser = organization(owner, name="Kaiser GmbH", city="Düsseldorf")
    koenig = organization(owner, name="König AG", city="Essen")
    assert titles(owner, "Düsseldorf") == {"organization": ["Kaiser GmbH"]}
    assert titles(owner, "Duesseldorf") == {"organization": ["Kaiser GmbH"]}
    for org in (kaiser, koenig):
        number = org.customer_number  # assigned by the service, e.g. "K-0000001"
        compact = "".join(c for c in number if c.isalnum())
        digits = "".join(c for c in number if c.isdigit())
        for q in (number, compact.lower(), digits):
            assert titles(owner, q) == {"organization": [org.name]}, q


def test_a_person_is_found_by_the_name_of_their_company(owner):
    org = organization(owner, name="Zander Logistik GmbH")
    person(owner, first_name="Anna", last_name="Lang", organization=org)
    assert titles(owner, "Zander") == {
        "person": ["Anna Lang"],
        "organization": ["Zander Logistik GmbH"],
    }
    hit = search.search(user=owner, q="Lang").groups[0].hits[0]
    assert (hit.subtitle, hit.url) == (
        "Zander Logistik GmbH",
        reverse("customers:person_detail", args=[hit.uuid]),
    )


def test_custom_field_text_is_searchable(owner, admin):
    CustomField.objects.create(
        entity="customers.organization",
        key="branch_code",
        label="Filialcode",
        field_type=CustomFieldType.TEXT,
    )
    org = owned_by(OrganizationFactory, owner, name="Hansa Handel")
    services.organization_update(
        organization=org, actor=owner, data={"custom": {"branch_code": "Nordlicht-7"}}
    )
    assert titles(owner, "nordlicht") == {"organization": ["Hansa Handel"]}


def test_results_are_grouped_by_kind_and_limited(owner):
    for i in range(4):
        person(owner, first_name=f"Nr{i}", last_name="Krause")
    organization(owner, name="Krause Bau")
    results = search.search(user=owner, q="Krause", limit=3)
    assert [(g.kind, len(g.hits), g.more) for g in results.groups] == [
        ("person", 3, True),
        ("organization", 1, False),
    ]
    assert titles(owner, "Krause", kinds=["organization"]) == {"organization": ["Krause Bau"]}


# --- Visibility ------------------------------------------------------------------------


@pytest.fixture
def records(owner, teammate, outsider):
    person(owner, first_name="Olaf", last_name="Krüger")
    person(teammate, first_name="Tina", last_name="Krüger")
    person(outsider, first_name="Udo", last_name="Krüger")
    organization(outsider, name="Krüger Werke")


def test_a_rep_sees_their_teams_records_only(owner, records):
    assert titles(owner, "Krüger") == {"person": ["Olaf Krüger", "Tina Krüger"]}


def test_an_outsider_never_sees_another_teams_records(outsider, records):
    results = search.search(user=outsider, q="Krüger", limit=1)
    assert [(g.kind, [h.title for h in g.hits], g.more) for g in results.groups] == [
        ("person", ["Udo Krüger"], False),  # two hidden namesakes do not make "more"
        ("organization", ["Krüger Werke"], False),
    ]


def test_an_administrator_sees_everything(admin, records):
    assert titles(admin, "Krüger") == {
        "person": ["Olaf Krüger", "Tina Krüger", "Udo Krüger"],
        "organization": ["Krüger Werke"],
    }


def test_nobody_anonymous_or_inactive_finds_anything(owner, records):
    from django.contrib.auth.models import AnonymousUser

    assert titles(AnonymousUser(), "Krüger") == {}
    owner.is_active = False
    assert titles(owner, "Krüger") == {}


def test_a_change_of_owner_moves_the_record_out_of_sight(owner, outsider, admin):
    anna = person(owner, first_name="Anna", last_name="Wendt")
    services.person_update(
        person=anna, actor=admin, data={"owner": outsider, "team": outsider.teams.first()}
    )
    assert titles(owner, "Wendt") == {}
    assert titles(outsider, "Wendt") == {"person": ["Anna Wendt"]}


# --- Keeping the index current ---------------------------------------------------------


def test_the_index_follows_creates_updates_and_deletes(owner, admin):
    anna = person(owner, first_name="Anna", last_name="Alt")
    assert titles(owner, "Alt") == {"person": ["Anna Alt"]}

    anna = services.person_update(person=anna, actor=owner, data={"last_name": "Neu"})
    assert titles(owner, "Alt") == {}
    assert titles(owner, "Neu") == {"person": ["Anna Neu"]}

    services.person_delete(person=anna, actor=admin)
    assert titles(owner, "Neu") == {}
    assert SearchEntry.objects.count() == 0


def test_renaming_an_organization_reindexes_its_persons(owner, django_assert_max_num_queries):
    org = organization(owner, name="Altname GmbH")
    for first in ("Anna", "Bert", "Cleo"):
        person(owner, first_name=first, last_name="Lang", organization=org)
    other = person(owner, first_name="Dora", last_name="Lang")

    services.organization_update(organization=org, actor=owner, data={"name": "Neuname AG"})

    assert titles(owner, "Altname") == {}
    assert titles(owner, "Neuname") == {
        "person": ["Anna Lang", "Bert Lang", "Cleo Lang"],
        "organization": ["Neuname AG"],
    }
    assert titles(owner, "Dora")["person"] == [other.full_name]


def test_deleting_an_organization_reindexes_its_former_persons(
    owner, admin, django_capture_on_commit_callbacks
):
    org = organization(owner, name="Zeitweise GmbH")
    person(owner, first_name="Anna", last_name="Lang", organization=org)
    with django_capture_on_commit_callbacks(execute=True):
        services.organization_delete(organization=org, actor=admin)
    assert titles(owner, "Zeitweise") == {}
    assert titles(owner, "Anna") == {"person": ["Anna Lang"]}


def test_rebuild_indexes_records_loaded_in_bulk(owner, teammate):
    # given records written past the services (as the demo loader does)
    Person.objects.create(
        first_name="Anna", last_name="Bulk", owner=owner, team=owner.teams.first()
    )
    Organization.objects.create(name="Bulk Ware AG", owner=teammate, team=teammate.teams.first())
    assert titles(owner, "Bulk") == {}

    assert search.rebuild() == {"person": 1, "organization": 1}

    assert titles(owner, "Bulk") == {"person": ["Anna Bulk"], "organization": ["Bulk Ware AG"]}
    # again, and for one kind: nothing doubles
    assert search.rebuild(kinds=["person"]) == {"person": 1}
    assert SearchEntry.objects.count() == 2
    assert titles(owner, "Bulk") == {"person": ["Anna Bulk"], "organization": ["Bulk Ware AG"]}


def _entries():
    return list(
        SearchEntry.objects.order_by("kind", "object_id").values_list(
            "kind",
            "object_id",
            "uuid",
            "owner_id",
            "team_id",
            "title",
            "subtitle",
            "sort_key",
            "tokens",
        )
    )


@pytest.fixture
def full_records(owner, teammate):
    """Records with every field their documents read, as the services index them."""
    CustomField.objects.create(
        entity="customers.person", key="hobby", label="Hobby", field_type=CustomFieldType.TEXT
    )
    org = organization(
        owner,
        name="Bäckerei Groß & Söhne GmbH",
        legal_name="Großbäckerei Süd GmbH",
        city="München",
        industry="Lebensmittel",
        email="info@baeckerei-gross.de",
        phone="+49 89 1234567",
    )
    parent = organization(teammate, name="Holding Nord AG", city="Kiel")
    services.organization_update(organization=org, actor=owner, data={"parent": parent})
    for i, (first, last) in enumerate([("Jürgen", "Weiß"), ("Zoë", "Ørsted"), ("Ann", "Lee")]):
        person(
            owner if i % 2 else teammate,
            title="Dr." if i == 0 else "",
            first_name=first,
            last_name=last,
            organization=org if i < 2 else None,
            city="Köln",
            job_title="Einkäufer",
            department="Einkauf",
            email=f"p{i}@beispiel-straße.de" if i == 0 else f"p{i}@example.de",
            email2=f"privat{i}@example.de",
            phone="0221 1234567",
            mobile=f"+49 171 765432{i}",
            custom={"hobby": "Segelflug"},
        )


def test_the_rebuild_makes_the_same_entries_as_the_services(full_records):
    by_services = _entries()
    assert len(by_services) == 5
    search.rebuild()
    assert _entries() == by_services
    search.rebuild(kinds=["person"])
    assert _entries() == by_services


def test_the_rebuild_reads_each_kind_in_bulk(owner):
    # A field the documents read but the rebuild does not load (Kind.fields) would
    # be loaded row by row: more records, more queries.
    def queries_for(count):
        for i in range(count):
            org = organization(owner, name=f"Firma {i}", city="Köln")
            person(owner, first_name="Anna", last_name=f"Lang{i}", organization=org, city="Köln")
        with CaptureQueriesContext(connection) as captured:
            search.rebuild()
        return len(captured)

    few = queries_for(2)
    assert queries_for(20) == few


def test_the_rebuild_command(owner, capsys):
    owned_by(PersonFactory, owner, first_name="Anna", last_name="Kommando")
    call_command("search_rebuild")
    assert "1 person" in capsys.readouterr().out
    assert titles(owner, "Kommando") == {"person": ["Anna Kommando"]}


# --- Bad input -------------------------------------------------------------------------

BAD_QUERIES = [
    "",
    "   ",
    "\x00",
    "x" * 5000,
    "Müller " * 100,
    '"',
    '"Müller',
    "*",
    "Mül*",
    ":",
    "name:Müller",
    "-Müller",
    "Müller OR Meier",
    "NEAR(a b)",
    "a & b | !c",
    "'; DROP TABLE core_searchentry; --",
    "^$%&/()=?`´{}[]\\",
    "()",
    "ü",
    "\u202e\u200b",
    "+",
    "++49",
    "-- 0",
]


@pytest.mark.parametrize("q", BAD_QUERIES)
def test_odd_queries_never_fail(owner, muellers, client, q):
    search.search(user=owner, q=q)
    client.force_login(owner)
    # A NUL is refused before the search sees it (tests/core/test_nul_guard.py).
    page, api = (400, 422) if "\x00" in q else (200, 200)
    assert client.get("/search/", {"q": q}).status_code == page
    assert client.get("/api/v1/search", {"q": q}, **reader(owner)).status_code == api


def test_fts_syntax_is_taken_literally(owner, muellers):
    assert titles(owner, '"Müller"') == titles(owner, "Müller")
    assert titles(owner, "Müller OR Schulz") == {}  # three words, "or" matches none
    assert titles(owner, "-Müller")["person"] == titles(owner, "Müller")["person"]


def test_an_empty_query_runs_no_search(owner, django_assert_num_queries):
    with django_assert_num_queries(0):
        assert search.search(user=owner, q="  *  ").empty


# --- The page, the dropdown and the API ------------------------------------------------


def test_the_results_page(client, owner, muellers):
    client.force_login(owner)
    response = client.get("/search/", {"q": "Müller"})
    assert response.status_code == 200
    body = response.content.decode()
    assert "Anna Müller" in body and "Bernd Mueller" in body and "Gerd Schulz" not in body


def test_the_dropdown_is_an_htmx_partial(client, owner, muellers):
    client.force_login(owner)
    response = client.get(
        "/search/",
        {"q": "Mül"},
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="global-search-results",
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in body
    assert body.count("<li>") == 3
    assert 'href="/search/?q=M%C3%BCl"' in body


def test_the_search_box_is_on_every_page(client, owner):
    client.force_login(owner)
    body = client.get("/").content.decode()
    assert 'hx-get="/search/"' in body
    assert 'id="global-search-results"' in body


def test_search_requires_login(client):
    response = client.get("/search/", {"q": "Müller"})
    assert response.status_code == 302


def test_a_search_costs_a_few_queries_per_kind(owner, muellers, django_assert_max_num_queries):
    # Whether the words match few entries (once for all kinds), then per kind: the
    # names beginning with each spelling of a word, the page, and, for a word with a
    # sound, the sound-alikes while the page is not full; and one for the
    # visibility of the persons' organizations (see search.search).
    search.search(user=owner, q="x")  # the user's role and teams, cached on the user
    # Müller, Mueller and Muller begin the page: no further search
    with django_assert_max_num_queries(4):
        search.search(user=owner, q="Müller", kinds=["person"], limit=2)
    # a single letter matches many at any size: not asked, no names looked up
    with django_assert_max_num_queries(2):
        search.search(user=owner, q="M", kinds=["person"], limit=2)
    # a rare name, each kind: spelling and sound
    with django_assert_max_num_queries(12):
        search.search(user=owner, q="Meier Dieter", kinds=["person", "organization"])
    # no phonetic code in the query (digits): no sound-alikes
    with django_assert_max_num_queries(3):
        search.search(user=owner, q="4711", kinds=["person"])


def test_a_search_request_costs_a_fixed_number_of_queries(
    client, owner, muellers, django_assert_max_num_queries
):
    client.force_login(owner)
    # session, user, 2FA device, role, teams, and per kind at most five tiers of two
    with django_assert_max_num_queries(25):
        client.get("/search/", {"q": "Mül"})
    with django_assert_max_num_queries(25):
        client.get(
            "/search/",
            {"q": "Meier"},
            HTTP_HX_REQUEST="true",
            HTTP_HX_TARGET="global-search-results",
        )


def test_the_api_returns_grouped_hits(client, owner, muellers):
    org = organization(owner, name="Müller Metall GmbH", city="Hagen")
    body = client.get("/api/v1/search", {"q": "Müller", "limit": 2}, **reader(owner)).json()
    assert body == {
        "query": "Müller",
        "groups": [
            {
                "kind": "person",
                "label": "Persons",
                "more": True,
                "hits": [
                    {
                        "kind": "person",
                        "uuid": str(Person.objects.get(first_name="Anna").uuid),
                        "title": "Anna Müller",
                        "subtitle": "",
                        "phonetic": False,
                    },
                    {
                        "kind": "person",
                        "uuid": str(Person.objects.get(first_name="Bernd").uuid),
                        "title": "Bernd Mueller",
                        "subtitle": "",
                        "phonetic": False,
                    },
                ],
            },
            {
                "kind": "organization",
                "label": "Organizations",
                "more": False,
                "hits": [
                    {
                        "kind": "organization",
                        "uuid": str(org.uuid),
                        "title": "Müller Metall GmbH",
                        "subtitle": f"Hagen · {org.customer_number}",
                        "phonetic": False,
                    }
                ],
            },
        ],
    }


def test_the_api_filters_by_kind_and_rejects_unknown_kinds(client, owner, muellers):
    organization(owner, name="Müller Metall GmbH")
    body = client.get(
        "/api/v1/search", {"q": "Müller", "kinds": "organization"}, **reader(owner)
    ).json()
    assert [g["kind"] for g in body["groups"]] == ["organization"]
    response = client.get(
        "/api/v1/search", {"q": "x", "kinds": "person,opportunity"}, **reader(owner)
    )
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"field": "kinds", "message": "Unknown kind: opportunity. Known: person, organization."}
    ]


def test_the_api_respects_visibility(client, outsider, records):
    body = client.get("/api/v1/search", {"q": "Krüger"}, **reader(outsider)).json()
    assert [h["title"] for g in body["groups"] for h in g["hits"]] == ["Udo Krüger", "Krüger Werke"]


def test_the_api_requires_a_token(client):
    assert client.get("/api/v1/search", {"q": "x"}).status_code == 401


def test_the_api_bounds_the_limit(client, owner):
    response = client.get("/api/v1/search", {"q": "x", "limit": 500}, **reader(owner))
    assert response.status_code == 422


def test_index_many_follows_a_bulk_change_of_owner(owner, outsider):
    # given records changed past the services, as a bulk action does
    anna = person(owner, first_name="Anna", last_name="Wendt")
    org = organization(owner, name="Wendt GmbH")
    Person.objects.filter(pk=anna.pk).update(owner=outsider, team=outsider.teams.first())
    Organization.objects.filter(pk=org.pk).update(owner=outsider, team=outsider.teams.first())

    search.index_many([Person.objects.get(pk=anna.pk), Organization.objects.get(pk=org.pk)])

    assert titles(owner, "Wendt") == {}
    assert titles(outsider, "Wendt") == {"person": ["Anna Wendt"], "organization": ["Wendt GmbH"]}
