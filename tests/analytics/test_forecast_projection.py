"""The pipeline projection and the forecast's figures in the reporting currency, worked out
by hand on a tiny store.

Projection snapshot S = Mon 6 Apr 2026 (Q2 2026; next quarter Q3). Deals in EUR, DE unless
said otherwise. History (snapshot: stage, due date -> outcome):

    H1  5 Jan, 2 Feb: Proposal, due 15 Mar        -> won 10 Mar (in its due quarter)
    H2  5 Jan: Proposal, due 20 Feb               -> lost 25 Feb
    H3  5 Jan: Proposal, due 20 Mar, 400 EUR      -> won 2 Apr (slipped into Q2)
    H4  2 Feb: Proposal, due 10 May               -> won 30 Mar (due quarter not over at S)
    H5  1 Dec 2025: Proposal, due 10 Feb (h = 1)  -> won 5 Feb
    H6  1 Dec 2025 (h = 1), 5 Jan (h = 0): Negotiation, due 1 Mar -> won 1 Mar
    H8  2 Mar: Proposal, due 25 Mar; in S still open, due 20 Apr, 100 EUR -> won 20 Apr,
        after S: not known at S, so not in the history but one of S's open deals

Proposal deal-weeks closed by S: H1 x2, H2, H3, H4, H5 = 6, won 5: P(win) = 5/6.
Won and due in the snapshot's quarter (h = 0), due quarter over: H1 x2, H3; in it: H1 x2 = 2/3.
h = 1: H5, in its quarter: 1/1. Negotiation: P(win) 1, in quarter 1 at h = 0 and h = 1.

Open in S: O1 Proposal due 15 May 1000 (best case), O2 Negotiation due 10 Jun 500 (commit),
O3 Proposal due 1 Aug 2000 (pipeline), O4 Proposal due 20 May 700 (omitted: left out),
O5 FR Prospecting due 1 May 300 (a stage with no history).

Q2: won to date 400 (H3) + (1000 + 100) x 5/6 x 2/3 + 500 x 1 x 1; commit 400 + 500.
Q3: 2000 x 5/6 x 1; commit 0.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import numpy as np
import pytest

from analytics import fx, store
from analytics.crm.scope import Scope
from analytics.forecast import batch, figures, landing, projection
from analytics.forecast.series import MonthlySeries, Window
from analytics.periods import quarter

D = dt.date
S = D(2026, 4, 6)

DEALS = [
    # id, country, amount, stage now, category now, created, close date, status
    ("H1", "DE", 100.0, "Closed Won", "commit", D(2025, 12, 1), D(2026, 3, 10), "won"),
    ("H2", "DE", 100.0, "Closed Lost", "omitted", D(2025, 12, 1), D(2026, 2, 25), "lost"),
    ("H3", "DE", 400.0, "Closed Won", "commit", D(2025, 12, 1), D(2026, 4, 2), "won"),
    ("H4", "DE", 100.0, "Closed Won", "commit", D(2025, 12, 1), D(2026, 3, 30), "won"),
    ("H5", "DE", 100.0, "Closed Won", "commit", D(2025, 11, 1), D(2026, 2, 5), "won"),
    ("H6", "DE", 100.0, "Closed Won", "commit", D(2025, 11, 1), D(2026, 3, 1), "won"),
    ("H8", "DE", 100.0, "Closed Won", "commit", D(2026, 2, 1), D(2026, 4, 20), "won"),
    ("O1", "DE", 1000.0, "Proposal", "best case", D(2026, 3, 1), D(2026, 5, 15), "open"),
    ("O2", "DE", 500.0, "Negotiation", "commit", D(2026, 3, 1), D(2026, 6, 10), "open"),
    ("O3", "DE", 2000.0, "Proposal", "pipeline", D(2026, 3, 1), D(2026, 8, 1), "open"),
    ("O4", "DE", 700.0, "Proposal", "omitted", D(2026, 3, 1), D(2026, 5, 20), "open"),
    ("O5", "FR", 300.0, "Prospecting", "pipeline", D(2026, 3, 1), D(2026, 5, 1), "open"),
]
SNAPSHOTS = [
    # snapshot, id, stage, due
    (D(2026, 1, 5), "H1", "Proposal", D(2026, 3, 15)),
    (D(2026, 2, 2), "H1", "Proposal", D(2026, 3, 15)),
    (D(2026, 1, 5), "H2", "Proposal", D(2026, 2, 20)),
    (D(2026, 1, 5), "H3", "Proposal", D(2026, 3, 20)),
    (D(2026, 2, 2), "H4", "Proposal", D(2026, 5, 10)),
    (D(2025, 12, 1), "H5", "Proposal", D(2026, 2, 10)),
    (D(2025, 12, 1), "H6", "Negotiation", D(2026, 3, 1)),
    (D(2026, 1, 5), "H6", "Negotiation", D(2026, 3, 1)),
    (D(2026, 3, 2), "H8", "Proposal", D(2026, 3, 25)),
    (S, "O1", "Proposal", D(2026, 5, 15)),
    (S, "O2", "Negotiation", D(2026, 6, 10)),
    (S, "O3", "Proposal", D(2026, 8, 1)),
    (S, "O4", "Proposal", D(2026, 5, 20)),
    (S, "O5", "Prospecting", D(2026, 5, 1)),
    (S, "H8", "Proposal", D(2026, 4, 20)),
]


@pytest.fixture(scope="module")
def cur(tmp_path_factory):
    con = duckdb.connect(str(tmp_path_factory.mktemp("projection") / "p.duckdb"))
    store.create_schema(con)
    con.executemany(
        "INSERT INTO countries VALUES (?, ?, ?, ?, ?, ?)",
        [
            ("DE", "DEU", "Germany", "Western Europe", "DACH", "EUR"),
            ("FR", "FRA", "France", "Western Europe", "France", "EUR"),
        ],
    )
    con.execute("INSERT INTO customers VALUES ('C1', 'Kunde', 'DE', 'direct', NULL)")
    con.execute("INSERT INTO reps VALUES ('R1', 'Rep', 'Team', 'Western Europe', NULL)")
    by_id = {d[0]: d for d in DEALS}
    con.executemany(
        "INSERT INTO opportunities VALUES (?, 'C1', 'R1', ?, 'EUR', ?, ?, ?, ?, ?, ?)",
        [list(d) for d in DEALS],
    )
    con.executemany(
        "INSERT INTO opportunity_snapshots VALUES (?, ?, ?, ?, ?, ?)",
        [
            (day, i, stage, by_id[i][2], due, "omitted" if i == "O4" else "pipeline")
            for day, i, stage, due in SNAPSHOTS
        ],
    )
    # O1 and O2's categories in S, as in DEALS (the roll-up reads them from the snapshot).
    con.execute(
        "UPDATE opportunity_snapshots SET forecast_category = 'best case' "
        "WHERE opportunity_id = 'O1'"
    )
    con.execute(
        "UPDATE opportunity_snapshots SET forecast_category = 'commit' WHERE opportunity_id = 'O2'"
    )
    rates, day = [], D(2025, 11, 3)
    while day <= D(2026, 5, 1):
        rates.append((day, "USD", 1.25 if day >= D(2026, 4, 1) else 1.1))
        day += dt.timedelta(days=1)
    fx.insert_rates(con, rates, "test rates")
    fx.rebuild_fx_daily(con)
    yield con.cursor()
    con.close()


def test_stage_rates_by_hand(cur):
    rates = projection.stage_rates(cur, S, Scope()).set_index("stage")
    proposal, negotiation = rates.loc["Proposal"], rates.loc["Negotiation"]
    assert (proposal["closed_weeks"], proposal["won_weeks"]) == (6, 5)
    assert proposal["p_win"] == pytest.approx(5 / 6)
    assert (proposal["due_weeks_0"], proposal["in_quarter_weeks_0"]) == (3, 2)
    assert proposal["p_in_quarter_0"] == pytest.approx(2 / 3)
    assert proposal["p_in_quarter_1"] == pytest.approx(1.0)
    assert negotiation["p_win"] == 1.0 and negotiation["p_in_quarter_0"] == 1.0
    assert np.isnan(rates.loc["Prospecting", "p_win"])  # no deal ever seen there


def test_projection_of_this_and_next_quarter_by_hand(cur):
    _, (q2, q3) = projection.project(cur, S, Scope())
    assert (q2.quarter.label, q2.horizon, q3.quarter.label, q3.horizon) == (
        "Q2 2026",
        0,
        "Q3 2026",
        1,
    )
    # O4 is omitted; O5 is in FR but in scope (no filter), Prospecting unmeasured.
    assert q2.unmeasured_stages == ("Prospecting",) and q2.expected_won is None
    de = Scope(countries=("DE",))
    _, (q2, q3) = projection.project(cur, S, de)
    assert q2.won_to_date == pytest.approx(400.0)
    assert q2.open_deals == 3 and q2.open_amount == pytest.approx(1600.0)
    assert q2.expected_won == pytest.approx(400 + 1100 * 5 / 6 * 2 / 3 + 500)
    assert q2.commit == pytest.approx(900.0)
    assert q3.expected_won == pytest.approx(2000 * 5 / 6)
    assert q3.commit == pytest.approx(0.0) and q3.won_to_date == 0.0


def test_projection_in_another_currency_is_at_the_snapshot_rate(cur):
    _, (q2, _) = projection.project(cur, S, Scope(countries=("DE",), currency="USD"))
    assert q2.expected_won == pytest.approx((400 + 1100 * 5 / 6 * 2 / 3 + 500) * 1.25)


def constant_forecast(months: int) -> batch.SeriesForecast:
    """Seasonal naive over `months` months of 100 from Jan 2024: it forecasts 100 a month."""
    history = MonthlySeries("total", "Total", D(2024, 1, 1), np.full(months, 100.0))
    last = history.month(months - 1)
    window = Window(as_of=last.replace(day=28), first_month=history.start, last_month=last)
    return batch.forecast_series(history, window, months=6, repetitions=50)


def test_statistical_forecast_of_a_quarter():
    item = constant_forecast(26)  # history to Feb 2026
    assert projection.quarter_forecast(item, quarter(D(2026, 1, 1))) == (300.0, 1)
    assert projection.quarter_forecast(item, quarter(D(2026, 4, 1))) == (300.0, 3)
    assert projection.quarter_forecast(item, quarter(D(2025, 10, 1))) == (300.0, 0)
    assert projection.quarter_forecast(item, quarter(D(2026, 10, 1))) is None  # beyond 6 months


def test_three_lines_side_by_side(cur):
    _, quarters = projection.project(cur, S, Scope(countries=("DE",)))
    item = constant_forecast(24)  # history to Dec 2025: Q2 all forecast, Q3 beyond 6 months
    frame = projection.comparison(quarters, item, eur_rate=2.0)
    assert list(frame["quarter"]) == ["Q2 2026", "Q3 2026"]
    assert frame["statistical_forecast"].iloc[0] == pytest.approx(600.0)
    assert np.isnan(frame["statistical_forecast"].iloc[1])
    assert frame["reps_commit"].tolist() == pytest.approx([900.0, 0.0])
    assert frame["pipeline_projection"].iloc[1] == pytest.approx(2000 * 5 / 6)


def test_figures_in_the_reporting_currency(cur):
    shown = figures.shown_in(cur, "USD", D(2026, 4, 2))
    assert (shown.rate, shown.rate_date) == (1.25, D(2026, 4, 2))
    assert "1.2500 USD per EUR" in shown.note() and "02 Apr 2026" in shown.note()
    assert figures.shown_in(cur, "EUR", D(2026, 4, 2)).note().endswith("shown in EUR.")
    item = constant_forecast(26)
    frame = figures.series_frame(item, 3, shown)
    assert len(frame) == 29 and frame["actual"].iloc[0] == pytest.approx(125.0)
    assert frame["forecast"].tail(3).tolist() == pytest.approx([125.0] * 3)
    assert frame["forecast"].head(26).isna().all() and frame["actual"].tail(3).isna().all()
    made = landing.Landing(
        "region", "Western Europe", 2026, 2, 200.0, 10, 1000.0, 1200.0,
        {"lo80": 1100.0, "hi80": 1300.0, "lo95": 1000.0, "hi95": 1400.0}, 1000.0,
    )  # fmt: skip
    row = figures.landing_frame([made], shown).iloc[0]
    assert row["landing"] == pytest.approx(1500.0) and row["budget"] == pytest.approx(1250.0)
    assert row["versus_budget"] == pytest.approx(250.0)
    assert row["versus_budget_pct"] == pytest.approx(0.2)
    assert row["lo95"] == pytest.approx(1250.0)
