"""Plotly figure builders: plain Plotly, no Streamlit, so they can be tested on their own.

Every chart carries a title that says what, in which currency, for which period; axes
carry units; series are sorted so the largest comes first.
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from analytics import formatting
from analytics.periods import Period

FONT = "Inter, Segoe UI, Helvetica, Arial, sans-serif"
REGION_COLOURS = [
    "#1f4e79",
    "#2e86ab",
    "#f18f01",
    "#c73e1d",
    "#6a994e",
    "#7b2cbf",
    "#8d99ae",
    "#e9c46a",
]
TOPOJSON_URL = "/app/static/"  # Streamlit static serving of static/world_110m.json


def _layout(fig: go.Figure, title: str, height: int = 420) -> go.Figure:
    fig.update_layout(
        title={"text": title, "x": 0, "xanchor": "left", "font": {"size": 17}},
        font={"family": FONT, "size": 13},
        height=height,
        margin={"l": 10, "r": 10, "t": 60, "b": 10},
        plot_bgcolor="white",
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.0, "x": 0, "title": None},
        hoverlabel={"font": {"family": FONT}},
    )
    return fig


def revenue_trend(
    trend: pd.DataFrame, currency: str, basis_label: str, period: Period
) -> go.Figure:
    """Monthly net revenue by region as lines; the selected period is shaded."""
    totals = trend.groupby("region")["revenue"].sum().sort_values(ascending=False)
    fig = go.Figure()
    for colour, region in zip(REGION_COLOURS * 3, totals.index, strict=False):
        rows = trend[trend["region"] == region]
        fig.add_trace(
            go.Scatter(
                x=rows["month"],
                y=rows["revenue"],
                name=region,
                mode="lines+markers",
                line={"color": colour, "width": 2.5},
                marker={"size": 5},
                hovertemplate=f"%{{x|%b %Y}}<br>{region}: %{{y:,.0f}} {currency}<extra></extra>",
            )
        )
    fig.add_vrect(
        x0=pd.Timestamp(period.start),
        x1=pd.Timestamp(period.end),
        fillcolor="#1f4e79",
        opacity=0.07,
        line_width=0,
        annotation_text="Selected period",
        annotation_position="top left",
    )
    fig.update_xaxes(title=None, dtick="M3", tickformat="%b %Y", showgrid=False)
    fig.update_yaxes(
        title=f"Net revenue ({currency})", tickformat="~s", gridcolor="#e5e5e5", rangemode="tozero"
    )
    return _layout(fig, f"Monthly net revenue by region — {currency}, {basis_label}")


def country_map(
    countries: pd.DataFrame, measure: str, currency: str, period_label: str
) -> go.Figure:
    """World choropleth of net revenue or growth by country (ISO-3 codes)."""
    if measure == "growth":
        values = countries["growth"] * 100
        bound = max(
            5.0, min(50.0, float(values.abs().quantile(0.9))) if values.notna().any() else 50.0
        )
        colour = {"colorscale": "RdBu", "zmid": 0, "zmin": -bound, "zmax": bound}
        bar_title, hover = "Growth %", "%{customdata[0]}<br>Growth: %{z:+.1f}%<extra></extra>"
        title = f"Growth by country vs comparison period — {period_label}"
    else:
        values = countries["revenue"]
        colour = {"colorscale": "Blues"}
        bar_title = f"Net revenue ({currency})"
        hover = f"%{{customdata[0]}}<br>Net revenue: %{{z:,.0f}} {currency}<extra></extra>"
        title = f"Net revenue by country — {currency}, {period_label}"
    fig = go.Figure(
        go.Choropleth(
            locations=countries["iso3"],
            z=values,
            customdata=countries[["country"]],
            locationmode="ISO-3",
            marker={"line": {"color": "white", "width": 0.5}},
            colorbar={"title": {"text": bar_title}, "thickness": 12},
            hovertemplate=hover,
            **colour,
        )
    )
    fig.update_geos(
        projection_type="natural earth",
        showframe=False,
        showcoastlines=False,
        showcountries=True,
        countrycolor="#d0d0d0",
        showland=True,
        landcolor="#f2f2f2",
        lataxis_range=[-58, 85],
    )
    return _layout(fig, title, height=460)


def market_bars(
    frame: pd.DataFrame, key: str, label: str, currency: str, title: str, height: int = 420
) -> go.Figure:
    """Horizontal bars of net revenue, largest on top, coloured by growth; click to drill.

    `frame` has columns `key` (what a click selects), `label`, revenue and growth_prior.
    """
    rows = frame.sort_values("revenue", ascending=True)
    growth = rows["growth_prior"] * 100
    bound = max(5.0, min(50.0, float(growth.abs().max()))) if growth.notna().any() else 50.0
    fig = go.Figure(
        go.Bar(
            x=rows["revenue"],
            y=rows[label],
            orientation="h",
            customdata=rows[[key]],
            marker={
                "color": growth,
                "colorscale": "RdBu",
                "cmid": 0,
                "cmin": -bound,
                "cmax": bound,
                "colorbar": {"title": {"text": "Growth %"}, "thickness": 12},
            },
            hovertemplate=(
                f"%{{y}}<br>Net revenue: %{{x:,.0f}} {currency}"
                "<br>Growth: %{marker.color:+.1f}%<extra></extra>"
            ),
        )
    )
    fig.update_xaxes(title=f"Net revenue ({currency})", tickformat="~s", gridcolor="#e5e5e5")
    fig.update_yaxes(title=None)
    return _layout(fig, title, height=max(height, 28 * len(rows) + 120))


QUADRANTS = (
    # (x side, y side, label): x = market size, y = penetration, split at the medians
    ("high", "low", "Invest: large market, low share"),
    ("high", "high", "Defend: large market, strong share"),
    ("low", "high", "Maintain: small market, strong share"),
    ("low", "low", "Opportunistic: small market, low share"),
)


def opportunity_bubbles(frame: pd.DataFrame, currency: str, period_label: str) -> go.Figure:
    """Market size vs penetration, bubble size = revenue, colour = growth; quadrants labelled.

    `frame`: country, country_code, addressable_market, penetration, revenue, growth_prior.
    Quadrants split at the median market size and median penetration of the markets shown.
    """
    rows = frame.dropna(subset=["addressable_market", "penetration"])
    rows = rows[rows["addressable_market"] > 0]
    growth = rows["growth_prior"] * 100
    bound = max(5.0, min(50.0, float(growth.abs().quantile(0.9)))) if growth.notna().any() else 50.0
    size = rows["revenue"].clip(lower=0)
    fig = go.Figure(
        go.Scatter(
            x=rows["addressable_market"],
            y=rows["penetration"] * 100,
            mode="markers+text",
            text=rows["country_code"],
            textposition="middle center",
            textfont={"size": 10, "color": "#1a1a1a"},
            customdata=rows[["country_code", "country", "revenue"]],
            marker={
                "size": size,
                "sizemode": "area",
                "sizeref": 2.0 * float(size.max() or 1) / (60.0**2),
                "sizemin": 6,
                "color": growth,
                "colorscale": "RdBu",
                "cmid": 0,
                "cmin": -bound,
                "cmax": bound,
                "colorbar": {"title": {"text": "Growth %"}, "thickness": 12},
                "line": {"color": "white", "width": 1},
            },
            hovertemplate=(
                "%{customdata[1]}<br>Addressable market: %{x:,.0f} "
                + currency
                + "<br>Penetration: %{y:.2f}%<br>Net revenue: %{customdata[2]:,.0f} "
                + currency
                + "<br>Growth: %{marker.color:+.1f}%<extra></extra>"
            ),
        )
    )
    if len(rows) >= 4:
        x_mid = float(rows["addressable_market"].median())
        y_mid = float((rows["penetration"] * 100).median())
        fig.add_vline(x=x_mid, line={"color": "#999", "dash": "dot", "width": 1})
        fig.add_hline(y=y_mid, line={"color": "#999", "dash": "dot", "width": 1})
        for x_side, y_side, label in QUADRANTS:
            fig.add_annotation(
                x=1 if x_side == "high" else 0,
                y=1 if y_side == "high" else 0,
                xref="x domain",
                yref="y domain",
                xanchor="right" if x_side == "high" else "left",
                yanchor="top" if y_side == "high" else "bottom",
                text=label,
                showarrow=False,
                font={"size": 12, "color": "#555"},
            )
    fig.update_xaxes(
        title=f"Addressable market ({currency}, illustrative, log scale)",
        type="log",
        gridcolor="#eee",
    )
    fig.update_yaxes(title="Penetration (% of addressable market)", gridcolor="#eee")
    return _layout(
        fig,
        f"Where to invest — market size vs penetration, bubble = net revenue, {period_label}",
        height=520,
    )


def mix_bars(frame: pd.DataFrame, by: str, part: str, title: str) -> go.Figure:
    """100 % stacked horizontal bars: each market's revenue split by `part` (share column)."""
    order = frame.groupby(by)["revenue"].sum().sort_values(ascending=True).index
    totals = frame.groupby(part)["revenue"].sum().sort_values(ascending=False)
    fig = go.Figure()
    for colour, name in zip(REGION_COLOURS * 3, totals.index, strict=False):
        rows = frame[frame[part] == name].set_index(by).reindex(order)
        fig.add_trace(
            go.Bar(
                x=rows["share"] * 100,
                y=list(order),
                name=str(name),
                orientation="h",
                marker={"color": colour},
                hovertemplate=f"%{{y}} — {name}: %{{x:.1f}}%<extra></extra>",
            )
        )
    fig.update_xaxes(title="Share of net revenue (%)", range=[0, 100], ticksuffix="%")
    fig.update_yaxes(title=None)
    _layout(fig, title, height=max(340, 26 * len(order) + 180))
    # Legend under the plot: several rows of it above would run into the title.
    fig.update_layout(barmode="stack", legend={"y": -0.25, "yanchor": "top"}, margin={"b": 40})
    return fig


