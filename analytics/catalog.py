"""What the store holds: the values filters can offer and where the figures come from."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import duckdb

from analytics import db, fx


@dataclass(frozen=True)
class Catalog:
    """The choices the global filters offer, read from the store."""

    first_date: dt.date | None
    last_date: dt.date | None
    regions: tuple[str, ...]
    countries: tuple[tuple[str, str, str], ...]  # (code, name, region), countries with sales
    product_lines: tuple[str, ...]
    channels: tuple[str, ...]
    currencies: tuple[str, ...]
    rates: fx.RateStatus
    data_source: str

    @property
    def has_sales(self) -> bool:
        return self.last_date is not None

    def country_name(self, code: str) -> str:
        return next((name for c, name, _ in self.countries if c == code), code)


def data_source(cur: duckdb.DuckDBPyConnection) -> str:
    """Where the company data comes from, from import_log (the demo build records itself)."""
    rows = db.query_rows(
        cur,
        """
        SELECT kind, file_name FROM import_log WHERE status = 'loaded'
        ORDER BY started_at DESC LIMIT 3
        """,
    )
    if not rows:
        return "No company data loaded"
    return "; ".join(
        file_name if kind == "demo" else f"{kind} import: {file_name}" for kind, file_name in rows
    )


def load(cur: duckdb.DuckDBPyConnection) -> Catalog:
    """Read every filter choice in a handful of small queries."""
    first, last = db.query_rows(cur, "SELECT min(order_date), max(order_date) FROM sales_daily")[0]
    countries = db.query_rows(
        cur,
        """
        SELECT c.country_code, c.name, c.region FROM countries c
        WHERE c.country_code IN (SELECT DISTINCT country_code FROM sales_daily)
        ORDER BY c.name
        """,
    )
    lines = db.query_rows(cur, "SELECT DISTINCT product_line FROM products ORDER BY 1")
    channels = db.query_rows(cur, "SELECT DISTINCT channel FROM sales_daily ORDER BY 1")
    return Catalog(
        first_date=first,
        last_date=last,
        regions=tuple(sorted({region for _, _, region in countries})),
        countries=tuple(countries),
        product_lines=tuple(r[0] for r in lines),
        channels=tuple(r[0] for r in channels),
        currencies=tuple(fx.current_currencies(cur)),
        rates=fx.rate_status(cur),
        data_source=data_source(cur),
    )
