"""The Forecast page in Debian's Chromium: the total's forecast with its bands, a switch of
level and series, a region's forecast reopened from its link, the year-end landing and the
pipeline projection. Every check is Playwright's auto-waiting `expect` (CI is loaded, and the
store's forecast is computed on the first visit)."""

from __future__ import annotations

import re

from conftest import external_requests, wait_for_app_idle
from playwright.sync_api import expect

FIRST_VISIT_MS = 180_000  # every series forecast once per store version
STEP_MS = 60_000


def test_forecast_views_level_switch_and_link(app_server, app_page, screenshot_dir):
    page = app_page
    page.goto(f"{app_server}/forecast")
    chart = page.locator(".js-plotly-plot").first
    expect(chart).to_contain_text("Total: net revenue per month", timeout=FIRST_VISIT_MS)
    expect(chart).to_contain_text("95 % interval")
    expect(page.get_by_text("Year-end landing 2026 (EUR)")).to_be_visible()
    expect(page.get_by_text("constant as-of rates").first).to_be_visible()
    expect(page.get_by_text("Track record")).to_be_visible(timeout=STEP_MS)
    expect(page.locator(".js-plotly-plot").nth(1)).to_contain_text("months ago", timeout=STEP_MS)
    wait_for_app_idle(page)
    page.screenshot(path=str(screenshot_dir / "forecast_total.png"), full_page=True)

    page.get_by_role("radiogroup", name="Level").get_by_text("Region").click()
    expect(page).to_have_url(re.compile(r"fc_level=region"), timeout=STEP_MS)
    expect(chart).to_contain_text("Americas: net revenue per month", timeout=STEP_MS)

    page.goto(f"{app_server}/forecast?fc_level=channel&fc_series=web&currency=USD")
    expect(chart).to_contain_text("web: net revenue per month", timeout=STEP_MS)
    expect(chart).to_contain_text("(USD)")
    expect(page.get_by_text("USD per EUR").first).to_be_visible()

    page.get_by_role("radio", name="Year-end landing").click()
    expect(page).to_have_url(re.compile(r"fc_view=Year-end\+landing"), timeout=STEP_MS)
    expect(chart).to_contain_text("Where 2026 will land per region", timeout=STEP_MS)
    expect(page.get_by_role("button", name="Download CSV")).to_be_visible()
    wait_for_app_idle(page)
    page.screenshot(path=str(screenshot_dir / "forecast_landing.png"), full_page=True)

    page.get_by_role("radio", name="Pipeline projection").click()
    # Still at the web channel's level: deals carry no channel, and the page says so.
    expect(page.get_by_text("No pipeline projection per channel")).to_be_visible(timeout=STEP_MS)
    page.get_by_role("radiogroup", name="Level").get_by_text("Total").click()
    expect(chart).to_contain_text("pipeline projection, statistical forecast", timeout=STEP_MS)
    expect(chart).to_contain_text("Q4 2026")
    wait_for_app_idle(page)
    page.screenshot(path=str(screenshot_dir / "forecast_projection.png"), full_page=True)
    assert external_requests(page.requests_seen) == []
    assert page.page_errors == []
