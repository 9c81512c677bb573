"""Every download with names that carry markup and spreadsheet formulas (issue 18): the HTML
review escapes them, no CSV or XLSX cell (nor the workbook behind the deck's native charts)
holds a live formula or link, and the deck and the PDF show them as the text they are.

The store is the demo with every country, region, product, product line, customer, rep and
team name starting with a formula prefix (=, +, -, @, tab, CR) and ending with the markdown
and HTML payload of tests/ui/test_markup.py.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import shutil
import zipfile
from html.parser import HTMLParser

import duckdb
import openpyxl
import pandas as pd
import pytest
from pptx import Presentation

from analytics import periods, review, rollups
from analytics.filters import Filters
from exports import deck, html, pdf, tables
from tests.exports.test_report import _require_chromium
from tests.ui.test_markup import PAYLOAD

FORMULA = '=HYPERLINK("https://evil.example/f","open")'
# table -> column -> what is put in front of the stored name (the payload goes after it).
PREFIXES = {
    "countries": {"name": FORMULA + " ", "region": "+"},
    "products": {"name": "-", "product_line": "@"},
    "budgets": {"product_line": "@"},
    "customers": {"name": "\t="},
    "reps": {"name": "\r=", "team": "=1+"},
}


@pytest.fixture(scope="module")
def hostile(demo_db_path, tmp_path_factory) -> review.Review:
    path = tmp_path_factory.mktemp("hostile_exports") / "hostile.duckdb"
    shutil.copy(demo_db_path, path)
    with duckdb.connect(str(path)) as con:
        for table, columns in PREFIXES.items():
            assignments = ", ".join(
                f"{column} = $p_{column} || {column} || $payload" for column in columns
            )
            values = {f"p_{column}": prefix for column, prefix in columns.items()}
            con.execute(f"UPDATE {table} SET {assignments}", {**values, "payload": PAYLOAD})
        rollups.rebuild_sales_rollups(con)
        last = con.execute("SELECT max(order_date) FROM order_lines").fetchone()[0]
        quarter = periods.full_quarters(dt.date(2021, 1, 1), last)[0]
        filters = Filters(period=quarter, comparison=quarter, currency="USD", regions=())
        data = review.build(con, quarter, "last_year", filters)
    assert data.regions["region"].iloc[:-1].str.startswith("+").all()  # in (the last: Total)
    return data


class _Markup(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: set[str] = set()
        self.attributes: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        self.attributes += [v or "" for _, v in attrs]

    def handle_data(self, data):
        self.text.append(data)


def test_html_review_escapes_every_name(hostile):
    document = html.to_html(hostile)
    parser = _Markup()
    parser.feed(document)
    # Only the elements the export writes itself: no <b>, <a>, <script> from the names.
    assert parser.tags <= {
        "html", "head", "meta", "title", "style", "body", "h1", "h2", "p", "table",
        "thead", "tbody", "tr", "th", "td", "svg", "rect", "text", "line", "g", "div",
        "span", "small", "ul", "li", "section", "header", "footer", "caption",
    }  # fmt: skip
    assert not any("evil.example" in value for value in parser.attributes)
    shown = "".join(parser.text)
    region = hostile.regions["region"].iloc[0]
    assert region in shown  # the name, as text, exactly as stored
    assert "<script>S</script>" in shown and "<script" not in document.replace("&lt;", "")


def _sheet_has_formulas_or_links(blob: bytes) -> list[str]:
    with zipfile.ZipFile(io.BytesIO(blob)) as book:
        found = []
        for name in book.namelist():
            body = book.read(name).decode("utf-8", "replace")
            if name.startswith("xl/worksheets/") and ("<f>" in body or "<f " in body):
                found.append(f"formula in {name}")
            if name.startswith("xl/worksheets/") and re.search(
                r"<hyperlink\b|relationships/hyperlink", body
            ):
                found.append(f"link in {name}")
        return found


def test_deck_shows_names_as_text_and_its_chart_workbooks_hold_no_formula(hostile):
    blob = deck.to_pptx(hostile)
    presentation = Presentation(io.BytesIO(blob))
    texts, categories = [], []
    for slide in presentation.slides:
        for shape in slide.shapes:
            if shape.has_text_frame:
                texts.append(shape.text_frame.text)
            if shape.has_table:
                texts += [cell.text for row in shape.table.rows for cell in row.cells]
            if shape.has_chart:
                categories += [str(c) for c in shape.chart.plots[0].categories]
    region = hostile.regions["region"].iloc[0]
    assert region in texts  # the scorecard's cell: the name exactly, markup and all
    movers = [c for c in categories if c.startswith(FORMULA)]
    assert movers, categories  # the movers chart: country names as written
    with zipfile.ZipFile(io.BytesIO(blob)) as package:
        workbooks = [n for n in package.namelist() if n.endswith(".xlsx")]
        assert workbooks
        for name in workbooks:
            assert _sheet_has_formulas_or_links(package.read(name)) == [], name


def test_pdf_shows_names_as_text(hostile):
    from pypdf import PdfReader

    from ui.charts import review_figures

    _require_chromium()
    reader = PdfReader(io.BytesIO(pdf.to_pdf(hostile, review_figures(hostile))))
    text = "\n".join(page.extract_text() for page in reader.pages)
    # The payload's markdown and HTML are printed, not applied (fpdf2 would make **S** bold
    # and a link of [Click](...) only if asked to read markdown).
    for fragment in ("**S**", "<b>B</b>", "[Click](https://evil.example/a)"):
        assert fragment in re.sub(r"\s+", " ", text), fragment
    links = [
        annotation.get_object().get("/A", {}).get("/URI")
        for page in reader.pages
        for annotation in page.get("/Annots") or []
    ]
    assert not [link for link in links if link and "evil" in str(link)]


HOSTILE_TEXT = [
    FORMULA,
    "+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(A1:A9)",
    "\t=1+1",
    "\r=1+1",
    "=1+1" + PAYLOAD,
    "Acme \x0b GmbH",  # a vertical tab: no XLSX may hold it
]


def _table() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer": HOSTILE_TEXT,
            "segment": pd.Categorical(HOSTILE_TEXT),
            "product": pd.array(HOSTILE_TEXT, dtype="str"),
            "net revenue": [-1.5, 2.0, -3.0, 4.0, 5.0, 6.0, 7.0, 8.0],
            "=SUM(A1)": ["ok"] * 8,  # a header that is a formula (a pivot by customer name)
        }
    )


def test_csv_holds_no_live_formula_and_keeps_numbers():
    rows = list(csv.reader(io.StringIO(tables.to_csv_bytes(_table()).decode("utf-8-sig"))))
    cells = [cell for row in rows for cell in row]
    live = [c for c in cells if c.startswith(tables.FORMULA_PREFIXES)]
    assert live == ["-1.5", "-3.0"]  # negative numbers stay numbers
    assert rows[0][-1] == "'=SUM(A1)"
    assert [row[0] for row in rows[1:]] == [tables.neutralise_text(v) for v in HOSTILE_TEXT]
    assert rows[1][0] == "'" + FORMULA


def test_xlsx_holds_no_live_formula_and_no_unwritable_character():
    blob = tables.to_xlsx_bytes(_table(), "Top customers")
    assert _sheet_has_formulas_or_links(blob) == []
    sheet = openpyxl.load_workbook(io.BytesIO(blob))["Top customers"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][-1] == "'=SUM(A1)"
    for column in range(3):
        shown = [row[column] for row in rows[1:]]
        assert shown[:7] == ["'" + v if v[0] in "=+-@\t\r" else v for v in HOSTILE_TEXT[:7]]
        assert shown[7] == "Acme \ufffd GmbH"
    assert [row[3] for row in rows[1:3]] == [-1.5, 2.0]
