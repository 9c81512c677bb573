"""Sales converted to the reporting currency: reported (each day's rate) or at constant currency.

Reported: a line's EUR amount times the reporting currency's rate on the order date (the
EUR amount was converted at that same date's rate at load time, so this equals
local / rate[local] * rate[reporting] as DESIGN.md defines it).

Constant currency: local revenue of each currency times the average rate of a base period,
the mean over the base period's ECB publication days of units_per_eur[R] / units_per_eur[c].
Costs are in EUR, so they are converted the same way as currency EUR.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import duckdb

from analytics import db
from analytics.filters import Filters, dimension_conditions
from analytics.fx import RateUnavailable
from analytics.periods import Period

# Average cross rate c -> R over the base period's publication days (both currencies published).
AVERAGE_RATES_SQL = """
SELECT c.currency_code, avg(r.units_per_eur / c.units_per_eur) AS rate, count(*) AS days
FROM fx_daily c
JOIN fx_daily r
  ON r.rate_date = c.rate_date AND r.currency_code = $currency AND r.is_publication_day
WHERE c.is_publication_day AND c.rate_date BETWEEN $base_start AND $base_end
GROUP BY c.currency_code
"""


def average_rates(cur: duckdb.DuckDBPyConnection, currency: str, base: Period) -> dict[str, float]:
    """Average rate of each currency into `currency` over `base` (grain: one row per currency)."""
    rows = db.query_rows(
        cur,
        AVERAGE_RATES_SQL,
        {"currency": currency, "base_start": base.start, "base_end": base.end},
    )
    return {code: rate for code, rate, _ in rows}


def check_reporting_currency(
    cur: duckdb.DuckDBPyConnection, currency: str, start: dt.date, end: dt.date
) -> None:
    """Raise RateUnavailable unless `currency` has a rate on every day with sales in [start, end]."""
    rows = db.query_rows(
        cur,
        """
        SELECT min(s.order_date)
        FROM (SELECT DISTINCT order_date FROM sales_daily WHERE order_date BETWEEN $start AND $end) s
        ANTI JOIN fx_daily f ON f.rate_date = s.order_date AND f.currency_code = $currency
        """,
        {"start": start, "end": end, "currency": currency},
    )
    first_missing = rows[0][0]
    if first_missing is not None:
        raise RateUnavailable(
            f"No ECB rate for {currency} on {first_missing:%d %b %Y}, a day with sales in the "
            f"figures from {start:%d %b %Y} to {end:%d %b %Y}. Choose another reporting "
            "currency or period, or update the rates."
        )


def check_constant_rates(
    cur: duckdb.DuckDBPyConnection, filters: Filters, start: dt.date, end: dt.date
) -> None:
    """Raise RateUnavailable if a currency sold in [start, end] has no average rate in the base."""
    conditions, params = dimension_conditions(filters)
    where = " AND ".join(["order_date BETWEEN $start AND $end", *conditions])
    rows = db.query_rows(
        cur,
        f"""
        WITH avg_rates AS ({AVERAGE_RATES_SQL})
        SELECT DISTINCT s.currency_code FROM sales_daily s
        WHERE {where} AND s.currency_code NOT IN (SELECT currency_code FROM avg_rates)
        UNION SELECT 'EUR' WHERE 'EUR' NOT IN (SELECT currency_code FROM avg_rates)
        """,
        {
            **params,
            "start": start,
            "end": end,
            "currency": filters.currency,
            "base_start": filters.comparison.start,
            "base_end": filters.comparison.end,
        },
    )
    if rows:
        missing = ", ".join(sorted(r[0] for r in rows))
        raise RateUnavailable(
            f"No ECB rates for {missing} into {filters.currency} during {filters.comparison.label}, "
            "so constant-currency figures cannot be computed. Use reported figures, or another "
            "period or reporting currency."
        )


def check_rates(
    cur: duckdb.DuckDBPyConnection, filters: Filters, start: dt.date, end: dt.date
) -> None:
    """Every rate the figures for [start, end] need exists, or a RateUnavailable says which."""
    check_reporting_currency(cur, filters.currency, start, end)
    if filters.basis == "constant":
        check_constant_rates(cur, filters, start, end)


def source(filters: Filters, start: dt.date, end: dt.date) -> tuple[str, dict]:
    """A subquery over sales_daily for [start, end] under the dimension filters.

    Grain: sales_daily (day x country x currency x channel x product line), plus the
    country's region and both conversions: revenue_reported / cost_reported always, and
    revenue_constant / cost_constant (at the comparison period's average rates) when the
    basis is constant. Call `check_rates` first: the joins assume every rate exists.
    """
    conditions, params = dimension_conditions(filters, alias="s.")
    where = " AND ".join(["s.order_date BETWEEN $start AND $end", *conditions])
    params |= {"start": start, "end": end, "currency": filters.currency}
    constant_cte, constant_cols, constant_join = "", "", ""
    if filters.basis == "constant":
        params |= {"base_start": filters.comparison.start, "base_end": filters.comparison.end}
        constant_cte = f"WITH avg_rates AS ({AVERAGE_RATES_SQL})"
        constant_cols = """,
               s.net_amount_local * a.rate AS revenue_constant,
               s.cost_eur * a_eur.rate AS cost_constant"""
        constant_join = """
        JOIN avg_rates a ON a.currency_code = s.currency_code
        JOIN avg_rates a_eur ON a_eur.currency_code = 'EUR'"""
    sql = f"""
        {constant_cte}
        SELECT s.order_date, s.country_code, c.region, s.currency_code, s.channel, s.product_line,
               s.units, s.net_amount_local, s.net_amount_eur, s.line_count,
               s.net_amount_eur * f.units_per_eur AS revenue_reported,
               s.cost_eur * f.units_per_eur AS cost_reported{constant_cols}
        FROM sales_daily s
        JOIN countries c ON c.country_code = s.country_code
        JOIN fx_daily f ON f.rate_date = s.order_date AND f.currency_code = $currency{constant_join}
        WHERE {where}
    """
    return sql, params


def order_lines(
    currency: str,
    ranges: Sequence[tuple[dt.date, dt.date]],
    *,
    filters: Filters | None = None,
    base_rates: tuple[dt.date, dt.date] | None = None,
    conditions: Sequence[str] = (),
    params: dict | None = None,
    key: str = "lines",
) -> tuple[str, dict]:
    """A subquery over order_lines for the dates in any of `ranges`, converted: the line
    level twin of `source` (which reads the sales_daily rollup).

    Grain: one row per order line, every order_lines column plus revenue_reported and
    cost_reported (the line's EUR amount and cost at its order date's rate into `currency`:
    DESIGN's reported rule) and, with `base_rates` = (start, end), revenue_constant (local
    revenue at that span's average rates; NULL for a currency without one, so a caller can
    name it). `filters` narrows by its dimensions
    (its periods and currency are not read); `conditions` (on alias o., with `params`) add
    to that. Lines on a day without a reporting rate drop out: call check_reporting_currency
    first. `key` names the date parameters, so two of these can share one query.
    """
    clauses, bound = (
        dimension_conditions(filters, alias="o.", product_line="product_id")
        if filters
        else ([], {})
    )
    dates = []
    for i, (start, end) in enumerate(ranges):
        dates.append(f"o.order_date BETWEEN ${key}_start_{i} AND ${key}_end_{i}")
        bound |= {f"{key}_start_{i}": start, f"{key}_end_{i}": end}
    if not dates:
        raise ValueError("order_lines needs at least one date range.")
    where = " AND ".join(["(" + " OR ".join(dates) + ")", *clauses, *conditions])
    bound |= (params or {}) | {"currency": currency}
    constant_cols, constant_join = "", ""
    if base_rates is not None:
        bound |= {"base_start": base_rates[0], "base_end": base_rates[1]}
        constant_cols = """,
               o.net_amount_local * a.rate AS revenue_constant"""
        constant_join = f"""
        LEFT JOIN ({AVERAGE_RATES_SQL}) a ON a.currency_code = o.currency_code"""
    # The rate table is cut to the reporting currency first, so the join builds on a few
    # thousand rows and the scan stays close to a plain scan of the dates read.
    sql = f"""
        SELECT o.*,
               o.net_amount_eur * f.units_per_eur AS revenue_reported,
               o.quantity * o.unit_cost_eur * f.units_per_eur AS cost_reported{constant_cols}
        FROM order_lines o
        JOIN (SELECT rate_date, units_per_eur FROM fx_daily WHERE currency_code = $currency) f
          ON f.rate_date = o.order_date{constant_join}
        WHERE {where}
    """
    return sql, bound
