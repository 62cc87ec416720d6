"""The customers issue's "done when", in a real browser, in German and in English:
a sales rep finds a customer by typing three letters of a misspelled name into the
global search box, sees the whole customer on one page, adds a custom field value
and a buying-center role; a manager merges two duplicates without losing anything.

The pages' words come from the message catalog (``gettext`` in the user's
language), so the test follows the translation rather than repeating it."""

import re
from dataclasses import dataclass

import pytest
from django.utils import translation
from django.utils.translation import gettext
from playwright.sync_api import expect

from kontor.activities.models import Activity
from kontor.activities.services.activities import activity_create
from kontor.core.models import CustomField, Role
from kontor.core.permissions import RoleCode
from kontor.customers import notes, services
from kontor.customers.models import ContactRole, Note, Person
from tests.core.factories import UserFactory
from tests.customers.factories import OrganizationFactory, owned_by


@dataclass(frozen=True)
class Scene:
    language: str
    field_label: str  # the custom field, as the administrator named it per language

    def t(self, msgid: str) -> str:
        with translation.override(self.language):
            return gettext(msgid)


GERMAN = Scene(language="de", field_label="Anzahl Anlagen")
ENGLISH = Scene(language="en", field_label="Number of machines")


@pytest.fixture
def settings_immediate_tasks(settings):
    # The duplicate scan runs as a background task: here at once, in the request.
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


def _customers(rep, scene: Scene):
    """Heinrich Wagner, whom the rep looks for, and a duplicate of him (the same
    e-mail address) with an activity, a note and a buying-center link of its own."""
    CustomField.objects.create(
        entity="customers.person",
        key="machines",
        label="Anzahl Anlagen",
        label_en="Number of machines",
        field_type="number",
    )
    brenner = owned_by(OrganizationFactory, rep, name="Brenner Maschinenbau GmbH", city="Köln")
    lindner = owned_by(OrganizationFactory, rep, name="Lindner Logistik KG", city="Bonn")
    data = {"last_name": "Wagner", "email": "h.wagner@brenner.example", "city": "Köln"}
    wagner = services.person_create(
        actor=rep, data={**data, "first_name": "Heinrich", "organization": brenner}
    )
    twin = services.person_create(actor=rep, data={**data, "first_name": "Heinz"})
    activity_create(actor=rep, kind="call", subject="Anruf wegen Wartungsvertrag", person=twin)
    notes.note_create(actor=rep, customer=twin, text="Bevorzugt Termine am Vormittag.")
    services.contact_role_set(
        person=twin, organization=lindner, actor=rep, job_title="Berater", buying_roles=["user"]
    )
    return wagner, twin, brenner


