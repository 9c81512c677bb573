"""Pricing lab in Debian's Chromium: one scenario end to end — shock, results, save, reload."""

from __future__ import annotations

import csv
import io

from conftest import (
    FIRST_PAINT_MS,
    download_text,
    external_requests,
    open_app,
    scroll_to,
    wait_for_app_idle,
)
from playwright.sync_api import expect

# Every new scenario recomputes each market's baseline and results: a full run took 30 s on a
# machine loaded eighteen-fold, so each one gets the first paint's time.
RUN_MS = FIRST_PAINT_MS


def results_rows(page) -> list[dict[str, str]]:
    """The results table against the baseline, as its CSV download."""
    name, text = download_text(page, page.locator(".st-key-p_results_csv button"))
    assert name == "pricing_scenario.csv"
    return list(csv.DictReader(io.StringIO(text)))


def test_one_scenario_end_to_end(app_server, app_page, screenshot_dir):
    page = app_page
    open_app(page, f"{app_server}/pricing")
    expect(page.get_by_text("4 · Results against the baseline")).to_have_count(
        1, timeout=FIRST_PAINT_MS
    )
    margin = page.locator('[data-testid="stMetric"]').nth(1)
    expect(margin).to_contain_text("Gross margin (EUR)", timeout=RUN_MS)
    expect(margin).not_to_contain_text("-€")

    wait_for_app_idle(page)
    shock = page.get_by_label("USD (%)")
    shock.fill("-15")
    shock.press("Enter")
    expect(margin).to_contain_text("-€", timeout=RUN_MS)  # a weaker dollar costs margin
    expect(page.locator(".js-plotly-plot").first).to_be_visible()
    scroll_to(page, page.get_by_text("4 · Results against the baseline"))
    page.screenshot(path=str(screenshot_dir / "pricing_results.png"))

    # Exact figures: the shock hits the dollar markets only, and each one loses margin.
    wait_for_app_idle(page)
    rows = results_rows(page)
    dollar = [r for r in rows if r["Currency"] == "USD"]
    others = [r for r in rows if r["Currency"] != "USD"]
    assert dollar and others
    assert all(abs(float(r["Shock"]) + 0.15) < 1e-12 for r in dollar)
    assert all(float(r["Shock"]) == 0 for r in others)
    for row in rows:
        change = float(row["Margin change (EUR)"])
        by_difference = float(row["Margin, scenario (EUR)"]) - float(row["Margin, baseline (EUR)"])
        assert abs(change - by_difference) <= 1  # each of the three is rounded to a unit
    assert all(float(r["Margin change (EUR)"]) < 0 for r in dollar)
    assert all(float(r["Margin change (EUR)"]) == 0 for r in others)

    wait_for_app_idle(page)
    page.get_by_label("Name").fill("Dollar -15 %")
    page.get_by_role("button", name="Save scenario").click()
    expect(page.get_by_text("Saved “Dollar -15 %”.")).to_have_count(1)

    wait_for_app_idle(page)
    shock = page.get_by_label("USD (%)")
    shock.fill("0")
    shock.press("Enter")
    expect(margin).not_to_contain_text("-€", timeout=RUN_MS)
    wait_for_app_idle(page)
    page.get_by_role("button", name="Load into the builder").click()
    expect(page.get_by_label("USD (%)")).to_have_value("-15.00")
    expect(margin).to_contain_text("-€", timeout=RUN_MS)
    scroll_to(page, page.get_by_role("heading", name="Saved scenarios"))
    page.screenshot(path=str(screenshot_dir / "pricing_saved.png"))
    assert external_requests(page.requests_seen) == []
    assert page.page_errors == []
