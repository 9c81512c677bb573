"""Felt latency in Debian's Chromium (Playwright): one tab clicks through every page.

Click-to-idle: from just before the click to the first moment the page shows the run over
(no spinner, nothing stale on screen) after the server's script_finished for a run that
started after the click, read off the page's own websocket (so a run that starts and ends
between two polls, or inside one render, is not missed). The server's CPU is read from quiet to quiet around each step.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from playwright.sync_api import TimeoutError as PlaywrightTimeout

from . import procstat
from .runs import by_step

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VIEWPORT = {"width": 1400, "height": 1000}
LINK_QUERY = "period=l12m&currency=USD&basis=constant"

# The run's start and end as the server says them, read off the page's websocket: every
# ForwardMsg's top-level fields are walked (protobuf wire format) for new_session (field 4: a
# run starts) and script_finished (field 6, its status). The page's own script-state
# attribute is not enough to see a run: a fast run (a fragment's, 30-80 ms) can go from
# "running" back to "notRunning" inside one React render, so the attribute never changes and
# the driver waited 120 s for a run it had missed (6 of 54 clicks on 2026-12-01).
_TAP_JS = """
() => {
  window.__runs = [];
  const varint = (bytes, at) => {
    let value = 0, scale = 1, byte;
    do { byte = bytes[at++]; value += (byte & 0x7f) * scale; scale *= 128; } while (byte & 0x80);
    return [value, at];
  };
  const read = (buffer) => {
    const now = performance.now();
    const bytes = new Uint8Array(buffer);
    let at = 0;
    while (at < bytes.length) {
      let tag, value;
      [tag, at] = varint(bytes, at);
      const field = Math.floor(tag / 8), wire = tag % 8;
      if (wire === 0) { [value, at] = varint(bytes, at); }
      else if (wire === 2) { [value, at] = varint(bytes, at); at += value; }
      else if (wire === 1) { at += 8; } else if (wire === 5) { at += 4; } else { return; }
      if (field === 4) window.__runs.push([now, "started"]);
      if (field === 6 && wire === 0) window.__runs.push([now, "finished", value]);
    }
  };
  const Native = window.WebSocket;
  window.WebSocket = function (...args) {
    const socket = new Native(...args);
    socket.addEventListener("message", (event) => {
      if (event.data instanceof ArrayBuffer) read(event.data);
      else if (event.data instanceof Blob) event.data.arrayBuffer().then(read);
    });
    return socket;
  };
  window.WebSocket.prototype = Native.prototype;
  Object.assign(window.WebSocket, {CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3});
}
"""
# script_finished statuses that end what the user waits for (FINISHED_EARLY_FOR_RERUN, 2, is
# followed by the run st.rerun() asked for): successfully, compile error, fragment run.
_DONE_STATUSES = "[0, 1, 3]"
# performance.now() once a run that started after `since` is over and the page is painted.
_IDLE_AFTER_JS = """
(since) => {
  const runs = (window.__runs || []).filter(([t]) => t >= since);
  const last = runs[runs.length - 1];
  if (!last || last[1] !== "finished" || !DONE.includes(last[2])) return null;
  const app = document.querySelector('[data-testid="stApp"]');
  if (!app || app.dataset.testConnectionState !== "CONNECTED") return null;
  if (app.dataset.testScriptState !== "notRunning") return null;
  if (document.querySelector('[data-testid="stSpinner"], [data-testid^="stStatusWidgetRunning"]'))
    return null;
  const main = document.querySelector('[data-testid="stMainBlockContainer"]');
  if (!main || !main.querySelector('[data-testid="stElementContainer"]')) return null;
  if (document.querySelector('[data-stale="true"]')) return null;
  return performance.now();
}
""".replace("DONE", _DONE_STATUSES)
# What the page looks like when a wait times out: the error names what was missing.
_DIAGNOSE_JS = """
(since) => {
  const app = document.querySelector('[data-testid="stApp"]');
  return JSON.stringify({
    runs_since_click: (window.__runs || []).filter(([t]) => t >= since).map(([, k, s]) => s === undefined ? k : k + ":" + s),
    script_state: app && app.dataset.testScriptState,
    connection: app && app.dataset.testConnectionState,
    spinner: !!document.querySelector('[data-testid="stSpinner"]'),
    stale: document.querySelectorAll('[data-stale="true"]').length,
  });
}
"""
SETTLE_MS = 300


def _measure(
    page: Any, pid: int, action: Callable[[], None], navigates: bool
) -> tuple[float, float]:
    """(server CPU s, click-to-idle s) of one interaction."""
    before = procstat.wait_quiet(pid)
    since = -1 if navigates else page.evaluate("performance.now()")
    action()
    while True:
        try:
            idle_at = page.wait_for_function(
                _IDLE_AFTER_JS, arg=since, polling="raf", timeout=120_000
            ).json_value()
        except PlaywrightTimeout as timeout:
            raise PlaywrightTimeout(
                f"not idle after 120 s: {page.evaluate(_DIAGNOSE_JS, max(since, 0))}"
            ) from timeout
        # A rerun (st.rerun after a chart click) may follow; idle must hold for a moment.
        page.wait_for_timeout(SETTLE_MS)
        if page.evaluate(_IDLE_AFTER_JS, since) is not None:
            break
    after = procstat.wait_quiet(pid)
    return after - before, (idle_at - max(since, 0)) / 1000


def _choose_in_selectbox(page: Any, label: str, value: str) -> Callable[[], None]:
    def choose() -> None:
        box = page.locator('[data-testid="stSelectbox"]').filter(has_text=label)
        box.locator("input").click()
        page.keyboard.type(value)
        page.keyboard.press("Enter")

    return choose


def _click_segment(page: Any, name: str) -> Callable[[], None]:
    """An option of st.segmented_control (its buttons have the radio role)."""
    return lambda: page.get_by_role("radio", name=name, exact=True).click()


def _click_radio(page: Any, name: str) -> Callable[[], None]:
    """An option of st.radio: the label takes the click, the input is hidden under it."""
    return lambda: page.locator('[data-testid="stRadio"] label').filter(has_text=name).first.click()


def _click_button(page: Any, name: str) -> Callable[[], None]:
    return lambda: page.get_by_role("button", name=name, exact=True).click()


def _click_largest_bar(page: Any) -> Callable[[], None]:
    # Plotly's drag layer covers the bars, so the click goes to the bar's screen position.
    def click() -> None:
        bars = page.locator(".js-plotly-plot").first.locator("g.point path")
        bars.last.wait_for(state="attached", timeout=30_000)
        box = bars.last.bounding_box()
        page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)

    return click


def _steps(page: Any, base: str, turn: int) -> list[tuple[str, str, Callable[[], None]]]:
    """One round. Every page starts from a link (a new session with the link's filters and
    every widget at its default), so each step's value differs from what is on screen;
    the currency alternates between rounds so that a round does not only replay the
    previous round's cached views."""
    currency = ("GBP", "CHF")[turn % 2]
    basis = "Reported"
    measure = "Growth"
    section = "Global key accounts"
    versus = "Same quarter last year"
    mode = "Replay an episode"
    view = "Pipeline"

    def link(path: str) -> Callable[[], None]:
        return lambda: page.goto(f"{base}/{path}?{LINK_QUERY}")

    return [
        ("overview", "open_link", link("")),
        ("overview", "sidebar_filter", _choose_in_selectbox(page, "Reporting currency", currency)),
        ("overview", "page_widget", _click_segment(page, measure)),
        ("markets", "open_link", link("markets")),
        ("markets", "drill", _click_largest_bar(page)),
        ("markets", "drill_up", _click_button(page, "‹ All regions")),
        ("markets", "page_widget", _click_segment(page, section)),
        ("markets", "sidebar_filter", _click_radio(page, basis)),
        ("review", "open_link", link("review")),
        ("review", "page_widget", _click_segment(page, versus)),
        ("review", "sidebar_filter", _choose_in_selectbox(page, "Reporting currency", currency)),
        ("team", "open_link", link("team")),
        ("team", "switch_view", _click_segment(page, view)),
        ("team", "sidebar_filter", _click_radio(page, basis)),
        ("pricing", "open_link", link("pricing")),
        ("pricing", "page_widget", _click_radio(page, mode)),
        ("pricing", "sidebar_filter", _choose_in_selectbox(page, "Reporting currency", currency)),
        ("data", "open_link", link("data")),
    ]


