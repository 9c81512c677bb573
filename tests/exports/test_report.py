"""The quarterly review's exports: the PPTX reopens with its slides and native chart data,
the PDF has its pages, the HTML holds no remote address; each carries the stamp."""

from __future__ import annotations

import datetime as dt
import io
import os
import re
from html.parser import HTMLParser

import duckdb
import pytest
from pptx import Presentation
from pptx.enum.chart import XL_CHART_TYPE

from analytics import formatting, periods, plan_rates, review
from analytics.filters import Filters
from exports import content, deck, html, images, pdf


@pytest.fixture(scope="module")
def data(demo_db_path) -> review.Review:
    with duckdb.connect(str(demo_db_path), read_only=True) as con:
        last = con.execute("SELECT max(order_date) FROM order_lines").fetchone()[0]
        quarter = periods.full_quarters(dt.date(2021, 1, 1), last)[0]
        filters = Filters(period=quarter, comparison=quarter, currency="USD", regions=())
        return review.build(con, quarter, "last_year", filters)


def slide_texts(slide) -> list[str]:
    return [shape.text_frame.text for shape in slide.shapes if shape.has_text_frame]


def test_pptx_reopens_with_its_slides_and_chart_data(data):
    slides = Presentation(io.BytesIO(deck.to_pptx(data))).slides
    titles = [slide_texts(s)[0] for s in slides]
    assert titles == [
        f"Quarterly review — {data.quarter.label}",
        f"Headline — {data.quarter.label} vs {data.vs_label}",
        f"Revenue bridge {data.base.label} → {data.quarter.label} (USD)",
        f"Regional scorecard — {data.quarter.label} vs {data.vs_label}",
        f"Top movers — {data.base.label} → {data.quarter.label} (USD)",
        f"Pipeline for {data.pipeline['quarter']} vs quota (USD)",
    ]
    for slide in list(slides)[1:]:
        assert data.stamp() in slide_texts(slide), "every slide carries the stamp"
    assert "Rates: ECB" in data.stamp() and "Data to" in data.stamp()

    charts = {
        i: shape.chart
        for i, slide in enumerate(slides)
        for shape in slide.shapes
        if shape.has_chart
    }
    assert sorted(charts) == [2, 4, 5]

    # The bridge: a stacked-column waterfall whose visible bars give back every effect.
    bridge = charts[2]
    assert bridge.chart_type == XL_CHART_TYPE.COLUMN_STACKED
    plot = bridge.plots[0]
    assert list(plot.categories) == [content.bridge_labels(data)[e] for e in data.bridge["effect"]]
    base, total, up, down = (list(s.values) for s in plot.series)
    for i, (effect, amount) in enumerate(
        zip(data.bridge["effect"], data.bridge["amount"], strict=True)
    ):
        shown = total[i] if effect in ("base", "current") else up[i] - down[i]
        assert shown == pytest.approx(amount, rel=1e-9), effect
    # Each floating bar starts where the running total before it ends.
    running = data.bridge["amount"].iloc[0]
    for i, amount in enumerate(data.bridge["amount"].iloc[1:-1], start=1):
        assert base[i] == pytest.approx(min(running, running + amount), rel=1e-9)
        running += amount

    movers = review.top_movers(data.country_movers)
    values = list(charts[4].plots[0].series[0].values)
    assert values == pytest.approx(list(movers["change"]))
    assert list(charts[4].plots[0].categories) == [
        f"{country} ({reason})"
        for country, reason in zip(movers["country"], movers["reason"], strict=True)
    ]

    p = data.pipeline
    assert list(charts[5].plots[0].series[0].values) == pytest.approx(
        [p["commit"], p["best_case"], p["pipeline"], p["quota"]]
    )

    scorecard = next(s for s in list(slides)[3].shapes if s.has_table).table
    regions = [scorecard.cell(r, 0).text for r in range(1, len(data.regions) + 1)]
    assert regions == list(data.regions["region"])


def _require_chromium():
    if images.chromium_path() is None:
        if os.environ.get("CI") == "true" or os.environ.get("SALES_ATLAS_REQUIRE_BROWSER") == "1":
            pytest.fail("Chromium is required in CI for the PDF export")
        pytest.skip("no Chromium on this machine")


