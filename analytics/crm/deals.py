"""Deals as they stand now: amounts, win rate, cycle, stage conversion, the funnel, stuck
deals, and the Pipeline view that puts them beside the pipeline roll-up.

    win rate   = won / (won + lost)                       (by count, and by value)
    velocity   = open opportunities x average won deal x win rate / average cycle days

Money: open deals convert at the latest stored rate, won and lost deals at their close
date's rate. Win rate, average deal and cycle length are measured on the deals closed in
the twelve months up to the as-of date, so that a quarter with few closed deals still has
a rate. The pipeline figures (open, closed won, coverage, the funnel) are the roll-up's
(analytics.crm.pipeline): as at the latest snapshot, at that day's rates; a deal in a
currency without one is left out of them and named in their caption.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import duckdb
import numpy as np
import pandas as pd

from analytics import db, periods
from analytics.crm import pipeline, stages
from analytics.crm.scope import (
    LATEST_RATES_SQL,
    Scope,
    between,
    deal_condition,
    in_progress_on,
    recent_condition,
    snapshot_and_as_of,
)
from analytics.crm.stages import OPEN_STAGES
from analytics.periods import Period, add_months

STUCK_FACTOR = 2.0  # "well above" a stage's average: more than twice as long


def deals(
    cur: duckdb.DuckDBPyConnection,
    scope: Scope,
    since: dt.date | None = None,
    rep_id: str | None = None,
) -> pd.DataFrame:
    """Opportunities in scope with their amount in the reporting currency: open deals at
    the latest rate, closed deals at their close date's rate (grain: one row per deal).

    With `since`, only open deals and those closed on or after it (a view that looks at
    the last year need not read ten); with `rep_id`, one rep's."""
    condition, params = deal_condition(scope)
    recent, recent_params = recent_condition(since, rep_id)
    return db.query(
        cur,
        f"""
        WITH latest AS ({LATEST_RATES_SQL})
        SELECT o.opportunity_id, o.customer_id, c.name AS customer, o.rep_id, r.name AS rep,
               o.country_code, o.currency_code, o.amount_local, o.stage, o.forecast_category,
               o.created_date, o.close_date, o.status,
               o.amount_local * CASE WHEN o.status = 'open' THEN l.rate
                                     ELSE f_r.units_per_eur / f_c.units_per_eur END AS amount
        FROM opportunities o
        JOIN customers c USING (customer_id)
        JOIN reps r USING (rep_id)
        LEFT JOIN latest l ON l.currency_code = o.currency_code
        LEFT JOIN fx_daily f_c ON f_c.rate_date = o.close_date AND f_c.currency_code = o.currency_code
        LEFT JOIN fx_daily f_r ON f_r.rate_date = o.close_date AND f_r.currency_code = $currency
        WHERE {condition} AND {recent}
        """,
        params | recent_params | {"currency": scope.currency},
    )


def stats_start(end: dt.date, months: int = 12) -> dt.date:
    """First day of the window win rate, deal size and cycle are measured over."""
    return add_months(end, -months) + dt.timedelta(days=1)


def closed_stats(frame: pd.DataFrame, end: dt.date, months: int = 12) -> dict:
    """Win rate by count and value, average won deal and cycle days over deals closed in the
    `months` up to `end`."""
    start = stats_start(end, months)
    closed = frame[(frame["status"] != "open") & between(frame["close_date"], start, end)]
    won, lost = closed[closed["status"] == "won"], closed[closed["status"] == "lost"]
    total_value = won["amount"].sum() + lost["amount"].sum()
    return {
        "start": start,
        "end": end,
        "won": len(won),
        "lost": len(lost),
        "win_rate": len(won) / (len(won) + len(lost)) if len(closed) else np.nan,
        "win_rate_value": won["amount"].sum() / total_value if total_value else np.nan,
        "average_deal": won["amount"].mean() if len(won) else np.nan,
        "cycle_days": (won["close_date"] - won["created_date"]).dt.days.mean()
        if len(won)
        else np.nan,
    }


