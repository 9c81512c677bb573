"""Quota attainment: booked revenue / quota, both in EUR (a ratio, so currency-neutral).

Booked revenue is the net EUR amount of the rep's order lines in the period; the quota is
the EUR quota of the period's quarters. The one definition the Quarterly review (by
region) and Team & pipeline (per rep, team, region) both show.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import numpy as np
import pandas as pd

from analytics import db, metrics, periods
from analytics.crm.scope import Scope, rep_condition
from analytics.periods import Period, add_months

BANDS = (0.5, 0.8, 1.0, 1.2)


def booked_vs_quota(cur: duckdb.DuckDBPyConnection, period: Period, scope: Scope) -> pd.DataFrame:
    """Per rep in scope with a quota in the period's quarters: rep_id, name, team, region,
    quota_eur, booked_eur (grain: one row per rep; unsorted)."""
    condition, params = rep_condition(scope)
    return db.query(
        cur,
        f"""
        WITH quota AS (
            SELECT rep_id, sum(quota_eur) AS quota_eur FROM quotas
            WHERE quarter_start BETWEEN $start AND $end GROUP BY rep_id HAVING sum(quota_eur) > 0
        ),
        booked AS (
            SELECT rep_id, sum(net_amount_eur) AS booked_eur FROM order_lines
            WHERE order_date BETWEEN $start AND $end AND rep_id IS NOT NULL GROUP BY rep_id
        )
        SELECT r.rep_id, r.name, r.team, r.region, q.quota_eur,
               coalesce(b.booked_eur, 0) AS booked_eur
        FROM quota q JOIN reps r USING (rep_id) LEFT JOIN booked b USING (rep_id)
        WHERE {condition}
        """,
        params | {"start": period.start, "end": period.end},
    )


def attainment_of(booked_eur, quota_eur):
    """Attainment from booked revenue and quota (scalars or Series): their ratio."""
    return metrics.ratio(booked_eur, quota_eur)


def attainment(cur: duckdb.DuckDBPyConnection, period: Period, scope: Scope) -> pd.DataFrame:
    """booked_vs_quota with attainment, sorted best first, with rank."""
    frame = booked_vs_quota(cur, period, scope)
    frame["attainment"] = attainment_of(frame["booked_eur"], frame["quota_eur"])
    frame = frame.sort_values(["attainment", "rep_id"], ascending=[False, True], ignore_index=True)
    frame["rank"] = np.arange(1, len(frame) + 1)
    return frame


def rollup(frame: pd.DataFrame, by: str) -> pd.DataFrame:
    """Attainment per team or region from the per-rep rows (sums, then the ratio)."""
    grouped = frame.groupby(by, as_index=False)[["quota_eur", "booked_eur"]].sum()
    grouped["reps"] = frame.groupby(by)["rep_id"].count().to_numpy()
    grouped["attainment"] = attainment_of(grouped["booked_eur"], grouped["quota_eur"])
    return grouped.sort_values("attainment", ascending=False, ignore_index=True)


def total(frame: pd.DataFrame) -> dict:
    """The whole scope's booked, quota, attainment and reps at or above quota."""
    booked, quota = float(frame["booked_eur"].sum()), float(frame["quota_eur"].sum())
    return {
        "booked_eur": booked,
        "quota_eur": quota,
        "attainment": attainment_of(booked, quota),
        "reps_at_quota": int((attainment_of(frame["booked_eur"], frame["quota_eur"]) >= 1).sum()),
        "reps": len(frame),
    }


def by_region(
    cur: duckdb.DuckDBPyConnection, period: Period, scope: Scope, total_label: str
) -> pd.DataFrame:
    """Booked EUR and EUR quota per rep region plus a `total_label` row (the review's)."""
    frame = booked_vs_quota(cur, period, scope)
    regions = frame.groupby("region", as_index=False)[["booked_eur", "quota_eur"]].sum()
    whole = total(frame)
    last = pd.DataFrame(
        [
            {
                "region": total_label,
                "booked_eur": whole["booked_eur"],
                "quota_eur": whole["quota_eur"],
            }
        ]
    )
    return pd.concat([regions, last], ignore_index=True) if len(frame) else regions


def leaderboard(
    cur: duckdb.DuckDBPyConnection, quarter: Period, previous: Period, scope: Scope
) -> pd.DataFrame:
    """This quarter's attainment with each rep's rank last quarter and the change
    (positive = moved up; NaN for a rep with no quota then)."""
    now = attainment(cur, quarter, scope)
    before = attainment(cur, previous, scope)[["rep_id", "rank", "attainment"]]
    before = before.rename(columns={"rank": "previous_rank", "attainment": "previous_attainment"})
    frame = now.merge(before, on="rep_id", how="left")
    frame["rank_change"] = frame["previous_rank"] - frame["rank"]
    return frame


def bands(frame: pd.DataFrame) -> pd.DataFrame:
    """How many reps reached 50 %, 80 %, 100 % and 120 % of quota (cumulative)."""
    return pd.DataFrame(
        {
            "band": [f"≥ {b:.0%}" for b in BANDS],
            "reps": [int((frame["attainment"] >= b).sum()) for b in BANDS],
            "share": [
                float((frame["attainment"] >= b).mean()) if len(frame) else np.nan for b in BANDS
            ],
        }
    )


def trend(cur: duckdb.DuckDBPyConnection, quarters: list[Period], scope: Scope) -> pd.DataFrame:
    """Per quarter: team attainment (sum booked / sum quota) and reps at or above quota."""
    rows = []
    for quarter in quarters:
        frame = booked_vs_quota(cur, quarter, scope)
        if frame.empty:
            continue
        whole = total(frame)
        rows.append(
            {
                "quarter": quarter.label,
                "start": quarter.start,
                "attainment": whole["attainment"],
                "reps_at_quota": whole["reps_at_quota"],
                "reps": whole["reps"],
            }
        )
    return pd.DataFrame(rows, columns=["quarter", "start", "attainment", "reps_at_quota", "reps"])


def attainment_view(cur: duckdb.DuckDBPyConnection, quarter: Period, scope: Scope) -> dict:
    """The Attainment view: leaderboard (with year to date), totals, trend of 8 quarters."""
    previous = periods.quarter(add_months(quarter.start, -3))
    year = Period(dt.date(quarter.end.year, 1, 1), quarter.end, f"Year to date {quarter.end.year}")
    recent = [periods.quarter(add_months(quarter.start, -3 * i)) for i in range(7, -1, -1)]
    ytd = attainment(cur, year, scope)
    board = leaderboard(cur, quarter, previous, scope).merge(
        ytd[["rep_id", "attainment"]].rename(columns={"attainment": "ytd_attainment"}),
        on="rep_id",
        how="left",
    )
    return {
        "leaderboard": board,
        "ytd": ytd,
        "total": total(board),
        "total_ytd": total(ytd),
        "trend": trend(cur, recent, scope),
    }
