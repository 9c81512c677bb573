"""The plan and the market: quotas per rep, budgets per country and product line, plan
rates per currency and year, and the population, GDP and (illustrative) addressable market
per country and year.
"""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd

from analytics import db
from analytics.demo.company import END, PLAN_END, REGION_PRESENCE, START, YEARS
from analytics.demo.world import World
from analytics.demo.writing import insert_frame
from analytics.periods import quarter_starts


def insert_quotas_and_budgets(con: duckdb.DuckDBPyConnection, rng: np.random.Generator) -> None:
    """Quotas per rep and budgets per country x product line, for every quarter to year end.

    Set the way companies do: last year's same quarter plus a growth target (with a spread
    between people and markets); the first year, which has no history, is planned on the
    year's own run rate. Amounts are rounded to thousands of EUR.
    """
    quarters = quarter_starts(START, PLAN_END)
    qframe = pd.DataFrame({"quarter_start": quarters})
    actual_rep = db.query(
        con,
        """
        SELECT rep_id, date_trunc('quarter', order_date)::DATE AS quarter_start,
               sum(net_amount_eur) AS revenue
        FROM order_lines WHERE rep_id IS NOT NULL GROUP BY ALL
        """,
    )
    reps = db.query(
        con, "SELECT rep_id FROM reps WHERE rep_id IN (SELECT DISTINCT rep_id FROM order_lines)"
    )
    quotas = _plan(reps.merge(qframe, how="cross"), actual_rep, ["rep_id"], "revenue", rng)
    quotas = quotas.rename(columns={"plan": "quota_eur"})[["rep_id", "quarter_start", "quota_eur"]]
    insert_frame(con, "quotas", quotas)

    actual_cl = db.query(
        con,
        """
        SELECT country_code, product_line, date_trunc('quarter', order_date)::DATE AS quarter_start,
               sum(net_amount_eur) AS revenue
        FROM sales_daily GROUP BY ALL
        """,
    )
    keys = (
        actual_cl[["country_code", "product_line"]]
        .drop_duplicates()
        .sort_values(["country_code", "product_line"])
    )
    budgets = _plan(
        keys.merge(qframe, how="cross"), actual_cl, ["country_code", "product_line"], "revenue", rng
    )
    budgets = budgets.rename(columns={"plan": "budget_revenue_eur"})
    insert_frame(
        con,
        "budgets",
        budgets[["country_code", "product_line", "quarter_start", "budget_revenue_eur"]],
    )


def insert_plan_rates(con: duckdb.DuckDBPyConnection) -> None:
    """A plan rate per currency for every year the budgets cover, set as many finance teams
    set it: the mean of the prior year's ECB publications (units per EUR, 4 decimals).

    A currency gets a plan for a year only if the ECB still published it in the prior
    December (RUB, whose series ends in March 2022, has none from 2023). EUR is 1 and is not
    stored. Draws nothing from the generator, so the other demo figures stay as they were.
    """
    db.execute(
        con,
        """
        INSERT INTO plan_rates (year, quarter, currency_code, units_per_eur)
        SELECT year(rate_date) + 1, NULL, currency_code, round(avg(units_per_eur), 4)
        FROM fx_rates
        WHERE year(rate_date) BETWEEN $first - 1 AND $last - 1 AND currency_code <> 'EUR'
        GROUP BY year(rate_date), currency_code
        HAVING max(month(rate_date)) = 12
        ORDER BY 1, 3
        """,
        {"first": START.year, "last": PLAN_END.year},
    )


def _plan(
    grid: pd.DataFrame, actual: pd.DataFrame, keys: list[str], value: str, rng
) -> pd.DataFrame:
    grid = grid.sort_values([*keys, "quarter_start"]).reset_index(drop=True)
    grid["quarter_start"] = pd.to_datetime(grid["quarter_start"])
    actual = actual.assign(quarter_start=pd.to_datetime(actual["quarter_start"]))
    same = grid.merge(actual, on=[*keys, "quarter_start"], how="left")[value].fillna(0.0)
    prior = grid.assign(quarter_start=grid["quarter_start"] - pd.DateOffset(years=1)).merge(
        actual, on=[*keys, "quarter_start"], how="left"
    )[value]
    first_year = grid["quarter_start"].dt.year == START.year
    target = rng.uniform(1.08, 1.28, len(grid))
    base = np.where(first_year, same * rng.uniform(0.9, 1.1, len(grid)), prior.fillna(0.0) * target)
    grid["plan"] = np.maximum(np.round(base, -3), 0.0)
    grid["quarter_start"] = grid["quarter_start"].dt.date
    return grid


def insert_market_data(con, rng: np.random.Generator, world: World) -> None:
    """Population, GDP and an illustrative addressable market per country and year.

    The addressable market is invented: each country gets a share of its market that the
    company holds (2 % to 35 %, lower where it is newer) and the market is the country's
    annualised revenue divided by that share, so penetration stays plausible at any --rows.
    A year without sales falls back to a share of GDP. Screens label it as illustrative.
    """
    revenue = {
        (code, year): eur
        for code, year, eur in db.query_rows(
            con,
            """
            SELECT country_code, year(order_date), sum(net_amount_eur)
            FROM sales_daily GROUP BY ALL
            """,
        )
    }
    presence = np.array([REGION_PRESENCE[c.region] for c in world.countries])
    share = np.clip(0.12 * presence * rng.lognormal(0, 0.5, len(world.countries)), 0.02, 0.35)
    months_in_last_year = END.month
    records = []
    for ci, country in enumerate(world.countries):
        for year in YEARS:
            t = year - 2021
            gdp = country.gdp_usd_bn * 1e9 * (1.04 + rng.normal(0, 0.01)) ** t
            annual = revenue.get((country.code, year), 0.0)
            if year == END.year:
                annual *= 12 / months_in_last_year
            drift = 1 + rng.normal(0, 0.05)  # estimates move from year to year
            market = annual / share[ci] * drift if annual > 0 else gdp * 0.92 * 5e-5
            records.append(
                (
                    country.code,
                    year,
                    round(country.population_m * 1e6 * 1.005**t),
                    round(gdp, -6),
                    round(market, -3),
                )
            )
    frame = pd.DataFrame(
        records,
        columns=["country_code", "year", "population", "gdp_usd", "addressable_market_eur"],
    )
    insert_frame(con, "market_data", frame)
