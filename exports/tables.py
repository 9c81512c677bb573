"""Tables as files people can open: CSV and XLSX, safe against spreadsheet formula injection."""

from __future__ import annotations

import io

import pandas as pd

# A spreadsheet treats a cell starting with one of these as a formula.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralise_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """Prefix text cells that a spreadsheet would run as a formula with an apostrophe.

    Only text columns are touched: a negative number stays a number.
    """
    safe = frame.copy()
    for column in safe.columns:
        if pd.api.types.is_object_dtype(safe[column]) or pd.api.types.is_string_dtype(safe[column]):
            safe[column] = safe[column].map(
                lambda v: "'" + v if isinstance(v, str) and v.startswith(FORMULA_PREFIXES) else v
            )
    return safe


def to_csv_bytes(frame: pd.DataFrame) -> bytes:
    """UTF-8 CSV with a BOM, so that Excel opens accents and currency signs correctly."""
    return neutralise_formulas(frame).to_csv(index=False).encode("utf-8-sig")


def to_xlsx_bytes(frame: pd.DataFrame, sheet_name: str = "Data") -> bytes:
    """An XLSX workbook with one sheet holding the table."""
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        neutralise_formulas(frame).to_excel(writer, sheet_name=sheet_name[:31], index=False)
    return buffer.getvalue()
