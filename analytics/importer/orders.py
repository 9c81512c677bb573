"""Order lines: prices and net amounts from what the file gives, the day's exchange rate,
country, channel and cost fallbacks, and the customers, products and reps an order file
brings that the store does not know yet.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np
import pandas as pd

from analytics import costs, db, fx
from analytics.importer.reading import DETECT, Options
from analytics.importer.references import (
    UNASSIGNED,
    countries_of_customers,
    ids_from_names,
    new_customers,
    new_reps,
)
from analytics.importer.report import FileRejected, ImportAmbiguous
from analytics.importer.validation import Problems, known_values, reject_duplicates


@dataclasses.dataclass(frozen=True)
class OrderLookups:
    """What the store says about the customers and products an order file names, read once
    for the whole file (a file is checked in chunks of rows)."""

    segment_of: dict
    known_products: frozenset
    last_cost: dict
    costed_products: frozenset


def order_lookups(con) -> OrderLookups:
    customers = db.query(con, "SELECT customer_id, segment FROM customers")
    products = db.query(
        con,
        """
        SELECT p.product_id, (SELECT arg_max(o.unit_cost_eur, o.order_date) FROM order_lines o
                              WHERE o.product_id = p.product_id
                                AND o.unit_cost_eur IS NOT NULL) AS last_cost
        FROM products p
        """,
    )
    return OrderLookups(
        segment_of=dict(zip(customers["customer_id"], customers["segment"], strict=True)),
        known_products=frozenset(products["product_id"]),
        last_cost=dict(zip(products["product_id"], products["last_cost"], strict=True)),
        costed_products=frozenset(costs.costed_products(con)),
    )


def prepare_orders(con, frame: pd.DataFrame, problems: Problems, options: Options = DETECT) -> dict:
    """Order-specific checks and derived values of a whole file; returns new
    customers/products/reps."""
    lookups = order_lookups(con)
    prepare_order_rows(con, frame, problems, options, lookups)
    return finish_orders(con, frame, problems, lookups)


# Columns of a checked chunk that no later step reads (finish_orders, order_rows,
# awaiting_rows, the report): dropped before the chunks are put together.
SCRATCH_COLUMNS = ("net_price", "net_amount", "discount_amount", "unit_cost", "_rate", "_width")


# Text columns the checks leave as Python objects, held as Arrow strings (an eighth of the
# memory) once a chunk is checked.
_TEXT_COLUMNS = ("country", "channel", "_cost_currency")


def compact(frame: pd.DataFrame) -> pd.DataFrame:
    """A checked chunk's text columns as Arrow strings (missing values stay missing)."""
    return frame.astype({c: "str" for c in _TEXT_COLUMNS if c in frame})


