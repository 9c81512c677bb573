"""Quarterly review: one quarter against the prior quarter, the same quarter last year or
the budget, with the revenue bridge, a regional scorecard, top movers and next quarter's
pipeline. Everything the page, presentation mode and the exports show is built here, once.

Comparison bases:
- prior quarter / same quarter last year: growth, constant currency and the bridge start
  from that quarter;
- budget: the headline compares revenue with the budget; growth, constant currency and the
  bridge start from the same quarter last year, because a budget has no units or prices
  to bridge from.

Budgets and quotas are held in EUR. Budgets are made at plan rates, so a budget is
converted at the quarter's plan rate of the reporting currency (analytics.plan_rates), and
the variance to budget splits into operating (actuals at plan rates - budget) and FX
(reported - actuals at plan rates), which add up to reported - budget exactly. The bridge
from budget to actual is bridge.budget_bridge. Budgets are set per country and product
line: under a channel filter there is no budget for the filtered revenue, so none is shown
(budget_note says why). Quota attainment is booked EUR revenue of the reps in the selected
regions over their EUR quota (a ratio, so currency-neutral), booked on the review's basis:
at plan rates on the plan basis, else reported (attainment_basis; analytics.crm.attainment's
one definition). Quotas are set per rep, so only a region filter
can scope them like revenue: under a country, product-line or channel filter the quota is
that of every rep in the selected regions (company-wide without a region filter), the
review says so (quota_scope) and shows no attainment, and no pipeline share of quota or
coverage when deals are narrowed to countries the quota does not follow. A sales rep
signed in sees only their own quota and deals (analytics.access): the quota and attainment
are theirs, and the review names them (quota_holder).
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import duckdb
import numpy as np
import pandas as pd

from analytics import access, bridge, catalog, db, fx, metrics, plan_rates, sales
from analytics.crm import attainment, pipeline
from analytics.crm.scope import Scope, snapshot_on_or_before
from analytics.filters import BASES, Filters, dimension_conditions
from analytics.periods import (
    Period,
    add_months,
    quarter,
)

COMPARISONS = {
    "prior_quarter": "Prior quarter",
    "last_year": "Same quarter last year",
    "budget": "Budget",
}
DRIVER_EFFECTS = ("volume", "mix", "price", "new", "fx")
EFFECT_LABELS = {
    "base": "Base",
    "volume": "Volume",
    "mix": "Mix",
    "price": "Price",
    "new": "New business",
    "fx": "FX",
    "current": "Current",
    "price_mix": "Price & mix",
}
DRIVER_DIMENSIONS = {
    "country": "Country",
    "region": "Region",
    "product": "Product",
    "product_line": "Product line",
}


# Filters a per-rep quota cannot follow (a rep sells in several countries, lines, channels).
UNSCOPED_BY_QUOTA = {
    "countries": "countries",
    "product_lines": "product lines",
    "channels": "channels",
}


def quota_scope(filters: Filters) -> str | None:
    """None when the quota covers what the revenue covers; else a sentence saying whose quota
    it is and that no ratio against the filtered revenue is shown."""
    ignored = [words for name, words in UNSCOPED_BY_QUOTA.items() if getattr(filters, name)]
    if not ignored:
        return None
    whose = (
        f"the reps in {', '.join(filters.regions)}"
        if filters.regions
        else "every rep (company-wide)"
    )
    return (
        f"Quotas are set per rep, not per {' or '.join(ignored)}: the quota shown is that of "
        f"{whose}, so no attainment or share of quota is shown against the filtered revenue."
    )


def quota_holder(cur: duckdb.DuckDBPyConnection) -> str | None:
    """ "Name (rep_id)" of the one rep whose quota a rep's restricted cursor holds, else None."""
    own = access.own_rep(cur)
    return None if own is None else f"{own[1]} ({own[0]})"


def base_period(current: Period, vs: str) -> Period:
    """The period growth and the bridge start from (see the module docstring)."""
    if vs not in COMPARISONS:
        raise ValueError(f"Unknown comparison {vs!r}; choose one of {', '.join(COMPARISONS)}.")
    if vs == "prior_quarter":
        return quarter(add_months(current.start, -3))
    return quarter(add_months(current.start, -12))


