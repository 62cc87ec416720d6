"""Cells of CSV and XLSX exports, safe to open in a spreadsheet program.

A text a user typed (a name, a note, a tag, a custom field) that begins with ``=``,
``+``, ``-`` or ``@`` is read as a formula by Excel and LibreOffice when the file is
opened (``=HYPERLINK(…)`` sends data away, ``+cmd|' /C calc'!A0`` runs a program via
DDE); a leading tab or carriage return is stripped by some of them and exposes the
character after it.

- CSV has no cell types: following OWASP's "CSV injection" rule such a text gets a
  single quote in front, which the spreadsheet shows and never evaluates.
- XLSX has them: every text is written exactly as typed as a string cell (type ``s``),
  so nothing is ever stored as a formula, and a text that starts like a formula also
  gets Excel's own text marker (the cell style's ``quotePrefix``, what Excel sets when
  one types ``'=1``). No visible quote — a ``+49 …`` phone number reads as typed —
  and when a user edits such a cell it stays text instead of becoming a formula.

Only text is neutralised: values the database holds as numbers (an integer field, a
decimal custom field) stay numbers, so ``-2`` in a number column remains -2. The same
``-2`` typed into a text field is user text and gets the quote (the marker in XLSX) —
a spreadsheet cannot tell a harmless negative number from the start of ``-2+3+cmd|…``
in free text.

Every export of the apps (customers' lists and any to come) writes its cells through
this module.
"""

from typing import Any

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def looks_like_formula(value: Any) -> bool:
    """Whether ``value`` is text a spreadsheet would evaluate (or strip the start of)."""
    return isinstance(value, str) and value.startswith(FORMULA_TRIGGERS)


def neutralise(value: Any) -> Any:
    """For CSV: ``value`` with a ``'`` in front if it is text a spreadsheet would
    evaluate; anything that is not text unchanged."""
    if looks_like_formula(value):
        return "'" + value
    return value


def csv_row(values: list[Any]) -> list[Any]:
    """A row for ``csv.writer``: every text neutralised."""
    return [neutralise(value) for value in values]


def xlsx_row(sheet, values: list[Any]) -> list[Any]:
    """A row for ``sheet.append`` of a write-only workbook: text exactly as it is, as
    string cells (openpyxl would store a text beginning with ``=`` as a formula), with
    Excel's text marker where it starts like a formula; numbers, dates and empty cells
    as they are."""
    from openpyxl.cell import WriteOnlyCell  # imported when an XLSX is written, as openpyxl

    row = []
    for value in values:
        if isinstance(value, str):
            cell = WriteOnlyCell(sheet, value=value)
            cell.data_type = "s"
            if looks_like_formula(value):
                cell.quotePrefix = True
            row.append(cell)
        else:
            row.append(value)
    return row
