"""The Data page's table of plan rates: admins edit it in place; a save goes through the
plan_rates import (the same checks, audit and import log as a file) and then removes the
rows deleted in the table."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from analytics import importer, plan_rates
from ui import access, cache, components, errors

EDITOR_KEY = "d_plan_rates"


def _stored(version: str) -> pd.DataFrame:
    with cache.cursor(version) as cur:
        return plan_rates.stored(cur)


def section(version: str) -> None:
    """The stored plan rates; an editable table with a save button for admins."""
    stored = _stored(version)
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
        st.caption(access.refusal("import"))
        components.table_with_downloads(stored, config, "plan_rates", "d_plan_rates_view")
        return
    edited = st.data_editor(
        stored, column_config=config, num_rows="dynamic", hide_index=True, key=EDITOR_KEY
    )
    if st.button("Save plan rates", key="d_plan_rates_save"):
        save(edited)


def save(edited: pd.DataFrame) -> None:
    """Check the edited table as the importer checks a file; when every row passes, load it
    and delete the rows removed from the table. A rejected row writes nothing."""
    kept = edited.dropna(how="all")
    if kept.empty:  # every row deleted: nothing to import, only deletions
        with errors.section() as attempt, cache.writer() as con:
            deleted = plan_rates.delete_others(con, kept)
        if not attempt.failed:
            cache.audit("import", f"plan_rates table: {deleted} deleted, none left")
            st.success(f"Plan rates saved: none left ({deleted} deleted).")
        return
    data = plan_rates.to_csv(kept)
    name = "Data page: plan rates table"
    with errors.section() as attempt, cache.writer() as con:
        checked = importer.import_file(con, "plan_rates", data, name, commit=False)
        if checked.rows_rejected or checked.status == "rejected":
            st.error(f"Nothing saved: {checked.message}")
            st.dataframe(checked.rejected_frame(), hide_index=True, width="stretch")
            return
        result = importer.import_file(con, "plan_rates", data, name)
        deleted = plan_rates.delete_others(con, kept) if result.status != "rejected" else 0
    if attempt.failed:
        return
    cache.audit(
        "import", f"plan_rates table: {result.status}, {len(kept):,} rows, {deleted} deleted"
    )
    st.success(f"Plan rates saved: {len(kept):,} rows ({deleted} deleted).")
