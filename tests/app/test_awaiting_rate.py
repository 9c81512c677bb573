"""Order lines awaiting a rate are named under the Overview's figures and on the Data page
with the fix (issue 11, item 5); the figures themselves leave them out."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest
from streamlit.testing.v1 import AppTest

from analytics import formatting, importer
from analytics.filters import resolve_period

ROOT = Path(__file__).resolve().parents[2]


def open_app(db_path: Path, monkeypatch, page: str | None = None) -> AppTest:
    monkeypatch.setenv("SALES_ATLAS_DB", str(db_path))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.query_params["period"] = "last_quarter"
    at.run()
    if page:
        at.switch_page(page).run()
    assert not at.exception and not at.error, [e.value for e in (*at.exception, *at.error)]
    return at


@pytest.fixture
def with_held_lines(demo_db_path, tmp_path) -> tuple[Path, float, object]:
    """The demo plus two German lines in pesos (no ARS rate is stored) in the last quarter;
    returns the store and its last-quarter net revenue in EUR without them."""
    path = tmp_path / "held.duckdb"
    shutil.copy(demo_db_path, path)
    with duckdb.connect(str(path)) as con:
        last = con.execute("SELECT max(order_date) FROM order_lines").fetchone()[0]
        quarter = resolve_period("last_quarter", last)
        day = quarter.start.isoformat()
        data = (
            "order_id,order_date,customer_id,country,currency,product_id,quantity,unit_price\n"
            f"ARS-1,{day},NEW-AR,DE,ARS,NEW-P,2,450\nARS-2,{day},NEW-AR,DE,ARS,NEW-P,1,100\n"
        ).encode()
        report = importer.import_file(con, "orders", data, "pesos.csv")
        assert report.status == "loaded" and report.awaiting_rate["lines"] == 2
        (revenue,) = con.execute(
            "SELECT sum(net_amount_eur) FROM order_lines WHERE order_date BETWEEN ? AND ?",
            [quarter.start, quarter.end],
        ).fetchone()
    return path, revenue, quarter.start


def test_overview_captions_and_the_data_page_name_the_held_lines(with_held_lines, monkeypatch):
    path, revenue, day = with_held_lines
    at = open_app(path, monkeypatch)
    note = f"Not included: 2 order lines awaiting an exchange rate — ARS 1,000.00 ({day:%d %b %Y})"
    captions = [c.value for c in at.caption]
    assert captions and all(note in c for c in captions if c.startswith("EUR, reported")), captions
    assert sum(note in c for c in captions) >= 3  # KPIs, trend, top markets
    # The KPI is the converted lines' revenue alone.
    kpi = next(m for m in at.metric if m.label.startswith("Net revenue"))
    assert kpi.value == formatting.metric_value(revenue, "money", "EUR")

    data = open_app(path, monkeypatch, "views/data.py")
    warning = [w.value for w in data.warning if "awaiting an exchange rate" in w.value]
    assert warning and "fetch newer rates" in warning[0] and "import a rates file" in warning[0]
    table = next(d.value for d in data.dataframe if "Amount (local currency)" in d.value.columns)
    assert table.to_dict("records")[0]["Currency"] == "ARS"
    assert table.to_dict("records")[0]["Lines"] == 2
    assert table.to_dict("records")[0]["Amount (local currency)"] == 1000.0


def test_a_store_without_held_lines_says_nothing(demo_db_path, monkeypatch):
    at = open_app(demo_db_path, monkeypatch)
    assert not any("awaiting an exchange rate" in c.value for c in at.caption)


def test_the_review_and_the_pricing_lab_name_the_held_lines(with_held_lines, monkeypatch):
    path, _, day = with_held_lines
    note = f"Not included: 2 order lines awaiting an exchange rate — ARS 1,000.00 ({day:%d %b %Y})"
    review = open_app(path, monkeypatch, "views/review.py")
    assert any(note in w.value for w in review.warning), [w.value for w in review.warning]

    # The lab's baseline (its own markets and window) holds the lines once Germany is in it.
    lab = open_app(path, monkeypatch)
    lab.session_state["p_markets"] = ["DE", "US"]
    lab.switch_page("views/pricing.py").run()
    assert not lab.exception, [e.value for e in lab.exception]
    assert any(note in w.value for w in lab.warning), [w.value for w in lab.warning]
    lab = open_app(path, monkeypatch)
    lab.session_state["p_markets"] = ["US", "JP"]
    lab.switch_page("views/pricing.py").run()
    assert not any("awaiting an exchange rate" in w.value for w in lab.warning)
