"""Sales converted to the reporting currency: reported (each day's rate), at constant
currency, or at plan rates.

Reported: a line's EUR amount times the reporting currency's rate on the order date (the
EUR amount was converted at that same date's rate at load time, so this equals
local / rate[local] * rate[reporting] as DESIGN.md defines it).

Constant currency: local revenue of each currency times the average rate of a base period,
the mean over the base period's ECB publication days of units_per_eur[R] / units_per_eur[c].
At plan rates: local revenue / plan[c] * plan[R], with the plan rates of the quarter the
amount falls in (analytics.plan_rates: a quarter's own rate, else its year's; EUR is 1).
Costs are in EUR, so they are converted the same way as currency EUR.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence

import duckdb

from analytics import db, plan_rates
from analytics.filters import Filters, dimension_conditions
from analytics.fx import RateUnavailable
from analytics.periods import Period, add_months

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
    """Raise RateUnavailable unless `currency` has a rate on every day with sales in [start, end].

    Every page runs this on each new set of filters, so the usual case costs one count of
    the currency's rate days (fx_daily holds a day at most once per currency): a rate on
    every day of the span settles it without reading the sales. Only a span with days
    lacking a rate reads which of those days have sales."""
    covered = db.query_rows(
        cur,
        "SELECT count(*) FROM fx_daily "
        "WHERE currency_code = $currency AND rate_date BETWEEN $start AND $end",
        {"start": start, "end": end, "currency": currency},
    )[0][0]
    if start > end or covered == (end - start).days + 1:
        return
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
    sold, params = _sold(filters, start, end)
    rows = db.query_rows(
        cur,
        f"""
        WITH avg_rates AS ({AVERAGE_RATES_SQL})
        SELECT DISTINCT s.currency_code FROM ({sold}) s
        WHERE s.currency_code NOT IN (SELECT currency_code FROM avg_rates)
        UNION SELECT 'EUR' WHERE 'EUR' NOT IN (SELECT currency_code FROM avg_rates)
        """,
        {
            **params,
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


def check_plan_rates(
    cur: duckdb.DuckDBPyConnection, filters: Filters, start: dt.date, end: dt.date
) -> None:
    """Raise PlanRateMissing unless every currency sold in [start, end] under the filters,
    and the reporting currency, has a plan rate for each quarter it is sold in."""
    sold, params = _sold(filters, start, end)
    plan_rates.check(
        cur,
        f"SELECT DISTINCT year(s.order_date) AS year, quarter(s.order_date) AS quarter, "
        f"s.currency_code FROM ({sold}) s",
        params,
        filters.currency,
    )


def _sold(filters: Filters, start: dt.date, end: dt.date) -> tuple[str, dict]:
    """(order_date, currency_code) of the sales rows in [start, end] under the dimension
    filters: the whole months' from sales_monthly (order_date its first day, in the same
    quarter as its days), the other days' from sales_daily. The rate checks need only which
    currencies sell when, so a check over two years reads ~24 rows per key, not ~730."""
    months, rest = split_window([(start, end)])
    conditions, params = dimension_conditions(filters, alias="s.")
    parts = []
    for table, date, spans, key in (
        ("sales_monthly", "month", months, "sold_m"),
        ("sales_daily", "order_date", rest, "sold_d"),
    ):
        if spans:
            where = " AND ".join([_any_range(f"s.{date}", spans, key, params), *conditions])
            parts.append(
                f"SELECT s.{date} AS order_date, s.currency_code FROM {table} s WHERE {where}"
            )
    if not parts:  # an empty span: no sales to check
        parts.append("SELECT NULL::DATE AS order_date, NULL::VARCHAR AS currency_code WHERE FALSE")
    return " UNION ALL ".join(parts), params


def check_rates(
    cur: duckdb.DuckDBPyConnection, filters: Filters, start: dt.date, end: dt.date
) -> None:
    """Every rate the figures for [start, end] need exists, or a RateUnavailable (or, at plan
    rates, a PlanRateMissing) says which."""
    check_reporting_currency(cur, filters.currency, start, end)
    if filters.basis == "constant":
        check_constant_rates(cur, filters, start, end)
    if filters.basis == "plan":
        check_plan_rates(cur, filters, start, end)


# Joined as `p` to rows with order_date and currency_code (alias given as {a}): the plan
# rates of the row's quarter; NULL columns for a currency without one.
PLAN_JOIN = f"""
        LEFT JOIN ({plan_rates.FACTORS_SQL}) p
          ON p.quarter_start = CAST(date_trunc('quarter', {{a}}order_date) AS DATE)
         AND p.currency_code = {{a}}currency_code"""


def source(
    filters: Filters, start: dt.date, end: dt.date, plan: bool | None = None
) -> tuple[str, dict]:
    """A subquery over sales_daily for [start, end] under the dimension filters.

    Grain: sales_daily (day x country x currency x channel x product line), plus the
    country's region and the conversions: revenue_reported / known_revenue_reported /
    cost_reported always, the same *_constant (at the comparison period's average rates)
    when the basis is constant, and *_plan (at the plan rates of each row's quarter) when
    the basis is plan or `plan` is true. known_revenue is the revenue of the lines with a
    known unit cost, the base of every margin figure. Call `check_rates` (and, for `plan`,
    `check_plan_rates`) first: the joins assume every rate exists.
    """
    plan = filters.basis == "plan" if plan is None else plan
    params = _source_params(filters) | {"start": start, "end": end}
    select = _source_select(filters, plan, "s.order_date BETWEEN $start AND $end", "daily")
    return f"{_source_cte(filters)} {select}", params


def periods_source(
    filters: Filters,
    ranges: Sequence[DateRange],
    plan: bool | None = None,
    use_monthly: bool = True,
    region: bool = True,
) -> tuple[str, dict]:
    """`source` over the days in any of `ranges`: whole months from sales_monthly (in EUR) or
    sales_monthly_reported (in a summary currency), the other days from sales_daily, so a
    quarter reads ~3 rows per key instead of ~90.

    Grain: one row per monthly row (order_date is its month's first day) or sales_daily
    row; the columns and their definitions are `source`'s. A month is read from a monthly
    table only when every range holds all of it or none of it (split_window), so a caller's
    test of order_date against any of `ranges` (its period flags) gives the month's row the
    answer each of its days would get. EUR converts at 1 on every day: sales_monthly's EUR
    sums are its reported figures. Another currency's reported figure needs each day's rate:
    sales_monthly_reported holds it, summed line by line, for the summary currencies
    (analytics.summary_currencies), over the lines sales_daily's rate join keeps (those with
    that day's rate), with the same local and EUR sums, so its rows also give the constant
    and plan figures (a month's local sum at one rate per currency, one plan rate per
    quarter). Whether the currency is one is the store's setting, so the statement decides:
    its whole months are read from sales_monthly_reported's rows of the currency, and from
    sales_daily joined to the currency's rates only when it is not listed (that join's rate
    side is then empty for a listed one, and DuckDB reads no sales_daily row for it).
    Summed, every figure equals `source`'s up to float rounding. `use_monthly=False` reads
    sales_daily alone (the definition this is tested against); `region=False` leaves out
    the region column and its join, for callers that do not need it. Call `check_rates`
    first.
    """
    plan = filters.basis == "plan" if plan is None else plan
    months, rest = split_window(ranges) if use_monthly else ([], list(ranges))
    params = _source_params(filters)
    parts = []
    if months:
        dates = _any_range("s.order_date", months, "sm", params)
        if filters.currency == "EUR":
            parts.append(_source_select(filters, plan, dates, "monthly", region=region))
        else:
            parts.append(_source_select(filters, plan, dates, "reported", region=region))
            parts.append(_source_select(filters, plan, dates, "unlisted", region=region))
    if rest:
        dates = _any_range("s.order_date", rest, "sd", params)
        parts.append(_source_select(filters, plan, dates, "daily", region=region))
    if not parts:
        raise ValueError("periods_source needs at least one date range.")
    sql = f"{_source_cte(filters)} {' UNION ALL '.join(parts)}"
    if "$currency" not in sql:  # EUR whole months join no rate (DuckDB refuses unused values)
        del params["currency"]
    return sql, params


def orders_source(
    filters: Filters, ranges: Sequence[DateRange], use_monthly: bool = True
) -> tuple[str, dict]:
    """Order counts over the days in any of `ranges` under the dimension filters: whole
    months from orders_monthly, the other days from orders_daily.

    Grain: one row per orders_monthly row (order_date is its month's first day) or
    orders_daily row, with order_date, country_code, currency_code, channel, product_lines
    and order_count. An order counts once, on its first line's date, in one orders_daily
    row, and orders_monthly is orders_daily summed per month, so summed over any whole
    months (split_window: every range holds all of a month or none of it, so a caller's
    period flags on order_date give a month's row its days' answer) the counts are those of
    orders_daily exactly, a product-line filter (list_contains on the order's lines) too.
    `use_monthly=False` reads orders_daily alone (the definition this is tested against)."""
    months, rest = split_window(ranges) if use_monthly else ([], list(ranges))
    conditions, params = dimension_conditions(filters, alias="o.", product_line="list")
    parts = []
    for table, date, spans, key in (
        ("orders_monthly", "month", months, "om"),
        ("orders_daily", "order_date", rest, "od"),
    ):
        if spans:
            where = " AND ".join([_any_range(f"o.{date}", spans, key, params), *conditions])
            parts.append(
                f"SELECT o.{date} AS order_date, o.country_code, o.currency_code, o.channel, "
                f"o.product_lines, o.order_count FROM {table} o WHERE {where}"
            )
    if not parts:
        raise ValueError("orders_source needs at least one date range.")
    return " UNION ALL ".join(parts), params


def _source_params(filters: Filters) -> dict:
    _, params = dimension_conditions(filters, alias="s.")
    params["currency"] = filters.currency
    if filters.basis == "constant":
        params |= {"base_start": filters.comparison.start, "base_end": filters.comparison.end}
    return params


def _source_cte(filters: Filters) -> str:
    return f"WITH avg_rates AS ({AVERAGE_RATES_SQL})" if filters.basis == "constant" else ""


def _source_select(
    filters: Filters, plan: bool, dates: str, table: str = "daily", region: bool = True
) -> str:
    """One SELECT of `source`'s columns, for the rows where `dates` (a condition on alias s.)
    holds, over `table`: "daily" sales_daily; "monthly" sales_monthly (its month as
    order_date; EUR only); "reported" sales_monthly_reported's rows of the reporting
    currency (none unless it is a summary currency); "unlisted" sales_daily with the
    reporting currency's rates only if it is not a summary currency (else no row)."""
    conditions, _ = dimension_conditions(filters, alias="s.")
    where = " AND ".join([dates, *conditions])
    reported = (
        "s.net_amount_eur{rate} AS revenue_reported, "
        "s.known_cost_net_eur{rate} AS known_revenue_reported, "
        "s.cost_eur{rate} AS cost_reported"
    )
    if table in ("monthly", "reported"):
        rate_join = ""
        known_local = "s.known_cost_net_local"
        if table == "monthly":
            # Only read in EUR (periods_source), which is 1 on every day: no rate to join.
            source_table = "(SELECT month AS order_date, * EXCLUDE (month) FROM sales_monthly)"
            reported = reported.format(rate="")
        else:
            # Converted line by line at each day's rate when summarised.
            source_table = (
                "(SELECT month AS order_date, * EXCLUDE (month) FROM sales_monthly_reported)"
            )
            where = f"s.reporting_currency = $currency AND {where}"
            reported = "s.revenue_reported, s.known_revenue_reported, s.cost_reported"
    else:
        source_table = "sales_daily"
        reported = reported.format(rate=" * f.units_per_eur")
        rate_join = "JOIN fx_daily f ON f.rate_date = s.order_date AND f.currency_code = $currency"
        if table == "unlisted":
            rate_join = (
                "JOIN (SELECT rate_date, units_per_eur FROM fx_daily WHERE currency_code = "
                "$currency AND $currency NOT IN (SELECT currency_code FROM summary_currencies)) "
                "f ON f.rate_date = s.order_date"
            )
        # A group is one day and one currency, so its known-cost local revenue is exactly
        # its known EUR at that day's rate (each line's EUR was converted at it); a group
        # whose every line has a cost takes its local sum as is, so such figures stay
        # bit-identical.
        known_local = """CASE WHEN s.known_cost_net_eur = s.net_amount_eur THEN s.net_amount_local
                    ELSE s.known_cost_net_eur * l.units_per_eur END"""
    constant_cols, constant_join = "", ""
    if filters.basis == "constant":
        constant_cols = f""",
               s.net_amount_local * a.rate AS revenue_constant,
               {known_local} * a.rate AS known_revenue_constant,
               s.cost_eur * a_eur.rate AS cost_constant"""
        constant_join = """
        JOIN avg_rates a ON a.currency_code = s.currency_code
        JOIN avg_rates a_eur ON a_eur.currency_code = 'EUR'"""
    if plan:
        constant_cols += f""",
               s.net_amount_local / p.plan_local * p.plan_reporting AS revenue_plan,
               {known_local} / p.plan_local * p.plan_reporting AS known_revenue_plan,
               s.cost_eur * p.plan_reporting AS cost_plan"""
        constant_join += PLAN_JOIN.format(a="s.")
    if constant_cols and source_table == "sales_daily":
        constant_join += """
        LEFT JOIN fx_daily l ON l.rate_date = s.order_date AND l.currency_code = s.currency_code"""
    # Every line's country is a stored one (the importer resolves it), so leaving the join
    # out drops no row.
    region_col = "c.region, " if region else ""
    region_join = "JOIN countries c ON c.country_code = s.country_code" if region else ""
    return f"""
        SELECT s.order_date, s.country_code, {region_col}s.currency_code, s.channel, s.product_line,
               s.units, s.net_amount_local, s.net_amount_eur, s.line_count,
               {reported}{constant_cols}
        FROM {source_table} s
        {region_join}
        {rate_join}{constant_join}
        WHERE {where}
    """


def order_lines(
    currency: str,
    ranges: Sequence[tuple[dt.date, dt.date]],
    *,
    filters: Filters | None = None,
    base_rates: tuple[dt.date, dt.date] | None = None,
    plan: bool = False,
    conditions: Sequence[str] = (),
    params: dict | None = None,
    key: str = "lines",
) -> tuple[str, dict]:
    """A subquery over order_lines for the dates in any of `ranges`, converted: the line
    level twin of `source` (which reads the sales_daily rollup).

    Grain: one row per order line, every order_lines column plus revenue_reported and
    cost_reported (the line's EUR amount and cost at its order date's rate into `currency`:
    DESIGN's reported rule), known_revenue_reported (the revenue, NULL for a line without a
    unit cost) and, with `base_rates` = (start, end), revenue_constant and
    known_revenue_constant (local
    revenue at that span's average rates; NULL for a currency without one, so a caller can
    name it) and, with `plan`, revenue_plan, known_revenue_plan and cost_plan (at the plan
    rates of the line's quarter; NULL without one: call check_plan_rates). `filters` narrows by its dimensions
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
               o.net_amount_local * a.rate AS revenue_constant,
               CASE WHEN o.unit_cost_eur IS NOT NULL THEN o.net_amount_local * a.rate END
                   AS known_revenue_constant"""
        constant_join = f"""
        LEFT JOIN ({AVERAGE_RATES_SQL}) a ON a.currency_code = o.currency_code"""
    if plan:
        constant_cols += """,
               o.net_amount_local / p.plan_local * p.plan_reporting AS revenue_plan,
               CASE WHEN o.unit_cost_eur IS NOT NULL
                    THEN o.net_amount_local / p.plan_local * p.plan_reporting END
                   AS known_revenue_plan,
               o.quantity * o.unit_cost_eur * p.plan_reporting AS cost_plan"""
        constant_join += PLAN_JOIN.format(a="o.")
    # The rate table is cut to the reporting currency first, so the join builds on a few
    # thousand rows and the scan stays close to a plain scan of the dates read.
    sql = f"""
        SELECT o.*,
               o.net_amount_eur * f.units_per_eur AS revenue_reported,
               CASE WHEN o.unit_cost_eur IS NOT NULL THEN o.net_amount_eur * f.units_per_eur END
                   AS known_revenue_reported,
               o.quantity * o.unit_cost_eur * f.units_per_eur AS cost_reported{constant_cols}
        FROM order_lines o
        JOIN (SELECT rate_date, units_per_eur FROM fx_daily WHERE currency_code = $currency) f
          ON f.rate_date = o.order_date{constant_join}
        WHERE {where}
    """
    return sql, bound


# --- the monthly summaries (analytics.rollups explains their grain) ------------------------

DateRange = tuple[dt.date, dt.date]


def _month_end(month: dt.date) -> dt.date:
    return add_months(month, 1) - dt.timedelta(days=1)


def split_window(
    ranges: Sequence[DateRange], within: Sequence[DateRange] | None = None
) -> tuple[list[DateRange], list[DateRange]]:
    """(spans of whole months to read from a monthly summary, date ranges to read from
    order_lines) that together cover exactly the days of `ranges`.

    A month is read from a summary only if every range holds all of it or none of it, so
    a summary row can stand for its month in any range's date test; and, with `within`,
    only if the month lies inside one of its spans (the days a reporting rate exists).
    Month spans are (first month's first day, last month's last day).
    """
    months: set[dt.date] = set()
    for start, end in ranges:
        month = start.replace(day=1) if start.day == 1 else add_months(start.replace(day=1), 1)
        while _month_end(month) <= end:
            months.add(month)
            month = add_months(month, 1)

    def usable(month: dt.date) -> bool:
        last = _month_end(month)
        if within is not None and not any(lo <= month and last <= hi for lo, hi in within):
            return False
        return all((s <= month and last <= e) or last < s or month > e for s, e in ranges)

    whole = sorted(m for m in months if usable(m))
    spans: list[DateRange] = []
    for month in whole:
        if spans and spans[-1][1] + dt.timedelta(days=1) == month:
            spans[-1] = (spans[-1][0], _month_end(month))
        else:
            spans.append((month, _month_end(month)))
    rest: list[DateRange] = []
    for start, end in ranges:
        day = start
        for s, e in spans:
            if e < day or s > end:
                continue
            if s > day:
                rest.append((day, s - dt.timedelta(days=1)))
            day = max(day, e + dt.timedelta(days=1))
        if day <= end:
            rest.append((day, end))
    return spans, rest


def _summary_days(cur: duckdb.DuckDBPyConnection, currency: str | None) -> SummaryDays | None:
    """Where the monthly summaries hold `currency`'s reported figures (None: no conversion)
    and the spans of days it has a rate on (a month is read from them only inside one), or
    None when they hold none: a reporting currency that is neither EUR nor a summary
    currency (analytics.summary_currencies) reads order_lines."""
    if currency is None:
        return SummaryDays(False, [(dt.date.min, dt.date.max)])
    lo, hi, days, listed = db.query_rows(
        cur,
        "SELECT min(rate_date), max(rate_date), count(*), "
        "(SELECT count(*) FROM summary_currencies WHERE currency_code = $currency) "
        "FROM fx_daily WHERE currency_code = $currency",
        {"currency": currency},
    )[0]
    if (currency != "EUR" and not listed) or lo is None:
        return None
    if days == (hi - lo).days + 1:  # the usual case: no day without a rate in between
        return SummaryDays(currency != "EUR", [(lo, hi)])
    islands = db.query_rows(
        cur,
        """
        SELECT min(rate_date), max(rate_date) FROM (
            SELECT rate_date,
                   rate_date - CAST(row_number() OVER (ORDER BY rate_date) AS INTEGER) AS island
            FROM fx_daily WHERE currency_code = $currency
        ) GROUP BY island ORDER BY 1
        """,
        {"currency": currency},
    )
    return SummaryDays(currency != "EUR", [(a, b) for a, b in islands])


@dataclasses.dataclass(frozen=True)
class SummaryDays:
    """How the summaries hold a reporting currency: `reported` (its rows of the *_reported
    tables, converted at each line's day rate; else EUR's, converted at 1), on `days`."""

    reported: bool
    days: list[DateRange]


_KNOWN_LOCAL = "CASE WHEN o.unit_cost_eur IS NOT NULL THEN o.net_amount_local END"
_KNOWN_EUR = "CASE WHEN o.unit_cost_eur IS NOT NULL THEN o.net_amount_eur END"

# Per summary: its table, its key columns (as the line-level source names them), and each
# measure as (summary expression, line-level expression on order_lines o).
_SUMMARIES = {
    "accounts": (
        "account_monthly",
        ("customer_id", "country_code", "currency_code", "channel", "product_line"),
        {
            "quantity": ("s.units", "o.quantity"),
            "net_amount_local": ("s.net_amount_local", "o.net_amount_local"),
            "net_amount_eur": ("s.net_amount_eur", "o.net_amount_eur"),
            "cost_eur": ("s.cost_eur", "o.quantity * o.unit_cost_eur"),
            "known_net_local": ("s.known_cost_net_local", _KNOWN_LOCAL),
            "known_net_eur": ("s.known_cost_net_eur", _KNOWN_EUR),
        },
    ),
    "items": (
        "item_monthly",
        ("product_id", "country_code", "currency_code", "channel"),
        {
            "quantity": ("s.units", "o.quantity"),
            "net_amount_local": ("s.net_amount_local", "o.net_amount_local"),
            "net_amount_eur": ("s.net_amount_eur", "o.net_amount_eur"),
            "cost_eur": ("s.cost_eur", "o.quantity * o.unit_cost_eur"),
            "known_net_local": ("s.known_cost_net_local", _KNOWN_LOCAL),
            "known_net_eur": ("s.known_cost_net_eur", _KNOWN_EUR),
            "quantity_sold": ("s.units_sold", "greatest(o.quantity, 0)"),
            "net_local_sold": (
                "s.net_local_sold",
                "CASE WHEN o.quantity > 0 THEN o.net_amount_local ELSE 0 END",
            ),
            "list_local_sold": (
                "s.list_local_sold",
                "CASE WHEN o.quantity > 0 THEN o.quantity * o.unit_price_local ELSE 0 END",
            ),
        },
    ),
}


def _any_range(column: str, ranges: list, prefix: str, bound: dict) -> str:
    """`column` within any of `ranges`, as one bound condition (the bounds added to `bound`)."""
    dates = []
    for i, (start, end) in enumerate(ranges):
        dates.append(f"{column} BETWEEN ${prefix}_start_{i} AND ${prefix}_end_{i}")
        bound |= {f"{prefix}_start_{i}": start, f"{prefix}_end_{i}": end}
    return "(" + " OR ".join(dates) + ")"


def summarised(
    cur: duckdb.DuckDBPyConnection,
    kind: str,
    currency: str | None,
    ranges: Sequence[DateRange],
    *,
    filters: Filters | None = None,
    base_rates: DateRange | None = None,
    plan: bool = False,
    conditions: Sequence[str] = (),
    params: dict | None = None,
    key: str = "summary",
    use_summary: bool = True,
    rates_checked: bool = False,
) -> tuple[str, dict]:
    """A subquery over the `kind` summary ("accounts" or "items") for the dates in any of
    `ranges`, with the lines of partial months (and of months it cannot value) from
    order_lines: the same rows `order_lines` gives, summed per month where it can.

    Grain: one row per summary row or order line. Columns: order_date (a summary row's
    month, its first day, which lies in the same ranges as all its days), the summary's key
    columns (product_line is NULL for an unknown product), quantity, net_amount_local,
    net_amount_eur, cost_eur (EUR), known_net_local / known_net_eur (the net of the lines
    with a known unit cost; NULL on a line without), the items' *_sold sums over positive
    quantities and, with `currency`, revenue_reported, known_revenue_reported and
    cost_reported and, with `base_rates`, revenue_constant, known_revenue_constant (and
    revenue_constant_sold for items) and, with `plan` (and `currency`), revenue_plan,
    known_revenue_plan, cost_plan (and revenue_plan_sold for items) as `order_lines`
    defines them (a month lies in one quarter, so a summary row takes its quarter's rates).
    Summed, every figure equals its line-level sum. `conditions` (alias o.) apply to the
    rows; they may name key columns only. `use_summary=False` reads only order_lines (the
    definition the summaries are tested against).

    A line on a day without a rate into `currency` drops out of the line-level figure (its
    rate join), so months are read only inside the days the currency has rates on, which
    costs one look-up of them (~1.5 ms at 1M lines). `rates_checked`: the caller has
    checked the reporting currency over `ranges` (check_reporting_currency: a rate on every
    day with sales), so in EUR, which converts at 1 on every day it has a rate, no day with
    sales lacks one and the look-up is not needed.
    """
    table, keys, measures = _SUMMARIES[kind]
    if not use_summary:
        summary = None
    elif rates_checked and currency == "EUR":
        summary = SummaryDays(False, [(dt.date.min, dt.date.max)])
    else:
        summary = _summary_days(cur, currency)
    months, rest = split_window(ranges, summary.days) if summary is not None else ([], list(ranges))
    bound: dict = dict(params or {})
    if currency is not None:
        bound["currency"] = currency
    if base_rates is not None:
        bound |= {"base_start": base_rates[0], "base_end": base_rates[1]}
    rate_join = (
        f"LEFT JOIN ({AVERAGE_RATES_SQL}) a ON a.currency_code = o.currency_code"
        if base_rates is not None
        else ""
    )
    if plan:
        if currency is None:
            raise ValueError("Figures at plan rates need a reporting currency.")
        rate_join += PLAN_JOIN.format(a="o.")

    def converted(
        eur: str, cost: str, local: str, sold: str, stored: bool = False, at_one: bool = False
    ) -> str:
        cols = ""
        if currency is not None and stored:  # converted line by line when summarised
            cols += ", o.revenue_reported, o.known_revenue_reported, o.cost_reported"
        elif currency is not None and at_one:  # EUR: 1.0 on every day it has a rate
            cols += f", {eur} AS revenue_reported"
            cols += ", o.known_net_eur AS known_revenue_reported"
            cols += f", {cost} AS cost_reported"
        elif currency is not None:
            cols += f", {eur} * f.units_per_eur AS revenue_reported"
            cols += ", o.known_net_eur * f.units_per_eur AS known_revenue_reported"
            cols += f", {cost} * f.units_per_eur AS cost_reported"
        if base_rates is not None:
            cols += f", {local} * a.rate AS revenue_constant"
            cols += ", o.known_net_local * a.rate AS known_revenue_constant"
            if kind == "items":
                cols += f", {sold} * a.rate AS revenue_constant_sold"
        if plan:
            at_plan = "/ p.plan_local * p.plan_reporting"
            cols += f", {local} {at_plan} AS revenue_plan"
            cols += f", o.known_net_local {at_plan} AS known_revenue_plan"
            cols += f", {cost} * p.plan_reporting AS cost_plan"
            if kind == "items":
                cols += f", {sold} {at_plan} AS revenue_plan_sold"
        return cols

    parts = []
    rate = (
        "JOIN (SELECT rate_date, units_per_eur FROM fx_daily WHERE currency_code = $currency) "
        "f ON f.rate_date = o.order_date"
        if currency is not None
        else ""
    )
    if months:
        clauses, dims = (
            dimension_conditions(
                filters, alias="s.", product_line="column" if kind == "accounts" else "product_id"
            )
            if filters
            else ([], {})
        )
        bound |= dims
        where = " AND ".join([_any_range("s.month", months, f"{key}_m", bound), *clauses])
        inner = ", ".join(f"{expr} AS {name}" for name, (expr, _) in measures.items())
        columns = ", ".join(f"o.{c}" for c in ("order_date", *keys, *measures))
        stored = ", s.revenue_reported, s.known_revenue_reported, s.cost_reported"
        if summary.reported:
            # The rows of the reporting currency, whose lines were converted at their days'
            # rates; every month read lies in its days with a rate, so none is missing.
            source, where = f"{table}_reported", f"s.reporting_currency = $currency AND {where}"
        else:
            # Every month read here lies in the reporting currency's span, and that currency
            # is EUR (1.0 every day): no rate to join, the EUR sums are the figures.
            source = table
        select = f"SELECT s.month AS order_date, {', '.join('s.' + k for k in keys)}, {inner}"
        if not rate_join:
            # Nothing to join: one SELECT, whose converted sums are the summary's own (each
            # nested SELECT costs DuckDB's planner time on every statement).
            if currency is not None and summary.reported:
                select += stored
            elif currency is not None:
                select += (
                    f", {measures['net_amount_eur'][0]} AS revenue_reported"
                    f", {measures['known_net_eur'][0]} AS known_revenue_reported"
                    f", {measures['cost_eur'][0]} AS cost_reported"
                )
            parts.append(f"{select} FROM {source} s WHERE {where}")
        else:
            if summary.reported:
                select += stored
            parts.append(
                f"""
            SELECT {columns}{
                    converted(
                        "o.net_amount_eur",
                        "o.cost_eur",
                        "o.net_amount_local",
                        "o.net_local_sold",
                        stored=summary.reported,
                        at_one=not summary.reported,
                    )
                }
            FROM ({select} FROM {source} s WHERE {where}) o {rate_join}
            """
            )
    if rest:
        clauses, dims = (
            dimension_conditions(filters, alias="o.", product_line="product_id")
            if filters
            else ([], {})
        )
        bound |= dims
        where = " AND ".join([_any_range("o.order_date", rest, f"{key}_l", bound), *clauses])
        line_keys = ", ".join("p.product_line" if k == "product_line" else "o." + k for k in keys)
        inner = ", ".join(f"{expr} AS {name}" for name, (_, expr) in measures.items())
        product_join = (
            "LEFT JOIN products p ON p.product_id = o.product_id" if "product_line" in keys else ""
        )
        parts.append(
            f"""
            SELECT o.*{
                converted(
                    "o.net_amount_eur", "o.cost_eur", "o.net_amount_local", "o.net_local_sold"
                )
            }
            FROM (SELECT o.order_date, {line_keys}, {inner}
                  FROM order_lines o {product_join} WHERE {where}) o
            {rate} {rate_join}
            """
        )
    if not parts:
        raise ValueError("summarised needs at least one date range.")
    sql = " UNION ALL ".join(parts)
    if conditions:
        sql = f"SELECT * FROM ({sql}) o WHERE {' AND '.join(conditions)}"
    if "$currency" not in sql:  # EUR whole months join no rate (DuckDB refuses unused values)
        bound.pop("currency", None)
    return sql, bound


def split_orders_exist(cur: duckdb.DuckDBPyConnection) -> bool:
    """Whether some order's lines fall into two account_orders_monthly keys (see rollups)."""
    return bool(db.query_rows(cur, "SELECT count(*) FROM split_orders")[0][0])


def account_orders(
    cur: duckdb.DuckDBPyConnection,
    ranges: Sequence[DateRange],
    *,
    filters: Filters | None = None,
    conditions: Sequence[str] = (),
    params: dict | None = None,
    key: str = "orders",
    use_summary: bool = True,
    split: bool | None = None,
) -> tuple[str, dict]:
    """A subquery of (customer_id, orders): distinct orders per customer with a line in
    `ranges` under the filters' dimensions, from account_orders_monthly for whole months and
    order_lines for the rest. `conditions` (alias o.) may name customer_id only. `split`:
    whether split orders exist (split_orders_exist), if the caller knows; an order split
    into two keys would count twice in the summary, so then only order_lines are read."""
    if split is None and use_summary:
        split = split_orders_exist(cur)
    use_summary = use_summary and not split
    months, rest = split_window(ranges) if use_summary else ([], list(ranges))
    bound: dict = dict(params or {})
    extra = list(conditions)
    parts = []
    if months:
        clauses, dims = (
            dimension_conditions(filters, alias="o.", product_line="list")
            if (filters)
            else ([], {})
        )
        bound |= dims
        dates = []
        for i, (start, end) in enumerate(months):
            dates.append(f"o.month BETWEEN ${key}_m_start_{i} AND ${key}_m_end_{i}")
            bound |= {f"{key}_m_start_{i}": start, f"{key}_m_end_{i}": end}
        where = " AND ".join(["(" + " OR ".join(dates) + ")", *clauses, *extra])
        parts.append(
            "SELECT o.customer_id, CAST(sum(o.order_count) AS BIGINT) AS orders "
            f"FROM account_orders_monthly o WHERE {where} GROUP BY 1"
        )
    if rest:
        clauses, dims = (
            dimension_conditions(filters, alias="o.", product_line="product_id")
            if filters
            else ([], {})
        )
        bound |= dims
        dates = []
        for i, (start, end) in enumerate(rest):
            dates.append(f"o.order_date BETWEEN ${key}_l_start_{i} AND ${key}_l_end_{i}")
            bound |= {f"{key}_l_start_{i}": start, f"{key}_l_end_{i}": end}
        where = " AND ".join(["(" + " OR ".join(dates) + ")", *clauses, *extra])
        parts.append(
            f"SELECT o.customer_id, count(DISTINCT o.order_id) AS orders FROM order_lines o "
            f"WHERE {where} GROUP BY 1"
        )
    if not parts:
        raise ValueError("account_orders needs at least one date range.")
    if len(parts) == 1:  # one grouping is enough (each costs DuckDB's planner time)
        return parts[0], bound
    # No order lies in both parts: without split orders an order's lines share one month.
    return (
        "SELECT customer_id, CAST(sum(orders) AS BIGINT) AS orders "
        f"FROM ({' UNION ALL '.join(parts)}) GROUP BY 1",
        bound,
    )
