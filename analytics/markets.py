"""Markets: where international revenue, growth and margin come from.

Region and country figures read the sales_daily / orders_daily rollups through
overview.sales_by; account-level figures (customers, global accounts, prices) read the
monthly summaries (analytics.rollups) and, for partial months and reported figures in a
currency other than EUR, order_lines, kept in date order so a period reads only its part.
"""

from __future__ import annotations

import dataclasses

import duckdb
import numpy as np
import pandas as pd

from analytics import db, metrics, overview, sales
from analytics.filters import Filters, dimension_conditions
from analytics.periods import Period, same_dates_year_earlier

LEVELS = {"region": "region", "country": "country_code"}
# Both levels in one scan. A country's set also names its region: DuckDB needs every
# selected column in some set, and a country has one region, so the grouping is the same.
GROUPING_SETS = "(region), (region, country_code)"


def last_year(period: Period) -> Period:
    """The same dates one year earlier (the 29 February rule of
    periods.same_dates_year_earlier)."""
    start, end = same_dates_year_earlier(period.start, period.end)
    return Period(start, end, f"{period.label} last year")


def basis_note(filters: Filters) -> str:
    """What a growth figure compares, on which rates."""
    if filters.basis == "constant":
        return (
            f"Growth vs {filters.comparison.label} at constant currency: "
            f"{filters.period.label} valued at {filters.comparison.label} average ECB rates"
        )
    if filters.basis == "plan":
        return (
            f"Growth vs {filters.comparison.label} at plan rates: both periods valued at the "
            "plan rates of their own quarters (set by finance)"
        )
    return (
        f"Growth vs {filters.comparison.label} at reported rates (each order at its day's ECB rate)"
    )


def _period_years(period: Period) -> float:
    return ((period.end - period.start).days + 1) / 365.25


def scorecard(cur: duckdb.DuckDBPyConnection, filters: Filters, level: str) -> pd.DataFrame:
    """Market scorecard, one row per region or country with sales in the period or comparison.

    Columns: key, name, region, revenue (on the filters' basis), revenue_prior (comparison
    period, reported), growth_prior (on the filters' basis), revenue_cc (period at the comparison period's average
    rates), growth_prior_cc, fx_effect (reported growth - constant-currency growth),
    revenue_last_year (same dates a year earlier, reported), growth_last_year,
    gross_margin_pct (over the revenue with a known unit cost), margin_coverage (that
    revenue's share), share, penetration (annualised EUR revenue / addressable market,
    illustrative), addressable_market_eur, active_customers, orders, aov (revenue / orders);
    iso3 for countries.
    """
    return scorecards(cur, filters)[level]


def scorecards(cur: duckdb.DuckDBPyConnection, filters: Filters) -> dict[str, pd.DataFrame]:
    """The scorecard for regions and for countries (GROUPING SETS: one scan per source)."""
    sales_frame = _scorecard_sales(cur, filters)
    counts = _counts(cur, filters)
    market = _addressable_market(cur, filters)
    names = db.query(cur, "SELECT country_code, name, region, iso3 FROM countries")
    return {
        level: _finish(
            *(_level_rows(frame, level) for frame in (sales_frame, counts, market)),
            names,
            filters,
            level,
        )
        for level in LEVELS
    }


def _level_rows(frame: pd.DataFrame, level: str) -> pd.DataFrame:
    """The rows of one grouping set: countries have a country_code, regions do not."""
    dim = LEVELS[level]
    rows = (
        frame[frame["country_code"].notna()]
        if level == "country"
        else frame[frame["country_code"].isna() & frame["region"].notna()]
    )
    other = "region" if level == "country" else "country_code"
    return rows.drop(columns=other).reset_index(drop=True).astype({dim: "object"})