# --- the review ---------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Review:
    """Everything one quarterly review shows. Money is in filters.currency."""

    filters: Filters  # period = the quarter, comparison = the base period
    vs: str
    headline: dict[str, float | None]
    bridge: pd.DataFrame  # effect, amount
    items: pd.DataFrame  # bridge items with country, region, product and product line
    regions: pd.DataFrame
    country_movers: pd.DataFrame  # drivers(items, "country")
    account_movers: pd.DataFrame  # the MOVERS_SHOWN largest gains and losses only
    pipeline: dict
    data_date: dt.date
    data_source: str
    rates: str
    # vs budget: bridge.budget_bridge's effects (base = the budget); None otherwise or when
    # there is no budget for the selection (headline["budget_note"] says why).
    budget_bridge: pd.DataFrame | None = None

    @property
    def quarter(self) -> Period:
        return self.filters.period

    @property
    def base(self) -> Period:
        return self.filters.comparison

    @property
    def currency(self) -> str:
        return self.filters.currency

    @property
    def vs_label(self) -> str:
        if self.vs == "budget":
            return f"budget {self.quarter.label}"
        return f"{self.base.label} ({COMPARISONS[self.vs].lower()})"

    def scope(self) -> str:
        """The dimension filters in words."""
        parts = [
            f"{name}: {', '.join(values)}"
            for name, values in (
                ("Regions", self.filters.regions),
                ("Countries", self.filters.countries),
                ("Product lines", self.filters.product_lines),
                ("Channels", self.filters.channels),
            )
            if values
        ]
        return " · ".join(parts) or "All regions, countries, product lines and channels"

    @property
    def basis_label(self) -> str:
        return BASES[self.filters.basis].lower()

    def stamp(self) -> str:
        """The line every slide and export carries: what, against what, in what, from where."""
        return (
            f"{self.quarter.label} vs {self.vs_label} · {self.currency}, {self.basis_label} · "
            f"{self.scope()} · "
            f"Data to {self.data_date:%d %b %Y} ({self.data_source}) · Rates: {self.rates}"
        )


def build(
    cur: duckdb.DuckDBPyConnection,
    current: Period,
    vs: str,
    filters: Filters,
    store_catalog: catalog.Catalog | None = None,
) -> Review:
    """The quarterly review of `current` vs `vs` under the dimension filters and currency of
    `filters` (its period is replaced; its basis says which revenue `figures` leads with).
    The bridge, drivers and movers are reported (FX is one of their effects). Raises
    RateUnavailable, PlanRateMissing or ValueError with a message for the user when the
    figures cannot be computed. `store_catalog`: catalog.load's answer for this cursor when
    the caller holds it (the page does, per store version): its last date, rate status and
    data source are the review's stamp, not read again for every quarter and filter."""
    base = base_period(current, vs)
    scope = dataclasses.replace(filters, period=current, comparison=base)
    # One check of the reporting currency's rates from the base to the quarter's end serves
    # the bridge and the scorecard, and one look-up of the plan rates the budget figures;
    # the bridge items check the base's average rates of the quarter's currencies for both.
    sales.check_reporting_currency(cur, scope.currency, base.start, current.end)
    terms = budget_terms(cur, scope)
    items = bridge.bridge_items(
        cur,
        (base.start, base.end),
        (current.start, current.end),
        scope.currency,
        scope,
        checked=True,
        labelled=True,
    )
    if items.empty or items["q0"].sum() <= 0:
        raise ValueError(
            f"Nothing was sold in {base.label} for this selection, so there is no base to "
            "compare with. Choose a later quarter, another comparison or wider filters."
        )
    effects = bridge.bridge_from_items(items)
    regions = region_scorecard(cur, scope, vs, terms, checked=True)
    movers = drivers(items, "country")
    if store_catalog is None:
        data_date = db.query_rows(cur, "SELECT max(order_date) FROM sales_daily")[0][0]
        rates, source = fx.rate_status(cur), catalog.data_source(cur)
    else:
        data_date, rates = store_catalog.last_date, store_catalog.rates
        source = store_catalog.data_source
    headline = _headline(effects, items, regions) | {
        "quota_scope": quota_scope(scope),
        "quota_holder": quota_holder(cur),
        "budget_note": terms[0],
    }
    to_budget = None
    if vs == "budget" and headline["budget_note"] is None:
        to_budget = bridge.budget_bridge(cur, current, scope.currency, scope, checked=True)
    return Review(
        filters=scope,
        vs=vs,
        budget_bridge=to_budget,
        headline=headline,
        bridge=effects,
        items=items,
        regions=regions,
        country_movers=movers,
        account_movers=account_movers(cur, scope, top=MOVERS_SHOWN),
        pipeline=next_quarter_pipeline(cur, scope),
        data_date=data_date,
        data_source=source,
        rates=rates.label,
    )


