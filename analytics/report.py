"""The quarterly review as files to present and send: a PPTX deck with native (editable)
charts, a PDF, and a self-contained HTML report that opens offline.

Every file carries the quarter, the comparison, the currency, the filters, the data date
and the rate source (Review.stamp). The PPTX and HTML need nothing but Python; the PDF
embeds the app's Plotly charts as images, which Plotly renders through a Chromium browser
(kaleido), so it is refused with a clear message when no Chromium is installed. The HTML
draws its charts as inline SVG rather than embedding plotly.js: the file stays small
enough to e-mail and holds no address of any remote resource.
"""

from __future__ import annotations

import datetime as dt
import html
import io
import os
import shutil
import threading
import warnings
from pathlib import Path

import pandas as pd
from pptx import Presentation
from pptx.chart.data import CategoryChartData
from pptx.dml.color import RGBColor
from pptx.enum.chart import XL_CHART_TYPE, XL_LEGEND_POSITION
from pptx.util import Inches, Pt

from analytics import formatting, periods, review
from analytics.errors import UserError
from analytics.review import EFFECT_LABELS, Review

PRODUCT = "Sales Atlas"
GAIN, LOSS, TOTAL_COLOUR, MUTED = "1A7F37", "C73E1D", "1F4E79", "6B7785"
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "chrome")
# (regular, bold) Unicode fonts; without one the PDF falls back to Latin-1 core fonts.
FONT_CANDIDATES = (
    (
        "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
        "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
    ),
    (
        "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
        "/usr/share/fonts/truetype/liberation/LiberationSans-Bold.ttf",
    ),
)


class ExportUnavailable(UserError):
    """An export cannot be made on this machine; the message says why and what to do."""


# --- the content every format shares -------------------------------------------------------


def file_stem(data: Review) -> str:
    return f"quarterly_review_{periods.quarter_key(data.quarter)}_{data.vs}_{data.currency}"


def bridge_labels(data: Review) -> dict[str, str]:
    return EFFECT_LABELS | {"base": data.base.label, "current": data.quarter.label}


def headline_rows(data: Review) -> list[tuple[str, str, str]]:
    """(metric, value, comparison) for the headline, formatted for people."""
    h, cur, p = data.headline, data.currency, data.pipeline
    base = data.base.label
    money = formatting.money

    def change(value, kind="money") -> str:
        return formatting.change(value, kind) or "–"

    rows = [
        ("Net revenue (reported)", money(h["revenue"], cur), f"{change(h['growth'])} vs {base}"),
        (
            "Net revenue at constant currency",
            money(h["revenue_cc"], cur),
            f"{change(h['growth_cc'])} vs {base}, at {base} average rates",
        ),
        (
            "FX effect on growth",
            change(h["fx_effect"], "percent"),
            f"{money(h['fx_amount'], cur)} of revenue",
        ),
        (
            "Gross margin",
            formatting.percent(h["margin_pct"]),
            f"{change(_minus(h['margin_pct'], h['margin_pct_base']), 'percent')} vs {base}",
        ),
        (
            "Revenue vs budget",
            change(h["vs_budget"]),
            f"budget {money(h['budget'], cur)} (EUR budget at the quarter's average rate)",
        ),
        (
            "Quota attainment",
            formatting.percent(h["attainment"]),
            f"{money(h['booked_eur'], 'EUR')} booked of {money(h['quota_eur'], 'EUR')} quota",
        ),
    ]
    if p["snapshot_date"] is None:
        rows.append((f"{p['quarter']} pipeline", "–", "no pipeline snapshot"))
    else:
        for key, label in (
            ("commit", "commit"),
            ("best_case", "best case"),
            ("pipeline", "pipeline"),
        ):
            share = p[key] / p["quota"] if p.get("quota") else None
            rows.append(
                (
                    f"{p['quarter']} {label}",
                    money(p[key], cur),
                    f"{formatting.percent(share, 0)} of quota {money(p['quota'], cur)}",
                )
            )
    return rows


def _minus(a, b):
    return None if a is None or b is None else a - b


