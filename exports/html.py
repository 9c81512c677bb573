"""The quarterly review as one self-contained HTML file: inline CSS and SVG charts.

The charts are inline SVG rather than plotly.js, so the file stays small enough to e-mail,
opens offline and holds no address of any remote resource.
"""

from __future__ import annotations

import datetime as dt
import html

import pandas as pd

from analytics import formatting, review
from analytics.forecast.figures import Summary
from analytics.review import Review
from exports.content import (
    BRIDGE_NOTE,
    BUDGET_NOTE,
    GAIN,
    LOSS,
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


def to_html(data: Review, forecast: Summary | None = None) -> str:
    """One HTML file with inline CSS and SVG charts: no scripts, no remote resources; the
    forecast and year-end landing as its last section when given."""
    e = html.escape
    stamp = f'<p class="stamp">{e(data.stamp())}</p>'
    header, rows = scorecard_table(data)
    sections = [
        ("Headline", _html_table(["Metric", "Value", "Comparison"], headline_rows(data))),
        (
            f"Revenue bridge {data.base.label} → {data.quarter.label} ({data.currency})",
            _svg_columns(waterfall_parts(data), data.currency)
            + _html_table(["Step", f"Amount ({data.currency})"], bridge_rows(data))
            + f"<p>{e(BRIDGE_NOTE)}</p>",
        ),
        *(
            [
                (
                    budget_title(data),
                    (
                        ""
                        if data.budget_bridge is None
                        else _svg_columns(
                            waterfall_parts(data, data.budget_bridge, budget_bridge_labels(data)),
                            data.currency,
                        )
                    )
                    + _html_table(["Step", f"Amount ({data.currency})", "Note"], budget_rows(data))
                    + (f"<p>{e(BUDGET_NOTE)}</p>" if data.budget_bridge is not None else ""),
                ),
                *(
                    [(budget_regions_title(data), _html_table(*budget_region_table(data)))]
                    if data.budget_bridge is not None
                    else []
                ),
            ]
            if data.vs == "budget"
            else []
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
    if forecast is not None:
        sections.append(_forecast_section(forecast))
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


def _forecast_section(summary: Summary) -> tuple[str, str]:
    """The year-end landing per region and in total (bars and table) and the total's
    monthly forecast to the year end with its intervals."""
    cur, money = summary.shown.currency, formatting.money
    regions = summary.landings[summary.landings["group"] != review.TOTAL]
    bars = [(r.group, 0.0, r.landing, TOTAL_COLOUR) for r in regions.itertuples()]
    ahead = summary.total[summary.total["forecast"].notna()]
    months = [
        [
            f"{r.month:%b %Y}",
            money(r.forecast, cur),
            f"{money(r.lo80, cur)} – {money(r.hi80, cur)}",
            f"{money(r.lo95, cur)} – {money(r.hi95, cur)}",
        ]
        for r in ahead.itertuples()
    ]
    content = (
        "<p>Year-end landing per region (actual to date + forecast of the rest).</p>"
        + _svg_columns(bars, cur, from_zero=True)
        + _html_table(*forecast_landing_table(summary))
        + f"<p>Total, month by month ({html.escape(summary.chosen)}):</p>"
        + _html_table(["Month", "Forecast", "80 % interval", "95 % interval"], months)
        + f"<p>{html.escape(forecast_note(summary))}</p>"
    )
    return (f"Forecast — where {summary.year} will land ({cur})", content)


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
            f'fill="#555">{html.escape(formatting.money(value, currency))}</text>'
        )
    for i, (label, low, high, colour) in enumerate(bars):
        x = left + i * step + step * 0.15
        amount = high - low
        sign = "-" if colour == LOSS else "+" if colour == GAIN else ""
        parts.append(
            f'<rect x="{x:.1f}" y="{y(high):.1f}" width="{step * 0.7:.1f}" '
            f'height="{max(1.0, y(low) - y(high)):.1f}" fill="#{colour}"/>'
            f'<text x="{x + step * 0.35:.1f}" y="{y(high) - 5:.1f}" font-size="12" '
            f'text-anchor="middle">{html.escape(sign + formatting.money(amount, currency))}</text>'
            f'<text x="{x + step * 0.35:.1f}" y="{height - bottom + 18}" font-size="12" '
            f'text-anchor="middle">{html.escape(label)}</text>'
        )
    if reference:
        parts.append(
            f'<line x1="{left}" x2="{width - 10}" y1="{y(reference):.1f}" '
            f'y2="{y(reference):.1f}" stroke="#{LOSS}" stroke-dasharray="6 4" stroke-width="2"/>'
            f'<text x="{width - 12}" y="{y(reference) - 6:.1f}" font-size="12" text-anchor="end" '
            f'fill="#{LOSS}">Quota {html.escape(formatting.money(reference, currency))}</text>'
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
            f"{html.escape(('+' if r.change > 0 else '') + formatting.money(r.change, currency))}</text>"
        )
    parts.append(
        f'<line x1="{zero:.1f}" x2="{zero:.1f}" y1="6" y2="{height - 14}" stroke="#444"/>'
        f'<text x="{width - 10}" y="{height - 2}" font-size="11" text-anchor="end" fill="#555">'
        f"{html.escape(currency)}</text></svg>"
    )
    return "".join(parts)
