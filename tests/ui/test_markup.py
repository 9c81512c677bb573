"""No markup from data: ui.text's escaping, and every chart builder fed hostile names (issue 18).

The checks here read text the way its renderer does, independently of ui.text: markdown by
CommonMark's backslash rule (a character after an odd run of backslashes is literal), Plotly
labels by its rule that a raw '<' starts a tag and '%{' a template field. tests/app uses them
on every page.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import re

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest

from analytics.periods import Period
from ui import text
from ui.charts import forecast, markets, overview, pricing, review, team

# Every kind of markup a name, a file name, a header or a link could carry.
PAYLOAD = (
    " [Click](https://evil.example/a) ![x](https://evil.example/i.png) <b>B</b>"
    ' <a href="https://evil.example/h">A</a> <script>S</script> $$L$$ `C` **S**'
    " :material/home: :red[R] Q%{y}Q"
)

# Fragments that are live markup when their characters are not escaped: a link, an image
# fetched from a foreign host, HTML, LaTeX, code, emphasis, an icon font, a coloured span, a
# bare URL (GFM links it).
LIVE_MARKDOWN = (
    "](https://evil",
    "![x]",
    "<b>B",
    "<a href",
    "<script",
    "$$L",
    "`C`",
    "**S**",
    ":material/",
    ":red[",
    "https://evil",
)
# Plotly's pseudo-HTML (<b>, <a href>, <br>, ...) and its template fields.
LIVE_PLOTLY = ("<b>B", "<a href", "<script", "Q%{y}Q")


# GFM's bare links, found in the text once escapes are read (so escaping does not stop them).
# An address is matched from the start of its run of name characters only (the lookbehind):
# tried from every position inside a long run of letters and digits in a page's element, the
# pattern rescanned the rest of the run each time, quadratic in its length (the Pricing lab's
# hostile-markup AppTest took 156 s, 7 s now). Same matches: an address's run starts there.
BARE_LINKS = re.compile(r"(?i)(https?://|www\.)[-\w]|(?<![-.\w+])[-.\w+]+@[-\w]+\.\w")


def live_in_markdown(source: str) -> list[str]:
    """The payload's fragments that `source` leaves live as markdown, and bare links."""
    live, i = [], 0
    while i < len(source):
        if source[i] == "\\" and i + 1 < len(source):
            live.append("\x00")  # an escaped character is text: nothing can match through it
            i += 2
        else:
            live.append(source[i])
            i += 1
    unescaped = "".join(live)
    found = [fragment for fragment in LIVE_MARKDOWN if fragment in unescaped]
    return found + [m.group() for m in BARE_LINKS.finditer(re.sub(r"\\(.)", r"\1", source))]


def as_shown(markdown: str) -> str:
    """What a reader sees of markdown that escapes its punctuation (CommonMark drops the
    backslash): the text tests compare with what the product meant to say."""
    return re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", markdown).replace(text.ZERO_WIDTH_SPACE, "")


def strings(value) -> list[str]:
    """Every string inside a figure's JSON (titles, names, categories, customdata, hover)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in strings(v)]
    if isinstance(value, list | tuple):
        return [s for v in value for s in strings(v)]
    return []


# Trace data Plotly never draws: map locations, and customdata, of which the hover text shows
# only the columns its template names (the others are what a click selects).
UNDRAWN = {"customdata", "locations", "ids"}


def drawn(fig: go.Figure) -> list[str]:
    """Every string a figure can draw: layout text, trace names, categories, text, hover."""
    figure = json.loads(fig.to_json())
    shown = strings(figure.get("layout", {}))
    for trace in figure.get("data", []):
        shown += strings({k: v for k, v in trace.items() if k not in UNDRAWN})
        named = {int(i) for i in re.findall(r"%\{customdata\[(\d+)\]", str(trace))}
        for row in trace.get("customdata") or []:
            cells = row if isinstance(row, list) else [row]
            shown += strings([cells[i] for i in named if i < len(cells)])
    return shown


def live_in_figure(fig: go.Figure) -> list[str]:
    """The payload's fragments a Plotly figure would draw as markup."""
    found = []
    for s in drawn(fig):
        found += [f"{fragment!r} in {s[:120]!r}" for fragment in LIVE_PLOTLY if fragment in s]
    return found


def named(name: str) -> str:
    return name + PAYLOAD


def test_the_checks_see_live_markup_in_the_raw_payload():
    assert live_in_markdown(PAYLOAD)[: len(LIVE_MARKDOWN)] == list(LIVE_MARKDOWN)
    # Bare URLs and addresses are links even with every character escaped.
    assert live_in_markdown(r"https\:\/\/evil\.example") == ["https://e"]
    assert live_in_markdown(r"www\.evil\.example x\@evil\.example") == ["www.e", "x@evil.e"]
    assert len(live_in_figure(go.Figure(go.Bar(x=[1], y=[PAYLOAD])))) == len(LIVE_PLOTLY)
    shown = go.Bar(x=[1], y=[2], customdata=[["key", PAYLOAD]], hovertemplate="%{customdata[1]}")
    assert len(live_in_figure(go.Figure(shown))) == len(LIVE_PLOTLY)
    selected_only = go.Bar(x=[1], y=[2], customdata=[[PAYLOAD]], hovertemplate="%{y}")
    assert live_in_figure(go.Figure(selected_only)) == []
    # One escaped bracket is not enough to hide a link from the check, two are.
    assert "](https://evil" in live_in_markdown(r"\[x](https://evil.example)")
    assert "](https://evil" not in live_in_markdown(r"\[x\]\(https\:\/\/evil.example)")


