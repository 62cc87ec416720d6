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
