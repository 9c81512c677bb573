"""One number everywhere: every figure shown on more than one page, for the same filters,
read from each page's own analytics call on the demo store, must be the same number.

Each SURFACE maps a place the figures are shown (a page) to a function returning {figure
name: value} for the shared filters; the PPTX deck written by `python -m analytics report` is
one more surface, read back from the file's native chart data. A figure two or more surfaces
show is compared across all of them (to 1e-9 relative).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections.abc import Callable

import duckdb
import pytest

from analytics import overview, periods, review
from analytics.crm import attainment, deals, forecast
from analytics.crm.scope import Scope
from analytics.filters import Filters

QUARTER = periods.quarter(dt.date(2026, 7, 1))  # the demo's last full quarter
NEXT = periods.quarter(dt.date(2026, 10, 1))
BASE = review.base_period(QUARTER, "prior_quarter")
FILTERS = Filters(period=QUARTER, comparison=BASE, currency="USD")


def overview_figures(cur, filters: Filters) -> dict[str, float]:
    kpis = overview.kpis(cur, filters).set_index("metric")
    constant = overview.kpis(cur, dataclasses.replace(filters, basis="constant"))
    countries = overview.revenue_by_country(cur, filters).set_index("country_code")
    countries_cc = overview.revenue_by_country(
        cur, dataclasses.replace(filters, basis="constant")
    ).set_index("country_code")
    out = {
        "net revenue": kpis.loc["net_revenue", "current"],
        "net revenue, comparison": kpis.loc["net_revenue", "comparison"],
        "growth": kpis.loc["net_revenue", "change"],
        "growth at constant currency": constant.set_index("metric").loc["net_revenue", "change"],
        "gross margin %": kpis.loc["gross_margin_pct", "current"],
        "orders": kpis.loc["orders", "current"],
        "active customers": kpis.loc["active_customers", "current"],
    }
    for code, row in countries.iterrows():
        out[f"{code} net revenue"] = row["revenue"]
        out[f"{code} growth"] = row["growth"]
        out[f"{code} gross margin %"] = row["gross_margin_pct"]
        out[f"{code} growth at constant currency"] = countries_cc.loc[code, "growth"]
    return out


def markets_figures(cur, filters: Filters) -> dict[str, float]:
    from analytics import markets

    cards = markets.scorecards(cur, filters)
    constant = markets.scorecards(cur, dataclasses.replace(filters, basis="constant"))
    regions = cards["region"]
    out = {
        "net revenue": regions["revenue"].sum(),
        "net revenue, comparison": regions["revenue_prior"].sum(),
        "growth": regions["revenue"].sum() / regions["revenue_prior"].sum() - 1,
        "orders": regions["orders"].sum(),
        # A customer buys in its own country, so the regions' distinct counts add up.
        "active customers": regions["active_customers"].sum(),
    }
    for _, row in regions.iterrows():
        out[f"{row['key']} region net revenue"] = row["revenue"]
        out[f"{row['key']} region gross margin %"] = row["gross_margin_pct"]
        out[f"{row['key']} region growth at constant currency"] = row["growth_prior_cc"]
    cc = constant["country"].set_index("key")
    for code, row in cards["country"].set_index("key").iterrows():
        out[f"{code} net revenue"] = row["revenue"]
        out[f"{code} growth"] = row["growth_prior"]
        out[f"{code} gross margin %"] = row["gross_margin_pct"]
        # What Markets shows as growth with "Constant currency" chosen (issue #16).
        out[f"{code} growth at constant currency"] = cc.loc[code, "growth_prior"]
    return out


def review_figures(cur, filters: Filters) -> dict[str, float]:
    data = review.build(cur, filters.period, "prior_quarter", filters)
    h, p = data.headline, data.pipeline
    bridge = dict(zip(data.bridge["effect"], data.bridge["amount"], strict=True))
    out = {
        "net revenue": h["revenue"],
        "bridge end": bridge["current"],
        "net revenue, comparison": h["revenue_base"],
        "growth": h["growth"],
        "growth at constant currency": h["growth_cc"],
        "gross margin %": h["margin_pct"],
        "quota attainment": h["attainment"],
    }
    for _, row in data.regions.iterrows():
        if row["region"] != review.TOTAL:
            out[f"{row['region']} region net revenue"] = row["revenue"]
            out[f"{row['region']} region gross margin %"] = row["margin_pct"]
            out[f"{row['region']} region growth at constant currency"] = row["growth_cc"]
    for key in ("commit", "best_case", "pipeline", "quota", "coverage"):
        out[f"{p['quarter']} {key}"] = p[key]
    return out


def team_figures(cur, filters: Filters) -> dict[str, float]:
    scope = Scope.from_filters(filters)
    # The review's attainment follows its basis (reported here); Team's defaults to plan
    # rates, each stated on screen: the same basis gives the same number.
    basis = review.attainment_basis(filters)
    out = {
        "quota attainment": attainment.attainment_view(cur, filters.period, scope, basis)["total"][
            "attainment"
        ]
    }
    pipeline_view = deals.pipeline_view(cur, scope)
    summary = next(s for s in pipeline_view["summaries"] if s["quarter"] == NEXT.label)
    for key in ("pipeline", "quota", "coverage"):
        out[f"{NEXT.label} {key}"] = summary[key]
    result = forecast.forecast_view(cur, NEXT, scope)["forecast"]
    for key in ("commit", "best_case", "pipeline", "quota", "coverage"):
        out[f"{NEXT.label} {key} (forecast view)"] = result[key]
    return out


SURFACES: dict[str, Callable[[duckdb.DuckDBPyConnection, Filters], dict[str, float]]] = {
    "Overview": overview_figures,
    "Markets": markets_figures,
    "Quarterly review": review_figures,
    "Team & pipeline": team_figures,
}


def deck_figures(db_path, out) -> dict[str, float]:
    """The figures the exported deck's native charts carry, written by the CLI as a user would."""
    from pptx import Presentation

    from analytics.__main__ import main

    key = f"{QUARTER.start.year}-Q{(QUARTER.start.month + 2) // 3}"
    args = ["report", "--db", str(db_path), "--quarter", key, "--compare", "prior_period"]
    assert main([*args, "--currency", FILTERS.currency, "--format", "pptx", "--out", str(out)]) == 0
    charts = [
        shape.chart
        for slide in Presentation(str(out)).slides
        for shape in slide.shapes
        if shape.has_chart
    ]
    bridge = charts[0].plots[0]
    labels = list(bridge.categories)
    totals = list(bridge.series[1].values)
    pipeline = next(c for c in charts if list(c.plots[0].categories)[:1] == ["Commit"])
    commit, best_case, pipe, quota = pipeline.plots[0].series[0].values
    return {
        "net revenue, comparison": totals[0],
        "net revenue": totals[labels.index(labels[-1])],
        f"{NEXT.label} commit": commit,
        f"{NEXT.label} best_case": best_case,
        f"{NEXT.label} pipeline": pipe,
        f"{NEXT.label} quota": quota,
    }


