"""Screen parts of the Forecast page: one view at a time (the series forecast and its track
record, the year-end landing, the pipeline projection, the web channel), chosen in the URL
as f_view; the level and series as f_level and f_series.

Every figure comes from the store's forecast, computed once per store version
(cache.forecast_store), and is shown in the reporting currency at one stated rate
(analytics.forecast.figures.Shown)."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from analytics import formatting
from analytics.catalog import Catalog
from analytics.crm.scope import Scope
from analytics.forecast import accuracy, figures, projection
from analytics.forecast.batch import MAX_MONTHS, SeriesForecast, StoreForecast
from analytics.forecast.figures import LEVEL_LABELS, WEB, Shown
from analytics.forecast.series import TOTAL, NoHistory
from analytics.review import Review
from ui import cache, components, links, text
from ui.charts import forecast as charts

VIEWS = ("Forecast", "Year-end landing", "Pipeline projection", "Web channel")
CHART_CONFIG = {"displaylogo": False}
HISTORY_MONTHS = 36  # the chart shows three years of actuals before the forecast
MONEY = st.column_config.NumberColumn(format="localized")
PERCENT = st.column_config.NumberColumn(format="percent")


def _url_choice(key: str, options: list[str], default: str) -> None:
    """Seed a widget's state from the link once; keep it valid when its options change."""
    state = st.session_state
    if key not in state:
        asked = st.query_params.get(key)
        state[key] = asked if asked in options else default
        links.not_a_choice(key, None if asked in options else asked, str(default))
    elif state[key] not in options:
        state[key] = default


def view_choice() -> str:
    _url_choice("fc_view", list(VIEWS), VIEWS[0])
    chosen = st.segmented_control("View", VIEWS, key="fc_view", label_visibility="collapsed")
    chosen = chosen or VIEWS[0]
    st.query_params["fc_view"] = chosen
    return chosen


def load(version: str, catalog: Catalog) -> StoreForecast | None:
    """The store's forecast as of its last sale, or an empty state saying why there is none."""
    try:
        return cache.forecast_store(version, catalog.last_date)
    except NoHistory as problem:
        components.empty_state(
            "Not enough history to forecast",
            f"{problem} A forecast needs at least one complete month; seasonal naive, the "
            "simplest model, needs thirteen.",
        )
        return None


def shown_in(version: str, store: StoreForecast, currency: str) -> Shown:
    return cache.forecast_shown_in(version, currency, store.window.as_of)


def _group_label(level: str, group: str, catalog: Catalog) -> str:
    return catalog.country_name(group) if level == "country" else group


def series_choice(store: StoreForecast, catalog: Catalog) -> tuple[str, str]:
    """The level (total, region, country, product line, channel) and the series in it."""
    levels = list(LEVEL_LABELS)
    _url_choice("fc_level", levels, "total")
    left, right = st.columns([3, 2])
    level = left.radio(
        "Level", levels, format_func=LEVEL_LABELS.get, key="fc_level", horizontal=True
    )
    groups = [s.group for s in store.at_level(level)] + [
        g for lv, g, _ in store.skipped if lv == level
    ]
    groups = sorted(set(groups), key=lambda g: _group_label(level, g, catalog))
    if not groups:
        return level, ""
    _url_choice("fc_series", groups, TOTAL if TOTAL in groups else groups[0])
    group = right.selectbox(
        "Series",
        groups,
        format_func=lambda g: _group_label(level, g, catalog),
        key="fc_series",
        disabled=level == "total",
    )
    st.query_params["fc_level"], st.query_params["fc_series"] = level, group
    return level, group


def months_choice() -> int:
    return st.slider("Months ahead", 1, MAX_MONTHS, 12, key="fc_months")


def find(store: StoreForecast, level: str, group: str) -> SeriesForecast | None:
    """The series' forecast, or None after an empty state when its history is too short."""
    for lv, g, why in store.skipped:
        if (lv, g) == (level, group):
            components.empty_state(
                "History too short to forecast",
                f"{text.md(g)}: {why} Seasonal naive, the simplest model, forecasts a month by the same "
                "month a year earlier, so it needs a year and a month of sales.",
            )
            return None
    return store.find(level, group)


# --- the series forecast ----------------------------------------------------------------------