def price_index_bars(frame: pd.DataFrame, currency: str, title: str) -> go.Figure:
    """Price index per country (100 = cross-market average), sorted, with the 100 line."""
    rows = frame.sort_values("price_index", ascending=True)
    colours = ["#c73e1d" if v < 100 else "#1f4e79" for v in rows["price_index"]]
    fig = go.Figure(
        go.Bar(
            x=rows["price_index"],
            y=rows["country"],
            orientation="h",
            marker={"color": colours},
            customdata=rows[["avg_price_reporting", "avg_price_local", "currency_code"]],
            hovertemplate=(
                "%{y}<br>Index: %{x:.0f}<br>Average net price: %{customdata[0]:,.2f} "
                + currency
                + " (%{customdata[1]:,.2f} %{customdata[2]})<extra></extra>"
            ),
        )
    )
    fig.add_vline(x=100, line={"color": "#333", "width": 1})
    fig.update_xaxes(title="Price index (cross-market average = 100)", gridcolor="#e5e5e5")
    fig.update_yaxes(title=None)
    return _layout(fig, title, height=max(320, 24 * len(rows) + 120))


# --- quarterly review -----------------------------------------------------------------------

GAIN, LOSS, TOTAL_COLOUR = "#1a7f37", "#c73e1d", "#1f4e79"


