"""How the open pipeline due in a quarter moved between two weekly snapshots (the waterfall)."""

from __future__ import annotations

import datetime as dt

import duckdb
import numpy as np
import pandas as pd

from analytics import db
from analytics.crm.scope import LATEST_RATES_SQL, Scope, deal_condition
from analytics.periods import Period

CHANGE_STEPS = (
    "start",
    "created",
    "pulled in",
    "pushed out",
    "amount up",
    "amount down",
    "won",
    "lost",
    "end",
)


def pipeline_changes(
    cur: duckdb.DuckDBPyConnection,
    first: dt.date,
    last: dt.date,
    quarter: Period,
    scope: Scope,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """How the open pipeline due in `quarter` moved from the snapshot `first` to `last`.

    Every deal converts at its currency's latest rate, so currency moves add nothing and
    start + created + pulled in - pushed out + up - down - won - lost = end exactly.
    Returns (steps: step, amount) and the deals behind each step (signed amounts).
    A deal leaves as won or lost when it closed between the snapshots; as pushed out when
    it is still open at `last` but due outside the quarter. It arrives as created when it
    was created after `first`, else as pulled in.
    A deal in either snapshot whose currency has no latest rate cannot be converted: it is
    in no step, and is listed in the details under the step "not converted" (amount NaN,
    amount_local and currency_code as stored in the later snapshot it is in), for the
    caption to name it.
    """
    condition, params = deal_condition(scope)
    frame = db.query(
        cur,
        f"""
        WITH latest AS ({LATEST_RATES_SQL}),
        snap AS (
            SELECT s.snapshot_date, s.opportunity_id, s.amount_local * l.rate AS amount
            FROM opportunity_snapshots s JOIN opportunities o USING (opportunity_id)
            JOIN latest l ON l.currency_code = o.currency_code
            WHERE s.snapshot_date IN ($first, $last) AND s.close_date BETWEEN $q_start AND $q_end
              AND s.forecast_category <> 'omitted' AND {condition}
        )
        SELECT o.opportunity_id, o.customer_id, c.name AS customer, r.name AS rep,
               o.created_date, o.close_date, o.status, o.stage,
               a.amount AS amount_first, b.amount AS amount_last,
               (SELECT count(*) FROM opportunity_snapshots x
                WHERE x.opportunity_id = o.opportunity_id AND x.snapshot_date = $last) > 0
                   AS open_at_last
        FROM opportunities o
        JOIN customers c USING (customer_id) JOIN reps r USING (rep_id)
        LEFT JOIN snap a ON a.opportunity_id = o.opportunity_id AND a.snapshot_date = $first
        LEFT JOIN snap b ON b.opportunity_id = o.opportunity_id AND b.snapshot_date = $last
        WHERE a.amount IS NOT NULL OR b.amount IS NOT NULL
        """,
        params
        | {
            "first": first,
            "last": last,
            "currency": scope.currency,
            "q_start": quarter.start,
            "q_end": quarter.end,
        },
    )
    start, end = frame["amount_first"].notna(), frame["amount_last"].notna()
    both = start & end
    change = frame["amount_last"] - frame["amount_first"]
    step = pd.Series("", index=frame.index, dtype="object")
    arriving = end & ~start
    step[arriving] = np.where(
        frame.loc[arriving, "created_date"] > pd.Timestamp(first), "created", "pulled in"
    )
    leaving = start & ~end
    step[leaving & frame["open_at_last"]] = "pushed out"
    step[leaving & ~frame["open_at_last"] & (frame["status"] == "won")] = "won"
    step[leaving & ~frame["open_at_last"] & (frame["status"] != "won")] = "lost"
    step[both & (change > 0)] = "amount up"
    step[both & (change < 0)] = "amount down"
    signed = pd.Series(0.0, index=frame.index)
    signed[end & ~start] = frame["amount_last"]
    signed[leaving] = -frame["amount_first"]
    signed[both] = change
    details = frame.assign(step=step, amount=signed)
    details = details[details["step"] != ""].sort_values(["step", "amount"], ignore_index=True)
    totals = details.groupby("step")["amount"].sum()
    amounts = [float(frame["amount_first"].sum())]
    amounts += [float(totals.get(s, 0.0)) for s in CHANGE_STEPS[1:-1]]
    amounts.append(float(frame["amount_last"].sum()))
    left_out = _unconverted(cur, first, last, quarter, scope)
    if len(left_out):
        details = pd.concat([details, left_out], ignore_index=True)
    return pd.DataFrame({"step": CHANGE_STEPS, "amount": amounts}), details


def _unconverted(
    cur: duckdb.DuckDBPyConnection, first: dt.date, last: dt.date, quarter: Period, scope: Scope
) -> pd.DataFrame:
    """The deals of either snapshot, due in the quarter and not omitted, whose currency has
    no latest rate (none when the reporting currency has none: nothing converts then)."""
    condition, params = deal_condition(scope)
    return db.query(
        cur,
        f"""
        WITH latest AS ({LATEST_RATES_SQL})
        SELECT o.opportunity_id, o.customer_id, c.name AS customer, r.name AS rep,
               o.created_date, o.close_date, o.status, o.stage, 'not converted' AS step,
               CAST(NULL AS DOUBLE) AS amount,
               arg_max(s.amount_local, s.snapshot_date) AS amount_local, o.currency_code
        FROM opportunity_snapshots s JOIN opportunities o USING (opportunity_id)
        JOIN customers c USING (customer_id) JOIN reps r USING (rep_id)
        WHERE s.snapshot_date IN ($first, $last) AND s.close_date BETWEEN $q_start AND $q_end
          AND s.forecast_category <> 'omitted' AND {condition}
          AND o.currency_code NOT IN (SELECT currency_code FROM latest)
          AND EXISTS (SELECT 1 FROM latest)
        GROUP BY ALL ORDER BY o.opportunity_id
        """,
        params
        | {
            "first": first,
            "last": last,
            "currency": scope.currency,
            "q_start": quarter.start,
            "q_end": quarter.end,
        },
    )