def _finish(
    frame: pd.DataFrame,
    counts: pd.DataFrame,
    market: pd.DataFrame,
    names: pd.DataFrame,
    filters: Filters,
    level: str,
) -> pd.DataFrame:
    """Growth, margin, share, counts and penetration for one level's rows."""
    dim = LEVELS[level]
    frame = frame.copy()
    constant_basis = filters.basis == "constant"
    basis = {"constant": "cc", "plan": "plan"}.get(filters.basis, "reported")
    frame["revenue"] = frame[f"revenue_{basis}"]
    frame["gross_margin_pct"] = frame[f"gross_margin_pct_{basis}"]
    frame["margin_coverage"] = frame[f"margin_coverage_{basis}"]
    growth_reported = metrics.growth(frame["revenue_reported"], frame["revenue_prior"])
    frame["growth_prior_cc"] = metrics.growth(frame["revenue_cc"], frame["revenue_prior"])
    # Growth on the chosen basis, as the Overview shows it: at constant currency the
    # period's revenue at the comparison period's rates against the comparison, reported;
    # at plan rates both periods at their own quarters' plan rates.
    frame["growth_prior"] = frame["growth_prior_cc"] if constant_basis else growth_reported
    if filters.basis == "plan":
        frame["growth_prior"] = metrics.growth(frame["revenue_plan"], frame["revenue_prior_plan"])
    frame["fx_effect"] = growth_reported - frame["growth_prior_cc"]
    frame["growth_last_year"] = metrics.growth(
        frame["revenue_reported"], frame["revenue_last_year"]
    )
    frame["share"] = metrics.ratio(frame["revenue"], frame["revenue"].sum())

    frame = frame.merge(counts, on=dim, how="left")
    frame[["active_customers", "orders"]] = (
        frame[["active_customers", "orders"]].fillna(0).astype("int64")
    )
    frame["aov"] = metrics.ratio(frame["revenue"], frame["orders"])

    frame = frame.merge(market, on=dim, how="left")
    frame["addressable_market_eur"] = frame["addressable_market_eur"].astype("float64")
    frame["penetration"] = metrics.ratio(
        frame["revenue_eur"] / _period_years(filters.period), frame["addressable_market_eur"]
    )
    if level == "country":
        frame = frame.merge(names, on="country_code", how="left")
    else:
        frame["name"] = frame["region"]
    frame = frame.rename(columns={dim: "key"})
    if level == "region":
        frame["region"] = frame["key"]
    columns = [
        "key",
        "name",
        "region",
        "revenue",
        "revenue_prior",
        "growth_prior",
        "revenue_cc",
        "growth_prior_cc",
        "fx_effect",
        "revenue_last_year",
        "growth_last_year",
        "gross_margin_pct",
        "margin_coverage",
        "share",
        "penetration",
        "addressable_market_eur",
        "active_customers",
        "orders",
        "aov",
    ]
    if level == "country":
        columns.append("iso3")
    return frame[columns].sort_values("revenue", ascending=False, ignore_index=True)


