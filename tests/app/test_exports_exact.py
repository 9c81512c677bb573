"""Downloads carry exact money, while the screen shows whole units and one-decimal
percentages (as the KPI cards do): Review, Markets, Pricing lab and Overview tables."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from ui import components

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def shown_and_exported(monkeypatch):
    """Every table_with_downloads call of a run: (stem, screen frame, config, export frame)."""
    calls = []
    original = components.table_with_downloads

    def recording(frame, column_config, file_stem, key, export_frame=None):
        screen, config = components.one_decimal_percentages(frame, column_config)
        screen = getattr(screen, "data", screen)
        exported = getattr(frame, "data", frame) if export_frame is None else export_frame
        calls.append((file_stem, screen, config, exported))
        original(frame, column_config, file_stem, key, export_frame)

    monkeypatch.setattr(components, "table_with_downloads", recording)
    return calls


def run_page(db_path: Path, monkeypatch, page: str) -> AppTest:
    monkeypatch.setenv("SALES_ATLAS_DB", str(db_path))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=90)
    at.run()
    at = at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def money_columns(frame: pd.DataFrame) -> list[str]:
    return [
        c
        for c in frame.columns
        if c.endswith("(EUR)") and pd.api.types.is_float_dtype(frame[c]) and frame[c].notna().any()
    ]


@pytest.mark.parametrize(
    ("page", "stems"),
    [
        ("views/review.py", {"regional_scorecard", "country_movers", "account_movers"}),
        ("views/markets.py", {"market_scorecard_region"}),
        ("views/pricing.py", {"pricing_scenario"}),
        ("views/overview.py", {"top_markets"}),
    ],
)
def test_downloads_are_exact_and_the_screen_rounded(
    demo_db_path, monkeypatch, shown_and_exported, page, stems
):
    run_page(demo_db_path, monkeypatch, page)
    seen = {
        stem: (screen, config, exported) for stem, screen, config, exported in shown_and_exported
    }
    assert stems <= set(seen)
    for stem in stems:
        screen, config, exported = seen[stem]
        amounts = money_columns(exported)
        assert amounts, stem
        for column in amounts:
            # Sums of converted lines are never all whole: the download keeps the cents
            # (budgets are set in whole euros; no shock leaves no margin change)...
            if not column.startswith("Budget") and (exported[column] != 0).any():
                assert (exported[column] % 1 != 0).any(), (stem, column)
            # ...the screen shows whole units, and the same figures.
            assert (screen[column].dropna() % 1 == 0).all(), (stem, column)
            assert screen[column].tolist() == pytest.approx(exported[column].round(0).tolist())
        percents = [
            c for c, cfg in config.items() if cfg["type_config"].get("format") in ("%.1f%%", None)
        ]
        assert percents, stem
        for column in percents:
            assert config[column]["type_config"]["format"] in ("%.1f%%", None)
            if config[column]["type_config"]["format"] == "%.1f%%":
                assert screen[column].tolist() == pytest.approx(
                    (exported[column] * 100).tolist(), nan_ok=True
                )
            else:  # a Styler keeps its fractions and shows them with one decimal
                assert screen[column].tolist() == pytest.approx(
                    exported[column].tolist(), nan_ok=True
                )
