"""Pipeline projection of a quarter from stage conversion and slippage, beside the
statistical forecast of that quarter and the reps' commit.

For a quarter Q and the weekly snapshot S it is taken at:

    expected won(Q) = closed won in Q up to S
                      + sum over open deals due in Q in S of
                        amount x P(win | stage) x P(closes in its due quarter | won, stage, h)

h is how many quarters ahead of S's quarter Q lies (0: the current quarter, 1: the next).
Both probabilities are measured on the snapshots before S, one observation per deal and
week (a snapshot samples deals in proportion to the weeks they sit in a stage, so the
history is counted the same way):

- P(win | stage): of the deals seen open in that stage that were closed by S, the share won.
- P(closes in its due quarter | won, stage, h): of those won, seen in that stage with a close
  date h quarters after the snapshot's quarter, and whose due quarter ended before S, the
  share won inside the due quarter (the rest slipped to a later quarter or closed early).

The open deals are those of the pipeline roll-up (analytics/crm/pipeline): open in S, due
in Q, omitted ones excluded, each at S's ECB rate into the reporting currency, so the
projection and the reps' commit (closed won + open commit) are on one basis. A deal due in
another quarter that pulls in or slips into Q is not counted. The statistical forecast is of
net revenue (order lines), not of deal amounts, in EUR at constant as-of rates.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import duckdb
import numpy as np
import pandas as pd

from analytics import db, periods
from analytics.crm import pipeline, stages
from analytics.crm.scope import Scope, deal_condition
from analytics.forecast.batch import SeriesForecast
from analytics.periods import Period, add_months

HORIZONS = (0, 1)


@dataclass(frozen=True)
class QuarterProjection:
    """One quarter's three lines, in the reporting currency, and what they rest on."""

    quarter: Period
    horizon: int  # quarters after the snapshot's quarter
    snapshot: dt.date
    won_to_date: float
    open_deals: int
    open_amount: float
    expected_open: float | None  # None: a stage of an open deal has no measured rates
    commit_open: float
    unmeasured_stages: tuple[str, ...]

    @property
    def expected_won(self) -> float | None:
        return None if self.expected_open is None else self.won_to_date + self.expected_open

    @property
    def commit(self) -> float:
        """The reps' commit: closed won plus the open deals they put in commit."""
        return self.won_to_date + self.commit_open


def stage_rates(cur: duckdb.DuckDBPyConnection, snapshot: dt.date, scope: Scope) -> pd.DataFrame:
    """P(win | stage) and P(closes in its due quarter | won, stage, h) from the snapshots
    before `snapshot` (see the module doc).

    Grain: one row per open stage: stage, closed_weeks, won_weeks, p_win, and per horizon h
    in HORIZONS due_weeks_h (won deal-weeks whose due quarter ended before the snapshot),
    in_quarter_weeks_h and p_in_quarter_h. A probability with nothing to measure it is NaN.
    """
    funnel = stages.open_stages(cur)
    condition, params = deal_condition(scope)
    # Each deal-week is counted once, in a cell of its stage by: won or not, and for a won
    # deal whose due quarter ended before the snapshot's quarter began (so before the
    # snapshot) a slot 2h + c: h its horizon, c 1 when the deal closed inside its due quarter
    # (every (h, c) has a slot of its own). Quarter arithmetic is datediff('quarter'), which
    # counts quarter boundaries: the difference of year * 4 + quarter. Every stage is
    # counted and the funnel's open ones kept below (a filter on the stage names in the
    # scan costs more than the whole count), and three keys group faster than five.
    frame = db.query(
        cur,
        f"""
        WITH cells AS (
            SELECT s.stage, o.status = 'won' AS won,
                   CASE WHEN o.status = 'won' AND s.close_date < $snapshot_quarter
                        THEN 2 * datediff('quarter', s.snapshot_date, s.close_date)
                             + (datediff('quarter', s.close_date, o.close_date) = 0)::INT
                   END AS slot,
                   count(*) AS weeks
            FROM opportunity_snapshots s JOIN opportunities o USING (opportunity_id)
            WHERE s.snapshot_date < $snapshot AND o.status IN ('won', 'lost')
              AND o.close_date <= $snapshot AND {condition}
            GROUP BY ALL
        )
        SELECT stage,
               sum(weeks) AS closed_weeks,
               sum(weeks) FILTER (won) AS won_weeks,
               {_horizon_columns()}
        FROM cells GROUP BY stage
        """,
        params | {"snapshot": snapshot, "snapshot_quarter": periods.quarter(snapshot).start},
    )
    frame = pd.DataFrame({"stage": list(funnel)}).merge(frame, on="stage", how="left")
    counts = [c for c in frame.columns if c.endswith("_weeks") or "_weeks_" in c]
    frame[counts] = frame[counts].fillna(0).astype("int64")
    frame["p_win"] = _share(frame["won_weeks"], frame["closed_weeks"])
    for h in HORIZONS:
        frame[f"p_in_quarter_{h}"] = _share(frame[f"in_quarter_weeks_{h}"], frame[f"due_weeks_{h}"])
    return frame


