"""Data page in Debian's Chromium: upload a CSV, see the check, load it."""

from __future__ import annotations

import re

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


# Headers no alias or standard export knows; the ids are said on screen, the rest suggested.
UNFAMILIAR = (
    "Beleg;Tag;Konto;Ware;Stück;Wert;Geld;Staat;Notiz\n"
    "BRM-1;20.10.2026;BRM-C;BRM-P;2;500,00;EUR;DE;eilig\n"
    "BRM-2;21.10.2026;BRM-C;BRM-P;1;260,00;EUR;Deutschland;\n"
)


def choose(page, field: str, column: str) -> None:
    """Pick `column` in the mapping step's box for `field` (its label starts with it)."""
    box = page.get_by_role("combobox", name=re.compile(f"^{field} ·"))
    box.click()
    page.keyboard.type(column)
    page.keyboard.press("Enter")
    expect(box).to_have_value(column)


def test_map_unfamiliar_headers_and_load(app_server, app_page, screenshot_dir, tmp_path):
    page = app_page
    page.set_viewport_size({"width": 1440, "height": 900})
    open_app(page, f"{app_server}/data")
    expect(page.get_by_text("up to 200 MB").first).to_be_visible(timeout=FIRST_PAINT_MS)
    upload = tmp_path / "beleg_export.csv"
    upload.write_text(UNFAMILIAR, encoding="utf-8")
    wait_for_app_idle(page)
    page.locator('input[type="file"]').set_input_files(str(upload))
    expect(page.get_by_text("Missing required column(s) for order lines")).to_have_count(1)

    for field, column in (
        ("order_id", "Beleg"),
        ("product_id", "Ware"),
        ("customer_id", "Konto"),
        ("net_amount", "Wert"),
    ):
        wait_for_app_idle(page)
        choose(page, field, column)
    wait_for_app_idle(page)
    choose(page, "unit_price", "(not in this file)")
    expect(page.get_by_text("2 of 2 rows can be loaded")).to_have_count(1)
    expect(page.get_by_text("Columns not used: Notiz")).to_have_count(1)
    scroll_to(page, page.get_by_text("Which column holds what"))
    page.screenshot(path=str(screenshot_dir / "data_mapping.png"))
    scroll_to(page, page.get_by_text("2 of 2 rows can be loaded"))
    page.screenshot(path=str(screenshot_dir / "data_mapping_check.png"))

    load = page.get_by_role("button", name="Load 2 rows", exact=True)
    expect(load).to_be_enabled()
    wait_for_app_idle(page)
    load.click()
    expect(page.get_by_text("beleg_export.csv: Loaded 2 of 2 rows.")).to_have_count(1)
    assert external_requests(page.requests_seen) == []
    assert page.page_errors == []


def test_funnel_editor_shows_the_stages(app_server, app_page, screenshot_dir):
    page = app_page
    page.set_viewport_size({"width": 1440, "height": 900})
    open_app(page, f"{app_server}/data")
    heading = page.get_by_role("heading", name="Sales funnel")
    expect(heading).to_be_visible(timeout=FIRST_PAINT_MS)
    scroll_to(page, heading)
    names = page.locator('[data-testid="stForm"] input[type="text"]')
    expect(names.first).to_have_value("Prospecting")
    expect(page.get_by_role("button", name="Save the funnel")).to_be_visible()
    page.screenshot(path=str(screenshot_dir / "data_funnel.png"))
    assert page.page_errors == []