def _headline(effects: pd.DataFrame, items: pd.DataFrame, regions: pd.DataFrame) -> dict:
    amounts = dict(zip(effects["effect"], effects["amount"], strict=True))
    r0, r1, cc1 = amounts["base"], amounts["current"], float(items["cc1"].sum())
    total = regions.loc[regions["region"] == TOTAL]
    row = total.iloc[0] if len(total) else None

    def pick(column: str):
        return None if row is None or pd.isna(row[column]) else float(row[column])

    growth = None if not r0 else metrics.growth(r1, r0)
    growth_cc = None if not r0 else metrics.growth(cc1, r0)
    return {
        "revenue": r1,
        "revenue_base": r0,
        "revenue_cc": cc1,
        "growth": growth,
        "growth_cc": growth_cc,
        "fx_effect": None if growth is None else growth - growth_cc,
        "fx_amount": r1 - cc1,
        "margin_pct": pick("margin_pct"),
        "margin_pct_base": pick("margin_pct_base"),
        "margin_coverage": pick("margin_coverage"),
        "revenue_plan": pick("revenue_plan"),
        "revenue_base_plan": pick("revenue_base_plan"),
        "budget": pick("budget"),
        "vs_budget": pick("vs_budget"),
        "vs_budget_operating": pick("vs_budget_operating"),
        "variance": pick("variance"),
        "variance_operating": pick("variance_operating"),
        "variance_fx": pick("variance_fx"),
        "attainment": pick("attainment"),
        "booked_eur": pick("booked_eur"),
        "quota_eur": pick("quota_eur"),
    }


# --- drivers and movers -------------------------------------------------------------------

_DRIVER_KEYS = {
    "country": ["country_code", "country", "region"],
    "region": ["region"],
    "product": ["product_id", "product", "product_line"],
    "product_line": ["product_line"],
}


def drivers(items: pd.DataFrame, by: str) -> pd.DataFrame:
    """Each group's part of every bridge effect; the parts add up to the bridge exactly.

    For a group g (ASP0 = the whole base period's average price, as in the bridge):
    volume_g = (Q1_g - Q0_g) x ASP0; price_g, new_g and fx_g as in the bridge but summed over
    g's items; mix_g = the rest of g's change (r1_g - r0_g minus the other four). Summed
    over groups each equals the bridge's effect (mix because the bridge reconciles).
    Rows sorted by change (r1 - r0), largest gain first; `reason` names the effect that
    explains most of the change in its direction (volume and mix counted together).
    """
    if by not in _DRIVER_KEYS:
        raise ValueError(f"Unknown driver dimension {by!r}; choose {', '.join(_DRIVER_KEYS)}.")
    keys = _DRIVER_KEYS[by]
    asp0 = items["r0"].sum() / items["q0"].sum()
    cont = items["continuing"]
    frame = items.assign(
        price=(items["cc1"] - items["q1"] * items["r0"] / items["q0"].where(cont)).where(cont, 0.0),
        new=items["cc1"].where(~cont, 0.0),
        fx=items["r1"] - items["cc1"],
    )
    groups = frame.groupby(keys, dropna=False, sort=False)[
        ["q0", "q1", "r0", "r1", "cc1", "price", "new", "fx"]
    ].sum()
    groups["volume"] = (groups["q1"] - groups["q0"]) * asp0
    groups["change"] = groups["r1"] - groups["r0"]
    groups["mix"] = (
        groups["change"] - groups["volume"] - groups["price"] - groups["new"] - groups["fx"]
    )
    groups = groups.reset_index()
    # A group's volume and mix together are its change in units at its own items' base
    # prices: that, not the volume bar alone, is what "volume" means for one country.
    groups["reason"] = reasons(
        groups.assign(volume=groups["volume"] + groups["mix"]), ("volume", "price", "new", "fx")
    )
    groups["growth"] = metrics.ratio(groups["change"], groups["r0"])
    return groups.sort_values("change", ascending=False, ignore_index=True)