def _landing_metrics(landing: pd.Series | None, shown: Shown, year: int) -> None:
    cur = shown.currency
    cols = st.columns(3)
    if landing is None:
        return
    cols[0].metric(
        f"Year-end landing {year} ({cur})",
        formatting.money(landing["landing"], cur),
        help=(
            f"Actual {int(landing['months_actual'])} months to date "
            f"{formatting.money(landing['actual_to_date'], cur)} + forecast of the "
            f"{int(landing['months_forecast'])} months left "
            f"{formatting.money(landing['forecast_rest'], cur)}."
        ),
        border=True,
    )
    cols[1].metric(
        "80 % interval",
        f"{formatting.money(landing['lo80'], cur)} – {formatting.money(landing['hi80'], cur)}",
        help=(
            f"95 %: {formatting.money(landing['lo95'], cur)} – "
            f"{formatting.money(landing['hi95'], cur)}"
        ),
        border=True,
    )
    if landing["budget"] == landing["budget"]:
        cols[2].metric(
            f"Budget {year} ({cur})",
            formatting.money(landing["budget"], cur),
            delta=f"{formatting.percent(landing['versus_budget_pct'])} landing vs budget",
            border=True,
        )
    else:
        cols[2].metric(
            f"Budget {year}",
            "–",
            help="Budgets are kept per country and product line, not per channel.",
            border=True,
        )


def series_landing(version: str, store: StoreForecast, level: str, group: str, shown: Shown):
    landings = cache.forecast_landings(version, store.window.as_of, level)
    frame = figures.landing_frame([x for x in landings if x.group == group], shown)
    return None if frame.empty else frame.iloc[0]


def series_view(
    version: str,
    store: StoreForecast,
    item: SeriesForecast,
    months: int,
    shown: Shown,
    label: str,
    key: str,
) -> None:
    """Landing, chart, forecast table, model and back-test of one series."""
    year = store.window.as_of.year
    _landing_metrics(series_landing(version, store, item.level, item.group, shown), shown, year)
    frame = figures.series_frame(item, months, shown)
    recent = frame.tail(HISTORY_MONTHS + months)
    st.plotly_chart(
        charts.forecast_chart(
            recent,
            f"{label}: net revenue per month, actual and forecast {months} months ahead "
            f"({shown.currency})",
            shown.axis(),
        ),
        config=CHART_CONFIG,
        key=f"{key}_chart",
    )
    st.caption(shown.note() + " Intervals are not clipped at zero.")
    left, right = st.columns([3, 2])
    with left:
        st.markdown("**Forecast by month**")
        ahead = frame[frame["forecast"].notna()]
        cur = shown.currency
        table = pd.DataFrame(
            {
                "Month": [f"{m:%b %Y}" for m in ahead["month"]],
                f"Forecast ({cur})": ahead["forecast"].round(0),
                "80 % low": ahead["lo80"].round(0),
                "80 % high": ahead["hi80"].round(0),
                "95 % low": ahead["lo95"].round(0),
                "95 % high": ahead["hi95"].round(0),
            }
        )
        components.table_with_downloads(
            table,
            {c: MONEY for c in table.columns[1:]},
            f"forecast_{item.level}_{item.group}".replace(" ", "_"),
            f"{key}_table",
        )
    with right:
        model_view(item)


def model_view(item: SeriesForecast) -> None:
    """The chosen model and its back-test error beside seasonal naive."""
    st.markdown(f"**Model: {item.chosen}**")
    scores = figures.scores_frame(item)
    if scores.empty:
        st.caption(item.method_note)
        return
    table = pd.DataFrame(
        {
            "Model": [
                f"{m} ✓" if c else m for m, c in zip(scores["model"], scores["chosen"], strict=True)
            ],
            "wMAPE": scores["wmape"],
            "MASE": scores["mase"],
        }
    )
    st.dataframe(
        table,
        column_config={"wMAPE": PERCENT, "MASE": st.column_config.NumberColumn(format="%.2f")},
        hide_index=True,
        width="stretch",
    )
    st.caption(
        item.method_note + " wMAPE: absolute errors over actuals; MASE: mean absolute error "
        "over seasonal naive's in-sample year-on-year error (below 1 beats it)."
    )


