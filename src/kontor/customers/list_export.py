"""CSV and XLSX exports of customer lists: only records the user may see, only fields
the role may see (psychographic data needs customers.psychographic), custom fields as
columns, linked organizations by name only if the user may see them (otherwise an
empty cell; customers.queries.with_organization_visibility). CSV streams row by row
in UTF-8 with BOM and ";" (what German Excel opens directly); XLSX is written in
openpyxl's write-only mode to a temporary file. Text never becomes a formula: in CSV
a leading formula character gets a ``'``, in XLSX text is a string cell as typed with
Excel's text marker (kontor.core.spreadsheet)."""

import csv
import datetime
import tempfile
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from django.db import models
from django.http import FileResponse, StreamingHttpResponse
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from kontor.core import customfields, spreadsheet
from kontor.core.access import user_can
from kontor.core.permissions import Capability
from kontor.customers import listing, queries
from kontor.customers.models import PSYCHOGRAPHIC_FIELDS

CHUNK = 2_000
_SKIP = {"id", "custom", "version"}


def _fields(entity, user) -> list[models.Field]:
    psychographic = user_can(user, Capability.CUSTOMERS_PSYCHOGRAPHIC)
    return [
        f
        for f in entity.model._meta.concrete_fields
        if f.name not in _SKIP
        and listing.shown(f)
        and (psychographic or f.name not in PSYCHOGRAPHIC_FIELDS)
    ]


def _rows(entity, user, records) -> Iterator[list[Any]]:
    """The header, then one list of plain values per visible record."""
    fields = _fields(entity, user)
    custom_fields = customfields.active_fields(entity.key)
    yield (
        [str(f.verbose_name) for f in fields]
        + [str(_("tags"))]
        + [customfields.label_of(cf) for cf in custom_fields]
    )
    relations = [f.name for f in fields if isinstance(f, models.ForeignKey)]
    links = queries.ORGANIZATION_LINKS[entity.model]
    visible = queries.with_organization_visibility(
        entity.model.objects.visible_to(user)
        .filter(pk__in=records.values("pk"))
        .select_related(*relations)
        .prefetch_related("tags")
        .order_by("pk"),
        user=user,
    )
    for record in visible.iterator(chunk_size=CHUNK):
        row = []
        for f in fields:
            if f.name in links:
                # An organization the user may not see: an empty cell, as none.
                organization = queries.linked_organization(record, f.name)
                row.append(organization.name if organization is not None else "")
            elif isinstance(f, models.ForeignKey):
                related = getattr(record, f.name)
                row.append(str(related) if related is not None else "")
            elif f.choices:
                row.append(getattr(record, f"get_{f.name}_display")())
            else:
                row.append(getattr(record, f.attname))
        row.append(", ".join(sorted(t.name for t in record.tags.all())))
        custom = record.custom or {}
        for cf in custom_fields:
            value = custom.get(cf.key)
            row.append(", ".join(map(str, value)) if isinstance(value, list) else value)
        yield row


def _text(value: Any) -> str:
    """One value as text in the active language's format (German: 23.11.2026, 1,5)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if isinstance(value, datetime.datetime):
        return formats.date_format(timezone.localtime(value), "SHORT_DATETIME_FORMAT")
    if isinstance(value, datetime.date):
        return formats.date_format(value, "SHORT_DATE_FORMAT")
    if isinstance(value, Decimal | float):
        return formats.number_format(value)
    return str(value)


class _Echo:
    def write(self, value: str) -> str:
        return value


def _filename(entity, extension: str) -> str:
    return f"{entity.model._meta.model_name}s-{timezone.localdate():%Y-%m-%d}.{extension}"


def csv_response(*, entity, user, records) -> StreamingHttpResponse:
    writer = csv.writer(_Echo(), delimiter=";")

    def lines() -> Iterator[str]:
        yield "\ufeff"
        for row in _rows(entity, user, records):
            # Neutralised before formatting: only text a user typed gets the quote,
            # numbers formatted for the locale (-1,5) stay numbers (core.spreadsheet).
            yield writer.writerow([_text(v) for v in spreadsheet.csv_row(row)])

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{_filename(entity, "csv")}"'
    return response


def _cell(value: Any) -> Any:
    if isinstance(value, datetime.datetime):
        return timezone.localtime(value).replace(tzinfo=None)  # Excel knows no zones
    if value is None or isinstance(value, int | float | Decimal | datetime.date):
        return value
    return str(value)


def xlsx_response(*, entity, user, records) -> FileResponse:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(str(entity.model._meta.verbose_name_plural))
    for row in _rows(entity, user, records):
        sheet.append(spreadsheet.xlsx_row(sheet, [_cell(v) for v in row]))
    output = tempfile.TemporaryFile()  # noqa: SIM115 — FileResponse closes it
    workbook.save(output)
    output.seek(0)
    return FileResponse(
        output,
        as_attachment=True,
        filename=_filename(entity, "xlsx"),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
