"""The Overview in Debian's Chromium: loads, shows KPIs, draws the map offline, reacts to filters."""

from __future__ import annotations

import csv
import io

from conftest import (
    FIRST_PAINT_MS,
    download_text,
    external_requests,
    open_app,
    url_param,
    wait_for_app_idle,
)
from playwright.sync_api import expect


def top_markets_csv(page) -> tuple[str, list[dict[str, str]]]:
    """The top-markets table as downloaded: (file name, rows)."""
    button = page.get_by_role("button", name="Download CSV").first
    name, text = download_text(page, button)
    return name, list(csv.DictReader(io.StringIO(text)))


def test_overview_loads_draws_map_and_follows_filters(app_server, app_page, screenshot_dir):
    page = app_page
    open_app(page, app_server)

    metrics = page.locator('[data-testid="stMetric"]')
    expect(metrics).to_have_count(5, timeout=FIRST_PAINT_MS)
    revenue = metrics.first
    expect(revenue).to_contain_text("Net revenue (EUR)")
    expect(revenue).to_contain_text("€")
    revenue_before = revenue.inner_text()

    # The world map is drawn from the locally served topojson: country shapes exist.
    expect(page.locator(".choroplethlocation").nth(29)).to_be_attached()

    page.screenshot(path=str(screenshot_dir / "overview.png"), full_page=True)
    wait_for_app_idle(page)
    name, rows_eur = top_markets_csv(page)
    assert name == "top_markets.csv"
    assert len(rows_eur) > 10

    # Change the reporting currency in the sidebar: the revenue KPI and the table follow.
    currency = page.locator('[data-testid="stSelectbox"]').filter(has_text="Reporting currency")
    currency.locator("input").click()
    page.keyboard.type("USD")
    page.keyboard.press("Enter")
    expect(page).to_have_url(url_param("currency", "USD"))
    expect(revenue).to_contain_text("Net revenue (USD)")
    expect(revenue).to_contain_text("$")
    expect(revenue).not_to_contain_text("€")
    assert revenue.inner_text() != revenue_before

    page.screenshot(path=str(screenshot_dir / "overview_usd.png"), full_page=True)

    # The top-markets CSV is built on click and carries the table's columns, now in USD.
    wait_for_app_idle(page)
    _, rows_usd = top_markets_csv(page)
    assert list(rows_usd[0])[:3] == ["Country", "Region", "Net revenue (USD)"]
    assert list(rows_eur[0])[:3] == ["Country", "Region", "Net revenue (EUR)"]
    # Exact figures: the same markets, every one converted (no figure left in EUR).
    eur = {row["Country"]: float(row["Net revenue (EUR)"]) for row in rows_eur}
    usd = {row["Country"]: float(row["Net revenue (USD)"]) for row in rows_usd}
    assert set(usd) == set(eur)
    changed = [c for c in eur if eur[c] != 0]
    assert changed and all(usd[c] != eur[c] for c in changed)
    # Units do not depend on the reporting currency.
    assert {r["Country"]: r["Units"] for r in rows_usd} == {
        r["Country"]: r["Units"] for r in rows_eur
    }
    assert external_requests(page.requests_seen) == []
    assert page.page_errors == []
