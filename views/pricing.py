"""Pricing lab: test prices under exchange-rate changes — scenario, results, margin at risk,
price corridor, saved scenarios."""

import streamlit as st

from ui import cache, components, errors, filters, text
from ui import pricing as view

st.title("Pricing lab")
version = cache.database_version()
catalog = cache.load_catalog(version)
components.require_sales(catalog, "actual sales (order lines)")
currency = filters.current().currency
st.caption(
    f"Figures in {currency} (the sidebar's reporting currency). Costs are in EUR and prices in "
    "local currencies, so every exchange-rate move changes margin unless prices move. The "
    "sidebar's period and filters do not apply: the lab has its own markets and baseline."
)


# Fragments: a change to the scenario reruns the scenario's sections (builder to saved
# scenarios, which load into the builder), a change to the corridor reruns the corridor;
# neither reruns the sidebar or the other.
@errors.fragment
def scenario_sections() -> None:
    scenario = view.builder(catalog, version, currency)
    if scenario is not None:
        problems = scenario.problems()
        for problem in problems:
            st.error(text.md(problem))
        if problems:
            scenario = None

    if scenario is not None:
        st.subheader("4 · Results against the baseline")
        # Inputs the baseline cannot price are a ValueError with a message for the user.
        with errors.section(ValueError) as attempt:
            results, totals = cache.pricing_run(version, scenario.to_json())
        if attempt.failed:
            scenario = None
        else:
            view.results_section(results, totals, scenario, catalog)
            view.awaiting_rate(scenario, currency)

            st.subheader("5 · Margin at risk")
            view.margin_at_risk_section(version, scenario)

    st.subheader("Saved scenarios")
    view.saved_section(version, scenario)


@errors.fragment
def corridor() -> None:
    st.subheader("Price corridor")
    view.corridor_section(version, currency, catalog.rates.last_date)


scenario_sections()
corridor()
