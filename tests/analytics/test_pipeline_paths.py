"""The pipeline pages' one-statement paths against their definitions, on the demo store.

Team's pipeline view and the Forecast page's projection read the deals with few statements
(pipeline.totals for several quarters at once, deals.deal_figures, deals.stuck_now,
projection.stage_rates in cells, forecast_accuracy for every quarter at once). Each is
checked here against an independent definition: the frame-by-frame functions they replace
(snapshot_deals, closed_stats, stage_conversion, stuck_deals, one rollup per quarter) or the
probabilities counted deal-week by deal-week in Python.
"""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest

from analytics import db, metrics, periods
from analytics.crm import deals, forecast, pipeline, stages
from analytics.crm.scope import Scope, as_of, latest_snapshot, snapshot_dates
from analytics.forecast import projection

SCOPES = [
    Scope(),
    Scope(currency="USD"),
    Scope(regions=("Western Europe",), currency="GBP"),
    Scope(countries=("DE", "FR", "US")),
]


@pytest.fixture(scope="module")
def cur(demo_db_path):
    con = db.connect(demo_db_path, read_only=True)
    yield con.cursor()
    con.close()


def in_scope(cur, scope: Scope) -> set[str]:
    """The countries a scope selects, read on their own."""
    rows = cur.execute("SELECT country_code, region FROM countries").fetchall()
    return {
        code
        for code, region in rows
        if (not scope.regions or region in scope.regions)
        and (not scope.countries or code in scope.countries)
    }