def reasons(frame: pd.DataFrame, effects: tuple[str, ...]) -> pd.Series:
    """Per row, the effect that explains most of `change`, in the change's direction (the
    first of equal ones); "–" when none goes its way, "no change" when there is none."""
    parts = frame[list(effects)].to_numpy(dtype="float64")
    change = frame["change"].to_numpy(dtype="float64")
    # On arrays, not frames: a frame's idxmax and where cost milliseconds on a few rows.
    same_way = parts * change[:, None] > 0
    largest = np.where(same_way, np.abs(parts), -1.0).argmax(axis=1)
    labels = np.array([EFFECT_LABELS[e] for e in effects], dtype=object)[largest]
    labels = np.where(same_way.any(axis=1), labels, "–")
    labels = np.where(change != 0, labels, "no change")
    return pd.Series(labels, index=frame.index, dtype="str")


# Gains and losses each shown on screen, in the deck and in the exports.
MOVERS_SHOWN = 5


def top_movers(movers: pd.DataFrame, n: int = MOVERS_SHOWN) -> pd.DataFrame:
    """The n largest gains and the n largest losses, gains first (`movers` sorted by change,
    largest first, ties in a stated order: the first of equal changes is kept)."""
    change = movers["change"].to_numpy(dtype="float64")
    gains, losses = np.flatnonzero(change > 0), np.flatnonzero(change < 0)
    # Stable sorts keep the first of equal changes; one take of rows, not two frame sorts.
    gains = gains[np.argsort(-change[gains], kind="stable")[:n]]
    losses = losses[np.argsort(change[losses], kind="stable")[:n]]
    return movers.iloc[np.concatenate([gains, losses])].reset_index(drop=True)


