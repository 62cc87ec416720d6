"""The requirements document in the API: the file (PDF, Word; German, English), the
acceptance list numbered as the document, and marking acceptance through the service
(audited, processes.manage only, never with a read-only token)."""

import io
import json
import zipfile

import pytest
from django.utils import translation
from docx import Document as Word

from kontor.core import audit
from kontor.core.models import AuditAction, AuditEntry
from kontor.core.permissions import RoleCode
from kontor.processes.models import Process, StepActivity
from kontor.processes.requirements_doc import document_build
from kontor.processes.scenes import scenes_install
from kontor.processes.services import definitions as definition_services
from kontor.processes.services.requirements import requirement_accept
from tests.conftest import role
from tests.core.factories import UserFactory
from tests.core.test_api import assert_problem, reader, writer

pytestmark = pytest.mark.django_db

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
NOT_FOUND = "No such record, or you may not see it."
FORBIDDEN = "Your role does not allow this."


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


@pytest.fixture
def manager(team):
    """A sales manager: may mark acceptance (processes.manage)."""
    return UserFactory(username="manager", role=role(RoleCode.SALES_MANAGER), teams=[team])


@pytest.fixture
def trade_fair():
    scenes_install(language="de")
    return Process.objects.get(key="trade_fair_visitor").versions.select_related("process").get()


def _base(version):
    return f"/api/v1/processes/{version.process.uuid}/versions/{version.number}/requirements"


def _budget(version):
    return StepActivity.objects.get(step__version=version, title="Budget erfassen")


def _updates(activity):
    # Installing the scene recorded the creation; these are the changes since.
    return audit.entries_for(activity).filter(action=AuditAction.UPDATE)


def _patch(client, url, data, **headers):
    return client.patch(url, data=json.dumps(data), content_type="application/json", **headers)


def _docx_text(data: bytes) -> str:
    word = Word(io.BytesIO(data))
    parts = [p.text for p in word.paragraphs]
    for table in word.tables:
        for row in table.rows:
            parts.extend(cell.text for cell in row.cells)
    return "\n".join(parts)


# --- The file ----------------------------------------------------------------------------


def test_pdf_in_german(client, owner, trade_fair):
    response = client.get(_base(trade_fair), {"format": "pdf", "language": "de"}, **reader(owner))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == (
        'attachment; filename="lastenheft-messebesucher-neukunde-v1-de.pdf"'
    )
    assert response.content.startswith(b"%PDF")


def test_docx_in_english_is_a_word_document(client, owner, trade_fair):
    response = client.get(_base(trade_fair), {"format": "docx", "language": "en"}, **reader(owner))

    assert response.status_code == 200
    assert response["Content-Type"] == DOCX
    assert response["Content-Disposition"] == (
        'attachment; filename="lastenheft-messebesucher-neukunde-v1-en.docx"'
    )
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        assert "word/document.xml" in archive.namelist()
    text = _docx_text(response.content)
    assert "Requirements document" in text
    assert "Budget erfassen" in text  # the scene's contents, German as installed


def test_defaults_are_pdf_in_the_users_language(client, owner, trade_fair):
    # The token owner's language is English (UserFactory): the document follows it.
    response = client.get(_base(trade_fair), **reader(owner))
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].endswith('-v1-en.pdf"')


def test_unknown_format_or_language_is_a_422(client, owner, trade_fair):
    headers = reader(owner)
    assert_problem(
        client.get(_base(trade_fair), {"format": "odt"}, **headers),
        422,
        "Invalid input",
        "Some fields are not valid.",
        errors=[{"field": "format", "message": "Choose the format pdf or docx."}],
    )
    assert_problem(
        client.get(_base(trade_fair), {"language": "fr"}, **headers),
        422,
        "Invalid input",
        "Some fields are not valid.",
        errors=[{"field": "language", "message": "Choose the language de or en."}],
    )


def test_unknown_version_is_a_404(client, owner, trade_fair):
    url = f"/api/v1/processes/{trade_fair.process.uuid}/versions/7/requirements"
    assert_problem(client.get(url, **reader(owner)), 404, "Not found", NOT_FOUND)
    assert_problem(client.get(f"{url}/acceptance", **reader(owner)), 404, "Not found", NOT_FOUND)


def test_without_customers_view_the_document_is_refused(client, team, trade_fair):
    nobody = UserFactory(username="nobody", role=None, teams=[team])
    headers = reader(nobody)
    assert_problem(client.get(_base(trade_fair), **headers), 403, "Forbidden", FORBIDDEN)
    assert_problem(
        client.get(f"{_base(trade_fair)}/acceptance", **headers), 403, "Forbidden", FORBIDDEN
    )


# --- The acceptance list -----------------------------------------------------------------


def test_acceptance_list_is_numbered_as_the_document(
    client, owner, admin, trade_fair, django_assert_max_num_queries
):
    budget = _budget(trade_fair)
    requirement_accept(actor=admin, activity=budget, acceptance="accepted", comment="geprüft")
    headers = reader(owner)

    # The token's four (look-up, rate counter and its clean-up, last use), process,
    # version, steps, activities.
    with django_assert_max_num_queries(8):
        response = client.get(f"{_base(trade_fair)}/acceptance", **headers)

    assert response.status_code == 200
    body = response.json()
    assert (body["process"], body["version"]) == (str(trade_fair.process.uuid), 1)
    doc = document_build(trade_fair, language="en")
    assert [
        (r["code"], r["activity_id"], r["title"], r["grade"], r["acceptance"], r["comment"])
        for r in body["requirements"]
    ] == [
        (
            r.code,
            r.activity_id,
            r.title,
            r.grade,
            "accepted" if r.accepted else "open",
            r.comment,
        )
        for r in doc.requirements
    ]
    assert {s["grade"]: (s["count"], s["accepted"]) for s in body["summary"]} == {
        "must": (5, 0),
        "should": (5, 1),
        "can": (1, 0),
        "out": (1, 0),
    }
    row = next(r for r in body["requirements"] if r["activity_id"] == budget.pk)
    assert row == {
        "code": "R-3.2",
        "step": budget.step.key,
        "step_name": "Anruf innerhalb 3 Werktagen",
        "activity_id": budget.pk,
        "title": "Budget erfassen",
        "kind": budget.kind,
        "grade": "should",
        "required": budget.required,
        "acceptance": "accepted",
        "comment": "geprüft",
    }


