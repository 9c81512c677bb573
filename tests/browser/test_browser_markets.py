"""Markets in Debian's Chromium: drill from the chart into a region and a country, and back."""

from __future__ import annotations

from conftest import external_requests, wait_for_app_idle


def click_largest_bar(page) -> None:
    """Click the top bar of the first chart (the largest market).

    Plotly's drag layer covers the bars, so the click goes to the bar's screen position.
    """
    bars = page.locator(".js-plotly-plot").first.locator("g.point path")
    bars.last.wait_for(state="attached", timeout=30_000)
    box = bars.last.bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    wait_for_app_idle(page)


def crumbs(page) -> list[str]:
    # The breadcrumbs are the page's first buttons; wait for them rather than trusting that
    # an idle script means a painted page (a slow CI run once read an empty list here).
    page.locator('[data-testid="stButton"] button').first.wait_for(state="visible", timeout=30_000)
    return [t.strip() for t in page.locator('[data-testid="stButton"] button').all_inner_texts()]


def test_drill_from_chart_into_a_country_and_back(app_server, app_page, screenshot_dir):
    page = app_page
    page.goto(f"{app_server}/markets")
    wait_for_app_idle(page)
    assert page.get_by_text("Market scorecard").count() == 1
    assert crumbs(page)[0] == "All regions"

    click_largest_bar(page)  # a region
    assert "m_region=" in page.url
    region_crumbs = crumbs(page)
    assert region_crumbs[0] == "‹ All regions" and len(region_crumbs) >= 2

    click_largest_bar(page)  # a country of that region
    assert "m_country=" in page.url
    assert len(crumbs(page)) >= 3
    assert page.get_by_text("Growth at constant currency").count() >= 1
    page.screenshot(path=str(screenshot_dir / "markets_country.png"))

    # A copied link reopens the same drill-down.
    page.goto(page.url)
    wait_for_app_idle(page)
    assert len(crumbs(page)) >= 3

    page.get_by_role("button", name="‹ All regions").click()
    wait_for_app_idle(page)
    assert "m_region" not in page.url and "m_country" not in page.url
    assert page.get_by_text("Market scorecard").count() == 1
    page.get_by_text("Where to invest").first.scroll_into_view_if_needed()
    page.screenshot(path=str(screenshot_dir / "markets_where_to_invest.png"))
    assert external_requests(page.requests_seen) == []
    assert page.page_errors == []
