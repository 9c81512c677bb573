"""Order lines: the day's exchange rate, channel and cost fallbacks, net amounts, and the
customers, products and reps an order file brings that the store does not know yet.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from analytics import db
from analytics.importer.validation import Problems, known_values, reject_duplicates


def prepare_orders(con, frame: pd.DataFrame, problems: Problems) -> dict:
    """Order-specific checks and derived values; returns new customers/products/reps."""
    if "line_no" not in frame:
        # Lines numbered in file order within each order: deterministic, so a re-import
        # finds the same keys.
        frame["line_no"] = frame.groupby("order_id", sort=False).cumcount() + 1
    frame["line_no"] = frame["line_no"].astype("Int64")
    reject_duplicates(frame, problems, ["order_id", "line_no"], "order_id / line_no")

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
    frame["_rate"] = (
        frame[["order_date", "currency"]]
        .merge(rates, on=["order_date", "currency"], how="left")["units_per_eur"]
        .to_numpy()
    )
    has_date_and_currency = frame["order_date"].notna() & frame["currency"].isin(
        known_values(con)["currencies"]
    )
    problems.add(
        has_date_and_currency & frame["_rate"].isna(),
        "currency",
        lambda rows: [
            f"no exchange rate for {c} on {d:%Y-%m-%d}"
            for c, d in zip(rows["currency"], rows["order_date"], strict=True)
        ],
    )

    customers = db.query(con, "SELECT customer_id, segment FROM customers")
    segment_of = dict(zip(customers["customer_id"], customers["segment"], strict=True))
    products = db.query(
        con,
        """
        SELECT p.product_id, (SELECT arg_max(o.unit_cost_eur, o.order_date) FROM order_lines o
                              WHERE o.product_id = p.product_id) AS last_cost
        FROM products p
        """,
    )
    known_products = set(products["product_id"])
    last_cost = dict(zip(products["product_id"], products["last_cost"], strict=True))
    known_reps = {r[0] for r in db.query_rows(con, "SELECT rep_id FROM reps")}

    # Channel: the file's, else the customer's segment (stored or in the file).
    file_segment = frame["segment"] if "segment" in frame else pd.Series("", frame.index)
    fallback = (
        frame["customer_id"]
        .map(segment_of)
        .astype("object")
        .fillna(file_segment.replace("", np.nan))
    )
    channel = (
        frame["channel"].replace("", np.nan)
        if "channel" in frame
        else pd.Series(None, frame.index, dtype="object")
    )
    frame["channel"] = channel.astype("object").fillna(fallback)
    problems.add(
        frame["channel"].isna(),
        "channel",
        "no channel, and the customer has no segment to take it from",
    )

    # Unit cost: the file's, else the product's latest stored cost.
    cost = frame["unit_cost_eur"] if "unit_cost_eur" in frame else pd.Series(np.nan, frame.index)
    frame["unit_cost_eur"] = cost.fillna(frame["product_id"].map(last_cost))
    problems.add(
        frame["unit_cost_eur"].isna(),
        "unit_cost_eur",
        "no unit cost in the file and none stored for this product",
    )
    if "discount_pct" not in frame:
        frame["discount_pct"] = 0.0

    frame["net_amount_local"] = (
        frame["quantity"] * frame["unit_price"] * (1 - frame["discount_pct"])
    )
    frame["net_amount_eur"] = frame["net_amount_local"] / frame["_rate"]

    valid = frame.drop(index=problems.rejected_index())
    created = {}
    new_customers = valid[~valid["customer_id"].isin(segment_of)].drop_duplicates("customer_id")
    if len(new_customers):
        name = new_customers.get("customer_name", pd.Series("", new_customers.index))
        segment = new_customers.get("segment", pd.Series("", new_customers.index)).replace(
            "", np.nan
        )
        created["customers"] = pd.DataFrame(
            {
                "customer_id": new_customers["customer_id"],
                "name": name.where(name != "", new_customers["customer_id"]),
                "country_code": new_customers["country"],
                "segment": segment.fillna(new_customers["channel"]),
                "global_account_id": None,
            }
        )
    new_products = valid[~valid["product_id"].isin(known_products)].drop_duplicates("product_id")
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
    if "rep_id" in valid:
        reps = valid[(valid["rep_id"] != "") & ~valid["rep_id"].isin(known_reps)]
        reps = reps.drop_duplicates("rep_id")
        if len(reps):
            name = reps.get("rep_name", pd.Series("", reps.index))
            region = reps["country"].map(known_values(con)["regions"])
            created["reps"] = pd.DataFrame(
                {
                    "rep_id": reps["rep_id"],
                    "name": name.where(name != "", reps["rep_id"]),
                    "team": "Imported",
                    "region": region,
                    "manager_id": None,
                }
            )
    return created


def order_rows(frame: pd.DataFrame) -> pd.DataFrame:
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
