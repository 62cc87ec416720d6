"""The shared cell rules of every CSV and XLSX export (kontor.core.spreadsheet)."""

import datetime
from decimal import Decimal

import pytest

from kontor.core import spreadsheet


@pytest.mark.parametrize(
    "text",
    ['=HYPERLINK("http://x")', "+cmd|' /C calc'!A0", "@SUM(1+1)", "-2+3", "\t=1", "\r=1", "-2"],
)
def test_text_a_spreadsheet_would_evaluate_gets_a_quote(text):
    assert spreadsheet.neutralise(text) == "'" + text


@pytest.mark.parametrize("text", ["", "Müller", "a=b", " =1", "'=1", "Köln-Süd"])
def test_other_text_is_unchanged(text):
    assert spreadsheet.neutralise(text) == text


@pytest.mark.parametrize(
    "value", [None, -2, Decimal("-1.5"), -0.5, True, datetime.date(2026, 1, 1)]
)
def test_values_that_are_not_text_are_unchanged(value):
    assert spreadsheet.neutralise(value) == value


def _xlsx_cells(values: list) -> list:
    """``values`` written as one row through ``xlsx_row`` and read back."""
    import io

    from openpyxl import Workbook, load_workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet()
    sheet.append(spreadsheet.xlsx_row(sheet, values))
    buffer = io.BytesIO()
    book.save(buffer)
    return list(load_workbook(io.BytesIO(buffer.getvalue())).active[1])


FORMULA_LIKE = ['=HYPERLINK("http://x")', "+cmd|' /C calc'!A0", "@SUM(1+1)", "-2+3", "\t=1", "\r=1"]


def test_xlsx_keeps_formula_like_text_exact_as_marked_text_cells():
    # No visible quote (a "+49 30 …" phone number reads as typed): Excel's own text
    # marker keeps the cell text, even when a user edits it.
    texts = [*FORMULA_LIKE, "+49 30 1234567"]
    for cell, text in zip(_xlsx_cells(texts), texts, strict=True):
        assert (cell.value, cell.data_type, cell.quotePrefix) == (text, "s", True)


def test_xlsx_writes_other_text_unmarked_and_numbers_as_numbers():
    plain, number = _xlsx_cells(["Müller", -2])
    assert (plain.value, plain.data_type, plain.quotePrefix) == ("Müller", "s", False)
    assert (number.value, number.data_type, number.quotePrefix) == (-2, "n", False)


def test_csv_row_keeps_owasps_leading_quote():
    assert spreadsheet.csv_row([*FORMULA_LIKE, "Müller", -2]) == [
        *("'" + text for text in FORMULA_LIKE),
        "Müller",
        -2,
    ]