def same(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for key in a:
        x, y = a[key], b[key]
        if isinstance(x, float) and math.isnan(x):
            assert isinstance(y, float) and math.isnan(y), key
        elif isinstance(x, float):
            assert y == pytest.approx(x, rel=1e-12), key
        else:
            assert x == y, key


@pytest.mark.parametrize("scope", SCOPES)
def test_totals_of_two_quarters_are_each_quarters_deals(cur, scope):
    snapshot = latest_snapshot(cur)
    first = periods.quarter(snapshot)
    quarters = [first, periods.quarter(periods.add_months(first.start, 3))]
    both = pipeline.totals(cur, quarters, snapshot, scope)
    assert sum(t.deals for t in both) > 0
    for quarter, totals in zip(quarters, both, strict=True):
        (alone,) = pipeline.totals(cur, [quarter], snapshot, scope)
        assert totals == alone
        frame = pipeline.snapshot_deals(cur, quarter, snapshot, scope)
        assert totals.deals == len(frame)
        by_stage = frame.groupby("stage")["amount"].agg(["count", "sum"])
        assert {s: c for s, (c, _) in totals.stages.items() if c} == by_stage["count"].to_dict()
        for stage, (_, amount) in totals.stages.items():
            assert amount == pytest.approx(by_stage["sum"].get(stage, 0.0), rel=1e-12)
        by_category = frame.groupby("forecast_category")["amount"].sum()
        for level, amount in totals.levels.items():
            assert amount == pytest.approx(by_category.get(level, 0.0), rel=1e-12)


def test_totals_refuse_overlapping_quarters(cur):
    quarter = periods.quarter(latest_snapshot(cur))
    with pytest.raises(ValueError, match="overlap"):
        pipeline.totals(cur, [quarter, quarter], latest_snapshot(cur), Scope())


@pytest.mark.parametrize("scope", SCOPES)
def test_deal_figures_are_closed_stats_and_stage_conversion(cur, scope):
    today = as_of(cur)
    funnel = stages.open_stages(cur)
    for end in (today, today - dt.timedelta(days=200)):
        frame = deals.deals(cur, scope)
        history = deals.stage_history(cur, scope)
        expected = deals.closed_stats(frame, end)
        figures = deals.deal_figures(cur, scope, end, funnel)
        assert expected["won"] + expected["lost"] > 0
        same(figures.stats, expected)
        pd.testing.assert_frame_equal(
            figures.conversion, deals.stage_conversion(frame, history, expected, funnel)
        )


@pytest.mark.parametrize("scope", SCOPES)
def test_stuck_now_is_stuck_deals(cur, scope, monkeypatch):
    today = as_of(cur)
    since = deals.stats_start(today)
    frame, history = deals.deals(cur, scope, since), deals.stage_history(cur, scope, since)
    for factor in (deals.STUCK_FACTOR, 0.5):  # the demo has few stuck deals at 2x
        monkeypatch.setattr(deals, "STUCK_FACTOR", factor)
        expected = deals.stuck_deals(frame, history, today).sort_values(
            ["days_in_stage", "opportunity_id"], ascending=[False, True], ignore_index=True
        )
        stage_days = deals.deal_figures(cur, scope, today).stage_days
        pd.testing.assert_frame_equal(deals.stuck_now(cur, scope, today, stage_days), expected)
    assert len(expected) > 10


def quarter_index(day: dt.date) -> int:
    return day.year * 4 + (day.month - 1) // 3


def stage_rates_by_week(cur, snapshot: dt.date, scope: Scope) -> dict:
    """stage_rates' counts deal-week by deal-week (see projection's module doc)."""
    countries = in_scope(cur, scope)
    closed = {
        i: (status, closed_on)
        for i, status, closed_on, country in cur.execute(
            "SELECT opportunity_id, status, close_date, country_code FROM opportunities"
        ).fetchall()
        if status in ("won", "lost") and closed_on <= snapshot and country in countries
    }
    counts: dict[str, dict[str, int]] = {}
    for seen, i, stage, due in cur.execute(
        "SELECT snapshot_date, opportunity_id, stage, close_date FROM opportunity_snapshots"
    ).fetchall():
        if seen >= snapshot or i not in closed:
            continue
        status, closed_on = closed[i]
        row = counts.setdefault(stage, dict.fromkeys(COUNTS, 0))
        row["closed_weeks"] += 1
        if status != "won":
            continue
        row["won_weeks"] += 1
        horizon = quarter_index(due) - quarter_index(seen)
        if horizon in projection.HORIZONS and quarter_index(due) < quarter_index(snapshot):
            row[f"due_weeks_{horizon}"] += 1
            if quarter_index(closed_on) == quarter_index(due):
                row[f"in_quarter_weeks_{horizon}"] += 1
    return counts


COUNTS = (
    "closed_weeks",
    "won_weeks",
    "due_weeks_0",
    "in_quarter_weeks_0",
    "due_weeks_1",
    "in_quarter_weeks_1",
)


@pytest.mark.parametrize("scope", [SCOPES[0], SCOPES[3]])
def test_stage_rates_are_counted_week_by_week(cur, scope):
    dates = snapshot_dates(cur)
    for snapshot in (dates[-1], dates[-14], dates[len(dates) // 2]):
        rates = projection.stage_rates(cur, snapshot, scope)
        assert rates["stage"].tolist() == list(stages.open_stages(cur))
        expected = stage_rates_by_week(cur, snapshot, scope)
        for row in rates.to_dict("records"):
            counts = expected.get(row["stage"], dict.fromkeys(COUNTS, 0))
            assert {k: row[k] for k in COUNTS} == counts
            share = counts["won_weeks"] / counts["closed_weeks"]
            assert row["p_win"] == pytest.approx(share, rel=1e-12)
            for h in projection.HORIZONS:
                due = counts[f"due_weeks_{h}"]
                wanted = counts[f"in_quarter_weeks_{h}"] / due if due else np.nan
                assert row[f"p_in_quarter_{h}"] == pytest.approx(wanted, rel=1e-12, nan_ok=True)
        assert rates["due_weeks_1"].sum() > 0


@pytest.mark.parametrize("scope", SCOPES)
def test_projection_is_each_deal_times_its_stages_chance(cur, scope):
    snapshot = latest_snapshot(cur)
    rates, projected = projection.project(cur, snapshot, scope)
    by_stage = rates.set_index("stage")
    for p in projected:
        frame = pipeline.snapshot_deals(cur, p.quarter, snapshot, scope)
        chance = frame["stage"].map(by_stage["p_win"] * by_stage[f"p_in_quarter_{p.horizon}"])
        assert p.open_deals == len(frame)
        assert p.open_amount == pytest.approx(frame["amount"].sum(), rel=1e-12)
        assert p.expected_open == pytest.approx((frame["amount"] * chance).sum(), rel=1e-12)
        rolled = pipeline.rollup(cur, p.quarter, snapshot, scope)
        assert (p.won_to_date, p.commit_open) == pytest.approx(
            (rolled["won"], rolled["commit"]), rel=1e-12
        )


def accuracy_of(cur, quarter: periods.Period, week: int, scope: Scope) -> dict | None:
    """One quarter's forecast accuracy row from the deals, in Python."""
    countries = in_scope(cur, scope)
    target = quarter.start + dt.timedelta(weeks=week)
    days = [d for d in snapshot_dates(cur) if target <= d <= quarter.end]
    if not days:
        return None
    snapshot = days[0]
    rates = dict(
        ((day, code), units)
        for day, code, units in cur.execute(
            "SELECT rate_date, currency_code, units_per_eur FROM fx_daily"
        ).fetchall()
    )
    opportunities = {
        row[0]: row[1:]
        for row in cur.execute(
            "SELECT opportunity_id, country_code, currency_code, amount_local, status, "
            "close_date FROM opportunities"
        ).fetchall()
    }
    commit = [
        amount / rates[(snapshot, opportunities[i][1])]
        for i, amount, due, category in cur.execute(
            "SELECT opportunity_id, amount_local, close_date, forecast_category "
            "FROM opportunity_snapshots WHERE snapshot_date = ?",
            [snapshot],
        ).fetchall()
        if category == "commit"
        and quarter.start <= due <= quarter.end
        and opportunities[i][0] in countries
        and (snapshot, opportunities[i][1]) in rates
    ]
    if not commit:
        return None  # as main's per-quarter statement: no commit deal, no row
    won = [
        (amount / rates[(closed_on, code)], closed_on)
        for country, code, amount, status, closed_on in opportunities.values()
        if status == "won"
        and quarter.start <= closed_on <= quarter.end
        and country in countries
        and (closed_on, code) in rates
    ]
    won_eur = sum(a for a, _ in won)
    by_snapshot = sum(a for a, day in won if day <= snapshot)
    called = by_snapshot + sum(commit)
    return {
        "quarter": quarter.label,
        "snapshot": snapshot,
        "won_by_snapshot_eur": by_snapshot,
        "commit_eur": sum(commit),
        "forecast_eur": called,
        "won_eur": won_eur,
        "commit_conversion": metrics.ratio(won_eur, sum(commit)),
        "accuracy": metrics.forecast_accuracy(called, won_eur),
    }


@pytest.mark.parametrize("scope", [SCOPES[0], SCOPES[2]])
def test_forecast_accuracy_of_eight_quarters_in_one_statement(cur, scope):
    last = periods.quarter(latest_snapshot(cur))
    quarters = [periods.quarter(periods.add_months(last.start, -3 * i)) for i in range(8, 0, -1)]
    for week in (0, 4, 11):
        table = forecast.forecast_accuracy(cur, quarters, week, scope)
        expected = [r for r in (accuracy_of(cur, q, week, scope) for q in quarters) if r]
        assert len(table) == len(expected) > 0
        for got, want in zip(table.to_dict("records"), expected, strict=True):
            same(got, want)
