"""Playwright harness: the app served by `streamlit run` on 127.0.0.1, driven by Debian chromium.

Fixtures (named apart from pytest-playwright's `browser` / `page`, which these tests must not
use: two Playwright sync sessions cannot run in one thread):

- `chromium_path`: /usr/bin/chromium; skips when missing, or fails under CI /
  SALES_ATLAS_REQUIRE_BROWSER=1.
- `app_server`: base URL of the app, started once per session on a copy of the demo database.
- `serve_app(workdir, demo_db_path, env, args, port)`: the same as a context manager, for a
  test module that needs the app started differently (an access file, a secrets file).
- `chromium_browser`: a headless chromium, once per session.
- `app_page`: a fresh 1400x1000 page per test; `app_page.requests_seen` lists every request
  URL and `app_page.page_errors` every uncaught JavaScript error. A failing test leaves a
  screenshot in `screenshot_dir`.
- `wait_for_app_idle`, `external_requests`: the helpers below, as fixtures.

Tests assert with Playwright's auto-waiting `expect(...)` (default timeout `STEP_MS`; the first
paint after opening a URL gets `FIRST_PAINT_MS`, a download `DOWNLOAD_MS`). `wait_for_app_idle`
is only a pre-step before the next interaction: a widget change reaches the server
asynchronously, so "idle" right after a click can still describe the run before it, and a
loaded machine showed exactly that.

Every test under this folder is marked `browser` (deselect with `-m "not browser"`).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus, urlsplit

import pytest
from playwright.sync_api import Error, expect

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parent.parent
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
VIEWPORT = {"width": 1400, "height": 1000}
SERVER_START_TIMEOUT_S = 60.0
# CI machines are loaded: a page's first paint after a server start took tens of seconds there,
# and with two busy processes beside the suite (load 10-20 on two cores) a minute was not enough
# for a first paint nor 30 s for a step. A longer wait only slows a run that fails anyway.
FIRST_PAINT_MS = 120_000
STEP_MS = 60_000
# A download button's file is built on the server when clicked; Streamlit's own client waits
# 180 s for it before it shows the user an error, so a test waits as long, not less. Under load
# a CSV of twenty rows took over 60 s to arrive (three downloads failed so in one loaded run).
DOWNLOAD_MS = 180_000
expect.set_options(timeout=STEP_MS)
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})

# True once the app has connected, finished its script run, shows no spinner and has painted.
_APP_IDLE_JS = """
() => {
  const app = document.querySelector('[data-testid="stApp"]');
  if (!app || app.dataset.testConnectionState !== "CONNECTED") return null;
  const state = app.dataset.testScriptState;
  if (state === "compilationError") return state;
  if (state !== "notRunning") return null;
  const busy = document.querySelector(
    '[data-testid="stSpinner"], [data-testid^="stStatusWidgetRunning"],'
    + ' [data-testid="stStatusWidgetNewYearsIcon"]'
  );
  if (busy) return null;
  // Painted: the page has drawn something and nothing left from the previous run is
  // still shown as stale (a slow machine reported "notRunning" before either held).
  const main = document.querySelector('[data-testid="stMainBlockContainer"]');
  if (!main || !main.querySelector('[data-testid="stElementContainer"]')) return null;
  if (document.querySelector('[data-stale="true"]')) return null;
  return state;
}
"""
# A widget change reaches the server asynchronously; the app must stay idle this long.
_IDLE_SETTLE_MS = 300


def browser_required() -> bool:
    """Whether a missing browser is an error (CI) rather than a reason to skip."""
    return os.environ.get("SALES_ATLAS_REQUIRE_BROWSER") == "1" or os.environ.get("CI") == "true"


def app_script() -> Path:
    """The Streamlit entry point under test: $SALES_ATLAS_APP, or the repository's app.py."""
    return Path(os.environ.get("SALES_ATLAS_APP") or REPO_ROOT / "app.py").resolve()