def bridge_waterfall(
    bridge: pd.DataFrame,
    labels: dict[str, str],
    currency: str,
    title: str,
    y_title: str = "Net revenue",
) -> go.Figure:
    """The revenue bridge as a waterfall: base quarter, each effect, current quarter.

    `labels` names each effect (the two ends by their quarters).
    """
    ends = {"base", "current"}
    fig = go.Figure(
        go.Waterfall(
            x=[labels[e] for e in bridge["effect"]],
            y=bridge["amount"],  # a "total" bar ignores its y and shows the running sum
            measure=[
                "absolute" if e == "base" else "total" if e == "current" else "relative"
                for e in bridge["effect"]
            ],
            text=[
                formatting.compact(v, signed=e not in ends)
                for e, v in zip(bridge["effect"], bridge["amount"], strict=True)
            ],
            textposition="outside",
            customdata=bridge[["effect"]],
            increasing={"marker": {"color": GAIN}},
            decreasing={"marker": {"color": LOSS}},
            totals={"marker": {"color": TOTAL_COLOUR}},
            connector={"line": {"color": "#8d99ae", "width": 1}},
            hovertemplate=f"%{{x}}: %{{y:,.0f}} {currency}<extra></extra>",
        )
    )
    fig.update_yaxes(
        title=f"{y_title} ({currency})",
        tickformat="~s",
        gridcolor="#e5e5e5",
        range=_waterfall_range(bridge["amount"]),
    )
    fig.update_xaxes(title=None)
    fig.update_layout(showlegend=False)
    return _layout(fig, title, height=460)


