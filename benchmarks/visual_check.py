"""Visual check (issue 16): every page and view in Chromium at meeting-room sizes, and every
export of the quarterly review, failing on what a leader would see as broken.

    python benchmarks/visual_check.py --db PATH [--out DIR] [--sizes 1440x900,1920x1080]

It serves the app with `streamlit run` on 127.0.0.1 (as tests/browser does), opens each
screen below in Debian's /usr/bin/chromium through Playwright, saves a full-page screenshot
and reports:
- a KPI value cut off (an st.metric value whose text ends in "…" or is wider than its box),
  a metric label or a button label cut off the same way;
- a chart title wider than its chart;
- an exception box, or an error box (the app's one error path shows st.error);
- an empty chart (a Plotly figure with no trace holding a point).
Then it writes the review's PPTX (every shape inside its slide), PDF (pages rendered with
pdftoppm for looking at) and HTML (opened in Chromium like a page). Exit status 1 when
anything was found, with one line per finding. The screenshots are for a person to look at:
the checks find cut-off text, not a chart that reads wrongly.
"""

from __future__ import annotations

import argparse
import dataclasses
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run"]
SIZES = ((1440, 900), (1920, 1080))

TEAM_VIEWS = (
    "Attainment",
    "Pipeline",
    "Pipeline changes",
    "Forecast",
    "Activity vs impact",
    "Rep view",
)
# (name, path and query): every page, and every view a link can open.
SCREENS: tuple[tuple[str, str], ...] = (
    ("overview", "/"),
    ("overview_constant_usd", "/?basis=constant&currency=USD"),
    ("markets", "/markets"),
    ("markets_constant", "/markets?basis=constant"),
    ("markets_region", "/markets?m_region=Western+Europe"),
    ("markets_country", "/markets?m_country=DE"),
    ("markets_global_accounts", "/markets?m_country=DE&m_detail=Global+key+accounts"),
    (
        "markets_price_position",
        "/markets?m_region=Central+%26+Eastern+Europe&m_detail=Price+position",
    ),
    ("review", "/review"),
    ("review_budget", "/review?vs=budget"),
    *((f"review_slide_{n}", f"/review?present=1&slide={n}") for n in range(1, 6)),
    ("pricing", "/pricing"),
    *(
        (f"team_{view.lower().replace(' ', '_')}", f"/team?t_view={view.replace(' ', '+')}")
        for view in TEAM_VIEWS
    ),
    ("data", "/data"),
)
# The fast subset tests/browser runs on every change.
QUICK = ("overview", "review", "review_slide_2", "markets_country")

_IDLE_JS = """
() => {
  const app = document.querySelector('[data-testid="stApp"]');
  if (!app || app.dataset.testConnectionState !== "CONNECTED") return false;
  if (app.dataset.testScriptState !== "notRunning") return false;
  if (document.querySelector('[data-testid="stSpinner"], [data-stale="true"]')) return false;
  const main = document.querySelector('[data-testid="stMainBlockContainer"]');
  return !!(main && main.querySelector('[data-testid="stElementContainer"]'));
}
"""

# Each finding: [kind, text]. Text is cut off when it ends in an ellipsis or its element is
# wider inside than its box (CSS text-overflow draws the "…" without changing the text).
FINDINGS_JS = """
() => {
  const found = [];
  // Streamlit truncates with text-overflow: ellipsis on an inner markdown container, so
  // the text itself stays whole: look for any such element narrower than its content.
  const cut = (root) => /…$/.test(root.innerText.trim()) || [root, ...root.querySelectorAll('*')]
    .some((e) => getComputedStyle(e).textOverflow === 'ellipsis'
                 && e.scrollWidth > e.clientWidth + 1);
  const visible = (el) => el.offsetParent !== null && el.getClientRects().length > 0;
  const checks = [
    ['[data-testid="stMetricValue"]', "KPI value cut off"],
    ['[data-testid="stMetricLabel"]', "KPI label cut off"],
    ['button[data-testid^="stBaseButton"]', "button label cut off"],
    ['[data-testid="stTab"], [data-testid="stWidgetLabel"]', "label cut off"],
  ];
  for (const [selector, kind] of checks) {
    for (const el of document.querySelectorAll(selector)) {
      if (visible(el) && cut(el)) found.push([kind, el.innerText.trim()]);
    }
  }
  for (const el of document.querySelectorAll(
      '[data-testid="stException"], [data-testid="stAlertContentError"]')) {
    found.push(["exception or error box", el.innerText.slice(0, 200)]);
  }
  for (const plot of document.querySelectorAll('.js-plotly-plot')) {
    if (!visible(plot)) continue;
    const data = plot.data || [];
    const points = (t) => ["x", "y", "z", "values", "locations", "lat"].some(
      (k) => t[k] && (t[k].length > 0 || (t[k].bdata && t[k].bdata.length > 0)));
    if (!data.some(points)) found.push(["empty chart", plot.layout?.title?.text || "(untitled)"]);
    const title = plot.querySelector('.gtitle');
    const svg = plot.querySelector('svg.main-svg');
    if (title && svg) {
      const box = title.getBoundingClientRect(), frame = svg.getBoundingClientRect();
      if (box.right > frame.right + 1 || box.left < frame.left - 1) {
        found.push(["chart title wider than its chart", title.textContent]);
      }
    }
  }
  return found;
}
"""


