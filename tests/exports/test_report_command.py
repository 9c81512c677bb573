"""`python -m analytics report`: the review's files from the command line, with the page's
figures; every problem a plain message and exit status 2."""

from __future__ import annotations

import io

import duckdb
import pytest
from pptx import Presentation
from pypdf import PdfReader

from analytics import catalog, periods, review
from analytics.__main__ import main
from analytics.filters import Filters
from exports import images


@pytest.fixture(scope="module")
def quarter(demo_db_path) -> periods.Period:
    with duckdb.connect(str(demo_db_path), read_only=True) as con:
        store = catalog.load(con)
    return periods.full_quarters(store.first_date, store.last_date)[0]


def _key(quarter: periods.Period) -> str:
    """The quarter as the command is documented to take it: 2026-Q3."""
    return f"{quarter.start.year}-Q{(quarter.start.month + 2) // 3}"


def _run(demo_db_path, quarter, out, compare="prior_year", fmt="pptx", currency="USD"):
    return main(
        [
            "report",
            "--db",
            str(demo_db_path),
            "--quarter",
            _key(quarter),
            "--compare",
            compare,
            "--currency",
            currency,
            "--format",
            fmt,
            "--out",
            str(out),
        ]
    )


@pytest.mark.parametrize(
    ("compare", "vs"),
    [("prior_period", "prior_quarter"), ("prior_year", "last_year"), ("budget", "budget")],
)
def test_deck_shows_the_pages_bridge(demo_db_path, quarter, tmp_path, capsys, compare, vs):
    out = tmp_path / "review.pptx"
    assert _run(demo_db_path, quarter, out, compare) == 0
    assert capsys.readouterr().out.strip() == str(out)

    with duckdb.connect(str(demo_db_path), read_only=True) as con:
        filters = Filters(period=quarter, comparison=quarter, currency="USD")
        page = review.build(con, quarter, vs, filters)
    slides = list(Presentation(str(out)).slides)
    title = slides[2].shapes[0].text_frame.text
    assert title == f"Revenue bridge {page.base.label} → {quarter.label} (USD)"
    chart = next(shape.chart for shape in slides[2].shapes if shape.has_chart)
    _, total, up, down = (list(series.values) for series in chart.plots[0].series)
    shown = [
        total[i] if effect in ("base", "current") else up[i] - down[i]
        for i, effect in enumerate(page.bridge["effect"])
    ]
    assert shown == pytest.approx(list(page.bridge["amount"]), rel=1e-9)


def test_html_and_pdf_are_written(demo_db_path, quarter, tmp_path, capsys):
    html_file = tmp_path / "review.html"
    assert _run(demo_db_path, quarter, html_file, fmt="html") == 0
    text = html_file.read_text(encoding="utf-8")
    assert f"<h1>Quarterly review — {quarter.label} vs" in text and "<svg" in text

    if images.chromium_path() is None:
        pytest.skip("no Chromium on this machine")
    pdf_file = tmp_path / "review.pdf"
    assert _run(demo_db_path, quarter, pdf_file, fmt="pdf") == 0
    document = PdfReader(io.BytesIO(pdf_file.read_bytes()))
    assert len(document.pages) == 5
    assert document.metadata.title == f"Quarterly review {quarter.label}"
    assert capsys.readouterr().out.split() == [str(html_file), str(pdf_file)]


def test_problems_are_one_line_on_stderr_and_exit_2(
    demo_db_path, quarter, tmp_path, capsys, monkeypatch
):
    out = tmp_path / "review.pdf"
    later = periods.quarter(periods.add_months(quarter.start, 12))
    assert _run(demo_db_path, later, out, fmt="html") == 2
    assert f"{later.label} is not a complete quarter" in capsys.readouterr().err

    assert _run(demo_db_path, quarter, out, currency="XYZ") == 2
    assert "no exchange rates for XYZ" in capsys.readouterr().err

    monkeypatch.setattr(images, "chromium_path", lambda: None)
    assert _run(demo_db_path, quarter, out, fmt="pdf") == 2
    captured = capsys.readouterr()
    assert "Chromium browser" in captured.err and captured.out == ""
    assert not out.exists()


def test_an_empty_store_says_so(tmp_path, capsys):
    empty = tmp_path / "empty.duckdb"
    assert main(["init", "--empty", "--db", str(empty)]) == 0
    capsys.readouterr()
    assert _run(empty, periods.parse_quarter_key("2026-Q3"), tmp_path / "r.html", fmt="html") == 2
    assert "holds no sales yet" in capsys.readouterr().err
