"""Roles and scope in Debian's Chromium, identity by a trusted proxy's header.

The app runs with an access file (source = "header"); each role gets one browser context
whose every request carries X-Forwarded-Email (Playwright's extra_http_headers), as a
sign-in proxy would set it. Per role, every page: the scope is stated next to the filters,
no country outside it shows on the page or in a download, crafted links change nothing, and
each role can do what it may and finds nothing to act on where it may not.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest
from conftest import (
    CALL_FAILED,
    FIRST_PAINT_MS,
    VIEWPORT,
    download_text,
    external_requests,
    open_app,
    serve_app,
    wait_for_app_idle,
)
from playwright.sync_api import expect

HEADER = "X-Forwarded-Email"
ACCESS = f"""
[identity]
source = "header"
header = "{HEADER}"

[[users]]
email = "we@example.com"
role = "viewer"
regions = ["Western Europe"]

[[users]]
email = "analyst@example.com"
role = "analyst"
countries = ["DE"]

[[users]]
email = "admin@example.com"
role = "admin"
"""
# Every page, by its address and a heading it always shows.
PAGES = {
    "": "Overview",
    "markets": "Markets",
    "review": "Quarterly review",
    "pricing": "Pricing lab",
    "team": "Team & pipeline",
    "forecast": "Forecast",
    "data": "Data",
}


@pytest.fixture(scope="module")
def header_app(chromium_path, demo_db_path, tmp_path_factory) -> Iterator[str]:
    workdir = tmp_path_factory.mktemp("header_app")
    (workdir / "access.toml").write_text(ACCESS)
    env = {
        "SALES_ATLAS_ACCESS": str(workdir / "access.toml"),
        "SALES_ATLAS_STATE": str(workdir / "state.sqlite"),
    }
    with serve_app(workdir, demo_db_path, env) as base_url:
        yield base_url


@pytest.fixture
def as_user(chromium_browser, request, screenshot_dir):
    """A page in a browser context of its own whose requests all carry `email` in the
    header (None: no header), as one person's browser behind the proxy."""
    contexts = []

    def open_context(email: str | None) -> Any:
        headers = {HEADER: email} if email else {}
        context = chromium_browser.new_context(viewport=VIEWPORT, extra_http_headers=headers)
        contexts.append(context)
        page = context.new_page()
        page.requests_seen = []
        page.page_errors = []
        context.on("request", lambda req: page.requests_seen.append(req.url))
        page.on("pageerror", lambda error: page.page_errors.append(str(error)))
        return page

    yield open_context
    for context in contexts:
        if request.node.stash.get(CALL_FAILED, False):
            name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)
            context.pages[0].screenshot(path=str(screenshot_dir / f"FAILED-{name}.png"))
        context.close()


def _countries(db_path: Path) -> dict[str, tuple[str, str]]:
    """code -> (name, region) of every country of the demo store."""
    with duckdb.connect(str(db_path), read_only=True) as con:
        rows = con.execute("SELECT country_code, name, region FROM countries").fetchall()
    return {code: (name, region) for code, name, region in rows}


def _main(page: Any) -> Any:
    return page.locator('[data-testid="stMainBlockContainer"]')


def _visit_every_page(page: Any, base_url: str, caption: str, outside: set[str]) -> dict[str, str]:
    """Each page renders without an error box, states the scope, and names no country
    outside it in its text (charts' labels and legends are SVG text, so they are in it;
    tables are drawn on a canvas, so downloads check those). Returns each page's text."""
    texts = {}
    for path, title in PAGES.items():
        open_app(page, f"{base_url}/{path}")
        expect(page.get_by_role("heading", name=title).first).to_be_visible(timeout=FIRST_PAINT_MS)
        expect(page.locator('[data-testid="stSidebar"]').get_by_text(caption)).to_be_visible()
        # A count of none holds at once: asked only after the run has finished drawing, so
        # that an error box drawn late in the run is seen.
        wait_for_app_idle(page)
        expect(page.locator('[data-testid="stException"]')).to_have_count(0)
        text = texts[path] = _main(page).inner_text()
        seen = sorted(name for name in outside if name in text)
        assert not seen, f"/{path} names {seen}"
    return texts


def _overview_countries(page: Any) -> set[str]:
    """The countries of the Overview's top-markets table, as downloaded."""
    wait_for_app_idle(page)
    _, text = download_text(page, page.get_by_role("button", name="Download CSV").first)
    return {row["Country"] for row in csv.DictReader(io.StringIO(text))}


def test_no_header_sees_no_figure(header_app, as_user):
    page = as_user(None)
    open_app(page, header_app)
    expect(page.get_by_text("This request carries no identity")).to_be_visible()
    for test_id in ("stMetric", "stDataFrame", "stPlotlyChart", "stDownloadButton"):
        expect(page.locator(f'[data-testid="{test_id}"]')).to_have_count(0)