def _waterfall_range(amounts: pd.Series) -> list[float]:
    """The y range of a waterfall whose last amount is the closing total.

    When every running total stays in the upper half of the tallest, the axis starts just
    below the smallest so that small effects stay visible (a revenue bridge); otherwise it
    starts at zero, since a cut axis would make a small closing bar look like nothing (a
    pipeline that mostly closed). Room is left for the labels outside the bars."""
    levels = [*amounts.cumsum().iloc[:-1], amounts.iloc[-1]]
    low, high = float(min(levels)), float(max(levels))
    bottom = max(0.0, low - 0.25 * (high - low)) if low > 0.5 * high else min(0.0, low * 1.1)
    return [bottom, high + 0.1 * (high - bottom)]


def signed_bars(
    frame: pd.DataFrame, label: str, value: str, currency: str, title: str, hover: str = ""
) -> go.Figure:
    """Horizontal bars of a signed amount (gains green, losses red), largest gain on top.

    `hover` names a column shown on hover (e.g. the reason for a change).
    """
    rows = frame.sort_values(value, ascending=True)
    fig = go.Figure(
        go.Bar(
            x=rows[value],
            y=rows[label],
            orientation="h",
            marker={"color": [GAIN if v >= 0 else LOSS for v in rows[value]]},
            text=[formatting.compact(v, signed=True) for v in rows[value]],
            textposition="auto",
            customdata=rows[[hover]] if hover else None,
            hovertemplate=f"%{{y}}: %{{x:,.0f}} {currency}"
            + ("<br>%{customdata[0]}" if hover else "")
            + "<extra></extra>",
        )
    )
    fig.update_xaxes(
        title=f"{currency}", tickformat="~s", gridcolor="#e5e5e5", zerolinecolor="#444"
    )
    fig.update_yaxes(title=None, automargin=True)
    return _layout(fig, title, height=max(300, 30 * len(rows) + 130))


def pipeline_bars(pipeline: dict, currency: str, title: str) -> go.Figure:
    """Next quarter's pipeline by forecast level (cumulative) against its quota."""
    levels = ["Commit", "Best case", "Pipeline"]
    values = [pipeline["commit"], pipeline["best_case"], pipeline["pipeline"]]
    fig = go.Figure(
        go.Bar(
            x=levels,
            y=values,
            marker={"color": ["#1f4e79", "#2e86ab", "#8ecae6"]},
            text=[formatting.compact(v, signed=True) for v in values],
            textposition="outside",
            hovertemplate=f"%{{x}}: %{{y:,.0f}} {currency}<extra></extra>",
        )
    )
    if pipeline.get("quota"):
        fig.add_hline(
            y=pipeline["quota"],
            line={"color": LOSS, "dash": "dash", "width": 2},
            annotation_text=f"Quota {formatting.compact(pipeline['quota'])}",
            annotation_position="top left",
        )
    top = max([v for v in values if v is not None] + [pipeline.get("quota") or 0])
    fig.update_yaxes(
        title=f"Open pipeline ({currency})",
        tickformat="~s",
        gridcolor="#e5e5e5",
        range=[0, top * 1.15 or 1],
    )
    return _layout(fig, title, height=380)


def review_figures(data) -> dict[str, go.Figure]:
    """The quarterly review's charts as the PDF embeds them (keys bridge, countries and,
    when there is a pipeline snapshot, pipeline). `data` is an analytics.review.Review."""
    from analytics import review
    from exports import content

    period = f"{data.base.label} → {data.quarter.label}"
    movers = review.top_movers(data.country_movers)
    figures = {
        "bridge": bridge_waterfall(
            data.bridge,
            content.bridge_labels(data),
            data.currency,
            f"Revenue bridge {period} — {data.currency}, reported",
        ),
        "countries": signed_bars(
            movers.assign(label=movers["country"] + " · " + movers["reason"]),
            "label",
            "change",
            data.currency,
            f"Countries: largest gains and losses — {data.currency}, {period}",
        ),
    }
    if data.pipeline["snapshot_date"] is not None:
        figures["pipeline"] = pipeline_bars(
            data.pipeline,
            data.currency,
            f"Pipeline due in {data.pipeline['quarter']} vs quota — {data.currency}",
        )
    return figures


# --- pricing lab ----------------------------------------------------------------------------


