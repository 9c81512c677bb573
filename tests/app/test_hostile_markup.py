"""AppTest: names, file names, headers and links carrying markup are shown as text on every
page, and a link's out-of-range, malformed or hostile parameter is a warning, never a crash
(issue 18).

The store is the demo with the payload appended to every country, region, product, product
line, customer, rep and team name and to the imported file's name; every element a page draws
is read back (its markdown bodies, labels and help, and its charts' figures) and checked with
tests/ui/test_markup.py's renderer-side rules.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import plotly.graph_objects as go
import pytest
from google.protobuf.json_format import MessageToDict
from streamlit.testing.v1 import AppTest

from analytics import rollups
from tests.ui.test_markup import PAYLOAD, live_in_figure, live_in_markdown

ROOT = Path(__file__).resolve().parents[2]
FILE_NAME = "orders" + PAYLOAD + ".csv"

# Proto fields Streamlit shows as plain text (options, values, placeholders) or that are no
# text at all; every other string field of an element (body, label, help, delta, ...) is
# rendered as markdown.
PLAIN_FIELDS = {
    "options",
    "value",
    "values",
    "default",
    "rawValues",
    "rawValue",
    "formattedValue",
    "placeholder",
    "id",
    "formId",
    "min",
    "max",
    "format",
    "type",
    "url",
    "spec",
    "deltaDescription",  # st.metric renders it as text
}
PLAIN_ELEMENTS = {"text", "code", "arrowDataFrame", "arrowTable", "json", "exception"}


@pytest.fixture(scope="module")
def hostile_db(demo_db_path, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("hostile_markup") / "hostile.duckdb"
    shutil.copy(demo_db_path, path)
    con = duckdb.connect(str(path))
    try:
        for table, columns in {
            "countries": ("name", "region"),
            "products": ("name", "product_line"),
            "budgets": ("product_line",),
            "customers": ("name",),
            "reps": ("name", "team"),
            "global_accounts": ("name",),
        }.items():
            assignments = ", ".join(f"{c} = {c} || $payload" for c in columns)
            con.execute(f"UPDATE {table} SET {assignments}", {"payload": PAYLOAD})
        con.execute("UPDATE import_log SET file_name = $name", {"name": FILE_NAME})
        rollups.rebuild_sales_rollups(con)
    finally:
        con.close()
    return path


def elements(node):
    """Every element under an AppTest node, the node included."""
    yield node
    for child in getattr(node, "children", {}).values():
        yield from elements(child)


def markdown_strings(value, key: str = "") -> list[str]:
    """The strings of an element's proto that Streamlit renders as markdown."""
    if key in PLAIN_FIELDS:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in markdown_strings(v, k)]
    if isinstance(value, list):
        return [s for v in value for s in markdown_strings(v, key)]
    return []


def live_markup(at: AppTest) -> list[str]:
    """Every piece of markup the page would render from the payload."""
    found = []
    for node in elements(at._tree):
        proto = getattr(node, "proto", None)
        if proto is None or not hasattr(proto, "DESCRIPTOR"):
            continue
        kind = getattr(node, "type", "")
        if kind == "plotly_chart":
            found += live_in_figure(go.Figure(json.loads(proto.spec)))
            continue
        if kind in PLAIN_ELEMENTS:
            continue
        for s in markdown_strings(MessageToDict(proto)):
            found += [f"{kind}: {fragment!r} in {s[:160]!r}" for fragment in live_in_markdown(s)]
    return found


def open_page(db: Path, monkeypatch, page: str, **params: str | list[str]) -> AppTest:
    monkeypatch.setenv("SALES_ATLAS_DB", str(db))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=90)
    for key, value in params.items():
        at.query_params[key] = value
    at.run()
    if page != "overview":
        at.switch_page(f"views/{page}.py").run()
    return at


# Every page and every view a page switches between (each draws its own elements).
VIEWS = [
    ("overview", {}),
    ("overview", {"country": "DE"}),
    ("markets", {}),
    ("markets", {"m_country": "DE", "m_detail": "Price position"}),
    ("markets", {"m_region": "Europe" + PAYLOAD, "m_detail": "Global key accounts"}),
    ("review", {}),
    *[("review", {"present": "1", "slide": str(n)}) for n in range(1, 6)],
    ("pricing", {}),
    ("team", {}),
    ("team", {"t_view": "Pipeline"}),
    ("team", {"t_view": "Forecast"}),
    ("team", {"t_view": "Activity vs impact"}),
    ("team", {"t_view": "Pipeline changes"}),
    ("team", {"t_view": "Rep view"}),
    ("forecast", {}),
    ("forecast", {"fc_view": "Year-end landing"}),
    ("forecast", {"fc_view": "Pipeline projection"}),
    ("forecast", {"fc_view": "Web channel"}),
    ("forecast", {"fc_level": "country", "fc_series": "DE"}),
    ("data", {}),
]


@pytest.mark.parametrize(("page", "params"), VIEWS, ids=[f"{p}-{q}" for p, q in VIEWS])
def test_names_from_the_data_are_shown_as_text(hostile_db, monkeypatch, page, params):
    at = open_page(hostile_db, monkeypatch, page, **params)
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    assert live_markup(at) == []


def test_the_views_listed_are_the_pages_views():
    from ui import forecast, team
    from ui.review import SLIDES

    assert {v for p, q in VIEWS if p == "team" for v in [q.get("t_view")]} - {None} == set(
        team.VIEWS[1:]
    )
    assert {q["fc_view"] for p, q in VIEWS if "fc_view" in q} | {forecast.VIEWS[0]} == set(
        forecast.VIEWS
    )
    assert {p for p, _ in VIEWS} == {p.stem for p in (ROOT / "views").glob("*.py")}
    assert {int(q["slide"]) for p, q in VIEWS if "slide" in q} == set(range(1, len(SLIDES) + 1))