def account_movers(
    cur: duckdb.DuckDBPyConnection,
    filters: Filters,
    use_summary: bool = True,
    top: int | None = None,
) -> pd.DataFrame:
    """Per customer with sales in the quarter or the base: change and why.

    An account buys many products, so its change splits into volume (net units x its own
    base average price), price & mix (the rest at base rates) and FX (reported minus
    constant currency); an account with no net units in the base is new business.
    Grain: one row per customer; sorted by change, largest gain first, equal changes by
    customer_id. With `top`, only the `top` largest gains and the `top` largest losses
    (top_movers' rows, picked in the query: tens of thousands of accounts are summed but
    only those leave the store, with their names). Reads account_monthly where it can
    (`use_summary=False`: order_lines only).
    """
    period, base = filters.period, filters.comparison
    lines, params = sales.summarised(
        cur,
        "accounts",
        filters.currency,
        [(base.start, base.end), (period.start, period.end)],
        filters=filters,
        base_rates=(base.start, base.end),
        key="movers",
        use_summary=use_summary,
    )
    shown = (
        "SELECT * FROM accounts"
        if top is None
        else """
            (SELECT * FROM accounts WHERE r1 - r0 > 0
             ORDER BY r1 - r0 DESC, customer_id LIMIT $top)
            UNION ALL
            (SELECT * FROM accounts WHERE r1 - r0 < 0
             ORDER BY r1 - r0, customer_id LIMIT $top)"""
    )
    frame = db.query(
        cur,
        f"""
        WITH lines AS (
            SELECT customer_id, quantity, order_date BETWEEN $c_start AND $c_end AS is_current,
                   revenue_reported AS reported, revenue_constant AS constant
            FROM ({lines})
        ),
        accounts AS (
            SELECT customer_id,
                   coalesce(sum(quantity) FILTER (WHERE NOT is_current), 0) AS q0,
                   coalesce(sum(reported) FILTER (WHERE NOT is_current), 0) AS r0,
                   coalesce(sum(quantity) FILTER (WHERE is_current), 0) AS q1,
                   coalesce(sum(reported) FILTER (WHERE is_current), 0) AS r1,
                   coalesce(sum(constant) FILTER (WHERE is_current), 0) AS cc1
            FROM lines GROUP BY customer_id
        ),
        shown AS ({shown})
        SELECT a.*, c.name AS customer, c.country_code, k.name AS country, c.segment
        FROM shown a
        JOIN customers c USING (customer_id)
        JOIN countries k ON k.country_code = c.country_code
        """,
        params
        | {"c_start": period.start, "c_end": period.end}
        | ({} if top is None else {"top": top}),
    )
    had_base = frame["q0"] > 0
    base_price = frame["r0"] / frame["q0"].where(had_base)
    frame["change"] = frame["r1"] - frame["r0"]
    frame["fx"] = frame["r1"] - frame["cc1"]
    frame["volume"] = ((frame["q1"] - frame["q0"]) * base_price).where(had_base, 0.0)
    frame["new"] = frame["cc1"].where(~had_base, 0.0)
    frame["price_mix"] = (frame["cc1"] - frame["r0"] - frame["volume"]).where(had_base, 0.0)
    # With no base units the rest of the change (base revenue lost) is not a price effect.
    frame.loc[~had_base, "volume"] = -frame.loc[~had_base, "r0"]
    frame["reason"] = reasons(frame, ("volume", "price_mix", "new", "fx"))
    frame["growth"] = metrics.ratio(frame["change"], frame["r0"])
    return frame.sort_values(["change", "customer_id"], ascending=[False, True], ignore_index=True)


# --- regional scorecard -------------------------------------------------------------------

TOTAL = "Total"


