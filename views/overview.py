"""Overview: the headline KPIs, the regional trend, the world map and the top markets."""

import streamlit as st

from ui import cache, charts, components, errors, filters

st.title("Overview")
catalog = cache.load_catalog(cache.database_version())
components.require_sales(catalog)

selected = filters.current()
caption = components.source_caption(selected, catalog)
figures = cache.overview_figures(cache.database_version(), selected)

if figures["countries"].empty:
    components.empty_state(
        "No sales match these filters",
        f"Nothing was sold in {selected.period.label} or {selected.comparison.label} for "
        "this selection. Widen the period, or clear a region, country, product line or channel.",
    )
    st.stop()

components.kpi_row(figures["kpis"], selected)
st.caption(caption)

st.plotly_chart(
    charts.revenue_trend(
        figures["trend"], selected.currency, components.basis_label(selected), selected.period
    ),
    config={"displaylogo": False},
)
st.caption(caption)


# A fragment: changing the measure reruns the map alone, not the sidebar and the page.
@errors.fragment
def map_section() -> None:
    measure = st.segmented_control(
        "Colour the map by",
        ["revenue", "growth"],
        format_func={"revenue": "Net revenue", "growth": "Growth"}.get,
        default="revenue",
        key="overview_map_measure",
        required=True,
    )
    st.plotly_chart(
        charts.country_map(
            figures["countries"], measure or "revenue", selected.currency, selected.period.label
        ),
        config={"topojsonURL": charts.TOPOJSON_URL, "displaylogo": False},
    )
    st.caption(caption)


map_section()

st.subheader(f"Top markets — {selected.period.label}")
components.top_markets_table(figures["countries"], selected)
st.caption(caption)