def test_viewer_sees_western_europe_only_and_cannot_act(
    header_app, as_user, demo_db_path, screenshot_dir
):
    countries = _countries(demo_db_path)
    inside = {name for name, region in countries.values() if region == "Western Europe"}
    outside = {name for name, region in countries.values() if region != "Western Europe"}
    page = as_user("we@example.com")
    caption = "Signed in as we@example.com · viewer · sees Western Europe"
    _visit_every_page(page, header_app, caption, outside)

    # A crafted link asking for the Americas and the US: said so, and nothing of them shown.
    open_app(page, f"{header_app}/?region=Americas&country=US")
    expect(page.get_by_text("This link asked for data outside your scope")).to_be_visible()
    shown = _overview_countries(page)
    assert shown and shown <= inside
    page.screenshot(path=str(screenshot_dir / "access_viewer_crafted_link.png"), full_page=True)

    # Nothing to act on: no upload, no rate fetch, no import or audit log, no save.
    open_app(page, f"{header_app}/data")
    expect(page.get_by_text("Only admins (data owners) import data.")).to_be_visible()
    expect(page.locator('input[type="file"]')).to_have_count(0)
    expect(page.get_by_role("button", name="Fetch newer rates")).to_have_count(0)
    expect(page.get_by_role("heading", name="Audit log")).to_have_count(0)
    open_app(page, f"{header_app}/pricing")
    expect(
        page.get_by_text("Saving and deleting scenarios is for analysts and admins.")
    ).to_be_visible(timeout=FIRST_PAINT_MS)
    expect(page.get_by_role("button", name="Save scenario")).to_have_count(0)
    expect(page.get_by_role("button", name="Delete")).to_have_count(0)
    assert external_requests(page.requests_seen) == []
    assert page.page_errors == []


def test_analyst_saves_a_scenario_but_does_not_import(
    header_app, as_user, demo_db_path, screenshot_dir
):
    countries = _countries(demo_db_path)
    outside = {name for code, (name, _) in countries.items() if code != "DE"}
    page = as_user("analyst@example.com")
    caption = "Signed in as analyst@example.com · analyst · sees DE"
    _visit_every_page(page, header_app, caption, outside)

    open_app(page, f"{header_app}/pricing?country=US")
    expect(page.get_by_text("4 · Results against the baseline")).to_have_count(
        1, timeout=FIRST_PAINT_MS
    )
    wait_for_app_idle(page)
    _, text = download_text(page, page.locator(".st-key-p_results_csv button"))
    assert {row["Market"] for row in csv.DictReader(io.StringIO(text))} == {"Germany"}
    wait_for_app_idle(page)
    page.get_by_label("Name").fill("Germany steady")
    page.get_by_role("button", name="Save scenario").click()
    expect(page.get_by_text("Saved “Germany steady”.")).to_have_count(1)
    page.screenshot(path=str(screenshot_dir / "access_analyst_saved.png"), full_page=True)

    open_app(page, f"{header_app}/data")
    expect(page.get_by_text("Only admins (data owners) import data.")).to_be_visible()
    expect(page.locator('input[type="file"]')).to_have_count(0)
    expect(page.get_by_role("button", name="Fetch newer rates")).to_have_count(0)
    assert external_requests(page.requests_seen) == []
    assert page.page_errors == []


def test_admin_sees_everything_imports_and_views_as_a_viewer(
    header_app, as_user, demo_db_path, screenshot_dir
):
    countries = _countries(demo_db_path)
    inside = {name for name, region in countries.values() if region == "Western Europe"}
    page = as_user("admin@example.com")
    caption = "Signed in as admin@example.com · admin · sees all regions and countries"
    texts = _visit_every_page(page, header_app, caption, set())
    # The text check can fail: for the admin the pages do name countries outside Western Europe.
    named = {
        n for n, r in countries.values() if r != "Western Europe" and n in " ".join(texts.values())
    }
    assert named, "no page text names a country: the viewer's check would prove nothing"

    open_app(page, f"{header_app}/data")
    expect(page.locator('input[type="file"]')).to_have_count(1)
    expect(page.get_by_role("button", name="Fetch newer rates")).to_be_visible()
    expect(page.get_by_role("heading", name="Audit log")).to_be_visible()

    open_app(page, header_app)
    assert len(_overview_countries(page)) > len(inside)
    wait_for_app_idle(page)
    view_as = page.locator('[data-testid="stSelectbox"]').filter(has_text="View as")
    view_as.locator("input").click()
    page.keyboard.type("we@example.com")
    page.keyboard.press("Enter")
    expect(
        page.get_by_text(
            "Signed in as admin@example.com as we@example.com · viewer · sees Western Europe"
        )
    ).to_be_visible(timeout=FIRST_PAINT_MS)
    shown = _overview_countries(page)
    assert shown and shown <= inside
    page.screenshot(path=str(screenshot_dir / "access_admin_view_as.png"), full_page=True)
    assert external_requests(page.requests_seen) == []
    assert page.page_errors == []