def region_scorecard(
    cur: duckdb.DuckDBPyConnection,
    filters: Filters,
    vs: str,
    terms: tuple[str | None, float | None] | None = None,
    checked: bool = False,
) -> pd.DataFrame:
    """Region x headline metrics for the quarter (filters.period) vs its base
    (filters.comparison), plus budget and quota attainment; a last row TOTAL.

    Columns: region, revenue, revenue_base, growth, revenue_cc, growth_cc, fx_effect (pp of
    growth as a fraction), margin_pct (over the revenue with a known unit cost),
    margin_coverage (that revenue's share), margin_pct_base, margin_change, revenue_plan
    (the quarter at its plan rates), revenue_base_plan (the base at its own plan rates, on
    the plan basis), budget (at the quarter's plan rate; NaN under a channel filter or
    without the reporting currency's plan rate), vs_budget (reported / budget - 1),
    vs_budget_operating (at plan rates / budget - 1), variance (reported - budget) =
    variance_operating (at plan rates - budget) + variance_fx (reported - at plan rates),
    booked_eur, quota_eur, attainment, vs_comparison (growth, or vs_budget when vs is
    "budget"). Grain: one row per region with sales in either period.

    Actuals at plan rates need every currency sold in the quarter to have a plan rate:
    vs budget (or on the plan basis) a missing one raises PlanRateMissing; otherwise the
    plan columns and the split are left empty. `terms` is budget_terms' answer when the
    caller has it; `checked`: the caller has checked the reporting currency's rates from
    the base's start to the quarter's end and the base's average rate of every currency
    sold in the quarter under the filters (bridge.bridge_items checks both).
    """
    if not checked:
        sales.check_reporting_currency(
            cur, filters.currency, filters.comparison.start, filters.period.end
        )
        sales.check_constant_rates(cur, filters, filters.period.start, filters.period.end)
    at_plan = True
    try:
        sales.check_plan_rates(cur, filters, filters.period.start, filters.period.end)
    except plan_rates.PlanRateMissing:
        if vs == "budget" or filters.basis == "plan":
            raise
        at_plan = False
    base_at_plan = filters.basis == "plan"
    if base_at_plan:
        sales.check_plan_rates(cur, filters, filters.comparison.start, filters.comparison.end)
    src, params = _scorecard_source(filters, at_plan)
    plan = {"revenue": "revenue_plan"}
    plan_figures = [metrics.select_list((("net_revenue", "revenue"),), plan, "cur", "_plan")]
    if base_at_plan:
        plan_figures.append(
            metrics.select_list((("net_revenue", "revenue"),), plan, "base", "_base_plan")
        )
    reported = {"revenue": "revenue_reported", "cost": "cost_reported"}
    figures = ", ".join(
        [
            metrics.select_list((("net_revenue", "revenue"),), reported, "cur"),
            metrics.select_list(
                (("gross_margin_pct", "margin_pct"), "margin_coverage"), reported, "cur"
            ),
            metrics.select_list(
                (("net_revenue", "revenue"),), {"revenue": "revenue_constant"}, "cur", "_cc"
            ),
            metrics.select_list(
                (("net_revenue", "revenue"), ("gross_margin_pct", "margin_pct")),
                reported,
                "base",
                "_base",
            ),
            *(plan_figures if at_plan else []),
        ]
    )
    frame = db.query(
        cur,
        f"""
        SELECT coalesce(region, '{TOTAL}') AS region, {figures}
        FROM ({src})
        GROUP BY ROLLUP (region)
        """,
        params,
    )
    money = ["revenue", "revenue_cc", "revenue_base"]
    for column in ("revenue_plan", "revenue_base_plan"):
        if column in frame:
            money.append(column)
        else:
            frame[column] = float("nan")
    frame[money] = frame[money].astype("float64").fillna(0.0)
    margins = ["margin_pct", "margin_pct_base", "margin_coverage"]
    frame[margins] = frame[margins].astype("float64")
    frame = frame.merge(
        _budgets(cur, filters, terms or budget_terms(cur, filters)), on="region", how="left"
    )
    frame = frame.merge(_attainment(cur, filters), on="region", how="left")
    frame["growth"] = metrics.growth(frame["revenue"], frame["revenue_base"])
    frame["growth_cc"] = metrics.growth(frame["revenue_cc"], frame["revenue_base"])
    frame["fx_effect"] = frame["growth"] - frame["growth_cc"]
    frame["margin_change"] = frame["margin_pct"] - frame["margin_pct_base"]
    frame["budget"] = frame["budget"].astype("float64")
    frame["vs_budget"] = metrics.growth(frame["revenue"], frame["budget"])
    frame["vs_budget_operating"] = metrics.growth(frame["revenue_plan"], frame["budget"])
    frame["variance_operating"] = frame["revenue_plan"] - frame["budget"]
    frame["variance_fx"] = (frame["revenue"] - frame["revenue_plan"]).where(frame["budget"].notna())
    frame["variance"] = frame["revenue"] - frame["budget"]
    frame["attainment"] = attainment.attainment_of(frame["booked_eur"], frame["quota_eur"])
    if quota_scope(filters):
        frame["attainment"] = float("nan")
    frame["vs_comparison"] = frame["vs_budget"] if vs == "budget" else frame["growth"]
    regions = frame[frame["region"] != TOTAL].sort_values("revenue", ascending=False)
    return pd.concat([regions, frame[frame["region"] == TOTAL]], ignore_index=True)