@pytest.mark.parametrize(
    "value",
    [
        PAYLOAD,
        "a\\" + PAYLOAD,
        "line one\n# heading\r\n- item",
        "1. first",
        "> quote",
        "|a|b|",
        "see www.evil.example or mail boss@evil.example, HTTPS://EVIL.EXAMPLE",
    ],
)
def test_md_leaves_nothing_live_and_keeps_every_character(value):
    escaped = text.md(value)
    assert live_in_markdown(escaped) == []
    # Read back, the characters are the value's (line breaks become spaces).
    assert as_shown(escaped) == re.sub(r"[\r\n]+", " ", value)
    assert "\n" not in escaped


def test_md_escapes_the_characters_markup_is_made_of_and_nothing_else():
    special = "\\`*_{}[]<>()#+-.!|~$&/"
    assert text.md(special) == "".join("\\" + c for c in special)
    assert text.md(":@") == "\\:\u200b\u200b\\@"
    assert text.md(",;?%'\"=^") == ",;?%'\"=^"
    assert text.md("Müller GmbH 42 ÄÖÜ €") == "Müller GmbH 42 ÄÖÜ €"


def test_plot_labels_are_entities_plotly_decodes_back():
    assert text.plot("<b>A & B</b> 5%") == "&lt;b&gt;A &amp; B&lt;/b&gt; 5&#37;"
    shown = text.plot_column(pd.Series(["<i>", None]))
    assert shown[0] == "&lt;i&gt;" and pd.isna(shown[1])


def test_from_link_shortens_a_long_value_before_escaping():
    shown = text.from_link("x" * 500)
    assert shown == "x" * 79 + "…"
    assert text.from_link("[a](b)") == r"\[a\]\(b\)"


QUARTER = Period(dt.date(2025, 1, 1), dt.date(2025, 3, 31), "Q1 2025")


