"""AppTest: every page renders, and the filters are wired to the figures."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from streamlit.testing.v1 import AppTest

from analytics import fx
from analytics.filters import comparison_period, resolve_period

ROOT = Path(__file__).resolve().parents[2]
PAGES = sorted(p.name for p in (ROOT / "views").glob("*.py"))


def open_app(db_path: Path, monkeypatch, **params: str | list[str]) -> AppTest:
    """A fresh session opened on a link with these query parameters."""
    monkeypatch.setenv("SALES_ATLAS_DB", str(db_path))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    for key, value in params.items():
        at.query_params[key] = value
    return at.run()


@pytest.fixture
def app(demo_db_path, monkeypatch) -> AppTest:
    return open_app(demo_db_path, monkeypatch)


def table_revenue(at: AppTest, currency: str) -> float:
    """The top-markets table's net revenue, summed: the exact figures behind the KPI (each
    country rounded to a whole unit, hence the tests' tolerance of half a unit a row)."""
    table = at.dataframe[0].value
    assert f"Net revenue ({currency})" in [m.label for m in at.metric]
    return float(table[f"Net revenue ({currency})"].sum())


@pytest.mark.parametrize("page_file", PAGES)
def test_every_page_renders_without_exception(app, page_file):
    app.switch_page(f"views/{page_file}").run()
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


@pytest.mark.parametrize("currency", ["EUR", "USD", "JPY"])
def test_reporting_currency_converts_revenue_by_the_rates(demo_db_path, monkeypatch, currency):
    at = open_app(demo_db_path, monkeypatch, currency=currency)
    assert not at.exception
    assert table_revenue(at, currency) == pytest.approx(
        _expected_revenue(demo_db_path, currency), abs=0.5 * len(at.dataframe[0].value)
    )


def test_changing_the_currency_widget_reconverts_revenue(app, demo_db_path):
    app.selectbox(key="f_currency").set_value("CHF").run()
    assert not app.exception
    assert table_revenue(app, "CHF") == pytest.approx(
        _expected_revenue(demo_db_path, "CHF"), abs=0.5 * len(app.dataframe[0].value)
    )
    assert app.query_params["currency"] == "CHF"


def test_constant_currency_basis_is_labelled(demo_db_path, monkeypatch):
    at = open_app(demo_db_path, monkeypatch, currency="USD", basis="constant")
    assert not at.exception
    assert any("constant currency at" in c.value for c in at.caption)


@pytest.mark.parametrize("page_file", PAGES)
def test_every_page_renders_at_plan_rates(demo_db_path, monkeypatch, page_file):
    at = open_app(demo_db_path, monkeypatch, currency="USD", basis="plan")
    assert at.radio(key="f_basis").value == "plan"
    at.switch_page(f"views/{page_file}").run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def test_the_overview_at_plan_rates_is_labelled_and_converts_at_each_years_plan(
    demo_db_path, monkeypatch
):
    at = open_app(demo_db_path, monkeypatch, currency="USD", basis="plan")
    assert any("at plan rates (each quarter's plan rate" in c.value for c in at.caption)
    # The last full quarter (Q3 2026) by hand: each line's local amount / its currency's
    # 2026 plan rate x USD's (the demo has no quarterly plan rates).
    with duckdb.connect(str(demo_db_path), read_only=True) as con:
        plan = dict(
            con.execute(
                "SELECT currency_code, units_per_eur FROM plan_rates WHERE year = 2026"
            ).fetchall()
        )
        local = con.execute(
            "SELECT currency_code, sum(net_amount_local) FROM order_lines "
            "WHERE order_date BETWEEN DATE '2026-07-01' AND DATE '2026-09-30' GROUP BY 1"
        ).fetchall()
    plan["EUR"] = 1.0
    expected = sum(amount / plan[code] * plan["USD"] for code, amount in local)
    assert table_revenue(at, "USD") == pytest.approx(expected, abs=0.5 * len(at.dataframe[0].value))


def test_filters_are_mirrored_in_the_url(demo_db_path, monkeypatch):
    at = open_app(demo_db_path, monkeypatch, currency="gbp", region="Americas")
    assert at.selectbox(key="f_currency").value == "GBP"
    # The run writes the normalised state back, defaults included, so the link is complete.
    assert at.query_params["currency"] == "GBP"
    assert at.query_params["region"] == "Americas"
    assert at.query_params["period"] == "last_quarter"


def test_url_reopens_the_same_view(demo_db_path, monkeypatch):
    at = open_app(
        demo_db_path, monkeypatch, currency="CHF", period="l12m", region=["Americas", "Atlantis"]
    )
    assert not at.exception
    assert at.selectbox(key="f_currency").value == "CHF"
    assert at.selectbox(key="f_period").value == "l12m"
    assert at.multiselect(key="f_regions").value == ["Americas"]
    assert any("Atlantis" in w.value for w in at.warning)


def test_empty_selection_shows_an_empty_state(demo_db_path, monkeypatch):
    # The demo serves the United Arab Emirates through distributors only: no key accounts.
    at = open_app(demo_db_path, monkeypatch, country="AE", channel="key account")
    assert not at.exception
    assert at.multiselect(key="f_countries").value == ["AE"]
    assert any("No sales match" in i.value for i in at.info)


def test_comparison_period_shown_in_sidebar(app, demo_db_path):
    con = duckdb.connect(str(demo_db_path), read_only=True)
    last = con.execute("SELECT max(order_date) FROM order_lines").fetchone()[0]
    con.close()
    quarter = resolve_period("last_quarter", last)
    previous = comparison_period("last_quarter", quarter)
    assert any(
        f"{quarter.label}, compared with {previous.label}" in c.value for c in app.sidebar.caption
    )


@pytest.fixture(scope="module")
def empty_store(tmp_path_factory) -> Path:
    """A store with the reference data and no company data (`init --empty`)."""
    from analytics import db, store

    path = tmp_path_factory.mktemp("empty_store") / "empty.duckdb"
    con = db.connect(path)
    store.create_schema(con)
    store.init_reference_data(con)
    con.close()
    return path


@pytest.mark.parametrize("page_file", [p for p in PAGES if p != "data.py"])
def test_every_analysis_page_on_an_empty_store_says_what_to_do(empty_store, monkeypatch, page_file):
    at = open_app(empty_store, monkeypatch).switch_page(f"views/{page_file}").run()
    assert not at.exception, [e.value for e in at.exception]
    message = " ".join(i.value for i in at.info)
    assert "No sales in this store yet" in message and "Data page" in message


def test_a_store_from_an_earlier_version_opens_after_an_upgrade(
    demo_db_path, tmp_path, monkeypatch
):
    import shutil

    from analytics import rollups

    path = tmp_path / "old.duckdb"
    shutil.copy(demo_db_path, path)
    with duckdb.connect(str(path)) as con:
        for table in [*rollups.SUMMARIES, "split_orders"]:
            con.execute(f"DROP TABLE {table}")
    at = open_app(path, monkeypatch, period="l12m")
    assert not at.exception and not at.error, [e.value for e in (*at.exception, *at.error)]
    assert at.dataframe[0].value.shape[0] > 0
    with duckdb.connect(str(path), read_only=True) as con:
        lines = con.execute("SELECT count(*) FROM order_lines").fetchone()[0]
        summed = con.execute("SELECT sum(line_count) FROM account_monthly").fetchone()[0]
    assert summed == lines
