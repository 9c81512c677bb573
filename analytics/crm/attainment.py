"""Quota attainment: booked revenue / quota, both in EUR (a ratio, so currency-neutral).

Booked revenue is the net amount of the rep's order lines in the period, in EUR on one of
two bases; the quota is the EUR quota of the period's quarters, set at plan rates like the
budget. At plan rates (the default, BASES) each line's local amount converts at the plan
rate of its quarter (analytics.plan_rates), so currencies a rep does not control do not
move attainment; reported, at each order day's ECB rate (the stored EUR amount). The one
definition the Quarterly review (by region) and Team & pipeline (per rep, team, region)
both show.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import numpy as np
import pandas as pd

from analytics import db, metrics, periods, plan_rates, sales
from analytics.crm.scope import Scope, rep_condition
from analytics.periods import Period, add_months

BANDS = (0.5, 0.8, 1.0, 1.2)
BASES = {
    "plan": "at plan rates (each order's local amount at its quarter's plan rate)",
    "reported": "reported (each order at its day's ECB rate)",
}
DEFAULT_BASIS = "plan"


# The lines booked in the periods, per rep: whole months from rep_monthly (month x rep x
# country x currency sums, analytics.rollups), the days of partial months from order_lines.
# Both bases are sums over the lines of one month and currency (a month lies in one quarter,
# so its lines share their plan rate), so the months' sums give the lines' figures.
def _booked_rows(ranges: list[tuple[dt.date, dt.date]], use_summary: bool) -> tuple[str, dict]:
    """A subquery of (rep_id, order_date, currency_code, net_amount_local, net_amount_eur,
    line_count) holding each line with a rep in any of `ranges` once (a month's row dated
    its first day: read only when every range holds all of the month or none of it)."""
    months, rest = sales.split_window(ranges) if use_summary else ([], list(ranges))
    columns = "rep_id, {date} AS order_date, currency_code, net_amount_local, net_amount_eur"
    parts, params = [], {}
    for i, (start, end) in enumerate(months):
        parts.append(
            f"SELECT {columns.format(date='month')}, line_count FROM rep_monthly "
            f"WHERE month BETWEEN $m_start_{i} AND $m_end_{i} AND rep_id IS NOT NULL"
        )
        params |= {f"m_start_{i}": start, f"m_end_{i}": end}
    for i, (start, end) in enumerate(rest):
        parts.append(
            f"SELECT {columns.format(date='order_date')}, 1 AS line_count FROM order_lines "
            f"WHERE order_date BETWEEN $l_start_{i} AND $l_end_{i} AND rep_id IS NOT NULL"
        )
        params |= {f"l_start_{i}": start, f"l_end_{i}": end}
    if not parts:  # only empty periods: a read that finds nothing
        parts.append(f"SELECT {columns.format(date='order_date')}, 1 FROM order_lines WHERE false")
    return " UNION ALL ".join(parts), params


# Booked EUR per period and rep on each basis, over _booked_rows as `o` joined to the periods
# as `w`. The plan join is a LEFT JOIN so that a line without a plan rate is counted as
# missing (and reported by name), never dropped.
_BOOKED = {
    "reported": "sum(o.net_amount_eur) AS booked_eur, 0 AS unplanned",
    "plan": """sum(CASE WHEN o.currency_code = 'EUR' THEN o.net_amount_local
                        ELSE o.net_amount_local / p.units_per_eur END) AS booked_eur,
               sum(o.line_count) FILTER (WHERE o.currency_code <> 'EUR' AND p.units_per_eur IS NULL)
                   AS unplanned""",
}
_PLAN_JOIN = f"""
        LEFT JOIN ({plan_rates.RESOLVED_SQL}) p
          ON p.year = year(o.order_date) AND p.quarter = quarter(o.order_date)
         AND p.currency_code = o.currency_code"""
_UNPLANNED_SQL = """
SELECT DISTINCT year(order_date) AS year, quarter(order_date) AS quarter, currency_code
FROM ({rows})
"""


def booked_vs_quota(
    cur: duckdb.DuckDBPyConnection,
    period: Period,
    scope: Scope,
    basis: str = DEFAULT_BASIS,
    use_summary: bool = True,
) -> pd.DataFrame:
    """Per rep in scope with a quota in the period's quarters: rep_id, name, team, region,
    quota_eur, booked_eur on `basis` (grain: one row per rep; unsorted). At plan rates a
    line whose currency has no plan rate for its quarter raises plan_rates.PlanRateMissing
    naming the currencies and quarters. Reads rep_monthly for whole months
    (`use_summary=False`: order_lines only, the definition it is tested against)."""
    return booked_vs_quotas(cur, [period], scope, basis, use_summary)[0]


def booked_vs_quotas(
    cur: duckdb.DuckDBPyConnection,
    periods_: list[Period],
    scope: Scope,
    basis: str = DEFAULT_BASIS,
    use_summary: bool = True,
) -> list[pd.DataFrame]:
    """booked_vs_quota of each period, in one statement: the Attainment view's eleven
    periods (quarter, prior, year to date, eight quarters of trend) cost one read."""
    if basis not in BASES:
        raise ValueError(f"Unknown attainment basis {basis!r}; choose plan or reported.")
    condition, params = rep_condition(scope)
    ranges = [(p.start, p.end) for p in periods_]
    rows, row_params = _booked_rows(ranges, use_summary)
    windows = {"starts": [p.start for p in periods_], "ends": [p.end for p in periods_]}
    frame = db.query(
        cur,
        f"""
        WITH w AS (
            SELECT generate_subscripts($starts, 1) - 1 AS i, unnest($starts)::DATE AS start,
                   unnest($ends)::DATE AS "end"
        ),
        quota AS (
            SELECT w.i, q.rep_id, sum(q.quota_eur) AS quota_eur
            FROM quotas q JOIN w ON q.quarter_start BETWEEN w.start AND w."end"
            GROUP BY ALL HAVING sum(q.quota_eur) > 0
        ),
        booked AS (
            SELECT w.i, o.rep_id, {_BOOKED[basis]}
            FROM ({rows}) o JOIN w ON o.order_date BETWEEN w.start AND w."end"
            {_PLAN_JOIN if basis == "plan" else ""}
            GROUP BY ALL
        )
        SELECT q.i, r.rep_id, r.name, r.team, r.region, q.quota_eur,
               coalesce(b.booked_eur, 0) AS booked_eur, coalesce(b.unplanned, 0) AS unplanned
        FROM quota q JOIN reps r USING (rep_id)
        LEFT JOIN booked b ON b.i = q.i AND b.rep_id = q.rep_id
        WHERE {condition}
        """,
        params | windows | row_params,
    )
    if frame["unplanned"].any():
        plan_rates.check(cur, _UNPLANNED_SQL.format(rows=rows), row_params, "EUR")
    frame = frame.drop(columns="unplanned")
    return [
        frame[frame["i"] == i].drop(columns="i").reset_index(drop=True)
        for i in range(len(periods_))
    ]


def attainment_of(booked_eur, quota_eur):
    """Attainment from booked revenue and quota (scalars or Series): their ratio."""
    return metrics.ratio(booked_eur, quota_eur)


def attainment(
    cur: duckdb.DuckDBPyConnection, period: Period, scope: Scope, basis: str = DEFAULT_BASIS
) -> pd.DataFrame:
    """booked_vs_quota with attainment, sorted best first, with rank."""
    return _ranked(booked_vs_quota(cur, period, scope, basis))


def _ranked(frame: pd.DataFrame) -> pd.DataFrame:
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
    cur: duckdb.DuckDBPyConnection,
    period: Period,
    scope: Scope,
    total_label: str,
    basis: str = DEFAULT_BASIS,
) -> pd.DataFrame:
    """Booked EUR and EUR quota per rep region plus a `total_label` row (the review's)."""
    frame = booked_vs_quota(cur, period, scope, basis)
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
    cur: duckdb.DuckDBPyConnection,
    quarter: Period,
    previous: Period,
    scope: Scope,
    basis: str = DEFAULT_BASIS,
) -> pd.DataFrame:
    """This quarter's attainment with each rep's rank last quarter and the change
    (positive = moved up; NaN for a rep with no quota then)."""
    now, before = booked_vs_quotas(cur, [quarter, previous], scope, basis)
    return _leaderboard(_ranked(now), _ranked(before))


