"""Forecast page charts: the series with its intervals, a past forecast against what happened,
the year-end landing against budget, and the quarter's three lines."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from ui.charts.common import GAIN, MONEY_TICKS, TOTAL_COLOUR, layout
from ui.text import plot_column

ACTUAL_COLOUR = "#1b2631"
FORECAST_COLOUR = TOTAL_COLOUR
BAND_95 = "rgba(46, 134, 171, 0.15)"
BAND_80 = "rgba(46, 134, 171, 0.32)"
BUDGET_COLOUR = "#f18f01"


def _band(fig: go.Figure, frame: pd.DataFrame, low: str, high: str, colour: str, name: str):
    """An interval as a filled area: the upper edge, then the lower edge filled up to it."""
    months = list(frame["month"])
    fig.add_trace(
        go.Scatter(
            x=months,
            y=frame[high],
            mode="lines",
            line={"width": 0},
            hoverinfo="skip",
            showlegend=False,
            legendgroup=name,
        )
    )
    fig.add_trace(
        go.Scatter(
            x=months,
            y=frame[low],
            mode="lines",
            line={"width": 0},
            fill="tonexty",
            fillcolor=colour,
            name=name,
            legendgroup=name,
            hoverinfo="skip",
        )
    )


def _money_axis(fig: go.Figure, title: str) -> None:
    fig.update_yaxes(title=title, tickformat=MONEY_TICKS, gridcolor="#e1e5ea", rangemode="tozero")
    fig.update_xaxes(title=None, showgrid=False)


def forecast_chart(frame: pd.DataFrame, title: str, axis_title: str) -> go.Figure:
    """Actual monthly revenue, then the forecast with its 95 % and 80 % bands (series_frame)."""
    ahead = frame[frame["forecast"].notna()]
    past = frame[frame["actual"].notna()]
    fig = go.Figure()
    _band(fig, ahead, "lo95", "hi95", BAND_95, "95 % interval")
    _band(fig, ahead, "lo80", "hi80", BAND_80, "80 % interval")
    fig.add_trace(
        go.Scatter(
            x=list(past["month"]),
            y=past["actual"],
            mode="lines",
            name="Actual",
            line={"color": ACTUAL_COLOUR, "width": 2},
        )
    )
    # The forecast line starts at the last actual month, so the two lines join.
    joined = pd.concat([past.tail(1).assign(forecast=past["actual"].tail(1)), ahead])
    fig.add_trace(
        go.Scatter(
            x=list(joined["month"]),
            y=joined["forecast"],
            mode="lines+markers",
            name="Forecast",
            line={"color": FORECAST_COLOUR, "width": 2, "dash": "dash"},
            marker={"size": 5},
        )
    )
    layout(fig, title)
    _money_axis(fig, axis_title)
    return fig


def track_record_chart(made: pd.DataFrame, title: str, axis_title: str) -> go.Figure:
    """A forecast made in the past (forecast_made rows) against what then happened."""
    fig = go.Figure()
    _band(fig, made, "lo95", "hi95", BAND_95, "95 % interval")
    _band(fig, made, "lo80", "hi80", BAND_80, "80 % interval")
    fig.add_trace(
        go.Scatter(
            x=list(made["month"]),
            y=made["forecast"],
            mode="lines+markers",
            name="Forecast made then",
            line={"color": FORECAST_COLOUR, "dash": "dash"},
        )
    )
    fig.add_trace(
        go.Scatter(
            x=list(made["month"]),
            y=made["actual"],
            mode="lines+markers",
            name="What happened",
            line={"color": ACTUAL_COLOUR, "width": 2},
        )
    )
    layout(fig, title, height=360)
    _money_axis(fig, axis_title)
    return fig


def landing_chart(landings: pd.DataFrame, title: str, axis_title: str) -> go.Figure:
    """Each group's year-end landing with its 80 % interval as error bars, budget beside."""
    frame = landings.sort_values("landing")
    fig = go.Figure()
    fig.add_trace(
        go.Bar(
            y=plot_column(frame["group"]),
            x=frame["landing"],
            orientation="h",
            name="Landing (actual + forecast)",
            marker_color=FORECAST_COLOUR,
            error_x={
                "type": "data",
                "symmetric": False,
                "array": frame["hi80"] - frame["landing"],
                "arrayminus": frame["landing"] - frame["lo80"],
                "color": ACTUAL_COLOUR,
            },
        )
    )
    budget = frame[frame["budget"].notna()]
    fig.add_trace(
        go.Scatter(
            y=plot_column(budget["group"]),
            x=budget["budget"],
            mode="markers",
            name="Budget",
            marker={"symbol": "line-ns", "size": 22, "line": {"width": 3, "color": BUDGET_COLOUR}},
        )
    )
    layout(fig, title, height=max(260, 60 + 45 * len(frame)))
    fig.update_xaxes(title=axis_title, tickformat=MONEY_TICKS, gridcolor="#e1e5ea")
    fig.update_yaxes(title=None)
    return fig


def projection_chart(comparison: pd.DataFrame, title: str, axis_title: str) -> go.Figure:
    """Per quarter: the pipeline projection, the statistical forecast and the reps' commit."""
    fig = go.Figure()
    for column, name, colour in (
        ("pipeline_projection", "Pipeline projection", FORECAST_COLOUR),
        ("statistical_forecast", "Statistical forecast", GAIN),
        ("reps_commit", "Reps' commit (won + commit)", BUDGET_COLOUR),
    ):
        fig.add_trace(
            go.Bar(x=comparison["quarter"], y=comparison[column], name=name, marker_color=colour)
        )
    fig.update_layout(barmode="group")
    layout(fig, title, height=380)
    _money_axis(fig, axis_title)
    return fig
