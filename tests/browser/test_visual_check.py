"""The fast subset of benchmarks/visual_check.py: the screens a meeting sees first, at
1440x900, with nothing cut off, no error box and no empty chart; the deck's shapes inside
their slides."""

from __future__ import annotations

import sys
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

import visual_check  # noqa: E402


def test_meeting_screens_at_1440_show_everything_whole(app_server, chromium_browser, tmp_path):
    found = visual_check.check_screens(
        chromium_browser, app_server, tmp_path, sizes=((1440, 900),), names=visual_check.QUICK
    )
    assert [str(f) for f in found] == []
    assert len(list(tmp_path.glob("1440x900/*.png"))) >= len(visual_check.QUICK)


def test_the_deck_keeps_every_shape_on_its_slide(demo_db_path):
    from exports import deck

    data = visual_check.review_of(demo_db_path)
    assert visual_check.pptx_findings(deck.to_pptx(data)) == []
    # The check itself: a shape moved below the slide is found.
    import io

    from pptx import Presentation
    from pptx.util import Inches

    shown = Presentation(io.BytesIO(deck.to_pptx(data)))
    shown.slides[0].shapes[0].top = Inches(9.0)
    moved = io.BytesIO()
    shown.save(moved)
    assert [f.kind for f in visual_check.pptx_findings(moved.getvalue())] == [
        "shape outside the slide"
    ]
