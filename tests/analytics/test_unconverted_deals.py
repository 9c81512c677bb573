"""Team & pipeline name the deals they cannot convert instead of dropping them silently
(issue 11, item 7), on test_team's fixture plus two deals in francs:

    deal  rep  ccy  amount  status  created     close       in the snapshots
    D9    R1   CHF   700    open    2023-12-01  2024-03-01  commit, 5 Jan and 26 Jan
    D10   R2   CHF   400    won     2023-12-01  2024-01-20  -

CHF has rates up to 5 Jan only (0.95 that day), so on 26 Jan, and at the latest rates, no
franc converts: the figures are the fixture's own, and the captions name D9 and D10.
"""

from __future__ import annotations

import datetime as dt

import pytest
from test_team import FIRST, LAST, Q1, WON_AT_LAST, con  # noqa: F401  (con: the fixture)

from analytics.crm import changes, deals, forecast, pipeline
from analytics.crm.scope import Scope

D = dt.date
NAMED = "D9 (Acme Inc, CHF 700.00), D10 (Brit Ltd, CHF 400.00, won)"


@pytest.fixture
def with_francs(con):  # noqa: F811
    con.executemany(
        "INSERT INTO opportunities VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (
                "D9",
                "C1",
                "R1",
                "US",
                "CHF",
                700.0,
                "Proposal",
                "commit",
                D(2023, 12, 1),
                D(2024, 3, 1),
                "open",
            ),
            (
                "D10",
                "C2",
                "R2",
                "GB",
                "CHF",
                400.0,
                "Closed Won",
                "commit",
                D(2023, 12, 1),
                D(2024, 1, 20),
                "won",
            ),
        ],
    )
    con.executemany(
        "INSERT INTO opportunity_snapshots VALUES (?, ?, ?, ?, ?, ?)",
        [(day, "D9", "Proposal", 700.0, D(2024, 3, 1), "commit") for day in (FIRST, LAST)],
    )
    return con


def test_the_rollup_leaves_them_out_and_names_them(with_francs):
    result = pipeline.rollup(with_francs, Q1, LAST, Scope())
    # The fixture's own figures (test_team): D9 and D10 are in none of them.
    assert (result["commit"], result["best_case"], result["pipeline"]) == pytest.approx(
        (1000, 2600, 3100)
    )
    assert result["deals"] == 4 and result["won"] == pytest.approx(WON_AT_LAST)
    assert result["unconverted_note"] == (
        " Not included: 2 deals in CHF, with no ECB rate on 26 Jan 2024: " + NAMED + ". "
        "Fetch newer rates or import a rates file on the Data page to count them."
    )
    left_out = pipeline.unconverted_deals(with_francs, Q1, LAST, Scope())
    assert left_out[["opportunity_id", "currency_code", "amount_local", "status"]].to_dict(
        "records"
    ) == [
        {"opportunity_id": "D9", "currency_code": "CHF", "amount_local": 700.0, "status": "open"},
        {"opportunity_id": "D10", "currency_code": "CHF", "amount_local": 400.0, "status": "won"},
    ]


def test_on_a_day_with_the_rate_they_count(with_francs):
    before = pipeline.rollup(with_francs, Q1, FIRST, Scope())
    # 5 Jan (CHF 0.95): D9 is in commit; test_team's commit that day plus 700 / 0.95.
    commit = 1000 / 1.10 + 500 + 800 / 0.86
    assert before["commit"] == pytest.approx(commit + 700 / 0.95)
    assert before["unconverted_note"] == ""


def test_a_reporting_currency_without_a_rate_still_raises(with_francs):
    from analytics.fx import RateUnavailable

    with pytest.raises(RateUnavailable, match="CHF"):
        pipeline.rollup(with_francs, Q1, LAST, Scope(currency="CHF"))
    assert pipeline.unconverted_deals(with_francs, Q1, LAST, Scope(currency="CHF")).empty


def test_team_pipeline_and_forecast_captions_name_them(with_francs):
    view = deals.pipeline_view(with_francs, Scope())
    assert NAMED in view["rate_rule"]
    assert view["unconverted"]["opportunity_id"].tolist() == ["D9", "D10"]
    assert view["summaries"][0]["pipeline"] == pytest.approx(3100)
    shown = forecast.forecast_view(with_francs, Q1, Scope())
    assert shown["rate_rule"].startswith(pipeline.rate_rule(LAST)) and NAMED in shown["rate_rule"]


def test_the_waterfall_is_unchanged_and_lists_them(con, with_francs):  # noqa: F811
    steps, details = changes.pipeline_changes(with_francs, FIRST, LAST, Q1, Scope())
    # test_team's waterfall, bar for bar: D9 converts at the latest rate, which CHF lacks.
    assert steps["amount"].iloc[-1] == pytest.approx(3100)
    assert steps["amount"].iloc[0] == pytest.approx(
        1000 / 1.09 + 500 + 1200 / 1.09 + 800 / 0.855 + 300 + 800
    )
    left_out = details[details["step"] == "not converted"]
    assert left_out[["opportunity_id", "amount_local", "currency_code"]].values.tolist() == [
        ["D9", 700.0, "CHF"]
    ]
    assert left_out["amount"].isna().all()