def bridge_rows(data: Review) -> list[tuple[str, str]]:
    labels = bridge_labels(data)
    rows = []
    for effect, amount in zip(data.bridge["effect"], data.bridge["amount"], strict=True):
        text = formatting.money(amount, data.currency, compact=False)
        if effect not in ("base", "current") and amount > 0:
            text = "+" + text
        rows.append((labels[effect], text))
    return rows


def scorecard_table(data: Review) -> tuple[list[str], list[list[str]]]:
    cur = data.currency
    header = [
        "Region",
        f"Net revenue ({cur})",
        f"{data.base.label} ({cur})",
        "Growth",
        "Growth at CC",
        "FX (pp)",
        "Gross margin",
        "Budget",
        "vs budget",
        "Attainment",
    ]
    rows = []
    for r in data.regions.itertuples():
        rows.append(
            [
                r.region,
                formatting.money(r.revenue, cur),
                formatting.money(r.revenue_base, cur),
                formatting.change(r.growth, "money") or "–",
                formatting.change(r.growth_cc, "money") or "–",
                "–" if pd.isna(r.fx_effect) else f"{r.fx_effect * 100:+.1f}",
                formatting.percent(r.margin_pct),
                formatting.money(r.budget, cur),
                formatting.change(r.vs_budget, "money") or "–",
                formatting.percent(r.attainment),
            ]
        )
    return header, rows


def movers_table(data: Review, kind: str, n: int = 5) -> tuple[list[str], list[list[str]]]:
    """The top gains and losses of countries or accounts, formatted."""
    cur = data.currency
    if kind == "countries":
        frame, name, where = review.top_movers(data.country_movers, n), "country", "region"
        header = ["Country", "Region"]
    else:
        frame, name, where = review.top_movers(data.account_movers, n), "customer", "country"
        header = ["Account", "Country"]
    header += [f"{data.base.label} ({cur})", f"{data.quarter.label} ({cur})", "Change", "Reason"]
    rows = [
        [
            str(row[name]),
            str(row[where]),
            formatting.money(row["r0"], cur),
            formatting.money(row["r1"], cur),
            ("+" if row["change"] > 0 else "") + formatting.money(row["change"], cur),
            str(row["reason"]),
        ]
        for _, row in frame.iterrows()
    ]
    return header, rows


def _waterfall_parts(data: Review) -> list[tuple[str, float, float, str]]:
    """(label, low, high, colour) of each waterfall bar."""
    labels = bridge_labels(data)
    parts, running = [], 0.0
    for effect, amount in zip(data.bridge["effect"], data.bridge["amount"], strict=True):
        if effect in ("base", "current"):
            parts.append((labels[effect], 0.0, amount, TOTAL_COLOUR))
            running = amount
        else:
            low, high = sorted((running, running + amount))
            parts.append((labels[effect], low, high, GAIN if amount >= 0 else LOSS))
            running += amount
    return parts


# --- PPTX -----------------------------------------------------------------------------------