def _scorecard_sales(
    cur: duckdb.DuckDBPyConnection, filters: Filters, use_summary: bool = True
) -> pd.DataFrame:
    """Net revenue and gross margin % per region or country for the period (reported and at
    constant currency; revenue also in EUR), net revenue in the comparison period and the same dates last year, in one scan of
    the sales rollups (whole months from sales_monthly, in EUR). Call check_rates first: the
    constant-currency join assumes every rate."""
    year_ago = last_year(filters.period)
    at_plan = filters.basis == "plan"
    periods = [filters.period, filters.comparison, year_ago]
    src, params = sales.periods_source(
        dataclasses.replace(filters, basis="constant"),
        [(p.start, p.end) for p in periods],
        plan=at_plan,
        use_monthly=use_summary,
    )
    shown = (("net_revenue", "revenue"), "gross_margin_pct", "margin_coverage")
    reported = {"revenue": "revenue_reported", "cost": "cost_reported"}
    constant = {"revenue": "revenue_constant", "cost": "cost_constant"}
    plan = {"revenue": "revenue_plan", "cost": "cost_plan"}
    revenue = (("net_revenue", "revenue"),)
    figures = ", ".join(
        [
            metrics.select_list(shown, reported, "cur", "_reported"),
            metrics.select_list(shown, constant, "cur", "_cc"),
            metrics.select_list(revenue, {"revenue": "net_amount_eur"}, "cur", "_eur"),
            metrics.select_list(revenue, reported, "cmp", "_prior"),
            metrics.select_list(revenue, reported, "ly", "_last_year"),
        ]
        + (
            [
                metrics.select_list(shown, plan, "cur", "_plan"),
                metrics.select_list(revenue, plan, "cmp", "_prior_plan"),
            ]
            if at_plan
            else []
        )
    )
    frame = db.query(
        cur,
        f"""
        SELECT region, country_code, {figures}
        FROM (
            SELECT *, order_date BETWEEN $p_start AND $p_end AS cur,
                   order_date BETWEEN $c_start AND $c_end AS cmp,
                   order_date BETWEEN $y_start AND $y_end AS ly
            FROM ({src})
        )
        WHERE cur OR cmp OR ly
        GROUP BY GROUPING SETS ({GROUPING_SETS})
        """,
        params
        | {
            "p_start": filters.period.start,
            "p_end": filters.period.end,
            "c_start": filters.comparison.start,
            "c_end": filters.comparison.end,
            "y_start": year_ago.start,
            "y_end": year_ago.end,
        },
    )
    money = ["revenue_reported", "revenue_prior", "revenue_cc", "revenue_last_year", "revenue_eur"]
    bases = ("reported", "cc", "plan") if at_plan else ("reported", "cc")
    if at_plan:
        money += ["revenue_plan", "revenue_prior_plan"]
    frame[money] = frame[money].astype("float64").fillna(0.0)
    margins = [f"{m}_{b}" for m in ("gross_margin_pct", "margin_coverage") for b in bases]
    frame[margins] = frame[margins].astype("float64")
    return frame


def _counts(
    cur: duckdb.DuckDBPyConnection, filters: Filters, use_summary: bool = True
) -> pd.DataFrame:
    """Orders (orders_monthly's whole months, orders_daily's other days: sales.orders_source)
    and active customers per grouping set: distinct customers of account_monthly's whole
    months (per-month distinct sets) and the partial months' lines."""
    start, end = filters.period.start, filters.period.end
    src, params = sales.orders_source(filters, [(start, end)], use_monthly=use_summary)
    orders = db.query(
        cur,
        f"""
        SELECT c.region, country_code, sum(o.order_count) AS orders
        FROM ({src}) o JOIN countries c USING (country_code)
        GROUP BY GROUPING SETS ({GROUPING_SETS})
        """,
        params,
    )
    src, params = sales.summarised(
        cur,
        "accounts",
        None,
        [(start, end)],
        filters=filters,
        key="active",
        use_summary=use_summary,
    )
    customers = db.query(
        cur,
        f"""
        SELECT c.region, country_code, count(DISTINCT o.customer_id) AS active_customers
        -- Each customer once per country first: the grouping sets' distinct counts then
        -- run over tens of thousands of rows, not 1.35M account months (50M lines, L12M:
        -- 166 -> 62 ms); a region's count is still distinct across its countries.
        FROM (SELECT DISTINCT customer_id, country_code FROM ({src})) o
        JOIN countries c USING (country_code)
        GROUP BY GROUPING SETS ({GROUPING_SETS})
        """,
        params,
    )
    keys = ["region", "country_code"]
    return orders.astype({k: "object" for k in keys}).merge(
        customers.astype({k: "object" for k in keys}), on=keys, how="outer"
    )


