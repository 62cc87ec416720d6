"""Free notes on customers: Markdown rendered and sanitised once on save, the size
limit, who may read and write (an outsider gets 404 and nothing changes), the audit
trail, the htmx section and the API."""

import json
from html.parser import HTMLParser

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse

from kontor.core.models import AuditAction, AuditEntry
from kontor.customers import notes
from kontor.customers.models import Equipment, Note
from kontor.customers.models.notes import NOTE_MAX_LENGTH
from tests.conftest import role
from tests.core.factories import UserFactory
from tests.core.test_api import post_json, reader, writer
from tests.customers.factories import OrganizationFactory, PersonFactory, owned_by

pytestmark = pytest.mark.django_db


@pytest.fixture
def person(owner):
    return owned_by(PersonFactory, owner, last_name="Muster")


@pytest.fixture
def organization(owner):
    return owned_by(OrganizationFactory, owner, name="Muster GmbH")


def tags_in(html: str) -> list[tuple[str, list[tuple[str, str]]]]:
    """The elements of ``html`` with their attributes (what a browser would build)."""
    found = []

    class Collector(HTMLParser):
        def handle_starttag(self, tag, attrs):
            found.append((tag, attrs))

    Collector().feed(html)
    return found


def state():
    """Everything a note action could change."""
    return list(Note.objects.order_by("pk").values()), AuditEntry.objects.count()


def patch_json(client, url, data, **headers):
    return client.patch(url, data=json.dumps(data), content_type="application/json", **headers)


# --- Rendering and sanitising ----------------------------------------------------------


def test_markdown_is_rendered_with_headings_below_the_page_headings():
    html = notes.render("# Titel\n\n**fett** und *kursiv*\n\n- eins\n- zwei\n\n> Zitat")
    assert html == (
        "<h3>Titel</h3>\n<p><strong>fett</strong> und <em>kursiv</em></p>\n"
        "<ul>\n<li>eins</li>\n<li>zwei</li>\n</ul>\n<blockquote>\n<p>Zitat</p>\n</blockquote>\n"
    )


def test_links_keep_safe_schemes_and_get_rel():
    html = notes.render("[Web](https://example.de) [Mail](mailto:a@example.de)")
    assert html == (
        '<p><a href="https://example.de" rel="noopener noreferrer">Web</a> '
        '<a href="mailto:a@example.de" rel="noopener noreferrer">Mail</a></p>\n'
    )


@pytest.mark.parametrize(
    "text",
    [
        "<script>alert(1)</script>",
        "[klick](javascript:alert(1))",
        '<a href="javascript:alert(1)">klick</a>',
        '<img src="x" onerror="alert(1)">',
        '<p onclick="alert(1)">x</p>',
        "[data](data:text/html;base64,PHNjcmlwdD4=)",
    ],
)
def test_typed_html_and_unsafe_links_never_become_markup(text):
    elements = tags_in(notes.render(text))
    assert all(tag in notes.ALLOWED_TAGS for tag, _attrs in elements)
    assert all(
        (name == "href" and value.startswith(("https:", "http:", "mailto:"))) or name == "rel"
        for _tag, attrs in elements
        for name, value in attrs
    )
    assert [tag for tag, _attrs in elements] == ["p"]


@pytest.mark.parametrize(
    ("dirty", "clean"),
    [
        ("<p>ok<script>alert(1)</script></p>", "<p>ok</p>"),
        ('<a href="javascript:alert(1)">x</a>', '<a rel="noopener noreferrer">x</a>'),
        ('<img src="x" onerror="alert(1)">', ""),
        ('<p onclick="alert(1)" style="color:red">x</p>', "<p>x</p>"),
        (
            '<a href="https://e.de" target="_blank">x</a>',
            '<a href="https://e.de" rel="noopener noreferrer">x</a>',
        ),
        (
            "<h1>x</h1><h3>y</h3><table><tr><td>1</td></tr></table>",
            "x<h3>y</h3><table><tbody><tr><td>1</td></tr></tbody></table>",
        ),
    ],
)
def test_the_sanitiser_keeps_only_the_allow_list(dirty, clean):
    assert notes.sanitize(dirty) == clean