@functools.cache
def _builders() -> dict[str, go.Figure]:
    """Every chart builder in ui/charts, with the names in its input carrying the payload (the
    axis titles, which name a currency or a unit, are the product's own)."""
    countries = pd.DataFrame(
        {
            "country_code": ["DE", "FR", "IT", "ES"],
            "iso3": ["DEU", "FRA", "ITA", "ESP"],
            "country": [named(c) for c in ("Germany", "France", "Italy", "Spain")],
            "region": [named("Europe")] * 4,
            "revenue": [400.0, 300.0, 200.0, 100.0],
            "growth_prior": [0.1, -0.05, 0.2, 0.0],
            "growth": [0.1, -0.05, 0.2, 0.0],
            "addressable_market": [1e6, 8e5, 5e5, 2e5],
            "penetration": [0.004, 0.003, 0.002, 0.001],
            "price_index": [110.0, 95.0, 100.0, 90.0],
            "avg_price_reporting": [11.0, 9.5, 10.0, 9.0],
            "avg_price_local": [11.0, 9.5, 10.0, 9.0],
            "currency_code": ["EUR", "EUR", "EUR", named("EUR")],
            "margin_0": [50.0, 40.0, 30.0, 20.0],
            "margin_1": [55.0, 35.0, 30.0, 25.0],
            "margin_change": [5.0, -5.0, 0.0, 5.0],
            "price": [10.0, 11.0, 12.0, 13.0],
            "list_price_local": [10.0, 11.0, 12.0, 13.0],
        }
    )
    mix = pd.DataFrame(
        {
            "country": [named("Germany"), named("Germany"), named("France")],
            "product_line": [named("Sensors"), named("Software"), named("Sensors")],
            "revenue": [60.0, 40.0, 100.0],
            "share": [0.6, 0.4, 1.0],
        }
    )
    trend = pd.DataFrame(
        {
            "month": pd.to_datetime(["2025-01-01", "2025-02-01"]),
            "region": [named("Europe")] * 2,
            "revenue": [10.0, 12.0],
        }
    )
    fan = pd.DataFrame(
        {"currency_code": ["USD"] * 2, "day": [1, 2]}
        | {p: [1.1, 1.2] for p in ("p5", "p25", "p50", "p75", "p95")}
    )
    bridge = pd.DataFrame({"effect": ["base", "price", "current"], "amount": [100.0, 10.0, 110.0]})
    labels = {"base": named("Q4 2024"), "price": named("Price"), "current": named("Q1 2025")}
    movers = pd.DataFrame(
        {"label": [named("Germany"), named("France")], "change": [5.0, -3.0]}
        | {"reason": [named("price"), named("volume")]}
    )
    reps = pd.DataFrame({"rep": [named("Ann"), named("Bo")], "attainment": [1.1, 0.7]})
    stages = pd.DataFrame(
        {
            "stage": [named("Qualify"), named("Propose")],
            "amount": [100.0, 50.0],
            "deals": [3, 2],
            "conversion": [0.5, float("nan")],
        }
    )
    activity = pd.DataFrame(
        {"activities": [3, 5], "revenue": [10.0, 20.0], "name": [named("Ann"), named("Bo")]}
        | {"pipeline": [5.0, 6.0]}
    )
    months = pd.to_datetime(["2025-01-01", "2025-02-01", "2025-03-01"])
    series = pd.DataFrame(
        {
            "month": months,
            "actual": [10.0, 11.0, np.nan],
            "forecast": [np.nan, np.nan, 12.0],
        }
        | {b: [np.nan, np.nan, 12.0] for b in ("lo95", "hi95", "lo80", "hi80")}
    )
    landings = pd.DataFrame(
        {
            "group": [named("Europe"), named("Americas")],
            "landing": [100.0, 80.0],
            "lo80": [90.0, 70.0],
            "hi80": [110.0, 90.0],
            "budget": [95.0, np.nan],
        }
    )
    projection = pd.DataFrame(
        {
            "quarter": ["Q1 2025", "Q2 2025"],
            "pipeline_projection": [1.0, 2.0],
            "statistical_forecast": [1.5, 2.5],
            "reps_commit": [1.2, 2.2],
        }
    )
    title = named("Title")
    return {
        "market_bars": markets.market_bars(countries, "country_code", "country", "EUR", title),
        "opportunity_bubbles": markets.opportunity_bubbles(countries, "EUR", named("Q1")),
        "mix_bars": markets.mix_bars(mix, "country", "product_line", title),
        "price_index_bars": markets.price_index_bars(countries, "EUR", title),
        "revenue_trend": overview.revenue_trend(trend, "EUR", named("reported"), QUARTER),
        "country_map revenue": overview.country_map(countries, "revenue", "EUR", named("Q1")),
        "country_map growth": overview.country_map(countries, "growth", "EUR", named("Q1")),
        "margin_bars": pricing.margin_bars(countries, "EUR", title),
        "margin_histogram": pricing.margin_histogram([1.0, 2.0, 3.0], 2.0, 0.5, "EUR", title),
        "rate_fan": pricing.rate_fan(fan, "USD", title),
        "price_corridor_chart": pricing.price_corridor_chart(
            countries, 9.0, 12.0, {countries["country"][0]}, "EUR", title
        ),
        "bridge_waterfall": review.bridge_waterfall(bridge, labels, "EUR", title),
        "signed_bars": review.signed_bars(movers, "label", "change", "EUR", title, "reason"),
        "pipeline_bars": review.pipeline_bars(
            {"commit": 1.0, "best_case": 2.0, "pipeline": 3.0, "quota": 2.5}, "EUR", title
        ),
        "attainment_bars": team.attainment_bars(reps, "rep", title, ytd=reps),
        "attainment_trend": team.attainment_trend(
            pd.DataFrame({"quarter": ["Q4 2024", "Q1 2025"], "attainment": [0.9, 1.1]}), title
        ),
        "stage_funnel": team.stage_funnel(stages, "EUR", title),
        "activity_scatter": team.activity_scatter(activity, "EUR", "rep", title),
        "forecast_chart": forecast.forecast_chart(series, title, "Net revenue (EUR)"),
        "track_record_chart": forecast.track_record_chart(series.fillna(1.0), title, "EUR"),
        "landing_chart": forecast.landing_chart(landings, title, "EUR"),
        "projection_chart": forecast.projection_chart(projection, title, "EUR"),
    }


def test_every_chart_builder_is_covered():
    modules = (forecast, markets, overview, pricing, review, team)
    public = {
        name
        for module in modules
        for name, value in vars(module).items()
        if callable(value)
        and getattr(value, "__module__", "") == module.__name__
        and not name.startswith("_")
        and isinstance(value, type(test_every_chart_builder_is_covered))
    }
    covered = {name.split()[0] for name in _builders()}
    # review_figures builds bridge_waterfall and signed_bars; budget_bridge_title returns a
    # title made of the quarter's label and the currency code, no figure and no data names.
    assert public - covered == {"review_figures", "budget_bridge_title"}


@pytest.mark.parametrize("name", list(_builders()))
def test_a_chart_draws_names_from_the_data_as_text(name):
    fig = _builders()[name]
    assert live_in_figure(fig) == []


def test_the_drill_down_keys_stay_raw_while_the_labels_are_escaped():
    """A click on a market bar or bubble selects its customdata[0], which must be the stored
    key itself, not its escaped label."""
    fig = _builders()["market_bars"]
    assert [row[0] for row in fig.data[0].customdata] == ["ES", "IT", "FR", "DE"]
    assert fig.data[0].y[-1] == text.plot(named("Germany"))
    bubbles = _builders()["opportunity_bubbles"]
    assert [row[0] for row in bubbles.data[0].customdata] == ["DE", "FR", "IT", "ES"]
    assert bubbles.data[0].customdata[0][1] == text.plot(named("Germany"))
