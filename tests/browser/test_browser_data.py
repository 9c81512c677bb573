"""Data page in Debian's Chromium: upload a CSV, see the check, load it."""

from __future__ import annotations

from conftest import FIRST_PAINT_MS, external_requests, open_app, scroll_to, wait_for_app_idle
from playwright.sync_api import expect

CSV = (
    "order_id;order_date;customer_id;country;currency;product_id;quantity;unit_price;"
    "customer_name;product_name;channel;unit_cost_eur\n"
    "BROWSER-1;20.10.2026;BROWSER-C;CH;CHF;BROWSER-P;3;1.250,00;Browser AG;Probe;direct;600\n"
    "BROWSER-2;21.10.2026;BROWSER-C;CH;US$;BROWSER-P;1;1.250,00;Browser AG;Probe;direct;600\n"
)


def test_upload_check_and_load(app_server, app_page, screenshot_dir, tmp_path):
    page = app_page
    open_app(page, f"{app_server}/data")
    expect(page.get_by_text("up to 200 MB").first).to_be_visible(timeout=FIRST_PAINT_MS)
    upload = tmp_path / "browser_orders.csv"
    upload.write_text(CSV, encoding="cp1252")
    wait_for_app_idle(page)
    page.locator('input[type="file"]').set_input_files(str(upload))
    expect(page.get_by_text("1 of 2 rows can be loaded")).to_have_count(1)
    page.screenshot(path=str(screenshot_dir / "data_check.png"))

    load = page.get_by_role("button", name="Load 1 row", exact=True)
    expect(load).to_be_enabled()
    wait_for_app_idle(page)
    load.click()
    expect(page.get_by_text("browser_orders.csv: Loaded 1 of 2 rows.")).to_have_count(1)
    scroll_to(page, page.get_by_role("heading", name="Import history"))
    page.screenshot(path=str(screenshot_dir / "data_loaded.png"))
    assert external_requests(page.requests_seen) == []
    assert page.page_errors == []
