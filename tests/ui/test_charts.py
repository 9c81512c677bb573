"""The Plotly figure builders, checked on small frames (Plotly 7 stores arrays as base64)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import plotly.io as pio

from analytics.periods import Period
from ui import charts

PERIOD = Period(dt.date(2026, 7, 1), dt.date(2026, 9, 30), "Q3 2026")


def values(array) -> list:
    """Decode a Plotly 7 array (plain list or {'dtype', 'bdata'}) into a list."""
    if isinstance(array, dict) and "bdata" in array:
        import base64

        return np.frombuffer(base64.b64decode(array["bdata"]), dtype=array["dtype"]).tolist()
    return list(array)


def test_trend_orders_regions_by_revenue_and_labels_currency():
    trend = pd.DataFrame(
        {
            "month": pd.to_datetime(["2026-07-01", "2026-07-01", "2026-08-01", "2026-08-01"]),
            "region": ["Americas", "Asia Pacific", "Americas", "Asia Pacific"],
            "revenue": [10.0, 30.0, 12.0, 35.0],
        }
    )
    fig = charts.revenue_trend(trend, "USD", "reported", PERIOD)
    spec = pio.to_json(fig)
    assert "USD" in fig.layout.title.text and "reported" in fig.layout.title.text
    assert fig.layout.yaxis.title.text == "Net revenue (USD)"
    assert [t.name for t in fig.data] == ["Asia Pacific", "Americas"]
    assert values(fig.to_plotly_json()["data"][0]["y"]) == [30.0, 35.0]
    assert "Selected period" in spec


def test_map_uses_iso3_and_diverging_scale_for_growth():
    countries = pd.DataFrame(
        {
            "iso3": ["DEU", "USA", "JPN"],
            "country": ["Germany", "United States", "Japan"],
            "revenue": [100.0, 200.0, 50.0],
            "growth": [0.1, -0.2, np.nan],
        }
    )
    fig = charts.country_map(countries, "growth", "EUR", "Q3 2026")
    trace = fig.data[0]
    assert list(trace.locations) == ["DEU", "USA", "JPN"]
    assert trace.zmid == 0 and trace.zmax == -trace.zmin
    assert values(fig.to_plotly_json()["data"][0]["z"])[:2] == [10.0, -20.0]
    revenue = charts.country_map(countries, "revenue", "EUR", "Q3 2026")
    assert "EUR" in revenue.layout.title.text and "Q3 2026" in revenue.layout.title.text


def test_market_bars_put_the_largest_on_top_and_carry_the_drill_key():
    frame = pd.DataFrame(
        {
            "key": ["DE", "FR", "IT"],
            "name": ["Germany", "France", "Italy"],
            "revenue": [50.0, 80.0, 20.0],
            "growth_prior": [0.1, -0.2, 0.0],
        }
    )
    fig = charts.market_bars(frame, "key", "name", "EUR", "Net revenue by country — EUR")
    bar = fig.data[0]
    # Plotly draws horizontal bars bottom-up: the largest comes last, i.e. on top.
    assert list(bar.y) == ["Italy", "Germany", "France"]
    assert [row[0] for row in bar.customdata] == ["IT", "DE", "FR"]
    assert fig.layout.xaxis.title.text == "Net revenue (EUR)"


def test_opportunity_bubbles_label_quadrants_and_skip_markets_without_estimates():
    frame = pd.DataFrame(
        {
            "country_code": ["A", "B", "C", "D", "E"],
            "country": list("ABCDE"),
            "addressable_market": [1e6, 2e6, 3e6, 4e6, None],
            "penetration": [0.01, 0.2, 0.05, 0.1, 0.3],
            "revenue": [10.0, 400.0, 150.0, 400.0, 5.0],
            "growth_prior": [0.1, 0.0, -0.1, 0.2, 0.0],
        }
    )
    fig = charts.opportunity_bubbles(frame, "USD", "Q3 2026")
    assert list(fig.data[0].text) == ["A", "B", "C", "D"]
    texts = [a.text for a in fig.layout.annotations]
    assert "Invest: large market, low share" in texts and len(texts) == 4
    assert "USD" in fig.layout.xaxis.title.text and "illustrative" in fig.layout.xaxis.title.text


def test_waterfall_axis_zooms_only_when_every_level_stays_high():
    labels = {"base": "Q2", "volume": "Volume", "fx": "FX", "current": "Q3"}
    bridge = pd.DataFrame(
        {"effect": ["base", "volume", "fx", "current"], "amount": [100.0, 10.0, -4.0, 106.0]}
    )
    low, high = charts.bridge_waterfall(bridge, labels, "EUR", "t").layout.yaxis.range
    # Levels 100, 110, 106: zoomed to 100 - 0.25 x 10 = 97.5, top 110 + 1.25.
    assert (low, high) == (97.5, 110 + 0.1 * 12.5)
    closed = pd.DataFrame(
        {"effect": ["base", "volume", "fx", "current"], "amount": [100.0, -60.0, -25.0, 15.0]}
    )
    low, high = charts.bridge_waterfall(closed, labels, "EUR", "t").layout.yaxis.range
    assert (low, high) == (0.0, 110.0)  # the 15 at the end must not look like nothing
    assert not charts.bridge_waterfall(closed, labels, "EUR", "t").layout.annotations


def test_a_cut_waterfall_axis_says_so_and_the_meeting_room_gets_it_whole():
    # Present mode's bridge started at 216M, so +13.7 % looked threefold.
    labels = {"base": "Q2", "volume": "Volume", "fx": "FX", "current": "Q3"}
    bridge = pd.DataFrame(
        {"effect": ["base", "volume", "fx", "current"], "amount": [100e6, 10e6, -4e6, 106e6]}
    )
    cut = charts.bridge_waterfall(bridge, labels, "EUR", "t")
    assert cut.layout.yaxis.range[0] == 97.5e6
    assert [a.text for a in cut.layout.annotations] == ["⚠ Axis cut: starts at 97.5M EUR, not zero"]
    whole = charts.bridge_waterfall(bridge, labels, "EUR", "t", from_zero=True)
    assert whole.layout.yaxis.range[0] == 0.0
    assert not whole.layout.annotations


def test_bar_labels_use_the_one_compact_formatter():
    labels = {"base": "Q2", "volume": "Volume", "fx": "FX", "current": "Q3"}
    bridge = pd.DataFrame(
        {"effect": ["base", "volume", "fx", "current"], "amount": [1.2e6, 3.4e5, -5e4, 1.49e6]}
    )
    fig = charts.bridge_waterfall(bridge, labels, "EUR", "t")
    # The two ends are levels (no sign); the effects between them are signed changes.
    assert list(fig.data[0].text) == ["1.2M", "+340.0k", "-50.0k", "1.5M"]
    pipeline = {"commit": 2.5e9, "best_case": 3e9, "pipeline": 4e9, "quota": 3.25e9}
    fig = charts.pipeline_bars(pipeline, "EUR", "t")
    assert fig.layout.shapes and fig.layout.annotations[0].text == "Quota 3.2bn"