def track_record_view(
    version: str, store: StoreForecast, item: SeriesForecast, shown: Shown, label: str
) -> None:
    """The chosen model's forecast made N months ago against what then happened."""
    st.subheader("Track record")
    most = figures.max_months_ago(item)
    if most < 1:
        components.empty_state(
            "No track record yet",
            f"{text.md(label)} has {len(item.history.values)} months of history; re-making a "
            "past "
            f"forecast with {item.chosen} needs more months before it.",
        )
        return
    state = st.session_state
    if state.get("fc_ago") is None or state["fc_ago"] > most:  # a shorter series than before
        state["fc_ago"] = min(6, most)
    # A slider needs two values to choose between.
    months_ago = st.slider("Forecast made … months ago", 1, most, key="fc_ago") if most > 1 else 1
    made = cache.forecast_track_record(
        version, store.window.as_of, item.level, item.group, months_ago, shown.currency
    )
    origin = made["month"].iloc[0]
    st.plotly_chart(
        charts.track_record_chart(
            made,
            f"{label}: the forecast {item.chosen} made {months_ago} months ago "
            f"(data to {_month_before(origin):%b %Y}) against what happened ({shown.currency})",
            shown.axis(),
        ),
        config=CHART_CONFIG,
        key="fc_track_chart",
    )
    inside = ((made["actual"] >= made["lo80"]) & (made["actual"] <= made["hi80"])).sum()
    error = accuracy.wmape(made["actual"], made["forecast"])
    st.caption(
        f"The model fitted again on the months up to {_month_before(origin):%b %Y} only. "
        f"wMAPE over these {months_ago} months {formatting.percent(error)}; {inside} of "
        f"{months_ago} actual months inside the 80 % interval."
    )


def _month_before(month: dt.date) -> dt.date:
    return (month - dt.timedelta(days=1)).replace(day=1)


# --- year-end landing --------------------------------------------------------------------------


def landing_view(version: str, store: StoreForecast, shown: Shown) -> pd.DataFrame:
    """The year-end landing per region and in total, against budget, with intervals."""
    as_of, year = store.window.as_of, store.window.as_of.year
    regions = cache.forecast_landings(version, as_of, "region")
    total = cache.forecast_landings(version, as_of, "total")
    frame = figures.landing_frame([*regions, *total], shown)
    cur = shown.currency
    st.plotly_chart(
        charts.landing_chart(
            frame[frame["group"] != TOTAL],
            f"Where {year} will land per region, with its 80 % interval, against budget ({cur})",
            shown.axis(),
        ),
        config=CHART_CONFIG,
        key="fc_landing_chart",
    )
    table = pd.DataFrame(
        {
            "Region": frame["group"],
            f"Actual to date ({cur})": frame["actual_to_date"].round(0),
            f"Forecast rest of year ({cur})": frame["forecast_rest"].round(0),
            f"Landing ({cur})": frame["landing"].round(0),
            "80 % low": frame["lo80"].round(0),
            "80 % high": frame["hi80"].round(0),
            "95 % low": frame["lo95"].round(0),
            "95 % high": frame["hi95"].round(0),
            f"Budget ({cur})": frame["budget"].round(0),
            f"Landing vs budget ({cur})": frame["versus_budget"].round(0),
            "vs budget %": frame["versus_budget_pct"],
        }
    )
    config = {c: MONEY for c in table.columns[1:-1]} | {"vs budget %": PERCENT}
    components.table_with_downloads(table, config, f"year_end_landing_{year}", "fc_landing")
    months_actual = int(frame["months_actual"].iloc[-1]) if len(frame) else 0
    st.caption(
        f"Landing = actual {months_actual} months of {year} to date + the forecast of the "
        "months left; the interval sums each simulated path of the chosen model, so the "
        f"months' errors add up as the model says. {shown.note()} Budget: the budgets table's "
        "EUR figure at the same rate."
    )
    return frame


# --- pipeline projection -------------------------------------------------------------------------


def projection_scope(level: str, group: str, currency: str) -> Scope | None:
    """The deals a series covers: all, a region's or a country's; None for product lines and
    channels, which deals do not carry."""
    if level == "total":
        return Scope(currency=currency)
    if level == "region":
        return Scope(regions=(group,), currency=currency)
    if level == "country":
        return Scope(countries=(group,), currency=currency)
    return None


