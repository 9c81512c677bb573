"""What every chart shares: the title and legend layout, fonts, colours, money ticks.

Every chart carries a title that says what, in which currency, for which period; axes
carry units; series are sorted so the largest comes first. Plain Plotly, no Streamlit, so
the charts can be tested on their own.
"""

from __future__ import annotations

import plotly.graph_objects as go

from analytics import formatting
from ui import text

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

GAIN, LOSS, TOTAL_COLOUR = "#1a7f37", "#c73e1d", "#1f4e79"
# Plotly's SI ticks (12M, 500k) on money axes; the labels on bars use `amount_label` below.
MONEY_TICKS = "~s"


def layout(fig: go.Figure, title: str, height: int = 420) -> go.Figure:
    """The shared look, and the title as plain text (callers put names from the data in it)."""
    fig.update_layout(
        title={"text": text.plot(title), "x": 0, "xanchor": "left", "font": {"size": 17}},
        font={"family": FONT, "size": 13},
        height=height,
        margin={"l": 10, "r": 10, "t": 60, "b": 10},
        plot_bgcolor="white",
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.0, "x": 0, "title": None},
        hoverlabel={"font": {"family": FONT}},
    )
    return fig


def amount_label(value: float, signed: bool = False) -> str:
    """A bar's amount as its label: '12.3M', or '+340.0k' for a change."""
    return formatting.compact(value, signed=signed)
