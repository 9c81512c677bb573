"""Who and what a CRM figure covers, and the dates it can be taken at.

Regions select reps by their region and deals by their country's region; countries select
deals. Product lines and channels do not apply: quotas and deals carry neither.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import duckdb
import pandas as pd

from analytics import db, periods
from analytics.filters import Filters
from analytics.periods import Period


@dataclasses.dataclass(frozen=True)
class Scope:
    """Who and what: regions (rep region / deal country's region), countries, currency."""

    regions: tuple[str, ...] = ()
    countries: tuple[str, ...] = ()
    currency: str = "EUR"

    @classmethod
    def from_filters(cls, filters: Filters) -> Scope:
        return cls(filters.regions, filters.countries, filters.currency)


def rep_condition(scope: Scope, alias: str = "r.") -> tuple[str, dict]:
    """SQL selecting the reps in scope (by their region) on the reps table at `alias`."""
    if scope.regions:
        return f"list_contains($regions, {alias}region)", {"regions": list(scope.regions)}
    return "TRUE", {}


def deal_condition(scope: Scope, alias: str = "o.") -> tuple[str, dict]:
    """SQL selecting the rows in scope by their country_code at `alias` (deals, lines)."""
    parts, params = ["TRUE"], {}
    if scope.regions:
        parts.append(
            f"{alias}country_code IN (SELECT country_code FROM countries "
            "WHERE list_contains($regions, region))"
        )
        params["regions"] = list(scope.regions)
    if scope.countries:
        parts.append(f"list_contains($countries, {alias}country_code)")
        params["countries"] = list(scope.countries)
    return " AND ".join(parts), params


def recent_condition(since: dt.date | None, rep_id: str | None) -> tuple[str, dict]:
    """Open deals and those closed on or after `since`; one rep's only, when given."""
    parts, params = [], {}
    if since is not None:
        parts.append("(o.status = 'open' OR o.close_date >= $since)")
        params["since"] = since
    if rep_id is not None:
        parts.append("o.rep_id = $rep")
        params["rep"] = rep_id
    return " AND ".join(["TRUE", *parts]), params


def between(dates: pd.Series, start: dt.date, end: dt.date) -> pd.Series:
    return (dates >= pd.Timestamp(start)) & (dates <= pd.Timestamp(end))


# What "now" means for deal statistics: the latest weekly snapshot or the latest close of a
# won or lost deal, whichever is later (the opportunities table is the current state, so a
# deal that closed after the last snapshot is closed now).
_AS_OF_SQL = """
SELECT max(day) FROM (
    SELECT max(snapshot_date) AS day FROM opportunity_snapshots
    UNION ALL SELECT max(close_date) FROM opportunities WHERE status <> 'open')
"""


def as_of(cur: duckdb.DuckDBPyConnection) -> dt.date | None:
    """What "now" means for deal statistics (see _AS_OF_SQL)."""
    return db.query_rows(cur, _AS_OF_SQL)[0][0]


def snapshot_and_as_of(cur: duckdb.DuckDBPyConnection) -> tuple[dt.date | None, dt.date | None]:
    """`latest_snapshot` and `as_of` in one statement."""
    return db.query_rows(
        cur, f"SELECT (SELECT max(snapshot_date) FROM opportunity_snapshots), ({_AS_OF_SQL})"
    )[0]


def in_progress_on(today: dt.date | None) -> Period | None:
    """The quarter deals are being worked on at `today` (an as_of day): its quarter, or the
    next one when it closes its quarter (a finished quarter has nothing left to forecast)."""
    return None if today is None else periods.quarter(today + dt.timedelta(days=1))


def quarter_in_progress(cur: duckdb.DuckDBPyConnection) -> Period | None:
    """The quarter deals are being worked on now (in_progress_on the as_of day)."""
    return in_progress_on(as_of(cur))


def latest_snapshot(cur: duckdb.DuckDBPyConnection) -> dt.date | None:
    return db.query_rows(cur, "SELECT max(snapshot_date) FROM opportunity_snapshots")[0][0]


def snapshot_on_or_before(cur: duckdb.DuckDBPyConnection, day: dt.date) -> dt.date | None:
    """The latest weekly snapshot on or before `day`, or None."""
    return db.query_rows(
        cur,
        "SELECT max(snapshot_date) FROM opportunity_snapshots WHERE snapshot_date <= $day",
        {"day": day},
    )[0][0]


def snapshot_dates(cur: duckdb.DuckDBPyConnection) -> list[dt.date]:
    return [
        r[0]
        for r in db.query_rows(
            cur, "SELECT DISTINCT snapshot_date FROM opportunity_snapshots ORDER BY 1"
        )
    ]


def reps(cur: duckdb.DuckDBPyConnection, scope: Scope) -> pd.DataFrame:
    """The reps in scope, by name (grain: one row per rep)."""
    condition, params = rep_condition(scope)
    return db.query(
        cur, f"SELECT rep_id, name, team FROM reps r WHERE {condition} ORDER BY name", params
    )


# Latest stored rate of each currency into the reporting one ($currency).
LATEST_RATES_SQL = """
SELECT c.currency_code, r.units_per_eur / c.units_per_eur AS rate
FROM fx_daily c JOIN fx_daily r ON r.rate_date = c.rate_date AND r.currency_code = $currency
WHERE c.rate_date = (SELECT max(rate_date) FROM fx_daily WHERE currency_code = $currency)
"""
