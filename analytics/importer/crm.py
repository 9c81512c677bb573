"""Opportunities and activities: what a CRM export leaves to be derived (a deal's status from
its stage, its forecast category once closed, an activity's id), and the customers and reps
they refer to, created as order imports create them. Quotas and price lists create the reps
and products they name.
"""

from __future__ import annotations

import hashlib

import pandas as pd

from analytics import db
from analytics.crm import stages
from analytics.importer.columns import vocabulary
from analytics.importer.references import (
    countries_of_customers,
    ids_from_names,
    new_customers,
    new_reps,
)
from analytics.importer.validation import Problems

STATUS_OF_STAGE = {"Closed Won": "won", "Closed Lost": "lost"}
# Salesforce's default forecast category of each stage: Closed for a won deal (counted as
# commit here), Omitted for a lost one, Pipeline for every open stage.
FORECAST_OF_STATUS = {"won": "commit", "lost": "omitted", "open": "pipeline"}


def _required(frame: pd.DataFrame, problems: Problems, field: str, name_field: str) -> None:
    column = field if field in problems.raw or name_field not in problems.raw else name_field
    problems.add(frame[field].fillna("") == "", column, "missing required value")


def prepare_opportunities(con, frame: pd.DataFrame, problems: Problems) -> None:
    ids_from_names(con, frame, problems, "customer_id", "customer_name", "customers")
    ids_from_names(con, frame, problems, "rep_id", "rep_name", "reps")
    _required(frame, problems, "customer_id", "customer_name")
    _required(frame, problems, "rep_id", "rep_name")
    status_of = stage_statuses(con, frame["stage"])
    from_stage = frame["stage"].map(status_of).fillna("open")
    status = frame["status"] if "status" in frame else pd.Series("", frame.index)
    # A closed stage fixes the status; an open stage may stay on a deal marked won or lost.
    closed_stage = frame["stage"].map(status_of).isin(["won", "lost"])
    contradicts = (status != "") & closed_stage & (status != from_stage)
    problems.add(
        contradicts,
        "status",
        lambda rows: [f"contradicts the stage {s}" for s in frame.loc[rows.index, "stage"]],
    )
    frame["status"] = status.where(status != "", from_stage)
    category = (
        frame["forecast_category"] if "forecast_category" in frame else pd.Series("", frame.index)
    )
    frame["forecast_category"] = category.where(
        category != "", frame["status"].map(FORECAST_OF_STATUS)
    )


def stage_statuses(con, names: pd.Series) -> dict[str, str]:
    """Stage -> the status of a deal in it: the stored funnel's, else what the CRM's stage
    name means (vocabulary.toml: Closed Won, closedwon, Gewonnen… are won), else open."""
    canonical = vocabulary()["stages"]
    out = {s.name: s.status for s in stages.funnel(con)}
    for name in names.dropna().unique():
        if name not in out:
            out[name] = STATUS_OF_STAGE.get(canonical.get(str(name).lower(), ""), "open")
    return out


def new_funnel(con, valid: pd.DataFrame) -> tuple[tuple[stages.Stage, ...], list[str]]:
    """The funnel after this import and the stages it adds: the stored funnel (none stored:
    the default's stages that stored deals are in) with the file's new stages put in by
    their probability (the median over the file's deals in the stage), else in the order
    first seen. Nothing new: ((), [])."""
    base = stages.stored(con)
    if not base:
        used = stages.used_stages(con)
        base = tuple(s for s in stages.DEFAULT_FUNNEL if s.name in used)
    known = {s.name for s in base}
    fresh = [n for n in valid["stage"].drop_duplicates() if n and n not in known]
    if not fresh:
        return (), []
    status_of = stage_statuses(con, valid["stage"])
    chance = (
        valid.groupby("stage")["probability"].median()
        if "probability" in valid
        else pd.Series(dtype="float64")
    )
    new = [
        stages.Stage(
            name,
            status_of[name],
            None if pd.isna(chance.get(name, None)) else float(chance[name]),
        )
        for name in fresh
    ]
    return stages.merged(base, new), fresh


def prepare_activities(con, frame: pd.DataFrame, problems: Problems) -> None:
    ids_from_names(con, frame, problems, "customer_id", "customer_name", "customers")
    ids_from_names(con, frame, problems, "rep_id", "rep_name", "reps")
    _required(frame, problems, "customer_id", "customer_name")
    _required(frame, problems, "rep_id", "rep_name")
    given = frame["activity_id"] if "activity_id" in frame else pd.Series("", frame.index)
    frame["activity_id"] = given.where(given != "", _derived_ids(frame))
    stored = countries_of_customers(con, frame)
    country = frame["country"] if "country" in frame else pd.Series(None, frame.index)
    frame["country"] = country.astype("object").where(country.notna(), stored)
    problems.add(
        frame["country"].isna() & (frame["customer_id"] != ""),
        "customer_id",
        "a customer the store does not hold needs a country column to be created",
    )


def _derived_ids(frame: pd.DataFrame) -> pd.Series:
    """An id from the activity's rep, customer, day and type, and its rank among identical
    ones in the file: the same file gives the same ids, so a re-import changes nothing."""
    parts = pd.DataFrame(
        {
            "rep": frame["rep_id"].astype(str),
            "customer": frame["customer_id"].astype(str),
            "day": frame["activity_date"].astype(str),
            "type": frame["type"].astype(str),
        }
    )
    rank = parts.groupby(list(parts.columns), sort=False).cumcount().astype(str)
    text = parts.agg("|".join, axis=1) + "|" + rank
    return text.map(lambda t: "ACT-" + hashlib.sha256(t.encode()).hexdigest()[:12])


def created_references(con, kind: str, frame: pd.DataFrame, problems: Problems) -> dict:
    """The customers, reps and products the valid rows name that the store lacks:
    opportunities and activities create customers and reps, quotas reps, price lists and
    product costs products."""
    valid = frame.drop(index=problems.rejected_index())
    if kind in ("opportunities", "activities"):
        created = {}
        customers = new_customers(con, valid)
        if customers is not None:
            created["customers"] = customers
        reps = new_reps(con, valid)
        if reps is not None:
            created["reps"] = reps
        return created
    if kind == "quotas":
        reps = new_reps(con, valid)
        return {"reps": reps} if reps is not None else {}
    if kind in ("price_lists", "product_costs"):
        known = {r[0] for r in db.query_rows(con, "SELECT product_id FROM products")}
        rows = valid[~valid["product_id"].isin(known)].drop_duplicates("product_id")
        if rows.empty:
            return {}
        return {
            "products": pd.DataFrame(
                {
                    "product_id": rows["product_id"],
                    "sku": rows["product_id"],
                    "name": rows["product_id"],
                    "product_line": "Unassigned",
                    "category": "Unassigned",
                }
            )
        }
    return {}
