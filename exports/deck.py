"""The quarterly review as a 16:9 PPTX deck whose charts are native, editable PowerPoint charts."""

from __future__ import annotations

import datetime as dt
import io

from pptx import Presentation
from pptx.dml.color import RGBColor
from pptx.enum.chart import XL_CHART_TYPE, XL_LEGEND_POSITION
from pptx.util import Inches, Pt

from analytics import review
from analytics.forecast.figures import Summary
from analytics.review import Review
from exports.chart_data import TextChartData
from exports.content import (
    GAIN,
    LOSS,
    MUTED,
    PRODUCT,
    TOTAL_COLOUR,
    bridge_rows,
    budget_bridge_labels,
    budget_region_table,
    budget_regions_title,
    budget_rows,
    budget_title,
    forecast_landing_table,
    forecast_note,
    headline_rows,
    movers_table,
    scorecard_table,
    waterfall_parts,
)

SLIDE_WIDTH, SLIDE_HEIGHT = Inches(13.333), Inches(7.5)
# Between the title (ends at 1.1 in) and the stamp (starts at 6.85 in).
BODY_TOP, BODY_BOTTOM = Inches(1.2), Inches(6.8)
ACTUAL = "1B2631"


def to_pptx(data: Review, forecast: Summary | None = None) -> bytes:
    """A 16:9 deck: title, headline, bridge, regional scorecard, movers, pipeline, and the
    forecast with the year-end landing when given. Charts are native PowerPoint charts, so
    their data can be edited in PowerPoint."""
    deck = Presentation()
    deck.slide_width, deck.slide_height = SLIDE_WIDTH, SLIDE_HEIGHT
    deck.core_properties.title = f"Quarterly review {data.quarter.label}"
    deck.core_properties.subject = data.stamp()[:255]  # the format allows 255 characters
    blank = deck.slide_layouts[6]

    def slide(title: str):
        page = deck.slides.add_slide(blank)
        _text(page, title, Inches(0.5), Inches(0.3), Inches(12.3), Inches(0.8), Pt(30), True)
        _text(
            page,
            data.stamp(),
            Inches(0.5),
            Inches(6.85),
            Inches(12.3),
            Inches(0.5),
            Pt(10),
            colour=MUTED,
        )
        return page

    def table(page, header, rows, top, row_height, size, left=None, width=None):
        """A table whose rows share what is left above the stamp when they would not fit."""
        left, width = left or Inches(0.5), width or Inches(12.3)
        height = min(row_height * (len(rows) + 1), BODY_BOTTOM - top)
        shape = page.shapes.add_table(len(rows) + 1, len(header), left, top, width, height)
        for c, text in enumerate(header):
            _cell(shape.table.cell(0, c), text, size, bold=True)
        for r, row in enumerate(rows, start=1):
            for c, text in enumerate(row):
                _cell(shape.table.cell(r, c), text, size, bold=row[0] == review.TOTAL)
        return shape

    first = deck.slides.add_slide(blank)
    _text(
        first,
        f"Quarterly review — {data.quarter.label}",
        Inches(0.8),
        Inches(2.2),
        Inches(11.7),
        Inches(1.2),
        Pt(44),
        True,
    )
    lines = [
        f"vs {data.vs_label} · {data.currency}",
        data.scope(),
        f"Data to {data.data_date:%d %b %Y} · {data.data_source}",
        f"Rates: {data.rates}",
        f"Prepared with {PRODUCT} on {dt.date.today():%d %b %Y}",
    ]
    _text(
        first,
        "\n".join(lines),
        Inches(0.8),
        Inches(3.5),
        Inches(11.7),
        Inches(2.5),
        Pt(18),
        colour=MUTED,
    )

    page = slide(f"Headline — {data.quarter.label} vs {data.vs_label}")
    rows = [list(r) for r in headline_rows(data)]
    table(page, ["Metric", "Value", "Comparison"], rows, Inches(1.3), Inches(0.52), Pt(16))

    page = slide(f"Revenue bridge {data.base.label} → {data.quarter.label} ({data.currency})")
    _waterfall(page, waterfall_parts(data))
    rows = [list(r) for r in bridge_rows(data)]
    table(
        page,
        ["Step", f"Amount ({data.currency})"],
        rows,
        BODY_TOP,
        Inches(0.45),
        Pt(13),
        left=Inches(9.0),
        width=Inches(3.8),
    )

    if data.vs == "budget":
        page = slide(budget_title(data))
        rows = [list(r) for r in budget_rows(data)]
        if data.budget_bridge is None:  # no budget for the selection: the row says why
            table(
                page,
                ["Step", f"Amount ({data.currency})", "Note"],
                rows,
                Inches(1.3),
                Inches(0.4),
                Pt(13),
            )
        else:
            _waterfall(
                page,
                waterfall_parts(data, data.budget_bridge, budget_bridge_labels(data)),
                width=Inches(7.4),
            )
            table(
                page,
                ["Step", f"Amount ({data.currency})"],
                [row[:2] for row in rows],
                BODY_TOP,
                Inches(0.42),
                Pt(12),
                left=Inches(8.1),
                width=Inches(4.7),
            )
            page = slide(budget_regions_title(data))
            header, rows = budget_region_table(data)
            table(page, header, rows, Inches(1.3), Inches(0.45), Pt(13))

    page = slide(f"Regional scorecard — {data.quarter.label} vs {data.vs_label}")
    header, rows = scorecard_table(data)
    table(page, header, rows, Inches(1.3), Inches(0.45), Pt(13))

    page = slide(f"Top movers — {data.base.label} → {data.quarter.label} ({data.currency})")
    movers = review.top_movers(data.country_movers)
    chart_data = TextChartData(number_format="#,##0")
    chart_data.categories = [
        f"{c} ({r})" for c, r in zip(movers["country"], movers["reason"], strict=True)
    ]
    chart_data.add_series(f"Change in net revenue ({data.currency})", list(movers["change"]))
    frame = page.shapes.add_chart(
        XL_CHART_TYPE.BAR_CLUSTERED, Inches(0.5), BODY_TOP, Inches(5.6), Inches(5.5), chart_data
    )
    frame.chart.has_legend = True
    frame.chart.legend.position = XL_LEGEND_POSITION.BOTTOM
    frame.chart.legend.include_in_layout = False
    frame.chart.category_axis.reverse_order = True
    frame.chart.category_axis.tick_labels.font.size = Pt(11)
    _fill(frame.chart.series[0], TOTAL_COLOUR)
    frame.chart.series[0].invert_if_negative = False
    header, rows = movers_table(data, "accounts")
    table(
        page,
        header,
        rows,
        BODY_TOP,
        Inches(0.4),
        Pt(10),
        left=Inches(6.3),
        width=Inches(6.5),
    )

    p = data.pipeline
    page = slide(f"Pipeline for {p['quarter']} vs quota ({data.currency})")
    if p["snapshot_date"] is None:
        _text(
            page,
            f"No pipeline snapshot on or before {data.quarter.end:%d %b %Y}.",
            Inches(0.5),
            Inches(1.5),
            Inches(12),
            Inches(1),
            Pt(20),
        )
    else:
        chart_data = TextChartData(number_format="#,##0")
        chart_data.categories = ["Commit", "Best case", "Pipeline", "Quota"]
        chart_data.add_series(
            f"{p['quarter']} ({data.currency})",
            [p["commit"], p["best_case"], p["pipeline"], p["quota"] or 0.0],
        )
        frame = page.shapes.add_chart(
            XL_CHART_TYPE.COLUMN_CLUSTERED,
            Inches(0.5),
            BODY_TOP,
            Inches(8.3),
            Inches(5.5),
            chart_data,
        )
        frame.chart.has_legend = False
        _fill(frame.chart.series[0], TOTAL_COLOUR)
        note = (
            f"Open deals due in {p['quarter']} as of the {p['snapshot_date']:%d %b %Y} weekly "
            f"snapshot ({p['deals']} deals), converted at that day's ECB rates. Best case "
            "includes commit; pipeline includes both. Quota: the reps in scope."
        )
        _text(page, note, Inches(9.0), Inches(1.4), Inches(3.8), Inches(3), Pt(14))

    if forecast is not None:
        _forecast_slide(slide, table, forecast)

    out = io.BytesIO()
    deck.save(out)
    return out.getvalue()


