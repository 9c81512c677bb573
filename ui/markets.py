"""The Markets page's pieces: drill-down state (session + URL), breadcrumbs and tables."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from analytics import formatting, markets
from analytics.catalog import Catalog
from analytics.filters import Filters
from ui import cache, charts, components, links, text

URL_REGION, URL_COUNTRY = "m_region", "m_country"


def drill_state(catalog: Catalog, selected: Filters) -> tuple[str | None, str | None]:
    """The drilled region and country: seeded once from the URL, kept in session_state,
    written back to the URL so a copied link reopens the same drill-down."""
    state = st.session_state
    if not state.get("m_seeded"):
        state["m_seeded"] = True
        region = st.query_params.get(URL_REGION)
        country = st.query_params.get(URL_COUNTRY)
        codes = {code: r for code, _, r in catalog.countries}
        if country and country not in codes:
            st.warning(
                f"This link asked for country “{text.from_link(country)}”, which has no sales here."
            )
            country = None
        if region and region not in catalog.regions:
            st.warning(
                f"This link asked for region “{text.from_link(region)}”, which has no sales here."
            )
            region = None
        if country:
            region = codes[country]
        state["m_region"], state["m_country"] = region, country
    region, country = state.get("m_region"), state.get("m_country")
    for key, value in ((URL_REGION, region), (URL_COUNTRY, country)):
        if value:
            st.query_params[key] = value
        elif key in st.query_params:
            del st.query_params[key]
    return region, country


def _go(region: str | None, country: str | None) -> None:
    st.session_state["m_region"], st.session_state["m_country"] = region, country
    # A new key for the clickable charts, so an old selection does not drill again.
    st.session_state["m_nonce"] = st.session_state.get("m_nonce", 0) + 1


def breadcrumbs(catalog: Catalog, region: str | None, country: str | None) -> None:
    """All regions › region › country, each level a link back up."""
    crumbs = [("All regions", None, None)]
    if region:
        crumbs.append((region, region, None))
    if country:
        crumbs.append((catalog.country_name(country), region, country))
    columns = st.columns([2] * len(crumbs) + [8 - 2 * len(crumbs) + 2])
    for i, (label, r, c) in enumerate(crumbs):
        last = i == len(crumbs) - 1
        columns[i].button(
            text.md(label) if last else f"‹ {text.md(label)}",
            key=f"crumb_{i}",
            disabled=last,
            on_click=_go,
            args=(r, c),
            width="stretch",
        )


DETAIL_SECTIONS = ("Top accounts", "Global key accounts", "Price position")


def detail_section() -> str:
    """Which detail section to show; kept in the URL as m_detail."""
    state = st.session_state
    if "m_section" not in state:
        asked = st.query_params.get("m_detail")
        state["m_section"] = asked if asked in DETAIL_SECTIONS else DETAIL_SECTIONS[0]
        links.not_a_choice(
            "m_detail", None if asked in DETAIL_SECTIONS else asked, state["m_section"]
        )
    section = st.segmented_control(
        "Details", DETAIL_SECTIONS, key="m_section", label_visibility="collapsed", required=True
    )
    section = components.kept_choice("m_section", section, DETAIL_SECTIONS[0])
    st.query_params["m_detail"] = section
    return section


def chart_key(name: str) -> str:
    return f"{name}_{st.session_state.get('m_nonce', 0)}"


def drill_on_click(event, level: str, catalog: Catalog) -> None:
    """Drill into the region or country a chart click selected."""
    points = (event or {}).get("selection", {}).get("points", []) if event else []
    if not points or not points[0].get("customdata"):
        return
    key = points[0]["customdata"][0]
    if level == "region":
        _go(key, None)
    else:
        region = next((r for code, _, r in catalog.countries if code == key), None)
        _go(region, key)
    st.rerun()


def nothing_sold(card: pd.DataFrame) -> bool:
    """True when the scorecard has no market with revenue (the filters match no sales)."""
    return card.empty or card["revenue"].abs().sum() == 0


def basis_note(scope: Filters) -> None:
    """What the growth figures compare, on which rates."""
    st.caption(markets.basis_note(scope))


def opportunity(version: str, cards: dict, scope: Filters) -> pd.DataFrame:
    """Where to invest: the country scorecard with market size and penetration."""
    return markets.market_opportunity(cards["country"], cache.market_reporting_rate(version, scope))


def country_headline(card: pd.DataFrame, scope: Filters) -> None:
    """One country's scorecard as metrics."""
    row = card.iloc[0]
    cur = scope.currency
    constant = scope.basis == "constant"
    cols = st.columns(5)
    cols[0].metric(
        f"Net revenue ({cur})",
        formatting.money(row["revenue"], cur),
        _growth(row["growth_prior"]) + f" vs {scope.comparison.label}",
        help=growth_label(scope) + ".",
        border=True,
    )
    # The other basis than the revenue card's growth, so the two cards never repeat a figure.
    cols[1].metric(
        "Reported growth" if constant else "At constant currency",
        _growth(row["growth_prior_cc"] + row["fx_effect"] if constant else row["growth_prior_cc"]),
        f"FX effect {formatting.change(row['fx_effect'], 'percent') or '–'}",
        delta_color="off",
        delta_arrow="off",
        help=f"Growth vs {scope.comparison.label} "
        + ("at each order day's rate." if constant else "at its average ECB rates."),
        border=True,
    )
    cols[2].metric("Growth vs last year", _growth(row["growth_last_year"]), border=True)
    cols[3].metric(
        "Gross margin %",
        formatting.percent(row["gross_margin_pct"]),
        help=components.margin_coverage_note(row["margin_coverage"]),
        border=True,
    )
    cols[4].metric(
        "Penetration",
        formatting.percent(row["penetration"], 2),
        help="Annualised net revenue in EUR / addressable market (illustrative).",
        border=True,
    )


