"""The Overview page's figures: headline KPIs, the regional trend and revenue by country."""

from __future__ import annotations

import datetime as dt

import duckdb
import numpy as np
import pandas as pd

from analytics import db, metrics, sales
from analytics.filters import Filters, dimension_conditions
from analytics.metrics import KPI_ROW, METRICS
from analytics.periods import add_months

TREND_MONTHS = 24


def data_span(cur: duckdb.DuckDBPyConnection) -> tuple[dt.date | None, dt.date | None]:
    """First and last order date in the store (None, None when it holds no sales)."""
    return tuple(db.query_rows(cur, "SELECT min(order_date), max(order_date) FROM sales_daily")[0])


def trend_start(filters: Filters) -> dt.date:
    """The first month of the trend chart: TREND_MONTHS months ending with the period's month."""
    return add_months(filters.period.end.replace(day=1), -(TREND_MONTHS - 1))


def check_rates(cur: duckdb.DuckDBPyConnection, filters: Filters) -> None:
    """Every rate the Overview needs exists, or RateUnavailable says which is missing."""
    start = min(filters.comparison.start, trend_start(filters))
    sales.check_rates(cur, filters, start, filters.period.end)


def _period_flags(filters: Filters) -> tuple[str, dict]:
    return (
        "order_date BETWEEN $cur_start AND $cur_end AS is_current, "
        "order_date BETWEEN $cmp_start AND $cmp_end AS is_comparison",
        {
            "cur_start": filters.period.start,
            "cur_end": filters.period.end,
            "cmp_start": filters.comparison.start,
            "cmp_end": filters.comparison.end,
        },
    )


def _periods(filters: Filters) -> list[tuple[dt.date, dt.date]]:
    return [
        (filters.period.start, filters.period.end),
        (filters.comparison.start, filters.comparison.end),
    ]


def _sales_sql(
    filters: Filters, dimensions: tuple[str, ...] = (), totals: bool = False
) -> tuple[str, dict]:
    """The SQL of `sales_by`; with `totals`, grouped by GROUPING SETS ((dimensions), ()),
    so the same statement also gives the all-rows total, with is_total true on that row."""
    group = [db.identifier(d) for d in dimensions]
    src, params = sales.periods_source(filters, _periods(filters))
    flags, flag_params = _period_flags(filters)
    basis = filters.basis
    prior_basis = "plan" if basis == "plan" else "reported"
    select_group = ", ".join(group) + ", " if group else ""
    if totals and group:
        select_group += f"GROUPING({', '.join(group)}) > 0 AS is_total, "
        group_by = f"GROUP BY GROUPING SETS (({', '.join(group)}), ())"
    else:
        group_by = "GROUP BY " + ", ".join(group) if group else ""
    shown = (("net_revenue", "revenue"), "gross_margin_pct", "margin_coverage", "units")
    current = metrics.select_list(
        shown, {"revenue": f"revenue_{basis}", "cost": f"cost_{basis}"}, "is_current"
    )
    prior = metrics.select_list(
        shown,
        {"revenue": f"revenue_{prior_basis}", "cost": f"cost_{prior_basis}"},
        "is_comparison",
        "_prior",
    )
    sql = f"""
        SELECT {select_group} {current}, {prior}
        FROM (SELECT *, {flags} FROM ({src})) t
        WHERE is_current OR is_comparison
        {group_by}
    """
    return sql, params | flag_params


def _sales_types(frame: pd.DataFrame) -> pd.DataFrame:
    """sales_by's columns as numbers: no sales is 0 revenue and 0 units, a margin without a
    base stays NaN."""
    frame[["revenue", "revenue_prior"]] = (
        frame[["revenue", "revenue_prior"]].astype("float64").fillna(0.0)
    )
    margins = [f"{m}{p}" for m in ("gross_margin_pct", "margin_coverage") for p in ("", "_prior")]
    frame[margins] = frame[margins].astype("float64")
    frame[["units", "units_prior"]] = frame[["units", "units_prior"]].fillna(0).astype("int64")
    return frame


def sales_by(
    cur: duckdb.DuckDBPyConnection, filters: Filters, dimensions: tuple[str, ...] = ()
) -> pd.DataFrame:
    """Net revenue, gross margin % and units in the period and the comparison period (the
    latter suffixed _prior), by the given dimensions, through the metric definitions.

    Grain: one row per combination of `dimensions` (allow-listed columns of the converted
    sales source), or a single row when there are none. The current period is valued on the
    filters' basis; the comparison period is reported, except at plan rates, where both
    periods are at the plan rates of their own quarters.
    """
    sql, params = _sales_sql(filters, dimensions)
    return _sales_types(db.query(cur, sql, params))


