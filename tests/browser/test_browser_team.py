"""Team & pipeline in Debian's Chromium: switch views, read the pipeline-change waterfall,
open the deals behind a bar, and reopen a rep's quarter from a copied link."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

from conftest import FIRST_PAINT_MS, external_requests, open_app, url_param, wait_for_app_idle
from playwright.sync_api import expect


def test_views_waterfall_and_rep_link(app_server, app_page, screenshot_dir):
    page = app_page
    open_app(page, f"{app_server}/team")
    expect(page.get_by_text("Leaderboard — Q3 2026")).to_be_visible(timeout=FIRST_PAINT_MS)
    expect(page.locator(".js-plotly-plot").first).to_be_visible()
    page.screenshot(path=str(screenshot_dir / "team_attainment.png"))

    wait_for_app_idle(page)
    page.get_by_role("radio", name="Pipeline changes").click()
    expect(page).to_have_url(url_param("t_view", "Pipeline changes"))
    # Known by its title: the attainment view's chart stays on screen until the new run draws.
    chart = page.locator(".js-plotly-plot").filter(has_text="Pipeline due in Q3 2026")
    expect(chart).to_be_visible()
    expect(chart.locator("g.point")).to_have_count(9)  # start, seven changes, end
    page.screenshot(path=str(screenshot_dir / "team_pipeline_changes.png"))

    wait_for_app_idle(page)
    page.get_by_role("radio", name="Rep view").click()
    expect(page).to_have_url(re.compile(r"[?&]t_rep=R\d+(&|$)"))
    expect(page.get_by_text("Slipped deals")).to_be_visible()
    rep_url = page.url

    # A copied link reopens the same rep's quarter.
    open_app(page, rep_url)
    expect(page.get_by_text("Slipped deals")).to_be_visible(timeout=FIRST_PAINT_MS)
    expect(page.get_by_text("Attainment, Q3 2026")).to_have_count(1)
    rep = parse_qs(urlsplit(rep_url).query)["t_rep"][0]
    expect(page).to_have_url(url_param("t_rep", rep))
    page.screenshot(path=str(screenshot_dir / "team_rep_view.png"))
    assert external_requests(page.requests_seen) == []
    assert page.page_errors == []
