"""Forecast: where monthly net revenue is heading per region, country, product line and
channel, how good that forecast has been, where the year will land against budget, the
pipeline projection beside it, and the web channel on its own."""

import streamlit as st

from ui import cache, components, filters
from ui import forecast as view

st.title("Forecast")
version = cache.database_version()
catalog = cache.load_catalog(version)
components.require_sales(catalog, "at least a year and a month of order lines")
store = view.load(version, catalog)
if store is None:
    st.stop()
shown = view.shown_in(version, store, filters.current().currency)
st.caption(
    f"Forecast as of {store.window.as_of:%d %b %Y} from the complete months to "
    f"{store.window.last_month:%b %Y}, for every sale you may see (the sidebar's currency "
    f"applies, its other filters do not) · {components.sources(catalog)}"
)
chosen = view.view_choice()

if chosen == "Year-end landing":
    view.landing_view(version, store, shown)
elif chosen == "Web channel":
    st.markdown(
        "**The web channel on its own**: online net revenue, its forecast and where the "
        "year lands, for internet sales managers."
    )
    item = view.web_item(store)
    if item is None:
        components.empty_state(
            "No web channel forecast",
            "The store has no web sales, or too few months of them to forecast.",
        )
    else:
        months = view.months_choice()
        view.series_view(version, store, item, months, shown, "Web channel", "fc_web")
        view.track_record_view(version, store, item, shown, "Web channel")
else:
    level, group = view.series_choice(store, catalog)
    label = catalog.country_name(group) if level == "country" else group
    item = view.find(store, level, group) if group else None
    if chosen == "Pipeline projection":
        view.projection_view(version, item, level, group, shown, label)
    elif item is not None:
        months = view.months_choice()
        view.series_view(version, store, item, months, shown, label, "fc_series")
        view.track_record_view(version, store, item, shown, label)