def margin_bars(results: pd.DataFrame, currency: str, title: str) -> go.Figure:
    """Gross margin per market, baseline next to scenario, largest change first."""
    rows = results.assign(label=results["country"] + " (" + results["currency_code"] + ")")
    rows = rows.reindex(rows["margin_change"].abs().sort_values().index)
    fig = go.Figure()
    for column, name, colour in (
        ("margin_0", "Baseline at spot", "#8d99ae"),
        ("margin_1", "Scenario", TOTAL_COLOUR),
    ):
        fig.add_trace(
            go.Bar(
                x=rows[column],
                y=rows["label"],
                orientation="h",
                name=name,
                marker={"color": colour},
                hovertemplate=f"%{{y}}<br>{name}: %{{x:,.0f}} {currency}<extra></extra>",
            )
        )
    fig.update_layout(barmode="group")
    fig.update_xaxes(title=f"Gross margin ({currency})", tickformat="~s", gridcolor="#e5e5e5")
    fig.update_yaxes(title=None, automargin=True)
    return _layout(fig, title, height=max(320, 46 * len(rows) + 120))


def margin_histogram(
    margins, expected: float, var_95: float, currency: str, title: str
) -> go.Figure:
    """Distribution of simulated gross margin, with the scenario's margin and the 5 % tail."""
    fig = go.Figure(
        go.Histogram(
            x=margins,
            nbinsx=60,
            marker={"color": "#2e86ab"},
            hovertemplate=f"%{{x:,.0f}} {currency}: %{{y}} paths<extra></extra>",
        )
    )
    fig.add_vline(
        x=expected,
        line={"color": TOTAL_COLOUR, "width": 2},
        annotation_text="Scenario",
        annotation_position="top right",
    )
    fig.add_vline(
        x=expected - var_95,
        line={"color": LOSS, "dash": "dash", "width": 2},
        annotation_text="5 % worst (VaR 95)",
        annotation_position="top left",
    )
    fig.update_xaxes(title=f"Gross margin at the horizon ({currency})", tickformat="~s")
    fig.update_yaxes(title="Simulated paths", gridcolor="#e5e5e5")
    fig.update_layout(showlegend=False, bargap=0.02)
    return _layout(fig, title, height=380)


def rate_fan(fan: pd.DataFrame, currency: str, title: str) -> go.Figure:
    """Simulated exchange rate over the horizon: 5–95 % and 25–75 % bands and the median."""
    rows = fan[fan["currency_code"] == currency]
    fig = go.Figure()
    for low, high, opacity in (("p5", "p95", 0.18), ("p25", "p75", 0.35)):
        fig.add_trace(
            go.Scatter(
                x=rows["day"],
                y=rows[high],
                mode="lines",
                line={"width": 0},
                showlegend=False,
                hoverinfo="skip",
            )
        )
        fig.add_trace(
            go.Scatter(
                x=rows["day"],
                y=rows[low],
                mode="lines",
                line={"width": 0},
                fill="tonexty",
                fillcolor=f"rgba(31, 78, 121, {opacity})",
                name=f"{low[1:]}–{high[1:]} % of paths",
                hoverinfo="skip",
            )
        )
    fig.add_trace(
        go.Scatter(
            x=rows["day"],
            y=rows["p50"],
            mode="lines",
            name="Median",
            line={"color": TOTAL_COLOUR, "width": 2},
            hovertemplate="Day %{x}: %{y:.4f}<extra></extra>",
        )
    )
    fig.update_xaxes(title="Trading days ahead", gridcolor="#f0f0f0")
    fig.update_yaxes(title=f"{currency} per EUR", gridcolor="#e5e5e5")
    return _layout(fig, title, height=360)


def price_corridor_chart(
    frame: pd.DataFrame, low: float, high: float, outside: set[str], currency: str, title: str
) -> go.Figure:
    """Each country's list price in one currency, the corridor band, prices outside it red."""
    rows = frame.sort_values("price")
    fig = go.Figure()
    fig.add_hrect(
        y0=low,
        y1=high,
        fillcolor="#6a994e",
        opacity=0.12,
        line_width=0,
        annotation_text="Corridor",
        annotation_position="top left",
    )
    fig.add_trace(
        go.Scatter(
            x=rows["country"],
            y=rows["price"],
            mode="markers",
            marker={
                "size": 10,
                "color": [LOSS if c in outside else TOTAL_COLOUR for c in rows["country"]],
            },
            customdata=rows[["list_price_local", "currency_code"]],
            hovertemplate=f"%{{x}}: %{{y:,.2f}} {currency}"
            "<br>List price %{customdata[0]:,.2f} %{customdata[1]}<extra></extra>",
        )
    )
    fig.update_xaxes(title=None, tickangle=-60)
    fig.update_yaxes(title=f"List price ({currency}, at spot)", gridcolor="#e5e5e5")
    return _layout(fig, title, height=420)


# --- team and pipeline ----------------------------------------------------------------------


