"""Writes the hostile corpus: files that once crashed the importer, were mis-read, or let a
wrong value in, each with the report it must give. Run it after changing a case:

    python tests/analytics/hostile_corpus/make_corpus.py

The store they are imported into is the hand-made fixture (tests/analytics/conftest.py).
Each expected report holds the kind, the counts, the rejections (line, column and a part of
the reason) and, where a value must be stored exactly, a query and its rows.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import zipfile
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

HERE = Path(__file__).parent
HEADER = (
    "order_id,order_date,customer_id,country,currency,product_id,quantity,unit_price,"
    "customer_name,channel,unit_cost_eur"
)


def row(order_id="H1", date="2024-01-08", customer="C1", quantity="1", price="60", name=""):
    return f"{order_id},{date},{customer},US,USD,P1,{quantity},{price},{name},direct,20"


def csv_bytes(*lines: str, newline: str = "\n", header: str = HEADER) -> bytes:
    return newline.join([header, *lines]).encode("utf-8") + newline.encode()


def rejected(line, column, reason):
    return {"line": line, "column": column, "reason_contains": reason}


CASES: dict[str, tuple[bytes, dict]] = {}


def case(name: str, data: bytes, **expected) -> None:
    expected.setdefault("kind", "orders")
    CASES[name] = (data, expected)


def loaded(n: int, **more) -> dict:
    return {"status": "loaded", "rows_read": n, "rows_loaded": n, "rows_rejected": 0, **more}


def file_rejected(message: str, rows_read: int = 0) -> dict:
    return {
        "status": "rejected",
        "rows_read": rows_read,
        "rows_loaded": 0,
        "message_contains": message,
    }


def some_rejected(read: int, bad: list[dict], status: str = "loaded") -> dict:
    lines = {r["line"] for r in bad}
    return {
        "status": status,
        "rows_read": read,
        "rows_loaded": read - len(lines),
        "rows_rejected": len(lines),
        "rejected": bad,
    }


# --- line endings -------------------------------------------------------------------------
three = [row("H1"), row("H2"), row("H3")]
case("cr_only.csv", csv_bytes(*three, newline="\r"), **loaded(3))
case(
    "mixed_line_endings.csv",
    (HEADER + "\r\n" + row("H1") + "\n" + row("H2") + "\r" + row("H3") + "\r\n").encode(),
    **loaded(3),
)
case(
    "cr_inside_quotes.csv",
    csv_bytes(row("H1", customer="CQ", name='"Acme\rWest"')),
    **loaded(1, created={"customers": 1}),
    query=["SELECT name FROM customers WHERE customer_id = 'CQ'", [["Acme\rWest"]]],
)
case(
    "crlf_inside_quotes_cr_file.csv",
    csv_bytes(row("H1", customer="CQ", name='"Acme\r\nWest"'), row("H2"), newline="\r"),
    **loaded(2, created={"customers": 1}),
    query=["SELECT name FROM customers WHERE customer_id = 'CQ'", [["Acme\r\nWest"]]],
)
case(
    "cr_only_bad_row_line_number.csv",
    csv_bytes(row("H1"), row("H2", price="abc"), row("H3"), newline="\r"),
    **some_rejected(3, [rejected(3, "unit_price", "not a number")]),
)
case("cr_only_header_only.csv", (HEADER + "\r").encode(), **file_rejected("header but no rows"))
case(
    "tab_crlf_cr_mixed.csv",
    csv_bytes(
        row("H1").replace(",", "\t"),
        row("H2").replace(",", "\t"),
        newline="\r",
        header=HEADER.replace(",", "\t"),
    ),
    **loaded(2, detected={"delimiter": "tab"}),
)

# --- large fields ---------------------------------------------------------------------------
too_long = [rejected(2, "customer_name", "200,000 characters long; a value is at most 4,000")]
case(
    "field_200kb_first_line.csv",
    csv_bytes(row("H1", customer="CBIG", name="N" * 200_000), row("H2")),
    **some_rejected(2, too_long),
)
case(
    "field_200kb_quoted_cr_only.csv",
    csv_bytes(
        row("H1", customer="CBIG", name='"' + "N\r" * 100_000 + '"'), row("H2"), newline="\r"
    ),
    **some_rejected(2, [rejected(2, "customer_name", "199,999 characters long")]),
)
case(
    "field_300kb_quoted_with_delimiters.csv",
    csv_bytes(row("H1"), row("H2", name='"' + "x," * 150_000 + '"')),
    **some_rejected(2, [rejected(3, "customer_name", "300,000 characters long")]),
)

# --- encodings ------------------------------------------------------------------------------
tab_header = HEADER.replace(",", "\t")
utf16_text = (
    "\r\n".join([tab_header, row("U1", customer="CM", name="Müller GmbH").replace(",", "\t")])
    + "\r\n"
)
case(
    "excel_unicode_text_utf16le.txt",
    b"\xff\xfe" + utf16_text.encode("utf-16-le"),
    **loaded(
        1,
        created={"customers": 1},
        detected={"encoding": "utf-16 (with BOM)", "delimiter": "tab"},
    ),
    query=["SELECT name FROM customers WHERE customer_id = 'CM'", [["Müller GmbH"]]],
)
case(
    "utf16be_bom.csv",
    b"\xfe\xff"
    + csv_bytes(row("U1", customer="CM", name="Müller GmbH")).decode().encode("utf-16-be"),
    **loaded(1, created={"customers": 1}, detected={"encoding": "utf-16 (with BOM)"}),
    query=["SELECT name FROM customers WHERE customer_id = 'CM'", [["Müller GmbH"]]],
)
case(
    "utf8_with_one_cp1252_byte.csv",
    csv_bytes(row("U1", customer="CM", name="Müller GmbH"))
    + row("U2", customer="CC", name="Caf\xe9").encode("cp1252")
    + b"\n",
    **some_rejected(2, [rejected(3, "(row)", "0xE9 on this line are not UTF-8")]),
    detected={"encoding": "utf-8"},
    query=["SELECT name FROM customers WHERE customer_id IN ('CM', 'CC')", [["Müller GmbH"]]],
)
case(
    "utf8_bom_with_bad_byte.csv",
    b"\xef\xbb\xbf" + csv_bytes(row("U1")) + row("U2", name="\x80").encode("latin-1") + b"\n",
    **some_rejected(2, [rejected(3, "(row)", "0x80 on this line are not UTF-8")]),
    detected={"encoding": "utf-8 (with BOM)"},
)
case(
    "cp1252_names_the_bytes.csv",
    csv_bytes(row("W1", customer="CW", name="Wäscherei Müller")).decode().encode("cp1252"),
    **loaded(1, created={"customers": 1}, detected={"encoding": "cp1252"}),
    encoding_note_contains="0xE4, 0xFC",
    query=["SELECT name FROM customers WHERE customer_id = 'CW'", [["Wäscherei Müller"]]],
)
case(
    "latin1_byte_cp1252_lacks.csv",
    csv_bytes(row("W1", customer="CW", name="A\x81B")).decode().encode("latin-1"),
    **loaded(1, created={"customers": 1}, detected={"encoding": "latin-1"}),
)
case(
    "nul_after_4096_bytes.csv",
    csv_bytes(*[row(f"N{i}") for i in range(100)], row("N\x00X")),
    **file_rejected("Line 102 holds a NUL byte"),
)
case(
    "nul_in_first_bytes.csv",
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
    **file_rejected("not a text (CSV) file"),
)
case(
    "nul_in_utf16_text.txt",
    b"\xff\xfe" + (tab_header + "\r\n" + "N\x00X\t2024").encode("utf-16-le"),
    **file_rejected("Line 2 holds a NUL byte"),
)

# --- quotes ---------------------------------------------------------------------------------
case(
    "unterminated_quote_to_eof.csv",
    csv_bytes(row("Q1"), row("Q2", name='"Acme'), *[row(f"Q{i}") for i in range(3, 60)]),
    **file_rejected("Line 3 opens a quoted value"),
)
case(
    "unterminated_quote_closed_later.csv",
    csv_bytes(
        row("Q1"),
        row("Q2", name='"Acme'),
        *[row(f"Q{i}") for i in range(3, 40)],
        row("Q40", name='"Zeta"'),
        row("Q41"),
    ),
    **file_rejected("Line 3 opens a quoted value"),
)
case(
    "quote_then_text.csv",
    csv_bytes(row("Q1"), row("Q2", name='"Acme" Inc')),
    **file_rejected("Line 3 has a quoted value followed by more text"),
)
case(
    "multiline_value_of_the_right_width.csv",
    csv_bytes(row("Q1", customer="CQ", name='"Acme\nBuilding 2"'), row("Q2")),
    **loaded(2, created={"customers": 1}),
)

# --- numbers out of range ---------------------------------------------------------------------
case(
    "price_400_digits.csv",
    csv_bytes(row("P1"), row("P2", price="9" * 400)),
    **some_rejected(2, [rejected(3, "unit_price", "too large to be a number")]),
)
case(
    "price_above_a_billion.csv",
    csv_bytes(row("P1", price="1000000000.01"), row("P2")),
    **some_rejected(2, [rejected(2, "unit_price", "at most 1,000,000,000")]),
)
case(
    "quantity_3_billion.csv",
    csv_bytes(row("P1", quantity="3000000000"), row("P2")),
    **some_rejected(2, [rejected(2, "quantity", "at most 1,000,000 units")]),
)
case(
    "quantity_minus_3_billion.csv",
    csv_bytes(row("P1", quantity="-3000000000"), row("P2")),
    **some_rejected(2, [rejected(2, "quantity", "at most 1,000,000 units")]),
)
case(
    "quantity_int64_overflow.csv",
    csv_bytes(row("P1", quantity="99999999999999999999999"), row("P2")),
    **some_rejected(2, [rejected(2, "quantity", "at most 1,000,000 units")]),
)
case(
    "quantity_400_digits.csv",
    csv_bytes(row("P1", quantity="9" * 400)),
    **some_rejected(1, [rejected(2, "quantity", "too large to be a number")], "rejected"),
)
case(
    "price_nan_inf_words.csv",
    csv_bytes(row("P1", price="NaN"), row("P2", price="inf"), row("P3", price="-Infinity")),
    **some_rejected(
        3,
        [
            rejected(2, "unit_price", "not a number"),
            rejected(3, "unit_price", "not a number"),
            rejected(4, "unit_price", "not a number"),
        ],
        "rejected",
    ),
)
case(
    "price_exponent.csv",
    csv_bytes(row("P1", price="1e308")),
    **some_rejected(1, [rejected(2, "unit_price", "not a number")], "rejected"),
)
case(
    "unit_cost_400_digits.csv",
    csv_bytes(row("P1").removesuffix(",20") + "," + "9" * 400),
    **some_rejected(1, [rejected(2, "unit_cost_eur", "too large to be a number")], "rejected"),
)
net_header = HEADER.replace("unit_price", "net_amount")
case(
    "net_value_400_digits.csv",
    csv_bytes(row("V1"), row("V2", price="9" * 400), header=net_header),
    **some_rejected(2, [rejected(3, "net_amount", "too large to be a number")]),
)
case(
    "net_value_above_a_trillion.csv",
    csv_bytes(row("V1", price="-2000000000000"), row("V2"), header=net_header),
    **some_rejected(2, [rejected(2, "net_amount", "at most 1,000,000,000,000 either way")]),
)
discount_header = HEADER + ",discount_pct"
case(
    "discount_out_of_range.csv",
    csv_bytes(
        row("D1") + ",150%",
        row("D2") + ",-5%",
        row("D3") + ",100%",
        row("D4") + ",99%",
        header=discount_header,
    ),
    **some_rejected(
        4,
        [
            rejected(2, "discount_pct", "below 100 %"),
            rejected(3, "discount_pct", "at least 0 %"),
            rejected(4, "discount_pct", "below 100 %"),
        ],
    ),
)
line_header = HEADER + ",line_no"
case(
    "duplicate_order_blank_line_no.csv",
    csv_bytes(row("L1") + ",", row("L1") + ",", row("L2") + ",1", header=line_header),
    **some_rejected(
        3,
        [
            rejected(2, "line_no", "missing line number"),
            rejected(3, "line_no", "missing line number"),
        ],
    ),
)
case(
    "line_no_overflow.csv",
    csv_bytes(row("L1") + ",99999999999", row("L2") + ",0", header=line_header),
    **some_rejected(
        2,
        [rejected(2, "line_no", "1 to 1,000,000"), rejected(3, "line_no", "1 to 1,000,000")],
        "rejected",
    ),
)

# --- dates ----------------------------------------------------------------------------------
case(
    "order_date_2999.csv",
    csv_bytes(row("F1", date="2999-12-31"), row("F2")),
    **some_rejected(
        2,
        [
            rejected(2, "currency", "no exchange rate"),
            rejected(2, "order_date", "in the future"),
        ],
    ),
)
case(
    "order_date_year_1.csv",
    csv_bytes(row("F1", date="0001-01-01")),
    **some_rejected(
        1,
        [rejected(2, "currency", "no exchange rate"), rejected(2, "order_date", "before 1900")],
        "rejected",
    ),
)

# --- rates files ----------------------------------------------------------------------------
RATES = "rate_date,currency,units_per_eur"


def rates(*lines: str) -> bytes:
    return csv_bytes(*lines, header=RATES)


case(
    "rates_2999.csv",
    rates("2024-02-02,USD,1.09", "2999-12-31,USD,1.1"),
    kind="rates",
    **some_rejected(2, [rejected(3, "rate_date", "in the future")]),
    query=["SELECT max(rate_date) FROM fx_daily", [[dt.date(2024, 2, 12)]]],
)
case(
    "rates_before_1999.csv",
    rates("1998-12-31,USD,1.17"),
    kind="rates",
    **some_rejected(1, [rejected(2, "rate_date", "before 1999-01-01")], "rejected"),
)
case(
    "rates_1e-300.csv",
    rates("2024-02-02,USD,0." + "0" * 299 + "1"),
    kind="rates",
    **some_rejected(1, [rejected(2, "units_per_eur", "0.0001 to 10,000,000")], "rejected"),
)
case(
    "rates_zero_and_negative.csv",
    rates("2024-02-02,USD,0", "2024-02-02,GBP,-0.8"),
    kind="rates",
    **some_rejected(
        2,
        [
            rejected(2, "units_per_eur", "above 0"),
            rejected(3, "units_per_eur", "above 0"),
        ],
        "rejected",
    ),
)
case(
    "rates_far_from_previous_day.csv",
    rates("2024-02-02,USD,5.0", "2024-02-02,GBP,0.86"),
    kind="rates",
    **some_rejected(
        2, [rejected(2, "units_per_eur", "more than 2x away from the previous rate (1.09 on")]
    ),
)
case(
    "rates_far_within_the_file.csv",
    rates("2024-03-01,JPY,160", "2024-03-04,JPY,16000"),
    kind="rates",
    **some_rejected(
        2, [rejected(3, "units_per_eur", "more than 2x away from the previous rate (160 on")]
    ),
)
case(
    "rates_nan_and_400_digits.csv",
    rates("2024-02-02,USD,NaN", "2024-02-02,GBP," + "9" * 400),
    kind="rates",
    **some_rejected(
        2,
        [
            rejected(2, "units_per_eur", "not a number"),
            rejected(3, "units_per_eur", "too large to be a number"),
        ],
        "rejected",
    ),
)

# --- other kinds ----------------------------------------------------------------------------
case(
    "budget_400_digits.csv",
    csv_bytes(
        "DE,Sensors,2024-04-01," + "9" * 400,
        "DE,Sensors,2024-07-01,1000",
        header="country,product_line,quarter_start,budget_revenue_eur",
    ),
    kind="budgets",
    **some_rejected(2, [rejected(2, "budget_revenue_eur", "too large to be a number")]),
)
case(
    "market_population_overflow.csv",
    csv_bytes(
        "DE,2024,99999999999999999999,4e12,1",
        "DE,2025,83000000,4260000000000,310000000",
        header="country,year,population,gdp_usd,addressable_market_eur",
    ),
    kind="market_data",
    **some_rejected(
        2,
        [
            rejected(2, "gdp_usd", "not a number"),
            rejected(2, "population", "at most 10,000,000,000"),
        ],
    ),
)
case(
    "market_year_out_of_range.csv",
    csv_bytes(
        "DE,20240,83000000,4260000000000,310000000",
        header="country,year,population,gdp_usd,addressable_market_eur",
    ),
    kind="market_data",
    **some_rejected(1, [rejected(2, "year", "1900 to 2100")], "rejected"),
)


# --- Parquet with typed columns ---------------------------------------------------------------
def parquet(table: pa.Table) -> bytes:
    out = io.BytesIO()
    pq.write_table(table, out)
    return out.getvalue()


def typed(n=2, **overrides) -> pa.Table:
    columns = {
        "order_id": pa.array([f"T{i}" for i in range(1, n + 1)]),
        "order_date": pa.array([dt.date(2024, 1, 8)] * n, pa.date32()),
        "customer_id": pa.array(["C1"] * n),
        "country": pa.array(["US"] * n),
        "currency": pa.array(["USD"] * n),
        "product_id": pa.array(["P1"] * n),
        "quantity": pa.array([3] * n, pa.int64()),
        "unit_price": pa.array([60.0] * n, pa.float64()),
        "channel": pa.array(["direct"] * n),
        "unit_cost_eur": pa.array([20.0] * n, pa.float32()),
    }
    columns.update(overrides)
    return pa.table(columns)


case(
    "parquet_typed_columns.parquet",
    parquet(
        typed(
            order_date=pa.array(
                [dt.datetime(2024, 1, 8), dt.datetime(2024, 1, 8, 9, 30)], pa.timestamp("us")
            ),
            quantity=pa.array([3, 4], pa.int32()),
            unit_price=pa.array([60, 61], pa.decimal128(10, 2)),
            flag=pa.array([True, False]),
        )
    ),
    **loaded(2, ignored_columns=["flag"]),
    query=[
        "SELECT sum(quantity), sum(unit_price_local) FROM order_lines WHERE order_id IN "
        "('T1', 'T2')",
        [[7, 121.0]],
    ],
)
case(
    "parquet_timezone_timestamps.parquet",
    parquet(
        typed(
            order_date=pa.array(
                [dt.datetime(2024, 1, 8, 10), dt.datetime(2024, 1, 8, 11)],
                pa.timestamp("ms", tz="UTC"),
            )
        )
    ),
    **loaded(2),
)
case(
    "parquet_nulls.parquet",
    parquet(typed(quantity=pa.array([None, 2], pa.int64()), customer_id=pa.array(["C1", None]))),
    **some_rejected(
        2,
        [
            rejected(1, "quantity", "missing required value"),
            rejected(2, "customer_id", "missing required value"),
        ],
        "rejected",
    ),
)
case(
    "parquet_inf_and_huge.parquet",
    parquet(
        typed(
            3,
            unit_price=pa.array([float("inf"), 60.0, float("nan")]),
            quantity=pa.array([1, 2**62, 1], pa.int64()),
        )
    ),
    **some_rejected(
        3,
        [
            rejected(1, "unit_price", "not a number"),
            rejected(2, "quantity", "at most 1,000,000 units"),
            rejected(3, "unit_price", "no unit price, net price or net value"),
        ],
        "rejected",
    ),
)
case(
    "parquet_binary_and_list_columns.parquet",
    parquet(
        typed(
            order_id=pa.array([b"B1", b"B2"], pa.binary()),
            tags=pa.array([["a", "b"], []], pa.list_(pa.string())),
        )
    ),
    **loaded(2, ignored_columns=["tags"]),
    query=["SELECT count(*) FROM order_lines WHERE order_id IN ('B1', 'B2')", [[2]]],
)
case(
    "parquet_dictionary_and_large_string.parquet",
    parquet(
        typed(
            country=pa.array(["US", "US"]).dictionary_encode(),
            order_id=pa.array(["LS1", "LS2"], pa.large_string()),
        )
    ),
    **loaded(2),
)


# --- damaged workbooks: every part openpyxl reads, named in the report ----------------------
_XLSX_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_XLSX_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_XLSX_PKG = "http://schemas.openxmlformats.org/package/2006"
XLSX_PARTS = {
    "[Content_Types].xml": (
        f'<?xml version="1.0" encoding="UTF-8"?><Types xmlns="{_XLSX_PKG}/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
        'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
        'officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.'
        'openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        '<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-'
        'officedocument.spreadsheetml.styles+xml"/>'
        '<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.'
        'openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>'
    ),
    "_rels/.rels": (
        f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{_XLSX_PKG}/'
        'relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/'
        'officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
        "</Relationships>"
    ),
    "xl/workbook.xml": (
        f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{_XLSX_MAIN}" '
        f'xmlns:r="{_XLSX_REL}"><sheets><sheet name="Orders" sheetId="1" r:id="rId1"/>'
        "</sheets></workbook>"
    ),
    "xl/_rels/workbook.xml.rels": (
        f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{_XLSX_PKG}/'
        f'relationships"><Relationship Id="rId1" Type="{_XLSX_REL}/worksheet" '
        'Target="worksheets/sheet1.xml"/><Relationship Id="rId2" '
        f'Type="{_XLSX_REL}/styles" Target="styles.xml"/><Relationship Id="rId3" '
        f'Type="{_XLSX_REL}/sharedStrings" Target="sharedStrings.xml"/></Relationships>'
    ),
    "xl/styles.xml": (
        f'<?xml version="1.0" encoding="UTF-8"?><styleSheet xmlns="{_XLSX_MAIN}">'
        '<fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts>'
        '<fills count="1"><fill><patternFill patternType="none"/></fill></fills>'
        '<borders count="1"><border/></borders>'
        '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/>'
        '</cellStyleXfs><cellXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" '
        'borderId="0" xfId="0"/></cellXfs><cellStyles count="1"><cellStyle name="Normal" '
        'xfId="0" builtinId="0"/></cellStyles></styleSheet>'
    ),
}
_XLSX_TEXT = [*HEADER.split(","), "H1", "2024-01-08", "C1", "US", "USD", "P1", "direct"]


def _shared_strings(texts) -> str:
    items = "".join(f"<si><t>{t}</t></si>" for t in texts)
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{_XLSX_MAIN}" '
        f'count="{len(texts)}" uniqueCount="{len(texts)}">{items}</sst>'
    )


def _sheet(header_index: int = 0) -> str:
    """The header (shared strings 0-10) and one line: row() as cells."""

    def text(ref, index):
        return f'<c r="{ref}" t="s"><v>{index}</v></c>'

    header = "".join(text(f"{chr(65 + i)}1", header_index + i) for i in range(11))
    strings = dict(zip("ABCDEF", range(11, 17), strict=True))
    line = "".join(text(f"{c}2", i) for c, i in strings.items())
    line += '<c r="G2"><v>1</v></c><c r="H2"><v>60</v></c>'
    line += f'{text("J2", 17)}<c r="K2"><v>20</v></c>'
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{_XLSX_MAIN}">'
        f'<dimension ref="A1:K2"/><sheetData><row r="1">{header}</row><row r="2">{line}'
        "</row></sheetData></worksheet>"
    )


def xlsx(**changed) -> bytes:
    """A one-line orders workbook written part by part (as Excel lays one out); `changed`:
    part name (with "/" as "__", "." as "_") -> its damaged text, or None to leave it out."""
    parts = {
        **XLSX_PARTS,
        "xl/sharedStrings.xml": _shared_strings(_XLSX_TEXT),
        "xl/worksheets/sheet1.xml": _sheet(),
    }
    for key, text in changed.items():
        parts[{"content_types": "[Content_Types].xml"}.get(key, key)] = text
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in parts.items():
            if text is not None:
                info = zipfile.ZipInfo(name, date_time=(2024, 1, 8, 0, 0, 0))
                info.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(info, text)
    return out.getvalue()


def damaged(part: str) -> dict:
    return file_rejected(f"This workbook is damaged: its part {part}") | {
        "also_contains": ["save it again", "export the sheet as CSV"]
    }


STYLES = XLSX_PARTS["xl/styles.xml"]
WORKBOOK = XLSX_PARTS["xl/workbook.xml"]
case(
    "xlsx_intact.xlsx",
    xlsx(),
    **loaded(1),
    query=["SELECT quantity, unit_price_local FROM order_lines WHERE order_id = 'H1'", [[1, 60.0]]],
)
case(
    "xlsx_styles_number_format_not_a_number.xlsx",
    xlsx(**{"xl/styles.xml": STYLES.replace('numFmtId="0" fontId', 'numFmtId="abc" fontId')}),
    **damaged("xl/styles.xml (the cell formats) cannot be read (TypeError"),
)
case(
    "xlsx_styles_font_not_a_number.xlsx",
    xlsx(**{"xl/styles.xml": STYLES.replace('fontId="0"', 'fontId="one"')}),
    **damaged("xl/styles.xml (the cell formats) cannot be read"),
)
case(
    "xlsx_styles_truncated.xlsx",
    xlsx(**{"xl/styles.xml": STYLES[: len(STYLES) // 2]}),
    **damaged("xl/styles.xml (the cell formats) is not well-formed XML"),
)
case(
    "xlsx_shared_strings_truncated.xlsx",
    xlsx(**{"xl/sharedStrings.xml": _shared_strings(_XLSX_TEXT)[:300]}),
    **damaged("xl/sharedStrings.xml (the text of the cells) is not well-formed XML"),
)
case(
    "xlsx_shared_string_missing.xlsx",
    xlsx(**{"xl/worksheets/sheet1.xml": _sheet(header_index=90)}),
    **damaged("xl/worksheets/sheet1.xml (a sheet) cannot be read"),
)
case(
    "xlsx_workbook_truncated.xlsx",
    xlsx(**{"xl/workbook.xml": WORKBOOK[: len(WORKBOOK) - 30]}),
    **damaged("xl/workbook.xml (the list of sheets) is not well-formed XML"),
)
case(
    "xlsx_workbook_sheet_id_not_a_number.xlsx",
    xlsx(**{"xl/workbook.xml": WORKBOOK.replace('sheetId="1"', 'sheetId="first"')}),
    **damaged("xl/workbook.xml (the list of sheets) cannot be read"),
)
case(
    "xlsx_content_types_truncated.xlsx",
    xlsx(content_types=XLSX_PARTS["[Content_Types].xml"][:200]),
    **damaged("[Content_Types].xml (the list of the file's parts) is not well-formed XML"),
)
case(
    "xlsx_sheet_truncated.xlsx",
    xlsx(**{"xl/worksheets/sheet1.xml": _sheet()[:-60]}),
    **damaged("xl/worksheets/sheet1.xml (a sheet) cannot be read"),
)


def main() -> None:
    for old in HERE.iterdir():
        if old.name != Path(__file__).name and old.suffix in (
            ".csv",
            ".txt",
            ".parquet",
            ".xlsx",
            ".json",
        ):
            old.unlink()
    for name, (data, expected) in CASES.items():
        (HERE / name).write_bytes(data)
        stem = name.rsplit(".", 1)[0]
        (HERE / f"{stem}.expected.json").write_text(
            json.dumps(expected, indent=1, ensure_ascii=False, default=str) + "\n",
            encoding="utf-8",
        )
    print(f"{len(CASES)} cases written to {HERE}")


if __name__ == "__main__":
    main()