# --- Services ---------------------------------------------------------------------------


def test_create_stores_text_and_sanitised_html_and_is_audited(owner, person):
    note = notes.note_create(
        actor=owner, customer=person, text="  Hallo <script>x</script> **Welt**  "
    )
    note.refresh_from_db()
    assert (note.text, note.html, note.author, note.person) == (
        "Hallo <script>x</script> **Welt**",
        "<p>Hallo &lt;script&gt;x&lt;/script&gt; <strong>Welt</strong></p>\n",
        owner,
        person,
    )
    entry = AuditEntry.objects.get(object_id=note.pk, action=AuditAction.CREATE)
    assert (entry.actor, entry.via, entry.changes["text"]) == (
        owner,
        "ui",
        [None, "Hallo <script>x</script> **Welt**"],
    )


def test_a_note_on_an_organization(owner, organization):
    note = notes.note_create(actor=owner, customer=organization, text="Rahmenvertrag")
    assert (note.organization, note.person) == (organization, None)
    assert list(notes.notes_of(customer=organization)) == [note]


def test_a_note_over_the_limit_is_refused_and_nothing_saved(owner, person):
    with pytest.raises(notes.ValidationError) as exc_info:
        notes.note_create(actor=owner, customer=person, text="x" * (NOTE_MAX_LENGTH + 1))
    assert list(exc_info.value.message_dict) == ["text"]
    assert state() == ([], 0)
    # the limit itself is fine
    notes.note_create(actor=owner, customer=person, text="x" * NOTE_MAX_LENGTH)


def test_an_empty_note_is_refused(owner, person):
    with pytest.raises(notes.ValidationError):
        notes.note_create(actor=owner, customer=person, text="   ")
    assert state() == ([], 0)


def test_update_renders_again_and_audits_the_change(owner, person):
    note = notes.note_create(actor=owner, customer=person, text="alt")
    updated = notes.note_update(actor=owner, note=note, text="*neu*")
    assert (updated.text, updated.html) == ("*neu*", "<p><em>neu</em></p>\n")
    entry = AuditEntry.objects.get(object_id=note.pk, action=AuditAction.UPDATE)
    assert entry.changes["text"] == ["alt", "*neu*"]


def test_only_the_author_edits_a_note(owner, teammate, person):
    note = notes.note_create(actor=owner, customer=person, text="meins")
    before = state()
    with pytest.raises(notes.PermissionDenied):
        notes.note_update(actor=teammate, note=note, text="deins")
    with pytest.raises(notes.PermissionDenied):
        notes.note_delete(actor=teammate, note=note)
    assert state() == before


def test_a_manager_with_delete_rights_may_delete_any_visible_note(owner, person):
    manager = UserFactory(username="manager", role=role("sales_manager"))
    note = notes.note_create(actor=owner, customer=person, text="weg damit")
    notes.note_delete(actor=manager, note=note)
    assert Note.objects.count() == 0
    entry = AuditEntry.objects.get(object_id=note.pk, action=AuditAction.DELETE)
    assert entry.actor == manager


def test_an_outsider_cannot_write_notes_on_a_customer_they_do_not_see(owner, outsider, person):
    note = notes.note_create(actor=owner, customer=person, text="intern")
    before = state()
    with pytest.raises(notes.Http404):
        notes.note_create(actor=outsider, customer=person, text="fremd")
    with pytest.raises(notes.Http404):
        notes.note_get(user=outsider, pk=note.pk)
    assert state() == before


def test_read_only_users_cannot_write(readonly, person):
    with pytest.raises(notes.PermissionDenied):
        notes.note_create(actor=readonly, customer=person, text="x")
    assert state() == ([], 0)


# --- The htmx section -----------------------------------------------------------------