def test_pdf_has_one_page_per_section_and_the_stamp(data):
    from pypdf import PdfReader

    from ui.charts import review_figures

    _require_chromium()
    document = PdfReader(io.BytesIO(pdf.to_pdf(data, review_figures(data))))
    texts = [page.extract_text() for page in document.pages]
    assert len(texts) == 5
    starts = ["Quarterly review", "Revenue bridge", "Regional scorecard", "Top movers", "Pipeline"]
    for text, start in zip(texts, starts, strict=True):
        assert text.startswith(start), text[:80]
        assert "Data to" in text and data.currency in text  # the footer stamp
    assert data.quarter.label in texts[0]
    assert len(document.pages[1].images) == 1  # the bridge chart
    assert document.metadata.title == f"Quarterly review {data.quarter.label}"


def test_pdf_without_chromium_says_what_to_do(data, monkeypatch):
    monkeypatch.setattr(images, "chromium_path", lambda: None)
    assert "chromium" in images.unavailable_reason()
    with pytest.raises(images.ExportUnavailable, match="PPTX or HTML"):
        pdf.to_pdf(data, {})


class _References(HTMLParser):
    """Every attribute that could load something: src, href, srcset, xlink:href, action."""

    def __init__(self):
        super().__init__()
        self.found: list[str] = []
        self.tags: set[str] = set()

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        self.found += [
            v for k, v in attrs if k in {"src", "href", "srcset", "xlink:href", "action"}
        ]


def test_html_is_self_contained_and_complete(data):
    text = html.to_html(data)
    assert not re.search(r"(?i)(https?:)?//[a-z0-9.-]+\.[a-z]{2,}", text)
    assert "url(" not in text and "@import" not in text
    parser = _References()
    parser.feed(text)
    assert parser.found == []
    assert "script" not in parser.tags and "svg" in parser.tags
    for heading in ("Headline", "Revenue bridge", "Regional scorecard", "Top movers", "Pipeline"):
        assert f"<h2>{heading}" in text
    assert text.count("Data to") >= 6  # under the title and every section
    for region in data.regions["region"]:
        assert f"<td>{region.replace('&', '&amp;')}</td>" in text


def test_every_deck_shape_lies_inside_its_slide(data):
    presentation = Presentation(io.BytesIO(deck.to_pptx(data)))
    width, height = presentation.slide_width, presentation.slide_height
    outside = [
        (number, shape.name, shape.left, shape.top, shape.width, shape.height)
        for number, slide in enumerate(presentation.slides, start=1)
        for shape in slide.shapes
        if shape.left < 0
        or shape.top < 0
        or shape.left + shape.width > width
        or shape.top + shape.height > height
    ]
    assert outside == []


def _cut_labels(fig, width: int, height: int) -> list[str]:
    """Axis labels a static image of `fig` draws past its edge or under another label.

    Read from the SVG Plotly draws: a y tick label is right-aligned at its x, so it needs
    about half its font size per character to its left; an x tick label's baseline must lie
    within the image; the y axis title (rotated, centred on its x) must clear the tick labels.
    """
    import plotly.io as pio

    svg = pio.to_image(fig, format="svg", width=width, height=height).decode()
    problems, tick_starts = [], []
    for axis, attrs, text in re.findall(r'<g class="([xy])tick"><text ([^>]*)>([^<]*)<', svg):
        x, y = (
            float(re.search(r' x="([-\d.]+)"', attrs)[1]),
            float(re.search(r' y="([-\d.]+)"', attrs)[1]),
        )
        dx, dy = map(float, re.search(r"translate\(([-\d.]+),\s*([-\d.]+)\)", attrs).groups())
        size = float(re.search(r"font-size: ([\d.]+)px", attrs)[1])
        if axis == "y":
            start = x + dx - 0.5 * size * len(text)
            tick_starts.append(start)
            if start < 0:
                problems.append(f"y tick {text!r} starts at {start:.0f}px")
        elif y + dy > height:
            problems.append(f"x tick {text!r} has its baseline at {y + dy:.0f}px of {height}")
    for attrs, text in re.findall(r'<text class="ytitle" ([^>]*)>([^<]*)<', svg):
        x = float(re.search(r' x="([-\d.]+)"', attrs)[1])
        size = float(re.search(r"font-size: ([\d.]+)px", attrs)[1])
        if x - size / 2 < 0 or (tick_starts and x + size / 2 > min(tick_starts)):
            problems.append(
                f"y title {text!r} at {x:.0f}px, tick labels from {min(tick_starts):.0f}px"
            )
    return problems


