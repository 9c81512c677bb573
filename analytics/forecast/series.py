"""Monthly net revenue series in EUR at constant as-of rates, per level, from sales_monthly
(the window's bounds from sales_daily).

Only data dated on or before `as_of` is read. The last observation is the last complete month
on or before `as_of` (a month is complete when `as_of` is on or after its last day); the days
of a partial month are not read, and the forecast covers that whole month instead. When the
store's last sale on or before `as_of` falls in an earlier month, that month is the last
observation: later months are read as not loaded yet, not as months without sales.

Local amounts are converted at each currency's latest ECB rate on or before `as_of` (constant
as-of rates), so the history and the forecast share one basis and exchange-rate swings are
not mistaken for trend.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import duckdb
import numpy as np

from analytics import db
from analytics.errors import UserError
from analytics.fx import RateUnavailable
from analytics.periods import add_months

# A level's name -> the sales_monthly/countries column that names its groups.
LEVEL_COLUMNS = {
    "region": "region",
    "country": "country_code",
    "product_line": "product_line",
    "channel": "channel",
}
LEVELS = ("total", *LEVEL_COLUMNS)
TOTAL = "Total"


class NoHistory(UserError):
    """The store holds no complete month of sales on or before the as-of date."""


@dataclass(frozen=True)
class Window:
    """The months a forecast made on `as_of` may learn from."""

    as_of: dt.date
    first_month: dt.date  # first day of the first month with sales
    last_month: dt.date  # first day of the last observed (complete) month

    @property
    def last_day(self) -> dt.date:
        return add_months(self.last_month, 1) - dt.timedelta(days=1)


@dataclass(frozen=True)
class MonthlySeries:
    """One group's net revenue per month (EUR at as-of rates), months without sales as 0."""

    level: str
    group: str
    start: dt.date  # first day of the group's first month with sales
    values: np.ndarray

    def month(self, index: int) -> dt.date:
        return add_months(self.start, index)

    @property
    def months(self) -> list[dt.date]:
        return [self.month(i) for i in range(len(self.values))]


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def observation_window(cur: duckdb.DuckDBPyConnection, as_of: dt.date) -> Window:
    """The first and last observed month for a forecast made on `as_of` (see module doc)."""
    first, last = db.query_rows(
        cur,
        "SELECT min(order_date), max(order_date) FROM sales_daily WHERE order_date <= $as_of",
        {"as_of": as_of},
    )[0]
    if last is None:
        raise NoHistory(f"The store holds no sales on or before {as_of:%d %b %Y}.")
    # The month after the last complete one starts the day after as_of, or earlier.
    last_complete = add_months(month_start(as_of + dt.timedelta(days=1)), -1)
    last_month = min(last_complete, month_start(last))
    if last_month < month_start(first):
        raise NoHistory(
            f"The store holds no complete month of sales on or before {as_of:%d %b %Y} "
            f"(its first sale is on {first:%d %b %Y})."
        )
    return Window(as_of=as_of, first_month=month_start(first), last_month=last_month)


# Each currency's latest rate on or before the as-of date.
AS_OF_RATES_SQL = """
SELECT currency_code, arg_max(units_per_eur, rate_date) AS units_per_eur
FROM fx_daily WHERE rate_date <= $as_of GROUP BY currency_code
"""


def check_as_of_rates(cur: duckdb.DuckDBPyConnection, window: Window) -> None:
    """Raise RateUnavailable if a currency sold in the window has no rate on or before as_of."""
    rows = db.query_rows(
        cur,
        f"""
        WITH rates AS ({AS_OF_RATES_SQL})
        SELECT DISTINCT s.currency_code FROM sales_monthly s
        WHERE s.month <= $last_day
          AND s.currency_code NOT IN (SELECT currency_code FROM rates)
        ORDER BY 1
        """,
        {"as_of": window.as_of, "last_day": window.last_day},
    )
    if rows:
        raise RateUnavailable(
            f"No ECB rate on or before {window.as_of:%d %b %Y} for "
            f"{', '.join(r[0] for r in rows)}, so the forecast cannot be made in EUR at "
            "as-of rates. Update the rates or choose a later as-of date."
        )


def _grouping_sets(levels: tuple[str, ...]) -> str:
    sets = [
        "(month)" if level == "total" else f"(month, {LEVEL_COLUMNS[level]})" for level in levels
    ]
    return ", ".join(sets)


def monthly_series(
    cur: duckdb.DuckDBPyConnection, window: Window, levels: tuple[str, ...] = LEVELS
) -> list[MonthlySeries]:
    """Every group's monthly series at the given levels, in one scan of sales_monthly.

    Grain of the query: month x one level's group (GROUPING SETS), net revenue summed in EUR at
    the as-of rates; months from the group's first sale to the window's last month. The window
    ends on a month's last day and one fixed rate per currency converts every day alike, so
    the monthly local sums give the daily rows' figures (sales_daily grows with the lines).
    """
    unknown = set(levels) - set(LEVELS)
    if unknown:
        raise ValueError(f"unknown level {sorted(unknown)[0]!r}; choose from {', '.join(LEVELS)}")
    check_as_of_rates(cur, window)
    columns = [LEVEL_COLUMNS[level] for level in levels if level != "total"]
    selected = "".join(f"{db.identifier(c)}, " for c in columns)
    grouping = f"grouping({', '.join(map(db.identifier, columns))})" if columns else "0"
    frame = db.query(
        cur,
        f"""
        WITH rates AS ({AS_OF_RATES_SQL}),
        lines AS (
            SELECT s.month, c.region, s.country_code,
                   s.product_line, s.channel, s.net_amount_local / r.units_per_eur AS revenue
            FROM sales_monthly s
            JOIN countries c ON c.country_code = s.country_code
            JOIN rates r ON r.currency_code = s.currency_code
            WHERE s.month <= $last_day
        )
        SELECT month, {selected}{grouping} AS grouping_id, sum(revenue) AS revenue
        FROM lines GROUP BY GROUPING SETS ({_grouping_sets(levels)})
        """,
        {"as_of": window.as_of, "last_day": window.last_day},
    )
    months = frame["month"].dt
    frame["month_index"] = (months.year - 1970) * 12 + months.month - 1
    last_index = _month_index(window.last_month)
    found = []
    for level in levels:
        if level == "total":
            groups = [(TOTAL, frame[frame["grouping_id"] == _grouping_id(columns, None)])]
        else:
            column = LEVEL_COLUMNS[level]
            rows = frame[frame["grouping_id"] == _grouping_id(columns, column)]
            groups = sorted(rows.groupby(column), key=lambda item: str(item[0]))
        for group, part in groups:
            index = part["month_index"].to_numpy(dtype=int)
            first = int(index.min())
            values = np.zeros(last_index - first + 1)
            np.add.at(values, index - first, part["revenue"].to_numpy(dtype=float))
            start = add_months(dt.date(1970, 1, 1), first)
            found.append(MonthlySeries(level, str(group), start, values))
    return found


def _grouping_id(columns: list[str], column: str | None) -> int:
    """duckdb's grouping() bit mask for the set grouped by `column` alone (1 = rolled up)."""
    return sum(1 << (len(columns) - 1 - i) for i, c in enumerate(columns) if c != column)


def _month_index(day: dt.date) -> int:
    return (day.year - 1970) * 12 + day.month - 1