def test_an_uploaded_files_name_and_headers_are_shown_as_text(hostile_db, tmp_path, monkeypatch):
    store = tmp_path / "store.duckdb"
    shutil.copy(hostile_db, store)
    header = (
        f"order_id,order_date,customer_id,country,currency,product_id,quantity,unit_price,{PAYLOAD}"
    )
    data = f"{header}\nH1,2025-03-04,C1,DE,EUR,P1,2,10,x\n".encode()
    at = open_page(store, monkeypatch, "data")
    at.file_uploader[0].set_value((FILE_NAME, data, "text/csv")).run()
    assert not at.exception, [e.value for e in at.exception]
    # the mapping step lists the columns it does not use (a caption)
    unused = [m.value for m in [*at.markdown, *at.caption] if "Columns not used" in m.value]
    assert unused, [m.value for m in [*at.markdown, *at.caption]]
    assert live_markup(at) == []


def test_a_hostile_link_names_its_parameter_and_its_value_as_text(hostile_db, monkeypatch):
    at = open_page(
        hostile_db,
        monkeypatch,
        "overview",
        country=PAYLOAD,
        region="[x](https://evil.example/r)",
        currency="![i](https://evil.example/c.png)",
        period="<script>p</script>",
        basis="$$b$$",
        line="`l`",
        channel="**c**",
    )
    assert not at.exception and not at.error
    warning = " ".join(w.value for w in at.sidebar.warning)
    for param in ("country", "region", "currency", "period", "basis", "line", "channel"):
        assert f"{param} “" in warning
    assert live_markup(at) == []


CUSTOM = {"period": "custom"}
# (link, what the sidebar warning says) — the demo's sales run 2021-01-01 to 2026-09-30.
RANGES = [
    ("2000-01-01_2030-12-31", "cut to 2021-01-01 to 2026-09-30"),
    ("2020-06-01_2021-03-31", "cut to 2021-01-01 to 2021-03-31"),
    ("2026-09-01_2027-01-01", "cut to 2026-09-01 to 2026-09-30"),
    ("1990-01-01_1990-12-31", "so the whole span is shown"),
    ("2031-01-01_2031-02-01", "so the whole span is shown"),
    ("0001-01-01_9999-12-31", "cut to 2021-01-01 to 2026-09-30"),
    ("2025-03-01_2025-01-01", "range “2025\\-03\\-01\\_2025\\-01\\-01” (expected"),
    ("2025-02-30_2025-03-01", "range “2025\\-02\\-30"),
    ("yesterday", "range “yesterday” (expected"),
    ("2025-01-01", "range “2025\\-01\\-01” (expected"),
    ("[x](https://evil.example)_2025-01-01", "range “\\[x\\]\\(https"),
    ("9" * 5000, "range “" + "9" * 79 + "…”"),
]


@pytest.fixture(scope="module")
def span(demo_db_path):
    with duckdb.connect(str(demo_db_path), read_only=True) as con:
        return con.execute("SELECT min(order_date), max(order_date) FROM order_lines").fetchone()


def test_the_demo_span_is_the_one_the_range_cases_assume(span):
    assert [d.isoformat() for d in span] == ["2021-01-01", "2026-09-30"]


@pytest.mark.parametrize(("asked", "said"), RANGES, ids=[r[:30] for r, _ in RANGES])
def test_a_custom_range_outside_the_data_is_cut_to_it_and_said(
    demo_db_path, monkeypatch, asked, said
):
    at = open_page(demo_db_path, monkeypatch, "overview", range=asked, **CUSTOM)
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    warnings = " ".join(w.value for w in at.sidebar.warning)
    assert said in warnings
    assert "range" in warnings
    start, end = at.sidebar.date_input[0].value
    assert str(start) >= "2021-01-01" and str(end) <= "2026-09-30"
    assert live_markup(at) == []


# A page's own parameters, each with a value it cannot use, on every page that reads it.
PAGE_PARAMS = [
    ("markets", "m_detail", "<b>x</b>", "Top accounts"),
    ("markets", "m_country", "ZZ[x](https://evil.example)", None),
    ("markets", "m_region", "Nowhere`x`", None),
    ("team", "t_view", "![i](https://evil.example/t.png)", None),
    ("team", "t_quarter", "2099Q9", None),
    ("team", "t_rep", "$$r$$", None),
    ("forecast", "fc_view", "**v**", None),
    ("forecast", "fc_level", "<script>l</script>", None),
    ("review", "quarter", "2099Q1", None),
    ("review", "vs", ":material/home:", None),
]


@pytest.mark.parametrize(("page", "param", "value", "shown"), PAGE_PARAMS)
def test_a_pages_own_link_parameter_it_cannot_use_is_named(
    demo_db_path, monkeypatch, page, param, value, shown
):
    extra = {"t_view": "Rep view"} if param == "t_rep" else {}
    at = open_page(demo_db_path, monkeypatch, page, **{param: value}, **extra)
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    warnings = [w.value for w in at.warning]
    assert any(param in w or param.split("_")[-1] in w for w in warnings), warnings
    if shown:
        assert any(shown in w for w in warnings), warnings
    assert live_markup(at) == []


@pytest.mark.parametrize("slide", ["0", "99", "-3", "two", "1e9"])
def test_a_slide_number_out_of_range_or_malformed_is_named(demo_db_path, monkeypatch, slide):
    at = open_page(demo_db_path, monkeypatch, "review", present="1", slide=slide)
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    assert any("slide “" in w.value for w in at.warning), [w.value for w in at.warning]
