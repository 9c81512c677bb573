"""Built figures are reused only for the very arguments they were built from."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
import pytest

from analytics.periods import Period
from ui import charts
from ui.charts import memo

PERIOD = Period(dt.date(2026, 7, 1), dt.date(2026, 9, 30), "Q3 2026")


@pytest.fixture(autouse=True)
def empty_memo():
    memo.clear()
    yield
    memo.clear()


def counting_builder():
    calls = []

    def build(frame, title, period=None):
        calls.append((frame.copy(), title, period))
        return go.Figure(go.Bar(x=frame["x"], y=frame["y"]), layout={"title": title})

    return memo.cached(build), calls


def frame(y=(1.0, 2.0)):
    return pd.DataFrame({"x": ["a", "b"], "y": list(y)})


def test_the_same_arguments_reuse_the_figure_built_once():
    build, calls = counting_builder()
    first = build(frame(), "t", period=PERIOD)
    # An equal frame built afresh, as an st.cache_data hit hands out: still the same figure.
    again = build(frame(), "t", period=PERIOD)
    assert again is first
    assert len(calls) == 1


@pytest.mark.parametrize(
    "change",
    [
        lambda: (frame((1.0, 2.5)), "t", PERIOD),  # one value
        lambda: (frame().rename(columns={"y": "z"}).assign(y=[1.0, 2.0]), "t", PERIOD),  # column
        lambda: (frame().astype({"y": "float32"}), "t", PERIOD),  # dtype
        lambda: (frame().set_axis([5, 6]), "t", PERIOD),  # index
        lambda: (frame(), "u", PERIOD),  # a scalar argument
        lambda: (frame(), "t", dataclasses.replace(PERIOD, label="Q3")),  # a dataclass field
    ],
)
def test_any_change_of_an_argument_builds_a_new_figure(change):
    build, calls = counting_builder()
    first = build(frame(), "t", period=PERIOD)
    args = change()
    second = build(args[0], args[1], period=args[2])
    assert second is not first
    assert len(calls) == 2
    assert calls[1][1] == args[1] and calls[1][2] == args[2]


def test_arguments_the_digest_cannot_read_are_built_every_time():
    build, calls = counting_builder()
    opaque = object()
    build(frame(), "t", period=opaque)
    build(frame(), "t", period=opaque)
    assert len(calls) == 2


def test_the_oldest_figures_go_first_beyond_the_limit(monkeypatch):
    monkeypatch.setattr(memo, "MAX_FIGURES", 2)
    build, calls = counting_builder()
    build(frame(), "a")
    build(frame(), "b")
    build(frame(), "a")  # a is now the most recent
    build(frame(), "c")  # evicts b
    build(frame(), "a")
    build(frame(), "b")
    assert [title for _, title, _ in calls] == ["a", "b", "c", "b"]


def test_page_builders_are_memoised_and_match_a_fresh_build():
    trend = pd.DataFrame(
        {
            "month": pd.to_datetime(["2026-07-01", "2026-08-01"]),
            "region": ["Americas", "Americas"],
            "revenue": [10.0, 12.0],
        }
    )
    shown = charts.revenue_trend(trend, "USD", "reported", PERIOD)
    assert charts.revenue_trend(trend.copy(), "USD", "reported", PERIOD) is shown
    fresh = charts.revenue_trend.uncached(trend, "USD", "reported", PERIOD)
    assert pio.to_json(shown) == pio.to_json(fresh)
    other = charts.revenue_trend(trend, "EUR", "reported", PERIOD)
    assert "EUR" in other.layout.title.text and "USD" in shown.layout.title.text
