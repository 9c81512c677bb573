"""AppTest: the Markets page for every region, drilling in and back, and empty selections."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.ui.test_markup import as_shown

ROOT = Path(__file__).resolve().parents[2]


def open_markets(db_path: Path, monkeypatch, **params) -> AppTest:
    monkeypatch.setenv("SALES_ATLAS_DB", str(db_path))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    for key, value in params.items():
        at.query_params[key] = value
    at.run()
    return at.switch_page("views/markets.py").run()


def crumbs(at: AppTest) -> list[str]:
    return [as_shown(b.label) for b in at.button if b.key and b.key.startswith("crumb_")]


def test_top_level_shows_every_section(demo_db_path, monkeypatch):
    at = open_markets(demo_db_path, monkeypatch)
    assert not at.exception and not at.error
    assert [h.value for h in at.subheader] == [
        "Market scorecard — Q3 2026",
        "Where to invest",
        "Product and channel mix",
        "Top accounts — all markets selected, Q3 2026",
    ]
    assert crumbs(at) == ["All regions"]
    assert any("Growth vs Q2 2026 at reported rates" in c.value for c in at.caption)


@pytest.mark.parametrize(
    "region",
    [
        "Western Europe",
        "Northern Europe",
        "Central & Eastern Europe",
        "Americas",
        "Asia Pacific",
        "Middle East & Africa",
    ],
)
def test_every_region_renders(demo_db_path, monkeypatch, region):
    at = open_markets(demo_db_path, monkeypatch, m_region=region)
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    assert crumbs(at) == ["‹ All regions", region]
    assert at.dataframe  # the country scorecard and the other tables


def test_drill_into_a_country_and_back_up(demo_db_path, monkeypatch):
    at = open_markets(demo_db_path, monkeypatch, m_country="DE")
    assert crumbs(at) == ["‹ All regions", "‹ Western Europe", "Germany"]
    assert [m.label for m in at.metric][:2] == ["Net revenue (EUR)", "At constant currency"]
    assert at.query_params["m_region"] == "Western Europe"
    at.button(key="crumb_1").click().run()  # back to the region
    assert crumbs(at) == ["‹ All regions", "Western Europe"]
    assert "m_country" not in at.query_params
    at.button(key="crumb_0").click().run()
    assert crumbs(at) == ["All regions"]
    assert "m_region" not in at.query_params


def test_unknown_drill_target_is_reported_not_dropped_silently(demo_db_path, monkeypatch):
    at = open_markets(demo_db_path, monkeypatch, m_country="XX")
    assert any("XX" in w.value for w in at.warning)
    assert crumbs(at) == ["All regions"]


def test_empty_selection_shows_an_empty_state(demo_db_path, monkeypatch):
    at = open_markets(demo_db_path, monkeypatch, m_country="AE", channel="key account")
    assert not at.exception and not at.error
    assert any("No sales match" in i.value for i in at.info)


@pytest.mark.parametrize(
    ("detail", "heading"),
    [
        ("Global key accounts", "Global key accounts — Germany"),
        ("Price position", "Price position — Germany"),
    ],
)
def test_detail_sections_open_from_the_link(demo_db_path, monkeypatch, detail, heading):
    at = open_markets(demo_db_path, monkeypatch, m_country="DE", m_detail=detail)
    assert not at.exception and not at.error
    assert any(h.value.startswith(heading) for h in at.subheader)
    assert at.query_params["m_detail"] == detail
    assert at.dataframe  # the section's table


@pytest.mark.parametrize(
    "basis, words", [("constant", "constant currency"), ("reported", "reported")]
)
def test_scorecard_has_one_growth_column_labelled_with_its_basis(
    demo_db_path, monkeypatch, basis, words
):
    # At constant currency the scorecard used to show growth and constant-currency growth as
    # two identical columns; one column names its basis and the FX effect gives the other.
    at = open_markets(demo_db_path, monkeypatch, basis=basis)
    assert not at.exception and not at.error
    card = next(d.value for d in at.dataframe if d.value.columns[0] == "Region")
    growth = [c for c in card.columns if c.startswith("Growth vs Q2")]
    assert growth == [f"Growth vs Q2 2026 ({words})"]
    assert "Growth at constant currency" not in card.columns
    assert "FX effect (pp)" in card.columns


def test_clicking_the_chosen_detail_again_keeps_it(demo_db_path, monkeypatch):
    # Clicking the selected option of a segmented control clears it; the page used to fall
    # back to the first section, silently switching Global key accounts to Top accounts.
    at = open_markets(demo_db_path, monkeypatch, m_country="DE")
    control = at.button_group(key="m_section")
    assert control.proto.required
    control.set_value("Global key accounts").run()
    at.button_group(key="m_section").set_value(None).run()
    assert not at.exception
    assert any(h.value.startswith("Global key accounts") for h in at.subheader)
    assert at.query_params["m_detail"] == "Global key accounts"
