"""The forecast of a quarter (the pipeline roll-up as at its latest snapshot) and how
accurate past quarters' calls (closed + commit) were, beside their commit conversion."""

from __future__ import annotations

import datetime as dt

import duckdb
import pandas as pd

from analytics import db, metrics, periods
from analytics.crm import pipeline
from analytics.crm.scope import (
    Scope,
    deal_condition,
    quarter_in_progress,
    snapshot_on_or_before,
)
from analytics.periods import Period, add_months

ACCURACY_COLUMNS = [
    "quarter",
    "snapshot",
    "won_by_snapshot_eur",
    "commit_eur",
    "forecast_eur",
    "won_eur",
    "commit_conversion",
    "accuracy",
]


def forecast_accuracy(
    cur: duckdb.DuckDBPyConnection, quarters: list[Period], week: int, scope: Scope
) -> pd.DataFrame:
    """For each past quarter, the call made at the snapshot `week` weeks into it against
    what was won in it. The call (forecast) is closed + commit: won in the quarter up to the
    snapshot plus the open deals due in it that were in commit; accuracy is the standard
    1 - |forecast - won| / won (metrics.forecast_accuracy), and commit conversion is won /
    commit (above 100 % when best-case and pipeline deals were won too). All in EUR (commit
    at the snapshot's rate, won at the close date's), so neither depends on the reporting
    currency. Grain: one row per quarter with a snapshot."""
    if not quarters:
        return pd.DataFrame([], columns=ACCURACY_COLUMNS)
    condition, params = deal_condition(scope)
    bounds = {}
    for i, quarter in enumerate(quarters):
        bounds |= {
            f"start_{i}": quarter.start,
            f"end_{i}": quarter.end,
            f"target_{i}": quarter.start + dt.timedelta(weeks=week),
        }
    values = ", ".join(f"({i}, $start_{i}, $end_{i}, $target_{i})" for i in range(len(quarters)))
    # Every quarter in one statement. A quarter is shown when its chosen snapshot (the first
    # on or after the target day) holds a commit deal due in it with a rate that day.
    found = db.query_rows(
        cur,
        f"""
        WITH quarters(i, q_start, q_end, target) AS (VALUES {values}),
        days AS (SELECT DISTINCT snapshot_date AS day FROM opportunity_snapshots),
        chosen AS (
            SELECT t.i, t.q_start, t.q_end, min(d.day) AS day
            FROM quarters t JOIN days d ON d.day >= t.target AND d.day <= t.q_end
            GROUP BY ALL
        ),
        called AS (
            SELECT c.i, sum(s.amount_local / f.units_per_eur) AS commit_eur
            FROM chosen c JOIN opportunity_snapshots s ON s.snapshot_date = c.day
            JOIN opportunities o USING (opportunity_id)
            JOIN fx_daily f ON f.rate_date = s.snapshot_date AND f.currency_code = o.currency_code
            WHERE s.close_date BETWEEN c.q_start AND c.q_end AND s.forecast_category = 'commit'
              AND {condition}
            GROUP BY c.i
        ),
        won AS (
            SELECT c.i, sum(o.amount_local / f.units_per_eur) AS won_eur,
                   sum(o.amount_local / f.units_per_eur) FILTER (WHERE o.close_date <= c.day)
                       AS won_by_snapshot_eur
            FROM chosen c JOIN opportunities o ON o.close_date BETWEEN c.q_start AND c.q_end
            JOIN fx_daily f ON f.rate_date = o.close_date AND f.currency_code = o.currency_code
            WHERE o.status = 'won' AND {condition}
            GROUP BY c.i
        )
        SELECT c.i, c.day, called.commit_eur, won.won_eur, won.won_by_snapshot_eur
        FROM chosen c JOIN called USING (i) LEFT JOIN won USING (i)
        ORDER BY c.i
        """,
        params | bounds,
    )
    rows = []
    for i, snapshot, commit, won, won_by_snapshot in found:
        commit, won, won_by_snapshot = commit or 0.0, won or 0.0, won_by_snapshot or 0.0
        called = won_by_snapshot + commit
        rows.append(
            {
                "quarter": quarters[i].label,
                "snapshot": snapshot,
                "won_by_snapshot_eur": won_by_snapshot,
                "commit_eur": commit,
                "forecast_eur": called,
                "won_eur": won,
                "commit_conversion": metrics.ratio(won, commit),
                "accuracy": metrics.forecast_accuracy(called, won),
            }
        )
    return pd.DataFrame(rows, columns=ACCURACY_COLUMNS)


def forecast_quarters(cur: duckdb.DuckDBPyConnection, finished: list[Period]) -> list[Period]:
    """The quarters a forecast can be looked at for: the one in progress, then the finished
    ones (newest first)."""
    current = quarter_in_progress(cur)
    if current is None or current in finished:
        return finished
    return [current, *finished]


def forecast_view(
    cur: duckdb.DuckDBPyConnection, quarter: Period, scope: Scope, week: int = 4
) -> dict:
    """The quarter's roll-up as at its latest snapshot (the quarter's last, or the latest
    one for a quarter in progress), and accuracy over the eight quarters before."""
    snapshot = snapshot_on_or_before(cur, quarter.end)
    past = [periods.quarter(add_months(quarter.start, -3 * i)) for i in range(8, 0, -1)]
    result = pipeline.rollup(cur, quarter, snapshot, scope) if snapshot else None
    if result is not None:
        # Where the quarter lands if every commit deal closes: what is won plus what is
        # committed (open deals only, so nothing is counted twice).
        result["closed_commit"] = result["won"] + result["commit"]
        result["closed_commit_share"] = metrics.ratio(result["closed_commit"], result["quota"])
    return {
        "forecast": result,
        # The rule under the forecast figures, naming any deal they could not convert.
        "rate_rule": pipeline.rate_rule(snapshot) + result["unconverted_note"]
        if snapshot
        else None,
        "accuracy": forecast_accuracy(cur, past, week, scope),
    }