def projection_view(
    version: str, item: SeriesForecast | None, level: str, group: str, shown: Shown, label: str
) -> pd.DataFrame | None:
    """The three lines for this and next quarter: pipeline projection, statistical forecast,
    reps' commit; and the stage rates behind the projection."""
    scope = projection_scope(level, group, shown.currency)
    if scope is None:
        components.empty_state(
            "No pipeline projection per " + LEVEL_LABELS[level].lower(),
            "Deals carry a country but no product line or channel, so the pipeline can be "
            "projected for the total, a region or a country. Choose one of those levels.",
        )
        return None
    found = cache.pipeline_projection(version, scope)
    if found is None:
        components.empty_state(
            "No pipeline snapshots",
            "Import your CRM's opportunity export on the Data page: each import records that "
            "day's open deals as a snapshot.",
        )
        return None
    rates, quarters = found
    comparison = projection.comparison(quarters, item, shown.rate)
    cur = shown.currency
    st.plotly_chart(
        charts.projection_chart(
            comparison,
            f"{label}: this quarter and next — pipeline projection, statistical forecast and "
            f"reps' commit ({cur})",
            cur,
        ),
        config=CHART_CONFIG,
        key="fc_projection_chart",
    )
    snapshot = quarters[0].snapshot
    table = pd.DataFrame(
        {
            "Quarter": comparison["quarter"],
            f"Pipeline projection ({cur})": comparison["pipeline_projection"].round(0),
            f"Statistical forecast ({cur})": comparison["statistical_forecast"].round(0),
            "Months forecast": comparison["forecast_months"],
            f"Reps' commit ({cur})": comparison["reps_commit"].round(0),
            f"Closed won to date ({cur})": comparison["won_to_date"].round(0),
            "Open deals due": [q.open_deals for q in quarters],
        }
    )
    config = {c: MONEY for c in table.columns if c.endswith(f"({cur})")}
    config["Months forecast"] = st.column_config.NumberColumn(format="%d")
    components.table_with_downloads(table, config, "pipeline_projection", "fc_projection")
    missing = sorted({s for q in quarters for s in q.unmeasured_stages})
    if missing:
        st.warning(
            f"No closed deals in the history for stage {', '.join(map(text.md, missing))}, so "
            "its win and "
            "slippage rates cannot be measured and the projection is left out."
        )
    st.caption(
        f"Pipeline projection = closed won to date + Σ open deals due in the quarter × "
        f"P(win | stage) × P(closes in its due quarter | won, stage), both measured on the "
        f"weekly snapshots before {snapshot:%d %b %Y} (one observation per deal and week). "
        f"Deals as in that snapshot, omitted ones excluded, at that day's ECB rate into {cur}, "
        f"as the reps' commit (closed won + open commit). The statistical forecast is of net "
        f"revenue from order lines, not deal amounts: {shown.note()}"
    )
    rate_table = pd.DataFrame(
        {
            "Stage": rates["stage"],
            "Closed deal-weeks": rates["closed_weeks"],
            "P(win)": rates["p_win"],
            "P(in due quarter), this quarter": rates["p_in_quarter_0"],
            "P(in due quarter), next quarter": rates["p_in_quarter_1"],
        }
    )
    with st.expander("Stage conversion and slippage behind the projection"):
        st.dataframe(
            rate_table,
            column_config={c: PERCENT for c in rate_table.columns if c.startswith("P(")},
            hide_index=True,
            width="stretch",
        )
    return comparison


# --- exports --------------------------------------------------------------------------------


def export_summary(version: str, data: Review) -> figures.Summary | None:
    """The forecast and year-end landing for the review's deck and HTML report, as at the
    review quarter's end (or the data date if earlier); None when the store cannot forecast."""
    as_of = figures.review_as_of(data.quarter.end, data.data_date)
    try:
        store = cache.forecast_store(version, as_of)
    except NoHistory:
        return None
    shown = cache.forecast_shown_in(version, data.currency, as_of)
    regions = cache.forecast_landings(version, as_of, "region")
    total = cache.forecast_landings(version, as_of, "total")
    return figures.summary(store, regions, total, shown)


def web_item(store: StoreForecast) -> SeriesForecast | None:
    return next((s for s in store.at_level("channel") if s.group == WEB), None)
