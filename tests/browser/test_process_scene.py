"""Issue 6, "done when", in a real browser, in German and in English.

A process owner adapts the shipped scene "trade-fair visitor → new customer" (a new
draft, since the published version is frozen), sees it drawn, exports it to BPMN
and imports the file back as the next draft, publishes that, downloads the
requirements document (PDF). A sales rep captures a visitor at the fair; the
process starts by itself; its tasks appear on My day with their business-day
deadlines; the rep works them (My day for tasks, the instance page for the other
items and the branch) until the first order. The owner then sees the instance in
the figures: 1 started, 1 completed, conversion 100 %, step times.

Only the setup (users, team, the shipped scenes) is written directly; everything
else goes through the pages. No console error and no CSP violation on any page.
"""

import datetime as dt
import re
from dataclasses import dataclass

import pytest
from django.utils import formats, timezone, translation
from playwright.sync_api import expect

from kontor.activities.models import Task, TaskStatus
from kontor.core.permissions import RoleCode
from kontor.processes.business_days import add_business_days
from kontor.processes.models import (
    InstanceStatus,
    Process,
    ProcessInstance,
    ProcessVersion,
    VersionStatus,
)
from kontor.processes.scenes import TRADE_FAIR, scenes_install
from tests.conftest import role
from tests.core.factories import UserFactory

# My day lists open tasks due up to this many days ahead (activities.queries.tasks).
MY_DAY_DAYS = 7


@dataclass(frozen=True)
class Words:
    """The labels the pages show in one language (the catalog's German, checked
    against src/kontor/locale/de/LC_MESSAGES/django.po) and this test's own input."""

    language: str
    edit_as_new_draft: str
    edit: str
    save: str
    name: str
    deadline: str
    add_activity: str
    kind: str
    title: str
    grade: str
    required: str
    publish: str
    published: str  # "Version %(number)s is published …"
    export_bpmn: str
    requirements_pdf: str
    bpmn_file: str
    import_: str
    imported: str
    nothing_unsupported: str
    draft_created: str  # "Draft version %(number)s with %(steps)s steps was created."
    open_process: str
    edit_draft: str  # "Edit draft version %(number)s"
    figures: str
    started: str
    completed: str
    conversion: str
    end_to_end: str
    hundred_percent: str
    span: str  # a step time, as a regular expression
    capture_event: str
    first_name: str
    last_name: str
    company: str
    email: str
    phone: str
    save_visitor: str
    saved: str
    running: str
    goal_reached: str
    current_step: str
    done: str
    mark_done: str  # "Mark “%(title)s” done"
    mark_not_done: str
    next_days: str
    which_way: str
    yes: str
    completed_goal: str
    # This test's adaptation of the scene: the call step's new name (deadline 2
    # business days instead of 3) and a checklist item added to the offer step.
    call_name: str
    checklist_title: str
    event: str


GERMAN = Words(
    language="de",
    edit_as_new_draft="Als neuen Entwurf bearbeiten",
    edit="Bearbeiten",
    save="Speichern",
    name="Name",
    deadline="Frist (Werktage)",
    add_activity="Tätigkeit hinzufügen",
    kind="Typ",
    title="Titel",
    grade="Einstufung",
    required="Zum Abschluss des Schritts erforderlich",
    publish="Veröffentlichen",
    published="Version {number} ist veröffentlicht: Neue Durchläufe starten mit ihr.",
    export_bpmn="Als BPMN exportieren",
    requirements_pdf="Lastenheft (PDF)",
    bpmn_file="BPMN-Datei (.bpmn, .xml)",
    import_="Importieren",
    imported="Importiert",
    nothing_unsupported="Nichts: Jedes Element der Datei wurde übernommen.",
    draft_created="Entwurfsversion {number} mit {steps} Schritten wurde angelegt.",
    open_process="Prozess öffnen",
    edit_draft="Entwurfsversion {number} bearbeiten",
    figures="Kennzahlen",
    started="Gestartet",
    completed="Abgeschlossen",
    conversion="Zielerreichung",
    end_to_end="Gesamtdauer, Median",
    hundred_percent="100,0 %",
    span=r"^\d+ (T \d+ Std\.|Std\. \d+ Min\.)$",
    capture_event="Messe oder Veranstaltung",
    first_name="Vorname",
    last_name="Nachname",
    company="Firma",
    email="E-Mail",
    phone="Telefon",
    save_visitor="Besucher speichern",
    saved="Gespeichert.",
    running="Läuft",
    goal_reached="Ziel erreicht",
    current_step="Aktueller Schritt:",
    done="Fertig",
    mark_done="„{title}“ als erledigt markieren",
    mark_not_done="„{title}“ als nicht erledigt markieren",
    next_days="Nächste 7 Tage",
    which_way="Welcher Weg?",
    yes="Ja",
    completed_goal="Abgeschlossen: Das Ziel wurde erreicht.",
    call_name="Anruf innerhalb 2 Werktagen",
    checklist_title="Referenzkunden im Angebot nennen",
    event="Hannover Messe",
)

