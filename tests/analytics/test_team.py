"""Team performance and pipeline, checked against figures worked out by hand.

On top of the shared fixture (conftest.py) this adds two reps, quotas, eight deals, two
weekly snapshots and four activities:

    reps    R1 Ann (team North, Americas), R2 Bob (team North, Northern Europe)
    lines   O2 and O5 (GB) move to R2; a 100 EUR line for R2 on 2023-12-29
    quotas  2023Q4: R1 500, R2 500        2024Q1: R1 1000, R2 2000   (EUR)

    deal  rep  ccy  amount  status  created     close       at 01-05 snapshot         at 01-26
    D1    R1   USD  1090    open    2023-11-01  2024-03-15  1000 USD commit Proposal  1090 Negotiation
    D2    R2   GBP   855    open    2024-01-10  2024-03-20  -                         855 best case
    D3    R1   EUR   500    won     2023-12-01  2024-01-09  500 commit Negotiation    -
    D4    R1   USD  1200    lost    2023-12-15  2024-01-08  1200 best case Proposal   -
    D5    R2   GBP   800    won     2023-12-20  2024-01-09  800 commit Negotiation    -
    D6    R2   EUR   300    open    2023-12-01  2024-05-15  due 03-10 Qualification   due 05-15
    D7    R1   USD   545    open    2023-10-01  2024-03-29  due 04-20 Prospecting     due 03-29
    D8    R2   EUR   600    open    2023-11-15  2024-02-15  800 best case Proposal    600

The latest rates are 2024-02-01's (USD 1.09, GBP 0.855), and this file adds the same rates
on the 2024-01-26 snapshot, so every open deal is worth a round number of euros both now
and in that snapshot: D1 1000, D2 1000, D7 500, D8 600.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from analytics import db, fx, metrics, plan_rates, rollups
from analytics.crm import activity, attainment, changes, deals, forecast, pipeline, rep
from analytics.crm.scope import Scope
from analytics.periods import Period
from analytics.review import quarter

D = dt.date
Q4 = quarter(D(2023, 10, 1))
Q1 = quarter(D(2024, 1, 1))
FIRST, LAST = D(2024, 1, 5), D(2024, 1, 26)

R1_BOOKED = 450 / 1.08 + 300 / 1.20 - 60 / 1.20 + 100 + 109 / 1.09  # O1, O3/1, O3/2, O4, O6
R2_BOOKED = 200 / 0.86 + 240 / 0.80  # O2, O5

DEALS = [
    (
        "D1",
        "C1",
        "R1",
        "US",
        "USD",
        1090.0,
        "Negotiation",
        "commit",
        D(2023, 11, 1),
        D(2024, 3, 15),
        "open",
    ),
    (
        "D2",
        "C2",
        "R2",
        "GB",
        "GBP",
        855.0,
        "Proposal",
        "best case",
        D(2024, 1, 10),
        D(2024, 3, 20),
        "open",
    ),
    (
        "D3",
        "C3",
        "R1",
        "DE",
        "EUR",
        500.0,
        "Negotiation",
        "commit",
        D(2023, 12, 1),
        D(2024, 1, 9),
        "won",
    ),
    (
        "D4",
        "C1",
        "R1",
        "US",
        "USD",
        1200.0,
        "Proposal",
        "best case",
        D(2023, 12, 15),
        D(2024, 1, 8),
        "lost",
    ),
    (
        "D5",
        "C2",
        "R2",
        "GB",
        "GBP",
        800.0,
        "Negotiation",
        "commit",
        D(2023, 12, 20),
        D(2024, 1, 9),
        "won",
    ),
    (
        "D6",
        "C3",
        "R2",
        "DE",
        "EUR",
        300.0,
        "Qualification",
        "pipeline",
        D(2023, 12, 1),
        D(2024, 5, 15),
        "open",
    ),
    (
        "D7",
        "C4",
        "R1",
        "US",
        "USD",
        545.0,
        "Prospecting",
        "pipeline",
        D(2023, 10, 1),
        D(2024, 3, 29),
        "open",
    ),
    (
        "D8",
        "C3",
        "R2",
        "DE",
        "EUR",
        600.0,
        "Proposal",
        "best case",
        D(2023, 11, 15),
        D(2024, 2, 15),
        "open",
    ),
]

SNAPSHOTS = [
    (FIRST, "D1", "Proposal", 1000.0, D(2024, 3, 15), "commit"),
    (FIRST, "D3", "Negotiation", 500.0, D(2024, 1, 20), "commit"),
    (FIRST, "D4", "Proposal", 1200.0, D(2024, 2, 28), "best case"),
    (FIRST, "D5", "Negotiation", 800.0, D(2024, 1, 31), "commit"),
    (FIRST, "D6", "Qualification", 300.0, D(2024, 3, 10), "pipeline"),
    (FIRST, "D7", "Prospecting", 545.0, D(2024, 4, 20), "pipeline"),
    (FIRST, "D8", "Proposal", 800.0, D(2024, 2, 15), "best case"),
    (LAST, "D1", "Negotiation", 1090.0, D(2024, 3, 15), "commit"),
    (LAST, "D2", "Proposal", 855.0, D(2024, 3, 20), "best case"),
    (LAST, "D6", "Qualification", 300.0, D(2024, 5, 15), "pipeline"),
    (LAST, "D7", "Prospecting", 545.0, D(2024, 3, 29), "pipeline"),
    (LAST, "D8", "Proposal", 600.0, D(2024, 2, 15), "best case"),
]


@pytest.fixture
def con(fixture_con):
    c = fixture_con
    c.executemany(
        "INSERT INTO reps VALUES (?, ?, ?, ?, NULL)",
        [("R1", "Ann", "North", "Americas"), ("R2", "Bob", "North", "Northern Europe")],
    )
    c.execute("UPDATE order_lines SET rep_id = 'R2' WHERE order_id IN ('O2', 'O5')")
    c.execute(
        "INSERT INTO order_lines VALUES ('O0', 1, DATE '2023-12-29', 'C3', 'P2', 'R2', 'DE', "
        "'web', 'EUR', 4, 25, 0, 100, 100, 10)"
    )
    rollups.rebuild_sales_rollups(c)  # as a load does: the attainment reads rep_monthly
    c.executemany(
        "INSERT INTO quotas VALUES (?, ?, ?)",
        [
            ("R1", Q4.start, 500),
            ("R2", Q4.start, 500),
            ("R1", Q1.start, 1000),
            ("R2", Q1.start, 2000),
        ],
    )
    # Plan rates: 2024 USD 1.25 and GBP 0.80 for the year, GBP 0.88 for Q1 on its own.
    c.executemany(
        "INSERT INTO plan_rates (year, quarter, currency_code, units_per_eur) VALUES (?, ?, ?, ?)",
        [
            (2023, None, "USD", 1.10),
            (2023, None, "GBP", 0.85),
            (2024, None, "USD", 1.25),
            (2024, None, "GBP", 0.80),
            (2024, 1, "GBP", 0.88),
        ],
    )
    fx.insert_rates(c, [(LAST, "USD", 1.09), (LAST, "GBP", 0.855)], "test rates")
    fx.rebuild_fx_daily(c)
    c.executemany("INSERT INTO opportunities VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", DEALS)
    c.executemany("INSERT INTO opportunity_snapshots VALUES (?, ?, ?, ?, ?, ?)", SNAPSHOTS)
    c.executemany(
        "INSERT INTO activities VALUES (?, ?, ?, ?, ?)",
        [
            ("A1", "R1", "C1", D(2024, 1, 10), "meeting"),
            ("A2", "R1", "C1", D(2024, 1, 12), "call"),
            ("A3", "R1", "C4", D(2024, 2, 2), "demo"),
            ("A4", "R2", "C2", D(2024, 1, 15), "visit"),
        ],
    )
    return c


def test_attainment_ranks_and_rank_change(con):
    board = attainment.leaderboard(con, Q1, Q4, Scope(), basis="reported")
    assert board["rep_id"].tolist() == ["R1", "R2"]
    assert board["attainment"].tolist() == pytest.approx([R1_BOOKED / 1000, R2_BOOKED / 2000])
    # Last quarter R2 led (100 of 500 against nothing booked by R1): both moved one place.
    assert board["previous_rank"].tolist() == [2, 1]
    assert board["rank_change"].tolist() == [1, -1]
    assert board["previous_attainment"].tolist() == pytest.approx([0.0, 0.2])


def test_bands_rollups_and_trend(con):
    board = attainment.attainment(con, Q1, Scope(), basis="reported")
    # R1 at 81.7 %, R2 at 26.6 %.
    assert attainment.bands(board)["reps"].tolist() == [1, 1, 0, 0]
    assert attainment.bands(board)["share"].tolist() == [0.5, 0.5, 0.0, 0.0]
    north = attainment.rollup(board, "team").iloc[0]
    assert north["reps"] == 2
    assert north["attainment"] == pytest.approx((R1_BOOKED + R2_BOOKED) / 3000)
    trend = attainment.trend(con, [Q4, Q1], Scope(), basis="reported")
    assert trend["attainment"].tolist() == pytest.approx(
        [100 / 1000, (R1_BOOKED + R2_BOOKED) / 3000]
    )
    assert trend["reps_at_quota"].tolist() == [0, 0]


def test_attainment_at_plan_rates_by_default(con):
    # Q1 2024 at plan rates. R1: (450 + 300 - 60 + 109) USD / 1.25 + 100 EUR = 639.2 + 100
    # = 739.2 of 1000 (73.9 %; reported 81.7 %). R2: (200 + 240) GBP at Q1's own 0.88 (not
    # the year's 0.80) = 500 of 2000 (25.0 %; reported 26.6 %).
    board = attainment.attainment(con, Q1, Scope()).set_index("rep_id")
    assert board.loc["R1", "booked_eur"] == pytest.approx(739.2)
    assert board.loc["R2", "booked_eur"] == pytest.approx(500)
    assert board["attainment"].tolist() == pytest.approx([0.7392, 0.25])
    reported = attainment.attainment(con, Q1, Scope(), basis="reported").set_index("rep_id")
    assert reported["attainment"].tolist() == pytest.approx([R1_BOOKED / 1000, R2_BOOKED / 2000])
    # The Review's by-region figures are the same function: Americas is R1, N. Europe R2.
    regions = attainment.by_region(con, Q1, Scope(), "Total").set_index("region")
    assert regions["booked_eur"].to_dict() == pytest.approx(
        {"Americas": 739.2, "Northern Europe": 500, "Total": 1239.2}
    )
    view = attainment.attainment_view(con, Q1, Scope())
    assert view["basis"] == "plan"
    assert view["total"]["attainment"] == pytest.approx(1239.2 / 3000)
    assert view["trend"]["attainment"].tolist() == pytest.approx(
        [100 / 1000, 1239.2 / 3000]  # Q4 2023: R2's 100 EUR line
    )


def test_attainment_without_a_plan_rate_names_it(con):
    con.execute("DELETE FROM plan_rates WHERE year = 2024 AND currency_code = 'USD'")
    with pytest.raises(plan_rates.PlanRateMissing, match=r"No plan rate for USD in 2024"):
        attainment.attainment(con, Q1, Scope())
    with pytest.raises(ValueError, match="Unknown attainment basis"):
        attainment.attainment(con, Q1, Scope(), basis="constant")


def test_attainment_follows_the_region(con):
    board = attainment.attainment(con, Q1, Scope(regions=("Northern Europe",)))
    assert board["rep_id"].tolist() == ["R2"]
    ytd = attainment.attainment(
        con, Period(D(2024, 1, 1), Q1.end, "YTD"), Scope(), basis="reported"
    )
    assert ytd["booked_eur"].sum() == pytest.approx(R1_BOOKED + R2_BOOKED)


def test_deal_amounts_open_at_latest_rate_closed_at_close_date_rate(con):
    eur = deals.deals(con, Scope()).set_index("opportunity_id")["amount"]
    assert eur[["D1", "D2", "D7", "D8"]].tolist() == pytest.approx([1000, 1000, 500, 600])
    assert eur[["D3", "D4", "D5"]].tolist() == pytest.approx([500, 1200 / 1.20, 800 / 0.80])
    usd = deals.deals(con, Scope(currency="USD")).set_index("opportunity_id")["amount"]
    assert usd["D1"] == pytest.approx(1090)  # a USD deal stays its own amount
    assert usd["D5"] == pytest.approx(800 / 0.80 * 1.00)  # GBP -> EUR -> USD on 2024-01-09
    assert usd["D8"] == pytest.approx(600 * 1.09)


def test_win_rate_deal_size_cycle(con):
    stats = deals.closed_stats(deals.deals(con, Scope()), LAST)
    # Closed in the 12 months: D3 won 500, D5 won 1000, D4 lost 1000 (EUR at close dates).
    assert (stats["won"], stats["lost"]) == (2, 1)
    assert stats["win_rate"] == pytest.approx(2 / 3)
    assert stats["win_rate_value"] == pytest.approx(1500 / 2500)
    assert stats["average_deal"] == pytest.approx(750)
    assert stats["cycle_days"] == pytest.approx(
        (39 + 20) / 2
    )  # D3 Dec 1 -> Jan 9, D5 Dec 20 -> Jan 9


# Won in Q1 up to the 26 Jan snapshot, at that day's rates: D3 500 EUR, D5 800 GBP.
WON_AT_LAST = 500 + 800 / 0.855


def test_pipeline_rollup_as_at_a_snapshot(con):
    result = pipeline.rollup(con, Q1, LAST, Scope())
    # Open and due in Q1 in the 26 Jan snapshot: D1 commit 1000, D2 and D8 best case 1000 +
    # 600, D7 pipeline 500 (D6 is due in May); cumulative levels.
    assert (result["commit"], result["best_case"], result["pipeline"]) == pytest.approx(
        (1000, 2600, 3100)
    )
    assert result["deals"] == 4 and result["snapshot_date"] == LAST
    assert result["quota"] == pytest.approx(3000)
    assert result["won"] == pytest.approx(WON_AT_LAST)
    assert result["coverage"] == pytest.approx(3100 / (3000 - WON_AT_LAST))
    assert result["commit_share"] == pytest.approx(1000 / 3000)


def test_pipeline_rollup_at_an_earlier_snapshot_uses_that_days_rates(con):
    result = pipeline.rollup(con, Q1, FIRST, Scope())
    # 5 Jan (USD 1.10, GBP 0.86): commit D1, D3, D5; best case + D4, D8; pipeline + D6.
    commit = 1000 / 1.10 + 500 + 800 / 0.86
    best = commit + 1200 / 1.10 + 800
    assert (result["commit"], result["best_case"], result["pipeline"]) == pytest.approx(
        (commit, best, best + 300)
    )
    assert result["won"] == 0  # D3 and D5 were won on 9 Jan
    assert result["coverage"] == pytest.approx((best + 300) / 3000)


def test_pipeline_rollup_follows_region_and_currency(con):
    result = pipeline.rollup(con, Q1, LAST, Scope(regions=("Americas",), currency="USD"))
    # US deals in USD at face value: D1 commit 1090, D7 pipeline 545; R1's quota 1000 EUR.
    assert (result["commit"], result["best_case"], result["pipeline"]) == pytest.approx(
        (1090, 1090, 1635)
    )
    assert result["quota"] == pytest.approx(1090) and result["won"] == 0
    assert result["coverage"] == pytest.approx(1.5)


def test_omitted_deals_are_in_no_level(con):
    con.execute(
        "UPDATE opportunity_snapshots SET forecast_category = 'omitted' "
        "WHERE opportunity_id = 'D7' AND snapshot_date = ?",
        [LAST],
    )
    result = pipeline.rollup(con, Q1, LAST, Scope())
    assert result["pipeline"] == pytest.approx(2600) and result["deals"] == 3


def _rollup_by_deal(cur, quarter, snapshot, scope):
    """The roll-up's totals from its deals, one by one: snapshot_deals' rows summed per
    category, the won deals and the quota read on their own (the definition rollup's one
    query must reproduce)."""
    frame = pipeline.snapshot_deals(cur, quarter, snapshot, scope)
    by_category = frame.groupby("forecast_category")["amount"].sum()
    commit = by_category.get("commit", 0.0)
    best = commit + by_category.get("best case", 0.0)
    rates = dict(
        cur.execute(
            "SELECT c.currency_code, r.units_per_eur / c.units_per_eur FROM fx_daily c "
            "JOIN fx_daily r ON r.rate_date = c.rate_date AND r.currency_code = ? "
            "WHERE c.rate_date = ?",
            [scope.currency, snapshot],
        ).fetchall()
    )
    won_deals = cur.execute(
        "SELECT o.currency_code, o.amount_local, o.country_code FROM opportunities o "
        "WHERE o.status = 'won' AND o.close_date BETWEEN ? AND ?",
        [quarter.start, min(quarter.end, snapshot)],
    ).fetchall()
    regions = dict(cur.execute("SELECT country_code, region FROM countries").fetchall())
    won = sum(
        amount * rates[code]
        for code, amount, country in won_deals
        if code in rates
        and (not scope.regions or regions.get(country) in scope.regions)
        and (not scope.countries or country in scope.countries)
    )
    quota = cur.execute(
        "SELECT sum(q.quota_eur) FROM quotas q JOIN reps r USING (rep_id) "
        "WHERE q.quarter_start = ? AND (len(?::VARCHAR[]) = 0 OR list_contains(?, r.region))",
        [quarter.start, list(scope.regions), list(scope.regions)],
    ).fetchone()[0]
    return {
        "commit": commit,
        "best_case": best,
        "pipeline": best + by_category.get("pipeline", 0.0),
        "deals": len(frame),
        "won": won,
        "quota": None if quota is None else quota * rates["EUR"],
    }


@pytest.mark.parametrize(
    "snapshot, scope",
    [
        (LAST, Scope()),
        (FIRST, Scope()),
        (LAST, Scope(regions=("Americas",), currency="USD")),
        (FIRST, Scope(regions=("Northern Europe",), currency="GBP")),
        (LAST, Scope(countries=("GB",))),
    ],
)
def test_pipeline_rollup_in_one_query_is_the_deal_by_deal_definition(con, snapshot, scope):
    seen = []
    real = db._run

    def counting(cur, sql, *args, **kwargs):
        seen.append(sql)
        return real(cur, sql, *args, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(db, "_run", counting)
        result = pipeline.rollup(con, Q1, snapshot, scope)
    assert len(seen) == 1  # every deal has a rate: no second query to name the left-out ones
    expected = _rollup_by_deal(con, Q1, snapshot, scope)
    assert {k: result[k] for k in expected} == pytest.approx(expected, rel=1e-12)


def test_pipeline_rollup_needs_the_snapshot_days_rate(con):
    with pytest.raises(fx.RateUnavailable, match="CHF"):
        pipeline.rollup(con, Q1, LAST, Scope(currency="CHF"))  # CHF stops after 5 Jan


def test_coverage_has_no_value_once_quota_is_met():
    assert np.isnan(pipeline.coverage(3100, 1500, 1500))
    assert np.isnan(pipeline.coverage(3100, None, 0))
    assert pipeline.coverage(3100, 3000, 1500) == pytest.approx(3100 / 1500)


def test_pipeline_view_summaries_are_the_rollup_with_velocity(con):
    view = deals.pipeline_view(con, Scope())
    summary = view["summaries"][0]
    assert summary == pytest.approx(
        pipeline.rollup(con, Q1, LAST, Scope()) | {"velocity_per_day": summary["velocity_per_day"]}
    )
    assert summary["velocity_per_day"] == pytest.approx(4 * 750 * (2 / 3) / 29.5)
    assert "26 Jan 2024" in view["rate_rule"]
    funnel = view["funnels"][0].set_index("stage")
    assert funnel["amount"].sum() == pytest.approx(summary["pipeline"])


def test_funnel_and_stage_conversion(con):
    frame = deals.deals(con, Scope())
    history = deals.stage_history(con, Scope())
    conversion = deals.stage_conversion(frame, history, deals.closed_stats(frame, LAST))
    table = deals.funnel(frame, conversion, Q1).set_index("stage")
    assert table["deals"].tolist() == [1, 0, 2, 1]
    assert table["amount"].tolist() == pytest.approx([500, 0, 1600, 1000])
    # Closed deals: D3 and D5 won (reached every stage), D4 lost in Proposal.
    assert table["reached"].tolist() == [3, 3, 3, 2]
    assert table["conversion"].tolist() == pytest.approx([1, 1, 2 / 3, 1])


def test_stuck_deals(con):
    frame = deals.deals(con, Scope())
    stuck = deals.stuck_deals(frame, deals.stage_history(con, Scope()), LAST)
    # Proposal weeks: D1 1, D4 1, D2 1, D8 2 -> 8.75 days on average; D8 has sat there 21.
    assert stuck["opportunity_id"].tolist() == ["D8"]
    assert stuck["days_in_stage"].tolist() == [21]
    assert stuck["stage_average_days"].tolist() == pytest.approx([8.75])


def test_pipeline_changes_reconcile_step_by_step(con):
    steps, details = changes.pipeline_changes(con, FIRST, LAST, Q1, Scope())
    amounts = dict(zip(steps["step"], steps["amount"], strict=True))
    start = 1000 / 1.09 + 500 + 1200 / 1.09 + 800 / 0.855 + 300 + 800
    assert amounts == pytest.approx(
        {
            "start": start,
            "created": 1000,  # D2
            "pulled in": 500,  # D7, due in April before
            "pushed out": -300,  # D6, now due in May
            "amount up": 90 / 1.09,  # D1
            "amount down": -200,  # D8
            "won": -500 - 800 / 0.855,  # D3, D5
            "lost": -1200 / 1.09,  # D4
            "end": 3100,
        }
    )
    assert sum(steps["amount"].iloc[:-1]) == pytest.approx(steps["amount"].iloc[-1], abs=1e-9)
    by_step = details.groupby("step")["opportunity_id"].apply(sorted).to_dict()
    assert by_step == {
        "amount down": ["D8"],
        "amount up": ["D1"],
        "created": ["D2"],
        "lost": ["D4"],
        "pulled in": ["D7"],
        "pushed out": ["D6"],
        "won": ["D3", "D5"],
    }


def test_pipeline_changes_follow_currency_and_region(con):
    steps, _ = changes.pipeline_changes(
        con, FIRST, LAST, Q1, Scope(regions=("Americas",), currency="USD")
    )
    amounts = dict(zip(steps["step"], steps["amount"], strict=True))
    # US deals only, in USD at face value: D1 1000 -> 1090, D4 lost, D7 pulled in.
    assert amounts["start"] == pytest.approx(2200)
    assert amounts["amount up"] == pytest.approx(90)
    assert amounts["lost"] == pytest.approx(-1200)
    assert amounts["pulled in"] == pytest.approx(545)
    assert amounts["end"] == pytest.approx(1635)
    assert amounts["created"] == amounts["won"] == 0


def test_forecast_view_is_the_rollup_at_the_quarters_last_snapshot(con):
    view = forecast.forecast_view(con, Q1, Scope())
    rollup = pipeline.rollup(con, Q1, LAST, Scope())
    assert {k: view["forecast"][k] for k in rollup} == pytest.approx(rollup)
    assert view["forecast"]["won"] == pytest.approx(WON_AT_LAST)
    assert forecast.forecast_view(con, Q4, Scope())["forecast"] is None  # no snapshot yet


def test_forecast_offers_the_quarter_in_progress_with_closed_plus_commit(con):
    # As of 26 Jan 2024, Q1 2024 is in progress: offered before the finished Q4 2023.
    assert forecast.forecast_quarters(con, [Q4]) == [Q1, Q4]
    assert forecast.forecast_quarters(con, [Q1, Q4]) == [Q1, Q4]
    result = forecast.forecast_view(con, Q1, Scope())["forecast"]
    assert result["closed_commit"] == pytest.approx(WON_AT_LAST + result["commit"])
    assert result["closed_commit_share"] == pytest.approx((WON_AT_LAST + result["commit"]) / 3000)


def test_a_quarter_ended_on_the_as_of_day_is_not_in_progress(con):
    # A deal won on 31 Mar moves "now" to the last day of Q1: Q1 is over, Q2 is in progress,
    # and the Pipeline view starts there instead of at a finished quarter with no open deal.
    con.execute(
        "UPDATE opportunities SET status = 'won', close_date = DATE '2024-03-31' "
        "WHERE opportunity_id = 'D8'"
    )
    q2, q3 = quarter(D(2024, 4, 1)), quarter(D(2024, 7, 1))
    assert forecast.forecast_quarters(con, [Q1, Q4]) == [q2, Q1, Q4]
    assert [q.label for q in deals.pipeline_view(con, Scope())["quarters"]] == [q2.label, q3.label]


def test_forecast_accuracy_and_commit_conversion(con):
    table = forecast.forecast_accuracy(con, [Q4, Q1], 0, Scope())
    # No snapshot in 2023Q4. 2024Q1 at the first snapshot (Jan 5, USD 1.10, GBP 0.86):
    # commit D1 1000 USD, D3 500 EUR, D5 800 GBP; won D3 500 + D5 800 GBP at 0.80 = 1500,
    # both on 9 Jan, after the snapshot, so the call (closed + commit) is the commit alone.
    assert table["quarter"].tolist() == [Q1.label]
    commit = 1000 / 1.10 + 500 + 800 / 0.86  # 909.09 + 500 + 930.23 = 2339.32
    assert table["commit_eur"].tolist() == pytest.approx([commit])
    assert table["won_by_snapshot_eur"].tolist() == [0]
    assert table["forecast_eur"].tolist() == pytest.approx([commit])
    assert table["won_eur"].tolist() == pytest.approx([1500])
    assert table["commit_conversion"].tolist() == pytest.approx([1500 / commit])  # 64.1 %
    # 1 - |2339.32 - 1500| / 1500 = 1 - 0.55955 = 44.0 %
    assert table["accuracy"].tolist() == pytest.approx([0.44045], abs=1e-5)

    # Week 3 reads the 26 Jan snapshot: D3 and D5 are won by then (500 + 800 / 0.80 = 1500
    # EUR), D1 is still in commit at 1090 USD / 1.09 = 1000 EUR. A call of 2500 against
    # 1500 won: accuracy 1 - 1000 / 1500 = 33.3 %, commit conversion 1500 / 1000 = 150 %.
    later = forecast.forecast_accuracy(con, [Q1], 3, Scope()).iloc[0]
    assert later["snapshot"] == LAST
    assert later["won_by_snapshot_eur"] == pytest.approx(1500)
    assert later["commit_eur"] == pytest.approx(1000)
    assert later["forecast_eur"] == pytest.approx(2500)
    assert later["accuracy"] == pytest.approx(1 / 3)
    assert later["commit_conversion"] == pytest.approx(1.5)


def test_forecast_accuracy_is_symmetric_and_needs_an_actual():
    assert metrics.forecast_accuracy(120.0, 100.0) == pytest.approx(0.8)
    assert metrics.forecast_accuracy(80.0, 100.0) == pytest.approx(0.8)
    assert metrics.forecast_accuracy(100.0, 100.0) == 1
    assert metrics.forecast_accuracy(250.0, 100.0) == pytest.approx(-0.5)
    assert np.isnan(metrics.forecast_accuracy(50.0, 0.0))


def test_activity_impact_per_rep_and_account(con):
    by_rep = activity.activity_impact(con, Q1, Scope(), "rep").set_index("key")
    assert by_rep.loc["R1", ["activities", "meetings"]].tolist() == [3, 2]
    assert by_rep.loc["R2", ["activities", "meetings"]].tolist() == [1, 1]
    assert by_rep["revenue"].to_dict() == pytest.approx({"R1": R1_BOOKED, "R2": R2_BOOKED})
    assert by_rep["pipeline"].to_dict() == pytest.approx({"R1": 1500, "R2": 1900})
    by_account = activity.activity_impact(con, Q1, Scope(), "account").set_index("key")
    assert by_account.loc["C1", "activities"] == 2
    assert by_account.loc["C1", "pipeline"] == pytest.approx(1000)
    assert by_account.loc["C1", "name"] == "Acme Inc"


def test_rep_view(con):
    view = rep.rep_view(con, Q1, Scope(), "R2")
    # At plan rates (the default): 440 GBP at Q1 2024's 0.88 = 500 of 2000.
    assert view["attainment"]["attainment"] == pytest.approx(500 / 2000)
    assert view["basis"] == "plan"
    assert sorted(view["deals"]["opportunity_id"]) == ["D2", "D5", "D6", "D8"]
    slipped = view["slipped"]
    assert slipped["opportunity_id"].tolist() == ["D6"]
    assert (slipped.iloc[0]["was_due"], slipped.iloc[0]["now_due"]) == (
        pd.Timestamp(2024, 3, 10),
        pd.Timestamp(2024, 5, 15),
    )
    assert view["activities"].to_dict("records") == [
        {"type": "visit", "activities": 1, "accounts": 1}
    ]
    assert rep.rep_view(con, Q1, Scope(), "R1")["slipped"].empty


def test_pipeline_view_for_the_latest_snapshot(con):
    view = deals.pipeline_view(con, Scope())
    assert view["as_of"] == LAST
    assert [q.label for q in view["quarters"]] == [Q1.label, quarter(D(2024, 4, 1)).label]
    assert view["summaries"][1]["pipeline"] == pytest.approx(300)  # D6, pushed into Q2


def test_the_pipeline_does_not_move_when_a_deal_changes_after_the_snapshot(con):
    before = pipeline.rollup(con, Q1, LAST, Scope())
    con.execute(
        "UPDATE opportunities SET status = 'won', close_date = DATE '2024-01-30' "
        "WHERE opportunity_id = 'D8'"
    )
    view = deals.pipeline_view(con, Scope())
    # Deal statistics move to now (the 30 Jan close), the pipeline stays as at 26 Jan.
    assert (view["as_of"], view["snapshot"]) == (D(2024, 1, 30), LAST)
    assert view["stats"]["won"] == 3
    assert pipeline.rollup(con, Q1, LAST, Scope()) == pytest.approx(before)
    assert view["summaries"][0]["pipeline"] == pytest.approx(3100)


def test_empty_store_has_no_pipeline(fixture_con):
    assert deals.pipeline_view(fixture_con, Scope()) == {}
    assert attainment.attainment(fixture_con, Q1, Scope()).empty


def test_leaderboard_carries_year_to_date_attainment(con):
    con.execute("INSERT INTO quotas VALUES ('R1', DATE '2024-04-01', 1000)")
    view = attainment.attainment_view(con, quarter(D(2024, 4, 1)), Scope(), basis="reported")
    board = view["leaderboard"]
    # Q2: only R1 has a quota and booked nothing; year to date: Q1 + Q2 bookings and quotas.
    assert board["rep_id"].tolist() == ["R1"]
    assert board["attainment"].tolist() == [0.0]
    assert board["ytd_attainment"].tolist() == pytest.approx([R1_BOOKED / 2000])
    assert view["trend"]["quarter"].tolist() == [Q4.label, Q1.label, "Q2 2024"]