def _growth(value) -> str:
    return formatting.change(value, "money") or "–"


def growth_label(scope: Filters) -> str:
    """The one growth column's name: what it compares, on which basis."""
    basis = {"constant": "constant currency", "plan": "at plan rates"}.get(scope.basis, "reported")
    return f"Growth vs {scope.comparison.label} ({basis})"


def scorecard_table(card: pd.DataFrame, scope: Filters, level: str) -> None:
    """The market scorecard, formatted, with growth colours and downloads: one growth column
    on the chosen basis and the FX effect (reported minus constant-currency growth), from
    which the other basis follows."""
    cur = scope.currency
    name = "Region" if level == "region" else "Country"
    growth = growth_label(scope)
    table = pd.DataFrame(
        {
            name: card["name"],
            f"Net revenue ({cur})": card["revenue"],
            growth: card["growth_prior"],
            "FX effect (pp)": card["fx_effect"] * 100,
            "Growth vs last year": card["growth_last_year"],
            "Gross margin %": card["gross_margin_pct"],
            "Share of total": card["share"],
            "Penetration (%)": card["penetration"] * 100,
            "Active customers": card["active_customers"],
            "Orders": card["orders"],
            f"Avg order value ({cur})": card["aov"],
        }
    )
    growth_cols = [growth, "Growth vs last year"]
    # On screen in whole units; the downloads keep the exact amounts.
    shown = table.round({f"Net revenue ({cur})": 0, f"Avg order value ({cur})": 0})
    styled = shown.style.map(_growth_colour, subset=growth_cols)
    percent = st.column_config.NumberColumn(format="percent")
    money = st.column_config.NumberColumn(format="localized")
    config = {col: percent for col in [*growth_cols, "Share of total"]}
    config |= {
        "Gross margin %": components.margin_column(components.margin_coverage_of(card)),
        f"Net revenue ({cur})": money,
        f"Avg order value ({cur})": money,
        "Penetration (%)": st.column_config.NumberColumn(format="%.2f"),
        "FX effect (pp)": st.column_config.NumberColumn(format="%+.1f"),
        "Active customers": money,
        "Orders": money,
    }
    components.table_with_downloads(
        styled, config, f"market_scorecard_{level}", "scorecard", export_frame=table
    )


def _growth_colour(value) -> str:
    if pd.isna(value):
        return ""
    return "color: #1a7f37" if value > 0 else "color: #c73e1d" if value < 0 else ""


def mix_chart(mix: pd.DataFrame, by: str, part: str, scope: Filters) -> None:
    """Each market's revenue split by product line or channel, as 100 % bars."""
    label = "product line" if part == "product_line" else "channel"
    frame = markets.mix_shares(mix, part)
    if frame.empty:
        components.empty_state(f"No {label} mix", "No sales match these filters.")
        return
    st.plotly_chart(
        charts.mix_bars(
            frame.rename(columns={"market": by}),
            by,
            part,
            f"Revenue by {label} — share per {by}, {scope.period.label}",
        ),
        config={"displaylogo": False},
        key=f"mix_{part}",
    )