def _scorecard_source(filters: Filters, at_plan: bool) -> tuple[str, dict]:
    """The scorecard's rows: sales_daily of the quarter and its base under the dimension
    filters, summed per region x currency x quarter x period (cur / base), with the reported
    figures (sales.source's definitions: each day's rate, then summed) and, on those sums,
    revenue_constant (local x the base period's average rate) and, with `at_plan`,
    revenue_plan (local / plan[c] x plan[R] of the rows' quarter).

    Constant and plan revenue are linear in a currency's local revenue at one rate, so they
    are applied once per currency and quarter rather than on each of the quarter's ~10^5
    daily rows (the same sums up to float rounding, ~1e-15 relative); the joins to the rate
    tables are then on a few hundred rows. A currency without an average or plan rate gets
    NULL there: region_scorecard checks the rates first, as sales.source requires.
    Grain: one row per (region, currency_code, quarter_start, cur, base)."""
    conditions, params = dimension_conditions(filters, alias="s.")
    period, base = filters.period, filters.comparison
    where = " AND ".join(
        [
            "(s.order_date BETWEEN $p_start AND $p_end OR s.order_date BETWEEN $c_start AND $c_end)",
            *conditions,
        ]
    )
    plan_column = (
        ", d.net_amount_local / p.plan_local * p.plan_reporting AS revenue_plan" if at_plan else ""
    )
    plan_join = (
        f"""
        LEFT JOIN ({plan_rates.FACTORS_SQL}) p
          ON p.quarter_start = d.quarter_start AND p.currency_code = d.currency_code"""
        if at_plan
        else ""
    )
    sql = f"""
        WITH days AS (
            SELECT c.region, s.currency_code,
                   CAST(date_trunc('quarter', s.order_date) AS DATE) AS quarter_start,
                   s.order_date BETWEEN $p_start AND $p_end AS cur,
                   s.order_date BETWEEN $c_start AND $c_end AS base,
                   sum(s.net_amount_local) AS net_amount_local,
                   sum(s.net_amount_eur * f.units_per_eur) AS revenue_reported,
                   sum(s.known_cost_net_eur * f.units_per_eur) AS known_revenue_reported,
                   sum(s.cost_eur * f.units_per_eur) AS cost_reported
            FROM sales_daily s
            JOIN countries c ON c.country_code = s.country_code
            JOIN fx_daily f ON f.rate_date = s.order_date AND f.currency_code = $currency
            WHERE {where}
            GROUP BY ALL
        ),
        avg_rates AS ({sales.AVERAGE_RATES_SQL})
        SELECT d.*, d.net_amount_local * a.rate AS revenue_constant{plan_column}
        FROM days d
        LEFT JOIN avg_rates a ON a.currency_code = d.currency_code{plan_join}
    """
    return sql, params | {
        "currency": filters.currency,
        "p_start": period.start,
        "p_end": period.end,
        "c_start": base.start,
        "c_end": base.end,
        "base_start": base.start,
        "base_end": base.end,
    }


CHANNEL_BUDGET_NOTE = (
    "Budgets are set per country and product line, not per channel: there is no budget for "
    "the {channels} channel, so no comparison with budget is shown."
)


def budget_terms(
    cur: duckdb.DuckDBPyConnection, filters: Filters
) -> tuple[str | None, float | None]:
    """(budget_note, the reporting currency's plan rate for the quarter): the rate when the
    quarter's budget exists at the filtered grain in the reporting currency (the note is
    None); else why no vs-budget figure is shown (a channel filter, or no plan rate for
    the reporting currency) and no rate."""
    if filters.channels:
        return CHANNEL_BUDGET_NOTE.format(channels=", ".join(filters.channels)), None
    year, quarter_no = filters.period.start.year, plan_rates.quarter_of(filters.period.start)
    rate = plan_rates.rates_for(cur, year, quarter_no).get(filters.currency)
    if rate is None:
        return plan_rates.missing_message([(year, quarter_no, filters.currency)]), None
    return None, rate


def _budgets(
    cur: duckdb.DuckDBPyConnection, filters: Filters, terms: tuple[str | None, float | None]
) -> pd.DataFrame:
    """Budget per region and in total, in the reporting currency at the quarter's plan rate
    (the rates the EUR budget was made at: EUR -> R is x plan[R]). Empty when budget_terms
    gives a reason (a channel filter, or no plan rate for the reporting currency)."""
    note, rate = terms
    if note is not None:
        return pd.DataFrame({"region": pd.Series(dtype="str"), "budget": pd.Series(dtype=float)})
    conditions, params = dimension_conditions(filters, alias="b.")
    where = " AND ".join(["b.quarter_start = $quarter_start", *conditions])
    return db.query(
        cur,
        f"""
        SELECT coalesce(c.region, '{TOTAL}') AS region,
               sum(b.budget_revenue_eur) * $plan_rate AS budget
        FROM budgets b
        JOIN countries c USING (country_code)
        WHERE {where}
        GROUP BY ROLLUP (c.region)
        """,
        params | {"quarter_start": filters.period.start, "plan_rate": rate},
    )


