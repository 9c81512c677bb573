"""The price-volume-mix-FX revenue bridge and constant-currency revenue (DESIGN.md rules).

An item is a (product, country). For base period B and current period C, in reporting
currency R: q = net units, R = reported revenue (each line at its day's rate), CC1 = the
current period's local revenue at B's average rates.

    P0_i = R0_i / q0_i          P1'_i = CC1_i / q1_i          ASP0 = R0 / Q0
    volume = (Q1 - Q0) * ASP0
    mix    = sum over continuing i of q1_i * P0_i  -  Q1 * ASP0
    price  = sum over continuing i of q1_i * (P1'_i - P0_i)
    new    = CC1 of the items that are not continuing
    fx     = R1 - CC1

Continuing items are those with positive net units in both periods, so that both prices
exist. Everything else sold in C goes to `new`: items not sold in B, items whose base units
were zero or negative (net returns, so no base price), and items with net returns in C.
Items sold only in B count in R0 and Q0 (their loss shows in volume and mix). With these
rules R0 + volume + mix + price + new + fx = R1 exactly (up to float rounding).
"""

from __future__ import annotations

import datetime as dt

import duckdb
import pandas as pd

from analytics import db, plan_rates, sales
from analytics.filters import Filters, dimension_conditions
from analytics.fx import RateUnavailable
from analytics.periods import Period, add_months, quarter

EFFECTS = ("base", "volume", "mix", "price", "new", "fx", "current")
DateRange = tuple[dt.date, dt.date]


def _conditions(filters: Filters | None) -> tuple[list[str], dict]:
    if filters is None:
        return [], {}
    return dimension_conditions(filters, alias="o.", product_line="product_id")


def bridge_items(
    con: duckdb.DuckDBPyConnection,
    base: DateRange,
    current: DateRange,
    currency: str = "EUR",
    filters: Filters | None = None,
    use_summary: bool = True,
    checked: bool = False,
    labelled: bool = False,
) -> pd.DataFrame:
    """Per (product, country): q0, r0 (base), q1, r1, cc1 (current), and `continuing`;
    with `labelled`, also product (its name), product_line, country (its name) and region,
    joined in the same query (NULL for a product or country the store does not know).

    Grain: one row per item sold in either period. Reads item_monthly where it can
    (`use_summary=False`: order_lines only). Raises RateUnavailable when the
    reporting currency lacks a rate on a day with sales, or a currency sold in the current
    period has no rate during the base period. `checked`: the caller has checked the
    reporting currency's rates over both periods (sales.check_reporting_currency).
    """
    (b_start, b_end), (c_start, c_end) = base, current
    if b_start > b_end or c_start > c_end:
        raise ValueError("A period's start must not be after its end.")
    currency = currency.strip().upper()
    for start, end in () if checked else (base, current):
        sales.check_reporting_currency(con, currency, start, end)
    lines, params = sales.summarised(
        con,
        "items",
        currency,
        [base, current],
        filters=filters,
        base_rates=base,
        key="bridge",
        use_summary=use_summary,
    )
    labels, label_joins = (
        (
            ", p.name AS product, p.product_line, c.name AS country, c.region",
            """
        LEFT JOIN products p ON p.product_id = i.product_id
        LEFT JOIN countries c ON c.country_code = i.country_code""",
        )
        if labelled
        else ("", "")
    )
    frame = db.query(
        con,
        f"""
        WITH lines AS (
            SELECT product_id, country_code, currency_code, quantity,
                   order_date BETWEEN $c_start AND $c_end AS is_current,
                   order_date BETWEEN $b_start AND $b_end AS is_base,
                   revenue_reported AS reported, revenue_constant AS constant
            FROM ({lines})
        )
        , items AS (
            SELECT product_id, country_code,
                   coalesce(sum(quantity) FILTER (WHERE is_base), 0) AS q0,
                   coalesce(sum(reported) FILTER (WHERE is_base), 0) AS r0,
                   coalesce(sum(quantity) FILTER (WHERE is_current), 0) AS q1,
                   coalesce(sum(reported) FILTER (WHERE is_current), 0) AS r1,
                   coalesce(sum(constant) FILTER (WHERE is_current), 0) AS cc1,
                   string_agg(DISTINCT currency_code, ', ')
                       FILTER (WHERE is_current AND constant IS NULL) AS missing_rates
            FROM lines GROUP BY ALL
        )
        SELECT i.*{labels}
        FROM items i{label_joins}
        ORDER BY i.product_id, i.country_code
        """,
        params | {"b_start": b_start, "b_end": b_end, "c_start": c_start, "c_end": c_end},
    )
    missing = sorted(set(", ".join(frame["missing_rates"].dropna()).split(", ")) - {""})
    if missing:
        raise RateUnavailable(
            f"No ECB rates for {', '.join(missing)} into {currency} during the base period "
            f"{b_start:%d %b %Y}–{b_end:%d %b %Y}, so the current period cannot be valued at "
            "base rates. Choose another base period or reporting currency."
        )
    frame = frame.drop(columns="missing_rates")
    frame[["q0", "q1"]] = frame[["q0", "q1"]].astype("int64")
    frame["continuing"] = (frame["q0"] > 0) & (frame["q1"] > 0)
    return frame