@pytest.mark.parametrize("scene", [GERMAN, ENGLISH], ids=["de", "en"])
def test_a_sales_rep_finds_edits_and_a_manager_merges(
    page, problems, login, logout, team, scene, settings_immediate_tasks
):
    rep = UserFactory(
        username="rep",
        role=Role.objects.get(code=RoleCode.SALES_REP),
        teams=[team],
        language=scene.language,
    )
    manager = UserFactory(
        username="manager",
        role=Role.objects.get(code=RoleCode.SALES_MANAGER),
        teams=[team],
        language=scene.language,
    )
    wagner, twin, brenner = _customers(rep, scene)
    t = scene.t

    # --- The rep types three letters of a misspelled name: "Vag" for Wagner ---------------
    login(page, rep)
    expect(page.locator("html")).to_have_attribute("lang", scene.language)
    box = page.get_by_role("search").get_by_placeholder(t("Search customers…"))
    box.press_sequentially("Vag", delay=50)
    panel = page.locator("#global-search-results")
    expect(panel.get_by_role("link", name=re.compile("Heinrich Wagner"))).to_be_visible()
    panel.get_by_role("link", name=re.compile("Heinrich Wagner")).click()
    expect(page).to_have_url(re.compile(rf"/customers/persons/{wagner.uuid}/$"))

    # --- The whole customer on one page: every section loads ------------------------------
    expect(page.locator("h1")).to_contain_text("Heinrich Wagner")
    expect(page.locator("dl.facts").first).to_contain_text("Brenner Maschinenbau GmbH")
    for heading in (
        "Organizations and buying-center roles",
        "Equipment",
        "Custom fields",
        "Notes",
        "Contact history",
    ):
        expect(page.get_by_role("heading", name=t(heading), exact=True)).to_be_visible()
    expect(page.get_by_text(t("Loading…"), exact=True)).to_have_count(0)
    expect(page.get_by_role("cell", name="Brenner Maschinenbau GmbH")).to_be_visible()

    # --- A custom field value --------------------------------------------------------------
    page.locator(".page-head").get_by_role("link", name=t("Edit"), exact=True).click()
    page.get_by_label(scene.field_label, exact=True).fill("3")
    page.get_by_role("button", name=t("Save"), exact=True).click()
    expect(page).to_have_url(re.compile(rf"/customers/persons/{wagner.uuid}/$"))
    expect(page.get_by_text(t("Changes saved."))).to_be_visible()
    custom = page.locator("section", has=page.get_by_role("heading", name=t("Custom fields")))
    expect(custom).to_contain_text(scene.field_label)
    expect(custom).to_contain_text("3")

    # --- A buying-center role at his organization ------------------------------------------
    page.get_by_role("link", name=t("Link to an organization")).click()
    # (required fields: the label ends in a "*")
    page.get_by_label(t("organization").capitalize()).select_option(
        label="Brenner Maschinenbau GmbH"
    )
    page.get_by_label(t("job title").capitalize()).fill("Technischer Leiter")
    page.get_by_label(t("Decider"), exact=True).check()
    page.get_by_role("button", name=t("Save"), exact=True).click()
    expect(page).to_have_url(re.compile(rf"/customers/persons/{wagner.uuid}/$"))
    expect(page.get_by_role("cell", name="Technischer Leiter")).to_be_visible()
    expect(page.get_by_role("cell", name=t("Decider"))).to_be_visible()
    wagner.refresh_from_db()
    assert wagner.custom == {"machines": 3}
    link = ContactRole.objects.get(person=wagner, organization=brenner)
    assert (link.job_title, link.buying_roles) == ("Technischer Leiter", ["decider"])
    problems.check()

    # --- The manager finds the duplicates and merges them ---------------------------------
    logout(page)
    login(page, manager)
    page.goto("/customers/duplicates/?kind=person")
    expect(page.get_by_role("heading", name=t("Possible duplicates"))).to_be_visible()
    page.get_by_role("button", name=t("Search for duplicates")).click()
    # the scan ends, the page reloads itself and lists the pair
    row = page.locator("table.duplicates tbody tr", has_text="Heinz Wagner")
    expect(row).to_contain_text("Heinrich Wagner", timeout=15_000)
    row.get_by_role("link", name=t("Merge…")).click()
    expect(page).to_have_url(re.compile(r"/customers/persons/.+/merge/.+"))
    # merge into Heinrich, whose record the rep has just completed
    if f"/persons/{wagner.uuid}/merge/" not in page.url:
        page.get_by_role("link", name=t("Keep the other record instead")).click()
    expect(page).to_have_url(re.compile(rf"/customers/persons/{wagner.uuid}/merge/{twin.uuid}/"))
    page.get_by_role("button", name=t("Merge"), exact=True).click()
    expect(page).to_have_url(re.compile(rf"/customers/persons/{wagner.uuid}/$"))

    # --- Nothing lost: the survivor holds everything of both -------------------------------
    expect(page.get_by_role("cell", name="Lindner Logistik KG")).to_be_visible()
    expect(page.get_by_role("cell", name="Technischer Leiter")).to_be_visible()
    expect(page.get_by_text("Bevorzugt Termine am Vormittag.")).to_be_visible()
    expect(page.get_by_text("Anruf wegen Wartungsvertrag")).to_be_visible()
    expect(custom).to_contain_text("3")
    assert not Person.objects.filter(pk=twin.pk).exists()
    wagner.refresh_from_db()
    assert wagner.custom == {"machines": 3}
    assert sorted(
        ContactRole.objects.filter(person=wagner).values_list("organization__name", flat=True)
    ) == ["Brenner Maschinenbau GmbH", "Lindner Logistik KG"]
    assert list(Note.objects.filter(person=wagner).values_list("text", flat=True)) == [
        "Bevorzugt Termine am Vormittag."
    ]
    assert list(Activity.objects.filter(person=wagner).values_list("subject", flat=True)) == [
        "Anruf wegen Wartungsvertrag"
    ]
    problems.check()