def _attainment(cur: duckdb.DuckDBPyConnection, filters: Filters) -> pd.DataFrame:
    """Booked EUR revenue and EUR quota per rep region and in total (reps in the selected
    regions; see the module docstring): analytics.crm.attainment's one definition."""
    return attainment.by_region(
        cur, filters.period, Scope.from_filters(filters), TOTAL, attainment_basis(filters)
    )


def attainment_basis(filters: Filters) -> str:
    """Booked revenue at plan rates on the plan basis; reported otherwise (constant currency
    has no meaning for a quota: it is set at plan rates)."""
    return "plan" if filters.basis == "plan" else "reported"


# --- next quarter's pipeline --------------------------------------------------------------


def next_quarter_pipeline(cur: duckdb.DuckDBPyConnection, filters: Filters) -> dict:
    """Next quarter's pipeline as at the quarter's last weekly snapshot: the CRM roll-up
    (analytics.crm.pipeline: each deal and the EUR quota at the snapshot date's rate,
    omitted deals excluded, commit ⊂ best case ⊂ pipeline, coverage). Regions and countries
    filter deals by their country; the quota is that of the reps in the selected regions.
    Amounts are None when there is no snapshot."""
    upcoming = quarter(add_months(filters.period.start, 3))
    snapshot = snapshot_on_or_before(cur, filters.period.end)
    if snapshot is None:
        return pipeline.no_snapshot(upcoming)
    result = pipeline.rollup(cur, upcoming, snapshot, Scope.from_filters(filters))
    if filters.countries:
        # Deals follow the countries, the quota does not: a ratio of the two means nothing.
        result |= dict.fromkeys(("coverage", "commit_share", "best_case_share", "pipeline_share"))
    return result


# --- the headline figures for automation ----------------------------------------------------


def figures(data: Review) -> dict:
    """The headline figures of a review as plain values (None where there is none): what
    `python -m analytics figures` prints and the page shows.

    revenue is on the review's basis (reported; constant = at the base period's average
    rates; plan = at the quarter's plan rates); comparison_revenue is the budget vs budget,
    else the base period (reported, or at its own plan rates on the plan basis); growth =
    revenue / comparison_revenue - 1. The bridge effects are the budget bridge vs budget,
    else the reported bridge from the base period."""
    h, basis = data.headline, data.filters.basis
    revenue = {"reported": h["revenue"], "constant": h["revenue_cc"], "plan": h["revenue_plan"]}[
        basis
    ]
    if data.vs == "budget":
        comparison = h["budget"]
    else:
        comparison = h["revenue_base_plan"] if basis == "plan" else h["revenue_base"]
    effects = data.budget_bridge if data.vs == "budget" else data.bridge
    bridge_effects = (
        {}
        if effects is None
        else {e: float(a) for e, a in zip(effects["effect"], effects["amount"], strict=True)}
    )

    def plain(value):
        return None if value is None or pd.isna(value) else float(value)

    out = {
        "period": data.quarter.label,
        "compare": data.vs,
        "comparison_label": data.vs_label,
        "currency": data.currency,
        "basis": basis,
        "basis_label": data.basis_label,
        "scope": data.scope(),
        "revenue": plain(revenue),
        "comparison_revenue": plain(comparison),
        "growth": plain(metrics.growth(revenue, comparison))
        if revenue is not None and comparison
        else None,
        "revenue_reported": plain(h["revenue"]),
        "revenue_constant": plain(h["revenue_cc"]),
        "revenue_plan": plain(h["revenue_plan"]),
        "bridge": {e: plain(bridge_effects.get(e)) for e in bridge.EFFECTS},
    }
    if data.vs == "budget":
        out |= {
            "budget": plain(h["budget"]),
            "variance": plain(h["variance"]),
            "variance_operating": plain(h["variance_operating"]),
            "variance_fx": plain(h["variance_fx"]),
            "budget_note": h["budget_note"],
        }
    return out
