"""Team & pipeline in Debian's Chromium: switch views, read the pipeline-change waterfall,
open the deals behind a bar, and reopen a rep's quarter from a copied link."""

from __future__ import annotations

from conftest import external_requests, wait_for_app_idle


def test_views_waterfall_and_rep_link(app_server, app_page, screenshot_dir):
    page = app_page
    page.goto(f"{app_server}/team")
    wait_for_app_idle(page)
    page.get_by_text("Leaderboard — Q3 2026").wait_for(timeout=30_000)
    page.locator(".js-plotly-plot").first.wait_for(timeout=30_000)
    page.screenshot(path=str(screenshot_dir / "team_attainment.png"))

    page.get_by_role("radio", name="Pipeline changes").click()
    wait_for_app_idle(page)
    assert "t_view=Pipeline+changes" in page.url
    chart = page.locator(".js-plotly-plot").first
    chart.wait_for(timeout=30_000)
    assert "Pipeline due in Q3 2026" in chart.inner_text()
    assert chart.locator("g.point").count() == 9  # start, seven changes, end
    page.screenshot(path=str(screenshot_dir / "team_pipeline_changes.png"))

    page.get_by_role("radio", name="Rep view").click()
    wait_for_app_idle(page)
    assert "t_rep=" in page.url
    rep_url = page.url
    page.goto(rep_url)
    wait_for_app_idle(page)
    page.get_by_text("Slipped deals").wait_for(timeout=30_000)
    assert page.get_by_text("Attainment, Q3 2026").count() == 1
    page.screenshot(path=str(screenshot_dir / "team_rep_view.png"))
    assert external_requests(page.requests_seen) == []
    assert page.page_errors == []