@pytest.fixture(scope="module")
def shown(demo_db_path, tmp_path_factory) -> dict[str, dict[str, float]]:
    con = duckdb.connect(str(demo_db_path), read_only=True)
    try:
        figures = {name: read(con, FILTERS) for name, read in SURFACES.items()}
    finally:
        con.close()
    deck = tmp_path_factory.mktemp("deck") / "review.pptx"
    figures["PPTX deck (python -m analytics report)"] = deck_figures(demo_db_path, deck)
    # The Team's Forecast view is a second place on one page: fold it in under its figure.
    team = figures["Team & pipeline"]
    figures["Team › Forecast"] = {
        k.removesuffix(" (forecast view)"): v for k, v in team.items() if "(forecast view)" in k
    }
    figures["Team & pipeline"] = {k: v for k, v in team.items() if "(forecast view)" not in k}
    # The bridge's end is the Review's own second statement of net revenue.
    rev = figures["Quarterly review"]
    figures["Review bridge"] = {"net revenue": rev.pop("bridge end")}
    return figures


def _by_figure(shown: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    for surface, figures in shown.items():
        for figure, value in figures.items():
            out.setdefault(figure, {})[surface] = float(value)
    return {figure: places for figure, places in out.items() if len(places) > 1}


def test_every_figure_shown_twice_is_the_same_number(shown):
    compared = _by_figure(shown)
    differ = {}
    for figure, places in compared.items():
        values = list(places.values())
        if any(math.isnan(v) for v in values):
            if not all(math.isnan(v) for v in values):
                differ[figure] = places
            continue
        if any(v != pytest.approx(values[0], rel=1e-9, abs=1e-9) for v in values):
            differ[figure] = places
    assert not differ, differ


def test_the_comparison_covers_the_figures_the_issue_names(shown):
    compared = _by_figure(shown)
    deck = "PPTX deck (python -m analytics report)"
    for figure, surfaces in {
        "net revenue": {"Overview", "Markets", "Quarterly review", "Review bridge", deck},
        "gross margin %": {"Overview", "Quarterly review"},
        "growth": {"Overview", "Markets", "Quarterly review"},
        "growth at constant currency": {"Overview", "Quarterly review"},
        "GB growth at constant currency": {"Overview", "Markets"},
        "GB growth": {"Overview", "Markets"},
        "orders": {"Overview", "Markets"},
        "active customers": {"Overview", "Markets"},
        "quota attainment": {"Quarterly review", "Team & pipeline"},
        f"{NEXT.label} pipeline": {"Quarterly review", "Team & pipeline", "Team › Forecast", deck},
        f"{NEXT.label} coverage": {"Quarterly review", "Team & pipeline", "Team › Forecast"},
        f"{NEXT.label} commit": {"Quarterly review", "Team › Forecast", deck},
        f"{NEXT.label} best_case": {"Quarterly review", "Team › Forecast", deck},
        "net revenue, comparison": {"Overview", "Markets", "Quarterly review", deck},
    }.items():
        assert set(compared[figure]) == surfaces, figure
    regions = [f for f in compared if f.endswith("region gross margin %")]
    assert len(regions) >= 4 and all(
        set(compared[f]) == {"Markets", "Quarterly review"} for f in regions
    )