def _addressable_market(cur: duckdb.DuckDBPyConnection, filters: Filters) -> pd.DataFrame:
    """Addressable market (EUR, illustrative) of the period's last year, per grouping set."""
    conditions, params = dimension_conditions(
        dataclasses.replace(filters, product_lines=(), channels=()), alias="m."
    )
    where = " AND ".join(["m.year = $year", *conditions])
    return db.query(
        cur,
        f"""
        SELECT c.region, country_code, sum(m.addressable_market_eur) AS addressable_market_eur
        FROM market_data m JOIN countries c USING (country_code)
        WHERE {where} GROUP BY GROUPING SETS ({GROUPING_SETS})
        """,
        params | {"year": filters.period.end.year},
    )


def reporting_rate(cur: duckdb.DuckDBPyConnection, filters: Filters) -> float:
    """Units of the reporting currency per EUR on the period's last day (its latest rate)."""
    rows = db.query_rows(
        cur,
        """
        SELECT units_per_eur FROM fx_daily WHERE currency_code = ? AND rate_date <= ?
        ORDER BY rate_date DESC LIMIT 1
        """,
        [filters.currency, filters.period.end],
    )
    return rows[0][0] if rows else float("nan")


def market_opportunity(country_card: pd.DataFrame, rate: float) -> pd.DataFrame:
    """Bubble-chart input from a country scorecard: per country with sales and a market
    estimate, the addressable market in the reporting currency (annual, illustrative,
    converted at `rate` from reporting_rate), penetration, growth and revenue.

    A transform of the scorecard the page already holds, so no query runs twice.
    """
    frame = country_card[
        (country_card["revenue"] > 0) & country_card["addressable_market_eur"].notna()
    ].copy()
    frame["addressable_market"] = frame["addressable_market_eur"] * rate
    frame = frame.rename(columns={"key": "country_code", "name": "country"})
    return frame[
        [
            "country_code",
            "country",
            "region",
            "revenue",
            "growth_prior",
            "addressable_market",
            "penetration",
        ]
    ].reset_index(drop=True)


def mix(cur: duckdb.DuckDBPyConnection, filters: Filters, by: str) -> pd.DataFrame:
    """Revenue per market (`by`: region or country) x product line x channel, one scan.

    Grain: one row per (market, product_line, channel) with revenue; see mix_shares.
    """
    dim = LEVELS[by]
    frame = overview.sales_by(cur, filters, (dim, "product_line", "channel"))
    frame = frame[frame["revenue"] != 0][[dim, "product_line", "channel", "revenue"]].copy()
    if by == "country":
        names = db.query(cur, "SELECT country_code, name FROM countries")
        frame = frame.merge(names, on="country_code", how="left")
        frame["market"] = frame["name"]
    else:
        frame["market"] = frame["region"]
    return frame[["market", "product_line", "channel", "revenue"]].reset_index(drop=True)


def mix_shares(mix_frame: pd.DataFrame, part: str) -> pd.DataFrame:
    """Each `part`'s (product_line or channel) share of its market's revenue.

    Grain: one row per (market, part) with revenue and share.
    """
    column = {"product_line": "product_line", "channel": "channel"}[part]
    frame = mix_frame.groupby(["market", column], as_index=False)["revenue"].sum()
    frame["share"] = frame["revenue"] / frame.groupby("market")["revenue"].transform("sum")
    return frame