def stage_history(
    cur: duckdb.DuckDBPyConnection, scope: Scope, since: dt.date | None = None
) -> pd.DataFrame:
    """Per deal and stage: weeks seen in that stage, first and last seen. From the weekly
    snapshots (grain: one row per deal and stage); with `since`, of the open deals and
    those closed on or after it, so that stage averages reflect the recent sales process."""
    condition, params = deal_condition(scope)
    recent, recent_params = recent_condition(since, None)
    return db.query(
        cur,
        f"""
        SELECT s.opportunity_id, s.stage, count(*) AS weeks, min(s.snapshot_date) AS first_seen,
               max(s.snapshot_date) AS last_seen
        FROM opportunity_snapshots s JOIN opportunities o USING (opportunity_id)
        WHERE {condition} AND {recent}
        GROUP BY ALL
        """,
        params | recent_params,
    )


def stage_conversion(
    frame: pd.DataFrame,
    history: pd.DataFrame,
    stats: dict,
    funnel_stages: tuple[str, ...] = OPEN_STAGES,
) -> pd.DataFrame:
    """Each open stage's conversion to the next among the deals closed in the stats window:
    reached the next stage / reached this one (a won deal reached every stage), in the
    funnel's order (`funnel_stages`, stages.open_stages)."""
    closed = frame.loc[
        (frame["status"] != "open") & between(frame["close_date"], stats["start"], stats["end"]),
        ["opportunity_id", "status"],
    ]
    order = {stage: i for i, stage in enumerate(funnel_stages)}
    seen = history[["opportunity_id", "stage"]].merge(closed, on="opportunity_id")
    seen = seen.assign(level=seen["stage"].map(order).astype("float64"))
    furthest = closed.merge(
        seen.groupby("opportunity_id", as_index=False)["level"].max(),
        on="opportunity_id",
        how="left",
    )
    level = furthest["level"].fillna(-1).to_numpy(copy=True)
    level[(furthest["status"] == "won").to_numpy()] = len(funnel_stages)
    return _conversion_table(level, funnel_stages)


def funnel(frame: pd.DataFrame, conversion: pd.DataFrame, quarter: Period) -> pd.DataFrame:
    """Open deals due in the quarter by stage, next to each stage's conversion (whose rows
    are the funnel's open stages in order)."""
    due = frame[
        (frame["status"] == "open") & between(frame["close_date"], quarter.start, quarter.end)
    ]
    by_stage = due.groupby("stage")["amount"].agg(["count", "sum"])
    return stage_funnel(
        {stage: (int(row["count"]), float(row["sum"])) for stage, row in by_stage.iterrows()},
        conversion,
    )


def stage_funnel(by_stage: dict[str, tuple[int, float]], conversion: pd.DataFrame) -> pd.DataFrame:
    """The funnel table from open deals counted and summed per stage (stage -> (deals,
    amount), e.g. pipeline.Totals.stages), next to each stage's conversion (whose rows are
    the funnel's open stages in order; a stage without deals shows 0)."""
    shown = [by_stage.get(stage, (0, 0.0)) for stage in conversion["stage"]]
    return conversion.assign(
        deals=np.array([deals for deals, _ in shown], dtype=int),
        amount=np.array([amount for _, amount in shown], dtype=float),
    )[["stage", "deals", "amount", "reached", "advanced", "conversion"]]


def stuck_deals(frame: pd.DataFrame, history: pd.DataFrame, today: dt.date) -> pd.DataFrame:
    """Open deals whose time in their current stage is more than STUCK_FACTOR times that
    stage's average (averaged over every deal's completed weeks in it)."""
    average = history.groupby("stage")["weeks"].mean() * 7
    open_deals = frame[frame["status"] == "open"]
    current = history.merge(open_deals[["opportunity_id", "stage"]], on=["opportunity_id", "stage"])
    current = current.assign(
        days_in_stage=(pd.Timestamp(today) - pd.to_datetime(current["first_seen"])).dt.days
    )
    current["stage_average_days"] = current["stage"].map(average)
    stuck = current[current["days_in_stage"] > STUCK_FACTOR * current["stage_average_days"]]
    out = stuck.merge(open_deals.drop(columns="stage"), on="opportunity_id")
    return out.sort_values("days_in_stage", ascending=False, ignore_index=True)


@dataclasses.dataclass(frozen=True)
class DealFigures:
    """The deal statistics of a view: closed_stats' dict, stage_conversion's table, and
    each stage's average days in it (stage -> days, stuck_deals' average) over the history
    of the deals open or closed since the statistics' window began."""

    stats: dict
    conversion: pd.DataFrame
    stage_days: dict[str, float]


