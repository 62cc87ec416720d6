import io

import pytest
from django.urls import reverse
from docx import Document as Word

from kontor.core.models import AuditEntry
from kontor.processes.models import Process, StepActivity
from kontor.processes.requirements_doc import document_build, render_docx, render_pdf
from kontor.processes.scenes import scenes_install
from kontor.processes.services.requirements import requirement_accept

pytestmark = pytest.mark.django_db


@pytest.fixture
def trade_fair():
    scenes_install(language="de")
    return Process.objects.get(key="trade_fair_visitor").versions.select_related("process").get()


def _docx_text(data: bytes) -> str:
    word = Word(io.BytesIO(data))
    parts = [p.text for p in word.paragraphs]
    for table in word.tables:
        for row in table.rows:
            parts.extend(cell.text for cell in row.cells)
    return "\n".join(parts)


def test_document_numbers_requirements_per_step_and_counts_grades(trade_fair):
    doc = document_build(trade_fair, language="de")

    assert doc.process_name == "Messebesucher → Neukunde"
    assert doc.goal == "Der Messebesucher hat seinen ersten Auftrag erteilt."
    assert doc.svg.startswith("<svg")
    assert [s.name for s in doc.steps][:3] == [
        "Messegespräch erfasst",
        "Dankesmail senden",
        "Anruf innerhalb 3 Werktagen",
    ]
    call = doc.steps[2]
    assert call.information == ["person.phone"]
    assert [(r.code, r.title, r.grade) for r in call.requirements] == [
        ("R-3.1", "Besucher anrufen und Bedarf klären", "must"),
        ("R-3.2", "Budget erfassen", "should"),
    ]
    assert doc.steps[5].next_steps == ["Erster Auftrag (Ja)", "Kein Bedarf (Nein)"]
    assert {row.grade: (row.count, row.accepted) for row in doc.summary} == {
        "must": (5, 0),
        "should": (5, 0),
        "can": (1, 0),
        "out": (1, 0),
    }


def test_document_in_english_uses_english_labels(trade_fair):
    doc = document_build(trade_fair, language="en")

    assert doc.labels["title"] == "Requirements document"
    assert doc.steps[2].deadline == "3 business days"
    assert doc.steps[2].requirements[1].grade_label == "Should"
    assert doc.steps[0].lane == "System"


def test_acceptance_shows_in_the_document(trade_fair, admin):
    activity = StepActivity.objects.get(step__version=trade_fair, title="Budget erfassen")

    requirement_accept(actor=admin, activity=activity, acceptance="accepted", comment="Feld ist da")

    doc = document_build(trade_fair, language="de")
    requirement = doc.steps[2].requirements[1]
    assert (requirement.accepted, requirement.comment) == (True, "Feld ist da")
    assert {row.grade: row.accepted for row in doc.summary}["should"] == 1
    assert "Feld ist da" in _docx_text(render_docx(trade_fair, "de"))


def test_pdf_is_a_complete_pdf_with_the_texts(trade_fair):
    data = render_pdf(trade_fair, "de", compress=False)

    assert data.startswith(b"%PDF-")
    assert data.rstrip().endswith(b"%%EOF")
    assert len(render_pdf(trade_fair, "en")) > 1000


def test_pdf_without_dejavu_falls_back_to_core_font(trade_fair, monkeypatch, tmp_path):
    from kontor.processes import requirements_doc

    monkeypatch.setattr(requirements_doc, "FONT_DIR", str(tmp_path))

    data = render_pdf(trade_fair, "de", compress=False)

    assert data.startswith(b"%PDF-")
    # Core font text is written literally (Latin-1), arrows transliterated.
    assert b"Messebesucher -> Neukunde" in data


def test_docx_opens_and_contains_steps_and_requirements(trade_fair):
    text = _docx_text(render_docx(trade_fair, "de"))

    for name in ("Messegespräch erfasst", "Dankesmail senden", "Erster Auftrag", "Kein Bedarf"):
        assert name in text
    assert "R-3.2" in text
    assert "person.phone" in text


def test_every_scene_renders_in_both_languages():
    scenes_install(language="en")
    for process in Process.objects.all():
        version = process.versions.select_related("process").get()
        for language in ("de", "en"):
            assert render_pdf(version, language).startswith(b"%PDF-")
            assert version.steps.first().name in _docx_text(render_docx(version, language))


# --- Views ---------------------------------------------------------------------------


def test_downloads_for_a_user_who_sees_customers(client, owner, trade_fair):
    client.force_login(owner)
    uuid = trade_fair.process.uuid

    pdf = client.get(reverse("processes:requirements_pdf", args=[uuid]) + "?version=1&lang=en")
    docx = client.get(reverse("processes:requirements_docx", args=[uuid]) + "?lang=de")

    assert pdf.status_code == 200
    assert pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF-")
    assert 'filename="lastenheft-messebesucher-neukunde-v1-en.pdf"' in pdf["Content-Disposition"]
    assert docx.status_code == 200
    assert "Messegespräch erfasst" in _docx_text(docx.content)


