"""The Data page's table of plan rates: admins edit it in place; a save goes through the
plan_rates import (the same checks, audit and import log as a file) and then removes the
rows deleted in the table."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from analytics import importer, plan_rates
from ui import access, cache, components, errors

EDITOR_KEY = "d_plan_rates"


def section(version: str) -> None:
    """The stored plan rates; an editable table with a save button for admins."""
    stored = cache.stored_plan_rates(version)
    st.caption(
        "Plan (budget) rates set by finance: 1 EUR = units per EUR, for a year or (quarter "
        "1-4) one quarter of it, whose own rate wins over the year's. EUR is 1. Budgets are "
        "compared with actuals at these rates, and the basis “At plan rates” uses them. "
        f"From a file: {plan_rates.FIX}."
    )
    config = {
        "year": st.column_config.NumberColumn("Year", min_value=1900, max_value=2100, step=1),
        "quarter": st.column_config.NumberColumn(
            "Quarter", min_value=1, max_value=4, step=1, help="Empty: the whole year."
        ),
        "currency_code": st.column_config.TextColumn("Currency", max_chars=3),
        "units_per_eur": st.column_config.NumberColumn(
            "Units per EUR", min_value=0.0, format="%.6g"
        ),
    }
    if not access.can("import"):
        # not the upload's refusal again: a viewer reads it once, above
        st.caption("Shown read-only: admins (data owners) edit plan rates.")
        components.table_with_downloads(stored, config, "plan_rates", "d_plan_rates_view")
        return
    edited = st.data_editor(
        stored, column_config=config, num_rows="dynamic", hide_index=True, key=EDITOR_KEY
    )
    if st.button("Save plan rates", key="d_plan_rates_save"):
        save(version, stored, edited)


def _keys(frame: pd.DataFrame) -> set[tuple]:
    return {
        (int(y), None if pd.isna(q) else int(q), str(c).strip().upper())
        for y, q, c in frame[["year", "quarter", "currency_code"]].itertuples(index=False)
        if not pd.isna(y)
    }


def save(version: str, stored: pd.DataFrame, edited: pd.DataFrame) -> None:
    """Check the edited table as the importer checks a file (on the current snapshot, writing
    nothing); when every row passes and something changed, load it and delete the rows
    removed from the table, as one write (the store's next snapshot)."""
    kept = edited.dropna(how="all")
    removed = len(_keys(stored) - _keys(kept))
    data = plan_rates.to_csv(kept)
    name = "Data page: plan rates table"
    checked = None
    with errors.section() as attempt:
        if not kept.empty:
            with cache.cursor(version) as cur:
                checked = importer.import_file(cur, "plan_rates", data, name, commit=False)
    if attempt.failed:
        return
    if checked is not None and (checked.rows_rejected or checked.status == "rejected"):
        st.error(f"Nothing saved: {checked.message}")
        st.dataframe(checked.rejected_frame(), hide_index=True, width="stretch")
        return
    if removed == 0 and (checked is None or checked.unchanged == checked.rows_loaded):
        st.info("Nothing to save: the table holds the stored plan rates.")
        return
    with errors.section() as attempt, cache.writer() as con:
        result = importer.import_file(con, "plan_rates", data, name) if not kept.empty else None
        deleted = plan_rates.delete_others(con, kept)
    if attempt.failed:
        return
    status = result.status if result is not None else "none left"
    cache.audit("import", f"plan_rates table: {status}, {len(kept):,} rows, {deleted} deleted")
    st.success(f"Plan rates saved: {len(kept):,} rows ({deleted} deleted).")