def _leaderboard(now: pd.DataFrame, before: pd.DataFrame) -> pd.DataFrame:
    before = before[["rep_id", "rank", "attainment"]]
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


def trend(
    cur: duckdb.DuckDBPyConnection,
    quarters: list[Period],
    scope: Scope,
    basis: str = DEFAULT_BASIS,
) -> pd.DataFrame:
    """Per quarter: team attainment (sum booked / sum quota) and reps at or above quota."""
    return _trend(quarters, booked_vs_quotas(cur, quarters, scope, basis))


def _trend(quarters: list[Period], frames: list[pd.DataFrame]) -> pd.DataFrame:
    rows = []
    for quarter, frame in zip(quarters, frames, strict=True):
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


def attainment_view(
    cur: duckdb.DuckDBPyConnection, quarter: Period, scope: Scope, basis: str = DEFAULT_BASIS
) -> dict:
    """The Attainment view: leaderboard (with year to date), totals, trend of 8 quarters,
    all on `basis` (named in the result's "basis")."""
    previous = periods.quarter(add_months(quarter.start, -3))
    year = Period(dt.date(quarter.end.year, 1, 1), quarter.end, f"Year to date {quarter.end.year}")
    recent = [periods.quarter(add_months(quarter.start, -3 * i)) for i in range(7, -1, -1)]
    # Every period in one read; the trend's last quarter is the quarter itself.
    now, before, ytd, *trend_frames = booked_vs_quotas(
        cur, [quarter, previous, year, *recent], scope, basis
    )
    ytd = _ranked(ytd)
    board = _leaderboard(_ranked(now), _ranked(before)).merge(
        ytd[["rep_id", "attainment"]].rename(columns={"attainment": "ytd_attainment"}),
        on="rep_id",
        how="left",
    )
    return {
        "leaderboard": board,
        "ytd": ytd,
        "total": total(board),
        "total_ytd": total(ytd),
        "trend": _trend(recent, trend_frames),
        "basis": basis,
    }