def wait_for_app_idle(page: Any, timeout: float = FIRST_PAINT_MS) -> None:
    """Wait until the app is connected, its script run has finished and no spinner shows.

    Call after `page.goto(...)` and after every interaction that reruns the script.
    """
    deadline = time.monotonic() + timeout / 1000
    while True:
        remaining_ms = max(1.0, (deadline - time.monotonic()) * 1000)
        state = page.wait_for_function(_APP_IDLE_JS, timeout=remaining_ms).json_value()
        if state == "compilationError":
            raise AssertionError("the app script failed to compile (see the server log)")
        page.wait_for_timeout(_IDLE_SETTLE_MS)
        if page.evaluate(_APP_IDLE_JS) == "notRunning":
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"the app did not become idle within {timeout:.0f} ms")


def url_param(name: str, value: str | None = None) -> re.Pattern[str]:
    """A URL pattern: query parameter `name` is present (with `value`, when given)."""
    encoded = re.escape(quote_plus(value)) if value is not None else r"[^&]*"
    return re.compile(rf"[?&]{re.escape(name)}={encoded}(&|$)")


def open_app(page: Any, url: str) -> None:
    """Open `url` and wait for its first paint; assertions still `expect` what they read."""
    page.goto(url)
    expect(page.locator('[data-testid="stMainBlockContainer"]')).to_be_visible(
        timeout=FIRST_PAINT_MS
    )
    wait_for_app_idle(page, timeout=FIRST_PAINT_MS)


def scroll_to(page: Any, locator: Any) -> None:
    """Scroll `locator` into view, for a screenshot, once the run that draws it has finished.

    Streamlit may redraw an element while its run goes on; an element replaced under the
    scroll is looked up again.
    """
    for attempt in range(3):
        wait_for_app_idle(page)
        expect(locator).to_be_visible()
        try:
            locator.scroll_into_view_if_needed()
            return
        except Error as error:
            if "not attached" not in str(error) or attempt == 2:
                raise


def download_text(page: Any, button: Any, timeout: float = DOWNLOAD_MS) -> tuple[str, str]:
    """Click a download button; its (suggested file name, UTF-8 text without BOM)."""
    expect(button).to_be_enabled()
    button.scroll_into_view_if_needed()
    with page.expect_download(timeout=timeout) as download:
        button.click()
    return (
        download.value.suggested_filename,
        download.value.path().read_text(encoding="utf-8-sig"),
    )


def external_requests(urls: Iterable[str]) -> list[str]:
    """The URLs that leave the machine: any host but loopback; data: and blob: URLs aside."""
    outside = []
    for url in urls:
        parts = urlsplit(url)
        if parts.scheme in {"data", "blob", "about", "chrome", "chrome-extension"}:
            continue
        if (parts.hostname or "") not in LOCAL_HOSTS:
            outside.append(url)
    return outside


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.is_relative_to(HERE):
            item.add_marker(pytest.mark.browser)


CALL_FAILED = pytest.StashKey[bool]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Any:
    report = yield
    if report.when == "call":
        item.stash[CALL_FAILED] = report.failed
    return report


@pytest.fixture(scope="session")
def chromium_path() -> Path:
    """Debian's chromium; Playwright drives it, no Playwright-downloaded browser is used."""
    if not CHROMIUM.exists():
        reason = "Debian chromium not installed: apt-get install chromium"
        if browser_required():
            pytest.fail(f"{reason} (browser tests are required here)")
        pytest.skip(reason)
    return CHROMIUM


@pytest.fixture(scope="session")
def screenshot_dir() -> Path:
    """Where browser tests save screenshots: $SCREENSHOT_DIR or tests/browser/screenshots/."""
    path = Path(os.environ.get("SCREENSHOT_DIR") or HERE / "screenshots")
    path.mkdir(parents=True, exist_ok=True)
    return path


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _health(base_url: str) -> str | None:
    # No proxy: a proxy set in the environment must not see or break loopback traffic.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(f"{base_url}/_stcore/health", timeout=2) as response:
            return response.read().decode().strip()
    except (urllib.error.URLError, OSError):
        return None


