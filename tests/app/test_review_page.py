"""AppTest: the Quarterly review page, its links, and presentation mode."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest
from streamlit.testing.v1 import AppTest

from analytics import formatting
from tests.ui.test_markup import as_shown

ROOT = Path(__file__).resolve().parents[2]
SECTIONS = [
    "Revenue bridge",
    "Regional scorecard",
    "Top movers",
    "Pipeline for Q4 2026",
    "Take it to the meeting",
]


def open_review(db_path: Path, monkeypatch, **params) -> AppTest:
    monkeypatch.setenv("SALES_ATLAS_DB", str(db_path))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    for key, value in params.items():
        at.query_params[key] = value
    at.run()
    return at.switch_page("views/review.py").run()


def metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def _scalar(db_path: Path, sql: str) -> float:
    with duckdb.connect(str(db_path), read_only=True) as con:
        return con.execute(sql).fetchone()[0]


def test_defaults_to_the_last_full_quarter_vs_the_prior_one(demo_db_path, monkeypatch):
    at = open_review(demo_db_path, monkeypatch)
    assert not at.exception and not at.error
    assert [h.value for h in at.subheader] == ["Q3 2026 vs Q2 2026 (prior quarter)", *SECTIONS]
    assert at.selectbox(key="r_quarter").value == "2026Q3"
    assert at.query_params["quarter"] == "2026Q3" and at.query_params["vs"] == "prior_quarter"
    revenue = _scalar(
        demo_db_path,
        "SELECT sum(net_amount_eur) FROM order_lines "
        "WHERE order_date BETWEEN DATE '2026-07-01' AND DATE '2026-09-30'",
    )
    # The regional scorecard's total row holds the exact figure (to a whole euro), and its
    # regions add up to it.
    regions = next(d.value for d in at.dataframe if d.value.columns[0] == "Region")
    total = regions["Region"] == "Total"
    assert regions.loc[total, "Net revenue (EUR)"].item() == pytest.approx(revenue, abs=0.5)
    parts = regions.loc[~total, "Net revenue (EUR)"]
    assert parts.sum() == pytest.approx(revenue, abs=0.5 * len(parts))
    labels = [m.label for m in at.metric]
    assert labels[:6] == [
        "Net revenue (EUR, reported)",
        "At constant currency (EUR)",
        "FX effect on growth",
        "Gross margin",
        "Revenue vs budget",
        "Attainment",
    ]
    assert labels[6:] == [
        "Q4 2026 commit",
        "Q4 2026 best case",
        "Q4 2026 pipeline",
        "Q4 2026 quota",
    ]
    assert len(at.get("plotly_chart")) == 5  # bridge, drivers, two movers, pipeline
    assert [b.label for b in at.get("download_button")][-3:] == [
        "Download PPTX deck",
        "Download PDF",
        "Download HTML report",
    ]
    assert any("Rates: ECB" in as_shown(c.value) and "Data to" in c.value for c in at.caption)


def test_a_link_to_a_quarter_vs_budget(demo_db_path, monkeypatch):
    at = open_review(demo_db_path, monkeypatch, quarter="2025Q4", vs="budget")
    assert not at.exception and not at.error
    assert at.subheader[0].value == "Q4 2025 vs budget Q4 2025"
    revenue = _scalar(
        demo_db_path,
        "SELECT sum(net_amount_eur) FROM order_lines "
        "WHERE order_date BETWEEN DATE '2025-10-01' AND DATE '2025-12-31'",
    )
    budget = _scalar(
        demo_db_path,
        "SELECT sum(budget_revenue_eur) FROM budgets WHERE quarter_start = '2025-10-01'",
    )
    assert metric(at, "Revenue vs budget") == formatting.change(revenue / budget - 1, "money")
    # The headline's delta is against the budget; growth is vs the same quarter last year.
    headline = next(m for m in at.metric if m.label == "Net revenue (EUR, reported)")
    assert headline.delta == formatting.change(revenue / budget - 1, "money")


def test_changing_the_quarter_updates_page_and_link(demo_db_path, monkeypatch):
    at = open_review(demo_db_path, monkeypatch)
    at.selectbox(key="r_quarter").set_value("2026Q1").run()
    assert not at.exception and not at.error
    assert at.subheader[0].value == "Q1 2026 vs Q4 2025 (prior quarter)"
    assert at.query_params["quarter"] == "2026Q1"


def test_unknown_quarter_in_a_link_is_reported(demo_db_path, monkeypatch):
    at = open_review(demo_db_path, monkeypatch, quarter="2031Q2", vs="forecast")
    assert not at.exception
    warnings = " ".join(w.value for w in at.warning)
    assert "2031Q2" in warnings and "forecast" in warnings
    assert at.subheader[0].value == "Q3 2026 vs Q2 2026 (prior quarter)"


def test_a_quarter_without_a_base_says_so(demo_db_path, monkeypatch):
    at = open_review(demo_db_path, monkeypatch, quarter="2021Q1", vs="prior_quarter")
    assert not at.exception
    assert "Nothing was sold in Q4 2020" in at.error[0].value


def test_region_filter_narrows_the_scorecard(demo_db_path, monkeypatch):
    at = open_review(demo_db_path, monkeypatch, region="Americas")
    assert not at.exception and not at.error
    scorecard = at.dataframe[1].value  # after the drivers table
    assert list(scorecard["Region"]) == ["Americas", "Total"]


def test_presentation_mode_steps_through_the_slides(demo_db_path, monkeypatch):
    at = open_review(demo_db_path, monkeypatch, present="1", slide="2")
    assert not at.exception and not at.error
    assert at.title[0].value == "Revenue bridge — Q3 2026"
    assert any("Slide 2 of 5" in m.value for m in at.markdown)
    assert any("display: none" in m.value for m in at.markdown)  # the sidebar is hidden
    assert any("Data to" in c.value and "EUR" in c.value for c in at.caption)
    assert len(at.get("plotly_chart")) == 1
    assert not at.get("selectbox") or all(s.key != "r_quarter" for s in at.selectbox)
    chart = at.get("plotly_chart")[0].proto
    # No Plotly toolbar on a slide, and the bridge's axis starts at zero.
    assert json.loads(chart.config)["displayModeBar"] is False
    assert json.loads(chart.spec)["layout"]["yaxis"]["range"][0] == 0

    at.button(key="r_next").click().run()
    assert at.query_params["slide"] == "3"
    assert at.title[0].value == "Regional scorecard — Q3 2026"
    at.button(key="r_next").click().run()
    at.button(key="r_next").click().run()
    assert at.title[0].value == "Pipeline for Q4 2026"
    assert at.button(key="r_next").disabled

    at.button(key="r_prev").click().run()
    assert at.title[0].value == "Top movers — Q3 2026"
    at.button(key="r_exit").click().run()
    assert "present" not in at.query_params
    assert at.title[0].value == "Quarterly review"
    assert at.selectbox(key="r_quarter").value == "2026Q3"


def test_present_button_opens_the_first_slide(demo_db_path, monkeypatch):
    at = open_review(demo_db_path, monkeypatch, quarter="2026Q2", vs="last_year")
    at.button(key="r_present").click().run()
    assert at.query_params["present"] == "1" and at.query_params["slide"] == "1"
    assert at.title[0].value == "Q2 2026 vs Q2 2025 (same quarter last year)"
    assert len(at.metric) == 10


def _cli_figures(db_path: Path, capsys, *args: str) -> dict:
    from analytics.__main__ import main

    capsys.readouterr()
    assert main(["figures", "--db", str(db_path), "--json", *args]) == 0
    return json.loads(capsys.readouterr().out)


@pytest.mark.parametrize(
    ("params", "flags"),
    [
        ({}, []),
        ({"region": "Western Europe"}, ["--region", "Western Europe"]),
    ],
)
def test_the_cli_figures_equal_the_pages_vs_budget_at_plan_rates(
    demo_db_path, monkeypatch, capsys, params, flags
):
    figures = _cli_figures(
        demo_db_path,
        capsys,
        "--period", "2026-Q3", "--compare", "budget", "--currency", "USD", "--basis", "plan",
        *flags,
    )  # fmt: skip
    at = open_review(
        demo_db_path, monkeypatch, quarter="2026Q3", vs="budget", currency="USD", basis="plan",
        **params,
    )  # fmt: skip
    assert not at.exception and not at.error
    money, signed = formatting.money, formatting.signed_money
    # At plan rates vs budget, the CLI's revenue and growth are the actual at plan rates.
    assert metric(at, "Actual at plan rates (USD)") == money(figures["revenue"], "USD")
    shown = next(m for m in at.metric if m.label == "Actual at plan rates (USD)")
    assert shown.delta == formatting.change(figures["growth"], "money")
    assert metric(at, "Net revenue (USD, reported)") == money(figures["revenue_reported"], "USD")
    assert metric(at, "Budget (USD, at plan rates)") == money(figures["comparison_revenue"], "USD")
    assert metric(at, "Operating variance") == signed(figures["variance_operating"], "USD")
    assert metric(at, "FX variance") == signed(figures["variance_fx"], "USD")
    assert figures["variance_operating"] + figures["variance_fx"] == pytest.approx(
        figures["revenue_reported"] - figures["budget"], rel=1e-12
    )
    assert "Budget to actual" in [h.value for h in at.subheader]


def test_the_cli_figures_equal_the_pages_at_plan_rates_vs_last_year(
    demo_db_path, monkeypatch, capsys
):
    figures = _cli_figures(
        demo_db_path,
        capsys,
        "--period", "2026-Q2", "--compare", "prior_year", "--currency", "GBP", "--basis", "plan",
    )  # fmt: skip
    at = open_review(
        demo_db_path, monkeypatch, quarter="2026Q2", vs="last_year", currency="GBP", basis="plan"
    )
    assert not at.exception and not at.error
    shown = next(m for m in at.metric if m.label == "Revenue at plan rates (GBP)")
    assert shown.value == formatting.money(figures["revenue"], "GBP")
    assert shown.delta == formatting.change(figures["growth"], "money")
    assert "variance_operating" not in figures and figures["bridge"]["fx"] is not None


def test_a_channel_shows_no_budget_comparison(demo_db_path, monkeypatch):
    """Before: "Revenue vs budget −98.6 %", the web channel against the company's budget."""
    at = open_review(demo_db_path, monkeypatch, quarter="2026Q3", vs="budget", channel="web")
    assert not at.exception and not at.error
    assert metric(at, "Revenue vs budget") == "No budget"
    assert any("not per channel" in i.value for i in at.info)
    assert "Budget to actual" not in [h.value for h in at.subheader]


