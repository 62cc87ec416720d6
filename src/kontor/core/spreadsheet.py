"""Cells of CSV and XLSX exports, safe to open in a spreadsheet program.

A text a user typed (a name, a note, a tag, a custom field) that begins with ``=``,
``+``, ``-`` or ``@`` is read as a formula by Excel and LibreOffice when the file is
opened (``=HYPERLINK(…)`` sends data away, ``+cmd|' /C calc'!A0`` runs a program via
DDE); a leading tab or carriage return is stripped by some of them and exposes the
character after it. Following OWASP's "CSV injection" rule such a text gets a single
quote in front, which the spreadsheet shows and never evaluates. In XLSX text is also
written as an explicit string cell, so nothing is ever stored as a formula.

Only text is neutralised: values the database holds as numbers (an integer field, a
decimal custom field) stay numbers, so ``-2`` in a number column remains -2. The same
``-2`` typed into a text field is user text and gets the quote — a spreadsheet cannot
tell a harmless negative number from the start of ``-2+3+cmd|…`` in free text.

Every export of the apps (customers' lists and any to come) writes its cells through
this module.
"""

from typing import Any

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> Any:
    """``value`` with a ``'`` in front if it is text a spreadsheet would evaluate;
    anything that is not text unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def csv_row(values: list[Any]) -> list[Any]:
    """A row for ``csv.writer``: every text neutralised."""
    return [neutralise(value) for value in values]


def xlsx_row(sheet, values: list[Any]) -> list[Any]:
    """A row for ``sheet.append`` of a write-only workbook: text neutralised and
    written as string cells (openpyxl would store a text beginning with ``=`` as a
    formula); numbers, dates and empty cells as they are."""
    from openpyxl.cell import WriteOnlyCell  # imported when an XLSX is written, as openpyxl

    row = []
    for value in values:
        if isinstance(value, str):
            cell = WriteOnlyCell(sheet, value=neutralise(value))
            cell.data_type = "s"
            row.append(cell)
        else:
            row.append(value)
    return row
