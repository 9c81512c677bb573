"""The Overview in Debian's Chromium: loads, shows KPIs, draws the map offline, reacts to filters."""

from __future__ import annotations

import re

from conftest import external_requests, wait_for_app_idle


def kpi_texts(page) -> list[str]:
    return page.locator('[data-testid="stMetric"]').all_inner_texts()


def test_overview_loads_draws_map_and_follows_filters(app_server, app_page, screenshot_dir):
    page = app_page
    page.goto(app_server)
    wait_for_app_idle(page)

    metrics = page.locator('[data-testid="stMetric"]')
    metrics.nth(4).wait_for(timeout=30_000)
    assert metrics.count() == 5
    revenue_before = metrics.first.inner_text()
    assert "Net revenue (EUR)" in revenue_before and "€" in revenue_before

    # The world map is drawn from the locally served topojson: country shapes exist.
    shapes = page.locator(".choroplethlocation")
    shapes.first.wait_for(state="attached", timeout=30_000)
    assert shapes.count() >= 30

    page.screenshot(path=str(screenshot_dir / "overview.png"), full_page=True)

    # Change the reporting currency in the sidebar: the revenue KPI follows.
    currency = page.locator('[data-testid="stSelectbox"]').filter(has_text="Reporting currency")
    currency.locator("input").click()
    page.keyboard.type("USD")
    page.keyboard.press("Enter")
    wait_for_app_idle(page)
    metrics.first.get_by_text("Net revenue (USD)").wait_for(timeout=30_000)
    revenue_after = metrics.first.inner_text()
    assert "$" in revenue_after
    assert revenue_after != revenue_before
    assert re.search(r"currency=USD", page.url)

    page.screenshot(path=str(screenshot_dir / "overview_usd.png"), full_page=True)

    # The top-markets CSV is built on click and carries the table's columns.
    button = page.get_by_role("button", name="Download CSV").first
    button.scroll_into_view_if_needed()
    with page.expect_download(timeout=60_000) as download:
        button.click()
    text = download.value.path().read_text(encoding="utf-8-sig")
    assert text.splitlines()[0].startswith("Country,Region,Net revenue (USD)")
    assert len(text.splitlines()) > 10
    assert external_requests(page.requests_seen) == []
    assert page.page_errors == []
