"""Pricing lab: prices and margins under exchange-rate changes.

A market is a country and the currency it is invoiced in. Its baseline is a period of
actual sales: net units Q0, local revenue (so the average local net price P0 = revenue /
Q0) and cost in EUR (unit cost C = cost / Q0). Baseline figures are valued at today's spot
rate S0 (units of the currency per EUR, the latest stored rate): local prices are what is
sticky, so "the baseline" is this year's volumes at these prices and this rate.

A scenario moves each currency's value against the EUR by a shock s (+10 % = the currency
buys 10 % more EUR): S1 = S0 / (1 + s). Then, per market:

    pass-through k:  P1 = P0 x (1 + k x (S1 / S0 - 1))     (k = 1 keeps the EUR price)
    elasticity e:    Q1 = Q0 x (P1 / P0) ^ e                (constant elasticity; e = 0: no response)
    cost change g:   C1 = C x (1 + g)                       (costs are in EUR)
    revenue (EUR)    R = Q x P / S          gross margin (EUR)  M = R - Q x C

Reporting-currency figures multiply the EUR amounts by the reporting currency's rate
(shocked too when the scenario shocks that currency).

Hedges: a share h of a currency's revenue (the hedge ratio) is sold forward at the hedged
rate H (units per EUR; the plan rate unless set), the rest converts at the market rate:

    revenue (EUR)    R = Q x P x (h / H + (1 - h) / S)

Prices and units still follow the market rate (pass-through is a pricing decision). Against
the plan (budget) rate Sp of the scenario's year (analytics.plan_rates), the FX effect on
margin is R - Q x P / Sp = Q x P x (h (1/H - 1/Sp) + (1 - h)(1/S - 1/Sp)): hedged at the plan
rate, only the unhedged share moves it. Margin at risk simulates the unhedged share only and
is also stated against the margin at plan rates. Plan figures convert into the reporting
currency at its plan rate (amount / Sp[c] x Sp[R], DESIGN.md).

Break-even rate: the rate S at which the unit margin P(S)/S - C1 is zero, unhedged (elasticity
does not matter: units scale revenue and cost alike):
    S* = P0 (1 - k) / (C1 - k P0 / S0)
and at a target gross margin m (share of revenue): S*_m = P0 (1 - k)(1 - m) / (C1 - k P0 (1 - m) / S0).
Below 100 % pass-through (k < 1) the margin falls as the currency weakens (S rises), so S* is
the weakest rate that still breaks even; above 100 % (the lab allows up to 200 %) local prices
overshoot the move, the margin falls as the currency strengthens instead, and S* (numerator
and denominator both negative) is the strongest such rate. No positive S* means the margin
never reaches that level at any rate (e.g. full pass-through, k = 1, keeps the EUR margin).

Default elasticity: -1.5, within the range commonly estimated for industrial B2B goods; an
analyst should set each market's own.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import sqlite3
from statistics import NormalDist

import duckdb
import numpy as np
import pandas as pd

from analytics import db, fx, metrics, plan_rates, sales, state

DEFAULT_ELASTICITY = -1.5
DEFAULT_PASS_THROUGH = 0.5
DEFAULT_TARGET_MARGIN = 0.30
DEFAULT_PATHS = 10_000
SHOCK_LIMITS = (-0.9, 5.0)  # a currency losing more than 90 % or gaining 500 % is a typo
PASS_THROUGH_LIMITS = (0.0, 2.0)
HEDGE_RATIO_LIMITS = (0.0, 1.0)
ELASTICITY_LIMITS = (-10.0, 0.0)
TRADING_DAYS = 252
LEGACY_EURO = tuple(fx.EURO_ADOPTIONS)


@dataclasses.dataclass(frozen=True)
class Episode:
    label: str
    start: dt.date
    end: dt.date
    currency: str  # the currency the episode is known for


EPISODES = {
    "chf_2015": Episode(
        "Swiss franc floor removed, Jan 2015", dt.date(2015, 1, 14), dt.date(2015, 1, 23), "CHF"
    ),
    "gbp_2016": Episode(
        "Sterling after the Brexit vote, Jun–Oct 2016",
        dt.date(2016, 6, 23),
        dt.date(2016, 10, 11),
        "GBP",
    ),
    "try_2018": Episode(
        "Turkish lira crisis, 2018", dt.date(2018, 1, 2), dt.date(2018, 9, 3), "TRY"
    ),
    "usd_2022": Episode(
        "Dollar strength, Jan–Sep 2022", dt.date(2022, 1, 3), dt.date(2022, 9, 28), "USD"
    ),
}


# --- the scenario -------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Scenario:
    """What an analyst sets. Percentages are fractions (0.1 = 10 %)."""

    countries: tuple[str, ...]
    baseline_start: dt.date
    baseline_end: dt.date
    product_lines: tuple[str, ...] = ()
    products: tuple[str, ...] = ()
    currency: str = "EUR"  # reporting currency
    shocks: dict[str, float] = dataclasses.field(default_factory=dict)  # currency -> s
    pass_through: dict[str, float] = dataclasses.field(default_factory=dict)  # country -> k
    elasticity: dict[str, float] = dataclasses.field(default_factory=dict)  # country -> e
    cost_change: float = 0.0
    target_margin: float = DEFAULT_TARGET_MARGIN
    episode: tuple[dt.date, dt.date] | None = None  # where the shocks came from, if replayed
    # Saved before hedges existed: both missing, so nothing is hedged.
    hedge_ratio: dict[str, float] = dataclasses.field(default_factory=dict)  # currency -> h
    hedge_rate: dict[str, float] = dataclasses.field(default_factory=dict)  # currency -> H

    @property
    def plan_year(self) -> int:
        """The year whose plan rates the scenario is measured against: its baseline's last."""
        return self.baseline_end.year

    def problems(self) -> list[str]:
        """Everything wrong with the inputs, in words; empty when the scenario can run."""
        found = []
        if not self.countries:
            found.append("Select at least one market.")
        if self.baseline_start > self.baseline_end:
            found.append("The baseline period ends before it starts.")
        low, high = SHOCK_LIMITS
        for code, shock in sorted(self.shocks.items()):
            if not low <= shock <= high:
                found.append(
                    f"The {code} shock of {shock:+.0%} is outside {low:+.0%} to {high:+.0%}: a "
                    "currency cannot lose all its value, and moves beyond these are typing errors."
                )
        for country, k in sorted(self.pass_through.items()):
            if not PASS_THROUGH_LIMITS[0] <= k <= PASS_THROUGH_LIMITS[1]:
                found.append(f"Pass-through for {country} must be between 0 % and 200 %.")
        for country, e in sorted(self.elasticity.items()):
            if not ELASTICITY_LIMITS[0] <= e <= ELASTICITY_LIMITS[1]:
                found.append(
                    f"Elasticity for {country} must be between -10 and 0 (demand falls as "
                    "prices rise)."
                )
        for code, h in sorted(self.hedge_ratio.items()):
            if not HEDGE_RATIO_LIMITS[0] <= h <= HEDGE_RATIO_LIMITS[1]:
                found.append(f"The {code} hedge ratio must be between 0 % and 100 %.")
        for code, rate in sorted(self.hedge_rate.items()):
            if not rate > 0:
                found.append(f"The {code} hedged rate must be above 0 (units per EUR).")
        if not -0.9 <= self.cost_change <= 5.0:
            found.append("The cost change must be between -90 % and +500 %.")
        if not 0.0 <= self.target_margin < 1.0:
            found.append("The target margin must be at least 0 % and below 100 %.")
        return found

    def to_json(self) -> str:
        data = dataclasses.asdict(self)
        data["baseline_start"] = self.baseline_start.isoformat()
        data["baseline_end"] = self.baseline_end.isoformat()
        data["episode"] = [d.isoformat() for d in self.episode] if self.episode else None
        return json.dumps(data, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Scenario:
        data = json.loads(text)
        for key in ("countries", "product_lines", "products"):
            data[key] = tuple(data.get(key, ()))
        data["baseline_start"] = dt.date.fromisoformat(data["baseline_start"])
        data["baseline_end"] = dt.date.fromisoformat(data["baseline_end"])
        if data.get("episode"):
            data["episode"] = tuple(dt.date.fromisoformat(d) for d in data["episode"])
        return cls(**data)


# --- baseline and spot rates ----------------------------------------------------------------


# A baseline row's measures, from item_monthly (whole months) or order_lines (other days):
# (summary expression on alias o, line expression on alias o). Currencies since replaced by
# the euro count in EUR. "known" sums are over the lines with a unit cost (a line without
# has no margin); an item_monthly row holds them per month (known_cost_*), so the months'
# sums are the lines'.
_LEGACY = "list_contains($legacy, o.currency_code)"
_BASELINE_MEASURES = {
    "known_units": (
        "o.known_cost_units",
        "CASE WHEN o.unit_cost_eur IS NOT NULL THEN o.quantity END",
    ),
    "known_local": (
        f"CASE WHEN {_LEGACY} THEN o.known_cost_net_eur ELSE o.known_cost_net_local END",
        f"CASE WHEN o.unit_cost_eur IS NOT NULL THEN (CASE WHEN {_LEGACY} THEN o.net_amount_eur "
        "ELSE o.net_amount_local END) END",
    ),
    "cost_eur": ("o.cost_eur", "o.quantity * o.unit_cost_eur"),
    "local_all": (
        f"CASE WHEN {_LEGACY} THEN o.net_amount_eur ELSE o.net_amount_local END",
        f"CASE WHEN {_LEGACY} THEN o.net_amount_eur ELSE o.net_amount_local END",
    ),
    "known_eur": (
        "o.known_cost_net_eur",
        "CASE WHEN o.unit_cost_eur IS NOT NULL THEN o.net_amount_eur END",
    ),
    "net_eur": ("o.net_amount_eur", "o.net_amount_eur"),
}


def _baseline_rows(scenario: Scenario, dims: list[str], use_summary: bool) -> tuple[str, dict]:
    """The baseline period's rows under `dims` (conditions on alias o: country and product
    columns, which item_monthly and order_lines share): item_monthly for whole months,
    order_lines for the days of partial months."""
    ranges = [(scenario.baseline_start, scenario.baseline_end)]
    months, rest = sales.split_window(ranges) if use_summary else ([], ranges)
    parts, params = [], {}
    for source, date, spans, index in (
        ("item_monthly", "month", months, 0),
        ("order_lines", "order_date", rest, 1),
    ):
        measures = ", ".join(
            f"{pair[index]} AS {name}" for name, pair in _BASELINE_MEASURES.items()
        )
        for i, (start, end) in enumerate(spans):
            where = " AND ".join([f"o.{date} BETWEEN ${date}_start_{i} AND ${date}_end_{i}", *dims])
            parts.append(
                f"SELECT o.country_code, o.currency_code, {measures} FROM {source} o WHERE {where}"
            )
            params |= {f"{date}_start_{i}": start, f"{date}_end_{i}": end}
    if not parts:  # an empty period
        measures = ", ".join(f"{pair[1]} AS {name}" for name, pair in _BASELINE_MEASURES.items())
        parts.append(
            f"SELECT o.country_code, o.currency_code, {measures} FROM order_lines o WHERE false"
        )
    return " UNION ALL ".join(parts), params


def baseline(
    cur: duckdb.DuckDBPyConnection, scenario: Scenario, use_summary: bool = True
) -> pd.DataFrame:
    """Per market (country x invoicing currency): units, local revenue and EUR cost of the
    baseline period's lines with a known unit cost (the scenario is a margin model, and a
    line without a cost has no margin), and margin_coverage, their share of the market's
    local revenue. Currencies since replaced by the euro count as EUR (at their fixed
    conversion rate). Grain: one row per market with sales; rows with no net units dropped
    and listed in `.attrs["no_units"]` so the page can say so; `.attrs["margin_coverage"]`
    is the known-cost share of the baseline's EUR revenue. Reads item_monthly for whole
    months (`use_summary=False`: order_lines only, the definition it is tested against)."""
    dims = ["list_contains($countries, o.country_code)"]
    params: dict = {"countries": list(scenario.countries), "legacy": list(LEGACY_EURO)}
    if scenario.products:
        dims.append("list_contains($products, o.product_id)")
        params["products"] = list(scenario.products)
    elif scenario.product_lines:
        dims.append(
            "o.product_id IN (SELECT product_id FROM products "
            "WHERE list_contains($lines, product_line))"
        )
        params["lines"] = list(scenario.product_lines)
    rows, row_params = _baseline_rows(scenario, dims, use_summary)
    frame = db.query(
        cur,
        f"""
        SELECT o.country_code, c.name AS country,
               CASE WHEN {_LEGACY} THEN 'EUR' ELSE o.currency_code END AS currency_code,
               coalesce(sum(o.known_units), 0) AS units,
               coalesce(sum(o.known_local), 0) AS revenue_local,
               sum(o.cost_eur) AS cost_eur,
               sum(o.local_all) AS revenue_local_all,
               coalesce(sum(o.known_eur), 0) AS known_eur,
               sum(o.net_eur) AS revenue_eur
        FROM ({rows}) o JOIN countries c USING (country_code)
        GROUP BY ALL ORDER BY revenue_local DESC
        """,
        params | row_params,
    )
    frame["units"] = frame["units"].astype("float64")
    frame["revenue_local"] = frame["revenue_local"].astype("float64")
    frame["margin_coverage"] = metrics.margin_coverage(
        frame["revenue_local"], frame.pop("revenue_local_all").astype("float64")
    )
    frame.attrs["margin_coverage"] = metrics.margin_coverage(
        frame.pop("known_eur").sum(), frame.pop("revenue_eur").sum()
    )
    no_units = frame[frame["units"] <= 0]
    frame = frame[frame["units"] > 0].reset_index(drop=True)
    frame.attrs["no_units"] = list(no_units["country_code"])
    return frame


@dataclasses.dataclass(frozen=True)
class Spot:
    rate: float  # units per EUR
    date: dt.date | None
    source: str

    @property
    def label(self) -> str:
        kind = "live fetch" if self.source == fx.LIVE_SOURCE else "stored ECB history"
        when = f" of {self.date:%d %b %Y}" if self.date else ""
        return f"{kind}{when}"


def spot_rates(cur: duckdb.DuckDBPyConnection, currencies) -> dict[str, Spot]:
    """The latest stored rate of each currency, its date and whether it came from a live
    fetch or the bundled ECB history. Raises RateUnavailable for a currency with none."""
    wanted = sorted(set(currencies) - {"EUR"})
    rows = db.query_rows(
        cur,
        """
        SELECT currency_code, arg_max(units_per_eur, rate_date), max(rate_date),
               arg_max(source, rate_date)
        FROM fx_rates WHERE list_contains($codes, currency_code) GROUP BY 1
        """,
        {"codes": wanted},
    )
    spots = {code: Spot(rate, day, source) for code, rate, day, source in rows}
    missing = [code for code in wanted if code not in spots]
    if missing:
        raise fx.RateUnavailable(f"No stored exchange rate for {', '.join(missing)}.")
    return spots | {"EUR": Spot(1.0, None, "EUR is the base currency")}


def episode_shocks(
    cur: duckdb.DuckDBPyConnection, currencies, start: dt.date, end: dt.date
) -> dict[str, float]:
    """Each currency's move against the EUR between two dates of the stored ECB history
    (the rates in force on those days), as a shock: S_start / S_end - 1."""
    shocks = {}
    for code in sorted(set(currencies)):
        if code == "EUR":
            shocks[code] = 0.0
            continue
        try:
            before = fx.units_per_eur(cur, code, start)
            after = fx.units_per_eur(cur, code, end)
        except fx.RateUnavailable:
            continue  # the page lists currencies the episode cannot replay
        shocks[code] = before / after - 1
    return shocks


def available_episodes(cur: duckdb.DuckDBPyConnection) -> dict[str, Episode]:
    """The well-known episodes whose currency has stored rates at both ends."""
    found = {}
    for key, episode in EPISODES.items():
        if episode_shocks(cur, [episode.currency], episode.start, episode.end):
            found[key] = episode
    return found


# --- results ------------------------------------------------------------------------------


def _unit_margin_break_even(p0, s0, c1, k, m=0.0):
    """S where (1 - m) P(S)/S = C1; NaN where none is positive (see the module docstring).

    The unit margin (1 - m) P0 (1 - k) / S + k (1 - m) P0 / S0 - C1 is monotonic in S, so a
    root is unique when it exists: where numerator and denominator share a sign (both positive
    for k < 1, both negative for k > 1)."""
    numerator = p0 * (1 - k) * (1 - m)
    denominator = c1 - k * p0 * (1 - m) / s0
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = numerator / denominator
    return np.where(np.isfinite(rate) & (rate > 0), rate, np.nan)


def units_change(price_change, elasticity):
    """The relative change in units for a relative change in price under constant elasticity,
    Q1 / Q0 - 1 = (P1 / P0) ^ e - 1: e is the % change in units per 1 % in price only for
    small moves; larger ones compound (e = -1.5: +20 % in price gives -23.9 % in units, -20 %
    gives +39.8 %, where a straight line would say -30 % and +30 %)."""
    return (1 + price_change) ** elasticity - 1


def _margin(q0, p0, s0, c1, k, e, s1, hedged=0.0, hedge_rate=1.0):
    """Units, local price, EUR revenue and EUR margin at market rate s1 with a share `hedged`
    of the revenue converted at `hedge_rate` instead (arrays broadcast)."""
    price_factor = np.maximum(1 + k * (s1 / s0 - 1), 1e-6)  # a price never turns negative
    units = q0 * (1 + units_change(price_factor - 1, e))
    price = p0 * price_factor
    local = units * price
    # Divided, not multiplied by 1 / s1: an unmoved, unhedged market then gives back its
    # baseline revenue exactly (a margin change of 0, not 1e-13).
    revenue = local * (1 - hedged) / s1 + np.where(hedged > 0, local * hedged / hedge_rate, 0.0)
    return units, price, revenue, revenue - units * c1


def evaluate(
    frame: pd.DataFrame,
    scenario: Scenario,
    spots: dict[str, Spot],
    plan: dict[str, float] | None = None,
) -> tuple[pd.DataFrame, dict]:
    """Per-market results and totals, in the reporting currency.

    `plan`: units per EUR at plan rates of the scenario's year (plan_rates.rates_for), EUR 1;
    a currency without one has no plan figures (NaN) and is listed in totals["plan_missing"],
    and a hedge without a rate of its own needs it (a ValueError naming the currency).

    Columns: country_code, country, currency_code, spot, spot_label, shock, rate, hedge_ratio,
    hedge_rate, plan_rate, price_change,
    price_local_0, price_local_1, units_0, units_1, revenue_0, revenue_1, margin_0, margin_1,
    margin_change, margin_pct_0, margin_pct_1, margin_plan (the scenario's units and prices
    at plan rates), fx_vs_plan (margin_1 - margin_plan), break_even_rate, break_even_move,
    target_rate, target_move, pass_through_to_hold (NaN when the margin cannot be held or
    no shock moves the market).
    """
    plan = {"EUR": 1.0} | (plan or {})
    out = frame.copy()
    codes = out["currency_code"]
    out["spot"] = codes.map(lambda c: spots[c].rate)
    out["spot_label"] = codes.map(lambda c: spots[c].label)
    out["shock"] = codes.map(lambda c: scenario.shocks.get(c, 0.0)).astype("float64")
    out["rate"] = out["spot"] / (1 + out["shock"])
    out["plan_rate"] = codes.map(lambda c: plan.get(c, np.nan)).astype("float64")
    out["hedge_ratio"] = codes.map(lambda c: scenario.hedge_ratio.get(c, 0.0)).astype("float64")
    out["hedge_rate"] = [
        scenario.hedge_rate.get(c, rate) for c, rate in zip(codes, out["plan_rate"], strict=True)
    ]
    unpriced = sorted(
        set(out.loc[(out["hedge_ratio"] > 0) & out["hedge_rate"].isna(), "currency_code"])
    )
    if unpriced:
        raise ValueError(
            f"No plan rate for {', '.join(unpriced)} in {scenario.plan_year} to hedge at: set "
            "a hedged rate, or import plan rates (python -m analytics import plan_rates FILE)."
        )
    k = out["country_code"].map(lambda c: scenario.pass_through.get(c, DEFAULT_PASS_THROUGH))
    e = out["country_code"].map(lambda c: scenario.elasticity.get(c, DEFAULT_ELASTICITY))
    out["pass_through"], out["elasticity"] = k.astype("float64"), e.astype("float64")
    q0 = out["units"].to_numpy()
    p0 = (out["revenue_local"] / out["units"]).to_numpy()
    c0 = (out["cost_eur"] / out["units"]).to_numpy()
    c1 = c0 * (1 + scenario.cost_change)
    s0, s1 = out["spot"].to_numpy(), out["rate"].to_numpy()
    k, e = out["pass_through"].to_numpy(), out["elasticity"].to_numpy()

    reporting = spots[scenario.currency].rate
    reporting_1 = reporting / (1 + scenario.shocks.get(scenario.currency, 0.0))
    revenue_0 = q0 * p0 / s0
    margin_0 = revenue_0 - q0 * c0
    h, hedge_rate = out["hedge_ratio"].to_numpy(), out["hedge_rate"].to_numpy(dtype="float64")
    units_1, price_1, revenue_1, margin_1 = _margin(q0, p0, s0, c1, k, e, s1, h, hedge_rate)
    # The same units and prices at plan rates, into the reporting currency at its plan rate.
    reporting_plan = plan.get(scenario.currency, np.nan)
    plan_rate = out["plan_rate"].to_numpy()
    margin_plan = (units_1 * price_1 / plan_rate - units_1 * c1) * reporting_plan
    out["price_local_0"], out["price_local_1"] = p0, price_1
    out["price_change"] = price_1 / p0 - 1
    out["units_0"], out["units_1"] = q0, units_1
    out["revenue_0"], out["revenue_1"] = revenue_0 * reporting, revenue_1 * reporting_1
    out["margin_0"], out["margin_1"] = margin_0 * reporting, margin_1 * reporting_1
    out["margin_change"] = out["margin_1"] - out["margin_0"]
    out["margin_plan"] = margin_plan
    out["fx_vs_plan"] = out["margin_1"] - out["margin_plan"]
    out["margin_pct_0"] = margin_0 / revenue_0
    out["margin_pct_1"] = margin_1 / revenue_1
    out["break_even_rate"] = _unit_margin_break_even(p0, s0, c1, k)
    out["target_rate"] = _unit_margin_break_even(p0, s0, c1, k, scenario.target_margin)
    # As a move of the currency's value from today's spot (-20 % = it loses a fifth).
    out["break_even_move"] = out["spot"] / out["break_even_rate"] - 1
    out["target_move"] = out["spot"] / out["target_rate"] - 1
    out["pass_through_to_hold"] = [
        pass_through_to_hold(q0[i], p0[i], s0[i], c0[i], c1[i], e[i], s1[i])
        for i in range(len(out))
    ]
    totals = {
        name: float(out[name].sum())
        for name in ("revenue_0", "revenue_1", "margin_0", "margin_1", "margin_change")
    }
    totals["margin_pct_0"] = metrics.ratio(totals["margin_0"], totals["revenue_0"])
    totals["margin_pct_1"] = metrics.ratio(totals["margin_1"], totals["revenue_1"])
    totals["margin_pct_change"] = totals["margin_pct_1"] - totals["margin_pct_0"]
    totals["revenue_change"] = metrics.growth(totals["revenue_1"], totals["revenue_0"])
    totals["plan_year"] = scenario.plan_year
    totals["plan_missing"] = sorted(
        {c for c in [*codes, scenario.currency] if pd.isna(plan.get(c, np.nan))}
    )
    for name in ("margin_plan", "fx_vs_plan"):
        totals[name] = float(out[name].sum()) if not totals["plan_missing"] else np.nan
    return out, totals


def pass_through_to_hold(q0, p0, s0, c0, c1, e, s1, high: float = PASS_THROUGH_LIMITS[1]) -> float:
    """The pass-through k in [0, high] at which the market's EUR gross margin after the
    move equals its baseline margin; NaN when no move needs offsetting or none does it.

    The margin is not monotonic in k once demand responds, so the lowest k that reaches
    the baseline is taken: scan a grid, then bisect the first bracket.
    """
    if s1 == s0 and c1 == c0:
        return float("nan")
    target = q0 * (p0 / s0 - c0)
    grid = np.linspace(0.0, high, 201)
    gap = _margin(q0, p0, s0, c1, grid, e, s1)[3] - target
    if abs(gap[0]) < 1e-9 * max(1.0, abs(target)):
        return 0.0
    crossings = np.nonzero(np.sign(gap[:-1]) * np.sign(gap[1:]) <= 0)[0]
    if not len(crossings):
        return float("nan")
    low, up = grid[crossings[0]], grid[crossings[0] + 1]
    for _ in range(60):
        mid = (low + up) / 2
        if np.sign(_margin(q0, p0, s0, c1, mid, e, s1)[3] - target) == np.sign(gap[crossings[0]]):
            low = mid
        else:
            up = mid
    return float((low + up) / 2)


# --- margin at risk -----------------------------------------------------------------------


def log_returns(
    cur: duckdb.DuckDBPyConnection, currencies, end: dt.date, lookback_days: int
) -> pd.DataFrame:
    """Daily log-returns of units-per-EUR over the ECB publication days of the lookback
    window ending on `end` (rows: days, columns: currencies; EUR excluded)."""
    codes = sorted(set(currencies) - {"EUR"})
    rates = db.query(
        cur,
        """
        SELECT rate_date, currency_code, units_per_eur FROM fx_rates
        WHERE list_contains($codes, currency_code) AND rate_date BETWEEN $start AND $end
        ORDER BY rate_date
        """,
        {"codes": codes, "start": end - dt.timedelta(days=lookback_days), "end": end},
    )
    wide = rates.pivot(index="rate_date", columns="currency_code", values="units_per_eur")
    return np.log(wide).diff().dropna(how="all").reindex(columns=codes)


def volatility(returns: pd.DataFrame) -> pd.Series:
    """Daily volatility per currency: the sample standard deviation of its log-returns."""
    return returns.std(ddof=1)


def _daily_factor(returns: pd.DataFrame) -> np.ndarray:
    """F with F @ F.T = the sample covariance of the daily log-returns (zeros with fewer than
    two days of history)."""
    clean = returns.dropna()
    n = returns.shape[1]
    covariance = (
        np.atleast_2d(np.cov(clean.to_numpy(), rowvar=False, ddof=1))
        if len(clean) > 1
        else np.zeros((n, n))
    )
    values, vectors = np.linalg.eigh(covariance)
    return vectors * np.sqrt(np.clip(values, 0.0, None))


def horizon_multipliers(
    returns: pd.DataFrame, horizon_days: int, paths: int = DEFAULT_PATHS, seed: int = 1
) -> np.ndarray:
    """Rate multipliers S_horizon / S_start per path and currency, shape (paths, currencies).

    The model: daily log-returns are independent draws from a zero-mean normal with Σ, the
    sample covariance of the history (drift is left out: over weeks it is noise). Their sum
    over h days is then normal with covariance h Σ, exactly, so the horizon's log-change is
    drawn directly as sqrt(h) x F z (F F' = Σ, z standard normal per path): the distribution
    of h daily steps cumulated, with h times fewer draws, and nothing of the days between is
    needed (margin at risk values the horizon; the fan's daily bands are exact, _fan).
    Seeded, so a result can be reproduced exactly.
    """
    factor = _daily_factor(returns) * np.sqrt(horizon_days)
    rng = np.random.default_rng(seed)
    draws = rng.standard_normal((paths, returns.shape[1]))
    return np.exp(draws @ factor.T)


@dataclasses.dataclass(frozen=True)
class MarginAtRisk:
    margins: np.ndarray  # total gross margin per path, reporting currency
    expected: float  # the scenario's deterministic margin
    var_95: float  # expected - 5th percentile
    es_95: float  # expected - mean of the paths at or below the 5th percentile
    plan: float  # the scenario's margin at plan rates (NaN without plan rates)
    var_95_plan: float  # plan - 5th percentile: the shortfall against plan at 95 %
    fan: pd.DataFrame  # day, currency, p5, p25, p50, p75, p95 of the rate
    volatility: pd.Series  # daily, per currency


def margin_at_risk(
    results: pd.DataFrame,
    scenario: Scenario,
    spots: dict[str, Spot],
    returns: pd.DataFrame,
    horizon_days: int = 90,
    paths: int = DEFAULT_PATHS,
    seed: int = 1,
) -> MarginAtRisk:
    """Gross margin across simulated rates at the horizon, starting from the scenario's
    rates, with its pass-through, elasticity, costs and hedges (so zero volatility gives back
    the scenario's own margin): the hedged share converts at its hedged rate on every path,
    so only the unhedged share is at risk. Also against the margin at plan rates. Under
    10 ms at the defaults and ~70 ms at the lab's maximum (50,000 paths, 64 markets, 29
    currencies), so it takes no progress callback: the queries before it are where a
    session that ends stops."""
    codes = list(returns.columns)
    final = horizon_multipliers(returns, horizon_days, paths, seed)
    column = {code: i for i, code in enumerate(codes)}

    def path_rates(code: str, start: float) -> np.ndarray:
        return start * final[:, column[code]] if code in column else np.full(paths, start)

    total = np.zeros(paths)
    for row in results.itertuples():
        c0 = row.cost_eur / row.units
        s1 = path_rates(row.currency_code, row.rate)
        total += _margin(
            row.units,
            row.price_local_0,
            row.spot,
            c0 * (1 + scenario.cost_change),
            row.pass_through,
            row.elasticity,
            s1,
            row.hedge_ratio,
            row.hedge_rate,
        )[3]
    reporting_start = spots[scenario.currency].rate / (
        1 + scenario.shocks.get(scenario.currency, 0)
    )
    total *= path_rates(scenario.currency, reporting_start)
    expected = float(results["margin_1"].sum())
    cutoff = np.percentile(total, 5)
    plan = float(results["margin_plan"].sum()) if "margin_plan" in results else np.nan
    return MarginAtRisk(
        margins=total,
        expected=expected,
        var_95=float(expected - cutoff),
        es_95=float(expected - total[total <= cutoff].mean()),
        plan=plan,
        var_95_plan=float(plan - cutoff),
        fan=_fan(returns, scenario, spots, horizon_days),
        volatility=volatility(returns),
    )


FAN_QUANTILES = (5, 25, 50, 75, 95)


def _fan(
    returns: pd.DataFrame, scenario: Scenario, spots: dict[str, Spot], horizon_days: int
) -> pd.DataFrame:
    """Percentiles of each simulated rate by day. Under the model a rate's log-change after
    t days is normal with standard deviation sigma x sqrt(t), so the bands are exact, not
    sampled: rate_q(t) = start x exp(z_q x sigma x sqrt(t)). Rows: currency after currency,
    days 1..horizon."""
    codes = list(returns.columns)
    if not codes:
        return pd.DataFrame()
    days = np.arange(1, horizon_days + 1)
    start = np.array([spots[c].rate / (1 + scenario.shocks.get(c, 0.0)) for c in codes])
    spread = volatility(returns).to_numpy()[:, None] * np.sqrt(days)  # currency x day
    return pd.DataFrame(
        {"day": np.tile(days, len(codes)), "currency_code": np.repeat(codes, horizon_days)}
        | {
            f"p{q}": (start[:, None] * np.exp(NormalDist().inv_cdf(q / 100) * spread)).ravel()
            for q in FAN_QUANTILES
        }
    )


# --- price corridor -----------------------------------------------------------------------


def products(cur: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Every product for the price corridor's picker (grain: one row per product)."""
    return db.query(cur, "SELECT product_id, name, product_line FROM products ORDER BY 1")


def list_prices(cur: duckdb.DuckDBPyConnection, product_id: str, as_of: dt.date) -> pd.DataFrame:
    """The product's list price in each country valid on `as_of`, in local currency."""
    return db.query(
        cur,
        """
        SELECT p.country_code, c.name AS country, p.currency_code, p.list_price_local
        FROM price_list p JOIN countries c USING (country_code)
        WHERE p.product_id = $product AND p.valid_from <= $day
          AND (p.valid_to IS NULL OR p.valid_to >= $day)
        ORDER BY p.country_code
        """,
        {"product": product_id, "day": as_of},
    )


def price_corridor(
    prices: pd.DataFrame, spots: dict[str, Spot], currency: str, threshold: float = 0.15
) -> tuple[pd.DataFrame, pd.DataFrame, tuple[float, float]]:
    """Prices converted to `currency` at spot, the country pairs whose gap exceeds the
    threshold (parallel-import risk), and the corridor [low, high] that removes every flag.

    Gap of a pair = higher / lower - 1. The corridor is centred (geometrically) on the
    median price with high / low = 1 + threshold; each price outside moves to its edge.
    """
    if threshold <= 0:
        raise ValueError("The gap threshold must be above 0 %.")
    frame = prices.copy()
    to = spots[currency].rate
    frame["price"] = (
        frame["list_price_local"] / frame["currency_code"].map(lambda c: spots[c].rate) * to
    )
    centre = float(frame["price"].median()) if len(frame) else float("nan")
    low, high = centre / np.sqrt(1 + threshold), centre * np.sqrt(1 + threshold)
    frame["corridor_price"] = frame["price"].clip(low, high)
    frame["change"] = frame["corridor_price"] / frame["price"] - 1
    frame["corridor_price_local"] = frame["list_price_local"] * (1 + frame["change"])
    pairs = [
        (a.country, b.country, a.price, b.price, max(a.price, b.price) / min(a.price, b.price) - 1)
        for i, a in enumerate(frame.itertuples())
        for b in list(frame.itertuples())[i + 1 :]
    ]
    flags = pd.DataFrame(pairs, columns=["country_a", "country_b", "price_a", "price_b", "gap"])
    flags = flags[flags["gap"] > threshold].sort_values("gap", ascending=False, ignore_index=True)
    return frame, flags, (low, high)


# --- saved scenarios ----------------------------------------------------------------------


def save_scenario(con: sqlite3.Connection, name: str, scenario: Scenario, email: str) -> str:
    """Store a scenario under a name (a new one, or replacing one of the same name) in the
    state store (analytics/state.py), recording who saved it."""
    if len(name.strip()) > 80:
        raise ValueError("Keep the name under 80 characters.")
    return state.save_scenario(con, name, scenario.to_json(), email)


def saved_scenarios(con: sqlite3.Connection) -> pd.DataFrame:
    """scenario_id, name, created_at, created_by of every saved scenario, newest first."""
    return state.saved_scenarios(con)


def load_scenario(con: sqlite3.Connection, scenario_id: str) -> Scenario:
    return Scenario.from_json(state.scenario_params(con, scenario_id))


def delete_scenario(con: sqlite3.Connection, scenario_id: str, email: str) -> None:
    state.delete_scenario(con, scenario_id, email)


def run(cur: duckdb.DuckDBPyConnection, scenario: Scenario) -> tuple[pd.DataFrame, dict]:
    """Baseline, spot rates and results of a scenario (raises ValueError on bad inputs)."""
    problems = scenario.problems()
    if problems:
        raise ValueError(" ".join(problems))
    frame = baseline(cur, scenario)
    if frame.empty:
        raise ValueError(
            "The selected markets and products sold nothing in the baseline period. Widen the "
            "period or the selection."
        )
    spots = spot_rates(cur, set(frame["currency_code"]) | {scenario.currency})
    plan = plan_rates.rates_for(cur, scenario.plan_year)
    results, totals = evaluate(frame, scenario, spots, plan)
    totals["no_units"] = frame.attrs.get("no_units", [])
    totals["margin_coverage"] = frame.attrs.get("margin_coverage", float("nan"))
    return results, totals
