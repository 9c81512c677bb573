"""Number formatting and table exports."""

from __future__ import annotations

import io

import openpyxl
import pandas as pd
import pytest

from analytics import export, formatting


@pytest.mark.parametrize(
    ("value", "currency", "expected"),
    [
        (12_345_678, "EUR", "€12.3M"),
        (845_200, "CHF", "CHF 845.2k"),
        (-1_234, "USD", "-$1.2k"),
        (999, "JPY", "¥999"),
        (2.5e9, "GBP", "£2.5bn"),
        (float("nan"), "EUR", "–"),
    ],
)
def test_money_compact(value, currency, expected):
    assert formatting.money(value, currency) == expected


def test_money_full_uses_thousands_separators():
    assert formatting.money(1234567.4, "SEK", compact=False) == "SEK 1,234,567"


@pytest.mark.parametrize(
    ("value", "kind", "expected"),
    [
        (0.0423, "money", "+4.2%"),
        (-0.1, "count", "-10.0%"),
        (0.008, "percent", "+0.8 pp"),
        (None, "money", None),
    ],
)
def test_change(value, kind, expected):
    assert formatting.change(value, kind) == expected


FRAME = pd.DataFrame(
    {
        "name": ['=HYPERLINK("x")', "+cmd", "Acme", "-2+3", "@SUM(A1)"],
        "revenue": [1.5, -2.0, 3.0, 4.0, 5.0],
    }
)


def test_csv_neutralises_formulas_but_not_negative_numbers():
    text = export.to_csv_bytes(FRAME).decode("utf-8-sig")
    lines = text.splitlines()
    assert lines[0] == "name,revenue"
    assert lines[1] == '"\'=HYPERLINK(""x"")",1.5'
    assert lines[2] == "'+cmd,-2.0"
    assert lines[3] == "Acme,3.0"
    assert lines[4] == "'-2+3,4.0"
    assert lines[5] == "'@SUM(A1),5.0"


def test_xlsx_round_trip():
    book = openpyxl.load_workbook(io.BytesIO(export.to_xlsx_bytes(FRAME, "Top markets")))
    sheet = book["Top markets"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("name", "revenue")
    assert rows[2] == ("'+cmd", -2.0)
    assert rows[3] == ("Acme", 3.0)