def deal_figures(
    cur: duckdb.DuckDBPyConnection,
    scope: Scope,
    end: dt.date,
    funnel_stages: tuple[str, ...] = OPEN_STAGES,
    months: int = 12,
) -> DealFigures:
    """In one statement, `closed_stats` and `stage_conversion` of the deals closed in the
    `months` up to `end`, and the stage averages `stuck_deals` compares with: the same
    figures as those functions over `deals` and `stage_history` (since the window's start),
    with one pass over the snapshots and without building either frame."""
    start = stats_start(end, months)
    condition, params = deal_condition(scope)
    recent, recent_params = recent_condition(start, None)
    row = db.query_rows(
        cur,
        f"""
        WITH history AS MATERIALIZED (  -- stage_history(scope, start) without its dates
            SELECT s.opportunity_id, s.stage, count(*) AS weeks
            FROM opportunity_snapshots s JOIN opportunities o USING (opportunity_id)
            WHERE {condition} AND {recent}
            GROUP BY ALL
        ),
        closed AS (
            SELECT o.opportunity_id, o.status, o.close_date - o.created_date AS cycle_days,
                   o.amount_local * (f_r.units_per_eur / f_c.units_per_eur) AS amount
            FROM opportunities o
            JOIN customers c USING (customer_id)
            JOIN reps r USING (rep_id)
            LEFT JOIN fx_daily f_c
                ON f_c.rate_date = o.close_date AND f_c.currency_code = o.currency_code
            LEFT JOIN fx_daily f_r
                ON f_r.rate_date = o.close_date AND f_r.currency_code = $currency
            WHERE o.status <> 'open' AND o.close_date BETWEEN $start AND $end AND {condition}
        ),
        seen AS (  -- the furthest funnel stage each closed deal was seen in (0-based)
            SELECT opportunity_id, max(list_position($stages, stage)) - 1 AS level
            FROM history JOIN closed USING (opportunity_id)
            GROUP BY opportunity_id
        ),
        average AS (SELECT stage, avg(weeks) * 7 AS days FROM history GROUP BY stage)
        SELECT count(*) FILTER (status = 'won'), count(*) FILTER (status = 'lost'),
               sum(amount) FILTER (status = 'won'), sum(amount) FILTER (status = 'lost'),
               avg(amount) FILTER (status = 'won'), avg(cycle_days) FILTER (status = 'won'),
               list(CASE WHEN status = 'won' THEN len($stages) ELSE coalesce(level, -1) END),
               (SELECT map(list(stage), list(days)) FROM average)
        FROM closed LEFT JOIN seen USING (opportunity_id)
        """,
        params
        | recent_params
        | {
            "start": start,
            "end": end,
            "currency": scope.currency,
            "stages": list(funnel_stages),
        },
    )[0]
    won, lost, won_value, lost_value, average_deal, cycle_days, levels, stage_days = row
    total_value = (won_value or 0.0) + (lost_value or 0.0)
    stats = {
        "start": start,
        "end": end,
        "won": won,
        "lost": lost,
        "win_rate": won / (won + lost) if won + lost else np.nan,
        "win_rate_value": (won_value or 0.0) / total_value if total_value else np.nan,
        "average_deal": np.nan if average_deal is None else average_deal,
        "cycle_days": np.nan if cycle_days is None else cycle_days,
    }
    return DealFigures(
        stats,
        _conversion_table(np.array(levels, dtype="float64"), funnel_stages),
        dict(stage_days or {}),
    )


def _conversion_table(level: np.ndarray, funnel_stages: tuple[str, ...]) -> pd.DataFrame:
    """Per funnel stage: how many closed deals reached it and the next one, from each deal's
    furthest level (-1: seen in none; a won deal: len(funnel_stages))."""
    rows = []
    for i, stage in enumerate(funnel_stages):
        got_here, went_on = int((level >= i).sum()), int((level >= i + 1).sum())
        rows.append(
            {
                "stage": stage,
                "reached": got_here,
                "advanced": went_on,
                "conversion": went_on / got_here if got_here else np.nan,
            }
        )
    return pd.DataFrame(rows)