def _order_counts_sql(filters: Filters, use_summary: bool = True) -> tuple[str, dict]:
    """One row: orders_cur, orders_cmp (see order_counts): whole months from orders_monthly,
    the other days from orders_daily (sales.orders_source)."""
    src, params = sales.orders_source(filters, _periods(filters), use_monthly=use_summary)
    flags, flag_params = _period_flags(filters)
    sql = f"""
        SELECT coalesce(sum(order_count) FILTER (WHERE is_current), 0) AS orders_cur,
               coalesce(sum(order_count) FILTER (WHERE is_comparison), 0) AS orders_cmp
        FROM (SELECT *, {flags} FROM ({src}))
        WHERE is_current OR is_comparison
    """
    return sql, params | flag_params


def order_counts(cur: duckdb.DuckDBPyConnection, filters: Filters) -> tuple[int, int]:
    """Distinct orders in the period and in the comparison period (grain: one row)."""
    sql, params = _order_counts_sql(filters)
    row = db.query_rows(cur, sql, params)[0]
    return int(row[0]), int(row[1])


def _active_customers_sql(filters: Filters, use_summary: bool = True) -> tuple[str, dict]:
    """One row: customers_cur, customers_cmp (see active_customers)."""
    bound: dict = {}
    counts = []
    for name, period in (("cur", filters.period), ("cmp", filters.comparison)):
        ranges = [(period.start, period.end)]
        months, rest = sales.split_window(ranges) if use_summary else ([], ranges)
        parts = []
        if months:
            clauses, dims = dimension_conditions(filters, alias="s.", product_line="column")
            bound |= dims
            where = " AND ".join(
                [sales._any_range("s.month", months, f"{name}_m", bound), *clauses]
            )
            parts.append(f"SELECT s.customer_id FROM account_monthly s WHERE {where}")
        if rest:
            clauses, dims = dimension_conditions(filters, alias="o.", product_line="product_id")
            bound |= dims
            where = " AND ".join(
                [sales._any_range("o.order_date", rest, f"{name}_l", bound), *clauses]
            )
            parts.append(f"SELECT o.customer_id FROM order_lines o WHERE {where}")
        counts.append(
            f"(SELECT count(DISTINCT customer_id) FROM ({' UNION ALL '.join(parts)})) "
            f"AS customers_{name}"
        )
    # One distinct count per period, each over its own rows: 0.8x the CPU time of one count
    # grouped by period over the union (1M and 10M lines), and 0.6x of two FILTERed counts.
    return f"SELECT {', '.join(counts)}", bound


def active_customers(
    cur: duckdb.DuckDBPyConnection, filters: Filters, use_summary: bool = True
) -> tuple[int, int]:
    """Distinct customers with a matching order line in the period and in the comparison period.

    Grain: one row. Exact, not estimated: account_monthly holds one row per customer and
    month (and key) it sold in, so a customer is active in a period iff it has a row in one
    of the period's whole months or a line on one of its remaining days. Each period is
    split into whole months (read from the summary) and edge days (read from order_lines,
    which is in date order, so at most two months' lines are read); the distinct count is
    taken over the union. `use_summary=False` reads only order_lines (the definition the
    summary path is tested against).
    """
    sql, params = _active_customers_sql(filters, use_summary)
    row = db.query_rows(cur, sql, params)[0]
    return int(row[0]), int(row[1])


def _change(metric_kind: str, current: float, prior: float) -> float | None:
    """Relative change for amounts and counts, difference in points for percentages."""
    if metric_kind == "percent":
        return None if pd.isna(current) or pd.isna(prior) else current - prior
    change = metrics.growth(current, prior)
    return None if pd.isna(change) else change


def _measures(filters: Filters) -> list[str]:
    """The converted sums the figures need: revenue, known_revenue (of the lines with a known
    unit cost) and cost on the filters' basis for the period, and on the comparison's basis
    (reported; at plan rates, at plan rates) for the comparison period."""
    prior_basis = "plan" if filters.basis == "plan" else "reported"
    return [
        f"{measure}_{basis}"
        for basis in dict.fromkeys((filters.basis, prior_basis))
        for measure in ("revenue", "known_revenue", "cost")
    ]


