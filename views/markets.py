"""Markets: drill from regions to countries to accounts; scorecard, where to invest, mix,
price position and global key accounts."""

import streamlit as st

from ui import cache, charts, components, errors, filters, text
from ui import markets as view

st.title("Markets")
version = cache.database_version()
catalog = cache.load_catalog(version)
components.require_sales(catalog)

selected = filters.current()
region, country = view.drill_state(catalog, selected)
scope = filters.drilled(region, country)
view.breadcrumbs(catalog, region, country)
caption = components.source_caption(scope, catalog)

cache.market_rates_checked(version, scope)
level = "country" if region else "region"
cards = cache.market_scorecards(version, scope)
card = cards[level]

if view.nothing_sold(card):
    components.empty_state(
        "No sales match these filters",
        f"Nothing was sold in {scope.period.label} for this selection. Widen the period, clear "
        "a product line or channel, or go back up with the links above.",
    )
    st.stop()

view.basis_note(scope)
if country:
    view.country_headline(card, scope)
else:
    event = st.plotly_chart(
        charts.market_bars(
            card,
            "key",
            "name",
            scope.currency,
            f"Net revenue by {level} — {scope.currency}, {scope.period.label} "
            f"(colour: growth vs {scope.comparison.label}; click a bar to drill in)",
        ),
        on_select="rerun",
        selection_mode="points",
        key=view.chart_key(f"markets_bars_{level}"),
        config={"displaylogo": False},
    )
    view.drill_on_click(event, level, catalog)
    st.subheader(f"Market scorecard — {scope.period.label}")
    view.scorecard_table(card, scope, level)
st.caption(caption)

if not country:
    st.subheader("Where to invest")
    opportunity = view.opportunity(version, cards, scope)
    if opportunity.empty:
        components.empty_state(
            "No market estimates for these countries",
            "The store holds no addressable-market figures for the markets selected.",
        )
    else:
        event = st.plotly_chart(
            charts.opportunity_bubbles(opportunity, scope.currency, scope.period.label),
            on_select="rerun",
            selection_mode="points",
            key=view.chart_key("markets_bubbles"),
            config={"displaylogo": False},
        )
        view.drill_on_click(event, "country", catalog)
        st.caption(
            "Addressable market: illustrative estimates (demo data), converted at the period's "
            "last ECB rate; penetration = annualised net revenue in EUR / addressable market. "
            + caption
        )

st.subheader("Product and channel mix")
mix_by = "country" if region else "region"
mix = cache.market_mix(version, scope, mix_by)
left, right = st.columns(2)
with left:
    view.mix_chart(mix, mix_by, "product_line", scope)
with right:
    view.mix_chart(mix, mix_by, "channel", scope)
st.caption(caption)


# One detail section at a time: each reads order lines, and together they would cost a
# rerun several hundred milliseconds at ten million lines.
# A fragment: switching the section (or the product) reruns the section alone.
@errors.fragment
def detail_section() -> None:
    where = text.md(catalog.country_name(country)) if country else "all markets selected"
    section = view.detail_section()
    if section == "Top accounts":
        st.subheader(f"Top accounts — {where}, {scope.period.label}")
        view.accounts_table(cache.market_top_accounts(version, scope, 25), scope, "top_accounts")
    elif section == "Global key accounts":
        st.subheader(f"Global key accounts — {where}, {scope.period.label}")
        view.global_accounts_table(cache.market_global_accounts(version, scope), scope)
    else:
        st.subheader(f"Price position — {where}, {scope.period.label}")
        view.price_position(version, scope)
    st.caption(caption)


detail_section()