def prepare_order_rows(
    con, frame: pd.DataFrame, problems: Problems, options: Options, lookups: OrderLookups
) -> None:
    """The checks and derived values of each line on its own (names to ids, country,
    prices, the day's rate, channel, cost): a file may go through them in chunks of rows."""
    ids_from_names(con, frame, problems, "customer_id", "customer_name", "customers")
    ids_from_names(con, frame, problems, "rep_id", "rep_name", "reps")
    problems.add(frame["customer_id"] == "", "customer_id", "missing required value")
    if "line_no" in frame:
        frame["line_no"] = frame["line_no"].astype("Int64")
    _country(con, frame, problems, options)
    _prices(frame, problems)

    rate = _rates(con, frame)
    frame["_rate"] = rate(frame["currency"])
    # No euro rate exists before 1999: such a line can never convert, so it is rejected
    # (a later one without a rate awaits it, below).
    problems.add(
        frame["order_date"].notna()
        & (pd.to_datetime(frame["order_date"]) < pd.Timestamp(fx.FIRST_RATE_DATE))
        & pd.isna(frame["_rate"]),
        "currency",
        lambda rows: [
            f"no exchange rate for {c} on {d:%Y-%m-%d}"
            for c, d in zip(rows["currency"], rows["order_date"], strict=True)
        ],
    )

    # Channel: the file's, else the customer's segment (stored or in the file), else
    # "unassigned" — most order exports carry no channel.
    file_segment = frame["segment"] if "segment" in frame else pd.Series("", frame.index)
    fallback = (
        frame["customer_id"]
        .map(lookups.segment_of)
        .astype("object")
        .fillna(file_segment.replace("", np.nan))
    )
    channel = (
        frame["channel"].replace("", np.nan)
        if "channel" in frame
        else pd.Series(None, frame.index, dtype="object")
    )
    frame["channel"] = channel.astype("object").fillna(fallback).fillna(UNASSIGNED)

    # Unit cost: the file's (in EUR, or in a stated currency), else the product's standard
    # cost of the day (filled in at load, analytics.costs), else the product's latest
    # stored cost, else unknown (NULL): the line loads and its margin is not counted.
    cost, cost_local, cost_currency = _cost_eur(frame, problems, options, rate)
    standard = frame["product_id"].isin(lookups.costed_products)
    stored_cost = frame["product_id"].map(lookups.last_cost).astype("float64").where(~standard)
    from_store = cost_local.isna() & stored_cost.notna()
    frame["unit_cost_eur"] = cost.where(cost_local.notna(), stored_cost).astype("float64")
    frame["_unit_cost"] = cost_local.where(~from_store, stored_cost)
    frame["_cost_currency"] = cost_currency.where(~from_store, "EUR")
    frame["_file_cost"] = cost_local.notna()  # the file's own, not a stored product's
    if "discount_pct" not in frame:
        frame["discount_pct"] = 0.0
    frame["net_amount_eur"] = frame["net_amount_local"] / frame["_rate"]
    # A line whose currency or cost currency has no rate on its day is kept, awaiting the
    # rate (analytics.awaiting says why it is held apart and how it converts later).
    frame["_awaiting"] = frame["order_date"].notna() & (
        pd.isna(frame["_rate"]) | (frame["_unit_cost"].notna() & frame["unit_cost_eur"].isna())
    )


def finish_orders(con, frame: pd.DataFrame, problems: Problems, lookups: OrderLookups) -> dict:
    """The checks that need every line of the file (line numbers within an order, keys that
    repeat) and the customers, products and reps it brings that the store lacks."""
    if "line_no" not in frame:
        # Lines numbered in file order within each order: deterministic, so a re-import
        # finds the same keys.
        frame["line_no"] = (frame.groupby("order_id", sort=False).cumcount() + 1).astype("Int64")
    reject_duplicates(frame, problems, ["order_id", "line_no"], "order_id / line_no")
    valid = ~frame.index.isin(problems.rejected_index())
    keys = ["customer_id", "product_id", *(["rep_id"] if "rep_id" in frame else [])]
    firsts = {key: _first_lines(frame, valid, key) for key in keys}
    return created_orders_references(con, firsts, lookups)


def created_orders_references(con, firsts: dict[str, pd.DataFrame], lookups: OrderLookups) -> dict:
    """The customers, products and reps to create, from the first valid line naming each
    (`firsts`: key -> those lines, with REFERENCE_COLUMNS; "rep_id" only when the file has
    reps)."""
    created = {}
    first = firsts["customer_id"]
    customers_new = new_customers(con, first, first["channel"])
    if customers_new is not None:
        created["customers"] = customers_new
    known_products = lookups.known_products
    new_products = firsts["product_id"]
    new_products = new_products[~new_products["product_id"].isin(known_products)]
    if len(new_products):
        name = new_products.get("product_name", pd.Series("", new_products.index))
        line = new_products.get("product_line", pd.Series("", new_products.index))
        line = line.where(line != "", "Unassigned")
        created["products"] = pd.DataFrame(
            {
                "product_id": new_products["product_id"],
                "sku": new_products["product_id"],
                "name": name.where(name != "", new_products["product_id"]),
                "product_line": line,
                "category": line,
            }
        )
    reps_new = new_reps(con, firsts["rep_id"]) if "rep_id" in firsts else None
    if reps_new is not None:
        created["reps"] = reps_new
    return created


# What a created customer, product or rep takes from the first valid line naming it.
REFERENCE_COLUMNS = (
    "customer_id",
    "customer_name",
    "segment",
    "country",
    "channel",
    "product_id",
    "product_name",
    "product_line",
    "rep_id",
    "rep_name",
)


def _first_lines(frame: pd.DataFrame, valid: np.ndarray, key: str) -> pd.DataFrame:
    """The first valid line of each `key` value, with the columns a created reference
    takes: the rows drop_duplicates(key) keeps of the valid lines, without copying them."""
    first = valid & ~frame[key].where(valid).duplicated().to_numpy()
    columns = [c for c in REFERENCE_COLUMNS if c in frame]
    return frame.loc[first, columns]


