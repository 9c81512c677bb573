"""The Plotly figure builders, checked on small frames (Plotly 7 stores arrays as base64)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import plotly.io as pio

from analytics.filters import Period
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