def test_pdf_charts_keep_their_labels_inside_the_image_in_the_app(data, monkeypatch):
    import plotly.io as pio
    from streamlit.elements.lib.streamlit_plotly_theme import configure_streamlit_plotly_theme

    from ui.charts import review_figures

    _require_chromium()
    # Inside the app Streamlit makes its own template (no automargin) the process default.
    monkeypatch.setattr(pio.templates, "default", pio.templates.default)
    configure_streamlit_plotly_theme()
    assert pio.templates.default == "streamlit"
    size = (images.IMAGE_WIDTH, images.IMAGE_HEIGHT)
    figures = review_figures(data)
    assert _cut_labels(figures["bridge"], *size), "the screen layout is cut in print"
    for name, fig in figures.items():
        printed = images.print_figure(fig)
        assert printed.layout.template.layout.xaxis.automargin is True, name
        assert _cut_labels(printed, *size) == [], name


# --- the forecast slide and section ------------------------------------------------------------


@pytest.fixture(scope="module")
def forecast(demo_db_path, data):
    from analytics.forecast import figures

    with duckdb.connect(str(demo_db_path), read_only=True) as con:
        as_of = figures.review_as_of(data.quarter.end, data.data_date)
        return figures.build_summary(con, as_of, data.currency)


def _actuals_and_budget(db_path, as_of: dt.date, currency: str) -> tuple[list[float], float]:
    """The year's monthly net revenue at as-of rates and its budget, in `currency` at the
    as-of rate, straight from the store."""
    with duckdb.connect(str(db_path), read_only=True) as con:
        rate = con.execute(
            "SELECT units_per_eur FROM fx_rates WHERE currency_code = ? AND rate_date <= ? "
            "ORDER BY rate_date DESC LIMIT 1",
            [currency, as_of],
        ).fetchone()[0]
        months = con.execute(
            """
            WITH r AS (SELECT currency_code, arg_max(units_per_eur, rate_date) AS u
                       FROM fx_daily WHERE rate_date <= ? GROUP BY currency_code)
            SELECT month(order_date) AS m, sum(net_amount_local / r.u) FROM sales_daily
            JOIN r USING (currency_code)
            WHERE year(order_date) = ? AND order_date <= ? GROUP BY m ORDER BY m
            """,
            [as_of, as_of.year, as_of],
        ).fetchall()
        budget = con.execute(
            "SELECT sum(budget_revenue_eur) FROM budgets WHERE year(quarter_start) = ?",
            [as_of.year],
        ).fetchone()[0]
    return [v * rate for _, v in months], budget * rate


