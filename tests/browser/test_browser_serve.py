"""Through `python -m serve --workers 2` in Debian's Chromium: two browsers are pinned to
the two workers, and on each the upload (kept in the process that received it) and the
download (in that process's memory) reach the session's own worker."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import (
    FIRST_PAINT_MS,
    REPO_ROOT,
    VIEWPORT,
    download_text,
    external_requests,
    free_port,
    open_app,
    wait_for_app_idle,
)
from playwright.sync_api import expect

CSV = (
    "order_id;order_date;customer_id;country;currency;product_id;quantity;unit_price;"
    "customer_name;product_name;channel;unit_cost_eur\n"
    "SERVE-1;20.10.2026;SERVE-C;CH;CHF;SERVE-P;3;1.250,00;Serve AG;Probe;direct;600\n"
    "SERVE-2;21.10.2026;SERVE-C;CH;US$;SERVE-P;1;1.250,00;Serve AG;Probe;direct;600\n"
)
READY_TIMEOUT_S = 180.0


def _status(base_url: str) -> str | None:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(f"{base_url}/_serve/health", timeout=5) as response:
            return response.read().decode()
    except (urllib.error.URLError, OSError):
        return None


@pytest.fixture(scope="module")
def served(chromium_path: Path, demo_db_path: Path, tmp_path_factory) -> Iterator[str]:
    """Base URL of the launcher's proxy, two workers ready, on a copy of the demo store."""
    workdir = tmp_path_factory.mktemp("serve")
    db = workdir / demo_db_path.name
    shutil.copyfile(demo_db_path, db)
    log = workdir / "serve.log"
    port = free_port()
    env = {
        **os.environ,
        "SALES_ATLAS_DB": str(db),
        "SALES_ATLAS_STATE": str(workdir / "state.sqlite"),
        "PYTHONUNBUFFERED": "1",
    }
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "serve", "--port", str(port), "--workers", "2"],
            cwd=REPO_ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + READY_TIMEOUT_S
        while _status(base_url) != "2 of 2 workers ready":
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"python -m serve not ready:\n{log.read_text()[-3000:]}")
            time.sleep(0.5)
        yield base_url
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=40)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_each_browser_uploads_and_downloads_on_its_own_worker(
    served, chromium_browser, screenshot_dir, tmp_path
):
    upload = tmp_path / "serve_orders.csv"
    upload.write_text(CSV, encoding="cp1252")
    contexts = [chromium_browser.new_context(viewport=VIEWPORT) for _ in range(2)]
    try:
        pages = [context.new_page() for context in contexts]
        seen: list[str] = []
        errors: list[str] = []
        for context, page in zip(contexts, pages, strict=True):
            context.on("request", lambda request: seen.append(request.url))
            page.on("pageerror", lambda error: errors.append(str(error)))
            open_app(page, f"{served}/data")
        workers = []
        for context, page in zip(contexts, pages, strict=True):
            expect(page.get_by_text("up to 200 MB").first).to_be_visible(timeout=FIRST_PAINT_MS)
            (pin,) = [c["value"] for c in context.cookies() if c["name"] == "sales_atlas_worker"]
            workers.append(pin)
            wait_for_app_idle(page)
            page.locator('input[type="file"]').set_input_files(str(upload))
            # The check ran on the file the worker holding this session received.
            expect(page.get_by_text("1 of 2 rows can be loaded")).to_have_count(1)
        assert sorted(workers) == ["0", "1"]  # one browser on each worker
        for n, page in enumerate(pages):
            open_app(page, served)
            expect(page.locator('[data-testid="stMetric"]')).to_have_count(
                5, timeout=FIRST_PAINT_MS
            )
            wait_for_app_idle(page)
            name, text = download_text(page, page.get_by_role("button", name="Download CSV").first)
            assert name.endswith(".csv") and "Net revenue (EUR)" in text.splitlines()[0]
            page.screenshot(path=str(screenshot_dir / f"serve_overview_{n}.png"))
        assert external_requests(seen) == []
        assert errors == []
    finally:
        for context in contexts:
            context.close()