ENGLISH = Words(
    language="en",
    edit_as_new_draft="Edit as new draft",
    edit="Edit",
    save="Save",
    name="Name",
    deadline="Deadline (business days)",
    add_activity="Add activity",
    kind="Type",
    title="Title",
    grade="Grade",
    required="Required to finish the step",
    publish="Publish",
    published="Version {number} is published: new instances start on it.",
    export_bpmn="Export as BPMN",
    requirements_pdf="Requirements document (PDF)",
    bpmn_file="BPMN file (.bpmn, .xml)",
    import_="Import",
    imported="Imported",
    nothing_unsupported="Nothing: every element of the file was taken over.",
    draft_created="Draft version {number} with {steps} steps was created.",
    open_process="Open the process",
    edit_draft="Edit draft version {number}",
    figures="Figures",
    started="Started",
    completed="Completed",
    conversion="Conversion to the goal",
    end_to_end="End to end, median",
    hundred_percent="100.0 %",
    span=r"^\d+ (d \d+ h|h \d+ min)$",
    capture_event="Trade fair or event",
    first_name="First name",
    last_name="Last name",
    company="Company",
    email="E-mail",
    phone="Phone",
    save_visitor="Save visitor",
    saved="Saved.",
    running="Running",
    goal_reached="goal reached",
    current_step="Current step:",
    done="Done",
    mark_done="Mark “{title}” done",
    mark_not_done="Mark “{title}” not done",
    next_days="Next 7 days",
    which_way="Which way on?",
    yes="Yes",
    completed_goal="Completed: the goal was reached.",
    call_name="Call within 2 business days",
    checklist_title="Name reference customers in the offer",
    event="Hanover Fair",
)


def field(text: str) -> re.Pattern:
    """A form field's label: exactly ``text``, with the star of a required field."""
    return re.compile(rf"^{re.escape(text)}( \*)?$")


def scene_text(pair: tuple[str, str], words: Words) -> str:
    """A text of the shipped scene in the test's language."""
    return pair[0] if words.language == "de" else pair[1]


def scene_step(key: str):
    return next(step for step in TRADE_FAIR.steps if step.key == key)


def scene_activity(step_key: str, index: int):
    return scene_step(step_key).activities[index]


@pytest.fixture
def second_page(browser, live_server, problems):
    """A second person's browser (its own context, so its own session)."""
    context = browser.new_context(base_url=live_server.url, locale="en-US")
    context.set_default_timeout(10_000)
    page = context.new_page()
    problems.watch(page)
    yield page
    context.close()


def download(page, locator) -> tuple[str, bytes]:
    with page.expect_download() as info:
        locator.click()
    file = info.value
    with open(file.path(), "rb") as handle:
        return file.suggested_filename, handle.read()


# --- The process owner ------------------------------------------------------------------


