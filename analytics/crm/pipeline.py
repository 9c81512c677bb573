"""The pipeline and forecast roll-up: one figure, one rate rule (the board-pack rule).

A pipeline figure is the open pipeline due in a quarter AS AT a stated weekly snapshot:
the deals open in that snapshot with a close date in the quarter, each converted at the
snapshot date's ECB rate, the EUR quota too. Omitted deals are excluded (they are in no
forecast category). The levels are cumulative: commit ⊂ best case ⊂ pipeline (all open).
Closed won = deals won in the quarter up to the snapshot date, at the same rate, so that

    coverage = open pipeline / (quota - closed won)           (DESIGN's CRM definition)

compares amounts at one rate. A deal in a currency with no ECB rate on the snapshot day
cannot be converted: the figures leave it out and `unconverted_deals` names it, so that
every caption under them can say which deals are missing (id, amount, currency) instead of
the total dropping silently. Taken from a snapshot, the figure is reproducible: it does
not move when deals change later. The Quarterly review's next-quarter pipeline, Team's
pipeline coverage and Team's forecast are all this roll-up.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools

import duckdb
import numpy as np
import pandas as pd

from analytics import db, metrics
from analytics.crm.scope import Scope, deal_condition, rep_condition
from analytics.crm.stages import FORECAST_LEVELS
from analytics.fx import RateUnavailable
from analytics.periods import Period

RATE_RULE = (
    "Open deals due in the quarter as in the weekly snapshot of {snapshot:%d %b %Y}, each at "
    "that day's ECB rate (the EUR quota too); omitted deals excluded; best case includes "
    "commit, pipeline includes both; closed won: won in the quarter up to that day."
)

# Every currency's rate into the reporting one on the snapshot date.
_SNAPSHOT_RATES_SQL = """
SELECT c.currency_code, r.units_per_eur / c.units_per_eur AS rate
FROM fx_daily c JOIN fx_daily r ON r.rate_date = c.rate_date AND r.currency_code = $currency
WHERE c.rate_date = $snapshot
"""


# The deals behind the roll-up, as one FROM/JOIN/WHERE fragment for every statement that
# reads them: open in the snapshot ($snapshot), due in one of the quarters (`due`, from
# _due), not omitted, in scope (`condition`); x is their currency's rate from the CTE rates
# (NULL when it has none that day).
def _open_in_snapshot(due: str, condition: str) -> str:
    return f"""
        FROM opportunity_snapshots s
        JOIN opportunities o USING (opportunity_id)
        JOIN customers c ON c.customer_id = o.customer_id
        JOIN reps r ON r.rep_id = o.rep_id
        LEFT JOIN rates x ON x.currency_code = o.currency_code
        WHERE s.snapshot_date = $snapshot AND ({due})
          AND s.forecast_category <> 'omitted' AND {condition}
    """


def _quarter_params(quarters: list[Period], won_by: dt.date | None = None) -> dict:
    """Each quarter's bounds as parameters: start_i, end_i, and with `won_by` (the snapshot
    date) won_end_i, its end or that date when it comes first: won deals count up to it."""
    params = {}
    for i, quarter in enumerate(quarters):
        params[f"start_{i}"] = quarter.start
        params[f"end_{i}"] = quarter.end
        if won_by is not None:
            params[f"won_end_{i}"] = min(quarter.end, won_by)
    return params


def _due(column: str, count: int, end: str = "end") -> str:
    """SQL: `column` falls in one of the `count` quarters (up to their `end` bound)."""
    return " OR ".join(f"{column} BETWEEN $start_{i} AND ${end}_{i}" for i in range(count))


def _which(column: str, count: int, end: str = "end") -> str:
    """SQL: the index of the quarter `column` falls in (NULL in none)."""
    cases = " ".join(
        f"WHEN {column} BETWEEN $start_{i} AND ${end}_{i} THEN {i}" for i in range(count)
    )
    return f"CASE {cases} END"


def rate_rule(snapshot: dt.date) -> str:
    """The rule in words, naming the snapshot, for the screen and the exports."""
    return RATE_RULE.format(snapshot=snapshot)


def snapshot_deals(
    cur: duckdb.DuckDBPyConnection, quarter: Period, snapshot: dt.date, scope: Scope
) -> pd.DataFrame:
    """The deals behind the roll-up: open in the snapshot, due in the quarter, not omitted.

    Grain: one row per deal, as in the snapshot (stage, forecast_category, close_date,
    amount_local) with status "open" and amount at the snapshot date's rate. A deal whose
    currency has no rate that day is left out (`unconverted_deals` names it); raises
    RateUnavailable when the reporting currency itself has none, as nothing converts."""
    condition, params = deal_condition(scope)
    frame = db.query(
        cur,
        f"""
        WITH rates AS ({_SNAPSHOT_RATES_SQL})
        SELECT s.opportunity_id, o.customer_id, c.name AS customer, o.rep_id, r.name AS rep,
               o.country_code, o.currency_code, s.amount_local, s.stage, s.forecast_category,
               o.created_date, s.close_date, 'open' AS status, s.amount_local * x.rate AS amount
        {_open_in_snapshot(_due("s.close_date", 1), condition)}
        """,
        params | _quarter_params([quarter]) | {"snapshot": snapshot, "currency": scope.currency},
    )
    if frame["amount"].isna().any() and not _has_rate(cur, scope.currency, snapshot):
        raise RateUnavailable(
            f"No ECB rate for {scope.currency} on {snapshot:%d %b %Y}, so the pipeline in "
            "that day's snapshot cannot be converted. Choose another reporting currency or "
            "update the rates."
        )
    return frame[frame["amount"].notna()].reset_index(drop=True)


def _has_rate(cur: duckdb.DuckDBPyConnection, currency: str, day: dt.date) -> bool:
    return bool(
        db.query_rows(
            cur,
            "SELECT count(*) FROM fx_daily WHERE rate_date = $day AND currency_code = $currency",
            {"day": day, "currency": currency},
        )[0][0]
    )


def unconverted_deals(
    cur: duckdb.DuckDBPyConnection, quarter: Period, snapshot: dt.date, scope: Scope
) -> pd.DataFrame:
    """The deals the roll-up of `quarter` as at `snapshot` leaves out because their currency
    has no ECB rate on the snapshot day: open in the snapshot and due in the quarter (not
    omitted), or won in the quarter up to the snapshot. Grain: one row per deal
    (opportunity_id, customer, currency_code, amount_local, status); empty when the
    reporting currency itself has no rate that day (then nothing converts, and the roll-up
    raises instead)."""
    condition, params = deal_condition(scope)
    return db.query(
        cur,
        f"""
        WITH rates AS ({_SNAPSHOT_RATES_SQL}),
        deals AS (
            SELECT s.opportunity_id, o.currency_code, s.amount_local, 'open' AS status
            {_open_in_snapshot(_due("s.close_date", 1), condition)}
            UNION ALL
            SELECT o.opportunity_id, o.currency_code, o.amount_local, 'won' AS status
            FROM opportunities o
            WHERE o.status = 'won' AND ({_due("o.close_date", 1, "won_end")}) AND {condition}
        )
        SELECT d.opportunity_id, c.name AS customer, d.currency_code, d.amount_local, d.status
        FROM deals d JOIN opportunities o USING (opportunity_id)
        JOIN customers c ON c.customer_id = o.customer_id
        WHERE d.currency_code NOT IN (SELECT currency_code FROM rates)
          AND EXISTS (SELECT 1 FROM rates)
        ORDER BY d.status, d.opportunity_id
        """,
        params
        | _quarter_params([quarter], snapshot)
        | {"snapshot": snapshot, "currency": scope.currency},
    )


# unconverted_deals' columns when no deal is left out (the same names and dtypes).
NO_UNCONVERTED = pd.DataFrame(
    {
        "opportunity_id": pd.Series(dtype=object),
        "customer": pd.Series(dtype=object),
        "currency_code": pd.Series(dtype=object),
        "amount_local": pd.Series(dtype="float64"),
        "status": pd.Series(dtype=object),
    }
)


def unconverted_note(deals: pd.DataFrame, day: dt.date) -> str:
    """The caption naming the deals a figure leaves out for want of a rate on `day` (""
    when there are none): each deal's id, amount and currency, and the fix."""
    if deals is None or deals.empty:
        return ""
    unique = deals.drop_duplicates("opportunity_id")
    named = ", ".join(
        f"{row.opportunity_id} ({row.customer}, {row.currency_code} {row.amount_local:,.2f}"
        f"{', won' if row.status == 'won' else ''})"
        for row in unique.itertuples()
    )
    currencies = ", ".join(sorted(set(unique["currency_code"])))
    noun = "deal" if len(unique) == 1 else "deals"
    return (
        f" Not included: {len(unique)} {noun} in {currencies}, with no ECB rate on "
        f"{day:%d %b %Y}: {named}. Fetch newer rates or import a rates file on the Data page "
        "to count them."
    )