def test_presentation_vs_budget_has_the_split_slides(demo_db_path, monkeypatch, capsys):
    """Vs budget the slides after the revenue bridge show the gap to budget split into
    operating and FX: in total with the budget bridge, then per region, the screen's (and
    the CLI's) figures."""
    from tests.ui.test_charts import values as decoded

    figures = _cli_figures(
        demo_db_path,
        capsys,
        "--period", "2026-Q3", "--compare", "budget", "--currency", "USD", "--basis", "plan",
    )  # fmt: skip
    link = {"quarter": "2026Q3", "vs": "budget", "currency": "USD", "basis": "plan"}
    at = open_review(demo_db_path, monkeypatch, present="1", slide="3", **link)
    assert not at.exception and not at.error
    assert at.title[0].value == "Budget to actual — Q3 2026 · USD, at plan rates + FX"
    assert any("Slide 3 of 7" in m.value for m in at.markdown)
    money, signed = formatting.money, formatting.signed_money
    assert metric(at, "Budget (USD, at plan rates)") == money(figures["budget"], "USD")
    assert metric(at, "Actual at plan rates (USD)") == money(figures["revenue_plan"], "USD")
    assert metric(at, "Operating variance") == signed(figures["variance_operating"], "USD")
    assert metric(at, "FX variance") == signed(figures["variance_fx"], "USD")
    chart = json.loads(at.get("plotly_chart")[0].proto.spec)
    bars = chart["data"][0]
    assert figures["bridge"]["base"] == pytest.approx(figures["budget"], abs=0.005)
    assert decoded(bars["y"]) == pytest.approx(
        [figures["bridge"][e] for e in ("base", "volume", "mix", "price", "new", "fx")]
        + [figures["revenue_reported"]],
        abs=0.005,
    )
    assert chart["layout"]["yaxis"]["range"][0] == 0  # the whole axis on the big screen

    at.button(key="r_next").click().run()
    assert at.title[0].value == "Gap to budget by region — Q3 2026 · USD, at plan rates + FX"
    table = at.dataframe[0].value
    total = table[table["Region"] == "Total"].iloc[0]
    assert total["Budget (USD)"] == pytest.approx(figures["budget"], abs=0.005)
    assert total["Actual at plan rates (USD)"] == pytest.approx(figures["revenue_plan"], abs=0.005)
    assert total["Operating variance (USD)"] == pytest.approx(
        figures["variance_operating"], abs=0.005
    )
    assert total["FX variance (USD)"] == pytest.approx(figures["variance_fx"], abs=0.005)
    regions = table[table["Region"] != "Total"]
    assert regions["Operating variance (USD)"].sum() == pytest.approx(
        figures["variance_operating"], abs=0.01
    )
    assert regions["FX variance (USD)"].sum() == pytest.approx(figures["variance_fx"], abs=0.01)
    at.button(key="r_next").click().run()
    assert at.title[0].value == "Regional scorecard — Q3 2026"