def adapt_the_scene(page, words: Words, process: Process) -> None:
    """From /processes/ to a published version 2: the call step due in 2 business
    days (renamed accordingly), a required checklist item added to the offer step."""
    page.goto("/processes/")
    page.get_by_role("link", name=process.name, exact=True).click()
    expect(page).to_have_url(re.compile(rf"/processes/{process.uuid}/"))
    page.get_by_role("button", name=words.edit_as_new_draft).click()
    expect(page).to_have_url(re.compile(r"\?version=2$"))

    page.locator("#step-call .step-actions").get_by_role("link", name=words.edit).click()
    page.get_by_label(field(words.name)).fill(words.call_name)
    page.get_by_label(field(words.deadline)).fill("2")
    page.get_by_role("button", name=words.save, exact=True).click()
    expect(page.locator("#step-call h3")).to_contain_text(words.call_name)

    page.locator("#step-offer").get_by_role("link", name=words.add_activity).click()
    page.get_by_label(field(words.kind)).select_option("checklist")
    page.get_by_label(field(words.title)).fill(words.checklist_title)
    page.get_by_label(field(words.grade)).select_option("must")
    page.get_by_label(field(words.required)).check()
    page.get_by_role("button", name=words.save, exact=True).click()
    expect(page.locator("#step-offer .activity-list")).to_contain_text(words.checklist_title)

    page.get_by_role("button", name=words.publish, exact=True).click()
    expect(page.locator(".version-state")).to_contain_text(words.published.format(number=2))


def check_the_drawing(page, words: Words) -> None:
    drawing = page.locator(".process-drawing img")
    expect(drawing).to_be_visible()
    page.wait_for_function("(img) => img.complete", arg=drawing.element_handle())
    assert page.evaluate("(img) => img.naturalWidth", drawing.element_handle()) > 0
    svg = page.request.get(drawing.get_attribute("src"))
    assert svg.status == 200
    assert svg.headers["content-type"].startswith("image/svg+xml")
    # The drawing is of the adapted version.
    assert words.call_name in svg.text()


def export_and_import_bpmn(page, words: Words, process: Process) -> None:
    """Export version 2, import the file back as draft version 3, publish that."""
    filename, bpmn = download(page, page.get_by_role("link", name=words.export_bpmn))
    assert filename.endswith(".bpmn")
    assert bpmn.startswith(b"<?xml")
    assert b"http://www.omg.org/spec/BPMN/20100524/MODEL" in bpmn
    text = bpmn.decode()
    assert words.call_name in text
    assert words.checklist_title in text
    assert 'deadlineDays="2"' in text

    # The process page links to the import of a file as this process's next draft.
    page.locator(f'a[href="/processes/{process.uuid}/bpmn/import"]').click()
    page.get_by_label(field(words.bpmn_file)).set_input_files(
        {"name": filename, "mimeType": "application/xml", "buffer": bpmn}
    )
    page.get_by_role("button", name=words.import_, exact=True).click()
    result = page.locator(".bpmn-result")
    expect(result.get_by_role("heading", name=words.imported, exact=True)).to_be_visible()
    steps = len(TRADE_FAIR.steps)
    expect(result).to_contain_text(words.draft_created.format(number=3, steps=steps))
    expect(result.locator(".bpmn-steps li")).to_have_count(steps)
    expect(result).to_contain_text(words.call_name)
    # Kontor's own export comes back whole: nothing reported as not understood.
    expect(result).to_contain_text(words.nothing_unsupported)

    result.get_by_role("link", name=words.open_process).click()
    page.get_by_role("link", name=words.edit_draft.format(number=3)).click()
    expect(page).to_have_url(re.compile(r"\?version=3$"))
    # The round trip kept the adaptation.
    expect(page.locator("#step-call h3")).to_contain_text(words.call_name)
    expect(page.locator("#step-offer .activity-list")).to_contain_text(words.checklist_title)
    page.get_by_role("button", name=words.publish, exact=True).click()
    expect(page.locator(".version-state")).to_contain_text(words.published.format(number=3))


def download_the_requirements(page, words: Words) -> None:
    filename, pdf = download(page, page.get_by_role("link", name=words.requirements_pdf))
    assert filename.endswith(f"-{words.language}.pdf")
    assert pdf.startswith(b"%PDF")


# --- The sales rep ----------------------------------------------------------------------


def capture_a_visitor(page, words: Words) -> None:
    page.goto("/activities/capture/")
    page.get_by_label(field(words.capture_event)).fill(words.event)
    page.get_by_label(field(words.first_name)).fill("Jana")
    page.get_by_label(field(words.last_name)).fill("Jansen")
    page.get_by_label(field(words.company)).fill("Jansen Maschinenbau GmbH")
    page.get_by_label(field(words.email)).fill("jana.jansen@example.com")
    page.get_by_label(field(words.phone)).fill("+49 511 123456")
    page.get_by_role("button", name=words.save_visitor).click()
    notice = page.locator(".capture-done")
    expect(notice).to_contain_text(words.saved)
    notice.get_by_role("link", name="Jana Jansen", exact=True).click()