def test_the_section_lists_notes_and_offers_edit_only_on_ones_own(client, owner, teammate, person):
    mine = notes.note_create(actor=owner, customer=person, text="**meins**")
    theirs = notes.note_create(actor=teammate, customer=person, text="deins")
    client.force_login(owner)
    response = client.get(reverse("customers:person_notes", args=[person.uuid]))
    assert response.status_code == 200
    body = response.content.decode()
    assert "<strong>meins</strong>" in body
    assert reverse("customers:note_edit", args=[mine.pk]) in body
    assert reverse("customers:note_edit", args=[theirs.pk]) not in body
    assert 'id="notes-body"' in body


def test_adding_a_note_through_htmx_answers_with_the_section(client, owner, person):
    client.force_login(owner)
    response = client.post(
        reverse("customers:person_notes", args=[person.uuid]),
        {"text": "Neu <img src=x onerror=alert(1)>"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    note = Note.objects.get()
    assert note.html == "<p>Neu &lt;img src=x onerror=alert(1)&gt;</p>\n"
    assert note.html in response.content.decode()


def test_adding_without_htmx_redirects_to_the_customer(client, owner, organization):
    client.force_login(owner)
    response = client.post(
        reverse("customers:organization_notes", args=[organization.uuid]), {"text": "Hallo"}
    )
    assert response.status_code == 302
    assert response["Location"] == organization.get_absolute_url()
    assert Note.objects.get().organization == organization


def test_a_5mb_note_gives_a_field_error_and_saves_nothing(client, owner, person):
    client.force_login(owner)
    response = client.post(
        reverse("customers:person_notes", args=[person.uuid]),
        {"text": "x" * (5 * 1024 * 1024)},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200  # htmx swaps only 2xx: the form shows the error
    assert response.context["form"].errors["text"] == [
        "Ensure this value has at most 100000 characters (it has 5242880)."
    ]
    assert state() == ([], 0)


def test_edit_and_delete_through_the_section(client, owner, person):
    note = notes.note_create(actor=owner, customer=person, text="alt")
    client.force_login(owner)
    url = reverse("customers:note_edit", args=[note.pk])
    form = client.get(url, HTTP_HX_REQUEST="true")
    assert form.status_code == 200
    assert form.context["editing"] == note.pk
    response = client.post(url, {"text": "neu"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert Note.objects.get().text == "neu"
    response = client.post(reverse("customers:note_delete", args=[note.pk]), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert Note.objects.count() == 0


def test_an_outsider_gets_404_and_nothing_changes(client, owner, outsider, person):
    note = notes.note_create(actor=owner, customer=person, text="intern")
    before = state()
    client.force_login(outsider)
    requests = [
        ("get", reverse("customers:person_notes", args=[person.uuid]), {}),
        ("post", reverse("customers:person_notes", args=[person.uuid]), {"text": "x"}),
        ("get", reverse("customers:note_edit", args=[note.pk]), {}),
        ("post", reverse("customers:note_edit", args=[note.pk]), {"text": "x"}),
        ("post", reverse("customers:note_delete", args=[note.pk]), {}),
    ]
    for method, url, data in requests:
        assert getattr(client, method)(url, data).status_code == 404, url
    assert state() == before


def test_a_teammate_may_not_edit_anothers_note_on_the_page(client, owner, teammate, person):
    note = notes.note_create(actor=owner, customer=person, text="meins")
    before = state()
    client.force_login(teammate)
    url = reverse("customers:note_edit", args=[note.pk])
    assert client.post(url, {"text": "x"}).status_code == 403
    assert client.post(reverse("customers:note_delete", args=[note.pk])).status_code == 403
    assert state() == before


def test_the_section_costs_a_fixed_number_of_queries(
    client, owner, person, django_assert_max_num_queries
):
    for i in range(3):
        notes.note_create(actor=owner, customer=person, text=f"Notiz {i}")
    client.force_login(owner)
    url = reverse("customers:person_notes", args=[person.uuid])
    client.get(url)  # warm the session and role caches
    with django_assert_max_num_queries(8) as few:
        client.get(url)
    for i in range(20):
        notes.note_create(actor=owner, customer=person, text=f"Mehr {i}")
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(url)


# --- API ---------------------------------------------------------------------------------


def test_api_lists_and_adds_notes(client, owner, person):
    notes.note_create(actor=owner, customer=person, text="erste")
    url = f"/api/v1/persons/{person.uuid}/notes"
    response = post_json(client, url, {"text": "# zweite"}, **writer(owner))
    assert response.status_code == 201
    body = response.json()
    assert (body["text"], body["html"], body["author"], body["person"]) == (
        "# zweite",
        "<h3>zweite</h3>\n",
        "owner",
        str(person.uuid),
    )
    page = client.get(url, **reader(owner)).json()
    assert [n["text"] for n in page["items"]] == ["# zweite", "erste"]
    assert page["next_cursor"] is None
    entry = AuditEntry.objects.get(object_id=body["id"], action=AuditAction.CREATE)
    assert entry.via == "api"


def test_api_notes_of_an_organization(client, owner, organization):
    url = f"/api/v1/organizations/{organization.uuid}/notes"
    assert post_json(client, url, {"text": "x"}, **writer(owner)).status_code == 201
    assert client.get(url, **reader(owner)).json()["items"][0]["organization"] == str(
        organization.uuid
    )


def test_api_changes_and_deletes_ones_own_note(client, owner, person):
    note = notes.note_create(actor=owner, customer=person, text="alt")
    response = patch_json(client, f"/api/v1/notes/{note.pk}", {"text": "neu"}, **writer(owner))
    assert (response.status_code, response.json()["html"]) == (200, "<p>neu</p>\n")
    response = client.delete(f"/api/v1/notes/{note.pk}", **writer(owner))
    assert response.status_code == 204
    assert Note.objects.count() == 0


def test_api_refuses_a_note_over_the_limit_with_a_field_error(client, owner, person):
    response = post_json(
        client,
        f"/api/v1/persons/{person.uuid}/notes",
        {"text": "x" * (NOTE_MAX_LENGTH + 1)},
        **writer(owner),
    )
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["text"]
    assert state() == ([], 0)


def test_api_outsider_gets_404_and_nothing_changes(client, owner, outsider, person):
    note = notes.note_create(actor=owner, customer=person, text="intern")
    before = state()
    headers = writer(outsider)
    assert client.get(f"/api/v1/persons/{person.uuid}/notes", **headers).status_code == 404
    assert (
        post_json(client, f"/api/v1/persons/{person.uuid}/notes", {"text": "x"}, **headers)
    ).status_code == 404
    assert (
        patch_json(client, f"/api/v1/notes/{note.pk}", {"text": "x"}, **headers)
    ).status_code == 404
    assert client.delete(f"/api/v1/notes/{note.pk}", **headers).status_code == 404
    assert state() == before


def test_api_read_only_token_cannot_add(client, owner, person):
    response = post_json(
        client, f"/api/v1/persons/{person.uuid}/notes", {"text": "x"}, **reader(owner)
    )
    assert response.status_code == 403
    assert state() == ([], 0)


@pytest.mark.parametrize("model", ["note", "equipment"])
def test_a_note_or_equipment_names_exactly_one_customer(owner, outsider, model):
    """Why a note's or an equipment's rule is its customer's: the database refuses one
    naming two, so "visible to who may see every customer it names" (activities,
    appointments, tasks, process instances) and "visible to who may see its customer"
    are the same rule here."""
    person = owned_by(PersonFactory, outsider)
    organization = owned_by(OrganizationFactory, owner)
    with pytest.raises(IntegrityError), transaction.atomic():
        if model == "note":
            Note.objects.create(person=person, organization=organization, text="Beide")
        else:
            Equipment.objects.create(person=person, organization=organization, product="Beide")
