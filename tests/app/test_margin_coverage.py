"""The margin figures say what share of revenue they cover when some lines have no cost."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest
from streamlit.testing.v1 import AppTest

from analytics import rollups
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


def margin_help(at: AppTest, label: str) -> str:
    return next(m for m in at.metric if m.label == label).help or ""


@pytest.fixture
def partly_costed(demo_db_path, tmp_path) -> tuple[Path, float]:
    """The demo with the costs of every German line unknown, and the last quarter's share of
    EUR revenue that keeps a cost (EUR is the default reporting currency)."""
    path = tmp_path / "partly.duckdb"
    shutil.copy(demo_db_path, path)
    with duckdb.connect(str(path)) as con:
        con.execute("UPDATE order_lines SET unit_cost_eur = NULL WHERE country_code = 'DE'")
        rollups.rebuild_sales_rollups(con)
        last = con.execute("SELECT max(order_date) FROM order_lines").fetchone()[0]
        quarter = resolve_period("last_quarter", last)
        known, total = con.execute(
            "SELECT sum(net_amount_eur) FILTER (WHERE unit_cost_eur IS NOT NULL), "
            "sum(net_amount_eur) FROM order_lines WHERE order_date BETWEEN ? AND ?",
            [quarter.start, quarter.end],
        ).fetchone()
    return path, known / total


def test_overview_and_review_say_what_the_margin_covers(partly_costed, monkeypatch):
    path, coverage = partly_costed
    assert 0.5 < coverage < 0.99
    note = f"Margin on {round(coverage * 100)}% of revenue with known cost."
    assert note in margin_help(open_app(path, monkeypatch), "Gross margin %")
    review = open_app(path, monkeypatch, "views/review.py")
    assert note in margin_help(review, "Gross margin")


def test_a_fully_costed_store_says_nothing(demo_db_path, monkeypatch):
    assert "Margin on" not in margin_help(open_app(demo_db_path, monkeypatch), "Gross margin %")