def _country_sums_sql(filters: Filters, use_summary: bool = True) -> tuple[str, dict]:
    """Per country with sales in either period and per pair of period flags (is_current,
    is_comparison): the sums of `_measures` and units.

    Grouped by the flags rather than FILTERed per period: a grouped sum costs DuckDB about
    half of eight FILTERed ones, and the figures add the groups of each period (one group
    per period unless the two periods overlap)."""
    src, params = sales.periods_source(
        filters, _periods(filters), use_monthly=use_summary, region=False
    )
    flags, flag_params = _period_flags(filters)
    sums = ", ".join(f"sum({name}) AS {name}" for name in _measures(filters))
    sql = f"""
        SELECT country_code, is_current, is_comparison, {sums},
               CAST(sum(units) AS BIGINT) AS units
        FROM (SELECT *, {flags} FROM ({src}) t)
        WHERE is_current OR is_comparison
        GROUP BY ALL
    """
    return sql, params | flag_params


def figures(
    cur: duckdb.DuckDBPyConnection, filters: Filters, use_summary: bool = True
) -> dict[str, pd.DataFrame]:
    """The KPI row ("kpis") and revenue by country ("countries") in one statement.

    Each interaction on the Overview pays a fixed cost per statement sent (planning, the
    round trip, a result frame) and per aggregate, join and pandas step, which at 1M lines
    was most of its time. So one statement returns, as rows of one UNION ALL: the country
    sums of both periods (one grouped aggregate; whole months from sales_monthly), the order
    counts, the customer counts and the countries' names, fetched as Python values; the
    rows are pivoted, named and sorted here, and the totals are the sums of the country
    rows. The values are those of sales_by, order_counts and active_customers
    (tests/analytics/test_overview.py); `use_summary=False` reads no monthly table
    (sales_daily and order_lines: the definitions, tests/analytics/test_summaries.py).
    Call check_rates first."""
    measures = _measures(filters)
    sums_sql, params = _country_sums_sql(filters, use_summary)
    orders_sql, orders_params = _order_counts_sql(filters, use_summary)
    customers_sql, customers_params = _active_customers_sql(filters, use_summary)
    none = "NULL, " * len(measures)
    rows = db.query_columns(
        cur,
        f"""
        SELECT 'sums' AS part, country_code, is_current, is_comparison, {", ".join(measures)},
               units, NULL::BIGINT AS current, NULL::BIGINT AS comparison,
               NULL::VARCHAR AS iso3, NULL::VARCHAR AS name, NULL::VARCHAR AS region
        FROM ({sums_sql}) s
        UNION ALL
        SELECT 'orders', NULL, NULL, NULL, {none} NULL, orders_cur, orders_cmp, NULL, NULL, NULL
        FROM ({orders_sql}) o
        UNION ALL
        SELECT 'customers', NULL, NULL, NULL, {none} NULL, customers_cur, customers_cmp,
               NULL, NULL, NULL
        FROM ({customers_sql}) c
        UNION ALL
        SELECT 'names', country_code, NULL, NULL, {none} NULL, NULL, NULL, iso3, name, region
        FROM countries
        """,
        params | orders_params | customers_params,
    )
    countries = _country_sums(rows, filters)
    totals = {name: _total(countries[name]) for name in _SUMS}
    for part, current, comparison in zip(
        rows["part"], rows["current"], rows["comparison"], strict=True
    ):
        if part in ("orders", "customers"):
            totals[f"{part}_cur"], totals[f"{part}_cmp"] = current, comparison
    return {"kpis": _kpi_frame(totals), "countries": _country_frame(countries)}


_SUMS = [f"{m}{p}" for p in ("", "_prior") for m in ("revenue", "known_revenue", "cost", "units")]


def _country_sums(rows: dict[str, list], filters: Filters) -> dict[str, np.ndarray | list]:
    """figures' country rows, one per country with sales in either period, sorted by
    revenue in the period (largest first, then by country code): the sums of each period
    (SQL's: NULL where a period has no value, then 0 for revenue and units), and the names.

    Summed here from the rows of each (country, period flags) group, in Python: a few dozen
    rows, where pandas would cost a fraction of a millisecond per step."""
    prior_basis = "plan" if filters.basis == "plan" else "reported"
    picks = (
        ("", "is_current", filters.basis),
        ("_prior", "is_comparison", prior_basis),
    )
    sums: dict[str, dict[str, float | int | None]] = {}
    names: dict[str, tuple] = {}
    for i, part in enumerate(rows["part"]):
        code = rows["country_code"][i]
        if part == "names":
            names[code] = (rows["iso3"][i], rows["name"][i], rows["region"][i])
            continue
        if part != "sums":
            continue
        country = sums.setdefault(code, dict.fromkeys(_SUMS))
        for suffix, flag, basis in picks:
            if not rows[flag][i]:
                continue
            for measure in ("revenue", "known_revenue", "cost", "units"):
                column = "units" if measure == "units" else f"{measure}_{basis}"
                value, name = rows[column][i], measure + suffix
                if value is not None:
                    country[name] = value if country[name] is None else country[name] + value
    order = sorted(sums, key=lambda code: (-(sums[code]["revenue"] or 0.0), code))
    out: dict[str, np.ndarray | list] = {"country_code": order}
    for i, column in enumerate(("iso3", "country", "region")):
        out[column] = [names.get(code, (None, None, None))[i] for code in order]
    for name in _SUMS:
        values = [sums[code][name] for code in order]
        if name.startswith(("revenue", "units")):  # no sales is 0, not "no value"
            values = [0 if v is None else v for v in values]
        dtype = "int64" if name.startswith("units") else "float64"
        out[name] = np.array([np.nan if v is None else v for v in values], dtype=dtype)
    return out


