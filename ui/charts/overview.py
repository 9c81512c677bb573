"""The Overview page's charts: the monthly trend by region and the world map."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from analytics.periods import Period
from ui.charts.common import MONEY_TICKS, REGION_COLOURS, layout
from ui.text import plot, plot_column


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
                name=plot(region),
                mode="lines+markers",
                line={"color": colour, "width": 2.5},
                marker={"size": 5},
                hovertemplate=f"%{{x|%b %Y}}<br>{plot(region)}: %{{y:,.0f}} {currency}<extra></extra>",
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
        title=f"Net revenue ({currency})",
        tickformat=MONEY_TICKS,
        gridcolor="#e5e5e5",
        rangemode="tozero",
    )
    return layout(fig, f"Monthly net revenue by region — {currency}, {basis_label}")


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
            customdata=plot_column(countries["country"]).to_frame(),
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
    return layout(fig, title, height=460)
