"""AppTest: every page renders, and the filters are wired to the figures."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pytest
from streamlit.testing.v1 import AppTest

from analytics import formatting, fx
from analytics.filters import comparison_period, resolve_period

ROOT = Path(__file__).resolve().parents[2]
PAGES = sorted(p.name for p in (ROOT / "pages").glob("*.py"))


@pytest.fixture
def app(demo_db_path, monkeypatch) -> AppTest:
    monkeypatch.setenv("SALES_ATLAS_DB", str(demo_db_path))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    return at.run()


def metric_value(at: AppTest, label_start: str) -> str:
    return next(m.value for m in at.metric if m.label.startswith(label_start))


@pytest.mark.parametrize("page_file", PAGES)
def test_every_page_renders_without_exception(app, page_file):
    app.switch_page(f"pages/{page_file}").run()
    assert not app.exception, [e.value for e in app.exception]
    assert not app.error, [e.value for e in app.error]


def test_overview_shows_kpis_chart_map_and_table(app):
    labels = [m.label for m in app.metric]
    assert labels == [
        "Net revenue (EUR)",
        "Gross margin %",
        "Units",
        "Orders",
        "Active customers",
    ]
    assert len(app.get("plotly_chart")) == 2
    assert len(app.dataframe) == 1
    assert any("ECB" in c.value for c in app.caption)


def _expected_revenue(db_path: Path, currency: str) -> float:
    """Net revenue of the last full quarter in `currency`, computed without the rollups.

    Sums order_lines' EUR amounts per day and converts each day with fx.units_per_eur
    (the Python rate rule), an independent path from the app's fx_daily joins.
    """
    con = duckdb.connect(str(db_path), read_only=True)
    try:
        last = con.execute("SELECT max(order_date) FROM order_lines").fetchone()[0]
        quarter = resolve_period("last_quarter", last)
        days = con.execute(
            "SELECT order_date, sum(net_amount_eur) FROM order_lines "
            "WHERE order_date BETWEEN ? AND ? GROUP BY 1",
            [quarter.start, quarter.end],
        ).fetchall()
        return sum(eur * fx.units_per_eur(con, currency, day) for day, eur in days)
    finally:
        con.close()


def test_changing_reporting_currency_changes_revenue_by_the_rates(app, demo_db_path):
    assert metric_value(app, "Net revenue") == formatting.money(
        _expected_revenue(demo_db_path, "EUR"), "EUR"
    )
    app.selectbox(key="f_currency").set_value("USD").run()
    assert not app.exception
    assert metric_value(app, "Net revenue (USD)") == formatting.money(
        _expected_revenue(demo_db_path, "USD"), "USD"
    )
    app.selectbox(key="f_currency").set_value("JPY").run()
    assert metric_value(app, "Net revenue (JPY)") == formatting.money(
        _expected_revenue(demo_db_path, "JPY"), "JPY"
    )


def test_constant_currency_basis_is_labelled(app):
    app.selectbox(key="f_currency").set_value("USD").run()
    app.radio(key="f_basis").set_value("constant").run()
    assert not app.exception
    assert any("constant currency at" in c.value for c in app.caption)


def test_filters_are_mirrored_in_the_url(app):
    app.selectbox(key="f_currency").set_value("GBP").run()
    app.multiselect(key="f_regions").set_value(["Americas"]).run()
    assert app.query_params["currency"] == ["GBP"]
    assert app.query_params["region"] == ["Americas"]


def test_url_reopens_the_same_view(demo_db_path, monkeypatch):
    monkeypatch.setenv("SALES_ATLAS_DB", str(demo_db_path))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.query_params["currency"] = "CHF"
    at.query_params["period"] = "l12m"
    at.query_params["region"] = ["Americas", "Atlantis"]
    at.run()
    assert not at.exception
    assert at.selectbox(key="f_currency").value == "CHF"
    assert at.selectbox(key="f_period").value == "l12m"
    assert at.multiselect(key="f_regions").value == ["Americas"]
    assert any("Atlantis" in w.value for w in at.warning)


def test_empty_selection_shows_an_empty_state(app):
    app.selectbox(key="f_period").set_value("custom").run()
    app.date_input(key="f_range").set_value((dt.date(2021, 1, 1), dt.date(2021, 1, 1))).run()
    # 1 Jan is a holiday with no orders, and the day before the data starts has none either.
    assert not app.exception
    assert any("No sales match" in i.value for i in app.info)


def test_comparison_period_shown_in_sidebar(app, demo_db_path):
    con = duckdb.connect(str(demo_db_path), read_only=True)
    last = con.execute("SELECT max(order_date) FROM order_lines").fetchone()[0]
    con.close()
    quarter = resolve_period("last_quarter", last)
    previous = comparison_period("last_quarter", quarter)
    assert any(
        f"{quarter.label}, compared with {previous.label}" in c.value for c in app.sidebar.caption
    )
