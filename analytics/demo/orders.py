"""Order lines: when customers order (seasonality, weekdays, growth), how many lines and
units, which products, at which discount and price, and returns.

Generated in chunks of whole orders so that memory stays bounded at any size (issue 19):
the order-level arrays (a few bytes per order) are held whole, the line-level arrays only
for one chunk. Each line-level quantity (product, quantity, return, discount) comes from its
own stretch of the one generator's stream, in the order the unchunked generator drew them:
all product draws, then all quantities, then all return draws, then all discount noise. So
chunking does not change a single value, and the generator ends where it ended before, for
the parts drawn after the lines.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import duckdb
import numpy as np
import pandas as pd

from analytics import db
from analytics.demo.company import CHANNELS, END, LINES_PER_ORDER, MEAN_QUANTITY, START
from analytics.demo.prices import PriceLists
from analytics.demo.rates import RateMatrix
from analytics.demo.world import World, customer_ids
from analytics.demo.writing import insert_frame

COST_GROWTH = 0.035  # unit costs rise 3.5% a year
# Month-of-year seasonality (January slow, summer lull, year-end push).
SEASONALITY = np.array([0.80, 0.92, 1.10, 1.00, 1.00, 1.08, 0.82, 0.70, 1.05, 1.10, 1.15, 1.25])
RETURN_SHARE = 0.02
# Lines generated and inserted at a time: ~40 bytes a line in numpy plus DuckDB's copy of
# the chunk, so ~0.15 GB in flight; larger chunks are no faster.
CHUNK_LINES = 1_000_000
# Lines committed (and checkpointed) at a time. Until a transaction commits, DuckDB keeps its
# appended rows' primary-key index (order_id, line_no) in memory that it cannot evict (about
# 0.1 GB per million lines, ~10 GB at 100M in one transaction); once checkpointed the index
# is on disk and evictable, so the build's peak stays flat (1.25 GB at 6M and at 10M).
COMMIT_LINES = 3_000_000


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


@dataclass
class _Orders:
    """Orders in date order: customer, day number (0 = START) and line count (int32, int16
    and int8: ~20M orders at 100M lines)."""

    cust: np.ndarray
    day: np.ndarray
    n_lines: np.ndarray


def _orders(rng: np.random.Generator, world: World, rows: int) -> _Orders:
    """A customer, a day within the customer's active span and a number of lines per order.

    Arrays are narrowed to int32 as soon as they are drawn: at 100M lines there are ~30M
    orders, and every int64 array of them is a quarter of a gigabyte.
    """
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

    def draw_lines(customers: np.ndarray) -> np.ndarray:
        # In slices: integers() with per-element bounds draws element by element, so the
        # slices draw what one call would, without four int64 arrays of every order.
        out = np.empty(len(customers), dtype=np.int32)
        for a in range(0, len(customers), CHUNK_LINES):
            channel = world.cust_channel[customers[a : a + CHUNK_LINES]]
            out[a : a + CHUNK_LINES] = rng.integers(lines_lo[channel], lines_hi[channel] + 1)
        return out

    order_cust = rng.choice(world.n_customers, n_orders, p=cust_p).astype(np.int32)
    n_lines = draw_lines(order_cust)
    total = np.cumsum(n_lines, dtype=np.int64)
    while total[-1] < rows:  # the estimate fell short: add orders (rare)
        more = rng.choice(world.n_customers, n_orders // 10 + 10, p=cust_p).astype(np.int32)
        order_cust = np.concatenate([order_cust, more])
        n_lines = np.concatenate([n_lines, draw_lines(more)])
        total = np.cumsum(n_lines, dtype=np.int64)
    keep = int(np.searchsorted(total, rows)) + 1  # orders needed to reach `rows` lines
    order_cust, n_lines = order_cust[:keep].copy(), n_lines[:keep].copy()
    n_lines[-1] -= int(total[keep - 1] - rows)  # trim the last order to the exact count
    del total

    # The day: the inverse of the customer's country's day distribution, within its span.
    u = rng.uniform(0, 1, keep)
    lo_cdf = span_lo[order_cust]
    u *= span_hi[order_cust] - lo_cdf
    u += lo_cdf
    del lo_cdf
    country = world.cust_country[order_cust]
    order_day = np.empty(keep, dtype=np.int16)  # ~2,100 demo days
    for ci in np.unique(country):
        mask = country == ci
        order_day[mask] = np.searchsorted(cdf[ci], u[mask])
    del u, country
    np.minimum(order_day, cdf.shape[1] - 1, out=order_day)
    # Number orders in date order, so order ids rise with dates.
    order = np.argsort(order_day, kind="stable")
    order_cust, order_day, n_lines = order_cust[order], order_day[order], n_lines[order]
    del order
    return _Orders(order_cust, order_day, n_lines.astype(np.int8))  # at most 9 lines


class _LineDraws:
    """The four line-level draws, each from its own copy of the generator placed where the
    unchunked generator would have begun that draw.

    Uniforms take exactly one 64-bit output each, so the return draws begin `rows` outputs
    after the quantities end; the quantities (Poisson) take a varying number, so where they
    end is found by a first pass that draws them and throws them away.
    """

    def __init__(self, rng: np.random.Generator, rows: int):
        self.rng = rng
        self.rows = rows
        self.start = rng.bit_generator.state
        self.product = self._at(self.start, 0)
        self.quantity = self._at(self.start, rows)
        self.returns: np.random.Generator | None = None
        self.noise: np.random.Generator | None = None

    @staticmethod
    def _at(state: dict, advance: int) -> np.random.Generator:
        bits = np.random.PCG64()
        bits.state = state
        if advance:
            bits.advance(advance)
        return np.random.Generator(bits)

    def quantities_done(self) -> None:
        """After the first pass: place the return and discount draws, restart the others."""
        end = self.quantity.bit_generator.state
        self.returns = self._at(end, 0)
        self.noise = self._at(end, self.rows)
        self.product = self._at(self.start, 0)
        self.quantity = self._at(self.start, self.rows)

    def finish(self) -> None:
        """Leave the caller's generator where the unchunked draws left it. Uniform, Poisson
        and normal draws never touch the bit generator's buffered 32-bit half, so that keeps
        the value it had before the lines."""
        state = self.noise.bit_generator.state
        state["has_uint32"] = self.start["has_uint32"]
        state["uinteger"] = self.start["uinteger"]
        self.rng.bit_generator.state = state


def _chunks(orders: _Orders, rows: int, chunk_lines: int) -> list[tuple[int, int]]:
    """Order index ranges [first, stop) of about `chunk_lines` lines each."""
    ends = np.cumsum(orders.n_lines, dtype=np.int64)
    cuts = np.searchsorted(ends, np.arange(chunk_lines, rows, chunk_lines), side="left")
    bounds = np.unique(np.concatenate([[0], cuts + 1, [len(orders.cust)]]))
    return list(zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True))


def insert_order_lines(
    con: duckdb.DuckDBPyConnection,
    rng: np.random.Generator,
    world: World,
    prices: PriceLists,
    rates: RateMatrix,
    rows: int,
) -> None:
    """Generate and insert `rows` order lines, committing every COMMIT_LINES lines (so it
    must run outside a transaction, into a store that is deleted if the build fails)."""
    orders = _orders(rng, world, rows)
    chunks = _chunks(orders, rows, CHUNK_LINES)
    per_commit = max(1, COMMIT_LINES // CHUNK_LINES)
    draws = _LineDraws(rng, rows)
    # Product choice by region: each region's cumulative product distribution.
    product_cdf = {}
    for region, affinity in world.region_line_affinity.items():
        weights = world.popularity * np.array([affinity[line] for line in world.product_line])
        product_cdf[region] = np.cumsum(weights) / weights.sum()
    mean_quantity = np.array([MEAN_QUANTITY[c] for c in CHANNELS])

    def products_and_quantities(cust: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        country = world.cust_country[cust]
        product = np.empty(len(cust), dtype=np.int64)
        u = draws.product.uniform(0, 1, len(cust))
        region = world.region[country]
        for name, p_cdf in product_cdf.items():
            mask = region == name
            product[mask] = np.minimum(np.searchsorted(p_cdf, u[mask]), world.n_products - 1)
        mean_q = mean_quantity[world.cust_channel[cust]] * world.quantity_factor[product]
        return product, 1 + draws.quantity.poisson(mean_q)

    def line_customers(first: int, stop: int) -> tuple[np.ndarray, np.ndarray]:
        line_order = np.repeat(np.arange(first, stop), orders.n_lines[first:stop])
        return line_order, orders.cust[line_order]

    for first, stop in chunks:  # first pass: where the quantity draws end
        products_and_quantities(line_customers(first, stop)[1])
    draws.quantities_done()

    start_ordinal = START.toordinal()
    n_days = (END - START).days + 1
    day_year = np.array(
        [dt.date.fromordinal(start_ordinal + d).year - START.year for d in range(n_days)]
    )
    customer_names = customer_ids(world.n_customers)
    product_names = [f"P{i + 1:03d}" for i in range(world.n_products)]
    rep_names = list(world.reps["rep_id"])
    country_names = list(world.country_code)

    def insert_chunk(first: int, stop: int) -> None:
        line_order, cust = line_customers(first, stop)
        n_lines = orders.n_lines[first:stop].astype(np.int64)
        starts = np.cumsum(n_lines) - n_lines  # each order's first line within the chunk
        line_no = np.arange(len(cust)) - np.repeat(starts, n_lines) + 1
        day = orders.day[line_order]
        country = world.cust_country[cust]
        channel = world.cust_channel[cust]
        product, quantity = products_and_quantities(cust)
        returns = draws.returns.uniform(0, 1, len(cust)) < RETURN_SHARE
        quantity[returns] = -np.maximum(1, quantity[returns] // 3)
        discount = (
            np.round(
                np.clip(world.cust_discount[cust] + draws.noise.normal(0, 0.01, len(cust)), 0, 0.45)
                * 200
            )
            / 200
        )
        web = channel == 3
        discount[web] = np.round(world.cust_discount[cust][web] * 200) / 200

        year_idx = day_year[day]
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
                "customer_id": pd.Categorical.from_codes(cust, customer_names),
                "product_id": pd.Categorical.from_codes(product, product_names),
                "rep_id": pd.Categorical.from_codes(world.cust_rep[cust], rep_names),
                "country_code": pd.Categorical.from_codes(country, country_names),
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
        # Chunks arrive in date order (order numbers follow dates), and DuckDB keeps the
        # insertion order, so the table stays physically in date order.
        insert_frame(
            con,
            "order_lines",
            frame,
            select=(
                "'SO' || lpad(order_no::VARCHAR, 9, '0'), line_no, ?::DATE + day, "
                "customer_id::VARCHAR, product_id::VARCHAR, rep_id::VARCHAR, "
                "country_code::VARCHAR, channel::VARCHAR, currency_code::VARCHAR, quantity, "
                "unit_price_local, discount_pct, net_amount_local, net_amount_eur, unit_cost_eur"
            ),
            params=[START],
        )

    for batch in range(0, len(chunks), per_commit):
        with db.transaction(con):
            for chunk in chunks[batch : batch + per_commit]:
                insert_chunk(*chunk)
        db.execute(con, "CHECKPOINT")
    draws.finish()
