"""Quarterly review in Debian's Chromium: the page, then presentation mode slide by slide."""

from __future__ import annotations

from conftest import external_requests, wait_for_app_idle


def test_review_page_and_presentation_mode(app_server, app_page, screenshot_dir):
    page = app_page
    page.goto(f"{app_server}/review")
    wait_for_app_idle(page)
    assert page.get_by_text("Revenue bridge", exact=True).count() >= 1
    assert "quarter=" in page.url and "vs=prior_quarter" in page.url
    page.locator(".js-plotly-plot").first.wait_for(timeout=30_000)
    page.screenshot(path=str(screenshot_dir / "review_page.png"))

    # The exports come from the running server: the PDF draws its charts with Chromium there.
    with page.expect_download(timeout=60_000) as download:
        page.get_by_role("button", name="Download PDF").click()
    assert download.value.suggested_filename.endswith("_prior_quarter_EUR.pdf")
    assert download.value.path().read_bytes().startswith(b"%PDF")
    with page.expect_download(timeout=30_000) as download:
        page.get_by_role("button", name="Download HTML report").click()
    report = download.value.path().read_text(encoding="utf-8")
    assert "<h2>Revenue bridge" in report and "https://" not in report
    wait_for_app_idle(page)

    page.get_by_role("button", name="▶ Present").click()
    wait_for_app_idle(page)
    assert "present=1" in page.url and "slide=1" in page.url
    assert not page.locator('section[data-testid="stSidebar"]').is_visible()
    assert page.get_by_text("Slide 1 of 5").count() == 1
    # Every slide carries the stamp: quarter, currency, filters, data date and rate source.
    stamp = page.locator(
        '[data-testid="stMain"] [data-testid="stCaptionContainer"]'
    ).first.inner_text()
    assert "EUR" in stamp and "Data to" in stamp and "Rates: ECB" in stamp
    page.screenshot(path=str(screenshot_dir / "review_present_headline.png"))

    page.get_by_role("button", name="Next ▶").click()
    wait_for_app_idle(page)
    assert "slide=2" in page.url and page.get_by_text("Slide 2 of 5").count() == 1
    page.locator(".js-plotly-plot").first.wait_for(timeout=30_000)
    page.screenshot(path=str(screenshot_dir / "review_present_bridge.png"))

    page.get_by_role("button", name="◀ Previous").click()
    wait_for_app_idle(page)
    assert "slide=1" in page.url

    page.get_by_role("button", name="✕ Exit").click()
    wait_for_app_idle(page)
    assert "present" not in page.url
    assert page.get_by_role("button", name="▶ Present").count() == 1
    assert external_requests(page.requests_seen) == []
    assert page.page_errors == []
