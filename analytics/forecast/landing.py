"""Year-end landing: actual year to date plus the forecast for the rest of the year, vs budget.

The year is the as-of date's calendar year. Actual months are the complete months observed
in it; every later month of the year, the as-of date's partial month included, is forecast.
The interval of the landing comes from the simulated paths of the series' chosen model: each
path's months are summed and the actual added, so the months' errors add up as the model says
they do (correlated along a path), instead of as if each month's error were independent.
Actuals and forecast are EUR at the as-of rates; the budget is the budgets table's EUR figure
as stored (at plan rates once the store keeps them).
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import numpy as np

from analytics import db
from analytics.forecast.batch import StoreForecast
from analytics.forecast.models import LEVELS_OF_CONFIDENCE
from analytics.forecast.series import TOTAL

# Levels the budgets table is kept at (country x product line x quarter) -> its column.
BUDGET_COLUMNS = {
    "region": "c.region",
    "country": "b.country_code",
    "product_line": "b.product_line",
}


@dataclass(frozen=True)
class Landing:
    """Where one group's year will land, with its interval, against budget."""

    level: str
    group: str
    year: int
    months_actual: int
    actual_to_date: float
    months_forecast: int
    forecast_rest: float
    landing: float
    bounds: dict[str, float]  # lo80, hi80, lo95, hi95 of the landing
    budget: float | None  # None: no budget at this level (channels) or for this group

    @property
    def versus_budget(self) -> float | None:
        return None if self.budget is None else self.landing - self.budget


def budgets(cur: duckdb.DuckDBPyConnection, year: int, level: str) -> dict[str, float]:
    """The year's budget per group of `level` (grain: one row per group), EUR as stored."""
    if level == "total":
        group_sql = f"'{TOTAL}'"
    elif level in BUDGET_COLUMNS:
        group_sql = BUDGET_COLUMNS[level]
    else:
        return {}
    rows = db.query_rows(
        cur,
        f"""
        SELECT {group_sql} AS grp, sum(b.budget_revenue_eur)
        FROM budgets b JOIN countries c ON c.country_code = b.country_code
        WHERE year(b.quarter_start) = $year
        GROUP BY grp
        """,
        {"year": year},
    )
    return {str(group): float(total) for group, total in rows}


def year_end_landing(
    cur: duckdb.DuckDBPyConnection, forecast: StoreForecast, level: str
) -> list[Landing]:
    """Every group of `level` in `forecast`: actual to date + rest of year, vs budget."""
    year = forecast.window.as_of.year
    budget = budgets(cur, year, level)
    landings = []
    for item in forecast.at_level(level):
        history = item.history
        in_year = np.array([month.year == year for month in history.months], dtype=bool)
        actual = float(history.values[in_year].sum())
        sums = actual + item.year_rest_paths
        bounds = {}
        for name, (low, high) in LEVELS_OF_CONFIDENCE.items():
            bounds[f"lo{name}"] = float(np.quantile(sums, low))
            bounds[f"hi{name}"] = float(np.quantile(sums, high))
        landings.append(
            Landing(
                level=level,
                group=item.group,
                year=year,
                months_actual=int(in_year.sum()),
                actual_to_date=actual,
                months_forecast=item.year_months,
                forecast_rest=item.year_rest_point,
                landing=actual + item.year_rest_point,
                bounds=bounds,
                budget=budget.get(item.group),
            )
        )
    return landings
