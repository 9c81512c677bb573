"""The customers and reps a file refers to: ids taken from names when the file gives only
names, and the ones the store does not know yet created, for every kind that refers to them.

A name matches a stored customer or rep when exactly one has it (case- and space-blind);
a name several stored ones share is rejected (give the id), a name none has becomes the id
of a new one. Created customers take the file's segment, else the line's channel, else
"unassigned"; created reps go to the team "Imported" in the region of the row's country.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analytics import db
from analytics.importer.validation import Problems, known_values

UNASSIGNED = "unassigned"


def _key(names: pd.Series) -> pd.Series:
    return names.astype(str).str.strip().str.casefold().str.replace(r"\s+", " ", regex=True)


def ids_from_names(
    con, frame: pd.DataFrame, problems: Problems, id_field: str, name_field: str, table: str
) -> None:
    """Fill `id_field` from `name_field` where the file gives a name but no id."""
    if name_field not in frame:
        return
    ids = frame[id_field] if id_field in frame else pd.Series("", frame.index)
    wanted = (ids.fillna("") == "") & (frame[name_field] != "")
    if not wanted.any():
        frame[id_field] = ids
        return
    key = db.identifier(id_field, frozenset({"customer_id", "rep_id"}))
    stored = db.query(con, f"SELECT {key} AS id, name FROM {db.identifier(table)}")
    stored["key"] = _key(stored["name"])
    counts = stored["key"].value_counts()
    unique = stored[stored["key"].map(counts) == 1].set_index("key")["id"]
    names = _key(frame[name_field])
    shared = wanted & names.map(counts).fillna(0).gt(1)
    problems.add(
        shared,
        name_field,
        f"several stored {table} have this name: give the {id_field.replace('_', ' ')}",
    )
    found = names.map(unique).astype("object")
    frame[id_field] = ids.where(~wanted, found.fillna(frame[name_field].str.strip()))


def new_customers(
    con, valid: pd.DataFrame, channel: pd.Series | None = None
) -> pd.DataFrame | None:
    """Customers the rows refer to that the store does not hold."""
    known = {r[0] for r in db.query_rows(con, "SELECT customer_id FROM customers")}
    rows = valid[(valid["customer_id"] != "") & ~valid["customer_id"].isin(known)]
    rows = rows.drop_duplicates("customer_id")
    if rows.empty:
        return None
    name = rows.get("customer_name", pd.Series("", rows.index)).fillna("")
    segment = rows.get("segment", pd.Series("", rows.index)).replace("", np.nan)
    if channel is not None:
        segment = segment.fillna(channel.loc[rows.index].replace(UNASSIGNED, np.nan))
    return pd.DataFrame(
        {
            "customer_id": rows["customer_id"],
            "name": name.where(name != "", rows["customer_id"]),
            "country_code": rows["country"],
            "segment": segment.fillna(UNASSIGNED),
            "global_account_id": None,
        }
    )


def new_reps(con, valid: pd.DataFrame) -> pd.DataFrame | None:
    """Reps the rows refer to that the store does not hold."""
    if "rep_id" not in valid:
        return None
    known = {r[0] for r in db.query_rows(con, "SELECT rep_id FROM reps")}
    rows = valid[(valid["rep_id"].fillna("") != "") & ~valid["rep_id"].isin(known)]
    rows = rows.drop_duplicates("rep_id")
    if rows.empty:
        return None
    name = rows.get("rep_name", pd.Series("", rows.index)).fillna("")
    country = rows["country"] if "country" in rows else pd.Series(None, rows.index)
    region = country.map(known_values(con)["regions"]).fillna("Unassigned")
    return pd.DataFrame(
        {
            "rep_id": rows["rep_id"],
            "name": name.where(name != "", rows["rep_id"]),
            "team": "Imported",
            "region": region,
            "manager_id": None,
        }
    )


def countries_of_customers(con, frame: pd.DataFrame) -> pd.Series:
    """Each row's customer's stored country (None for customers the store lacks)."""
    stored = db.query(con, "SELECT customer_id, country_code FROM customers")
    lookup = dict(zip(stored["customer_id"], stored["country_code"], strict=True))
    return frame["customer_id"].map(lookup)
