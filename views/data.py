"""Data: bring your own exports (check, then load), the import history, a data-quality
summary and the exchange rates in use."""

import streamlit as st

from ui import access, cache, errors, text
from ui import data as view
from ui import plan_rates as plan_rates_view

st.title("Data")
version = cache.database_version()

st.subheader("Import a file")
if access.can("import"):
    kind, data, file_name, upload_id = view.upload()
else:
    st.caption(access.refusal("import"))
    data = None
if "d_result" in st.session_state:
    result = st.session_state.pop("d_result")
    (st.success if result.status in ("loaded", "unchanged") else st.error)(
        text.md(f"{result.file_name}: {result.message}")
    )
    if result.status == "loaded":
        st.caption(cache.new_data_note())
    view.report(result, "d_done")
if data is not None:
    chosen = view.options(data, upload_id)
    if chosen is not None:
        columns = view.mapping(version, kind, upload_id, data, chosen)
        with errors.section():
            checked = cache.check_import(version, kind, upload_id, data, file_name, chosen, columns)
            if checked.status == "rejected":
                st.error(text.md(checked.message))
            else:
                st.info(text.md(checked.message) + " Nothing is written until you load.")
            view.report(checked, "d_check")
            count = checked.rows_loaded
            if st.button(
                f"Load {count:,} row{'' if count == 1 else 's'}",
                type="primary",
                key="d_load",
                disabled=checked.rows_loaded == 0,
            ):
                view.load(kind, data, file_name, chosen, columns)

if access.can("import"):
    st.subheader("Sales funnel")
    view.funnel(version)

summary = cache.data_quality(version)
if access.can("audit"):
    st.subheader("Import history")
    view.history(summary["history"])
    st.subheader("Audit log")
    view.audit(cache.audit_log())
st.subheader("Data quality")
view.quality(summary)
st.subheader("Exchange rates")
view.rates(summary["rates"], summary["summary_currencies"])
st.subheader("Plan rates")
plan_rates_view.section(version)
