"""The process-oriented requirements document (Lastenheft) of a process version, as PDF
(German business layout, fpdf2) and as Word document (python-docx) — in German or
English.

Both renderers consume the same *document model* (``document_build``): title data,
goal, trigger, the diagram as SVG, the steps in order with their lane, responsible,
deadline and information needed, and per step its activities as numbered requirements
("R-3.2": step 3, activity 2) with grade and acceptance status, plus a summary per
grade. Because the activities carry their acceptance status, the same document is the
acceptance checklist.
"""

import dataclasses
import io
import logging
import os
import re
from dataclasses import dataclass, field

from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from kontor.processes.drawing import draw
from kontor.processes.models import (
    AcceptanceStatus,
    Grade,
    ProcessVersion,
    Step,
    StepActivity,
    Transition,
)

logger = logging.getLogger(__name__)

FONT_DIR = "/usr/share/fonts/truetype/dejavu"


@dataclass(frozen=True)
class Requirement:
    code: str  # "R-3.2"
    title: str
    description: str
    kind: str
    grade: str  # Grade value
    grade_label: str
    required: bool
    accepted: bool
    acceptance_label: str
    comment: str
    activity_id: int


@dataclass(frozen=True)
class StepSection:
    number: int
    key: str
    name: str
    description: str
    lane: str
    responsible: str
    deadline: str
    information: list[str]
    next_steps: list[str]
    ends: str
    requirements: list[Requirement] = field(default_factory=list)


@dataclass(frozen=True)
class SummaryRow:
    grade: str
    label: str
    count: int
    accepted: int


@dataclass(frozen=True)
class Document:
    language: str
    title: str
    process_name: str
    version_label: str
    date: str
    goal: str
    trigger: str
    description: str
    svg: str
    steps: list[StepSection]
    summary: list[SummaryRow]
    labels: dict[str, str]

    @property
    def requirements(self) -> list[Requirement]:
        return [r for step in self.steps for r in step.requirements]


def _labels() -> dict[str, str]:
    """The fixed vocabulary of the document, in the active language."""
    return {
        "title": _("Requirements document"),
        "process": _("Process"),
        "version": _("Version"),
        "date": _("Date"),
        "goal": _("Goal"),
        "trigger": _("Trigger"),
        "description": _("Description"),
        "diagram": _("Process diagram"),
        "no_diagram": _("The diagram could not be embedded; see the process page in Kontor."),
        "docx_diagram": _("The diagram is in the PDF edition and on the process page in Kontor."),
        "steps": _("Steps"),
        "step": _("Step"),
        "lane": _("Lane"),
        "responsible": _("Responsible"),
        "deadline": _("Deadline"),
        "information": _("Information needed"),
        "next": _("Next steps"),
        "requirements": _("Requirements"),
        "no_requirements": _("No requirements in this step."),
        "requirement": _("Requirement"),
        "type": _("Type"),
        "grade": _("Grade"),
        "acceptance": _("Acceptance"),
        "comment": _("Comment"),
        "summary": _("Summary"),
        "count": _("Count"),
        "accepted": _("Accepted"),
        "total": _("Total"),
        "none": _("none"),
        "page": _("Page %(page)s of %(pages)s"),
    }