def _server_failure(message: str, log_path: Path) -> str:
    log = log_path.read_text(errors="replace") if log_path.exists() else "(no output)"
    return f"{message}\n--- streamlit output ({log_path}) ---\n{log}"


@contextlib.contextmanager
def serve_app(
    workdir: Path,
    demo_db_path: Path,
    env: dict[str, str] | None = None,
    args: Iterable[str] = (),
    port: int | None = None,
) -> Iterator[str]:
    """Serve the app with `streamlit run` on 127.0.0.1 while in the block; yields its base URL.

    The server gets its own copy of the demo database in `workdir`, so that other tests can
    open the original while the server holds its file lock. `env` is added to the server's
    environment (e.g. SALES_ATLAS_ACCESS), `args` to its command line (e.g.
    `--secrets.files`); `port` is chosen free when not given.
    """
    db_path = workdir / demo_db_path.name
    shutil.copyfile(demo_db_path, db_path)
    wal = demo_db_path.with_name(demo_db_path.name + ".wal")
    if wal.exists():
        shutil.copyfile(wal, db_path.with_name(db_path.name + ".wal"))
    log_path = workdir / "streamlit.log"

    port = port or free_port()
    base_url = f"http://127.0.0.1:{port}"
    command = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(app_script()),
        "--server.address",
        "127.0.0.1",
        "--server.port",
        str(port),
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
        *args,
    ]
    env = {
        **os.environ,
        "SALES_ATLAS_DB": str(db_path),
        "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false",
        "PYTHONUNBUFFERED": "1",
        **(env or {}),
    }
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command, cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
        )
    try:
        deadline = time.monotonic() + SERVER_START_TIMEOUT_S
        while _health(base_url) != "ok":
            if process.poll() is not None:
                pytest.fail(
                    _server_failure(f"streamlit exited with code {process.returncode}", log_path)
                )
            if time.monotonic() > deadline:
                pytest.fail(
                    _server_failure(
                        f"streamlit not healthy after {SERVER_START_TIMEOUT_S:.0f} s", log_path
                    )
                )
            time.sleep(0.25)
        yield base_url
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="session")
def app_server(
    chromium_path: Path, demo_db_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """Base URL (http://127.0.0.1:<port>) of the app, served for the whole session."""
    with serve_app(tmp_path_factory.mktemp("app_server"), demo_db_path) as base_url:
        yield base_url


@pytest.fixture(scope="session")
def chromium_browser(chromium_path: Path) -> Iterator[Any]:
    """A headless Debian chromium, launched once per session."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(chromium_path), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def app_page(
    request: pytest.FixtureRequest, chromium_browser: Any, screenshot_dir: Path
) -> Iterator[Any]:
    """A fresh page (own context, 1400x1000) that records requests and JavaScript errors."""
    context = chromium_browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    page.requests_seen = []
    page.page_errors = []
    # On the context, so that requests from workers and popups are seen too.
    context.on("request", lambda req: page.requests_seen.append(req.url))
    page.on("pageerror", lambda error: page.page_errors.append(str(error)))
    try:
        yield page
    finally:
        if request.node.stash.get(CALL_FAILED, False):
            name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.nodeid)[-150:]
            try:
                page.screenshot(path=str(screenshot_dir / f"FAILED-{name}.png"), full_page=True)
            except Exception as error:  # a failed screenshot must not mask the test's failure
                print(f"could not save failure screenshot: {error}")
        context.close()


@pytest.fixture(name="wait_for_app_idle")
def wait_for_app_idle_fixture() -> Callable[..., None]:
    """`wait_for_app_idle(page, timeout=FIRST_PAINT_MS)`, for tests that take helpers as
    fixtures."""
    return wait_for_app_idle


@pytest.fixture(name="external_requests")
def external_requests_fixture() -> Callable[[Iterable[str]], list[str]]:
    """`external_requests(urls)`, for tests that take helpers as fixtures."""
    return external_requests
