"""The CRM side: opportunities, their weekly snapshots (slips, amount changes, wins and
losses) and the reps' activities with customers.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from analytics import db
from analytics.crm.stages import OPEN_STAGES as STAGES
from analytics.demo.company import END, START, invoicing_currency
from analytics.demo.rates import RateMatrix
from analytics.demo.world import World, customer_ids
from analytics.demo.writing import insert_frame

STAGE_FORECAST = ("pipeline", "pipeline", "best case", "commit")
ACTIVITY_TYPES = np.array(["call", "email", "meeting", "visit", "demo"])
ACTIVITY_WEIGHTS = np.array([0.34, 0.30, 0.16, 0.12, 0.08])


def insert_pipeline(
    con, rng: np.random.Generator, world: World, rates: RateMatrix, rows: int
) -> None:
    """Opportunities and their weekly snapshots: deals that slip, grow, shrink, win and lose."""
    n = int(np.clip(rows // 40, 2_000, 50_000))
    eligible = np.flatnonzero(world.cust_channel != 3)
    weight = world.cust_order_weight[eligible]
    cust = rng.choice(eligible, n, p=weight / weight.sum())
    total_days = (END - START).days + 1
    created = rng.integers(0, total_days, n)
    cycle = rng.integers(30, 240, n)
    close = created + cycle  # the final close date (may lie after the data end: still open)
    # Most date changes are slips (first expected earlier, closing later); some deals are
    # pulled in (first expected later). One draw decides which, so the generator's sequence,
    # and with it every other demo figure, stays as it was.
    move = rng.uniform(0, 1, n)
    slipped, pulled = move < 0.35, (move >= 0.35) & (move < 0.45)
    shift = rng.integers(14, 91, n)
    first_close = np.where(slipped, close - shift, np.where(pulled, close + shift, close))
    first_close = np.maximum(first_close, created + 14)
    channel = world.cust_channel[cust]
    win_rate = np.array([0.45, 0.40, 0.30, 0.0])[channel]
    # Deal sizes are scaled so that expected won business matches booked revenue, which
    # keeps pipeline coverage (pipeline / quota) in a realistic 1-3x range at any --rows.
    size = np.array([4.0, 2.3, 1.0, 0.0])[channel] * rng.lognormal(0, 0.7, n)
    revenue = db.query_rows(con, "SELECT sum(net_amount_eur) FROM order_lines")[0][0]
    size = np.round(size * revenue / (size * win_rate).sum(), -2)
    changed = rng.uniform(0, 1, n) < 0.4
    first_amount_eur = np.where(changed, size * rng.uniform(0.7, 1.3, n), size)
    won = rng.uniform(0, 1, n) < win_rate
    closed = close <= total_days - 1
    lost_stage = rng.integers(0, 4, n)  # the furthest stage a lost deal reached

    country = world.cust_country[cust]
    years = np.array([dt.date.fromordinal(START.toordinal() + int(d)).year for d in created])
    currency = np.array(
        [
            rates.index[invoicing_currency(world.countries[c], y)]
            for c, y in zip(country, years, strict=True)
        ]
    )
    rate = rates.lookup(np.minimum(created, total_days - 1), currency)

    def stage_at(fraction: np.ndarray, idx: np.ndarray) -> np.ndarray:
        stage = np.minimum((fraction * 4).astype(np.int64), 3)
        lost = closed[idx] & ~won[idx]
        return np.where(lost, np.minimum(stage, lost_stage[idx]), stage)

    end_day = np.minimum(close, total_days - 1)
    data_end_fraction = np.clip((total_days - 1 - created) / cycle, 0, 0.999)
    open_stage = stage_at(data_end_fraction, np.arange(n))
    stage = np.where(
        closed, np.where(won, "Closed Won", "Closed Lost"), np.array(STAGES)[open_stage]
    )
    forecast = np.where(
        closed, np.where(won, "commit", "omitted"), np.array(STAGE_FORECAST)[open_stage]
    )
    status = np.where(closed, np.where(won, "won", "lost"), "open")
    start = pd.Timestamp(START)
    opp_ids = [f"OP{i + 1:06d}" for i in range(n)]
    opportunities = pd.DataFrame(
        {
            "opportunity_id": opp_ids,
            "customer_id": np.array(customer_ids(world.n_customers))[cust],
            "rep_id": world.reps["rep_id"].to_numpy()[world.cust_rep_any[cust]],
            "country_code": world.country_code[country],
            "currency_code": np.array(rates.currencies)[currency],
            "amount_local": np.round(size * rate, 0),
            "stage": stage,
            "forecast_category": forecast,
            "created_date": (start + pd.to_timedelta(created, unit="D")).date,
            "close_date": (start + pd.to_timedelta(close, unit="D")).date,
            "status": status,
        }
    )
    insert_frame(con, "opportunities", opportunities)

    # Weekly snapshots (Mondays) from creation to close or the data end.
    first_monday = created + (7 - (START.weekday() + created) % 7) % 7
    weeks = np.maximum(0, (end_day - first_monday) // 7 + 1)
    idx = np.repeat(np.arange(n), weeks)
    offsets = np.arange(weeks.sum()) - np.repeat(np.cumsum(weeks) - weeks, weeks)
    snap_day = first_monday[idx] + 7 * offsets
    fraction = (snap_day - created[idx]) / cycle[idx]
    snap_stage = stage_at(fraction, idx)
    late = fraction > 0.55  # slips and amount changes happen past mid-life
    snapshots = pd.DataFrame(
        {
            "snapshot_date": (start + pd.to_timedelta(snap_day, unit="D")).date,
            "opportunity_id": np.array(opp_ids)[idx],
            "stage": np.array(STAGES)[snap_stage],
            "amount_local": np.round(
                np.where(late, size[idx], first_amount_eur[idx]) * rate[idx], 0
            ),
            "close_date": (
                start + pd.to_timedelta(np.where(late, close[idx], first_close[idx]), unit="D")
            ).date,
            "forecast_category": np.array(STAGE_FORECAST)[snap_stage],
        }
    )
    insert_frame(con, "opportunity_snapshots", snapshots)


def insert_activities(con, rng: np.random.Generator, world: World, rows: int) -> None:
    n = int(np.clip(rows // 8, 5_000, 250_000))
    eligible = np.flatnonzero(world.cust_channel != 3)
    weight = world.cust_order_weight[eligible]
    cust = rng.choice(eligible, n, p=weight / weight.sum())
    total_days = (END - START).days + 1
    day = rng.integers(0, total_days, n)
    weekday = (START.weekday() + day) % 7
    day = day - np.where(weekday == 5, 1, 0) - np.where(weekday == 6, 2, 0)  # weekdays only
    order = np.argsort(day, kind="stable")
    cust, day = cust[order], day[order]
    frame = pd.DataFrame(
        {
            "activity_id": [f"A{i + 1:07d}" for i in range(n)],
            "rep_id": world.reps["rep_id"].to_numpy()[world.cust_rep_any[cust]],
            "customer_id": np.array(customer_ids(world.n_customers))[cust],
            "activity_date": (pd.Timestamp(START) + pd.to_timedelta(day, unit="D")).date,
            "type": rng.choice(ACTIVITY_TYPES, n, p=ACTIVITY_WEIGHTS),
        }
    )
    insert_frame(con, "activities", frame)
