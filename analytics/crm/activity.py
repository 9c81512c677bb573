"""Activity against impact: activities logged next to revenue booked and open pipeline."""

from __future__ import annotations

import duckdb
import pandas as pd

from analytics import db, sales
from analytics.crm.scope import LATEST_RATES_SQL, Scope, deal_condition
from analytics.periods import Period


def activity_impact(
    cur: duckdb.DuckDBPyConnection, period: Period, scope: Scope, by: str
) -> pd.DataFrame:
    """Activities in the period per rep or per account next to the revenue booked in it
    (order lines, reported in the currency) and the open pipeline (latest rates). Per rep,
    only the reps of the reps table: a user's reach may hold order lines booked by reps it
    does not hold (analytics.access), whose revenue must not show as a row without a name."""
    key = {"rep": "rep_id", "account": "customer_id"}[by]
    known = "WHERE k.key IN (SELECT rep_id FROM reps)" if by == "rep" else ""
    name = {
        "rep": "(SELECT name FROM reps WHERE rep_id = k.key)",
        "account": "(SELECT name FROM customers WHERE customer_id = k.key)",
    }[by]
    deals, params = deal_condition(scope, "o.")
    activity_condition = (
        "a.customer_id IN (SELECT customer_id FROM customers o WHERE " + deals + ")"
    )
    lines, line_params = sales.order_lines(
        scope.currency,
        [(period.start, period.end)],
        conditions=[f"o.{key} IS NOT NULL", deals],
        params=params,
        key="booked",
    )
    return db.query(
        cur,
        f"""
        WITH latest AS ({LATEST_RATES_SQL}),
        acts AS (
            SELECT a.{key} AS key, count(*) AS activities,
                   count(*) FILTER (WHERE type IN ('meeting', 'visit', 'demo')) AS meetings
            FROM activities a
            WHERE a.activity_date BETWEEN $start AND $end AND {activity_condition}
            GROUP BY 1
        ),
        revenue AS (
            SELECT {key} AS key, sum(revenue_reported) AS revenue FROM ({lines}) GROUP BY 1
        ),
        pipe AS (
            SELECT o.{key} AS key, sum(o.amount_local * x.rate) AS pipeline
            FROM opportunities o JOIN latest x ON x.currency_code = o.currency_code
            WHERE o.status = 'open' AND {deals}
            GROUP BY 1
        ),
        k AS (SELECT key FROM acts UNION SELECT key FROM revenue UNION SELECT key FROM pipe)
        SELECT k.key, {name} AS name, coalesce(acts.activities, 0) AS activities,
               coalesce(acts.meetings, 0) AS meetings, coalesce(revenue.revenue, 0) AS revenue,
               coalesce(pipe.pipeline, 0) AS pipeline
        FROM k LEFT JOIN acts USING (key) LEFT JOIN revenue USING (key) LEFT JOIN pipe USING (key)
        {known}
        ORDER BY revenue DESC
        """,
        params
        | line_params
        | {"start": period.start, "end": period.end, "currency": scope.currency},
    )
