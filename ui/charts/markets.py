"""The Markets page's charts: market bars to drill on, where to invest, mix, price index."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from ui.charts.common import MONEY_TICKS, REGION_COLOURS, layout
from ui.text import plot, plot_column


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
            y=plot_column(rows[label]),
            orientation="h",
            customdata=rows[[key]],  # raw: what a click selects
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
    fig.update_xaxes(title=f"Net revenue ({currency})", tickformat=MONEY_TICKS, gridcolor="#e5e5e5")
    fig.update_yaxes(title=None)
    return layout(fig, title, height=max(height, 28 * len(rows) + 120))


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
            text=plot_column(rows["country_code"]),
            textposition="middle center",
            textfont={"size": 10, "color": "#1a1a1a"},
            # customdata[0] raw (what a click selects); the name as shown in the hover text
            customdata=rows[["country_code", "country", "revenue"]].assign(
                country=plot_column(rows["country"])
            ),
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
    return layout(
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
                y=[plot(market) for market in order],
                name=plot(name),
                orientation="h",
                marker={"color": colour},
                hovertemplate=f"%{{y}} — {plot(name)}: %{{x:.1f}}%<extra></extra>",
            )
        )
    fig.update_xaxes(title="Share of net revenue (%)", range=[0, 100], ticksuffix="%")
    fig.update_yaxes(title=None)
    layout(fig, title, height=max(340, 26 * len(order) + 180))
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
            y=plot_column(rows["country"]),
            orientation="h",
            marker={"color": colours},
            customdata=rows[["avg_price_reporting", "avg_price_local", "currency_code"]].assign(
                currency_code=plot_column(rows["currency_code"])
            ),
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
    return layout(fig, title, height=max(320, 24 * len(rows) + 120))