def stuck_now(
    cur: duckdb.DuckDBPyConnection, scope: Scope, today: dt.date, stage_days: dict[str, float]
) -> pd.DataFrame:
    """`stuck_deals` in one statement: the open deals whose time in their current stage
    exceeds STUCK_FACTOR times that stage's average days (`stage_days`, from deal_figures),
    with the same columns, longest first (ties by deal)."""
    condition, params = deal_condition(scope)
    stuck = db.query(
        cur,
        f"""
        WITH latest AS ({LATEST_RATES_SQL}),
        current AS (  -- each open deal's weeks in the stage it is in now
            SELECT s.opportunity_id, s.stage, count(*) AS weeks,
                   min(s.snapshot_date) AS first_seen, max(s.snapshot_date) AS last_seen
            FROM opportunity_snapshots s
            JOIN opportunities o ON o.opportunity_id = s.opportunity_id AND o.stage = s.stage
            WHERE o.status = 'open' AND {condition}
            GROUP BY ALL
        ),
        average AS (
            SELECT unnest($stages::VARCHAR[]) AS stage, unnest($days::DOUBLE[]) AS days
        )
        SELECT h.opportunity_id, h.stage, h.weeks, h.first_seen, h.last_seen,
               $today - h.first_seen AS days_in_stage, a.days AS stage_average_days,
               o.customer_id, c.name AS customer, o.rep_id, r.name AS rep, o.country_code,
               o.currency_code, o.amount_local, o.forecast_category, o.created_date,
               o.close_date, o.status, o.amount_local * l.rate AS amount
        FROM current h
        JOIN average a USING (stage)
        JOIN opportunities o USING (opportunity_id)
        JOIN customers c ON c.customer_id = o.customer_id
        JOIN reps r ON r.rep_id = o.rep_id
        LEFT JOIN latest l ON l.currency_code = o.currency_code
        WHERE $today - h.first_seen > $factor * a.days
        ORDER BY days_in_stage DESC, h.opportunity_id
        """,
        params
        | {
            "today": today,
            "factor": STUCK_FACTOR,
            "currency": scope.currency,
            "stages": list(stage_days),
            "days": [float(d) for d in stage_days.values()],
        },
    )
    if stuck.empty:  # text columns typed as when there are rows (and as stuck_deals' are)
        stuck = stuck.astype({c: "str" for c in stuck.columns if stuck[c].dtype == object})
    return stuck


def velocity(open_deals: int, stats: dict) -> float:
    """Open deals x average won deal x win rate / cycle days (per day)."""
    if not stats["cycle_days"] or np.isnan(stats["cycle_days"]):
        return np.nan
    return open_deals * stats["average_deal"] * stats["win_rate"] / stats["cycle_days"]


def pipeline_view(cur: duckdb.DuckDBPyConnection, scope: Scope) -> dict:
    """The quarter in progress (scope.quarter_in_progress) and the next: each one's pipeline roll-up as
    at the latest snapshot, its funnel, velocity; deal statistics and stuck deals now."""
    snapshot, today = snapshot_and_as_of(cur)
    if snapshot is None:  # stage times and conversion need the weekly history
        return {}
    figures = deal_figures(cur, scope, today, stages.open_stages(cur))
    stats, conversion = figures.stats, figures.conversion
    current = in_progress_on(today)
    quarters = [current, periods.quarter(add_months(current.start, 3))]
    # Both quarters' roll-ups and funnels from one statement; the deals they leave out for
    # want of a rate are named only when there are any.
    summaries, funnels, unconverted = [], [], []
    for quarter, totals in zip(
        quarters, pipeline.totals(cur, quarters, snapshot, scope), strict=True
    ):
        left_out = (
            pipeline.unconverted_deals(cur, quarter, snapshot, scope)
            if totals.unconverted
            else pipeline.NO_UNCONVERTED
        )
        summary = pipeline.summary(quarter, snapshot, totals, left_out)
        summary["velocity_per_day"] = velocity(summary["deals"], stats)
        summaries.append(summary)
        funnels.append(stage_funnel(totals.stages, conversion))
        unconverted.append(left_out)
    left_out = pd.concat(unconverted, ignore_index=True).drop_duplicates("opportunity_id")
    return {
        "as_of": today,
        "snapshot": snapshot,
        # The rule under every pipeline figure, naming any deal it could not convert.
        "rate_rule": pipeline.rate_rule(snapshot) + pipeline.unconverted_note(left_out, snapshot),
        "unconverted": left_out,
        "stats": stats,
        "summaries": summaries,
        "funnels": funnels,
        "stuck": stuck_now(cur, scope, today, figures.stage_days),
        "quarters": quarters,
    }
