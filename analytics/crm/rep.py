"""One rep's quarter: attainment, deals, slipped deals and activities."""

from __future__ import annotations

import duckdb
import pandas as pd

from analytics import db
from analytics.crm import attainment, deals, stages
from analytics.crm.scope import Scope, deal_condition
from analytics.periods import Period


def slipped_deals(
    cur: duckdb.DuckDBPyConnection, quarter: Period, scope: Scope, rep_id: str | None = None
) -> pd.DataFrame:
    """Deals due in the quarter at some snapshot during it whose close date was later moved
    past the quarter's end (grain: one row per deal; first and latest close date)."""
    condition, params = deal_condition(scope)
    rep = "AND o.rep_id = $rep" if rep_id else ""
    return db.query(
        cur,
        f"""
        SELECT s.opportunity_id, any_value(c.name) AS customer, any_value(r.name) AS rep,
               min(s.close_date) FILTER (WHERE s.close_date <= $end) AS was_due,
               arg_max(s.close_date, s.snapshot_date) AS now_due,
               any_value(o.status) AS status
        FROM opportunity_snapshots s JOIN opportunities o USING (opportunity_id)
        JOIN customers c ON c.customer_id = o.customer_id JOIN reps r ON r.rep_id = o.rep_id
        WHERE s.snapshot_date BETWEEN $start AND $end AND {condition} {rep}
        GROUP BY s.opportunity_id
        HAVING min(s.close_date) FILTER (WHERE s.close_date BETWEEN $start AND $end) IS NOT NULL
           AND arg_max(s.close_date, s.snapshot_date) > $end
        ORDER BY now_due DESC
        """,
        params | {"start": quarter.start, "end": quarter.end} | ({"rep": rep_id} if rep_id else {}),
    )


def rep_activities(cur: duckdb.DuckDBPyConnection, rep_id: str, period: Period) -> pd.DataFrame:
    """One rep's activities in the period by type (grain: one row per type)."""
    return db.query(
        cur,
        """
        SELECT type, count(*) AS activities, count(DISTINCT customer_id) AS accounts
        FROM activities WHERE rep_id = $rep AND activity_date BETWEEN $start AND $end
        GROUP BY 1 ORDER BY 2 DESC
        """,
        {"rep": rep_id, "start": period.start, "end": period.end},
    )


def rep_view(
    cur: duckdb.DuckDBPyConnection,
    quarter: Period,
    scope: Scope,
    rep_id: str,
    basis: str = attainment.DEFAULT_BASIS,
) -> dict:
    """The Rep view: the rep's attainment row on `basis` (None without a quota), deals (open
    and closed in the quarter), open pipeline and deals by stage (latest rates), slipped
    deals and activities. The region filter picks the rep; the rep's figures are all of
    theirs."""
    whole = Scope(currency=scope.currency)
    board = attainment.attainment(cur, quarter, whole, basis)
    row = board[board["rep_id"] == rep_id]
    frame = deals.deals(cur, whole, quarter.start, rep_id)
    open_deals = frame[frame["status"] == "open"]
    by_stage = open_deals.groupby("stage", as_index=False).agg(
        deals=("opportunity_id", "count"), amount=("amount", "sum")
    )
    order = {s: i for i, s in enumerate(stages.open_stages(cur))}
    by_stage = by_stage.sort_values("stage", key=lambda s: s.map(order), ignore_index=True)
    activities = rep_activities(cur, rep_id, quarter)
    return {
        "attainment": row.iloc[0] if len(row) else None,
        "basis": basis,
        "deals": frame,
        "open_pipeline": float(open_deals["amount"].sum()),
        "open_deals": len(open_deals),
        "by_stage": by_stage,
        "slipped": slipped_deals(cur, quarter, whole, rep_id),
        "activities": activities,
        "activity_count": int(activities["activities"].sum()),
    }
