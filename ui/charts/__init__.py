"""Plotly figure builders, one module per page (common: what they share).

The names pages call are importable from here: `charts.market_bars`, ... Those are memoised
(ui/charts/memo.py): a figure built once for the same arguments is returned again, shared, so
callers never change one in place. `review_figures` (for the PDF) builds afresh.
"""

from ui.charts import markets, overview, pricing, review, team
from ui.charts.common import TOPOJSON_URL
from ui.charts.memo import cached
from ui.charts.review import review_figures

market_bars = cached(markets.market_bars)
mix_bars = cached(markets.mix_bars)
opportunity_bubbles = cached(markets.opportunity_bubbles)
price_index_bars = cached(markets.price_index_bars)
country_map = cached(overview.country_map)
revenue_trend = cached(overview.revenue_trend)
margin_bars = cached(pricing.margin_bars)
margin_histogram = cached(pricing.margin_histogram)
price_corridor_chart = cached(pricing.price_corridor_chart)
rate_fan = cached(pricing.rate_fan)
bridge_waterfall = cached(review.bridge_waterfall)
pipeline_bars = cached(review.pipeline_bars)
signed_bars = cached(review.signed_bars)
activity_scatter = cached(team.activity_scatter)
attainment_bars = cached(team.attainment_bars)
attainment_trend = cached(team.attainment_trend)
stage_funnel = cached(team.stage_funnel)

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