def document_build(version: ProcessVersion, *, language: str = "de") -> Document:
    """The document model of ``version`` with all texts in ``language``. Four queries
    plus the drawing's."""
    with translation.override(language):
        process = version.process
        steps = list(Step.objects.filter(version=version).order_by("position", "id"))
        activities: dict[int, list[StepActivity]] = {}
        for activity in StepActivity.objects.filter(step__version=version).order_by(
            "position", "id"
        ):
            activities.setdefault(activity.step_id, []).append(activity)
        outgoing: dict[int, list[Transition]] = {}
        for transition in Transition.objects.filter(version=version).select_related("target"):
            outgoing.setdefault(transition.source_id, []).append(transition)

        sections = []
        for number, step in enumerate(steps, start=1):
            requirements = [
                Requirement(
                    code=f"R-{number}.{index}",
                    title=a.title,
                    description=a.description,
                    kind=str(a.get_kind_display()),
                    grade=a.grade,
                    grade_label=str(a.get_grade_display()),
                    required=a.required,
                    accepted=a.acceptance == AcceptanceStatus.ACCEPTED,
                    acceptance_label=str(a.get_acceptance_display()),
                    comment=a.acceptance_comment,
                    activity_id=a.pk,
                )
                for index, a in enumerate(activities.get(step.pk, []), start=1)
            ]
            next_steps = [
                f"{t.target.name} ({t.label})" if t.label else t.target.name
                for t in sorted(outgoing.get(step.pk, []), key=lambda t: (t.position, t.pk))
            ]
            if step.is_end:
                ends = (
                    _("Ends the process, goal reached")
                    if step.goal_reached
                    else _("Ends the process")
                )
            else:
                ends = ""
            sections.append(
                StepSection(
                    number=number,
                    key=step.key,
                    name=step.name,
                    description=step.description,
                    lane=str(step.get_lane_display()),
                    responsible=str(step.get_responsible_display()),
                    deadline=(
                        ngettext(
                            "%(days)s business day", "%(days)s business days", step.deadline_days
                        )
                        % {"days": step.deadline_days}
                        if step.deadline_days is not None
                        else "–"
                    ),
                    information=list(step.required_fields or []),
                    next_steps=next_steps,
                    ends=ends,
                    requirements=requirements,
                )
            )

        every = [r for s in sections for r in s.requirements]
        summary = [
            SummaryRow(
                grade=value,
                label=str(label),
                count=sum(1 for r in every if r.grade == value),
                accepted=sum(1 for r in every if r.grade == value and r.accepted),
            )
            for value, label in Grade.choices
        ]
        trigger = str(version.get_trigger_display())
        if version.trigger_config:
            details = ", ".join(f"{k}: {v}" for k, v in sorted(version.trigger_config.items()))
            trigger = f"{trigger} ({details})"
        labels = _labels()
        return Document(
            language=language,
            title=labels["title"],
            process_name=process.name,
            version_label=f"{labels['version']} {version.number} ({version.get_status_display()})",
            date=formats.date_format(timezone.localdate(), "SHORT_DATE_FORMAT"),
            goal=version.goal,
            trigger=trigger,
            description=version.description,
            svg=draw(version, language=language),
            steps=sections,
            summary=summary,
            labels=labels,
        )


# --- PDF ---------------------------------------------------------------------------------

# Characters outside Latin-1 that the core fonts cannot show, when DejaVu is missing.
_TRANSLITERATION = str.maketrans(
    {
        "→": "->",
        "“": '"',
        "”": '"',
        "„": '"',
        "‘": "'",
        "’": "'",
        "–": "-",
        "—": "-",
        "…": "...",
        "≤": "<=",
        "€": "EUR",
        "•": "*",
    }
)


def _latin1(text: str) -> str:
    return text.translate(_TRANSLITERATION).encode("latin-1", "replace").decode("latin-1")


def render_pdf(version: ProcessVersion, language: str = "de", *, compress: bool = True) -> bytes:
    """The requirements document as PDF (A4, margins 25/20 mm, header with the process
    name, footer "Page x of y")."""
    doc = document_build(version, language=language)
    return _pdf(doc, compress=compress)