def bridge_from_items(items: pd.DataFrame) -> pd.DataFrame:
    """The bridge's effects from bridge_items' rows (see the module docstring)."""
    r0, r1, cc1 = items["r0"].sum(), items["r1"].sum(), items["cc1"].sum()
    q0, q1 = items["q0"].sum(), items["q1"].sum()
    if q0 <= 0:
        raise ValueError(
            "The base period has no net units sold for this selection, so it has no average "
            "price to bridge from. Choose a base period with sales."
        )
    asp0 = r0 / q0
    cont = items[items["continuing"]]
    p0 = cont["r0"] / cont["q0"]
    p1_at_base_rates = cont["cc1"] / cont["q1"]
    amounts = {
        "base": r0,
        "volume": (q1 - q0) * asp0,
        "mix": float((cont["q1"] * p0).sum()) - q1 * asp0,
        "price": float((cont["q1"] * (p1_at_base_rates - p0)).sum()),
        "new": float(items.loc[~items["continuing"], "cc1"].sum()),
        "fx": r1 - cc1,
        "current": r1,
    }
    return pd.DataFrame({"effect": list(EFFECTS), "amount": [float(amounts[e]) for e in EFFECTS]})


def revenue_bridge(
    con: duckdb.DuckDBPyConnection,
    base: DateRange,
    current: DateRange,
    currency: str = "EUR",
    filters: Filters | None = None,
) -> pd.DataFrame:
    """Revenue bridge from `base` to `current` (inclusive date ranges) in `currency`.

    Returns columns effect, amount; rows base, volume, mix, price, new, fx, current.
    `filters` narrows regions, countries, product lines and channels (its periods and
    currency are not used: the arguments say which).
    """
    return bridge_from_items(bridge_items(con, base, current, currency, filters))


def constant_currency_revenue(
    con: duckdb.DuckDBPyConnection,
    period: DateRange,
    base: DateRange,
    currency: str = "EUR",
    filters: Filters | None = None,
) -> float:
    """Revenue of `period` at `base`'s average rates: sum over currencies c of local
    revenue(c) x average rate(c -> currency) over base's ECB publication days."""
    (p_start, p_end), (b_start, b_end) = period, base
    currency = currency.strip().upper()
    conditions, params = _conditions(filters)
    where = " AND ".join(["o.order_date BETWEEN $p_start AND $p_end", *conditions])
    rows = db.query_rows(
        con,
        f"""
        WITH avg_rates AS ({sales.AVERAGE_RATES_SQL}),
        local AS (
            SELECT o.currency_code, sum(o.net_amount_local) AS amount
            FROM order_lines o WHERE {where} GROUP BY 1
        )
        SELECT l.currency_code, l.amount, a.rate FROM local l
        LEFT JOIN avg_rates a USING (currency_code)
        """,
        params
        | {
            "currency": currency,
            "p_start": p_start,
            "p_end": p_end,
            "base_start": b_start,
            "base_end": b_end,
        },
    )
    missing = sorted(code for code, _, rate in rows if rate is None)
    if missing:
        raise RateUnavailable(
            f"No ECB rates for {', '.join(missing)} into {currency} from {b_start:%d %b %Y} to "
            f"{b_end:%d %b %Y}: constant-currency revenue needs one. Choose another base period."
        )
    return float(sum(amount * rate for _, amount, rate in rows))


