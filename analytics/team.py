"""Team performance and pipeline: quotas, forecasts and deals (DESIGN's CRM definitions).

    win rate   = won / (won + lost)                       (by count, and by value)
    attainment = booked revenue / quota                   (both in EUR: a ratio, currency-neutral)
    coverage   = open pipeline due in the period / (quota - closed won)
    velocity   = open opportunities x average won deal x win rate / average cycle days

Money: open deals convert at the latest stored rate, won deals at their close date's rate,
quotas (EUR) at the latest rate. Booked revenue is the rep's order lines in EUR. Regions
select reps by their region and deals by their country; countries select deals. Product
lines and channels do not apply: quotas and deals carry neither.

Win rate, average deal and cycle length are measured on the deals closed in the twelve
months up to the as-of date, so that a quarter with few closed deals still has a rate.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import duckdb
import numpy as np
import pandas as pd

from analytics import db, periods
from analytics.crm.stages import OPEN_STAGES as STAGES
from analytics.filters import Filters
from analytics.periods import Period, add_months

BANDS = (0.5, 0.8, 1.0, 1.2)
STUCK_FACTOR = 2.0  # "well above" a stage's average: more than twice as long


@dataclasses.dataclass(frozen=True)
class Scope:
    """Who and what: regions (rep region / deal country's region), countries, currency."""

    regions: tuple[str, ...] = ()
    countries: tuple[str, ...] = ()
    currency: str = "EUR"

    @classmethod
    def from_filters(cls, filters: Filters) -> Scope:
        return cls(filters.regions, filters.countries, filters.currency)


def _rep_condition(scope: Scope, alias: str = "r.") -> tuple[str, dict]:
    if scope.regions:
        return f"list_contains($regions, {alias}region)", {"regions": list(scope.regions)}
    return "TRUE", {}


def _deal_condition(scope: Scope, alias: str = "o.") -> tuple[str, dict]:
    parts, params = ["TRUE"], {}
    if scope.regions:
        parts.append(
            f"{alias}country_code IN (SELECT country_code FROM countries "
            "WHERE list_contains($regions, region))"
        )
        params["regions"] = list(scope.regions)
    if scope.countries:
        parts.append(f"list_contains($countries, {alias}country_code)")
        params["countries"] = list(scope.countries)
    return " AND ".join(parts), params


def as_of(cur: duckdb.DuckDBPyConnection) -> dt.date | None:
    """What "now" means for the pipeline: the latest weekly snapshot or the latest close of a
    won or lost deal, whichever is later. The opportunities table is the current state, so a
    deal that closed after the last snapshot is closed now, not open."""
    return db.query_rows(
        cur,
        """
        SELECT max(day) FROM (
            SELECT max(snapshot_date) AS day FROM opportunity_snapshots
            UNION ALL SELECT max(close_date) FROM opportunities WHERE status <> 'open')
        """,
    )[0][0]


def latest_snapshot(cur: duckdb.DuckDBPyConnection) -> dt.date | None:
    return db.query_rows(cur, "SELECT max(snapshot_date) FROM opportunity_snapshots")[0][0]


# Latest stored rate of each currency into the reporting one, and the close-date rate.
LATEST_RATES_SQL = """
SELECT c.currency_code, r.units_per_eur / c.units_per_eur AS rate
FROM fx_daily c JOIN fx_daily r ON r.rate_date = c.rate_date AND r.currency_code = $currency
WHERE c.rate_date = (SELECT max(rate_date) FROM fx_daily WHERE currency_code = $currency)
"""


# --- attainment ---------------------------------------------------------------------------


def attainment(cur: duckdb.DuckDBPyConnection, period: Period, scope: Scope) -> pd.DataFrame:
    """Per rep with a quota in the period's quarters: quota_eur, booked_eur, attainment.

    Grain: one row per rep; sorted by attainment (best first) with rank."""
    condition, params = _rep_condition(scope)
    frame = db.query(
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
    frame["attainment"] = frame["booked_eur"] / frame["quota_eur"]
    frame = frame.sort_values(["attainment", "rep_id"], ascending=[False, True], ignore_index=True)
    frame["rank"] = np.arange(1, len(frame) + 1)
    return frame


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


def rollup(frame: pd.DataFrame, by: str) -> pd.DataFrame:
    """Attainment per team or region from the per-rep rows (sums, then the ratio)."""
    grouped = frame.groupby(by, as_index=False)[["quota_eur", "booked_eur"]].sum()
    grouped["reps"] = frame.groupby(by)["rep_id"].count().to_numpy()
    grouped["attainment"] = grouped["booked_eur"] / grouped["quota_eur"]
    return grouped.sort_values("attainment", ascending=False, ignore_index=True)


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
        frame = attainment(cur, quarter, scope)
        if frame.empty:
            continue
        rows.append(
            {
                "quarter": quarter.label,
                "start": quarter.start,
                "attainment": frame["booked_eur"].sum() / frame["quota_eur"].sum(),
                "reps_at_quota": int((frame["attainment"] >= 1).sum()),
                "reps": len(frame),
            }
        )
    return pd.DataFrame(rows, columns=["quarter", "start", "attainment", "reps_at_quota", "reps"])


# --- deals ---------------------------------------------------------------------------------


def _recent_condition(since: dt.date | None, rep_id: str | None) -> tuple[str, dict]:
    """Open deals and those closed on or after `since`; one rep's only, when given."""
    parts, params = [], {}
    if since is not None:
        parts.append("(o.status = 'open' OR o.close_date >= $since)")
        params["since"] = since
    if rep_id is not None:
        parts.append("o.rep_id = $rep")
        params["rep"] = rep_id
    return " AND ".join(["TRUE", *parts]), params


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
    condition, params = _deal_condition(scope)
    recent, recent_params = _recent_condition(since, rep_id)
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


def _between(dates: pd.Series, start: dt.date, end: dt.date) -> pd.Series:
    return (dates >= pd.Timestamp(start)) & (dates <= pd.Timestamp(end))


def stats_start(end: dt.date, months: int = 12) -> dt.date:
    """First day of the window win rate, deal size and cycle are measured over."""
    return add_months(end, -months) + dt.timedelta(days=1)


def closed_stats(frame: pd.DataFrame, end: dt.date, months: int = 12) -> dict:
    """Win rate by count and value, average won deal and cycle days over deals closed in the
    `months` up to `end`."""
    start = stats_start(end, months)
    closed = frame[(frame["status"] != "open") & _between(frame["close_date"], start, end)]
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


def pipeline_summary(frame: pd.DataFrame, quarter: Period, quota: float, stats: dict) -> dict:
    """Open pipeline due in the quarter, closed won in it, coverage and velocity."""
    due = frame[_between(frame["close_date"], quarter.start, quarter.end)]
    open_deals = due[due["status"] == "open"]
    won = due[due["status"] == "won"]
    open_amount, won_amount = float(open_deals["amount"].sum()), float(won["amount"].sum())
    remaining = quota - won_amount
    velocity = (
        len(open_deals) * stats["average_deal"] * stats["win_rate"] / stats["cycle_days"]
        if stats["cycle_days"]
        else np.nan
    )
    return {
        "quarter": quarter.label,
        "open": open_amount,
        "open_deals": len(open_deals),
        "won": won_amount,
        "quota": quota,
        "coverage": open_amount / remaining if remaining > 0 else np.nan,
        "velocity_per_day": velocity,
    }


def quota_in_currency(cur: duckdb.DuckDBPyConnection, quarter: Period, scope: Scope) -> float:
    """The quarter's quota of the reps in scope, EUR at the latest rate into the currency."""
    condition, params = _rep_condition(scope)
    value = db.query_rows(
        cur,
        f"""
        WITH latest AS ({LATEST_RATES_SQL})
        SELECT sum(q.quota_eur) * (SELECT rate FROM latest WHERE currency_code = 'EUR')
        FROM quotas q JOIN reps r USING (rep_id)
        WHERE q.quarter_start = $start AND {condition}
        """,
        params | {"start": quarter.start, "currency": scope.currency},
    )[0][0]
    return float(value or 0.0)


def stage_history(
    cur: duckdb.DuckDBPyConnection, scope: Scope, since: dt.date | None = None
) -> pd.DataFrame:
    """Per deal and stage: weeks seen in that stage, first and last seen. From the weekly
    snapshots (grain: one row per deal and stage); with `since`, of the open deals and
    those closed on or after it, so that stage averages reflect the recent sales process."""
    condition, params = _deal_condition(scope)
    recent, recent_params = _recent_condition(since, None)
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


def stage_conversion(frame: pd.DataFrame, history: pd.DataFrame, stats: dict) -> pd.DataFrame:
    """Each stage's conversion to the next among the deals closed in the stats window:
    reached the next stage / reached this one (a won deal reached every stage)."""
    closed = frame.loc[
        (frame["status"] != "open") & _between(frame["close_date"], stats["start"], stats["end"]),
        ["opportunity_id", "status"],
    ]
    order = {stage: i for i, stage in enumerate(STAGES)}
    seen = history[["opportunity_id", "stage"]].merge(closed, on="opportunity_id")
    seen = seen.assign(level=seen["stage"].map(order).astype("float64"))
    furthest = closed.merge(
        seen.groupby("opportunity_id", as_index=False)["level"].max(),
        on="opportunity_id",
        how="left",
    )
    level = furthest["level"].fillna(-1).to_numpy(copy=True)
    level[(furthest["status"] == "won").to_numpy()] = len(STAGES)
    rows = []
    for i, stage in enumerate(STAGES):
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


def funnel(frame: pd.DataFrame, conversion: pd.DataFrame, quarter: Period) -> pd.DataFrame:
    """Open deals due in the quarter by stage, next to each stage's conversion."""
    due = frame[
        (frame["status"] == "open") & _between(frame["close_date"], quarter.start, quarter.end)
    ]
    by_stage = due.groupby("stage")["amount"].agg(["count", "sum"])
    by_stage = by_stage.reindex(list(STAGES), fill_value=0)
    return conversion.assign(
        deals=by_stage["count"].astype(int).to_numpy(),
        amount=by_stage["sum"].astype(float).to_numpy(),
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


# --- pipeline changes ---------------------------------------------------------------------

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
    """
    condition, params = _deal_condition(scope)
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
    return pd.DataFrame({"step": CHANGE_STEPS, "amount": amounts}), details


def snapshot_dates(cur: duckdb.DuckDBPyConnection) -> list[dt.date]:
    return [
        r[0]
        for r in db.query_rows(
            cur, "SELECT DISTINCT snapshot_date FROM opportunity_snapshots ORDER BY 1"
        )
    ]


# --- forecast -----------------------------------------------------------------------------


def forecast(
    cur: duckdb.DuckDBPyConnection, quarter: Period, snapshot: dt.date, scope: Scope
) -> dict:
    """Commit, best case (incl. commit) and pipeline (all open) due in the quarter as of a
    snapshot, at the latest rates."""
    condition, params = _deal_condition(scope)
    rows = db.query_rows(
        cur,
        f"""
        WITH latest AS ({LATEST_RATES_SQL})
        SELECT s.forecast_category, sum(s.amount_local * l.rate)
        FROM opportunity_snapshots s JOIN opportunities o USING (opportunity_id)
        JOIN latest l ON l.currency_code = o.currency_code
        WHERE s.snapshot_date = $snapshot AND s.close_date BETWEEN $start AND $end
          AND s.forecast_category <> 'omitted' AND {condition}
        GROUP BY 1
        """,
        params
        | {
            "snapshot": snapshot,
            "start": quarter.start,
            "end": quarter.end,
            "currency": scope.currency,
        },
    )
    amounts = dict(rows)
    commit = float(amounts.get("commit") or 0.0)
    best = commit + float(amounts.get("best case") or 0.0)
    return {
        "snapshot": snapshot,
        "commit": commit,
        "best_case": best,
        "pipeline": best + float(amounts.get("pipeline") or 0.0),
    }


def forecast_accuracy(
    cur: duckdb.DuckDBPyConnection, quarters: list[Period], week: int, scope: Scope
) -> pd.DataFrame:
    """For each past quarter: what was in commit at the snapshot `week` weeks into it
    (deals due in the quarter) against what was won in it; accuracy = won / commit.
    Both in EUR (commit at the snapshot's rate, won at the close date's), so the ratio
    does not depend on the reporting currency."""
    condition, params = _deal_condition(scope)
    rows = []
    for quarter in quarters:
        target = quarter.start + dt.timedelta(weeks=week)
        commit, snapshot = db.query_rows(
            cur,
            f"""
            WITH chosen AS (SELECT min(snapshot_date) AS day FROM opportunity_snapshots
                        WHERE snapshot_date >= $target AND snapshot_date <= $end)
            SELECT sum(s.amount_local / f.units_per_eur), any_value(chosen.day)
            FROM chosen JOIN opportunity_snapshots s ON s.snapshot_date = chosen.day
            JOIN opportunities o USING (opportunity_id)
            JOIN fx_daily f ON f.rate_date = s.snapshot_date AND f.currency_code = o.currency_code
            WHERE s.close_date BETWEEN $start AND $end AND s.forecast_category = 'commit'
              AND {condition}
            """,
            params | {"target": target, "start": quarter.start, "end": quarter.end},
        )[0]
        won = db.query_rows(
            cur,
            f"""
            SELECT sum(o.amount_local / f.units_per_eur) FROM opportunities o
            JOIN fx_daily f ON f.rate_date = o.close_date AND f.currency_code = o.currency_code
            WHERE o.status = 'won' AND o.close_date BETWEEN $start AND $end AND {condition}
            """,
            params | {"start": quarter.start, "end": quarter.end},
        )[0][0]
        if snapshot is None:
            continue
        rows.append(
            {
                "quarter": quarter.label,
                "snapshot": snapshot,
                "commit_eur": commit or 0.0,
                "won_eur": won or 0.0,
                "accuracy": (won or 0.0) / commit if commit else np.nan,
            }
        )
    return pd.DataFrame(rows, columns=["quarter", "snapshot", "commit_eur", "won_eur", "accuracy"])


# --- activity vs impact and one rep -------------------------------------------------------


def activity_impact(
    cur: duckdb.DuckDBPyConnection, period: Period, scope: Scope, by: str
) -> pd.DataFrame:
    """Activities in the period per rep or per account next to the revenue booked in it
    (order lines, reported in the currency) and the open pipeline (latest rates)."""
    key = {"rep": "rep_id", "account": "customer_id"}[by]
    name = {
        "rep": "(SELECT name FROM reps WHERE rep_id = k.key)",
        "account": "(SELECT name FROM customers WHERE customer_id = k.key)",
    }[by]
    deal_condition, params = _deal_condition(scope, "o.")
    line_condition, _ = _deal_condition(scope, "l.")
    activity_condition = (
        "a.customer_id IN (SELECT customer_id FROM customers o WHERE " + deal_condition + ")"
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
            SELECT l.{key} AS key, sum(l.net_amount_eur * f.units_per_eur) AS revenue
            FROM order_lines l
            JOIN fx_daily f ON f.rate_date = l.order_date AND f.currency_code = $currency
            WHERE l.order_date BETWEEN $start AND $end AND l.{key} IS NOT NULL AND {line_condition}
            GROUP BY 1
        ),
        pipe AS (
            SELECT o.{key} AS key, sum(o.amount_local * x.rate) AS pipeline
            FROM opportunities o JOIN latest x ON x.currency_code = o.currency_code
            WHERE o.status = 'open' AND {deal_condition}
            GROUP BY 1
        ),
        k AS (SELECT key FROM acts UNION SELECT key FROM revenue UNION SELECT key FROM pipe)
        SELECT k.key, {name} AS name, coalesce(acts.activities, 0) AS activities,
               coalesce(acts.meetings, 0) AS meetings, coalesce(revenue.revenue, 0) AS revenue,
               coalesce(pipe.pipeline, 0) AS pipeline
        FROM k LEFT JOIN acts USING (key) LEFT JOIN revenue USING (key) LEFT JOIN pipe USING (key)
        ORDER BY revenue DESC
        """,
        params | {"start": period.start, "end": period.end, "currency": scope.currency},
    )


def slipped_deals(
    cur: duckdb.DuckDBPyConnection, quarter: Period, scope: Scope, rep_id: str | None = None
) -> pd.DataFrame:
    """Deals due in the quarter at some snapshot during it whose close date was later moved
    past the quarter's end (grain: one row per deal; first and latest close date)."""
    condition, params = _deal_condition(scope)
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


# --- what each view of the page shows -----------------------------------------------------


def attainment_view(cur: duckdb.DuckDBPyConnection, quarter: Period, scope: Scope) -> dict:
    previous = periods.quarter(add_months(quarter.start, -3))
    year = Period(dt.date(quarter.end.year, 1, 1), quarter.end, f"Year to date {quarter.end.year}")
    recent = [periods.quarter(add_months(quarter.start, -3 * i)) for i in range(7, -1, -1)]
    ytd = attainment(cur, year, scope)
    board = leaderboard(cur, quarter, previous, scope).merge(
        ytd[["rep_id", "attainment"]].rename(columns={"attainment": "ytd_attainment"}),
        on="rep_id",
        how="left",
    )
    return {"leaderboard": board, "ytd": ytd, "trend": trend(cur, recent, scope)}


def pipeline_view(cur: duckdb.DuckDBPyConnection, scope: Scope) -> dict:
    """The current quarter (the one holding the latest snapshot) and the next one."""
    snapshot = latest_snapshot(cur)
    if snapshot is None:  # stage times and conversion need the weekly history
        return {}
    today = as_of(cur)
    since = stats_start(today)
    frame = deals(cur, scope, since)
    stats = closed_stats(frame, today)
    history = stage_history(cur, scope, since)
    conversion = stage_conversion(frame, history, stats)
    current = periods.quarter(today)
    quarters = [current, periods.quarter(add_months(current.start, 3))]
    return {
        "as_of": today,
        "snapshot": snapshot,
        "stats": stats,
        "summaries": [
            pipeline_summary(frame, q, quota_in_currency(cur, q, scope), stats) for q in quarters
        ],
        "funnels": [funnel(frame, conversion, q) for q in quarters],
        "stuck": stuck_deals(frame, history, today),
        "quarters": quarters,
    }


def forecast_view(
    cur: duckdb.DuckDBPyConnection, quarter: Period, scope: Scope, week: int = 4
) -> dict:
    """Forecast for `quarter` at its latest snapshot (the quarter's last, or the latest one)."""
    snapshot = db.query_rows(
        cur,
        "SELECT max(snapshot_date) FROM opportunity_snapshots WHERE snapshot_date <= $end",
        {"end": quarter.end},
    )[0][0]
    frame = deals(cur, scope, quarter.start)
    won = frame[
        (frame["status"] == "won") & _between(frame["close_date"], quarter.start, quarter.end)
    ]
    past = [periods.quarter(add_months(quarter.start, -3 * i)) for i in range(8, 0, -1)]
    return {
        "forecast": forecast(cur, quarter, snapshot, scope) if snapshot else None,
        "quota": quota_in_currency(cur, quarter, scope),
        "won": float(won["amount"].sum()),
        "accuracy": forecast_accuracy(cur, past, week, scope),
    }


def rep_view(cur: duckdb.DuckDBPyConnection, quarter: Period, scope: Scope, rep_id: str) -> dict:
    board = attainment(cur, quarter, Scope(currency=scope.currency))
    row = board[board["rep_id"] == rep_id]
    return {
        "attainment": row.iloc[0] if len(row) else None,
        "deals": deals(cur, Scope(currency=scope.currency), quarter.start, rep_id),
        "slipped": slipped_deals(cur, quarter, Scope(currency=scope.currency), rep_id),
        "activities": rep_activities(cur, rep_id, quarter),
    }


def reps(cur: duckdb.DuckDBPyConnection, scope: Scope) -> pd.DataFrame:
    condition, params = _rep_condition(scope)
    return db.query(
        cur, f"SELECT rep_id, name, team FROM reps r WHERE {condition} ORDER BY name", params
    )
