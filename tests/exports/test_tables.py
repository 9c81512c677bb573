"""Tables as downloads: CSV and XLSX keep numbers as numbers and neutralise formulas."""

from __future__ import annotations

import io

import openpyxl
import pandas as pd

from exports import tables

FRAME = pd.DataFrame(
    {
        "name": ['=HYPERLINK("x")', "+cmd", "Acme", "-2+3", "@SUM(A1)"],
        "revenue": [1.5, -2.0, 3.0, 4.0, 5.0],
    }
)


def test_csv_neutralises_formulas_but_not_negative_numbers():
    text = tables.to_csv_bytes(FRAME).decode("utf-8-sig")
    lines = text.splitlines()
    assert lines[0] == "name,revenue"
    assert lines[1] == '"\'=HYPERLINK(""x"")",1.5'
    assert lines[2] == "'+cmd,-2.0"
    assert lines[3] == "Acme,3.0"
    assert lines[4] == "'-2+3,4.0"
    assert lines[5] == "'@SUM(A1),5.0"


def test_xlsx_round_trip():
    book = openpyxl.load_workbook(io.BytesIO(tables.to_xlsx_bytes(FRAME, "Top markets")))
    sheet = book["Top markets"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("name", "revenue")
    assert rows[2] == ("'+cmd", -2.0)
    assert rows[3] == ("Acme", 3.0)