def _horizon_columns() -> str:
    parts = []
    for h in HORIZONS:
        # Won, due h quarters ahead, and the due quarter over before the snapshot: slots
        # 2h (closed outside it) and 2h + 1 (inside).
        parts.append(f"sum(weeks) FILTER (slot IN ({2 * h}, {2 * h + 1})) AS due_weeks_{h}")
        parts.append(f"sum(weeks) FILTER (slot = {2 * h + 1}) AS in_quarter_weeks_{h}")
    return ", ".join(parts)


def _share(part: pd.Series, whole: pd.Series) -> pd.Series:
    whole = whole.astype("float64")
    return (part / whole.where(whole > 0)).astype("float64")


def project_quarter(
    quarter: Period, snapshot: dt.date, rates: pd.DataFrame, totals: pipeline.Totals
) -> QuarterProjection:
    """One quarter's projection from its roll-up totals in `snapshot` (the open deals per
    stage, pipeline.totals) and the measured `rates`: each stage's open amount times that
    stage's chance, which is the sum of every open deal's amount times its stage's chance."""
    horizon = _quarters_between(periods.quarter(snapshot), quarter)
    if horizon not in HORIZONS:
        raise ValueError(f"{quarter.label} is not the snapshot's quarter or the next one.")
    by_stage = rates.set_index("stage")
    probability = by_stage["p_win"] * by_stage[f"p_in_quarter_{horizon}"]
    held = {stage: cell for stage, cell in totals.stages.items() if cell[0]}
    chance = {stage: probability.get(stage, np.nan) for stage in held}
    unmeasured = tuple(sorted(stage for stage, p in chance.items() if np.isnan(p)))
    expected = None if unmeasured else float(sum(held[stage][1] * p for stage, p in chance.items()))
    return QuarterProjection(
        quarter=quarter,
        horizon=horizon,
        snapshot=snapshot,
        won_to_date=totals.won,
        open_deals=totals.deals,
        open_amount=float(sum(amount for _, amount in held.values())),
        expected_open=expected,
        commit_open=totals.levels["commit"],
        unmeasured_stages=unmeasured,
    )


def _quarters_between(first: Period, second: Period) -> int:
    return (second.start.year - first.start.year) * 4 + (
        second.start.month - first.start.month
    ) // 3


def project(
    cur: duckdb.DuckDBPyConnection, snapshot: dt.date, scope: Scope
) -> tuple[pd.DataFrame, list[QuarterProjection]]:
    """The stage rates and the projection of the snapshot's quarter and the next (both
    quarters' open deals from one roll-up statement)."""
    rates = stage_rates(cur, snapshot, scope)
    current = periods.quarter(snapshot)
    quarters = [current, periods.quarter(add_months(current.start, 3))]
    totals = pipeline.totals(cur, quarters, snapshot, scope)
    return rates, [
        project_quarter(q, snapshot, rates, t) for q, t in zip(quarters, totals, strict=True)
    ]


def quarter_forecast(item: SeriesForecast, quarter: Period) -> tuple[float, int] | None:
    """The statistical forecast of `quarter` (EUR at as-of rates): its observed months plus
    the forecast of the rest, with how many months are forecast; None when the forecast
    does not reach the quarter's end or the history does not cover its start."""
    history = dict(zip(item.history.months, item.history.values, strict=True))
    ahead = dict(zip(item.months, item.forecast, strict=True))
    total, forecast_months = 0.0, 0
    for i in range(3):
        month = add_months(quarter.start, i)
        if month in history:
            total += float(history[month])
        elif month in ahead:
            total += float(ahead[month])
            forecast_months += 1
        elif month < item.history.start:
            total += 0.0  # before the series' first sale: nothing was sold
        else:
            return None
    return total, forecast_months


def comparison(
    projections: list[QuarterProjection],
    item: SeriesForecast | None,
    eur_rate: float,
) -> pd.DataFrame:
    """The three lines per quarter, in the reporting currency.

    Grain: one row per quarter: quarter, pipeline_projection, statistical_forecast,
    forecast_months, reps_commit, won_to_date. `eur_rate` converts the statistical
    forecast's EUR (units of the reporting currency per EUR at the as-of date).
    """
    rows = []
    for p in projections:
        statistical = None if item is None else quarter_forecast(item, p.quarter)
        rows.append(
            {
                "quarter": p.quarter.label,
                "pipeline_projection": p.expected_won,
                "statistical_forecast": None if statistical is None else statistical[0] * eur_rate,
                "forecast_months": None if statistical is None else statistical[1],
                "reps_commit": p.commit,
                "won_to_date": p.won_to_date,
            }
        )
    frame = pd.DataFrame(rows)
    for column in ("pipeline_projection", "statistical_forecast", "forecast_months"):
        frame[column] = frame[column].astype("float64")
    return frame.replace({None: np.nan})