def top_accounts(
    cur: duckdb.DuckDBPyConnection, filters: Filters, n: int = 15, use_summary: bool = True
) -> pd.DataFrame:
    """The n largest customers by reported revenue in the period (grain: one row per customer;
    equal revenue in customer_id order).

    Columns: customer_id, customer, country, segment, global_account, revenue, revenue_prior,
    growth_prior, gross_margin_pct, orders. Reads account_monthly where it can
    (`use_summary=False`: order_lines only, the definition it is tested against). Call
    check_rates first: in EUR the summary is then read without looking up EUR's rate days.

    Two statements: the top n with their names, then the comparison period's revenue and
    the orders of those n (and whether split orders exist, which makes the orders count
    read order_lines, a third statement). In one statement DuckDB computed the top n once
    for each part that named them (three times), and each statement costs ~1 ms of CPU
    before it reads a row (benchmarks/README.md, branch `overview`).
    """
    period, comparison = filters.period, filters.comparison
    # Both periods from one source (one look-up of the days the summary covers, when it
    # needs one), each read by its own date test: DuckDB pushes it down to the scans, so
    # each statement reads only its period's months.
    rows, params = sales.summarised(
        cur,
        "accounts",
        filters.currency,
        [(period.start, period.end), (comparison.start, comparison.end)],
        filters=filters,
        key="top",
        use_summary=use_summary,
        rates_checked=True,
    )
    top = db.query_columns(
        cur,
        f"""
        WITH top AS (
            SELECT customer_id, sum(revenue_reported) AS revenue,
                   sum(known_revenue_reported) AS known_revenue, sum(cost_reported) AS cost
            FROM ({rows}) r WHERE order_date BETWEEN $p_start AND $p_end
            GROUP BY 1 ORDER BY revenue DESC, customer_id LIMIT $n
        )
        SELECT t.customer_id, c.name AS customer, k.name AS country, c.segment,
               g.name AS global_account, t.revenue, t.known_revenue, t.cost
        FROM top t
        JOIN customers c USING (customer_id)
        JOIN countries k ON k.country_code = c.country_code
        LEFT JOIN global_accounts g USING (global_account_id)
        ORDER BY t.revenue DESC, t.customer_id
        """,
        params | {"n": n, "p_start": period.start, "p_end": period.end},
    )
    ids = top["customer_id"]
    prior, orders = _top_details(cur, filters, ids, rows, params, use_summary)
    # On arrays: on pandas Series each step cost ~0.5 ms for 25 rows.
    revenue = _floats(top["revenue"], np.nan)
    known, cost = _floats(top["known_revenue"], 0.0), _floats(top["cost"], 0.0)
    revenue_prior = np.array([prior.get(c, 0.0) for c in ids], dtype="float64")
    frame = {c: pd.array(top[c], dtype="str") for c in ("customer_id", "customer", "country")}
    return pd.DataFrame(
        frame
        | {
            "segment": pd.array(top["segment"], dtype="str"),
            "global_account": pd.array(top["global_account"], dtype="str"),
            "revenue": revenue,
            "revenue_prior": revenue_prior,
            "orders": np.array([orders.get(c, 0) for c in ids], dtype="int64"),
            "growth_prior": metrics.growth(revenue, revenue_prior),
            "gross_margin_pct": metrics.gross_margin_pct(known, cost),
            "margin_coverage": metrics.margin_coverage(known, revenue),
        }
    )


def _floats(values: list, missing: float) -> np.ndarray:
    return np.array([missing if v is None else v for v in values], dtype="float64")


def _top_details(
    cur: duckdb.DuckDBPyConnection,
    filters: Filters,
    ids: list[str],
    rows: str,
    params: dict,
    use_summary: bool,
) -> tuple[dict[str, float], dict[str, int]]:
    """top_accounts' comparison revenue and orders in the period, per customer of `ids`."""
    if not ids:
        return {}, {}
    period, comparison = filters.period, filters.comparison
    only = ["list_contains($top_ids, o.customer_id)"]

    def orders_sql(split: bool) -> tuple[str, dict]:
        return sales.account_orders(
            cur,
            [(period.start, period.end)],
            filters=filters,
            conditions=only,
            params={"top_ids": ids},
            key="orders",
            use_summary=use_summary,
            split=split,
        )

    orders, orders_params = orders_sql(split=False)
    split = "UNION ALL SELECT 'split', NULL, count(*) FROM split_orders" if use_summary else ""
    found = db.query_columns(
        cur,
        f"""
        SELECT 'prior' AS part, customer_id, sum(revenue_reported) AS value FROM ({rows}) r
        WHERE order_date BETWEEN $c_start AND $c_end AND list_contains($top_ids, customer_id)
        GROUP BY customer_id
        UNION ALL
        SELECT 'orders', customer_id, orders FROM ({orders}) o
        {split}
        """,
        params
        | orders_params
        | {"top_ids": ids, "c_start": comparison.start, "c_end": comparison.end},
    )
    prior, counts, splits = {}, {}, 0
    for part, customer, value in zip(
        found["part"], found["customer_id"], found["value"], strict=True
    ):
        if part == "prior":
            prior[customer] = value
        elif part == "orders":
            counts[customer] = int(value)
        else:
            splits = int(value)
    if splits:  # an order in two keys would count twice in account_orders_monthly
        sql, bound = orders_sql(split=True)
        counts = dict(db.query_rows(cur, sql, bound))
    return prior, counts