@dataclasses.dataclass
class Finding:
    where: str
    kind: str
    text: str

    def __str__(self) -> str:
        return f"{self.where}: {self.kind}: {self.text!r}"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class AppServer:
    """`streamlit run app.py` on 127.0.0.1 over a copy of the store (the server locks it)."""

    def __init__(self, db_path: Path, workdir: Path):
        self.db_path = workdir / "visual_check.duckdb"
        shutil.copyfile(db_path, self.db_path)
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = (workdir / "streamlit.log").open("wb")
        env = {
            **dict(__import__("os").environ),
            "SALES_ATLAS_DB": str(self.db_path),
            "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false",
        }
        command = [sys.executable, "-m", "streamlit", "run", str(REPO_ROOT / "app.py")]
        command += ["--server.address", "127.0.0.1", "--server.port", str(self.port)]
        command += ["--server.headless", "true"]
        self.process = subprocess.Popen(
            command, cwd=REPO_ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT
        )
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        deadline = time.monotonic() + 60
        while True:
            try:
                with opener.open(f"{self.url}/_stcore/health", timeout=2) as answer:
                    if answer.read().strip() == b"ok":
                        return
            except OSError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.close()
                raise RuntimeError(f"streamlit did not start; see {workdir / 'streamlit.log'}")
            time.sleep(0.25)

    def close(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()


def wait_idle(page: Any, timeout_ms: float = 90_000) -> None:
    page.wait_for_function(_IDLE_JS, timeout=timeout_ms)
    page.wait_for_timeout(400)  # a rerun the first one triggered (query params) may follow
    page.wait_for_function(_IDLE_JS, timeout=timeout_ms)
    page.wait_for_timeout(600)  # Plotly draws after the script run ends


def check_screen(page: Any, base_url: str, name: str, path: str, out: Path) -> list[Finding]:
    """Open one screen, save its screenshot as out/<name>.png, return what is wrong on it."""
    page.goto(base_url + path)
    wait_idle(page)
    page.screenshot(path=str(out / f"{name}.png"))
    found = [Finding(name, kind, text) for kind, text in page.evaluate(FINDINGS_JS)]
    # Streamlit scrolls inside its main block, so a full-page screenshot is the first screen
    # only: a viewport as tall as the content shows the rest (for looking at, not checking).
    size = page.viewport_size
    tall = page.evaluate(
        "() => document.querySelector('[data-testid=\"stMain\"]')?.scrollHeight || 0"
    )
    if tall > size["height"]:
        page.set_viewport_size({"width": size["width"], "height": min(tall, 12_000)})
        page.wait_for_timeout(800)
        page.screenshot(path=str(out / f"{name}_whole.png"))
        page.set_viewport_size(size)
    return found


def check_screens(
    browser: Any, base_url: str, out: Path, sizes=SIZES, names: tuple[str, ...] | None = None
) -> list[Finding]:
    found = []
    for width, height in sizes:
        folder = out / f"{width}x{height}"
        folder.mkdir(parents=True, exist_ok=True)
        context = browser.new_context(viewport={"width": width, "height": height})
        page = context.new_page()
        try:
            for name, path in SCREENS:
                if names is None or name in names:
                    for finding in check_screen(page, base_url, name, path, folder):
                        finding.where = f"{width}x{height} {finding.where}"
                        found.append(finding)
        finally:
            context.close()
    return found


# --- exports ----------------------------------------------------------------------------------


def review_of(db_path: Path, quarter_key: str | None = None, vs: str = "prior_quarter"):
    """The quarterly review the page shows by default (the last full quarter)."""
    from analytics import catalog, db, periods, review
    from analytics.filters import Filters

    con = db.connect(db_path, read_only=True)
    try:
        cat = catalog.load(con)
        quarters = periods.full_quarters(cat.first_date, cat.last_date)
        quarter = periods.parse_quarter_key(quarter_key) if quarter_key else quarters[0]
        filters = Filters(period=quarter, comparison=quarter, currency="EUR")
        return review.build(con.cursor(), quarter, vs, filters)
    finally:
        con.close()


def pptx_findings(data: bytes, where: str = "pptx") -> list[Finding]:
    """Every shape of every slide inside the slide."""
    import io

    from pptx import Presentation

    deck = Presentation(io.BytesIO(data))
    width, height = deck.slide_width, deck.slide_height
    found = []
    for number, slide in enumerate(deck.slides, start=1):
        for shape in slide.shapes:
            left, top = shape.left or 0, shape.top or 0
            right, bottom = left + (shape.width or 0), top + (shape.height or 0)
            if left < 0 or top < 0 or right > width or bottom > height:
                found.append(
                    Finding(
                        f"{where} slide {number}",
                        "shape outside the slide",
                        f"{shape.name}: {left}..{right} x {top}..{bottom} EMU on a "
                        f"{width} x {height} slide",
                    )
                )
    return found


def check_exports(browser: Any, db_path: Path, out: Path) -> list[Finding]:
    from exports import deck, html, pdf
    from ui import charts

    data = review_of(db_path)
    folder = out / "exports"
    folder.mkdir(parents=True, exist_ok=True)
    pptx_bytes = deck.to_pptx(data)
    (folder / "review.pptx").write_bytes(pptx_bytes)
    found = pptx_findings(pptx_bytes)
    (folder / "review.pdf").write_bytes(pdf.to_pdf(data, charts.review_figures(data)))
    subprocess.run(
        ["pdftoppm", "-png", "-r", "60", str(folder / "review.pdf"), str(folder / "pdf_page")],
        check=True,
    )
    pages = sorted(folder.glob("pdf_page*.png"))
    if not pages:
        found.append(Finding("pdf", "no page rendered", str(folder / "review.pdf")))
    report = folder / "review.html"
    report.write_text(html.to_html(data), encoding="utf-8")
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        page.goto(report.as_uri())
        page.wait_for_timeout(500)
        page.screenshot(path=str(folder / "review_html.png"), full_page=True)
        overflow = page.evaluate(
            "() => document.documentElement.scrollWidth > document.documentElement.clientWidth"
        )
    finally:
        context.close()
    if overflow:
        found.append(Finding("html", "wider than a 1440 px window", report.name))
    found += [Finding("html", "JavaScript error", e) for e in errors]
    return found


def run(db_path: Path, out: Path, sizes=SIZES, names=None, exports: bool = True) -> list[Finding]:
    from playwright.sync_api import sync_playwright

    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="visual_check_") as workdir:
        server = AppServer(db_path, Path(workdir))
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
                )
                try:
                    found = check_screens(browser, server.url, out, sizes, names)
                    if exports:
                        found += check_exports(browser, db_path, out)
                finally:
                    browser.close()
        finally:
            server.close()
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", type=Path, required=True, help="the DuckDB store to look at")
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "benchmarks" / "visual_check")
    parser.add_argument("--sizes", default=",".join(f"{w}x{h}" for w, h in SIZES))
    parser.add_argument("--quick", action="store_true", help="only " + ", ".join(QUICK))
    args = parser.parse_args(argv)
    sizes = [tuple(int(n) for n in size.split("x")) for size in args.sizes.split(",")]
    found = run(args.db, args.out, sizes, QUICK if args.quick else None, not args.quick)
    for finding in found:
        print(finding)
    print(f"{len(found)} findings; screenshots in {args.out}")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
