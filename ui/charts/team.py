"""The Team & pipeline page's charts: attainment, the stage funnel, activity against revenue."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from ui.charts.common import GAIN, LOSS, MONEY_TICKS, TOTAL_COLOUR, amount_label, layout
from ui.text import plot_column


def attainment_bars(
    frame: pd.DataFrame, label: str, title: str, ytd: pd.DataFrame | None = None
) -> go.Figure:
    """Attainment per rep, team or region (best on top) against a 100 % line; with `ytd`,
    a lighter year-to-date bar beside each."""
    rows = frame.sort_values("attainment")
    names = plot_column(rows[label])
    fig = go.Figure(
        go.Bar(
            x=rows["attainment"] * 100,
            y=names,
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
                y=names,
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
    return layout(fig, title, height=max(300, 24 * len(rows) + 120))


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
    return layout(fig, title, height=340)


def stage_funnel(frame: pd.DataFrame, currency: str, title: str) -> go.Figure:
    """Open pipeline by stage, with each stage's historical conversion to the next."""
    text = [
        f"{amount_label(a)} · {n} deals · {c:.0%} go on"
        if c == c
        else f"{amount_label(a)} · {n} deals"
        for a, n, c in zip(frame["amount"], frame["deals"], frame["conversion"], strict=True)
    ]
    fig = go.Figure(
        go.Bar(
            x=frame["amount"],
            y=plot_column(frame["stage"].astype(str)),
            orientation="h",
            text=text,
            textposition="auto",
            marker={"color": "#2e86ab"},
            hovertemplate=f"%{{y}}: %{{x:,.0f}} {currency}<extra></extra>",
        )
    )
    fig.update_yaxes(title=None, autorange="reversed")
    fig.update_xaxes(
        title=f"Open pipeline ({currency})", tickformat=MONEY_TICKS, gridcolor="#e5e5e5"
    )
    return layout(fig, title, height=320)


def activity_scatter(frame: pd.DataFrame, currency: str, what: str, title: str) -> go.Figure:
    fig = go.Figure(
        go.Scatter(
            x=frame["activities"],
            y=frame["revenue"],
            mode="markers",
            marker={"size": 9, "color": "#2e86ab", "opacity": 0.7},
            customdata=frame[["name", "pipeline"]].assign(name=plot_column(frame["name"])),
            hovertemplate="%{customdata[0]}<br>%{x} activities<br>Revenue %{y:,.0f} "
            + currency
            + "<br>Open pipeline %{customdata[1]:,.0f} "
            + currency
            + "<extra></extra>",
        )
    )
    fig.update_xaxes(title=f"Activities per {what}", gridcolor="#f0f0f0")
    fig.update_yaxes(
        title=f"Revenue booked ({currency})", tickformat=MONEY_TICKS, gridcolor="#e5e5e5"
    )
    return layout(fig, title, height=400)