def global_accounts(
    cur: duckdb.DuckDBPyConnection, filters: Filters, use_summary: bool = True
) -> pd.DataFrame:
    """Global key accounts rolled up over their subsidiaries (grain: one row per account).

    Columns: global_account_id, global_account, revenue, revenue_prior, growth_prior,
    gross_margin_pct, countries (number with sales in the period), country_list,
    top_product_line. Reported rates. Reads account_monthly where it can.
    """
    period, comparison = filters.period, filters.comparison
    src, params = sales.summarised(
        cur,
        "accounts",
        filters.currency,
        [(period.start, period.end), (comparison.start, comparison.end)],
        filters=filters,
        conditions=[
            "o.customer_id IN (SELECT customer_id FROM customers WHERE global_account_id IS NOT NULL)"
        ],
        key="accounts",
        use_summary=use_summary,
    )
    flags = {
        "p_start": period.start,
        "p_end": period.end,
        "c_start": comparison.start,
        "c_end": comparison.end,
    }
    frame = db.query(
        cur,
        f"""
        WITH l AS (
            SELECT l.customer_id, l.country_code, l.revenue_reported AS revenue,
                   l.known_revenue_reported AS known_revenue, l.cost_reported AS cost,
                   l.order_date BETWEEN $p_start AND $p_end AS is_current,
                   l.order_date BETWEEN $c_start AND $c_end AS is_comparison,
                   c.global_account_id, k.name AS country, l.product_line
            FROM ({src}) l
            JOIN customers c USING (customer_id)
            JOIN countries k ON k.country_code = l.country_code
            -- an unknown product (no product line) drops out, as a join with products would
            WHERE c.global_account_id IS NOT NULL AND l.product_line IS NOT NULL
        ), lines AS (
            SELECT global_account_id, product_line, sum(revenue) AS revenue
            FROM l WHERE is_current GROUP BY ALL
        )
        SELECT g.global_account_id, g.name AS global_account,
               sum(l.revenue) FILTER (WHERE l.is_current) AS revenue,
               sum(l.revenue) FILTER (WHERE l.is_comparison) AS revenue_prior,
               sum(l.known_revenue) FILTER (WHERE l.is_current) AS known_revenue,
               sum(l.cost) FILTER (WHERE l.is_current) AS cost,
               count(DISTINCT l.country) FILTER (WHERE l.is_current) AS countries,
               string_agg(DISTINCT l.country, ', ' ORDER BY l.country) FILTER (WHERE l.is_current)
                   AS country_list,
               (SELECT arg_max(product_line, revenue) FROM lines
                 WHERE lines.global_account_id = g.global_account_id) AS top_product_line
        FROM l JOIN global_accounts g USING (global_account_id)
        GROUP BY ALL
        ORDER BY revenue DESC NULLS LAST
        """,
        params | flags,
    )
    money = ["revenue", "revenue_prior", "known_revenue", "cost"]
    frame[money] = frame[money].astype("float64").fillna(0.0)
    frame["growth_prior"] = metrics.growth(frame["revenue"], frame["revenue_prior"])
    frame["gross_margin_pct"] = metrics.gross_margin_pct(frame["known_revenue"], frame["cost"])
    frame["margin_coverage"] = metrics.margin_coverage(frame["known_revenue"], frame["revenue"])
    return frame.drop(columns=["known_revenue", "cost"])


