"""AppTest: the Pricing lab — build a scenario, bad inputs, save, reload, compare, delete."""

from __future__ import annotations

import shutil
from contextlib import closing
from pathlib import Path

import duckdb
import pytest
from streamlit.testing.v1 import AppTest

from analytics import state
from tests.ui.test_markup import as_shown

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def writable_db(demo_db_path, tmp_path) -> Path:
    """A copy of the demo store: saving scenarios writes to it."""
    path = tmp_path / "pricing.duckdb"
    shutil.copy(demo_db_path, path)
    return path


def open_lab(db_path: Path, monkeypatch) -> AppTest:
    monkeypatch.setenv("SALES_ATLAS_DB", str(db_path))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.run()
    return at.switch_page("views/pricing.py").run()


def metric(at: AppTest, label: str):
    return next(m for m in at.metric if m.label == label)


def results(at: AppTest):
    """The per-market results table (whole euros)."""
    return next(d.value for d in at.dataframe if "Margin, scenario (EUR)" in d.value.columns)


def ok(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def test_default_scenario_renders_every_section(demo_db_path, monkeypatch):
    at = open_lab(demo_db_path, monkeypatch)
    ok(at)
    assert [h.value for h in at.subheader] == [
        "1 · Markets, products and baseline",
        "2 · Exchange-rate shock",
        "3 · Pricing response and costs",
        "4 · Results against the baseline",
        "5 · Margin at risk",
        "Saved scenarios",
        "Price corridor",
    ]
    # The demand model is on screen as the power law the figures use, with its effect.
    assert any(r"\left(\frac{P_1}{P_0}\right)^{e}" in x.value for x in at.latex)
    assert any(
        "With e = -1.5, a local price 20 % higher changes units by -23.9% and one 20 % "
        "lower by +39.8% (a straight line would say -30.0% and +30.0%)" in c.value
        for c in at.caption
    )
    # No shock: the scenario is the baseline.
    assert (results(at)["Margin change (EUR)"] == 0).all()
    assert any("stored ECB history of" in c.value for c in at.caption)


def test_a_dollar_shock_with_no_pass_through_costs_the_us_margin(demo_db_path, monkeypatch):
    at = open_lab(demo_db_path, monkeypatch)
    at.multiselect(key="p_markets").set_value(["US"]).run()
    at.number_input(key="p_pt").set_value(0.0).run()
    before = results(at)["Margin, baseline (EUR)"].sum()
    at.number_input(key="p_shock_USD").set_value(-20.0).run()
    ok(at)
    with duckdb.connect(str(demo_db_path), read_only=True) as con:
        start, end = at.session_state["p_range"]
        local, cost = con.execute(
            "SELECT sum(net_amount_local), sum(quantity * unit_cost_eur) FROM order_lines "
            "WHERE country_code = 'US' AND order_date BETWEEN ? AND ?",
            [start, end],
        ).fetchone()
        spot = con.execute(
            "SELECT units_per_eur FROM fx_rates WHERE currency_code = 'USD' "
            "ORDER BY rate_date DESC LIMIT 1"
        ).fetchone()[0]
    assert before == pytest.approx(local / spot - cost, abs=0.5)
    # Local prices unchanged, so the EUR revenue falls with the dollar; costs do not.
    expected = local / (spot / 0.8) - cost
    assert results(at)["Margin, scenario (EUR)"].sum() == pytest.approx(expected, abs=0.5)


def test_bad_inputs_get_a_clear_message(demo_db_path, monkeypatch):
    at = open_lab(demo_db_path, monkeypatch)
    at.number_input(key="p_shock_USD").set_value(-100.0).run()
    assert not at.exception
    assert "USD shock of -100%" in as_shown(at.error[0].value)
    assert not any(h.value.startswith("4 ·") for h in at.subheader)  # no results shown
    at.number_input(key="p_shock_USD").set_value(0.0).run()
    at.multiselect(key="p_markets").set_value([]).run()
    assert not at.exception
    assert "Select at least one market" in at.error[0].value
    at.multiselect(key="p_markets").set_value(["US"]).run()
    at.number_input(key="p_el").set_value(2.0).run()
    assert "Elasticity for US" in at.error[0].value


def test_episode_replay_fills_the_shocks(demo_db_path, monkeypatch):
    at = open_lab(demo_db_path, monkeypatch)
    at.multiselect(key="p_markets").set_value(["CH"]).run()
    at.radio(key="p_mode").set_value("Replay an episode").run()
    at.selectbox(key="p_episode").set_value("chf_2015").run()
    ok(at)
    assert any("Replaying 14 Jan 2015 → 23 Jan 2015: CHF +" in c.value for c in at.caption)
    assert results(at)["Margin change (EUR)"].sum() > 0  # a stronger franc: more margin


def test_save_reload_compare_and_delete(writable_db, monkeypatch):
    at = open_lab(writable_db, monkeypatch)
    at.number_input(key="p_shock_USD").set_value(-10.0).run()
    at.text_input(key="p_save_name").set_value("Dollar -10").run()
    at.button(key="p_save").click().run()
    ok(at)
    assert as_shown(at.success[0].value) == "Saved “Dollar -10”."
    at.number_input(key="p_shock_USD").set_value(5.0)
    at.number_input(key="p_pt").set_value(100.0).run()
    at.text_input(key="p_save_name").set_value("Dollar +5, full pass-through").run()
    at.button(key="p_save").click().run()
    ok(at)
    # Scenarios live in the state store beside the DuckDB file, never in the store itself.
    with duckdb.connect(str(writable_db), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM scenarios").fetchall() == [(0,)]
    with closing(state.connect(state.state_path(writable_db))) as con:
        assert sorted(r[0] for r in con.execute("SELECT name FROM scenarios").fetchall()) == [
            "Dollar +5, full pass-through",
            "Dollar -10",
        ]

    ids = _ids(writable_db)
    at.selectbox(key="p_saved").set_value(ids["Dollar -10"]).run()
    at.button(key="p_load").click().run()
    ok(at)
    assert at.number_input(key="p_shock_USD").value == pytest.approx(-10.0)
    assert at.number_input(key="p_pt_US").value == pytest.approx(50.0)

    at.multiselect(key="p_compare").set_value(
        [ids["Dollar -10"], ids["Dollar +5, full pass-through"]]
    ).run()
    ok(at)
    table = at.dataframe[-3].value  # before the corridor's two tables
    assert list(table["Scenario"]) == ["Dollar -10", "Dollar +5, full pass-through"]
    assert list(table["Shocks"]) == ["USD -10%", "USD +5%"]

    at.selectbox(key="p_saved").set_value(ids["Dollar -10"]).run()
    at.button(key="p_delete").click().run()
    ok(at)
    with closing(state.connect(state.state_path(writable_db))) as con:
        assert con.execute("SELECT name FROM scenarios").fetchall() == [
            ("Dollar +5, full pass-through",)
        ]


def _ids(db_path: Path) -> dict[str, str]:
    with closing(state.connect(state.state_path(db_path))) as con:
        return dict(con.execute("SELECT name, scenario_id FROM scenarios").fetchall())


def test_saving_a_scenario_keeps_every_cached_figure(writable_db, monkeypatch):
    # Saving used to rewrite the store file, whose modification time keys every cached
    # figure, so one save recomputed every session's figures (6.1 s). Scenarios now live in
    # the SQLite state store: the store, its version and the cached figures stay.
    from analytics import pricing
    from ui import cache

    monkeypatch.setenv("SALES_ATLAS_DB", str(writable_db))
    monkeypatch.delenv(state.ENV_VAR, raising=False)
    reads = []
    load = cache.catalog.load
    monkeypatch.setattr(cache.catalog, "load", lambda cur: reads.append(1) or load(cur))
    before, mtime = cache.database_version(), writable_db.stat().st_mtime_ns
    catalog = cache.load_catalog(before)
    scenario = pricing.Scenario(("US",), catalog.first_date, catalog.last_date)
    with cache.state_store() as con:
        pricing.save_scenario(con, "Kept caches", scenario, "analyst@example.com")
    assert writable_db.stat().st_mtime_ns == mtime
    assert cache.database_version() == before
    assert cache.load_catalog(cache.database_version()) == catalog
    assert len(reads) == 1  # served from the cache, not read again
    assert "Kept caches" in list(cache.saved_scenarios()["name"])


def test_margin_at_risk_states_its_size(demo_db_path, monkeypatch):
    at = open_lab(demo_db_path, monkeypatch)
    at.selectbox(key="p_horizon").set_value(30)
    at.number_input(key="p_paths").set_value(1_000)
    at.toggle(key="p_mc").set_value(True).run()
    ok(at)
    currencies = len({"USD", "GBP", "CHF", "JPY", "CNY", "TRY"})  # the six default markets
    assert any(
        f"1,000 paths × {currencies} currencies at 30 days, drawn at the horizon directly"
        in c.value
        for c in at.caption
    )
    assert metric(at, "Margin at risk, 95 %").value.startswith("€")


def test_hedges_and_the_plan_rate(demo_db_path, monkeypatch):
    at = open_lab(demo_db_path, monkeypatch)
    at.multiselect(key="p_markets").set_value(["US"]).run()
    at.number_input(key="p_pt").set_value(0.0).run()
    at.number_input(key="p_shock_USD").set_value(-20.0).run()
    ok(at)
    start, end = at.session_state["p_range"]
    with duckdb.connect(str(demo_db_path), read_only=True) as con:
        local, cost = con.execute(
            "SELECT sum(net_amount_local), sum(quantity * unit_cost_eur) FROM order_lines "
            "WHERE country_code = 'US' AND order_date BETWEEN ? AND ?",
            [start, end],
        ).fetchone()
        plan = con.execute(
            "SELECT units_per_eur FROM plan_rates WHERE currency_code = 'USD' AND year = ? "
            "AND quarter IS NULL",
            [end.year],
        ).fetchone()[0]
    table = results(at)
    assert table[f"Plan rate {end.year}"].iloc[0] == pytest.approx(plan)
    # Fully hedged at the plan rate: the margin is the plan's, whatever the dollar does.
    at.number_input(key="p_hedge_USD").set_value(100.0).run()
    ok(at)
    table = results(at)
    assert table["Margin, scenario (EUR)"].sum() == pytest.approx(local / plan - cost, abs=0.5)
    assert table["FX effect vs plan (EUR)"].sum() == pytest.approx(0, abs=0.5)
    assert metric(at, "FX effect vs plan (EUR)").value == "€0"