@dataclasses.dataclass(frozen=True)
class Totals:
    """Every total one quarter's roll-up needs, at the snapshot date's rate into the
    currency: the reps in scope's quota (None without one), the deals won in the quarter up
    to the snapshot, the open deals' count, each forecast category's amount (the open deals
    of snapshot_deals summed), the same per stage (stage -> (deals, amount)), and how many
    deals of either kind have no rate (unconverted_deals names them)."""

    quota: float | None
    won: float
    deals: int
    unconverted: int
    levels: dict[str, float]
    stages: dict[str, tuple[int, float]]


# totals' rows: a quarter, its quota and the EUR rate, and one cell of its deals (status,
# stage, forecast category: how many converted, their amount, how many had no rate).
_CELL_COLUMNS = (
    "q",
    "quota_eur",
    "eur_rate",
    "status",
    "stage",
    "category",
    "deals",
    "amount",
    "unconverted",
)


def totals(
    cur: duckdb.DuckDBPyConnection, quarters: list[Period], snapshot: dt.date, scope: Scope
) -> list[Totals]:
    """The totals of each of `quarters` (which must not overlap) as at `snapshot`, all in one
    statement: one scan of the snapshot for every quarter. Raises RateUnavailable when the
    currency itself has no rate that day, as nothing converts."""
    ordered = sorted(quarters, key=lambda q: q.start)
    if any(b.start <= a.end for a, b in itertools.pairwise(ordered)):
        raise ValueError("The quarters of one roll-up statement must not overlap.")
    reps, rep_params = rep_condition(scope)
    deals, deal_params = deal_condition(scope)
    n = len(quarters)
    starts = ", ".join(f"({i}, $start_{i})" for i in range(n))
    rows = db.query_rows(
        cur,
        f"""
        WITH rates AS ({_SNAPSHOT_RATES_SQL}),
        deals AS (
            SELECT {_which("s.close_date", n)} AS q, 'open' AS status, s.stage,
                   s.forecast_category, s.amount_local * x.rate AS amount
            {_open_in_snapshot(_due("s.close_date", n), deals)}
            UNION ALL
            SELECT {_which("o.close_date", n, "won_end")}, 'won', NULL, NULL,
                   o.amount_local * x.rate
            FROM opportunities o
            LEFT JOIN rates x ON x.currency_code = o.currency_code
            WHERE o.status = 'won' AND ({_due("o.close_date", n, "won_end")}) AND {deals}
        ),
        cells AS (
            SELECT q, status, stage, forecast_category, count(amount) AS deals,
                   sum(amount) AS amount, count(*) - count(amount) AS unconverted
            FROM deals GROUP BY ALL
        ),
        quarters(q, quarter_start) AS (VALUES {starts})
        SELECT t.q,
               (SELECT sum(qu.quota_eur) FROM quotas qu JOIN reps r USING (rep_id)
                WHERE qu.quarter_start = t.quarter_start AND {reps}) AS quota_eur,
               (SELECT rate FROM rates WHERE currency_code = 'EUR') AS eur_rate,
               c.status, c.stage, c.forecast_category, c.deals, c.amount, c.unconverted
        FROM quarters t LEFT JOIN cells c USING (q)
        ORDER BY ALL
        """,
        rep_params
        | deal_params
        | _quarter_params(quarters, snapshot)
        | {"snapshot": snapshot, "currency": scope.currency},
    )
    cells = [dict(zip(_CELL_COLUMNS, row, strict=True)) for row in rows]
    if cells[0]["eur_rate"] is None:
        raise RateUnavailable(
            f"No ECB rate for {scope.currency} on {snapshot:%d %b %Y}, the snapshot the "
            "pipeline is taken at. Choose another reporting currency or update the rates."
        )
    out = []
    for i in range(n):
        mine = [c for c in cells if c["q"] == i]  # a quarter without deals has one empty cell
        opened = [c for c in mine if c["status"] == "open"]
        by_stage: dict[str, tuple[int, float]] = {}
        for c in opened:
            count, amount = by_stage.get(c["stage"], (0, 0.0))
            by_stage[c["stage"]] = (count + c["deals"], amount + (c["amount"] or 0.0))
        quota_eur = mine[0]["quota_eur"]
        out.append(
            Totals(
                quota=None if quota_eur is None else float(quota_eur) * mine[0]["eur_rate"],
                won=float(sum(c["amount"] or 0.0 for c in mine if c["status"] == "won")),
                deals=sum(c["deals"] for c in opened),
                unconverted=sum(c["unconverted"] or 0 for c in mine),
                levels={
                    level: float(sum(c["amount"] or 0.0 for c in opened if c["category"] == level))
                    for level in FORECAST_LEVELS
                },
                stages=by_stage,
            )
        )
    return out