def current_step(page):
    return page.locator("section[data-current-step]")


def tick_on_the_instance_page(page, words: Words, title: str) -> None:
    """Mark the current step's item ``title`` done on the instance page."""
    item = current_step(page).locator(".step-items li", has_text=title)
    # A plain form POST that redirects back to the instance page.
    with page.expect_navigation():
        item.get_by_role("button", name=words.done).click()


def tick_on_my_day(page, words: Words, task_title: str, due: dt.date) -> None:
    """Find the process task on My day with its due date and tick it off."""
    page.goto("/activities/")
    if due > timezone.localdate() + dt.timedelta(days=MY_DAY_DAYS):
        # Public holidays can push a 5-business-day deadline past My day's horizon.
        page.goto("/activities/tasks/")
    row = page.locator("li.task", has_text=task_title)
    expect(row).to_have_count(1)
    shown = row.locator("time").first
    expect(shown).to_have_attribute("datetime", due.isoformat())
    with translation.override(words.language):
        expect(shown).to_have_text(formats.date_format(due, "SHORT_DATE_FORMAT"))
    row.get_by_role("button", name=words.mark_done.format(title=task_title)).click()
    expect(
        page.get_by_role("button", name=words.mark_not_done.format(title=task_title))
    ).to_be_visible()


def work_the_process(page, words: Words, process_name: str) -> ProcessInstance:
    """From the person's 360° page: the process is running at its first step; work
    it to the first order."""
    section = page.locator("section[data-section=processes]")
    row = section.locator("tr[data-instance]")
    expect(row).to_have_count(1)
    expect(row).to_contain_text(process_name)
    expect(row).to_contain_text(words.running)
    expect(row).to_contain_text(scene_text(scene_step("captured").name, words))
    instance = ProcessInstance.objects.get()
    assert (instance.version.number, instance.started_via) == (3, "trade_fair_capture")
    row.get_by_role("link", name=process_name).click()
    expect(page).to_have_url(re.compile(rf"/processes/instances/{instance.uuid}/"))
    drawing = page.locator("figure.process-drawing img")
    page.wait_for_function("(img) => img.complete", arg=drawing.element_handle())
    assert page.evaluate("(img) => img.naturalWidth", drawing.element_handle()) > 0

    # Captured: the talk notes (a field item) — on the instance page.
    expect(current_step(page)).to_have_attribute("data-current-step", "captured")
    expect(current_step(page)).to_contain_text(words.current_step)
    tick_on_the_instance_page(page, words, scene_text(scene_activity("captured", 0).title, words))
    # Thank-you e-mail (an e-mail item) — on the instance page.
    expect(current_step(page)).to_have_attribute("data-current-step", "thanks")
    tick_on_the_instance_page(page, words, scene_text(scene_activity("thanks", 0).title, words))
    expect(current_step(page)).to_have_attribute("data-current-step", "call")
    instance_url = page.url
    today = timezone.localdate()

    def task_title(step_key: str, index: int = 0) -> str:
        return f"{process_name}: {scene_text(scene_activity(step_key, index).title, words)}"

    # The call: a task on My day, due in the adapted 2 business days.
    tick_on_my_day(page, words, task_title("call"), add_business_days(today, 2))
    # The offer: its task on My day, the added checklist item on the instance page.
    tick_on_my_day(page, words, task_title("offer"), add_business_days(today, 5))
    # The out-of-scope requirement ("in the ERP") makes no task.
    expect(page.locator("li.task", has_text=task_title("offer", 2))).to_have_count(0)
    page.goto(instance_url)
    expect(current_step(page)).to_have_attribute("data-current-step", "offer")
    tick_on_the_instance_page(page, words, words.checklist_title)
    expect(current_step(page)).to_have_attribute("data-current-step", "follow_up")
    # Follow up: a task on My day.
    tick_on_my_day(page, words, task_title("follow_up"), add_business_days(today, 5))

    # Order? The customer's decision: the rep chooses the way to the first order.
    page.goto(instance_url)
    expect(current_step(page)).to_have_attribute("data-current-step", "order")
    choices = current_step(page).locator(".step-choices")
    expect(choices).to_contain_text(words.which_way)
    choices.get_by_role("button", name=words.yes, exact=True).click()
    expect(page.get_by_text(words.completed_goal)).to_be_visible()
    expect(current_step(page)).to_have_count(0)

    # The 360° page shows the process completed with its goal reached.
    page.locator(".page-head").get_by_role("link", name="Jana Jansen", exact=True).click()
    row = page.locator("section[data-section=processes] tr[data-instance]")
    expect(row).to_contain_text(words.goal_reached)

    instance.refresh_from_db()
    assert (instance.status, instance.goal_reached) == (InstanceStatus.COMPLETED, True)
    assert instance.current_step.key == "won"
    assert not Task.objects.filter(title__startswith=process_name, status=TaskStatus.OPEN).exists()
    return instance