def price_position(version: str, scope: Filters) -> None:
    """A product picker, the price index per country and the price table."""
    products = cache.market_products_sold(version, scope)
    if products.empty:
        components.empty_state("No products sold", "No sales match these filters.")
        return
    labels = dict(
        zip(
            products["product_id"],
            products["name"] + " (" + products["product_line"] + ")",
            strict=True,
        )
    )
    product = st.selectbox(
        "Product",
        list(labels),
        format_func=labels.get,
        key="m_product",
        help="Products sold in the most markets come first.",
    )
    prices = cache.market_price_position(version, scope, product)
    if prices.empty:
        components.empty_state("No sales of this product", "Pick another product.")
        return
    cur = scope.currency
    st.plotly_chart(
        charts.price_index_bars(
            prices,
            cur,
            f"{labels[product]} — average net price by country, index (average = 100), "
            f"{scope.period.label}",
        ),
        config={"displaylogo": False},
    )
    table = pd.DataFrame(
        {
            "Country": prices["country"],
            "Invoiced in (period end)": prices["currency_code"],
            "Units": prices["units"],
            "Avg net price (local)": prices["avg_price_local"],
            "Avg list price (local)": prices["list_price_local"],
            "Discount depth": prices["discount_depth"],
            f"Avg net price ({cur})": prices["avg_price_reporting"],
            "Price index": prices["price_index"],
        }
    )
    components.table_with_downloads(
        table.round(
            dict.fromkeys(
                ("Avg net price (local)", "Avg list price (local)", f"Avg net price ({cur})"), 2
            )
            | {"Price index": 1}
        ),
        {
            "Units": st.column_config.NumberColumn(format="localized"),
            "Avg net price (local)": st.column_config.NumberColumn(format="localized"),
            "Avg list price (local)": st.column_config.NumberColumn(format="localized"),
            "Discount depth": st.column_config.NumberColumn(format="percent"),
            f"Avg net price ({cur})": st.column_config.NumberColumn(format="localized"),
        },
        "price_position",
        "price_position",
        export_frame=table,
    )
    st.caption(
        f"Returns excluded. Local prices converted at {scope.period.label} average ECB rates "
        f"into {cur}; discount depth = 1 − realised / list price. One row per country, in "
        "the currency it invoices in at the period's end: where a country changed currency "
        "in the period (Bulgaria, BGN to EUR on 1 Jan 2026), its local prices are those of "
        f"the lines in that currency, while units and the {cur} price count every line."
    )


def accounts_table(frame: pd.DataFrame, scope: Filters, key: str) -> None:
    if frame.empty:
        components.empty_state("No accounts", "No customer bought in this selection.")
        return
    cur = scope.currency
    table = pd.DataFrame(
        {
            "Account": frame["customer"],
            "Country": frame["country"],
            "Segment": frame["segment"].str.capitalize(),
            "Global account": frame["global_account"].fillna(""),
            f"Net revenue ({cur})": frame["revenue"],
            f"Growth vs {scope.comparison.label}": frame["growth_prior"],
            "Gross margin %": frame["gross_margin_pct"],
            "Orders": frame["orders"],
        }
    )
    components.table_with_downloads(
        table.round({f"Net revenue ({cur})": 0}),
        {
            f"Net revenue ({cur})": st.column_config.NumberColumn(format="localized"),
            f"Growth vs {scope.comparison.label}": st.column_config.NumberColumn(format="percent"),
            "Gross margin %": components.margin_column(components.margin_coverage_of(frame)),
        },
        key,
        key,
        export_frame=table,
    )


def global_accounts_table(frame: pd.DataFrame, scope: Filters) -> None:
    if frame.empty:
        components.empty_state(
            "No global key accounts here",
            "No global account's subsidiary bought in this selection.",
        )
        return
    cur = scope.currency
    table = pd.DataFrame(
        {
            "Global account": frame["global_account"],
            f"Net revenue ({cur})": frame["revenue"],
            f"Growth vs {scope.comparison.label}": frame["growth_prior"],
            "Gross margin %": frame["gross_margin_pct"],
            "Countries": frame["countries"],
            "Top product line": frame["top_product_line"],
            "Countries with sales": frame["country_list"],
        }
    )
    components.table_with_downloads(
        table.round({f"Net revenue ({cur})": 0}),
        {
            f"Net revenue ({cur})": st.column_config.NumberColumn(format="localized"),
            f"Growth vs {scope.comparison.label}": st.column_config.NumberColumn(format="percent"),
            "Gross margin %": components.margin_column(components.margin_coverage_of(frame)),
        },
        "global_accounts",
        "global_accounts",
        export_frame=table,
    )