def test_pptx_forecast_slide_reopens_with_its_chart_and_landing(demo_db_path, data, forecast):
    presentation = Presentation(io.BytesIO(deck.to_pptx(data, forecast)))
    slides = list(presentation.slides)
    assert len(slides) == 7
    last = slides[-1]
    texts = slide_texts(last)
    assert texts[0] == f"Forecast — where {forecast.year} will land (USD)"
    assert data.stamp() in texts
    note = next(t for t in texts if t.startswith("All sales in reach"))
    assert "constant as-of rates" in note and "USD per EUR" in note
    (chart,) = [s.chart for s in last.shapes if s.has_chart]
    assert chart.chart_type == XL_CHART_TYPE.LINE
    series = {s.name: list(s.values) for s in chart.plots[0].series}
    assert list(series) == ["Actual", "Forecast", "80 % low", "80 % high"]
    as_of = forecast.shown.as_of
    actuals, budget = _actuals_and_budget(demo_db_path, as_of, "USD")
    months = list(chart.plots[0].categories)
    this_year = [i for i, m in enumerate(months) if m.endswith(f"{as_of:%y}")]
    observed = [series["Actual"][i] for i in this_year if series["Actual"][i] is not None]
    assert observed == pytest.approx(actuals[: len(observed)])
    assert len(observed) == as_of.month  # the demo's data ends on a month's last day
    ahead = [i for i, v in enumerate(series["Forecast"]) if v is not None]
    assert months[ahead[-1]] == f"Dec {as_of:%y}"
    assert all(series["Actual"][i] is None for i in ahead)
    assert all(
        series["80 % low"][i] < series["Forecast"][i] < series["80 % high"][i] for i in ahead
    )
    (table,) = [s.table for s in last.shapes if s.has_table]
    rows = [[cell.text for cell in row.cells] for row in table.rows]
    assert rows[0][:2] == ["Region", f"Landing {forecast.year}"]
    assert rows[-1][0] == "Total" and rows[-1][4] == formatting.money(budget, "USD")
    assert {r[0] for r in rows[1:-1]} == set(data.regions["region"]) - {review.TOTAL}
    width, height = presentation.slide_width, presentation.slide_height
    for shape in last.shapes:
        assert shape.left >= 0 and shape.left + shape.width <= width, shape.name
        assert shape.top >= 0 and shape.top + shape.height <= height, shape.name


def test_html_forecast_section(demo_db_path, data, forecast):
    text = html.to_html(data, forecast)
    assert f"<h2>Forecast — where {forecast.year} will land (USD)</h2>" in text
    _, budget = _actuals_and_budget(demo_db_path, forecast.shown.as_of, "USD")
    assert f"<td>{formatting.money(budget, 'USD')}</td>" in text
    assert text.count("Data to") >= 7
    assert not re.search(r"(?i)(https?:)?//[a-z0-9.-]+\.[a-z]{2,}", text)
    assert "<h2>Forecast" not in html.to_html(data)  # no forecast given: no section


@pytest.fixture(scope="module")
def vs_budget(demo_db_path) -> review.Review:
    quarter = periods.parse_quarter_key("2026Q3")
    with duckdb.connect(str(demo_db_path), read_only=True) as con:
        filters = Filters(period=quarter, comparison=quarter, currency="USD", basis="plan")
        return review.build(con, quarter, "budget", filters)


def _budget_split_by_region(db_path, quarter, currency: str) -> dict[str, tuple]:
    """Per region and in total, computed here from the tables: (budget, actual at plan
    rates, reported), the budget and the actuals at the quarter's plan rates."""
    with duckdb.connect(str(db_path), read_only=True) as con:
        rates = plan_rates.rates_for(con, quarter.start.year, plan_rates.quarter_of(quarter.start))
        sold = con.execute(
            "SELECT c.region, o.currency_code, sum(o.net_amount_local), "
            "sum(o.net_amount_eur * f.units_per_eur) FROM order_lines o "
            "JOIN countries c USING (country_code) "
            "JOIN fx_daily f ON f.rate_date = o.order_date AND f.currency_code = ? "
            "WHERE o.order_date BETWEEN ? AND ? GROUP BY ALL",
            [currency, quarter.start, quarter.end],
        ).fetchall()
        budgets = con.execute(
            "SELECT c.region, sum(b.budget_revenue_eur) FROM budgets b "
            "JOIN countries c USING (country_code) WHERE b.quarter_start = ? GROUP BY ALL",
            [quarter.start],
        ).fetchall()
    out: dict[str, list[float]] = {}
    for region, code, local, reported in sold:
        row = out.setdefault(region, [0.0, 0.0, 0.0])
        row[1] += local / rates[code] * rates[currency]
        row[2] += reported
    for region, eur in budgets:
        out.setdefault(region, [0.0, 0.0, 0.0])[0] += eur * rates[currency]
    out[review.TOTAL] = [sum(row[i] for row in out.values()) for i in range(3)]
    return {region: tuple(row) for region, row in out.items()}


def _cents(text: str) -> float:
    """'+$1,234.56' / '-$1,234.56' -> the amount."""
    return float(re.sub(r"[^0-9.\-]", "", text))