def to_pptx(data: Review) -> bytes:
    """A 16:9 deck: title, headline, bridge, regional scorecard, movers, pipeline. Charts
    are native PowerPoint charts, so their data can be edited in PowerPoint."""
    deck = Presentation()
    deck.slide_width, deck.slide_height = Inches(13.333), Inches(7.5)
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

    def table(page, header, rows, top, height, size, left=None, width=None):
        left, width = left or Inches(0.5), width or Inches(12.3)
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
    table(
        page,
        ["Metric", "Value", "Comparison"],
        [list(r) for r in headline_rows(data)],
        Inches(1.3),
        Inches(5.2),
        Pt(16),
    )

    page = slide(f"Revenue bridge {data.base.label} → {data.quarter.label} ({data.currency})")
    parts = _waterfall_parts(data)
    chart_data = CategoryChartData(number_format="#,##0")
    chart_data.categories = [label for label, *_ in parts]
    # A waterfall as stacked columns: an invisible base carries each bar to its level.
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
        XL_CHART_TYPE.COLUMN_STACKED, Inches(0.5), Inches(1.2), Inches(8.3), Inches(5.5), chart_data
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
    table(
        page,
        ["Step", f"Amount ({data.currency})"],
        [list(r) for r in bridge_rows(data)],
        Inches(9.0),
        Inches(3.6),
        Pt(13),
        left=Inches(9.0),
        width=Inches(3.8),
    )

    page = slide(f"Regional scorecard — {data.quarter.label} vs {data.vs_label}")
    header, rows = scorecard_table(data)
    table(page, header, rows, Inches(1.3), Inches(0.45) * (len(rows) + 1), Pt(13))

    page = slide(f"Top movers — {data.base.label} → {data.quarter.label} ({data.currency})")
    movers = review.top_movers(data.country_movers)
    chart_data = CategoryChartData(number_format="#,##0")
    chart_data.categories = [
        f"{c} ({r})" for c, r in zip(movers["country"], movers["reason"], strict=True)
    ]
    chart_data.add_series(f"Change in net revenue ({data.currency})", list(movers["change"]))
    frame = page.shapes.add_chart(
        XL_CHART_TYPE.BAR_CLUSTERED, Inches(0.5), Inches(1.2), Inches(5.6), Inches(5.5), chart_data
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
        Inches(1.2),
        Inches(0.4) * (len(rows) + 1),
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
        chart_data = CategoryChartData(number_format="#,##0")
        chart_data.categories = ["Commit", "Best case", "Pipeline", "Quota"]
        chart_data.add_series(
            f"{p['quarter']} ({data.currency})",
            [p["commit"], p["best_case"], p["pipeline"], p["quota"] or 0.0],
        )
        frame = page.shapes.add_chart(
            XL_CHART_TYPE.COLUMN_CLUSTERED,
            Inches(0.5),
            Inches(1.2),
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

    out = io.BytesIO()
    deck.save(out)
    return out.getvalue()


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


# --- HTML -----------------------------------------------------------------------------------

HTML_STYLE = """
body { font-family: "Segoe UI", Helvetica, Arial, sans-serif; color: #1b2631; margin: 2rem auto;
       max-width: 1100px; padding: 0 1rem; }
h1 { margin-bottom: .2rem; } h2 { margin-top: 2.2rem; border-bottom: 2px solid #1f4e79; }
.stamp { color: #6b7785; font-size: .9rem; }
table { border-collapse: collapse; margin: .8rem 0; font-size: .92rem; }
th, td { padding: .35rem .7rem; border-bottom: 1px solid #e1e5ea; text-align: right; }
th:first-child, td:first-child { text-align: left; }
th { background: #f3f6f9; }
tr.total td { font-weight: 700; }
svg text { font-family: inherit; }
@media print { h2 { page-break-before: always; } }
"""


def to_html(data: Review) -> str:
    """One HTML file with inline CSS and SVG charts: no scripts, no remote resources."""
    e = html.escape
    stamp = f'<p class="stamp">{e(data.stamp())}</p>'
    header, rows = scorecard_table(data)
    sections = [
        ("Headline", _html_table(["Metric", "Value", "Comparison"], headline_rows(data))),
        (
            f"Revenue bridge {data.base.label} → {data.quarter.label} ({data.currency})",
            _svg_columns(_waterfall_parts(data), data.currency)
            + _html_table(["Step", f"Amount ({data.currency})"], bridge_rows(data))
            + f"<p>{e(BRIDGE_NOTE)}</p>",
        ),
        ("Regional scorecard", _html_table(header, rows)),
        (
            f"Top movers {data.base.label} → {data.quarter.label} ({data.currency})",
            _svg_bars(review.top_movers(data.country_movers), data.currency)
            + _html_table(*movers_table(data, "countries"))
            + _html_table(*movers_table(data, "accounts")),
        ),
        (f"Pipeline for {data.pipeline['quarter']}", _pipeline_html(data)),
    ]
    body = "".join(
        f"<section><h2>{e(title)}</h2>{content}{stamp}</section>" for title, content in sections
    )
    title = f"Quarterly review — {data.quarter.label} vs {data.vs_label}"
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{e(title)}</title><style>{HTML_STYLE}</style></head><body>"
        f"<h1>{e(title)}</h1>{stamp}"
        f'<p class="stamp">Prepared with {PRODUCT} on {dt.date.today():%d %b %Y}.</p>'
        f"{body}</body></html>"
    )


BRIDGE_NOTE = (
    "Items are product × country. Volume: the change in units at the base quarter's average "
    "price. Mix: what the items sold are worth at their own base prices, beyond that average. "
    "Price: current prices at base rates against base prices, for items with net units in "
    "both quarters. New business: items with no base sales, no base price (net returns) or "
    "net returns now, at base rates. FX: reported minus constant-currency revenue."
)


def _html_table(header, rows) -> str:
    e = html.escape
    head = "".join(f"<th>{e(str(h))}</th>" for h in header)
    body = "".join(
        ('<tr class="total">' if row[0] == review.TOTAL else "<tr>")
        + "".join(f"<td>{e(str(c))}</td>" for c in row)
        + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _pipeline_html(data: Review) -> str:
    p = data.pipeline
    if p["snapshot_date"] is None:
        return f"<p>No pipeline snapshot on or before {data.quarter.end:%d %b %Y}.</p>"
    bars = [
        ("Commit", 0.0, p["commit"], TOTAL_COLOUR),
        ("Best case", 0.0, p["best_case"], "2E86AB"),
        ("Pipeline", 0.0, p["pipeline"], "8ECAE6"),
    ]
    note = (
        f"Open deals due in {p['quarter']} as of the {p['snapshot_date']:%d %b %Y} weekly "
        f"snapshot ({p['deals']} deals), at that day's ECB rates; the dashed line is the quota "
        f"of the reps in scope ({formatting.money(p['quota'], data.currency)})."
    )
    return _svg_columns(bars, data.currency, reference=p.get("quota"), from_zero=True) + (
        f"<p>{html.escape(note)}</p>"
    )


def _svg_columns(bars, currency: str, reference=None, from_zero: bool = False) -> str:
    """Vertical bars from low to high (a waterfall when lows float), labelled, on an axis
    that starts near the smallest level so that small steps stay visible."""
    width, height, left, bottom, top = 960, 380, 70, 40, 20
    highs = [high for _, _, high, _ in bars] + ([reference] if reference else [])
    lows = [low for _, low, _, _ in bars if low > 0]
    y_max = max(highs) * 1.08 or 1.0
    y_min = 0.0 if from_zero or not lows else max(0.0, min(lows) * 0.85)
    scale = (height - top - bottom) / (y_max - y_min)

    def y(value: float) -> float:
        return height - bottom - (max(value, y_min) - y_min) * scale

    step = (width - left - 10) / len(bars)
    parts = [
        f'<svg viewBox="0 0 {width} {height}" width="100%" role="img" '
        f'aria-label="{html.escape(currency)} chart">'
    ]
    for i in range(5):
        value = y_min + (y_max - y_min) * i / 4
        parts.append(
            f'<line x1="{left}" x2="{width - 10}" y1="{y(value):.1f}" y2="{y(value):.1f}" '
            'stroke="#e5e5e5"/>'
            f'<text x="{left - 6}" y="{y(value) + 4:.1f}" font-size="11" text-anchor="end" '
            f'fill="#555">{html.escape(_short(value))}</text>'
        )
    for i, (label, low, high, colour) in enumerate(bars):
        x = left + i * step + step * 0.15
        amount = high - low
        sign = "-" if colour == LOSS else "+" if colour == GAIN else ""
        parts.append(
            f'<rect x="{x:.1f}" y="{y(high):.1f}" width="{step * 0.7:.1f}" '
            f'height="{max(1.0, y(low) - y(high)):.1f}" fill="#{colour}"/>'
            f'<text x="{x + step * 0.35:.1f}" y="{y(high) - 5:.1f}" font-size="12" '
            f'text-anchor="middle">{html.escape(sign + _short(amount))}</text>'
            f'<text x="{x + step * 0.35:.1f}" y="{height - bottom + 18}" font-size="12" '
            f'text-anchor="middle">{html.escape(label)}</text>'
        )
    if reference:
        parts.append(
            f'<line x1="{left}" x2="{width - 10}" y1="{y(reference):.1f}" '
            f'y2="{y(reference):.1f}" stroke="#{LOSS}" stroke-dasharray="6 4" stroke-width="2"/>'
            f'<text x="{width - 12}" y="{y(reference) - 6:.1f}" font-size="12" text-anchor="end" '
            f'fill="#{LOSS}">Quota {html.escape(_short(reference))}</text>'
        )
    parts.append(
        f'<text x="14" y="{height / 2}" font-size="12" transform="rotate(-90 14 {height / 2})" '
        f'text-anchor="middle">{html.escape(currency)}</text></svg>'
    )
    return "".join(parts)


def _svg_bars(frame: pd.DataFrame, currency: str) -> str:
    """Horizontal bars of each country's change, gains green, losses red, reason in the label."""
    if frame.empty:
        return "<p>No country changed between the two quarters.</p>"
    width, row, label_width = 960, 28, 330
    height = row * len(frame) + 30
    span = float(frame["change"].abs().max()) or 1.0
    lowest, highest = min(0.0, frame["change"].min()), max(0.0, frame["change"].max())
    scale = (width - label_width - 90) / ((highest - lowest) or span)
    zero = label_width + (0 - lowest) * scale
    parts = [
        f'<svg viewBox="0 0 {width} {height}" width="100%" role="img" '
        f'aria-label="Change in net revenue, {html.escape(currency)}">'
    ]
    for i, r in enumerate(frame.itertuples()):
        y = 10 + i * row
        x0, x1 = sorted((zero, zero + r.change * scale))
        colour = GAIN if r.change >= 0 else LOSS
        parts.append(
            f'<text x="{label_width - 8}" y="{y + 17}" font-size="12" text-anchor="end">'
            f"{html.escape(f'{r.country} · {r.reason}')}</text>"
            f'<rect x="{x0:.1f}" y="{y + 4}" width="{max(1.0, x1 - x0):.1f}" height="{row - 8}" '
            f'fill="#{colour}"/>'
            f'<text x="{x1 + 4 if r.change >= 0 else x0 - 4:.1f}" y="{y + 17}" font-size="12" '
            f'text-anchor="{"start" if r.change >= 0 else "end"}">'
            f"{html.escape(('+' if r.change > 0 else '') + _short(r.change))}</text>"
        )
    parts.append(
        f'<line x1="{zero:.1f}" x2="{zero:.1f}" y1="6" y2="{height - 14}" stroke="#444"/>'
        f'<text x="{width - 10}" y="{height - 2}" font-size="11" text-anchor="end" fill="#555">'
        f"{html.escape(currency)}</text></svg>"
    )
    return "".join(parts)


def _short(value: float) -> str:
    sign = "-" if value < 0 else ""
    magnitude = abs(value)
    for limit, suffix in ((1e9, "bn"), (1e6, "M"), (1e3, "k")):
        if magnitude >= limit:
            return f"{sign}{magnitude / limit:,.1f}{suffix}"
    return f"{sign}{magnitude:,.0f}"


# --- PDF ------------------------------------------------------------------------------------

_KALEIDO_LOCK = threading.Lock()


def chromium_path() -> str | None:
    """The Chromium that Plotly's image export will use, if one is installed."""
    configured = os.environ.get("BROWSER_PATH")
    if configured and Path(configured).exists():
        return configured
    return next((found for name in CHROMIUM_NAMES if (found := shutil.which(name))), None)


def pdf_unavailable_reason() -> str | None:
    """Why a PDF cannot be made here, or None when it can."""
    if chromium_path() is None:
        return (
            "The PDF embeds the charts as images, which Plotly draws with a Chromium browser, "
            "and none is installed on this machine. Install Debian's `chromium` package (or set "
            "BROWSER_PATH to a Chromium), or use the PPTX or HTML export, which need none."
        )
    return None


def chart_images(figures: dict, width: int = 1100, height: int = 520) -> dict[str, bytes]:
    """PNG bytes of each Plotly figure, drawn by kaleido in one browser session."""
    import kaleido
    import plotly.io as pio

    reason = pdf_unavailable_reason()
    if reason:
        raise ExportUnavailable(reason)
    os.environ.setdefault("BROWSER_PATH", chromium_path())
    with _KALEIDO_LOCK:
        kaleido.start_sync_server(silence_warnings=True)
        try:
            with warnings.catch_warnings():
                # Plotly warns that its per-call browser options are unused with a server.
                warnings.filterwarnings("ignore", "The kopts argument", UserWarning)
                return {
                    name: pio.to_image(fig, format="png", width=width, height=height, scale=2)
                    for name, fig in figures.items()
                }
        finally:
            kaleido.stop_sync_server(silence_warnings=True)


def to_pdf(data: Review, figures: dict) -> bytes:
    """A landscape A4 PDF: headline, bridge, regional scorecard, movers, pipeline; the
    figures (Plotly, keyed bridge, countries, pipeline) embedded as images."""
    from fpdf import FPDF

    images = chart_images(figures)
    font = next((pair for pair in FONT_CANDIDATES if all(Path(p).exists() for p in pair)), None)

    class Document(FPDF):
        def footer(self):
            self.set_y(-12)
            self.set_font(family, size=7)
            self.set_text_color(107, 119, 133)
            self.multi_cell(0, 3.5, clean(f"{data.stamp()} · Page {self.page_no()}"))

    pdf = Document(orientation="L", unit="mm", format="A4")
    if font:
        pdf.add_font("Body", fname=font[0])
        pdf.add_font("Body", style="B", fname=font[1])
        family = "Body"
    else:  # the PDF core fonts know Latin-1 only
        family = "Helvetica"

    def clean(text: str) -> str:
        if font:
            return text
        for symbol, code in {
            **{v: f"{k} " for k, v in formatting.CURRENCY_SYMBOLS.items()},
            "–": "-",
            "—": "-",
            "→": "->",
            "×": "x",
        }.items():
            text = text.replace(symbol, code)
        return text.encode("latin-1", "replace").decode("latin-1")

    pdf.set_title(f"Quarterly review {data.quarter.label}")
    pdf.set_creator(PRODUCT)
    pdf.set_auto_page_break(True, margin=16)

    def page(title: str) -> None:
        pdf.add_page()
        pdf.set_font(family, size=18)
        pdf.set_text_color(27, 38, 49)
        pdf.cell(0, 10, clean(title), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(family, size=10)

    def table(header, rows, widths=None):
        with pdf.table(
            col_widths=widths, text_align="LEFT", line_height=5.5, first_row_as_headings=True
        ) as grid:
            for row in [header, *rows]:
                cells = grid.row()
                for value in row:
                    cells.cell(clean(str(value)))

    page(f"Quarterly review — {data.quarter.label} vs {data.vs_label}")
    pdf.set_font(family, size=11)
    table(["Metric", "Value", "Comparison"], headline_rows(data), (60, 40, 140))

    page(f"Revenue bridge {data.base.label} → {data.quarter.label} ({data.currency})")
    pdf.image(io.BytesIO(images["bridge"]), w=190)
    with pdf.table(width=110, align="LEFT", line_height=5, first_row_as_headings=True) as grid:
        for row in [("Step", f"Amount ({data.currency})"), *bridge_rows(data)]:
            cells = grid.row()
            for value in row:
                cells.cell(clean(value))
    pdf.multi_cell(0, 4.5, clean(BRIDGE_NOTE))

    page(f"Regional scorecard — {data.quarter.label} vs {data.vs_label}")
    table(*scorecard_table(data))

    page(f"Top movers {data.base.label} → {data.quarter.label} ({data.currency})")
    pdf.image(io.BytesIO(images["countries"]), w=170)
    pdf.set_font(family, size=8)
    table(*movers_table(data, "accounts"))

    page(f"Pipeline for {data.pipeline['quarter']} ({data.currency})")
    if "pipeline" in images:
        pdf.image(io.BytesIO(images["pipeline"]), w=200)
    else:
        pdf.cell(0, 8, clean(f"No pipeline snapshot on or before {data.quarter.end:%d %b %Y}."))
    return bytes(pdf.output())
