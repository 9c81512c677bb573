"""Quarterly review in Debian's Chromium: the page, then presentation mode slide by slide."""

from __future__ import annotations

import re

from conftest import (
    DOWNLOAD_MS,
    FIRST_PAINT_MS,
    external_requests,
    open_app,
    url_param,
    wait_for_app_idle,
)
from playwright.sync_api import expect


def test_review_page_and_presentation_mode(app_server, app_page, screenshot_dir):
    page = app_page
    open_app(page, f"{app_server}/review")
    expect(page.get_by_text("Revenue bridge", exact=True).first).to_be_visible(
        timeout=FIRST_PAINT_MS
    )
    expect(page).to_have_url(re.compile(r"[?&]quarter=\d{4}Q[1-4](&|$)"))
    expect(page).to_have_url(url_param("vs", "prior_quarter"))
    expect(page.locator(".js-plotly-plot").first).to_be_visible()
    page.screenshot(path=str(screenshot_dir / "review_page.png"))

    # The exports come from the running server: the PDF draws its charts with Chromium there.
    with page.expect_download(timeout=DOWNLOAD_MS) as download:
        page.get_by_role("button", name="Download PDF").click()
    assert download.value.suggested_filename.endswith("_prior_quarter_EUR.pdf")
    assert download.value.path().read_bytes().startswith(b"%PDF")
    with page.expect_download(timeout=DOWNLOAD_MS) as download:
        page.get_by_role("button", name="Download HTML report").click()
    report = download.value.path().read_text(encoding="utf-8")
    assert "<h2>Revenue bridge" in report and "https://" not in report
    wait_for_app_idle(page)

    page.get_by_role("button", name="▶ Present").click()
    expect(page).to_have_url(url_param("present", "1"))
    expect(page).to_have_url(url_param("slide", "1"))
    expect(page.get_by_text("Slide 1 of 5")).to_have_count(1)
    # The sidebar goes with the slide's style sheet, drawn in the same run as the slide.
    expect(page.locator('section[data-testid="stSidebar"]')).to_be_hidden()
    # Every slide carries the stamp: quarter, currency, filters, data date and rate source.
    stamp = page.locator('[data-testid="stMain"] [data-testid="stCaptionContainer"]').first
    for part in ("EUR", "Data to", "Rates: ECB"):
        expect(stamp).to_contain_text(part)
    page.screenshot(path=str(screenshot_dir / "review_present_headline.png"))

    wait_for_app_idle(page)
    page.get_by_role("button", name="Next ▶").click()
    expect(page).to_have_url(url_param("slide", "2"))
    expect(page.get_by_text("Slide 2 of 5")).to_have_count(1)
    expect(page.locator(".js-plotly-plot").first).to_be_visible()
    page.screenshot(path=str(screenshot_dir / "review_present_bridge.png"))

    wait_for_app_idle(page)
    previous = page.get_by_role("button", name="◀ Previous")
    expect(previous).to_be_enabled()
    previous.click()
    expect(page).to_have_url(url_param("slide", "1"))
    expect(page.get_by_text("Slide 1 of 5")).to_have_count(1)

    wait_for_app_idle(page)
    page.get_by_role("button", name="✕ Exit").click()
    expect(page).not_to_have_url(re.compile(r"[?&](present|slide)="))
    expect(page.get_by_role("button", name="▶ Present")).to_have_count(1)
    expect(page.locator('section[data-testid="stSidebar"]')).to_be_visible()
    assert external_requests(page.requests_seen) == []
    assert page.page_errors == []


def test_review_vs_budget_at_plan_rates(app_server, app_page, screenshot_dir):
    page = app_page
    page.set_viewport_size({"width": 1440, "height": 1000})
    open_app(page, f"{app_server}/review?quarter=2026Q3&vs=budget&currency=USD&basis=plan")
    expect(page.get_by_text("Budget to actual", exact=True)).to_be_visible(timeout=FIRST_PAINT_MS)
    main = page.locator('[data-testid="stMain"]')
    for label in ("Operating variance", "FX variance", "Actual at plan rates (USD)"):
        expect(main.get_by_text(label, exact=True)).to_be_visible()
    stamp = main.locator('[data-testid="stCaptionContainer"]').filter(has_text="Data to").first
    expect(stamp).to_contain_text("USD, at plan rates")
    sidebar = page.locator('section[data-testid="stSidebar"]')
    expect(sidebar.get_by_text("At plan rates", exact=True)).to_be_visible()
    page.screenshot(path=str(screenshot_dir / "review_vs_budget_plan.png"), full_page=True)

    # Presentation mode vs budget: after the revenue bridge, the gap to budget split into
    # operating and FX with the budget bridge, then per region.
    open_app(
        page,
        f"{app_server}/review?quarter=2026Q3&vs=budget&currency=USD&basis=plan&present=1&slide=3",
    )
    expect(page.get_by_text("Slide 3 of 7")).to_have_count(1, timeout=FIRST_PAINT_MS)
    heading = page.locator("h1").filter(has_text="Budget to actual")
    expect(heading).to_contain_text("Q3 2026 · USD, at plan rates + FX")
    for label in ("Operating variance", "FX variance"):
        expect(main.get_by_text(label, exact=True)).to_be_visible()
    expect(main.locator(".js-plotly-plot").first).to_be_visible()
    page.screenshot(path=str(screenshot_dir / "review_present_budget.png"))
    wait_for_app_idle(page)
    page.get_by_role("button", name="Next ▶").click()
    expect(page.get_by_text("Slide 4 of 7")).to_have_count(1)
    expect(main.locator('[data-testid="stDataFrame"]').first).to_be_visible()
    page.screenshot(path=str(screenshot_dir / "review_present_budget_regions.png"))