# --- budget to actual ------------------------------------------------------------------------

BUDGET_BRIDGE_DEFINITION = (
    "Budget to actual, in the reporting currency. The budget (EUR, per country and product "
    "line) is converted at the quarter's plan rate; actuals at plan rates convert each "
    "currency at the quarter's plan rates. A budget has no units, so each cell (country x "
    "product line) is given a budget price: its revenue in the same quarter last year, "
    "valued at this quarter's plan rates, per net unit; budget units = budget / that price. "
    "Then volume = (units - budget units) x the budget's average price; mix = the cells' "
    "units at their budget prices less units x that average; price = units x (price at plan "
    "rates - budget price), over cells with units in both; new = actuals at plan rates of "
    "the other cells less their budget (cells with no price last year, or net returns now); "
    "FX = reported - actuals at plan rates. Budget + volume + mix + price + new = actuals "
    "at plan rates (the operating variance is the four effects), + FX = reported."
)


def budget_cells(
    con: duckdb.DuckDBPyConnection,
    current: Period,
    currency: str = "EUR",
    filters: Filters | None = None,
    checked: bool = False,
) -> pd.DataFrame:
    """Per (country, product line) with a budget or sales: budget (at the quarter's plan
    rates), q1, a1 (actuals at plan rates), r1 (reported) in `current`; q_ly and a_ly (the
    same quarter last year at `current`'s plan rates); price_budget (a_ly / q_ly, NaN
    without positive units and revenue), q_budget (budget / price_budget), continuing.

    Grain: one row per cell. Raises PlanRateMissing when a currency sold in either quarter,
    or the reporting currency, has no plan rate for `current`; ValueError under a channel
    filter (budgets have no channel). `checked`: the caller has checked the reporting
    currency's rates over `current` (sales.check_reporting_currency)."""
    currency = currency.strip().upper()
    if filters is not None and filters.channels:
        raise ValueError("Budgets have no channel: a budget bridge cannot follow a channel filter.")
    if not checked:
        sales.check_reporting_currency(con, currency, current.start, current.end)
    year, quarter_no = current.start.year, plan_rates.quarter_of(current.start)
    last = quarter(add_months(current.start, -12))
    rates = plan_rates.rates_for(con, year, quarter_no)
    scope = filters if filters is not None else Filters(period=current, comparison=last)
    dims, params = dimension_conditions(scope, alias="s.")
    sold = db.query(
        con,
        f"""
        SELECT s.country_code, s.product_line, s.currency_code,
               s.order_date BETWEEN $c_start AND $c_end AS is_current,
               sum(s.units) AS units, sum(s.net_amount_local) AS local,
               sum(s.net_amount_eur * f.units_per_eur) AS reported
        FROM sales_daily s
        -- Last year's rows need no reporting rate: they are valued at this quarter's plan.
        LEFT JOIN fx_daily f ON f.rate_date = s.order_date AND f.currency_code = $currency
        WHERE (s.order_date BETWEEN $c_start AND $c_end OR s.order_date BETWEEN $l_start AND $l_end)
          {"".join(" AND " + c for c in dims)}
        GROUP BY ALL
        """,
        params
        | {
            "currency": currency,
            "c_start": current.start,
            "c_end": current.end,
            "l_start": last.start,
            "l_end": last.end,
        },
    )
    gaps = {(year, quarter_no, c) for c in {*sold["currency_code"], currency} if c not in rates}
    if gaps:
        raise plan_rates.PlanRateMissing(plan_rates.missing_message(gaps))
    sold["at_plan"] = [
        local / rates[code] * rates[currency]
        for local, code in zip(sold["local"], sold["currency_code"], strict=True)
    ]
    keys = ["country_code", "product_line"]
    now = sold[sold["is_current"]].groupby(keys)[["units", "at_plan", "reported"]].sum()
    now.columns = ["q1", "a1", "r1"]
    before = sold[~sold["is_current"]].groupby(keys)[["units", "at_plan"]].sum()
    before.columns = ["q_ly", "a_ly"]
    budget_dims, budget_params = dimension_conditions(scope, alias="b.")
    budget = db.query(
        con,
        f"""
        SELECT b.country_code, b.product_line, sum(b.budget_revenue_eur) AS budget_eur
        FROM budgets b WHERE b.quarter_start = $quarter_start
          {"".join(" AND " + c for c in budget_dims)}
        GROUP BY ALL
        """,
        budget_params | {"quarter_start": current.start},
    ).set_index(keys)
    cells = budget.join([now, before], how="outer").reset_index()
    cells["budget"] = cells["budget_eur"].astype("float64").fillna(0.0) * rates[currency]
    for column in ("q1", "a1", "r1", "q_ly", "a_ly"):
        cells[column] = cells[column].astype("float64").fillna(0.0)
    priced = (cells["q_ly"] > 0) & (cells["a_ly"] > 0) & (cells["budget"] > 0)
    cells["price_budget"] = (cells["a_ly"] / cells["q_ly"]).where(priced)
    cells["q_budget"] = (cells["budget"] / cells["price_budget"]).where(priced, 0.0)
    cells["continuing"] = priced & (cells["q1"] > 0)
    return cells.drop(columns="budget_eur").sort_values(keys, ignore_index=True)