def _country(con, frame: pd.DataFrame, problems: Problems, options: Options) -> None:
    """The line's country: the file's, else the stored customer's, else the one the user
    stated for the file; a line with none of them is rejected."""
    given = frame["country"] if "country" in frame else pd.Series(None, frame.index)
    stored = countries_of_customers(con, frame)
    country = given.astype("object").where(given.notna(), stored)
    if options.country:
        code = known_values(con)["countries"].get(options.country.strip().upper())
        if code is None:
            raise FileRejected(f"Unknown country “{options.country}” (use an ISO code, e.g. DE).")
        country = country.fillna(code)
    written = problems.raw["country"] if "country" in problems.raw else pd.Series("", frame.index)
    problems.add(
        country.isna() & (written == ""),
        "country",
        "no country: the file has no country column and the customer is not stored; "
        "add the column, import the customer first, or state the country "
        "(--country DE)",
    )
    frame["country"] = country


def _prices(frame: pd.DataFrame, problems: Problems) -> None:
    """Unit price (before discount) and net amount (after it) from what the file gives:
    a unit price, a net price (after discount) or a line's net value."""
    nothing = pd.Series(np.nan, frame.index)
    if "discount_amount" in frame and "discount_pct" not in frame:
        # A discount amount is the line's: its share of quantity x price (a unit price is
        # needed to know it).
        gross = frame["quantity"] * frame.get("unit_price", nothing)
        share = (frame["discount_amount"].fillna(0.0) / gross).where(gross != 0, 0.0)
        problems.add(
            (share < 0) | (share >= 1),
            "discount_amount",
            "the discount must be at least 0 and below the line's quantity × price",
        )
        frame["discount_pct"] = share.fillna(0.0).clip(0, 0.999999)
    discount = frame["discount_pct"] if "discount_pct" in frame else pd.Series(0.0, frame.index)
    price = frame.get("unit_price", nothing)
    net_price = frame.get("net_price", nothing)
    net_value = frame.get("net_amount", nothing)
    quantity = frame["quantity"]
    from_net_price = price.isna() & net_price.notna()
    from_value = price.isna() & net_price.isna() & net_value.notna()
    unit = price.copy()
    unit[from_net_price] = net_price / (1 - discount)
    unit[from_value] = net_value / quantity / (1 - discount)
    net = quantity * price * (1 - discount)
    net[from_net_price] = quantity * net_price
    net[from_value] = net_value
    written = pd.Series(False, frame.index)
    for name in ("unit_price", "net_price", "net_amount"):
        if name in problems.raw:
            written |= problems.raw[name] != ""
    problems.add(~written, "unit_price", "no unit price, net price or net value")
    problems.add(
        from_value & (quantity == 0),
        "net_amount",
        "a unit price cannot be worked out from a net value with a quantity of 0",
    )
    derived = from_net_price | from_value
    problems.add(derived & (unit < 0), "unit_price", "negative price")
    given_both = price.notna() & net_value.notna()
    tolerance = np.maximum(0.01, 1e-6 * net_value.abs())
    problems.add(
        given_both & ((net - net_value).abs() > tolerance),
        "net_amount",
        lambda rows: [
            f"the net value differs from quantity × price × (1 − discount) = {v:,.2f}"
            for v in net[rows.index]
        ],
    )
    frame["unit_price"] = unit.where(np.isfinite(unit))
    frame["net_amount_local"] = net.where(~given_both, net_value)  # the file's, when given


def _rates(con, frame: pd.DataFrame):
    """currency per row -> units per EUR on the row's order date (NaN where none is
    stored). EUR is 1 on every day, whether or not rates are stored for it."""
    dates = [d for d in frame["order_date"] if pd.notna(d)]
    rates = db.query(
        con,
        """
        SELECT rate_date AS order_date, currency_code AS currency, units_per_eur
        FROM fx_daily WHERE rate_date BETWEEN $start AND $end
        """,
        {
            "start": min(dates, default=dt.date(1999, 1, 1)),
            "end": max(dates, default=dt.date(1999, 1, 1)),
        },
    )
    rates["order_date"] = pd.to_datetime(rates["order_date"]).dt.date

    def rate(currency: pd.Series) -> np.ndarray:
        found = (
            pd.DataFrame({"order_date": frame["order_date"], "currency": currency.to_numpy()})
            .merge(rates, on=["order_date", "currency"], how="left")["units_per_eur"]
            .to_numpy()
        )
        return np.where(currency.to_numpy() == "EUR", 1.0, found)

    return rate