def test_every_export_vs_budget_carries_the_basis_and_the_operating_fx_split(
    demo_db_path, vs_budget
):
    figures = review.figures(vs_budget)

    def exact(value, signed=False):
        text = formatting.money(value, "USD", cents=True)
        return ("+" if signed and value > 0 else "") + text

    expected = [
        exact(figures["budget"]),
        exact(figures["variance_operating"], True),
        exact(figures["variance_fx"], True),
    ]
    assert "USD, at plan rates" in vs_budget.stamp()
    page = html.to_html(vs_budget)
    assert content.budget_title(vs_budget) in page and vs_budget.stamp() in page
    assert content.budget_regions_title(vs_budget) in page
    assert all(text in page for text in expected), expected
    presentation = Presentation(io.BytesIO(deck.to_pptx(vs_budget)))
    titles = [slide_texts(s)[0] for s in presentation.slides]
    at = titles.index(content.budget_title(vs_budget))
    # After the revenue bridge: the total split with its bridge, then the split per region;
    # each title names the quarter, the currency and the basis.
    assert titles[at - 1].startswith("Revenue bridge")
    assert titles[at + 1] == content.budget_regions_title(vs_budget)
    for title in titles[at : at + 2]:
        assert "Q3 2026" in title and "USD" in title and "at plan rates" in title
    slide = presentation.slides[at]
    cells = [
        cell.text_frame.text
        for shape in slide.shapes
        if shape.has_table
        for row in shape.table.rows
        for cell in row.cells
    ]
    assert all(text in cells for text in expected)
    assert [c for c in cells if c.endswith("variance")] == ["Operating variance", "FX variance"]

    # The slide's native waterfall gives back the budget bridge: budget, the five effects
    # (the operating four and FX) and the reported revenue.
    chart = next(s.chart for s in slide.shapes if s.has_chart)
    effects = vs_budget.budget_bridge
    labels = content.budget_bridge_labels(vs_budget)
    assert list(chart.plots[0].categories) == [labels[e] for e in effects["effect"]]
    _, total, up, down = (list(s.values) for s in chart.plots[0].series)
    shown = {
        e: total[i] if e in ("base", "current") else up[i] - down[i]
        for i, e in enumerate(effects["effect"])
    }
    assert shown["base"] == pytest.approx(figures["budget"], abs=0.005)
    assert shown["current"] == pytest.approx(figures["revenue_reported"], abs=0.005)
    assert shown["fx"] == pytest.approx(figures["variance_fx"], abs=0.005)
    operating = sum(shown[e] for e in ("volume", "mix", "price", "new"))
    assert operating == pytest.approx(figures["variance_operating"], abs=0.01)

    # The per-region slide: every region's budget, actual at plan rates and the split,
    # to the cent, as computed here from the tables; the total is review.figures'.
    independent = _budget_split_by_region(demo_db_path, vs_budget.quarter, "USD")
    table = next(s for s in presentation.slides[at + 1].shapes if s.has_table).table
    rows = [[c.text_frame.text for c in row.cells] for row in list(table.rows)[1:]]
    assert [r[0] for r in rows] == list(vs_budget.regions["region"])
    assert set(independent) == {r[0] for r in rows}
    for region, budget, at_plan, operating, fx, gap in rows:
        want_budget, want_plan, want_reported = independent[region]
        assert _cents(budget) == pytest.approx(want_budget, abs=0.005), region
        assert _cents(at_plan) == pytest.approx(want_plan, abs=0.005), region
        assert _cents(operating) == pytest.approx(want_plan - want_budget, abs=0.01), region
        assert _cents(fx) == pytest.approx(want_reported - want_plan, abs=0.01), region
        assert _cents(gap) == pytest.approx(want_reported - want_budget, abs=0.01), region
    total = rows[-1]
    assert total[0] == review.TOTAL
    assert total[1:] == [
        exact(figures["budget"]),
        exact(figures["revenue_plan"]),
        exact(figures["variance_operating"], True),
        exact(figures["variance_fx"], True),
        exact(figures["variance"], True),
    ]
    width, height = presentation.slide_width, presentation.slide_height
    assert all(
        s.left + s.width <= width and s.top + s.height <= height
        for slide in presentation.slides
        for s in slide.shapes
    )
