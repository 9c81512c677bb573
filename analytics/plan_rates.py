"""Plan (budget) rates: the rate finance fixes per currency for a year, or a quarter of it.

A local amount at plan rates converts as amount / plan[c] * plan[R] (DESIGN.md), with the
plan rates of the period the amount falls in: a quarter's own rate wins over its year's.
EUR is 1 in every period and is never looked up. A missing rate is an error naming the
currencies, the periods and the fix, never a silent drop or a guess.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import duckdb
import pandas as pd

from analytics import db
from analytics.errors import UserError

FIX = "import plan rates: python -m analytics import plan_rates FILE"
FIRST_YEAR, LAST_YEAR = 1900, 2100  # schema.sql's CHECK on plan_rates.year


class PlanRateMissing(UserError, LookupError):
    """A figure at plan rates needs a plan rate that is not set."""


# Grain: year x quarter (1..4) x currency: the plan rate that applies to an amount of that
# quarter. A quarter's own rate wins over the year's; EUR is 1 in every quarter (a stored
# EUR row is ignored: the importer only accepts 1 for it).
RESOLVED_SQL = f"""
SELECT year, quarter, currency_code, units_per_eur
FROM plan_rates WHERE quarter IS NOT NULL AND currency_code <> 'EUR'
UNION ALL
SELECT y.year, q.quarter, y.currency_code, y.units_per_eur
FROM plan_rates y CROSS JOIN (SELECT range AS quarter FROM range(1, 5)) q
WHERE y.quarter IS NULL AND y.currency_code <> 'EUR' AND NOT EXISTS (
    SELECT 1 FROM plan_rates o
    WHERE o.year = y.year AND o.quarter = q.quarter AND o.currency_code = y.currency_code
)
UNION ALL
SELECT y.range AS year, q.range AS quarter, 'EUR' AS currency_code, 1.0 AS units_per_eur
FROM range({FIRST_YEAR}, {LAST_YEAR + 1}) y CROSS JOIN range(1, 5) q
"""


# Grain: quarter x currency: the plan rates that value an amount of that quarter in the
# reporting currency $currency, as amount / plan_local * plan_reporting. Joined on
# (quarter_start, currency_code); a missing row means a missing plan rate (see `check`).
FACTORS_SQL = f"""
SELECT make_date(l.year, 3 * l.quarter - 2, 1) AS quarter_start, l.currency_code,
       l.units_per_eur AS plan_local, r.units_per_eur AS plan_reporting
FROM ({RESOLVED_SQL}) l
JOIN ({RESOLVED_SQL}) r
  ON r.year = l.year AND r.quarter = l.quarter AND r.currency_code = $currency