def run(base_url: str, pid: int, repeats: int) -> dict[str, Any]:
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import sync_playwright

    records = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            page = browser.new_context(viewport=VIEWPORT).new_page()
            page.add_init_script(f"({_TAP_JS})()")
            for turn in range(repeats):
                for name, kind, action in _steps(page, base_url, turn):
                    print(f"round {turn + 1}: {name} / {kind}", file=sys.stderr)
                    record = {"round": turn + 1, "page": name, "kind": kind}
                    try:
                        cpu, latency = _measure(page, pid, action, navigates=kind == "open_link")
                        record |= {"cpu_s": round(cpu, 3), "latency_s": round(latency, 3)}
                    except PlaywrightError as problem:  # a timeout, a missing element
                        record["error"] = str(problem).splitlines()[0]
                    records.append(record)
        finally:
            browser.close()
    warm = [r for r in records if r["round"] > 1]
    return {
        "rounds": repeats,
        "cpu_s": by_step(records, "cpu_s"),
        "cpu_s_warm": by_step(warm, "cpu_s"),
        "latency_s": by_step(records, "latency_s"),
        "all_cpu_s": procstat.summary([r["cpu_s"] for r in records if "cpu_s" in r]),
        "warm_cpu_s": procstat.summary([r["cpu_s"] for r in warm if "cpu_s" in r]),
        "all_latency_s": procstat.summary([r["latency_s"] for r in records if "cpu_s" in r]),
        "errors": [r for r in records if "error" in r],
        "records": records,
    }