def _pdf(doc: Document, *, compress: bool = True) -> bytes:
    from fpdf import FPDF
    from fpdf.fonts import FontFace

    # fontTools reports every glyph it subsets, fpdf2 every SVG tag it skips (<title>).
    logging.getLogger("fontTools").setLevel(logging.WARNING)
    logging.getLogger("fpdf.svg").setLevel(logging.ERROR)

    regular = os.path.join(FONT_DIR, "DejaVuSans.ttf")
    bold = os.path.join(FONT_DIR, "DejaVuSans-Bold.ttf")
    unicode_font = os.path.exists(regular) and os.path.exists(bold)
    text = (lambda value: value) if unicode_font else _latin1
    labels = doc.labels

    class Pdf(FPDF):
        def header(self):
            if self.page_no() == 1:
                return
            self.set_font(family, "", 8)
            self.set_text_color(100)
            self.cell(0, 6, text(f"{doc.title} – {doc.process_name}"), align="L")
            self.ln(10)
            self.set_text_color(0)

        def footer(self):
            self.set_y(-15)
            self.set_font(family, "", 8)
            self.set_text_color(100)
            page = labels["page"] % {"page": self.page_no(), "pages": "{nb}"}
            self.cell(0, 8, text(page), align="C")
            self.set_text_color(0)

    pdf = Pdf(orientation="P", unit="mm", format="A4")
    pdf.set_compression(compress)
    if unicode_font:
        pdf.add_font("DejaVu", "", regular)
        pdf.add_font("DejaVu", "B", bold)
        # The drawing asks for "sans-serif", which fpdf2 maps to a Latin-1 core font
        # unless a font of that name is registered: give it DejaVu too (→, ≤ …).
        pdf.add_font("sans-serif", "", regular)
        pdf.add_font("sans-serif", "B", bold)
        family = "DejaVu"
    else:
        family = "helvetica"
    pdf.set_margins(left=25, top=20, right=20)
    pdf.set_auto_page_break(True, margin=20)
    pdf.set_title(text(f"{doc.title}: {doc.process_name}"))
    pdf.set_creator("Kontor")

    def heading(value: str, size: int = 14):
        pdf.set_font(family, "B", size)
        pdf.multi_cell(0, size * 0.5, text(value), new_x="LMARGIN", new_y="NEXT")
        pdf.ln(2)
        pdf.set_font(family, "", 10)

    def paragraph(value: str):
        pdf.set_font(family, "", 10)
        pdf.multi_cell(0, 5, text(value), new_x="LMARGIN", new_y="NEXT")
        pdf.ln(2)

    head = FontFace(emphasis="BOLD", fill_color=(230, 230, 230))

    # Title page.
    pdf.add_page()
    pdf.ln(40)
    pdf.set_font(family, "B", 22)
    pdf.multi_cell(0, 11, text(doc.title), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_font(family, "B", 16)
    pdf.multi_cell(0, 8, text(doc.process_name), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(8)
    pdf.set_font(family, "", 11)
    with pdf.table(col_widths=(35, 130), first_row_as_headings=False, line_height=6) as table:
        for name, value in (
            (labels["process"], doc.process_name),
            (labels["version"], doc.version_label),
            (labels["date"], doc.date),
        ):
            row = table.row()
            row.cell(text(name))
            row.cell(text(value))

    # Goal, trigger, description.
    pdf.add_page()
    heading(f"1 {labels['goal']}")
    paragraph(doc.goal)
    heading(f"2 {labels['trigger']}")
    paragraph(doc.trigger)
    if doc.description:
        heading(labels["description"], 12)
        paragraph(doc.description)

    # The diagram.
    heading(f"3 {labels['diagram']}")
    try:
        pdf.image(io.BytesIO(doc.svg.encode("utf-8")), w=pdf.epw)
    except Exception:  # any SVG the library cannot read: note it, do not crash
        logger.warning("requirements document: diagram not embedded", exc_info=True)
        paragraph(labels["no_diagram"])
    pdf.ln(4)

    # Steps.
    pdf.add_page()
    heading(f"4 {labels['steps']}")
    for step in doc.steps:
        heading(f"4.{step.number} {step.name}", 12)
        if step.description:
            paragraph(step.description)
        pdf.set_font(family, "", 9)
        with pdf.table(col_widths=(40, 125), first_row_as_headings=False, line_height=5) as table:
            rows = [
                (labels["lane"], step.lane),
                (labels["responsible"], step.responsible),
                (labels["deadline"], step.deadline),
                (labels["information"], ", ".join(step.information) or labels["none"]),
                (labels["next"], ", ".join(step.next_steps) or step.ends or labels["none"]),
            ]
            for name, value in rows:
                row = table.row()
                row.cell(text(name))
                row.cell(text(value))
        pdf.ln(3)
        if step.requirements:
            with pdf.table(
                col_widths=(14, 63, 22, 20, 46), headings_style=head, line_height=5
            ) as table:
                row = table.row()
                for name in ("", "requirement", "type", "grade", "acceptance"):
                    row.cell(text(labels[name]) if name else "#")
                for r in step.requirements:
                    row = table.row()
                    row.cell(r.code)
                    row.cell(text(f"{r.title}\n{r.description}" if r.description else r.title))
                    row.cell(text(r.kind))
                    row.cell(text(r.grade_label))
                    status = r.acceptance_label
                    if r.comment:
                        status = f"{status}: {r.comment}"
                    row.cell(text(status))
        else:
            paragraph(labels["no_requirements"])
        pdf.ln(4)

    # Summary.
    heading(f"5 {labels['summary']}")
    pdf.set_font(family, "", 10)
    with pdf.table(col_widths=(65, 50, 50), headings_style=head, line_height=6) as table:
        row = table.row()
        for name in ("grade", "count", "accepted"):
            row.cell(text(labels[name]))
        for line in doc.summary:
            row = table.row()
            row.cell(text(line.label))
            row.cell(str(line.count))
            row.cell(str(line.accepted))
        row = table.row()
        row.cell(text(labels["total"]))
        row.cell(str(sum(line.count for line in doc.summary)))
        row.cell(str(sum(line.accepted for line in doc.summary)))
    return bytes(pdf.output())


# --- DOCX --------------------------------------------------------------------------------


def render_docx(version: ProcessVersion, language: str = "de") -> bytes:
    """The requirements document as an editable Word document (.docx). The diagram is
    left out with a note (Word cannot show the SVG without a raster copy)."""
    doc = document_build(version, language=language)
    return _docx(_xml_safe(doc))


# What XML 1.0 cannot hold (python-docx refuses it with an error): control characters
# but tab and line breaks, lone surrogates, U+FFFE and U+FFFF.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _xml_safe(value):
    """``value`` (the document, its sections, their texts) without what XML cannot hold."""
    if isinstance(value, str):
        return _NOT_XML.sub("", value)
    if isinstance(value, list | tuple):
        return type(value)(_xml_safe(v) for v in value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes = {f.name: _xml_safe(getattr(value, f.name)) for f in dataclasses.fields(value)}
        return dataclasses.replace(value, **changes)
    return value


def _docx(doc: Document) -> bytes:
    from docx import Document as Word
    from docx.shared import Mm

    labels = doc.labels
    word = Word()
    section = word.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.left_margin, section.right_margin = Mm(25), Mm(20)
    section.top_margin, section.bottom_margin = Mm(20), Mm(20)
    section.header.paragraphs[0].text = f"{doc.title} – {doc.process_name}"
    word.core_properties.title = f"{doc.title}: {doc.process_name}"

    def table(rows: list[tuple[str, ...]], *, header: bool):
        result = word.add_table(rows=0, cols=len(rows[0]))
        result.style = "Table Grid"
        for index, values in enumerate(rows):
            cells = result.add_row().cells
            for cell, value in zip(cells, values, strict=True):
                cell.text = value
                if header and index == 0:
                    for run in cell.paragraphs[0].runs:
                        run.bold = True
        return result

    word.add_heading(doc.title, level=0)
    word.add_heading(doc.process_name, level=1)
    table(
        [
            (labels["process"], doc.process_name),
            (labels["version"], doc.version_label),
            (labels["date"], doc.date),
        ],
        header=False,
    )
    word.add_heading(f"1 {labels['goal']}", level=1)
    word.add_paragraph(doc.goal)
    word.add_heading(f"2 {labels['trigger']}", level=1)
    word.add_paragraph(doc.trigger)
    if doc.description:
        word.add_heading(labels["description"], level=2)
        word.add_paragraph(doc.description)
    word.add_heading(f"3 {labels['diagram']}", level=1)
    word.add_paragraph(labels["docx_diagram"])

    word.add_heading(f"4 {labels['steps']}", level=1)
    for step in doc.steps:
        word.add_heading(f"4.{step.number} {step.name}", level=2)
        if step.description:
            word.add_paragraph(step.description)
        table(
            [
                (labels["lane"], step.lane),
                (labels["responsible"], step.responsible),
                (labels["deadline"], step.deadline),
                (labels["information"], ", ".join(step.information) or labels["none"]),
                (labels["next"], ", ".join(step.next_steps) or step.ends or labels["none"]),
            ],
            header=False,
        )
        word.add_paragraph()
        if step.requirements:
            rows = [
                ("#", labels["requirement"], labels["type"], labels["grade"], labels["acceptance"])
            ]
            for r in step.requirements:
                status = f"{r.acceptance_label}: {r.comment}" if r.comment else r.acceptance_label
                title = f"{r.title}\n{r.description}" if r.description else r.title
                rows.append((r.code, title, r.kind, r.grade_label, status))
            table(rows, header=True)
        else:
            word.add_paragraph(labels["no_requirements"])

    word.add_heading(f"5 {labels['summary']}", level=1)
    rows = [(labels["grade"], labels["count"], labels["accepted"])]
    rows += [(line.label, str(line.count), str(line.accepted)) for line in doc.summary]
    rows.append(
        (
            labels["total"],
            str(sum(line.count for line in doc.summary)),
            str(sum(line.accepted for line in doc.summary)),
        )
    )
    table(rows, header=True)
    out = io.BytesIO()
    word.save(out)
    return out.getvalue()


CONTENT_TYPES = {
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}


def document_response(version: ProcessVersion, language: str, file_format: str):
    """The document as a download (the page and the API give the same file)."""
    from django.http import HttpResponse
    from django.utils.text import slugify

    render = render_pdf if file_format == "pdf" else render_docx
    response = HttpResponse(render(version, language), content_type=CONTENT_TYPES[file_format])
    name = slugify(version.process.name) or "process"
    filename = f"lastenheft-{name}-v{version.number}-{language}.{file_format}"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response
