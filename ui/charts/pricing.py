"""The Pricing lab's charts: margin per market, margin at risk, rate fan, price corridor."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from ui.charts.common import LOSS, MONEY_TICKS, TOTAL_COLOUR, layout
from ui.text import plot_column


def margin_bars(results: pd.DataFrame, currency: str, title: str) -> go.Figure:
    """Gross margin per market, baseline next to scenario, largest change first."""
    rows = results.assign(
        label=plot_column(results["country"] + " (" + results["currency_code"] + ")")
    )
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
    fig.update_xaxes(
        title=f"Gross margin ({currency})", tickformat=MONEY_TICKS, gridcolor="#e5e5e5"
    )
    fig.update_yaxes(title=None, automargin=True)
    return layout(fig, title, height=max(320, 46 * len(rows) + 120))


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
    fig.update_xaxes(title=f"Gross margin at the horizon ({currency})", tickformat=MONEY_TICKS)
    fig.update_yaxes(title="Simulated paths", gridcolor="#e5e5e5")
    fig.update_layout(showlegend=False, bargap=0.02)
    return layout(fig, title, height=380)


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
    return layout(fig, title, height=360)


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
            x=plot_column(rows["country"]),
            y=rows["price"],
            mode="markers",
            marker={
                "size": 10,
                "color": [LOSS if c in outside else TOTAL_COLOUR for c in rows["country"]],
            },
            customdata=rows[["list_price_local", "currency_code"]].assign(
                currency_code=plot_column(rows["currency_code"])
            ),
            hovertemplate=f"%{{x}}: %{{y:,.2f}} {currency}"
            "<br>List price %{customdata[0]:,.2f} %{customdata[1]}<extra></extra>",
        )
    )
    fig.update_xaxes(title=None, tickangle=-60)
    fig.update_yaxes(title=f"List price ({currency}, at spot)", gridcolor="#e5e5e5")
    return layout(fig, title, height=420)