def price_position(
    cur: duckdb.DuckDBPyConnection, filters: Filters, product_id: str, use_summary: bool = True
) -> pd.DataFrame:
    """Average net selling price of one product per country in the period (returns excluded).

    Columns: country_code, country, currency_code, units, avg_price_local (net local revenue
    / units), avg_price_reporting (the local price at the period's average rate into the
    reporting currency), price_index (100 = unweighted mean of avg_price_reporting across
    the markets shown), list_price_local (average list price charged), discount_depth
    (1 - realised / list). One row per country: a country that changed its invoicing
    currency in the period (Bulgaria's BGN to EUR on 1 Jan 2026) shows the currency it
    invoices in at the period end, its local and list prices and discount from the lines in
    that currency; units and the reporting-currency price count every line.
    """
    period = filters.period
    items, params = sales.summarised(
        cur,
        "items",
        None,
        [(period.start, period.end)],
        filters=filters,
        base_rates=(period.start, period.end),
        conditions=["o.product_id = $product"],
        params={"product": product_id, "currency": filters.currency},
        key="prices",
        use_summary=use_summary,
    )
    in_end = "FILTER (WHERE o.currency_code = e.currency_code)"
    frame = db.query(
        cur,
        f"""
        WITH lines AS ({items}),
        ending AS (
            -- The currency of a country's latest row that sold units (a month's row, or a
            -- line of a partial month).
            SELECT country_code, arg_max(currency_code, (order_date, currency_code)) AS currency_code
            FROM lines WHERE quantity_sold > 0 GROUP BY country_code
        )
        SELECT o.country_code, k.name AS country, e.currency_code,
               sum(o.quantity_sold) AS units,
               sum(o.net_local_sold) {in_end} / sum(o.quantity_sold) {in_end} AS avg_price_local,
               sum(o.revenue_constant_sold) / sum(o.quantity_sold) AS avg_price_reporting,
               sum(o.list_local_sold) {in_end} / sum(o.quantity_sold) {in_end}
                   AS list_price_local,
               1 - sum(o.net_local_sold) {in_end} / sum(o.list_local_sold) {in_end}
                   AS discount_depth
        FROM lines o
        JOIN ending e USING (country_code)
        JOIN countries k USING (country_code)
        GROUP BY o.country_code, k.name, e.currency_code
        HAVING sum(o.quantity_sold) > 0
        """,
        params,
    )
    mean = frame["avg_price_reporting"].mean()
    frame["price_index"] = frame["avg_price_reporting"] / mean * 100 if len(frame) else []
    return frame.sort_values("price_index", ascending=False, ignore_index=True)


def products_sold(
    cur: duckdb.DuckDBPyConnection, filters: Filters, use_summary: bool = True
) -> pd.DataFrame:
    """Products sold in the period under the filters, by units (for a product picker)."""
    src, params = sales.summarised(
        cur,
        "items",
        None,
        [(filters.period.start, filters.period.end)],
        filters=filters,
        key="sold",
        use_summary=use_summary,
    )
    return db.query(
        cur,
        f"""
        SELECT p.product_id, p.name, p.product_line, sum(o.quantity) AS units,
               count(DISTINCT o.country_code) AS countries
        FROM ({src}) o JOIN products p USING (product_id)
        GROUP BY ALL ORDER BY countries DESC, units DESC
        """,
        params,
    )


def check_rates(cur: duckdb.DuckDBPyConnection, filters: Filters) -> None:
    """Every rate the page needs exists (reported back to last year, and constant currency),
    or RateUnavailable says which is missing."""
    start = min(last_year(filters.period).start, filters.comparison.start)
    sales.check_rates(
        cur, dataclasses.replace(filters, basis="constant"), start, filters.period.end
    )
    if filters.basis == "plan":
        sales.check_plan_rates(cur, filters, filters.comparison.start, filters.period.end)