def _forecast_slide(slide, table, summary: Summary) -> None:
    """The total's monthly revenue and forecast to the year end (native line chart), and the
    year-end landing per region and in total against budget."""
    cur = summary.shown.currency
    page = slide(f"Forecast — where {summary.year} will land ({cur})")
    frame = summary.total
    chart_data = TextChartData(number_format="#,##0")
    chart_data.categories = [f"{m:%b %y}" for m in frame["month"]]
    for column, name in (
        ("actual", "Actual"),
        ("forecast", "Forecast"),
        ("lo80", "80 % low"),
        ("hi80", "80 % high"),
    ):
        chart_data.add_series(name, [None if v != v else float(v) for v in frame[column]])
    shape = page.shapes.add_chart(
        XL_CHART_TYPE.LINE, Inches(0.5), BODY_TOP, Inches(6.0), Inches(4.4), chart_data
    )
    chart = shape.chart
    chart.has_legend = True
    chart.legend.position = XL_LEGEND_POSITION.BOTTOM
    chart.legend.include_in_layout = False
    chart.value_axis.has_major_gridlines = True
    chart.value_axis.tick_labels.font.size = Pt(10)
    chart.category_axis.tick_labels.font.size = Pt(10)
    for series, colour in zip(chart.series, (ACTUAL, TOTAL_COLOUR, MUTED, MUTED), strict=True):
        series.format.line.color.rgb = RGBColor.from_string(colour)
        series.smooth = False
    header, rows = forecast_landing_table(summary)
    table(page, header, rows, BODY_TOP, Inches(0.42), Pt(11), left=Inches(6.7), width=Inches(6.1))
    _text(page, forecast_note(summary), Inches(0.5), Inches(5.7), Inches(12.3), Inches(1.1), Pt(11))