def attainment_bars(
    frame: pd.DataFrame, label: str, title: str, ytd: pd.DataFrame | None = None
) -> go.Figure:
    """Attainment per rep, team or region (best on top) against a 100 % line; with `ytd`,
    a lighter year-to-date bar beside each."""
    rows = frame.sort_values("attainment")
    fig = go.Figure(
        go.Bar(
            x=rows["attainment"] * 100,
            y=rows[label],
            orientation="h",
            name="Quarter",
            marker={
                "color": [
                    GAIN if a >= 1 else "#b26b00" if a >= 0.8 else LOSS for a in rows["attainment"]
                ]
            },
            text=[f"{a:.0%}" for a in rows["attainment"]],
            textposition="auto",
            hovertemplate="%{y}: %{x:.1f}% of quota in the quarter<extra></extra>",
        )
    )
    if ytd is not None and len(ytd):
        year = ytd.set_index(label)["attainment"].reindex(rows[label])
        fig.add_trace(
            go.Bar(
                x=year.to_numpy() * 100,
                y=rows[label],
                orientation="h",
                name="Year to date",
                marker={"color": "#9aa5b1"},
                text=[f"{a:.0%}" if a == a else "" for a in year],
                textposition="auto",
                hovertemplate="%{y}: %{x:.1f}% of quota year to date<extra></extra>",
            )
        )
        fig.update_layout(barmode="group", showlegend=True, legend={"traceorder": "reversed"})
    fig.add_vline(x=100, line={"color": "#444", "dash": "dash"})
    fig.update_xaxes(title="Attainment (% of quota, EUR)", ticksuffix="%", gridcolor="#e5e5e5")
    fig.update_yaxes(title=None, automargin=True)
    return _layout(fig, title, height=max(300, 24 * len(rows) + 120))


def attainment_trend(frame: pd.DataFrame, title: str) -> go.Figure:
    fig = go.Figure(
        go.Scatter(
            x=frame["quarter"],
            y=frame["attainment"] * 100,
            mode="lines+markers+text",
            text=[f"{a:.0%}" for a in frame["attainment"]],
            textposition="top center",
            line={"color": TOTAL_COLOUR, "width": 2.5},
            hovertemplate="%{x}: %{y:.1f}% of quota<extra></extra>",
        )
    )
    fig.add_hline(y=100, line={"color": "#444", "dash": "dash"})
    fig.update_yaxes(title="Team attainment (%)", ticksuffix="%", gridcolor="#e5e5e5")
    fig.update_xaxes(title=None)
    return _layout(fig, title, height=340)


def stage_funnel(frame: pd.DataFrame, currency: str, title: str) -> go.Figure:
    """Open pipeline by stage, with each stage's historical conversion to the next."""
    text = [
        f"{formatting.compact(a)} · {n} deals · {c:.0%} go on"
        if c == c
        else f"{formatting.compact(a)} · {n} deals"
        for a, n, c in zip(frame["amount"], frame["deals"], frame["conversion"], strict=True)
    ]
    fig = go.Figure(
        go.Bar(
            x=frame["amount"],
            y=frame["stage"],
            orientation="h",
            text=text,
            textposition="auto",
            marker={"color": "#2e86ab"},
            hovertemplate=f"%{{y}}: %{{x:,.0f}} {currency}<extra></extra>",
        )
    )
    fig.update_yaxes(title=None, autorange="reversed")
    fig.update_xaxes(title=f"Open pipeline ({currency})", tickformat="~s", gridcolor="#e5e5e5")
    return _layout(fig, title, height=320)


def activity_scatter(frame: pd.DataFrame, currency: str, what: str, title: str) -> go.Figure:
    fig = go.Figure(
        go.Scatter(
            x=frame["activities"],
            y=frame["revenue"],
            mode="markers",
            marker={"size": 9, "color": "#2e86ab", "opacity": 0.7},
            customdata=frame[["name", "pipeline"]],
            hovertemplate="%{customdata[0]}<br>%{x} activities<br>Revenue %{y:,.0f} "
            + currency
            + "<br>Open pipeline %{customdata[1]:,.0f} "
            + currency
            + "<extra></extra>",
        )
    )
    fig.update_xaxes(title=f"Activities per {what}", gridcolor="#f0f0f0")
    fig.update_yaxes(title=f"Revenue booked ({currency})", tickformat="~s", gridcolor="#e5e5e5")
    return _layout(fig, title, height=400)