def budget_bridge_from_cells(cells: pd.DataFrame) -> pd.DataFrame:
    """The budget bridge's effects (BUDGET_BRIDGE_DEFINITION) from budget_cells' rows:
    effect, amount with rows base (the budget), volume, mix, price, new, fx, current
    (reported). base + the five = current exactly (up to float rounding)."""
    budget, a1, r1 = cells["budget"].sum(), cells["a1"].sum(), cells["r1"].sum()
    priced = cells["price_budget"].notna()
    budget_priced, q_budget = cells.loc[priced, "budget"].sum(), cells["q_budget"].sum()
    cont = cells[cells["continuing"]]
    if q_budget > 0:
        asp_budget = budget_priced / q_budget
        q1 = cells["q1"].sum()
        volume = (q1 - q_budget) * asp_budget
        mix = float((cont["q1"] * cont["price_budget"]).sum()) - q1 * asp_budget
        price = float((cont["a1"] - cont["q1"] * cont["price_budget"]).sum())
        new = float(cells.loc[~cells["continuing"], "a1"].sum()) - (budget - budget_priced)
    else:  # no cell has a budget price: the whole operating variance is new business
        volume = mix = price = 0.0
        new = a1 - budget
    amounts = {
        "base": budget,
        "volume": volume,
        "mix": mix,
        "price": price,
        "new": new,
        "fx": r1 - a1,
        "current": r1,
    }
    return pd.DataFrame({"effect": list(EFFECTS), "amount": [float(amounts[e]) for e in EFFECTS]})


def budget_bridge(
    con: duckdb.DuckDBPyConnection,
    current: Period,
    currency: str = "EUR",
    filters: Filters | None = None,
    checked: bool = False,
) -> pd.DataFrame:
    """Bridge from the quarter's budget to its reported revenue (see budget_cells)."""
    return budget_bridge_from_cells(budget_cells(con, current, currency, filters, checked))