def _waterfall(page, parts, width=None) -> None:
    """A waterfall (waterfall_parts' bars) as a native stacked-column chart: an invisible
    base carries each bar to its level."""
    chart_data = TextChartData(number_format="#,##0")
    chart_data.categories = [label for label, *_ in parts]
    is_total = [colour == TOTAL_COLOUR for *_, colour in parts]
    chart_data.add_series(
        "Base", [0 if t else low for (_, low, _, _), t in zip(parts, is_total, strict=True)]
    )
    chart_data.add_series(
        "Total", [high if t else 0 for (_, _, high, _), t in zip(parts, is_total, strict=True)]
    )
    chart_data.add_series("Increase", [high - low if c == GAIN else 0 for _, low, high, c in parts])
    chart_data.add_series("Decrease", [high - low if c == LOSS else 0 for _, low, high, c in parts])
    frame = page.shapes.add_chart(
        XL_CHART_TYPE.COLUMN_STACKED,
        Inches(0.5),
        BODY_TOP,
        width or Inches(8.3),
        Inches(5.5),
        chart_data,
    )
    chart = frame.chart
    chart.has_legend = False
    chart.plots[0].gap_width = 40
    chart.plots[0].overlap = 100
    for series, colour in zip(chart.series, (None, TOTAL_COLOUR, GAIN, LOSS), strict=True):
        _fill(series, colour)
    chart.value_axis.has_major_gridlines = True
    chart.value_axis.tick_labels.font.size = Pt(11)
    chart.category_axis.tick_labels.font.size = Pt(12)


def _text(page, text, left, top, width, height, size, bold=False, colour=None):
    box = page.shapes.add_textbox(left, top, width, height)
    frame = box.text_frame
    frame.word_wrap = True
    for i, line in enumerate(text.split("\n")):
        paragraph = frame.paragraphs[0] if i == 0 else frame.add_paragraph()
        paragraph.text = line
        paragraph.font.size = size
        paragraph.font.bold = bold
        if colour:
            paragraph.font.color.rgb = RGBColor.from_string(colour)
    return box


def _cell(cell, text, size, bold=False):
    cell.text = text
    for paragraph in cell.text_frame.paragraphs:
        paragraph.font.size = size
        paragraph.font.bold = bold


def _fill(series, colour: str | None) -> None:
    if colour is None:
        series.format.fill.background()  # the invisible base of a waterfall
        series.format.line.fill.background()
    else:
        series.format.fill.solid()
        series.format.fill.fore_color.rgb = RGBColor.from_string(colour)