def _cost_eur(
    frame: pd.DataFrame, problems: Problems, options: Options, rate
) -> tuple[pd.Series, pd.Series, pd.Series]:
    """The file's unit cost: in EUR (NaN where its currency has no rate on the order date:
    the line then awaits one), as given, and its currency. unit_cost_eur is taken as it is;
    unit_cost is converted from its stated currency at the order date's rate. A cost in no
    stated currency is asked about."""
    cost = frame.get("unit_cost_eur", pd.Series(np.nan, frame.index)).astype("float64")
    none = pd.Series(None, frame.index, dtype="object")
    if "unit_cost" not in frame or frame["unit_cost"].isna().all():
        return cost, cost, none.where(cost.isna(), "EUR")
    if "cost_currency" in frame:
        currency = frame["cost_currency"].replace("", np.nan)
        if options.cost_currency:
            currency = currency.fillna(options.cost_currency.strip().upper())
    elif options.cost_currency:
        currency = pd.Series(options.cost_currency.strip().upper(), frame.index)
    else:
        raise ImportAmbiguous(
            "The unit cost column does not say its currency. Say which (e.g. --cost-currency "
            "EUR, or map a cost currency column); it is not assumed to be EUR."
        )
    has_cost = frame["unit_cost"].notna()
    problems.add(has_cost & currency.isna(), "cost_currency", "a unit cost needs its currency")
    converted = pd.Series(frame["unit_cost"] / rate(currency.fillna("")), frame.index)
    given = cost.isna() & has_cost
    local = cost.where(~given, frame["unit_cost"])
    currency = none.where(cost.isna(), "EUR").where(~given, currency)
    return cost.fillna(converted), local, currency


def order_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """The lines as order_lines holds them."""
    rep = frame["rep_id"] if "rep_id" in frame else pd.Series("", frame.index)
    return pd.DataFrame(
        {
            "order_id": frame["order_id"],
            "line_no": frame["line_no"].astype("int64"),
            "order_date": frame["order_date"],
            "customer_id": frame["customer_id"],
            "product_id": frame["product_id"],
            "rep_id": rep.replace("", None),
            "country_code": frame["country"],
            "channel": frame["channel"],
            "currency_code": frame["currency"],
            "quantity": frame["quantity"].astype("int64"),
            "unit_price_local": frame["unit_price"],
            "discount_pct": frame["discount_pct"],
            "net_amount_local": frame["net_amount_local"],
            "net_amount_eur": frame["net_amount_eur"],
            "unit_cost_eur": frame["unit_cost_eur"],
        }
    )


def awaiting_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """Lines awaiting a rate as analytics.awaiting holds them: the file's values, their unit
    cost as given with its currency, no EUR amounts."""
    rows = order_rows(frame).drop(columns=["net_amount_eur", "unit_cost_eur"])
    rows["unit_cost"] = frame["_unit_cost"].astype("float64")
    currency = frame["_cost_currency"].astype("object")
    rows["cost_currency"] = currency.where(currency.notna(), None)
    return rows


def prepare_product_costs(con, frame: pd.DataFrame, options: Options = DETECT) -> None:
    """A product cost file's currency: its column's, else the one stated for the file
    (--cost-currency); a cost in no stated currency is asked about, never taken as EUR."""
    stated = (options.cost_currency or "").strip().upper()
    if stated and stated not in known_values(con)["currencies"]:
        raise FileRejected(
            f"The stated cost currency “{stated}” has no exchange rates in the store "
            "(use an ISO 4217 code such as EUR or USD)."
        )
    if "currency" not in frame:
        if not stated:
            raise ImportAmbiguous(
                "The cost file does not say the costs' currency. Say which (e.g. "
                "--cost-currency EUR, or map a currency column); it is not assumed to be EUR."
            )
        frame["currency"] = stated
    elif stated:
        frame["currency"] = frame["currency"].where(frame["currency"] != "", stated)
