"""Plotly figure builders: plain Plotly, no Streamlit, so they can be tested on their own.

Every chart carries a title that says what, in which currency, for which period; axes
carry units; series are sorted so the largest comes first.
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from analytics.filters import Period

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
