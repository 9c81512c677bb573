"""Row checks: each value typed and checked, every failing row given its reasons.

A row may fail several checks; every one is reported (line, column, value as written,
reason). Nothing is guessed: "US$" is an unknown currency, not USD; a discount of "10" is
neither 10 % nor 0.1 until it is written as 10 % or 0.10.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re

import numpy as np
import pandas as pd
from babel.numbers import list_currencies

from analytics import db, fx
from analytics.crm import stages
from analytics.crm.stages import FORECAST_CATEGORIES as FORECAST
from analytics.crm.stages import STATUSES
from analytics.filters import CHANNELS
from analytics.importer.columns import Mapping, map_columns, vocabulary
from analytics.importer.kinds import KINDS
from analytics.importer.parsing import (
    DATE_FORMAT_NAMES,
    DATE_FORMATS,
    detect_date_format,
    detect_decimal_comma,
    parse_dates,
    parse_numbers,
)
from analytics.importer.reading import DETECT, Options, RawTable
from analytics.importer.report import FileRejected, ImportAmbiguous

SEGMENTS = CHANNELS
# ISO 4217 codes (current and withdrawn), from the CLDR data babel carries.
ISO_CURRENCIES = frozenset(list_currencies())
ACTIVITY_TYPES = ("call", "meeting", "visit", "email", "demo")  # schema.sql: activities.type
# The vocabulary.toml table of each enum's other spellings.
_SYNONYMS = {"forecast": "forecast_categories", "status": "statuses", "activity": "activity_types"}


class Problems:
    """Rejections collected per check; a row may fail several checks."""

    def __init__(self, frame: pd.DataFrame, raw: pd.DataFrame | None = None):
        self.frame = frame
        # Values as written, for the report (a file checked in chunks passes each chunk's).
        self.raw = frame.copy() if raw is None else raw
        self.items: list[pd.DataFrame] = []

    def add(self, mask: pd.Series, column: str, reason, values: pd.Series | None = None) -> None:
        mask = pd.Series(mask, index=self.frame.index).fillna(False).astype(bool)
        if not mask.any():
            return
        rows = self.frame.loc[mask]
        source = self.raw if column in self.raw else self.frame  # values as written
        shown = values if values is not None else source.get(column, pd.Series("", source.index))
        reasons = reason(rows) if callable(reason) else reason
        self.items.append(
            pd.DataFrame(
                {
                    "line": rows["_line"],
                    "column": column,
                    "value": shown.loc[rows.index].astype(str),
                    "reason": reasons,
                }
            )
        )

    def rejected_index(self) -> pd.Index:
        if not self.items:
            return pd.Index([])
        lines = pd.concat(self.items)["line"]
        return self.frame.index[self.frame["_line"].isin(set(lines))]

    def table(self) -> pd.DataFrame:
        if not self.items:
            return pd.DataFrame(columns=["line", "column", "value", "reason"])
        return pd.concat(self.items, ignore_index=True).sort_values(
            ["line", "column"], kind="stable"
        )


def _values(raw: RawTable, mapping: Mapping) -> pd.DataFrame:
    """The mapped columns by field name, stripped strings; _line kept."""
    out = pd.DataFrame({"_line": raw.rows["_line"]})
    for name, index in mapping.columns.items():
        out[name] = raw.rows[index].fillna("").astype(str).str.strip()
    out["_width"] = raw.rows["_width"]
    return out


def known_values(con) -> dict:
    countries = db.query(
        con, "SELECT country_code, iso3, name, currency_code, region FROM countries"
    )
    lookup = {}
    for row in countries.itertuples():
        for key in (row.country_code, row.iso3, row.name):
            lookup[key.upper()] = row.country_code
    stored = set(countries["country_code"])
    for name, code in vocabulary()["countries"].items():  # local spellings, short forms
        if code in stored:
            lookup.setdefault(name.upper(), code)
    return {
        "countries": lookup,
        "regions": dict(zip(countries["country_code"], countries["region"], strict=True)),
        "currencies": set(fx.known_currencies(con)),
    }


def validate(
    con,
    kind_name: str,
    raw: RawTable,
    options: Options = DETECT,
    columns: dict[str, str] | None = None,
) -> tuple[pd.DataFrame, Problems, Mapping]:
    """Typed, checked rows of the file (rows with problems are still present: the caller
    drops `problems.rejected_index()`), the problems found and the column mapping
    (`columns`: the user's field -> column, overriding detection)."""
    kind = KINDS[kind_name]
    mapping = map_columns(kind, raw.header, columns)
    frame = _values(raw, mapping)
    problems = Problems(frame)
    width = len(raw.header)
    problems.add(
        frame["_width"] != width,
        "(row)",
        lambda rows: [f"has {n} fields where the header has {width}" for n in rows["_width"]],
        frame["_width"],
    )
    reference = known_values(con)
    detected = raw.detected
    fields = {f.name: f for f in kind.fields}
    _detect(kind, frame, detected, options)

    for name, f in fields.items():
        if name not in frame:
            continue
        text = frame[name]
        empty = text == ""
        if f.required:
            problems.add(empty, name, "missing required value")
        if f.type == "text":
            continue
        present = ~empty
        if f.type in ("int", "number", "fraction"):
            if f.type == "fraction":
                percent = text.str.endswith("%")
                number = parse_numbers(text.str.rstrip("%").str.strip(), detected.decimal_comma)
                number = number.where(~percent, number / 100)
                problems.add(present & number.isna(), name, "not a number")
                problems.add(
                    present & ~percent & (number >= 1),
                    name,
                    "a discount must be a fraction below 1 (0.10) or written with % (10%)",
                )
                problems.add(
                    present & ((number < 0) | (number >= 1)),
                    name,
                    "discount must be at least 0 % and below 100 %",
                )
                frame[name] = number.fillna(0.0)
                continue
            number = parse_numbers(text, detected.decimal_comma)
            problems.add(present & number.isna(), name, "not a number")
            if f.type == "int":
                problems.add(
                    present & number.notna() & (number != number.round()),
                    name,
                    "must be a whole number",
                )
            frame[name] = number
        elif f.type == "date":
            parsed = parse_dates(text, detected.date_format)
            problems.add(
                present & parsed.isna(),
                name,
                f"not a date in the format {DATE_FORMATS[detected.date_format]}",
            )
            frame[name] = parsed
        elif f.type == "country":
            code = text.str.upper().map(reference["countries"])
            problems.add(
                present & code.isna(),
                name,
                "unknown country (use an ISO 3166 code such as DE, or the English name)",
            )
            frame[name] = code
        elif f.type == "currency" and kind_name == "rates":
            upper = text.str.upper()  # a rates file may bring a currency the store lacks
            problems.add(
                present & ~upper.str.fullmatch(r"[A-Z]{3}"),
                name,
                "not an ISO 4217 currency code (three letters, e.g. USD)",
            )
            frame[name] = upper
        elif f.type == "currency":
            upper = text.str.replace(r"\s+", " ", regex=True).str.strip().str.lower()
            names = vocabulary()["currencies"]  # "US Dollar"; else "eur ", "E UR" -> EUR
            upper = upper.map(lambda v, n=names: n.get(v, v.replace(" ", "").upper()))
            # An order line in a real currency the store has no rates for yet is kept,
            # awaiting them (analytics.awaiting); other kinds need a stored currency.
            allowed = reference["currencies"] | (ISO_CURRENCIES if kind_name == "orders" else set())
            problems.add(
                present & ~upper.isin(allowed),
                name,
                lambda rows, name=name: [_currency_hint(v) for v in rows[name]],
            )
            frame[name] = upper
        elif f.type == "stage":
            # The company's own stage names are kept (they become its funnel); a name the
            # stored funnel has in another case or spacing takes the stored spelling.
            spaced = text.str.replace(r"\s+", " ", regex=True).str.strip()
            known = {s.name.lower(): s.name for s in stages.funnel(con)}
            frame[name] = spaced.map(lambda v, k=known: k.get(v.lower(), v))
        elif f.type == "percent":
            # A probability: "20", "20 %" or "20%" is 20 %; a column whose every value lies
            # from 0 to 1 (HubSpot's 0.2) holds fractions, as no funnel tops out at 1 %.
            percent = text.str.endswith("%")
            number = parse_numbers(text.str.rstrip("%").str.strip(), detected.decimal_comma)
            problems.add(present & number.isna(), name, "not a number")
            plain = number[present & ~percent].dropna()
            fractions = len(plain) > 0 and bool(((plain >= 0) & (plain <= 1)).all())
            number = number.where(percent | fractions, number / 100)
            number = number.where(~percent, number / 100)
            problems.add(
                present & number.notna() & ((number < 0) | (number > 1)),
                name,
                "a probability must be from 0 % to 100 %",
            )
            frame[name] = number
        else:
            choices = {
                "segment": SEGMENTS,
                "channel": CHANNELS,
                "forecast": FORECAST,
                "status": STATUSES,
                "activity": ACTIVITY_TYPES,
            }[f.type]
            lower = text.str.strip().str.lower()
            synonyms = vocabulary().get(_SYNONYMS.get(f.type, ""), {})
            if synonyms:
                lower = lower.map(lambda v, s=synonyms: s.get(v, v))
            problems.add(
                present & ~lower.isin(choices), name, f"must be one of: {', '.join(choices)}"
            )
            frame[name] = lower

    for name in (
        "quota_eur",
        "budget_revenue_eur",
        "list_price_local",
        "population",
        "gdp_usd",
        "addressable_market_eur",
        "amount_local",
        "standard_cost",
    ):
        if name in frame:
            problems.add(frame[name] < 0, name, "must not be negative")
    if "unit_price" in frame:
        problems.add(frame["unit_price"] < 0, "unit_price", "negative price")
    if "unit_cost_eur" in frame:
        problems.add(frame["unit_cost_eur"] < 0, "unit_cost_eur", "negative cost")
    if "units_per_eur" in frame:
        problems.add(frame["units_per_eur"] <= 0, "units_per_eur", "a rate must be above 0")
    if "quarter_start" in frame:
        starts = pd.Series(
            [
                d is not None and d == d and d.day == 1 and d.month in (1, 4, 7, 10)
                for d in frame["quarter_start"]
            ],
            index=frame.index,
        )
        problems.add(
            frame["quarter_start"].notna() & ~starts,
            "quarter_start",
            "must be the first day of a quarter (1 Jan, 1 Apr, 1 Jul or 1 Oct)",
        )
    if kind_name == "plan_rates" and "quarter" not in frame:
        frame["quarter"] = np.nan  # no quarter column: every rate is its year's
    check_read_errors(raw, problems)
    check_plausible(con, kind_name, frame, problems)
    return frame, problems, mapping


def detect_formats(
    kind_name: str, raw: RawTable, options: Options = DETECT, columns: dict[str, str] | None = None
) -> Options:
    """The options with the decimal mark and date format decided for the whole file, one
    column at a time (the votes of every value, as validate() would take them): checking
    the file in chunks of rows then reads every chunk the same way."""
    kind = KINDS[kind_name]
    mapping = map_columns(kind, raw.header, columns)
    wanted = {
        f.name
        for f in kind.fields
        if f.type in ("int", "number", "fraction", "date") and f.name in mapping.columns
    }
    frame = _ColumnsOnDemand(raw, mapping, wanted)
    _detect(kind, frame, raw.detected, options)
    return dataclasses.replace(
        options,
        decimal_comma=raw.detected.decimal_comma,
        date_format=raw.detected.date_format or options.date_format,
    )


class _ColumnsOnDemand:
    """A mapped column as validate() sees it (stripped strings), made when asked for and
    not kept: detection over a whole file holds one column at a time."""

    def __init__(self, raw: RawTable, mapping: Mapping, names: set[str]):
        self.raw, self.mapping, self.names = raw, mapping, names

    def __contains__(self, name: str) -> bool:
        return name in self.names

    def __getitem__(self, name: str) -> pd.Series:
        column = self.raw.rows[self.mapping.columns[name]]
        return column.fillna("").astype(str).str.strip()


def _detect(kind, frame, detected, options: Options) -> None:
    """The decimal mark and the date format of the file's values (or the options')."""
    numeric = [
        f.name for f in kind.fields if f.type in ("int", "number", "fraction") and f.name in frame
    ]
    if options.decimal_comma is not None:
        detected.decimal_comma = options.decimal_comma
    elif numeric:
        votes = [detect_decimal_comma(frame[n]) for n in numeric]
        detected.decimal_comma = any(v is True for v in votes) and not any(
            v is False for v in votes
        )
        if not detected.format.startswith("csv"):
            detected.decimal_comma = False
    dates = [f.name for f in kind.fields if f.type == "date" and f.name in frame]
    if options.date_format:
        detected.date_format = DATE_FORMAT_NAMES.get(options.date_format, options.date_format)
        if detected.date_format not in DATE_FORMATS:
            raise FileRejected(
                f"Unknown date format “{options.date_format}”; use one of "
                f"{', '.join(DATE_FORMATS.values())}."
            )
    elif dates and detected.format.startswith("csv"):
        formats = {detect_date_format(frame[n]) for n in dates} - {None}
        if len(formats) > 1:
            raise ImportAmbiguous(
                "The date columns use different formats; give the date format explicitly."
            )
        detected.date_format = formats.pop() if formats else "%Y-%m-%d"


def _currency_hint(value: str) -> str:
    letters = re.sub(r"[^A-Za-z]", "", value).upper()
    hint = {"US": "USD", "USD": "USD", "EUR": "EUR", "GBP": "GBP", "A": "AUD", "C": "CAD"}.get(
        letters
    )
    if hint and hint != value.upper():
        return f"unknown currency (write the ISO 4217 code, e.g. {hint})"
    return "unknown currency (write the ISO 4217 code, e.g. USD)"


def reject_duplicates(frame: pd.DataFrame, problems: Problems, key: list[str], label: str) -> None:
    # A key with a missing part is rejected as missing, not as a duplicate of another.
    repeated = frame.duplicated(key, keep="first") & frame[key].notna().all(axis=1)
    if repeated.any():
        first_line = frame.groupby(key, sort=False, dropna=False)["_line"].transform("first")
        problems.add(
            repeated,
            label,
            lambda rows: [
                f"duplicate key: the same {label} is on line {first_line[i]}" for i in rows.index
            ],
            frame.loc[repeated, key].astype(object).map(str).agg(" / ".join, axis=1),
        )


def check_references(con, kind: str, frame: pd.DataFrame, problems: Problems) -> None:
    checks = {
        "quotas": [("rep_id", "reps", "rep_id", "unknown rep (import reps first)")],
        "opportunities": [
            (
                "customer_id",
                "customers",
                "customer_id",
                "unknown customer (import customers first)",
            ),
            ("rep_id", "reps", "rep_id", "unknown rep (import reps first)"),
        ],
        "price_lists": [
            ("product_id", "products", "product_id", "unknown product (import products first)")
        ],
    }.get(kind, [])
    for column, table, key, reason in checks:
        sql = f"SELECT {db.identifier(key, frozenset({key}))} FROM {db.identifier(table)}"
        known = {r[0] for r in db.query_rows(con, sql)}
        problems.add((frame[column] != "") & ~frame[column].isin(known), column, reason)


# The sane range of each number, by the field that holds it: a value outside is a typo or a
# damaged file, and would poison every figure it enters. Whole numbers also fit the column
# that stores them (INTEGER for quantity, line and year; BIGINT for population).
LIMITS: dict[str, tuple[float, float, str]] = {
    "quantity": (-1_000_000, 1_000_000, "a line's quantity is at most 1,000,000 units either way"),
    "line_no": (1, 1_000_000, "a line number is 1 to 1,000,000"),
    "unit_price": (0, 1e9, "a unit price is at most 1,000,000,000"),
    "unit_cost_eur": (0, 1e9, "a unit cost is at most EUR 1,000,000,000"),
    "unit_cost": (-1e9, 1e9, "a unit cost is at most 1,000,000,000 either way"),
    "net_price": (-1e9, 1e9, "a net price is at most 1,000,000,000 either way"),
    "net_amount": (-1e12, 1e12, "a line's net value is at most 1,000,000,000,000 either way"),
    "discount_amount": (-1e12, 1e12, "a discount is at most 1,000,000,000,000 either way"),
    "list_price_local": (0, 1e9, "a list price is at most 1,000,000,000"),
    "standard_cost": (0, 1e9, "a standard cost is at most 1,000,000,000"),
    "amount_local": (0, 1e12, "a deal is at most 1,000,000,000,000"),
    "quota_eur": (0, 1e12, "a quota is at most EUR 1,000,000,000,000"),
    "budget_revenue_eur": (-1e12, 1e12, "a budget is at most EUR 1,000,000,000,000 either way"),
    "year": (1900, 2100, "a year is 1900 to 2100"),
    "quarter": (1, 4, "a quarter is 1 to 4 (leave it empty for the whole year)"),
    "population": (0, 1e10, "a population is at most 10,000,000,000"),
    "gdp_usd": (0, 1e15, "a GDP is at most USD 1,000,000,000,000,000"),
    "addressable_market_eur": (0, 1e14, "a market is at most EUR 100,000,000,000,000"),
    "units_per_eur": (fx.MIN_RATE, fx.MAX_RATE, "a rate is 0.0001 to 10,000,000 units per EUR"),
}
# An id, name or product line longer than this is a damaged file or a quote left open.
MAX_TEXT_CHARS = 4_000
# Fields whose sign validate() checks already (negative price, a rate must be above 0).
SIGN_CHECKED = frozenset(
    {
        "unit_price",
        "unit_cost_eur",
        "list_price_local",
        "standard_cost",
        "amount_local",
        "quota_eur",
        "population",
        "gdp_usd",
        "addressable_market_eur",
        "units_per_eur",
    }
)
# A rate near the previous publication: the band fx-update applies too (see fx.RATE_BAND).
RATE_BAND = fx.RATE_BAND
RATE_GAP_DAYS = fx.RATE_GAP_DAYS
FIRST_RATE_DATE = fx.FIRST_RATE_DATE
FIRST_DATE = dt.date(1900, 1, 1)
# Dates that record something that has happened: at most a day ahead (time zones).
PAST_DATES = ("order_date", "rate_date", "created_date", "snapshot_date")
DATES = ("close_date", "quarter_start", "valid_from", "valid_to")


def check_read_errors(raw: RawTable, problems: Problems) -> None:
    """Lines the reader could not take as written (e.g. bytes that are not UTF-8)."""
    if not raw.bad_lines:
        return
    frame = problems.frame
    bad = frame["_line"].isin(set(raw.bad_lines))
    problems.add(
        bad,
        "(row)",
        lambda rows: [raw.bad_lines[n] for n in rows["_line"]],
        pd.Series("", frame.index),
    )


def check_plausible(con, kind_name: str, frame: pd.DataFrame, problems: Problems) -> None:
    """Every number finite and in its field's range; dates in their span; rates near the
    previous publication. Values that fail are rejected with the range they missed."""
    for name, (low, high, reason) in LIMITS.items():
        if name not in frame or frame[name].dtype.kind != "f":
            continue
        number = frame[name]
        infinite = number.notna() & ~np.isfinite(number)
        problems.add(infinite, name, "too large to be a number (more digits than any amount has)")
        below = number < low
        if name in SIGN_CHECKED:
            below &= number > 0  # zero and negative values have their own reason above
        outside = np.isfinite(number) & (below | (number > high))
        problems.add(outside, name, reason)
        frame[name] = number.where(~(infinite | outside))
    for f in KINDS[kind_name].fields:
        if f.type == "text" and f.name in frame:
            long = frame[f.name].str.len() > MAX_TEXT_CHARS
            problems.add(
                long,
                f.name,
                lambda rows, name=f.name: [
                    f"{len(v):,} characters long; a value is at most {MAX_TEXT_CHARS:,}"
                    for v in rows[name]
                ],
                frame[f.name].str.slice(0, 40) + "…",
            )
    if kind_name == "orders" and "line_no" in frame:
        problems.add(
            frame["line_no"].isna() & (problems.raw["line_no"] == ""),
            "line_no",
            "missing line number (the file has a line number column, so every row needs one)",
        )
    latest = dt.date.today() + dt.timedelta(days=1)
    for name in (*PAST_DATES, *DATES):
        if name not in frame:
            continue
        first = FIRST_RATE_DATE if name == "rate_date" else FIRST_DATE
        day = pd.to_datetime(frame[name], errors="coerce")
        if name in PAST_DATES:
            problems.add(
                day > pd.Timestamp(latest), name, f"in the future (after {latest:%Y-%m-%d})"
            )
        problems.add(day < pd.Timestamp(first), name, f"before {first:%Y-%m-%d}")
    if kind_name == "rates":
        check_rate_band(con, frame, problems)
    if kind_name == "plan_rates":
        check_plan_rates(con, frame, problems)


def check_plan_rates(con, frame: pd.DataFrame, problems: Problems) -> None:
    """EUR's plan rate is 1; any other within RATE_BAND of the currency's average ECB rate
    in the year before the plan year (the latest earlier year with rates, for a plan beyond
    the stored history): a plan is set from recent rates, so a rate further away is a typo
    or a rate written the other way round (EUR per unit)."""
    rate = frame["units_per_eur"]
    problems.add(
        (frame["currency"] == "EUR") & rate.notna() & (rate != 1),
        "units_per_eur",
        "EUR's plan rate is 1 (amounts are converted per EUR)",
    )
    yearly = db.query(
        con,
        "SELECT currency_code AS currency, year(rate_date) AS ecb_year, "
        "avg(units_per_eur) AS ecb_average FROM fx_rates GROUP BY ALL",
    )
    checked = frame.loc[
        frame["year"].notna() & (rate > 0) & (frame["currency"] != "EUR"),
        ["year", "currency", "units_per_eur"],
    ]
    if checked.empty or yearly.empty:
        return
    reasons = {}
    for i, year, currency, value in checked.itertuples():
        earlier = yearly[(yearly["currency"] == currency) & (yearly["ecb_year"] < year)]
        if earlier.empty:
            continue  # no ECB history before the plan year to compare with
        latest = earlier.loc[earlier["ecb_year"].idxmax()]
        ratio = value / latest["ecb_average"]
        if ratio > RATE_BAND or ratio < 1 / RATE_BAND:
            reasons[i] = (
                f"{value:g} is more than {RATE_BAND:g}x away from {currency}'s average ECB "
                f"rate in {latest['ecb_year']} ({latest['ecb_average']:.4g} per EUR); "
                "is it written as EUR per unit?"
            )
    problems.add(
        frame.index.isin(list(reasons)),
        "units_per_eur",
        lambda picked: [reasons[i] for i in picked.index],
    )


def check_rate_band(con, frame: pd.DataFrame, problems: Problems) -> None:
    """Each rate within RATE_BAND of the same currency's previous publication (stored, or
    earlier in the file) when that is at most RATE_GAP_DAYS before it."""
    usable = frame["rate_date"].notna() & (frame["units_per_eur"] > 0)
    if not usable.any():
        return
    rows = frame.loc[usable, ["rate_date", "currency", "units_per_eur"]].copy()
    rows["_i"] = rows.index
    start = min(rows["rate_date"]) - dt.timedelta(days=RATE_GAP_DAYS)
    stored = db.query(
        con,
        "SELECT rate_date, currency_code AS currency, units_per_eur FROM fx_rates "
        "WHERE rate_date BETWEEN $start AND $end",
        {"start": start, "end": max(rows["rate_date"])},
    )
    stored["rate_date"] = pd.to_datetime(stored["rate_date"]).dt.date
    stored["_i"] = -1
    both = pd.concat([stored, rows], ignore_index=True)
    both = both.drop_duplicates(["rate_date", "currency"], keep="first")  # stored ones first
    both = both.sort_values(["currency", "rate_date"], kind="stable")
    previous = both.groupby("currency")[["rate_date", "units_per_eur"]].shift()
    gap = pd.Series(
        [
            (d - p).days if isinstance(p, dt.date) else None
            for d, p in zip(both["rate_date"], previous["rate_date"], strict=True)
        ],
        index=both.index,
        dtype="float64",
    )
    ratio = both["units_per_eur"] / previous["units_per_eur"]
    far = (
        (both["_i"] >= 0) & (gap <= RATE_GAP_DAYS) & ((ratio > RATE_BAND) | (ratio < 1 / RATE_BAND))
    )
    if not far.any():
        return
    reasons = {
        int(i): f"{r:g} is more than {RATE_BAND:g}x away from the previous rate "
        f"({p:g} on {d:%Y-%m-%d})"
        for i, r, p, d in zip(
            both.loc[far, "_i"],
            both.loc[far, "units_per_eur"],
            previous.loc[far, "units_per_eur"],
            previous.loc[far, "rate_date"],
            strict=True,
        )
    }
    problems.add(
        frame.index.isin(list(reasons)),
        "units_per_eur",
        lambda picked: [reasons[i] for i in picked.index],
    )
