"""Pricing lab in Debian's Chromium: one scenario end to end — shock, results, save, reload."""

from __future__ import annotations

from conftest import external_requests, wait_for_app_idle


def test_one_scenario_end_to_end(app_server, app_page, screenshot_dir):
    page = app_page
    page.goto(f"{app_server}/pricing")
    wait_for_app_idle(page)
    assert page.get_by_text("4 · Results against the baseline").count() == 1

    shock = page.get_by_label("USD (%)")
    shock.fill("-15")
    shock.press("Enter")
    wait_for_app_idle(page)
    margin = page.locator('[data-testid="stMetric"]').nth(1).inner_text()
    assert "Gross margin (EUR)" in margin and "-€" in margin  # a weaker dollar costs margin
    page.locator(".js-plotly-plot").first.wait_for(timeout=30_000)
    page.get_by_text("4 · Results against the baseline").scroll_into_view_if_needed()
    page.screenshot(path=str(screenshot_dir / "pricing_results.png"))

    page.get_by_label("Name").fill("Dollar -15 %")
    page.get_by_role("button", name="Save scenario").click()
    wait_for_app_idle(page)
    assert page.get_by_text("Saved “Dollar -15 %”.").count() == 1

    shock = page.get_by_label("USD (%)")
    shock.fill("0")
    shock.press("Enter")
    wait_for_app_idle(page)
    page.get_by_role("button", name="Load into the builder").click()
    wait_for_app_idle(page)
    assert page.get_by_label("USD (%)").input_value() == "-15.00"
    page.get_by_role("heading", name="Saved scenarios").scroll_into_view_if_needed()
    page.screenshot(path=str(screenshot_dir / "pricing_saved.png"))
    assert external_requests(page.requests_seen) == []
    assert page.page_errors == []