# --- Marking acceptance ------------------------------------------------------------------


def test_manager_marks_a_requirement_accepted_and_it_is_audited(client, manager, trade_fair):
    budget = _budget(trade_fair)

    response = _patch(
        client,
        f"{_base(trade_fair)}/{budget.pk}",
        {"acceptance": "accepted", "comment": "mit Vertrieb geklärt"},
        **writer(manager),
    )

    assert response.status_code == 200
    body = response.json()
    assert (body["code"], body["activity_id"], body["acceptance"], body["comment"]) == (
        "R-3.2",
        budget.pk,
        "accepted",
        "mit Vertrieb geklärt",
    )
    budget.refresh_from_db()
    assert (budget.acceptance, budget.acceptance_comment) == ("accepted", "mit Vertrieb geklärt")
    entry = _updates(budget).get()
    assert (entry.action, entry.actor, entry.via) == (AuditAction.UPDATE, manager, "api")
    assert entry.changes == {
        "acceptance": ["open", "accepted"],
        "acceptance_comment": ["", "mit Vertrieb geklärt"],
    }


def test_patch_leaves_out_what_is_not_sent(client, manager, trade_fair):
    budget = _budget(trade_fair)
    requirement_accept(actor=manager, activity=budget, acceptance="accepted", comment="geprüft")
    url = f"{_base(trade_fair)}/{budget.pk}"
    headers = writer(manager)

    reopened = _patch(client, url, {"acceptance": "open"}, **headers).json()
    cleared = _patch(client, url, {"comment": ""}, **headers).json()

    assert (reopened["acceptance"], reopened["comment"]) == ("open", "geprüft")
    assert (cleared["acceptance"], cleared["comment"]) == ("open", "")
    assert _updates(budget).count() == 3
    # Sending nothing changes nothing and writes no audit entry.
    assert _patch(client, url, {}, **headers).status_code == 200
    assert _updates(budget).count() == 3


def test_sales_rep_without_processes_manage_cannot_mark(client, owner, trade_fair):
    budget = _budget(trade_fair)
    audits = AuditEntry.objects.count()

    response = _patch(
        client, f"{_base(trade_fair)}/{budget.pk}", {"acceptance": "accepted"}, **writer(owner)
    )

    assert_problem(response, 403, "Forbidden", FORBIDDEN)
    budget.refresh_from_db()
    assert (budget.acceptance, budget.acceptance_comment) == ("open", "")
    assert AuditEntry.objects.count() == audits


def test_read_only_token_cannot_mark(client, admin, trade_fair):
    budget = _budget(trade_fair)
    audits = AuditEntry.objects.count()

    response = _patch(
        client, f"{_base(trade_fair)}/{budget.pk}", {"acceptance": "accepted"}, **reader(admin)
    )

    assert_problem(response, 403, "Forbidden", "This token may only read.")
    budget.refresh_from_db()
    assert budget.acceptance == "open"
    assert AuditEntry.objects.count() == audits


def test_activity_of_another_version_is_a_404(client, manager, trade_fair):
    draft = definition_services.version_new_draft(actor=manager, process=trade_fair.process)
    twin = _budget(draft)  # the copy in version 2
    complaint = Process.objects.get(key="complaint").versions.get()
    foreign = StepActivity.objects.filter(step__version=complaint).first()
    headers = writer(manager)

    for activity in (twin, foreign):
        response = _patch(
            client, f"{_base(trade_fair)}/{activity.pk}", {"acceptance": "accepted"}, **headers
        )
        assert_problem(response, 404, "Not found", NOT_FOUND)
        activity.refresh_from_db()
        assert activity.acceptance == "open"
    # On its own version the copy can be marked.
    response = _patch(client, f"{_base(draft)}/{twin.pk}", {"acceptance": "accepted"}, **headers)
    assert response.json()["acceptance"] == "accepted"
    assert _budget(trade_fair).acceptance == "open"


def test_bad_input_is_a_422_and_changes_nothing(client, manager, trade_fair):
    budget = _budget(trade_fair)
    url = f"{_base(trade_fair)}/{budget.pk}"
    headers = writer(manager)

    bad_status = _patch(client, url, {"acceptance": "maybe"}, **headers)
    too_long = _patch(client, url, {"acceptance": "accepted", "comment": "x" * 5001}, **headers)
    unknown = _patch(client, url, {"accepted": True}, **headers)
    not_a_number = _patch(client, f"{_base(trade_fair)}/zwei", {"acceptance": "open"}, **headers)

    for response, field in (
        (bad_status, "acceptance"),
        (too_long, "comment"),
        (unknown, "accepted"),
        (not_a_number, "activity_id"),
    ):
        assert response.status_code == 422
        assert response["Content-Type"] == "application/problem+json"
        assert [e["field"] for e in response.json()["errors"]] == [field]
    assert too_long.json()["errors"][0]["message"] == "Enter at most 5000 characters."
    assert unknown.json()["errors"][0]["message"] == "Unknown field."
    budget.refresh_from_db()
    assert (budget.acceptance, budget.acceptance_comment) == ("open", "")
    assert not _updates(budget).exists()
