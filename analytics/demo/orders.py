"""Order lines: when customers order (seasonality, weekdays, growth), how many lines and
units, which products, at which discount and price, and returns.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import numpy as np
import pandas as pd

from analytics.demo.company import CHANNELS, END, LINES_PER_ORDER, MEAN_QUANTITY, START
from analytics.demo.prices import PriceLists
from analytics.demo.rates import RateMatrix
from analytics.demo.world import World, customer_ids
from analytics.demo.writing import insert_frame

COST_GROWTH = 0.035  # unit costs rise 3.5% a year
# Month-of-year seasonality (January slow, summer lull, year-end push).
SEASONALITY = np.array([0.80, 0.92, 1.10, 1.00, 1.00, 1.08, 0.82, 0.70, 1.05, 1.10, 1.15, 1.25])
RETURN_SHARE = 0.02


def _day_weights(world: World) -> np.ndarray:
    """Per-country cumulative distribution of order days: seasonality, weekdays, growth."""
    days = pd.date_range(START, END, freq="D")
    years_in = (np.arange(len(days)) / 365.25)[None, :]
    month = SEASONALITY[np.asarray(days.month) - 1]
    weekday = np.where(np.asarray(days.day_of_week) >= 5, 0.12, 1.0)
    # The last ten days of a quarter: the push to close.
    quarter_end = np.where(
        np.asarray((days + pd.Timedelta(days=10)).quarter != days.quarter), 1.3, 1.0
    )
    base = month * weekday * quarter_end
    weights = base[None, :] * (1 + world.country_growth[:, None]) ** years_in
    cdf = np.cumsum(weights, axis=1)
    return cdf / cdf[:, -1:]


def insert_order_lines(
    con: duckdb.DuckDBPyConnection,
    rng: np.random.Generator,
    world: World,
    prices: PriceLists,
    rates: RateMatrix,
    rows: int,
) -> None:
    # Orders: a customer, a day within the customer's active span, a number of lines.
    lines_lo = np.array([LINES_PER_ORDER[c][0] for c in CHANNELS])
    lines_hi = np.array([LINES_PER_ORDER[c][1] for c in CHANNELS])
    # A customer's orders are spread over its active span, so its share of orders is its
    # ordering rate times the (seasonal, growing) weight of that span.
    cdf = _day_weights(world)
    span_lo = np.where(world.cust_start > 0, cdf[world.cust_country, world.cust_start - 1], 0.0)
    span_hi = cdf[world.cust_country, world.cust_end]
    weight = world.cust_order_weight * (span_hi - span_lo)
    cust_p = weight / weight.sum()
    mean_lines = float((cust_p * (lines_lo + lines_hi)[world.cust_channel] / 2).sum())
    n_orders = int(rows / mean_lines * 1.1) + 100
    order_cust = rng.choice(world.n_customers, n_orders, p=cust_p)
    channel = world.cust_channel[order_cust]
    n_lines = rng.integers(lines_lo[channel], lines_hi[channel] + 1)
    total = np.cumsum(n_lines)
    while total[-1] < rows:  # the estimate fell short: add orders (rare)
        more = rng.choice(world.n_customers, n_orders // 10 + 10, p=cust_p)
        order_cust = np.concatenate([order_cust, more])
        ch = world.cust_channel[more]
        n_lines = np.concatenate([n_lines, rng.integers(lines_lo[ch], lines_hi[ch] + 1)])
        total = np.cumsum(n_lines)
    keep = int(np.searchsorted(total, rows)) + 1  # orders needed to reach `rows` lines
    order_cust, n_lines = order_cust[:keep], n_lines[:keep].copy()
    n_lines[-1] -= int(total[keep - 1] - rows)  # trim the last order to the exact count

    country = world.cust_country[order_cust]
    lo_cdf, hi_cdf = span_lo[order_cust], span_hi[order_cust]
    u = lo_cdf + rng.uniform(0, 1, len(order_cust)) * (hi_cdf - lo_cdf)
    order_day = np.empty(len(order_cust), dtype=np.int64)
    for ci in np.unique(country):
        mask = country == ci
        order_day[mask] = np.searchsorted(cdf[ci], u[mask])
    order_day = np.minimum(order_day, cdf.shape[1] - 1)
    # Number orders in date order, so order ids rise with dates.
    order = np.argsort(order_day, kind="stable")
    order_cust, order_day, n_lines = order_cust[order], order_day[order], n_lines[order]

    # Lines: repeat order attributes, pick products with regional preferences.
    line_order = np.repeat(np.arange(len(order_cust)), n_lines)
    starts = np.cumsum(n_lines) - n_lines
    line_no = np.arange(rows) - np.repeat(starts, n_lines) + 1
    cust = order_cust[line_order]
    day = order_day[line_order]
    country = world.cust_country[cust]
    channel = world.cust_channel[cust]
    product = np.empty(rows, dtype=np.int64)
    u = rng.uniform(0, 1, rows)
    for region, affinity in world.region_line_affinity.items():
        weights = world.popularity * np.array([affinity[line] for line in world.product_line])
        p_cdf = np.cumsum(weights) / weights.sum()
        mask = world.region[country] == region
        product[mask] = np.minimum(np.searchsorted(p_cdf, u[mask]), world.n_products - 1)

    mean_q = (
        np.array([MEAN_QUANTITY[c] for c in CHANNELS])[channel] * world.quantity_factor[product]
    )
    quantity = 1 + rng.poisson(mean_q)
    returns = rng.uniform(0, 1, rows) < RETURN_SHARE
    quantity[returns] = -np.maximum(1, quantity[returns] // 3)
    discount = (
        np.round(np.clip(world.cust_discount[cust] + rng.normal(0, 0.01, rows), 0, 0.45) * 200)
        / 200
    )
    discount[channel == 3] = np.round(world.cust_discount[cust][channel == 3] * 200) / 200

    start_ordinal = START.toordinal()
    year_idx = np.array(
        [dt.date.fromordinal(start_ordinal + int(d)).year - START.year for d in range(cdf.shape[1])]
    )[day]
    unit_price = prices.price[product, country, year_idx]
    currency = prices.currency[country, year_idx]
    net_local = quantity * unit_price * (1 - discount)
    net_eur = net_local / rates.lookup(day, currency)
    unit_cost = np.round(world.cost_eur[product] * (1 + COST_GROWTH) ** year_idx, 2)

    frame = pd.DataFrame(
        {
            "order_no": line_order + 1,
            "line_no": line_no.astype(np.int32),
            "day": day.astype(np.int32),
            "customer_id": pd.Categorical.from_codes(cust, customer_ids(world.n_customers)),
            "product_id": pd.Categorical.from_codes(
                product, [f"P{i + 1:03d}" for i in range(world.n_products)]
            ),
            "rep_id": pd.Categorical.from_codes(world.cust_rep[cust], list(world.reps["rep_id"])),
            "country_code": pd.Categorical.from_codes(country, list(world.country_code)),
            "channel": pd.Categorical.from_codes(channel, list(CHANNELS)),
            "currency_code": pd.Categorical.from_codes(currency, list(prices.currency_names)),
            "quantity": quantity.astype(np.int32),
            "unit_price_local": unit_price,
            "discount_pct": discount,
            "net_amount_local": net_local,
            "net_amount_eur": net_eur,
            "unit_cost_eur": unit_cost,
        }
    )
    # Lines arrive in date order (order numbers follow dates), which DuckDB keeps on insert.
    insert_frame(
        con,
        "order_lines",
        frame,
        select=(
            "'SO' || lpad(order_no::VARCHAR, 9, '0'), line_no, ?::DATE + day, customer_id::VARCHAR, "
            "product_id::VARCHAR, rep_id::VARCHAR, country_code::VARCHAR, channel::VARCHAR, "
            "currency_code::VARCHAR, quantity, unit_price_local, discount_pct, net_amount_local, "
            "net_amount_eur, unit_cost_eur"
        ),
        params=[START],
    )
