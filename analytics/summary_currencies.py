"""The summary currencies: the reporting currencies besides EUR whose reported figures the
monthly summaries hold, so that a page in one of them reads months, not order lines.

A reported figure converts each line at its order date's rate (DESIGN), so a monthly sum of
EUR amounts gives it in EUR only. For each summary currency account_monthly_reported and
item_monthly_reported keep the summaries' rows again with each line's EUR amount and cost
converted at its day's rate and summed (analytics.rollups builds them with every load); a
reporting currency not listed reads order_lines, as every currency but EUR did before
(slower, the same figures). Every sidebar currency at once was measured and rejected
(benchmarks/README.md): the company names the few its people report in.

The list is a setting of the store (table summary_currencies), USD and GBP in a new or
upgraded store. `set_currencies` changes it (the CLI's `summary-currencies`, admins only,
audited) and builds or drops that currency's rows in the same transaction. The rows follow
the rates too: `keep_rates` before fx_daily is rebuilt and `refresh_for_rates` after it
rebuild the months whose days with sales got a new or corrected rate.
"""

from __future__ import annotations

import dataclasses

import duckdb

from analytics import db, rollups
from analytics.errors import UserError

DEFAULT = ("USD", "GBP")
TABLE = "summary_currencies"
_BEFORE = "summary_rates_before"


class UnknownCurrency(UserError):
    """A summary currency the store has no rates for, or EUR (always summarised)."""


def exists(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the store has the setting (a store made before it, not yet upgraded, has not)."""
    return bool(
        db.query_rows(
            con,
            "SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'main' AND table_name = ?",
            [TABLE],
        )[0][0]
    )


def stored(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The summary currencies, sorted (none in a store without the setting)."""
    if not exists(con):
        return []
    return [r[0] for r in db.query_rows(con, f"SELECT currency_code FROM {TABLE} ORDER BY 1")]


def set_default(con: duckdb.DuckDBPyConnection) -> None:
    """Give a store that has just had the setting created the default list (no rows built:
    the caller fills the summaries, or they are empty)."""
    db.execute(
        con,
        f"INSERT INTO {TABLE} SELECT unnest($codes) ON CONFLICT DO NOTHING",
        {"codes": list(DEFAULT)},
    )


@dataclasses.dataclass(frozen=True)
class Change:
    currencies: list[str]  # the list now
    added: list[str]
    removed: list[str]

    @property
    def message(self) -> str:
        now = ", ".join(self.currencies) or "none"
        parts = [f"Summary currencies: {now} (and EUR)."]
        if self.added:
            parts.append(f"Built the monthly summaries in {', '.join(self.added)}.")
        if self.removed:
            parts.append(
                f"Dropped those in {', '.join(self.removed)}: reported figures in "
                f"{'it' if len(self.removed) == 1 else 'them'} read the order lines."
            )
        if not self.added and not self.removed:
            parts.append("Nothing changed.")
        return " ".join(parts)


def set_currencies(con: duckdb.DuckDBPyConnection, codes: list[str]) -> Change:
    """Make `codes` the summary currencies, in one transaction: a currency added gets its
    rows built from the order lines, one removed loses them. Raises UnknownCurrency (nothing
    changed) for EUR or a currency without a stored rate."""
    wanted = sorted({c.strip().upper() for c in codes})
    if "EUR" in wanted:
        raise UnknownCurrency(
            "EUR is the store's base currency: its reported figures are always read from the "
            "summaries. Name the other reporting currencies only."
        )
    rated = {
        r[0]
        for r in db.query_rows(
            con,
            "SELECT DISTINCT currency_code FROM fx_daily WHERE list_contains($codes, currency_code)",
            {"codes": wanted},
        )
    }
    unknown = [c for c in wanted if c not in rated]
    if unknown:
        raise UnknownCurrency(
            f"No exchange rates stored for {', '.join(unknown)}; a summary currency needs "
            "them. Nothing was changed."
        )
    with db.transaction(con):
        before = stored(con)
        added = [c for c in wanted if c not in before]
        removed = [c for c in before if c not in wanted]
        if removed:
            for table in rollups.REPORTED:
                db.execute(
                    con,
                    f"DELETE FROM {table} WHERE list_contains($codes, reporting_currency)",
                    {"codes": removed},
                )
            db.execute(
                con,
                f"DELETE FROM {TABLE} WHERE list_contains($codes, currency_code)",
                {"codes": removed},
            )
        if added:
            db.execute(con, f"INSERT INTO {TABLE} SELECT unnest($codes)", {"codes": added})
            rollups.rebuild_reported(con, None, added)
    return Change(wanted, added, removed)


# --- keeping the rows current when rates change -----------------------------------------


def keep_rates(con: duckdb.DuckDBPyConnection) -> None:
    """Before fx_daily is rebuilt: keep the summary currencies' daily rates as they are, for
    `refresh_for_rates` to compare (a temporary table, inside the caller's transaction)."""
    db.execute(con, f"DROP TABLE IF EXISTS {_BEFORE}")
    if not exists(con):
        return
    db.execute(
        con,
        f"CREATE TEMP TABLE {_BEFORE} AS SELECT rate_date, currency_code, units_per_eur "
        f"FROM fx_daily WHERE currency_code IN (SELECT currency_code FROM {TABLE})",
    )


def refresh_for_rates(con: duckdb.DuckDBPyConnection) -> dict[str, list]:
    """After fx_daily is rebuilt: rebuild the REPORTED rows of every month with a day that has
    sales and whose rate in a summary currency appeared, went or changed since `keep_rates`.
    Returns the months rebuilt per currency."""
    kept = db.query_rows(
        con,
        "SELECT count(*) FROM duckdb_tables() WHERE temporary AND table_name = ?",
        [_BEFORE],
    )[0][0]
    if not kept:
        return {}
    changed = db.query_rows(
        con,
        f"""
        WITH now AS (
            SELECT rate_date, currency_code, units_per_eur FROM fx_daily
            WHERE currency_code IN (SELECT currency_code FROM {TABLE})
        )
        SELECT coalesce(n.currency_code, b.currency_code) AS currency_code,
               list(DISTINCT CAST(date_trunc('month', coalesce(n.rate_date, b.rate_date)) AS DATE))
        FROM now n FULL JOIN {_BEFORE} b
          ON b.rate_date = n.rate_date AND b.currency_code = n.currency_code
        WHERE n.units_per_eur IS DISTINCT FROM b.units_per_eur
          AND coalesce(n.rate_date, b.rate_date) IN (SELECT order_date FROM currency_daily)
        GROUP BY 1 ORDER BY 1
        """,
    )
    db.execute(con, f"DROP TABLE {_BEFORE}")
    for currency, months in changed:
        rollups.rebuild_reported(con, months, [currency])
    return {currency: sorted(months) for currency, months in changed}
