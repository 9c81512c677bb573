"""Plotly figure builders, one module per page (common: what they share).

The names pages call are importable from here: `charts.market_bars`, ...
"""

from ui.charts.common import TOPOJSON_URL
from ui.charts.markets import (
    market_bars,
    mix_bars,
    opportunity_bubbles,
    price_index_bars,
)
from ui.charts.overview import country_map, revenue_trend
from ui.charts.pricing import margin_bars, margin_histogram, price_corridor_chart, rate_fan
from ui.charts.review import bridge_waterfall, pipeline_bars, review_figures, signed_bars
from ui.charts.team import activity_scatter, attainment_bars, attainment_trend, stage_funnel

__all__ = [
    "TOPOJSON_URL",
    "activity_scatter",
    "attainment_bars",
    "attainment_trend",
    "bridge_waterfall",
    "country_map",
    "margin_bars",
    "margin_histogram",
    "market_bars",
    "mix_bars",
    "opportunity_bubbles",
    "pipeline_bars",
    "price_corridor_chart",
    "price_index_bars",
    "rate_fan",
    "revenue_trend",
    "review_figures",
    "signed_bars",
    "stage_funnel",
]
