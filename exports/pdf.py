"""The quarterly review as a landscape A4 PDF, with the app's charts embedded as images."""

from __future__ import annotations

import io
from pathlib import Path

from analytics import formatting
from analytics.review import Review
from exports.content import (
    BRIDGE_NOTE,
    BUDGET_NOTE,
    PRODUCT,
    bridge_rows,
    budget_region_table,
    budget_regions_title,
    budget_rows,
    budget_title,
    headline_rows,
    movers_table,
    scorecard_table,
)
from exports.images import chart_images

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


def to_pdf(data: Review, figures: dict) -> bytes:
    """A landscape A4 PDF: headline, bridge, vs budget the budget to actual and the gap to
    budget by region, regional scorecard, movers, pipeline; the figures (Plotly, keyed
    bridge, budget_bridge, countries, pipeline) embedded as images."""
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
            **{v: f"{k} " for k, v in formatting.symbols([data.currency, "EUR"]).items()},
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

    if data.vs == "budget":
        page(budget_title(data))
        if "budget_bridge" in images:
            pdf.image(io.BytesIO(images["budget_bridge"]), w=170)
        table(["Step", f"Amount ({data.currency})", "Note"], budget_rows(data), (50, 45, 145))
        if data.budget_bridge is not None:
            pdf.multi_cell(0, 4.5, clean(BUDGET_NOTE))
            page(budget_regions_title(data))
            table(*budget_region_table(data))

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