def test_unknown_version_is_404(client, owner, trade_fair):
    client.force_login(owner)
    url = reverse("processes:requirements_pdf", args=[trade_fair.process.uuid])

    assert client.get(url + "?version=9").status_code == 404
    assert client.get(url + "?version=x").status_code == 404


def test_anonymous_is_sent_to_login(client, trade_fair):
    response = client.get(reverse("processes:requirements_pdf", args=[trade_fair.process.uuid]))

    assert response.status_code == 302


def test_acceptance_page_lists_requirements(client, owner, trade_fair):
    client.force_login(owner)

    response = client.get(reverse("processes:acceptance", args=[trade_fair.process.uuid]))

    assert response.status_code == 200
    assert "R-3.2" in response.text
    assert "Budget erfassen" in response.text
    assert '<form method="post"' not in response.text  # owner may not manage processes


def test_admin_marks_a_requirement_accepted(client, admin, trade_fair):
    client.force_login(admin)
    activity = StepActivity.objects.get(step__version=trade_fair, title="Budget erfassen")
    url = reverse("processes:acceptance", args=[trade_fair.process.uuid])

    response = client.post(
        url + "?version=1",
        {"activity": activity.pk, "acceptance": "accepted", "comment": "ok"},
    )

    assert response.status_code == 302
    assert response["Location"].endswith(f"?version=1#req-{activity.pk}")
    activity.refresh_from_db()
    assert (activity.acceptance, activity.acceptance_comment) == ("accepted", "ok")
    entry = AuditEntry.objects.filter(object_id=activity.pk, action="update").get()
    assert entry.changes == {"acceptance": ["open", "accepted"], "acceptance_comment": ["", "ok"]}
    page = client.get(url)
    assert 'id="req-' in page.text


def test_acceptance_with_a_bad_choice_shows_the_error(client, admin, trade_fair):
    client.force_login(admin)
    activity = StepActivity.objects.get(step__version=trade_fair, title="Budget erfassen")

    response = client.post(
        reverse("processes:acceptance", args=[trade_fair.process.uuid]),
        {"activity": activity.pk, "acceptance": "maybe", "comment": ""},
    )

    assert response.status_code == 400
    activity.refresh_from_db()
    assert activity.acceptance == "open"


def test_acceptance_denied_without_processes_manage(client, owner, trade_fair):
    client.force_login(owner)
    activity = StepActivity.objects.get(step__version=trade_fair, title="Budget erfassen")
    audits = AuditEntry.objects.count()

    response = client.post(
        reverse("processes:acceptance", args=[trade_fair.process.uuid]),
        {"activity": activity.pk, "acceptance": "accepted", "comment": "x"},
    )

    assert response.status_code == 403
    activity.refresh_from_db()
    assert (activity.acceptance, activity.acceptance_comment) == ("open", "")
    assert AuditEntry.objects.count() == audits


def test_acceptance_of_another_versions_activity_is_404(client, admin, trade_fair):
    client.force_login(admin)
    other = Process.objects.get(key="complaint").versions.get()
    foreign = StepActivity.objects.filter(step__version=other).first()

    response = client.post(
        reverse("processes:acceptance", args=[trade_fair.process.uuid]),
        {"activity": foreign.pk, "acceptance": "accepted", "comment": ""},
    )

    assert response.status_code == 404
    foreign.refresh_from_db()
    assert foreign.acceptance == "open"


def test_service_refuses_without_capability(owner, trade_fair):
    from django.core.exceptions import PermissionDenied

    activity = StepActivity.objects.filter(step__version=trade_fair).first()
    with pytest.raises(PermissionDenied):
        requirement_accept(actor=owner, activity=activity, acceptance="accepted")
    activity.refresh_from_db()
    assert activity.acceptance == "open"


def test_user_without_customers_view_gets_nothing(client, team, trade_fair):
    from tests.core.factories import UserFactory

    nobody = UserFactory(username="nobody", role=None, teams=[team])
    client.force_login(nobody)
    uuid = trade_fair.process.uuid

    assert client.get(reverse("processes:requirements_pdf", args=[uuid])).status_code == 403
    assert client.get(reverse("processes:requirements_docx", args=[uuid])).status_code == 403
    assert client.get(reverse("processes:acceptance", args=[uuid])).status_code == 403


def test_readonly_sees_acceptance_status_without_forms(client, readonly, admin, trade_fair):
    activity = StepActivity.objects.get(step__version=trade_fair, title="Budget erfassen")
    requirement_accept(actor=admin, activity=activity, acceptance="accepted", comment="geprüft")
    client.force_login(readonly)

    response = client.get(reverse("processes:acceptance", args=[trade_fair.process.uuid]))

    assert response.status_code == 200
    assert "geprüft" in response.text
    assert 'class="acceptance-form"' not in response.text