# --- The figures ------------------------------------------------------------------------


def check_the_figures(page, words: Words, process: Process) -> None:
    page.goto(process.get_absolute_url())
    page.get_by_role("link", name=words.figures, exact=True).click()
    instances = page.locator("section[aria-labelledby=figures-heading]")

    def figure(label: str):
        return instances.locator("tr", has=page.get_by_role("rowheader", name=label, exact=True))

    expect(figure(words.started).locator("td")).to_have_text(["1"])
    expect(figure(words.completed).locator("td")).to_have_text(["1"])
    expect(figure(words.conversion).locator("td")).to_have_text([words.hundred_percent])

    span = re.compile(words.span)
    expect(figure(words.end_to_end).locator("td")).to_have_text([span])

    steps = page.locator("section[aria-labelledby=steps-figures-heading] tbody tr")
    for key in ("captured", "thanks", "offer", "follow_up", "order"):
        name = scene_text(scene_step(key).name, words)
        cells = steps.filter(has=page.get_by_role("rowheader", name=name, exact=True)).locator("td")
        # entered, reached, finished, in it now, overdue rate, median, 90th percentile
        expect(cells.nth(0)).to_have_text("1")
        expect(cells.nth(2)).to_have_text("1")
        expect(cells.nth(5)).to_have_text(span)
    call = steps.filter(has=page.get_by_role("rowheader", name=words.call_name, exact=True))
    expect(call.locator("td").nth(5)).to_have_text(span)


# --- The flow ---------------------------------------------------------------------------


@pytest.mark.parametrize("words", [GERMAN, ENGLISH], ids=["de", "en"])
def test_trade_fair_scene_from_adapting_to_the_figures(
    page, second_page, problems, login, team, words
):
    # given: the shipped scenes, a process owner and a sales rep in the same team
    owner = UserFactory(
        username="prozess",
        role=role(RoleCode.SALES_MANAGER),
        teams=[team],
        language=words.language,
    )
    rep = UserFactory(
        username="vertrieb",
        role=role(RoleCode.SALES_REP),
        teams=[team],
        language=words.language,
    )
    scenes_install(language=words.language, actor=owner)
    process = Process.objects.get(key=TRADE_FAIR.key)
    assert process.name == scene_text(TRADE_FAIR.name, words)

    # The owner adapts the scene, sees it drawn, exports and re-imports it, gets the PDF.
    login(page, owner)
    adapt_the_scene(page, words, process)
    check_the_drawing(page, words)
    export_and_import_bpmn(page, words, process)
    check_the_drawing(page, words)
    download_the_requirements(page, words)
    assert list(
        ProcessVersion.objects.filter(process=process)
        .order_by("number")
        .values_list("number", "status")
    ) == [
        (1, VersionStatus.RETIRED),
        (2, VersionStatus.RETIRED),
        (3, VersionStatus.PUBLISHED),
    ]
    problems.check()

    # The rep captures a visitor at the fair; the process starts by itself.
    login(second_page, rep)
    capture_a_visitor(second_page, words)
    work_the_process(second_page, words, process.name)
    problems.check()

    # The owner sees the instance counted.
    check_the_figures(page, words, process)
    problems.check()