"""


def quarter_of(day: dt.date) -> int:
    return (day.month - 1) // 3 + 1


def rates_for(
    cur: duckdb.DuckDBPyConnection, year: int, quarter: int | None = None
) -> dict[str, float]:
    """Units per EUR of every currency with a plan rate for `year` (with `quarter`, the rate
    of that quarter: its own where set, else the year's). EUR is always 1."""
    if quarter is None:
        rows = db.query_rows(
            cur,
            "SELECT currency_code, units_per_eur FROM plan_rates "
            "WHERE year = $year AND quarter IS NULL AND currency_code <> 'EUR'",
            {"year": year},
        )
    else:
        if quarter not in (1, 2, 3, 4):
            raise ValueError(f"A quarter is 1 to 4, not {quarter!r}.")
        rows = db.query_rows(
            cur,
            f"SELECT currency_code, units_per_eur FROM ({RESOLVED_SQL}) "
            "WHERE year = $year AND quarter = $quarter AND currency_code <> 'EUR'",
            {"year": year, "quarter": quarter},
        )
    return {"EUR": 1.0} | {code: float(rate) for code, rate in rows}


def stored(cur: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Every stored plan rate (grain: year x quarter x currency; quarter NULL = the year),
    in year, quarter, currency order."""
    return db.query(
        cur,
        "SELECT year, quarter, currency_code, units_per_eur FROM plan_rates "
        "ORDER BY year, quarter NULLS FIRST, currency_code",
    )


def _period_name(year: int, quarter: int) -> str:
    return f"{year} (Q{quarter})"


def missing_message(gaps: Iterable[tuple[int, int, str]]) -> str:
    """The error text for (year, quarter, currency) triples that lack a plan rate."""
    by_currency: dict[str, list[tuple[int, int]]] = {}
    for year, quarter, currency in sorted(set(gaps)):
        by_currency.setdefault(currency, []).append((year, quarter))
    currencies = ", ".join(by_currency)
    years = sorted({year for periods in by_currency.values() for year, _ in periods})
    detail = "; ".join(
        f"{currency}: {', '.join(_period_name(y, q) for y, q in periods)}"
        for currency, periods in by_currency.items()
    )
    return (
        f"No plan rate for {currencies} in {', '.join(map(str, years))} ({detail}), so figures "
        f"at plan rates cannot be computed. To fix, {FIX} (columns year, currency, "
        "units_per_eur, optional quarter), or choose the reported or constant-currency basis."
    )


def check(cur: duckdb.DuckDBPyConnection, needed_sql: str, params: dict, currency: str) -> None:
    """Raise PlanRateMissing unless every (year, quarter, currency_code) row of `needed_sql`
    (the periods and currencies of the amounts a figure converts), and `currency` (the
    reporting currency) in each of those quarters, has a plan rate."""
    rows = db.query_rows(
        cur,
        f"""
        WITH needed AS ({needed_sql}),
             wanted AS (SELECT year, quarter, currency_code FROM needed
                        UNION SELECT year, quarter, $plan_currency FROM needed)
        SELECT w.year, w.quarter, w.currency_code FROM wanted w
        ANTI JOIN ({RESOLVED_SQL}) p
          ON p.year = w.year AND p.quarter = w.quarter AND p.currency_code = w.currency_code
        """,
        params | {"plan_currency": currency},
    )
    if rows:
        raise PlanRateMissing(missing_message((int(y), int(q), c) for y, q, c in rows))


def to_csv(frame: pd.DataFrame) -> bytes:
    """A table of plan rates (columns year, quarter, currency_code, units_per_eur; quarter
    empty for the whole year) as the plan_rates import reads it: the Data page's editor
    saves through the importer, so an edit is checked exactly as a file is (a year of
    2026.5 is written as such and rejected there, never rounded here)."""

    def cell(value) -> str:
        if value is None or value is pd.NA or (isinstance(value, float) and value != value):
            return ""
        if isinstance(value, (int, float)):
            return f"{value:.15g}"
        return str(value).strip()

    rows = ["year,currency,units_per_eur,quarter"]
    for year, quarter, currency, rate in frame[
        ["year", "quarter", "currency_code", "units_per_eur"]
    ].itertuples(index=False):
        rows.append(",".join(cell(v) for v in (year, currency, rate, quarter)))
    return ("\n".join(rows) + "\n").encode("utf-8")


def delete_others(con: duckdb.DuckDBPyConnection, kept: pd.DataFrame) -> int:
    """Delete the stored plan rates whose (year, quarter, currency) is not in `kept` (rows
    removed in the Data page's editor); returns how many were deleted."""
    keys = kept[["year", "quarter", "currency_code"]].copy()
    keys["year"] = keys["year"].astype("int64")
    keys["quarter"] = keys["quarter"].astype("Int64")
    con.register("kept_plan_rates", keys)
    try:
        before = db.query_rows(con, "SELECT count(*) FROM plan_rates")[0][0]
        db.execute(
            con,
            "DELETE FROM plan_rates p WHERE NOT EXISTS (SELECT 1 FROM kept_plan_rates k "
            "WHERE k.year = p.year AND k.quarter IS NOT DISTINCT FROM p.quarter "
            "AND k.currency_code = p.currency_code)",
        )
        return before - db.query_rows(con, "SELECT count(*) FROM plan_rates")[0][0]
    finally:
        con.unregister("kept_plan_rates")
