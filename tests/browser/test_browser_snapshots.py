"""Two app servers on one store and a CLI import at once (issue 12): every page of both keeps
rendering during the import, and after the swap both show the new data — within the bound a
server holds the old version while it warms the new one (issue 17, ui/cache.ServedVersion)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pytest
from conftest import (
    REPO_ROOT,
    SERVER_START_TIMEOUT_S,
    _health,
    _server_failure,
    app_script,
    free_port,
    open_app,
)
from playwright.sync_api import expect

from analytics import db, formatting, store
from ui.cache import SWITCH_AFTER_S

PAGES = {
    "": "Overview",
    "markets": "Markets",
    "review": "Quarterly review",
    "pricing": "Pricing lab",
    "team": "Team & pipeline",
    "forecast": "Forecast",
    "data": "Data",
}
ORDERS_CSV = (
    "order_id;order_date;customer_id;country;currency;product_id;quantity;unit_price;"
    "customer_name;product_name;channel;unit_cost_eur\n"
    + "".join(
        f"TWO-{i};2{i % 9}.10.2026;TWO-C;CH;CHF;TWO-P;{i + 1};1.250,00;Two AG;Probe;direct;600\n"
        for i in range(7)
    )
)
NEW_LINES = 7

# The real CLI (analytics.__main__.main), held after its load has been written into the next
# snapshot and before that snapshot is swapped in, until the test creates the `go` file: so
# the pages are checked while a write is under way, not only before and after one.
HELD_IMPORT = textwrap.dedent(
    """
    import pathlib, sys, time
    from analytics.importer import run
    loaded = run.load

    def load_then_hold(*args, **kwargs):
        loaded(*args, **kwargs)
        print("loaded", flush=True)
        while not pathlib.Path(sys.argv[1]).exists():
            time.sleep(0.1)

    run.load = load_then_hold
    from analytics.__main__ import main
    sys.exit(main(sys.argv[2:]))
    """
)


@contextmanager
def _serve(db_path: Path, log_path: Path) -> Iterator[str]:
    """`streamlit run app.py` on `db_path`, as the app_server fixture starts it."""
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "SALES_ATLAS_DB": str(db_path),
        "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false",
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("SALES_ATLAS_ACCESS", None)
    command = [sys.executable, "-m", "streamlit", "run", str(app_script())]
    command += ["--server.address", "127.0.0.1", "--server.port", str(port)]
    command += ["--server.headless", "true", "--browser.gatherUsageStats", "false"]
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command, cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
        )
    try:
        deadline = time.monotonic() + SERVER_START_TIMEOUT_S
        while _health(base_url) != "ok":
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(_server_failure("streamlit did not start", log_path))
            time.sleep(0.25)
        yield base_url
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _check_renders(page, base_url: str, path: str, title: str) -> None:
    """The page draws its title and no error: no UserError box, no "Something went wrong",
    no Streamlit exception."""
    open_app(page, f"{base_url}/{path}")
    expect(page.get_by_role("heading", name=title, exact=True)).to_be_visible()
    expect(page.get_by_test_id("stException")).to_have_count(0)
    expect(page.get_by_test_id("stAlertContentError")).to_have_count(0)
    expect(page.get_by_text("Something went wrong")).to_have_count(0)


def _order_lines_shown(page, base_url: str):
    open_app(page, f"{base_url}/data")
    return (
        page.get_by_test_id("stMetric")
        .filter(has_text="Order lines")
        .get_by_test_id("stMetricValue")
    )


def test_two_servers_keep_rendering_during_a_cli_import_and_both_show_it_after(
    chromium_browser, demo_db_path, tmp_path, screenshot_dir
):
    # A single-file store, as stores were before snapshots: the import makes it the first
    # snapshot while both servers read it.
    path = tmp_path / "shared.duckdb"
    shutil.copyfile(demo_db_path, path)
    with duckdb.connect(str(path), read_only=True) as con:
        lines = con.execute("SELECT count(*) FROM order_lines").fetchone()[0]
    before = formatting.count(lines)
    after = formatting.count(lines + NEW_LINES)
    source = tmp_path / "orders.csv"
    source.write_text(ORDERS_CSV, encoding="utf-8")
    go = tmp_path / "go"

    context = chromium_browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    with (
        _serve(path, tmp_path / "server_a.log") as server_a,
        _serve(path, tmp_path / "server_b.log") as server_b,
    ):
        servers = (server_a, server_b)
        for server in servers:  # both serving, each with the store open read-only
            expect(_order_lines_shown(page, server)).to_have_text(before)
        command = ["import", "orders", str(source), "--db", str(path)]
        importer = subprocess.Popen(
            [sys.executable, "-c", HELD_IMPORT, str(go), *command],
            cwd=REPO_ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            assert importer.stdout.readline().strip() == "loaded", importer.stdout.read()
            held = db.current_file(path)
            for server in servers:
                for url_path, title in PAGES.items():
                    _check_renders(page, server, url_path, title)
                # The load is written but not swapped in: nobody sees part of it.
                expect(_order_lines_shown(page, server)).to_have_text(before)
            assert db.current_file(path) == held
            assert importer.poll() is None, "the import did not wait for the page checks"
        finally:
            go.touch()
            output, _ = importer.communicate(timeout=120)
        assert importer.returncode == 0, output
        assert '"status": "loaded"' in output
        assert db.current_file(path) != held and len(store.snapshots(path)) == 2
        swapped = time.monotonic()
        for server in servers:
            # Each server serves the new snapshot once it has warmed it, or SWITCH_AFTER_S
            # after it saw it: a page opened meanwhile shows the old data, so reopen it.
            deadline = swapped + SWITCH_AFTER_S + 30  # the watcher's second, the page's run
            while True:
                shown = _order_lines_shown(page, server)
                expect(shown).to_be_visible()  # the page has run; then is it the new data?
                try:
                    expect(shown).to_have_text(after, timeout=1000)
                    break
                except AssertionError:
                    if time.monotonic() > deadline:
                        raise
            _check_renders(page, server, "", "Overview")
            expect(page.get_by_text("Data: orders import: orders.csv").first).to_be_visible()
        page.screenshot(path=str(screenshot_dir / "two_servers_after_import.png"))
    context.close()