def _total(values: np.ndarray) -> float | int:
    """The sum over the countries, a missing value counting as 0 (pandas' sum)."""
    return np.nansum(values) if values.dtype.kind == "f" else values.sum()


def kpis(cur: duckdb.DuckDBPyConnection, filters: Filters) -> pd.DataFrame:
    """The KPI row: one row per metric in KPI_ROW with current, comparison and change."""
    return figures(cur, filters)["kpis"]


def _kpi_frame(totals: dict) -> pd.DataFrame:
    def margin(suffix: str) -> float:
        return metrics.gross_margin_pct(totals[f"known_revenue{suffix}"], totals[f"cost{suffix}"])

    values = {
        "net_revenue": (totals["revenue"], totals["revenue_prior"]),
        "gross_margin_pct": (margin(""), margin("_prior")),
        "units": (totals["units"], totals["units_prior"]),
        "orders": (totals["orders_cur"], totals["orders_cmp"]),
        "active_customers": (totals["customers_cur"], totals["customers_cmp"]),
    }
    coverage = metrics.margin_coverage(totals["known_revenue"], totals["revenue"])
    rows = []
    for name in KPI_ROW:
        current, prior = values[name]
        rows.append(
            {
                "metric": name,
                "label": METRICS[name].label,
                "kind": METRICS[name].kind,
                "current": float(current),
                "comparison": float(prior),
                "change": _change(METRICS[name].kind, float(current), float(prior)),
                # the share of revenue a margin figure covers (NaN on the other rows)
                "coverage": float(coverage) if name == "gross_margin_pct" else float("nan"),
            }
        )
    return pd.DataFrame(rows)


def monthly_revenue_by_region(cur: duckdb.DuckDBPyConnection, filters: Filters) -> pd.DataFrame:
    """Net revenue per month and region over the TREND_MONTHS months ending with the period.

    Grain: month x region. On the constant basis every month is valued at the comparison
    period's average rates, so the line shows volume and price without currency moves; at
    plan rates each month at its own quarter's plan rates.
    """
    src, params = sales.periods_source(filters, [(trend_start(filters), filters.period.end)])
    basis = filters.basis
    return db.query(
        cur,
        f"""
        SELECT CAST(date_trunc('month', order_date) AS DATE) AS month, region,
               sum(revenue_{basis}) AS revenue
        FROM ({src}) t
        GROUP BY ALL ORDER BY month, region
        """,
        params,
    )


def revenue_by_country(cur: duckdb.DuckDBPyConnection, filters: Filters) -> pd.DataFrame:
    """Revenue, growth, margin and share per country (grain: one row per country with sales).

    Sorted by revenue in the period, largest first.
    """
    return figures(cur, filters)["countries"]


def _country_frame(countries: dict[str, np.ndarray | list]) -> pd.DataFrame:
    """The countries table from figures' country rows (already in revenue order), computed
    on arrays: on pandas Series each of these steps cost ~0.5 ms for 60 rows."""
    revenue, known = countries["revenue"], countries["known_revenue"]
    return pd.DataFrame(
        {
            "country_code": pd.array(countries["country_code"], dtype="str"),
            "iso3": pd.array(countries["iso3"], dtype="str"),
            "country": pd.array(countries["country"], dtype="str"),
            "region": pd.array(countries["region"], dtype="str"),
            "revenue": revenue,
            "revenue_prior": countries["revenue_prior"],
            "growth": metrics.growth(revenue, countries["revenue_prior"]),
            "gross_margin_pct": metrics.gross_margin_pct(known, countries["cost"]),
            "margin_coverage": metrics.margin_coverage(known, revenue),
            "share": metrics.ratio(revenue, np.full(len(revenue), revenue.sum())),
            "units": countries["units"],
        }
    )