def levels(by_category: dict[str, float]) -> dict[str, float]:
    """Cumulative forecast levels (commit, best_case, pipeline) from each category's amount."""
    out, running = {}, 0.0
    for level in FORECAST_LEVELS:
        running += by_category.get(level, 0.0)
        out[level.replace(" ", "_")] = running
    return out


def coverage(open_pipeline: float, quota: float | None, won: float) -> float:
    """Open pipeline / (quota - closed won); NaN once the quota is met or without one."""
    if quota is None or quota - won <= 0:
        return np.nan
    return metrics.ratio(open_pipeline, quota - won)


def rollup(
    cur: duckdb.DuckDBPyConnection, quarter: Period, snapshot: dt.date, scope: Scope
) -> dict:
    """The roll-up of `quarter` as at `snapshot` (see the module docstring).

    Keys: quarter (label), snapshot_date, commit, best_case, pipeline, deals (count), quota,
    won, coverage, commit_share / best_case_share / pipeline_share (of quota), and
    unconverted_note (the deals left out for want of a rate, for the caption; "" when
    none). One query (totals); a second names the deals left out, when there are any."""
    (quarter_totals,) = totals(cur, [quarter], snapshot, scope)
    left_out = (
        unconverted_deals(cur, quarter, snapshot, scope) if quarter_totals.unconverted else None
    )
    return summary(quarter, snapshot, quarter_totals, left_out)


def summary(
    quarter: Period, snapshot: dt.date, quarter_totals: Totals, left_out: pd.DataFrame | None
) -> dict:
    """`rollup`'s figures from a quarter's `totals` and the deals they leave out."""
    quota, won = quarter_totals.quota, quarter_totals.won
    amounts = levels(quarter_totals.levels)
    shares = {f"{k}_share": metrics.ratio(v, quota) for k, v in amounts.items()}
    return {
        "quarter": quarter.label,
        "snapshot_date": snapshot,
        **amounts,
        "deals": quarter_totals.deals,
        "quota": quota,
        "won": won,
        "coverage": coverage(amounts["pipeline"], quota, won),
        **shares,
        "unconverted_note": unconverted_note(left_out, snapshot),
    }


EMPTY_KEYS = (
    "commit",
    "best_case",
    "pipeline",
    "deals",
    "quota",
    "won",
    "coverage",
    "commit_share",
    "best_case_share",
    "pipeline_share",
)


def no_snapshot(quarter: Period) -> dict:
    """The roll-up's keys when the store holds no snapshot to take it at."""
    return (
        {"quarter": quarter.label, "snapshot_date": None}
        | dict.fromkeys(EMPTY_KEYS)
        | {"unconverted_note": ""}
    )
