"""Activity against impact: activities logged next to revenue booked and open pipeline."""

from __future__ import annotations

import duckdb
import pandas as pd

from analytics import db, sales
from analytics.crm.scope import LATEST_RATES_SQL, Scope, deal_condition
from analytics.periods import Period


def _booked(
    cur: duckdb.DuckDBPyConnection,
    period: Period,
    currency: str,
    by: str,
    deals: str,
    params: dict,
    use_summary: bool,
) -> tuple[str, dict]:
    """A subquery with the key (rep_id or customer_id) and revenue_reported of the period's
    lines in scope (`deals`, on country_code): per account from account_monthly (through
    sales.summarised, which reads lines where a month cannot give the figure); per rep in EUR
    from rep_monthly for whole months inside EUR's rate days; otherwise from the lines."""
    key = {"rep": "rep_id", "account": "customer_id"}[by]
    ranges = [(period.start, period.end)]
    if by == "account":
        return sales.summarised(
            cur,
            "accounts",
            currency,
            ranges,
            conditions=[deals],
            params=params,
            key="booked",
            use_summary=use_summary,
        )
    months: list = []
    rest = ranges
    if use_summary and currency == "EUR":
        # Lines on a day with no EUR row in fx_daily drop out of the line-level figure (its
        # rate join), so only months inside EUR's rate days are read from rep_monthly.
        span = db.query_rows(
            cur, "SELECT min(rate_date), max(rate_date) FROM fx_daily WHERE currency_code = 'EUR'"
        )[0]
        if span[0] is not None:
            months, rest = sales.split_window(ranges, [span])
    parts, bound = [], dict(params) | {"currency": currency}
    for i, (start, end) in enumerate(months):
        parts.append(
            f"SELECT o.{key}, o.net_amount_eur AS revenue_reported FROM rep_monthly o "
            f"WHERE o.month BETWEEN $booked_m_start_{i} AND $booked_m_end_{i} "
            f"AND o.{key} IS NOT NULL AND {deals}"
        )
        bound |= {f"booked_m_start_{i}": start, f"booked_m_end_{i}": end}
    if rest:
        lines, line_params = sales.order_lines(
            currency, rest, conditions=[f"o.{key} IS NOT NULL", deals], params=params, key="booked"
        )
        parts.append(f"SELECT {key}, revenue_reported FROM ({lines})")
        bound |= line_params
    return " UNION ALL ".join(parts), bound


def activity_impact(
    cur: duckdb.DuckDBPyConnection,
    period: Period,
    scope: Scope,
    by: str,
    use_summary: bool = True,
) -> pd.DataFrame:
    """Activities in the period per rep or per account next to the revenue booked in it
    (order lines, reported in the currency) and the open pipeline (latest rates). Per rep,
    only the reps of the reps table: a user's reach may hold order lines booked by reps it
    does not hold (analytics.access), whose revenue must not show as a row without a name.
    The revenue reads the monthly summaries where they give it (`use_summary=False`: the
    order lines only, the definition it is tested against)."""
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
    lines, line_params = _booked(cur, period, scope.currency, by, deals, params, use_summary)
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
