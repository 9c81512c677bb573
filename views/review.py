"""Quarterly review: a quarter against the prior quarter, last year or the budget; the
revenue bridge and who drives it, the regional scorecard, top movers, next quarter's
pipeline; presentation mode and the exported deck."""

import streamlit as st

from ui import cache, components, errors, filters, periods, text
from ui import review as view

version = cache.database_version()
catalog = cache.load_catalog(version)
presenting = view.presenting()
if not presenting:
    st.title("Quarterly review")
components.require_sales(catalog)
quarters = periods.full_quarters(catalog)
if not quarters:
    components.empty_state(
        "No complete quarter yet",
        f"The data runs from {catalog.first_date:%d %b %Y} to {catalog.last_date:%d %b %Y}; "
        "the review needs at least one whole calendar quarter.",
    )
    st.stop()

quarter, vs = view.selection(quarters, show_controls=not presenting)
# The review has its own quarter; the sidebar's period does not apply here.
scope = filters.for_quarter(quarter)
# A quarter with nothing to compare with is a ValueError with a message for the reader.
with errors.section(ValueError, then=view.exit_button if presenting else None) as attempt:
    data = cache.quarterly_review(version, quarter, vs, scope)
if attempt.failed:
    st.stop()

if presenting:
    view.presentation(data)
    st.stop()

st.caption(
    "This page picks its own quarter, so the sidebar's period does not apply; its regions, "
    "countries, product lines, channels, reporting currency and basis do. Reported and "
    "constant-currency figures are shown side by side, the sidebar's basis beside them; the "
    "bridges are reported (FX is one of their effects)."
)
view.present_button()

st.subheader(f"{data.quarter.label} vs {data.vs_label}")
view.headline(data)
view.basis_and_budget(data)
st.caption(text.md(data.stamp()))
view.awaiting_rate(data)

st.subheader("Revenue bridge")
view.bridge_chart(data)
st.caption(view.BRIDGE_NOTE)
view.bridge_drivers(data)
st.caption(text.md(data.stamp()))

if data.budget_bridge is not None:
    st.subheader("Budget to actual")
    view.budget_bridge_chart(data)
    st.caption(view.BUDGET_BRIDGE_NOTE)
    st.caption(text.md(data.stamp()))

st.subheader("Regional scorecard")
view.scorecard(data)
st.caption(text.md(data.stamp()))

st.subheader("Top movers")
view.movers(data)
st.caption(text.md(data.stamp()))

st.subheader(f"Pipeline for {data.pipeline['quarter']}")
view.pipeline(data)

st.subheader("Take it to the meeting")
view.exports(data)
