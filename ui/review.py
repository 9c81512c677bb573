"""Screen parts of the quarterly review: the quarter and comparison pickers, the sections
(each one slide in presentation mode), presentation mode itself and the exports."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from analytics import bridge, formatting, periods, review
from analytics.crm import attainment as crm_attainment
from analytics.crm.pipeline import rate_rule as pipeline_rule
from analytics.periods import Period
from analytics.review import COMPARISONS, EFFECT_LABELS, Review
from exports import content, deck, html, images, pdf
from ui import cache, charts, components, links, text
from ui import forecast as forecast_view
from ui.charts import review as review_charts

URL_QUARTER, URL_VS, URL_PRESENT, URL_SLIDE = "quarter", "vs", "present", "slide"
CHART_CONFIG = {"displaylogo": False}
# Slides: no Plotly toolbar over the chart, and a height that leaves the title, the stamp
# and the slide buttons on a 900 px screen.
PRESENT_CHART_CONFIG = {"displaylogo": False, "displayModeBar": False}
PRESENT_CHART_HEIGHT = 440


# --- choosing the quarter -------------------------------------------------------------------


def _from_state_or_url(key: str, param: str, choices: list[str]) -> tuple[str, str | None]:
    """The widget's value, else the link's, else the first choice; and a rejected link value."""
    if st.session_state.get(key) in choices:
        return st.session_state[key], None
    asked = st.query_params.get(param)
    if asked is None:
        return choices[0], None
    normalised = asked.strip().upper() if param == URL_QUARTER else asked.strip()
    return (normalised, None) if normalised in choices else (choices[0], asked)


def selection(quarters: list[Period], show_controls: bool) -> tuple[Period, str]:
    """The quarter (default: the last full one) and comparison basis, mirrored in the URL."""
    keys = [periods.quarter_key(q) for q in quarters]
    labels = dict(zip(keys, (q.label for q in quarters), strict=True))
    quarter_key, bad_quarter = _from_state_or_url("r_quarter", URL_QUARTER, keys)
    vs, bad_vs = _from_state_or_url("r_vs", URL_VS, list(COMPARISONS))
    if bad_quarter:
        st.warning(
            f"The link asked for quarter “{text.from_link(bad_quarter)}”, which is not a complete "
            "quarter in "
            f"this data; showing {labels[quarter_key]}."
        )
    if bad_vs:
        st.warning(
            f"The link's {URL_VS} “{text.from_link(bad_vs)}” is not a comparison here; "
            f"comparing with {COMPARISONS[vs].lower()}."
        )
    if show_controls:
        st.session_state["r_quarter"], st.session_state["r_vs"] = quarter_key, vs
        left, right = st.columns([1, 3])
        left.selectbox("Quarter", keys, format_func=labels.get, key="r_quarter")
        right.segmented_control(
            "Compare with",
            list(COMPARISONS),
            format_func=COMPARISONS.get,
            key="r_vs",
            required=True,
        )
        quarter_key = st.session_state["r_quarter"]
        vs = components.kept_choice("r_vs", st.session_state["r_vs"], vs)
    st.query_params[URL_QUARTER] = quarter_key
    st.query_params[URL_VS] = vs
    return quarters[keys.index(quarter_key)], vs


# --- sections -------------------------------------------------------------------------------


def _money(value, currency: str) -> str:
    return formatting.money(value, currency)


def headline(data: Review) -> None:
    """Revenue reported and at constant currency, FX, margin, budget, quota, pipeline."""
    h, cur = data.headline, data.currency
    vs_base = f"vs {data.base.label}"
    first = st.columns(4)
    if data.vs == "budget":
        revenue_delta, revenue_note = formatting.change(h["vs_budget"], "money"), "vs budget"
    else:
        revenue_delta, revenue_note = formatting.change(h["growth"], "money"), vs_base
    first[0].metric(
        f"Net revenue ({cur}, reported)",
        _money(h["revenue"], cur),
        **components.delta(revenue_delta),
        delta_description=revenue_note,
        help=f"{data.base.label}: {_money(h['revenue_base'], cur)}",
        border=True,
    )
    first[1].metric(
        f"At constant currency ({cur})",
        _money(h["revenue_cc"], cur),
        **components.delta(formatting.change(h["growth_cc"], "money")),
        delta_description=vs_base,
        help=f"{data.quarter.label} valued at {data.base.label} average ECB rates.",
        border=True,
    )
    first[2].metric(
        "FX effect on growth",
        formatting.change(h["fx_effect"], "percent") or "–",
        **components.delta(formatting.signed_money(h["fx_amount"], cur)),
        delta_description="in revenue",
        help="Reported growth minus constant-currency growth; the amount is reported minus "
        "constant-currency revenue.",
        border=True,
    )
    first[3].metric(
        "Gross margin",
        formatting.percent(h["margin_pct"]),
        **components.delta(
            formatting.change(_minus(h["margin_pct"], h["margin_pct_base"]), "percent")
        ),
        delta_description=vs_base,
        help=components.margin_coverage_note(h.get("margin_coverage")),
        border=True,
    )
    # Two and four cards, not six in a row: at 1440 px six cut "Revenue vs budget" and
    # "Q4 2026 best case" short.
    second = st.columns(4)
    second[0].metric(
        "Revenue vs budget",
        formatting.change(h["vs_budget"], "money") or "No budget",
        help=h["budget_note"]
        or f"Budget {data.quarter.label}: {_money(h['budget'], cur)} (EUR budget at the "
        "quarter's plan rate).",
        border=True,
    )
    if h.get("quota_scope"):
        second[1].metric(
            "Quota (per rep)",
            formatting.money(h["quota_eur"], "EUR"),
            help=h["quota_scope"],
            border=True,
        )
    else:
        second[1].metric(
            "Attainment",
            formatting.percent(h["attainment"]),
            help=f"Quota attainment: booked {formatting.money(h['booked_eur'], 'EUR')} of "
            f"{formatting.money(h['quota_eur'], 'EUR')} quota by "
            + (f"{h['quota_holder']}, your own" if h.get("quota_holder") else "the reps in scope")
            + f" (EUR, booked {crm_attainment.BASES[review.attainment_basis(data.filters)]}).",
            border=True,
        )
    p = data.pipeline
    for column, (key, label) in zip(
        st.columns(4),
        (
            ("commit", "commit"),
            ("best_case", "best case"),
            ("pipeline", "pipeline"),
            ("quota", "quota"),
        ),
        strict=True,
    ):
        share = p.get(f"{key}_share")
        column.metric(
            f"{p['quarter']} {label}",
            _money(p.get(key), cur),
            delta=f"{formatting.percent(share, 0)} of quota"
            if share is not None and share == share and key != "quota"
            else None,
            delta_color="off",
            delta_arrow="off",  # a share of quota, not a change
            help=_pipeline_note(data),
            border=True,
        )


def basis_and_budget(data: Review) -> None:
    """The figures at plan rates (what `python -m analytics figures --basis plan` prints):
    vs budget, the budget at plan rates, actuals at plan rates and the variance split into
    operating and FX; on the plan basis vs a quarter, revenue at plan rates and its growth.
    (The constant basis is the headline's second card already.)"""
    fig, cur = review.figures(data), data.currency
    if data.vs != "budget":
        if data.filters.basis == "plan":
            st.columns(4)[0].metric(
                f"Revenue at plan rates ({cur})",
                _money(fig["revenue"], cur),
                **components.delta(formatting.change(fig["growth"], "money")),
                delta_description=f"vs {data.base.label}",
                help=f"Each quarter at its own plan rates; {data.base.label}: "
                f"{_money(fig['comparison_revenue'], cur)}.",
                border=True,
            )
        return
    h = data.headline
    if h["budget_note"]:
        st.info(h["budget_note"])
        return
    cards = st.columns(4)
    cards[0].metric(
        f"Budget ({cur}, at plan rates)",
        _money(fig["budget"], cur),
        help="The EUR budget at the quarter's plan rate: budgets are made at plan rates.",
        border=True,
    )
    cards[1].metric(
        f"Actual at plan rates ({cur})",
        _money(fig["revenue_plan"], cur),
        **components.delta(formatting.change(h["vs_budget_operating"], "money")),
        delta_description="vs budget",
        help="Each currency's revenue at the quarter's plan rates, as the budget was made.",
        border=True,
    )
    cards[2].metric(
        "Operating variance",
        formatting.signed_money(fig["variance_operating"], cur),
        help="Actual at plan rates minus budget: the gap currencies do not explain.",
        border=True,
    )
    cards[3].metric(
        "FX variance",
        formatting.signed_money(fig["variance_fx"], cur),
        help="Reported minus actual at plan rates: the gap from actual rates differing from "
        f"plan. Operating + FX = {formatting.signed_money(fig['variance'], cur)}, reported "
        "minus budget.",
        border=True,
    )


def budget_bridge_chart(data: Review, font_scale: float = 1.0) -> None:
    """Budget to actual: budget, volume, mix, price, new, FX, reported (vs budget only)."""
    if data.budget_bridge is None:
        return
    fig = charts.bridge_waterfall(
        data.budget_bridge,
        content.budget_bridge_labels(data),
        data.currency,
        review_charts.budget_bridge_title(data),
        from_zero=font_scale != 1.0,
    )
    _show(fig, "review_budget_bridge", font_scale)


def budget_by_region(data: Review) -> None:
    """The gap to budget per region and in total, split into operating and FX (vs budget,
    the presentation's slide): the scorecard's figures, to the cent."""
    if data.headline["budget_note"]:
        st.info(data.headline["budget_note"])
        return
    frame, cur = data.regions, data.currency
    table = pd.DataFrame(
        {
            "Region": frame["region"],
            f"Budget ({cur})": frame["budget"],
            f"Actual at plan rates ({cur})": frame["revenue_plan"],
            f"Operating variance ({cur})": frame["variance_operating"],
            f"FX variance ({cur})": frame["variance_fx"],
            f"Reported − budget ({cur})": frame["variance"],
        }
    )
    amounts = [c for c in table.columns if c.endswith(f"({cur})")]
    styled = (
        table.style.format(dict.fromkeys(amounts, "{:,.2f}"), na_rep="–")
        .map(_sign_colour, subset=amounts[2:])
        .apply(
            lambda row: ["font-weight: 700" if row["Region"] == review.TOTAL else ""] * len(row),
            axis=1,
        )
    )
    st.dataframe(styled, hide_index=True, width="stretch", key="review_budget_regions")


BUDGET_BRIDGE_NOTE = bridge.BUDGET_BRIDGE_DEFINITION


def _minus(a, b):
    return None if a is None or b is None else a - b


def _pipeline_note(data: Review) -> str:
    p = data.pipeline
    if p["snapshot_date"] is None:
        return f"No pipeline snapshot on or before {data.quarter.end:%d %b %Y}."
    return f"{p['deals']} deals. " + pipeline_rule(p["snapshot_date"]) + p["unconverted_note"]


def bridge_labels(data: Review) -> dict[str, str]:
    return EFFECT_LABELS | {"base": data.base.label, "current": data.quarter.label}


def bridge_chart(data: Review, font_scale: float = 1.0) -> None:
    fig = charts.bridge_waterfall(
        data.bridge,
        bridge_labels(data),
        data.currency,
        f"Revenue bridge {data.base.label} → {data.quarter.label} — {data.currency}, reported",
        from_zero=font_scale != 1.0,  # on the big screen the whole axis, never a cut one
    )
    _show(fig, "review_bridge", font_scale)


BRIDGE_NOTE = content.BRIDGE_NOTE


def bridge_drivers(data: Review) -> None:
    """Which countries or products drive one effect of the bridge."""
    left, right = st.columns([3, 1])
    st.session_state.setdefault("r_effect", "price")
    effect = left.segmented_control(
        "Effect",
        review.DRIVER_EFFECTS,
        format_func=EFFECT_LABELS.get,
        key="r_effect",
        required=True,
    )
    effect = components.kept_choice("r_effect", effect, "price")
    by = right.selectbox(
        "By",
        list(review.DRIVER_DIMENSIONS),
        format_func=review.DRIVER_DIMENSIONS.get,
        key="r_driver_by",
    )
    # By country (the default) they are the country movers the review already holds.
    frame = data.country_movers if by == "country" else review.drivers(data.items, by)
    label = {
        "country": "country",
        "region": "region",
        "product": "product",
        "product_line": "product_line",
    }[by]
    top = frame.reindex(frame[effect].abs().sort_values(ascending=False).index).head(12)
    top = top[top[effect] != 0]
    if top.empty:
        components.empty_state(
            f"No {EFFECT_LABELS[effect].lower()} effect",
            "Nothing in this selection contributes to it.",
        )
        return
    st.plotly_chart(
        charts.signed_bars(
            top,
            label,
            effect,
            data.currency,
            f"Who drives {EFFECT_LABELS[effect].lower()}: top {len(top)} by "
            f"{review.DRIVER_DIMENSIONS[by].lower()} — {data.currency}, "
            f"{data.base.label} → {data.quarter.label}",
        ),
        config=CHART_CONFIG,
        key="review_drivers",
    )
    cur = data.currency
    table = pd.DataFrame(
        {review.DRIVER_DIMENSIONS[by]: frame[label]}
        | {f"{EFFECT_LABELS[e]} ({cur})": frame[e] for e in review.DRIVER_EFFECTS}
        | {f"Change ({cur})": frame["change"], "Reason": frame["reason"]}
    )
    money = st.column_config.NumberColumn(format="localized")
    amounts = [c for c in table.columns if c.endswith(f"({cur})")]
    with st.expander(f"Every {review.DRIVER_DIMENSIONS[by].lower()}'s part of the bridge"):
        components.table_with_downloads(
            table.round(dict.fromkeys(amounts, 0)),
            dict.fromkeys(amounts, money),
            f"bridge_drivers_{by}",
            "bridge_drivers",
            export_frame=table,
        )


def awaiting_rate(data: Review) -> None:
    """The order lines of the review's two quarters left out until their rates arrive."""
    held = components.awaiting_note(data.filters)
    if held:
        st.warning(held)


def scorecard(data: Review) -> None:
    """Region x headline metrics with conditional colours; downloadable."""
    frame, cur = data.regions, data.currency
    table = pd.DataFrame(
        {
            "Region": frame["region"],
            f"Net revenue ({cur})": frame["revenue"],
            f"{data.base.label} ({cur})": frame["revenue_base"],
            "Growth": frame["growth"],
            "Growth at constant currency": frame["growth_cc"],
            "FX effect (pp)": frame["fx_effect"] * 100,
            "Gross margin %": frame["margin_pct"],
            "Margin change (pp)": frame["margin_change"] * 100,
            f"Budget ({cur})": frame["budget"],
            "vs budget": frame["vs_budget"],
            f"At plan rates ({cur})": frame["revenue_plan"],
            f"Operating variance ({cur})": frame["variance_operating"],
            f"FX variance ({cur})": frame["variance_fx"],
            "Quota attainment": frame["attainment"],
        }
    )
    amounts = [c for c in table.columns if c.endswith(f"({cur})")]
    styled = (
        table.round(dict.fromkeys(amounts, 0))  # on screen in whole units; downloads exact
        .style.map(
            _sign_colour,
            subset=["Growth", "Growth at constant currency", "vs budget", "Margin change (pp)"],
        )
        .map(_attainment_colour, subset=["Quota attainment"])
        .apply(
            lambda row: ["font-weight: 700" if row["Region"] == review.TOTAL else ""] * len(row),
            axis=1,
        )
    )
    percent = st.column_config.NumberColumn(format="percent")
    money = st.column_config.NumberColumn(format="localized")
    pp = st.column_config.NumberColumn(format="%+.1f")
    config = dict.fromkeys(amounts, money)
    config |= {
        c: percent
        for c in (
            "Growth",
            "Growth at constant currency",
            "vs budget",
            "Quota attainment",
        )
    }
    config["Quota attainment"] = st.column_config.NumberColumn(
        format="percent",
        help=f"Booked revenue {crm_attainment.BASES[review.attainment_basis(data.filters)]} "
        "/ quota (EUR).",
    )
    config["Gross margin %"] = components.margin_column(data.headline.get("margin_coverage"))
    config |= {"FX effect (pp)": pp, "Margin change (pp)": pp}
    components.table_with_downloads(
        styled, config, "regional_scorecard", "review_scorecard", export_frame=table
    )


def _sign_colour(value) -> str:
    if pd.isna(value):
        return ""
    return "color: #1a7f37" if value > 0 else "color: #c73e1d" if value < 0 else ""


def _attainment_colour(value) -> str:
    if pd.isna(value):
        return ""
    return "color: #1a7f37" if value >= 1 else "color: #c73e1d" if value < 0.9 else "color: #b26b00"


def movers(data: Review, n: int = review.MOVERS_SHOWN, with_tables: bool = True) -> None:
    """Countries and accounts that gained and lost most, with the bridge's reason."""
    cur = data.currency
    countries = review.top_movers(data.country_movers, n)
    accounts = review.top_movers(data.account_movers, n)
    left, right = st.columns(2)
    period = f"{data.base.label} → {data.quarter.label}"
    with left:
        _movers_chart(
            countries.assign(name=countries["country"]),
            cur,
            f"Countries: largest gains and losses — {cur}, {period}",
            "review_countries",
        )
    with right:
        _movers_chart(
            accounts.assign(name=accounts["customer"]),
            cur,
            f"Accounts: largest gains and losses — {cur}, {period}",
            "review_accounts",
        )
    if not with_tables:
        return
    money = st.column_config.NumberColumn(format="localized")
    percent = st.column_config.NumberColumn(format="percent")
    tables = {
        "country_movers": pd.DataFrame(
            {
                "Country": countries["country"],
                "Region": countries["region"],
                f"{data.base.label} ({cur})": countries["r0"],
                f"{data.quarter.label} ({cur})": countries["r1"],
                f"Change ({cur})": countries["change"],
                "Growth": countries["growth"],
                "Main reason": countries["reason"],
            }
        ),
        "account_movers": pd.DataFrame(
            {
                "Account": accounts["customer"],
                "Country": accounts["country"],
                "Segment": accounts["segment"],
                f"{data.base.label} ({cur})": accounts["r0"],
                f"{data.quarter.label} ({cur})": accounts["r1"],
                f"Change ({cur})": accounts["change"],
                "Growth": accounts["growth"],
                "Main reason": accounts["reason"],
            }
        ),
    }
    for (stem, table), column in zip(tables.items(), st.columns(2), strict=True):
        with column:
            amounts = [c for c in table.columns if c.endswith(f"({cur})")]
            components.table_with_downloads(
                table.round(dict.fromkeys(amounts, 0)),
                dict.fromkeys(amounts, money) | {"Growth": percent},
                stem,
                stem,
                export_frame=table,
            )
    st.caption(
        "Main reason: the bridge effect that explains most of the change in its direction. For "
        "a country, volume counts its volume and mix together; for an account, volume is its "
        "change in units at its own base average price and the rest at base rates is price & mix."
    )


def _movers_chart(frame: pd.DataFrame, currency: str, title: str, key: str) -> None:
    if frame.empty:
        components.empty_state("No movers", "Nothing changed between the two quarters.")
        return
    labelled = frame.assign(label=frame["name"] + " · " + frame["reason"])
    st.plotly_chart(
        charts.signed_bars(labelled, "label", "change", currency, title),
        config=PRESENT_CHART_CONFIG if presenting() else CHART_CONFIG,
        key=key,
    )


def pipeline(data: Review, font_scale: float = 1.0) -> None:
    p = data.pipeline
    if p["snapshot_date"] is None:
        components.empty_state(
            f"No pipeline for {p['quarter']}",
            f"The store holds no weekly pipeline snapshot on or before {data.quarter.end:%d %b %Y}.",
        )
        return
    fig = charts.pipeline_bars(
        p,
        data.currency,
        f"Pipeline due in {p['quarter']} vs quota — {data.currency}, "
        f"snapshot of {p['snapshot_date']:%d %b %Y}",
    )
    _show(fig, "review_pipeline", font_scale)
    whose = data.headline.get("quota_holder")
    st.caption(
        _pipeline_note(data)
        + (
            f" Deals and quota: {whose}'s own"
            if whose
            else " Quota: the reps in the selected regions"
        )
        + ", in EUR, converted at the snapshot day's rate."
    )
    if data.headline.get("quota_scope"):
        st.caption(data.headline["quota_scope"])


def _show(fig, key: str, font_scale: float) -> None:
    """Draw a chart; in the meeting room with larger type, which Streamlit's chart theme
    would reset, so the theme is off there."""
    presenting_now = font_scale != 1.0
    if presenting_now:
        fig = go.Figure(fig)  # a copy: the screen's figure is shared (ui/charts/memo.py)
        fig.update_layout(
            font_size=13 * font_scale,
            title_font_size=17 * font_scale,
            height=PRESENT_CHART_HEIGHT,
            template="plotly_white",
        )
    st.plotly_chart(
        fig,
        config=PRESENT_CHART_CONFIG if presenting_now else CHART_CONFIG,
        key=key,
        theme=None if presenting_now else "streamlit",
    )


# --- presentation mode ----------------------------------------------------------------------

SLIDES = ("Headline", "Revenue bridge", "Regional scorecard", "Top movers", "Next quarter")
# Vs budget, after the revenue bridge: the gap to budget split into operating and FX, in
# total with the budget bridge, then per region.
BUDGET_SLIDES = ("Budget to actual", "Gap to budget by region")


def slides(data: Review) -> tuple[str, ...]:
    """The presentation's slides for this review, in order."""
    if data.vs != "budget":
        return SLIDES
    return (*SLIDES[:2], *BUDGET_SLIDES, *SLIDES[2:])


PRESENTATION_CSS = """
<style>
section[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"],
header[data-testid="stHeader"], [data-testid="stToolbar"] { display: none !important; }
[data-testid="stMainBlockContainer"] { max-width: 100%; padding: 1.5rem 3rem 1rem; }
[data-testid="stMarkdownContainer"] p, [data-testid="stCaptionContainer"] { font-size: 1.3rem; }
[data-testid="stMetricLabel"] p { font-size: 1.3rem; }
[data-testid="stMetricValue"], [data-testid="stMetricValue"] * { font-size: 2.8rem !important; }
[data-testid="stMetricDelta"], [data-testid="stMetricDelta"] * { font-size: 1.3rem !important; }
h1 { font-size: 3rem !important; }
</style>
"""


def presenting() -> bool:
    return st.query_params.get(URL_PRESENT) == "1"


def go_to_slide(slide: int | None) -> None:
    if slide is None:
        for param in (URL_PRESENT, URL_SLIDE):
            st.query_params.pop(param, None)
    else:
        st.query_params[URL_PRESENT] = "1"
        st.query_params[URL_SLIDE] = str(slide)


def present_button() -> None:
    st.button(
        "▶ Present",
        on_click=go_to_slide,
        args=(1,),
        key="r_present",
        help="Full screen slides for the meeting room: one section per slide.",
    )


def current_slide(count: int) -> int:
    asked = st.query_params.get(URL_SLIDE, "1")
    try:
        number = int(asked)
    except ValueError:
        number = 1
    shown = min(max(number, 1), count)
    links.not_a_choice(URL_SLIDE, None if str(shown) == asked else asked, f"slide {shown}")
    return shown


def presentation(data: Review) -> None:
    """One section per slide, large type, no sidebar, the stamp on every slide."""
    st.markdown(PRESENTATION_CSS, unsafe_allow_html=True)
    shown = slides(data)
    number = current_slide(len(shown))
    name = shown[number - 1]
    titles = {
        "Headline": f"{data.quarter.label} vs {data.vs_label}",
        "Next quarter": f"Pipeline for {data.pipeline['quarter']}",
        # The budget slides name their currency and basis in the title, not only the stamp.
        "Budget to actual": f"Budget to actual — {data.quarter.label} · {data.currency}, "
        f"{content.BUDGET_BASIS}",
        "Gap to budget by region": f"Gap to budget by region — {data.quarter.label} · "
        f"{data.currency}, {content.BUDGET_BASIS}",
    }
    st.title(titles.get(name, f"{name} — {data.quarter.label}"))
    st.caption(text.md(data.stamp()))
    # The slide buttons sit under the title, where no slide's content can push them below
    # the bottom of a 900 px screen.
    back, position, forward, leave = st.columns([1, 2, 1, 1])
    back.button(
        "◀ Previous",
        on_click=go_to_slide,
        args=(number - 1,),
        disabled=number == 1,
        key="r_prev",
        width="stretch",
    )
    position.markdown(f"**Slide {number} of {len(shown)}** · {name}")
    forward.button(
        "Next ▶",
        on_click=go_to_slide,
        args=(number + 1,),
        disabled=number == len(shown),
        key="r_next",
        width="stretch",
    )
    leave.button("✕ Exit", on_click=go_to_slide, args=(None,), key="r_exit", width="stretch")
    if name == "Headline":
        headline(data)
    elif name == "Revenue bridge":
        bridge_chart(data, font_scale=1.4)
    elif name == "Budget to actual":
        basis_and_budget(data)
        budget_bridge_chart(data, font_scale=1.4)
    elif name == "Gap to budget by region":
        budget_by_region(data)
    elif name == "Regional scorecard":
        scorecard(data)
    elif name == "Top movers":
        movers(data, with_tables=False)
    else:
        pipeline(data, font_scale=1.4)


# --- exports --------------------------------------------------------------------------------


def exports(data: Review) -> None:
    """Download the review as a deck (PPTX), a PDF and an offline HTML report; files are
    built when their button is clicked."""
    stem = content.file_stem(data)
    version = cache.database_version()  # read now: the files are built on a click
    columns = st.columns(3)
    columns[0].download_button(
        "Download PPTX deck",
        lambda: deck.to_pptx(data, forecast_view.export_summary(version, data)),
        f"{stem}.pptx",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        key="r_pptx",
        on_click="ignore",
        help="Native PowerPoint charts: their data stays editable.",
    )
    reason = images.unavailable_reason()
    columns[1].download_button(
        "Download PDF",
        lambda: pdf.to_pdf(data, charts.review_figures(data)),
        f"{stem}.pdf",
        "application/pdf",
        key="r_pdf",
        on_click="ignore",
        disabled=reason is not None,
        help=reason or "The app's charts as images; takes a few seconds.",
    )
    columns[2].download_button(
        "Download HTML report",
        lambda: html.to_html(data, forecast_view.export_summary(version, data)).encode("utf-8"),
        f"{stem}.html",
        "text/html",
        key="r_html",
        on_click="ignore",
        help="One file that opens offline in any browser.",
    )
    if reason:
        st.warning(reason)


def exit_button() -> None:
    """The way out of presentation mode when a slide cannot be drawn."""
    st.button("✕ Exit presentation", on_click=go_to_slide, args=(None,))
