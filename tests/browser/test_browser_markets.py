"""Markets in Debian's Chromium: drill from the chart into a region and a country, and back."""

from __future__ import annotations

import re

from conftest import (
    FIRST_PAINT_MS,
    external_requests,
    open_app,
    scroll_to,
    url_param,
    wait_for_app_idle,
)
from playwright.sync_api import expect


def bars_chart(page, level: str):
    """The clickable revenue chart of a level, known by its title (the other level's chart
    stays on screen, stale, until the new run draws)."""
    return page.locator(".js-plotly-plot").filter(has_text=f"Net revenue by {level}")


def click_largest_bar(page, level: str) -> str:
    """Click the top bar of the level's chart (the largest market); returns its label.

    Plotly's drag layer covers the bars, so the click goes to the bar's screen position.
    """
    chart = bars_chart(page, level)
    expect(chart).to_be_visible()
    bars = chart.locator("g.point path")
    expect(bars.last).to_be_attached()
    # Horizontal bars sorted ascending: the last bar and the last y tick are the largest.
    label = chart.locator("g.ytick text").last.text_content().strip()
    wait_for_app_idle(page)
    box = bars.last.bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    return label


def crumbs(page):
    """The breadcrumb buttons (keys crumb_0, crumb_1, ...), All regions first."""
    return page.locator('[class*="st-key-crumb_"] button')


def test_drill_from_chart_into_a_country_and_back(app_server, app_page, screenshot_dir):
    page = app_page
    open_app(page, f"{app_server}/markets")
    expect(page.get_by_text("Market scorecard")).to_have_count(1, timeout=FIRST_PAINT_MS)
    expect(crumbs(page).first).to_have_text("All regions")

    region = click_largest_bar(page, "region")
    expect(page).to_have_url(url_param("m_region", region))
    expect(crumbs(page)).to_have_text(["‹ All regions", region], use_inner_text=True)

    country = click_largest_bar(page, "country")
    expect(page).to_have_url(re.compile(r"[?&]m_country=[A-Z]{2}(&|$)"))
    trail = ["‹ All regions", f"‹ {region}", country]
    expect(crumbs(page)).to_have_text(trail, use_inner_text=True)
    expect(page.get_by_text("At constant currency").first).to_be_visible()
    page.screenshot(path=str(screenshot_dir / "markets_country.png"))

    # A copied link reopens the same drill-down.
    open_app(page, page.url)
    expect(crumbs(page)).to_have_text(trail, use_inner_text=True, timeout=FIRST_PAINT_MS)

    wait_for_app_idle(page)
    page.get_by_role("button", name="‹ All regions").click()
    expect(page).not_to_have_url(re.compile(r"[?&]m_(region|country)="))
    expect(crumbs(page).first).to_have_text("All regions")
    expect(page.get_by_text("Market scorecard")).to_have_count(1)
    expect(bars_chart(page, "region")).to_be_visible()
    scroll_to(page, page.get_by_text("Where to invest").first)
    page.screenshot(path=str(screenshot_dir / "markets_where_to_invest.png"))
    assert external_requests(page.requests_seen) == []
    assert page.page_errors == []
