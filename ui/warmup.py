"""Warm the caches when the server starts serving a store version (issue 17).

Why: twenty people opening the meeting's link on a cold server all wait for the same cache
misses (Streamlit gives each cached call a per-key compute lock, so the first session
computes and the others queue behind it) and for the first imports of Plotly and the page
modules. So the first script run of the process, and the first after a write swaps in a new
snapshot (cache.store_version changes), starts one background thread that computes what
each page's default view needs through the same ui/cache wrappers, so the results land in
the very st.cache_data / st.cache_resource entries the pages read.

What it warms: first the views sessions were on lately (each page a session ran, with its
filters and its user's reach: `note_view`, app.py's call), then, for the whole store (reach
"all": local mode and unscoped users), the default filters (last full quarter, EUR,
reported) and each link named in SALES_ATLAS_WARM_LINKS (query strings separated by spaces,
e.g. the link a team opens in its review meeting: "period=l12m&currency=USD&basis=constant").
SALES_ATLAS_WARMUP=off turns it off.

No cold swap: a watcher thread looks for a new store version every WATCH_S seconds, so the
warm-up of a CLI import's snapshot starts before anyone clicks; meanwhile every session reads
on from the version the caches hold (ui/cache.py: ServedVersion), and switches when this
warm-up reports the new version ready, or after the bound (SALES_ATLAS_SWITCH_AFTER_S).

Checked in streamlit 1.67: a cached function called from a thread without a
ScriptRunContext computes and stores its value in the process-wide cache (the caches are
per process, not per session; a cached call with a spinner message draws nothing without a
context), and a thread of our own does not hold up the script run that started it. Errors
are logged, never shown: a warm-up is only ever a head start, and the page computes
whatever it could not.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import importlib
import logging
import os
import threading
import time
import urllib.parse
from collections import OrderedDict

from streamlit.logger import get_logger
from streamlit.runtime import Runtime

from analytics import access, pricing
from analytics.catalog import Catalog
from analytics.crm import attainment
from analytics.crm.scope import Scope
from analytics.filters import BASES, PERIOD_PRESETS, Filters, comparison_period, resolve_period
from analytics.forecast.series import NoHistory
from analytics.periods import add_months
from analytics.review import COMPARISONS
from ui import cache, periods

LOG = get_logger(__name__)

THREAD_NAME = "sales-atlas-warmup"


class _NoContextWarning(logging.Filter):
    """Drops Streamlit's "missing ScriptRunContext" warning for the warm-up's own thread,
    where no context is expected (a cached call with a spinner message asks for one)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.threadName.startswith(THREAD_NAME)


get_logger("streamlit.runtime.scriptrunner_utils.script_run_context").addFilter(_NoContextWarning())

LINKS_ENV = "SALES_ATLAS_WARM_LINKS"
SWITCH_ENV = "SALES_ATLAS_WARMUP"
# Imported up front so that the first visit to each page does not pay for it (Plotly alone
# takes about a second to import and to build its first figure).
MODULES = (
    "plotly.graph_objects",
    "ui.charts",
    "ui.components",
    "ui.markets",
    "ui.review",
    "ui.team",
    "ui.pricing",
    "ui.forecast",
    "ui.data",
)


class Warmup(threading.Thread):
    """One warm-up of one store version; `cancel()` stops it before its next step.

    `views`: (reach key, filters, pages) sessions were on, warmed first; `on_done(version)`
    is called once those, every page's default view and the Data page are warm (and the
    forecast, when someone was on its page lately), never when cancelled."""

    def __init__(
        self,
        store_version: str,
        links: tuple[str, ...] = (),
        views: tuple[tuple[str, Filters, tuple[str, ...]], ...] = (),
        on_done=None,
    ) -> None:
        super().__init__(name=f"{THREAD_NAME} {store_version}", daemon=True)
        self.store_version = store_version
        self.version = f"{store_version}#{access.Reach().key()}"
        self.links = links
        self.views = views
        self.on_done = on_done
        self.done: list[str] = []  # the steps completed, for the log and the tests
        self.failed: list[str] = []
        self._cancelled = threading.Event()

    def cancel(self) -> None:
        self._cancelled.set()

    @property
    def cancelled(self) -> bool:
        return self._cancelled.is_set()

    def run(self) -> None:
        started = time.perf_counter()
        self._step("imports", _import_modules)
        self._warm_views()
        catalog = self._step("catalog", cache.load_catalog, self.version)
        if catalog is not None and catalog.has_sales:
            views = [("default", default_filters(catalog))]
            for link in self.links:
                try:
                    views.append((link, link_filters(catalog, link)))
                except ValueError as problem:
                    LOG.warning("Warm-up: link %r skipped: %s", link, problem)
            for name, filters in views:
                for page, warm in PAGES:
                    self._step(f"{page} ({name})", warm, self.version, catalog, filters)
            # Once per store, not per filter: the forecast and the Data page ignore filters.
            currencies = sorted({filters.currency for _, filters in views})
            self._step("data", cache.data_quality, self.version)
            self._step("data: plan rates", cache.stored_plan_rates, self.version)
            self._step("data: funnel", cache.funnel_for_editing, self.version)
            # The forecast (the slowest step: most of a minute on a loaded machine at 1M) holds
            # the switch only when someone was on the Forecast page lately.
            if forecast_seen():
                self._step("forecast", warm_forecast, self.version, catalog, currencies)
                self._ready()
            else:
                self._ready()
                self._step("forecast", warm_forecast, self.version, catalog, currencies)
        self._ready()
        LOG.info(
            "Warm-up of %s %s in %.1f s: %d steps, %d failed",
            self.store_version,
            "cancelled" if self.cancelled else "done",
            time.perf_counter() - started,
            len(self.done),
            len(self.failed),
        )

    def _ready(self) -> None:
        """Report the version ready (once, and never from a cancelled warm-up)."""
        if not self.cancelled and self.on_done is not None:
            self.on_done(self.store_version)
            self.on_done = None

    def _warm_views(self) -> None:
        """The views sessions were on, most recent first, for their own reach."""
        pages = dict(PAGES)
        for reach_key, filters, names in self.views:
            version = f"{self.store_version}#{reach_key}"
            catalog = self._step(f"catalog ({reach_key})", cache.load_catalog, version)
            if catalog is None or not catalog.has_sales:
                continue
            for name in names:
                self._step(f"{name} (seen, {reach_key})", pages[name], version, catalog, filters)

    def _step(self, name: str, function, *args):
        if self.cancelled:
            return None
        try:
            result = function(*args)
        except Exception:  # a head start only: the page will compute (and report) it itself
            LOG.exception("Warm-up step %s failed", name)
            self.failed.append(name)
            return None
        self.done.append(name)
        return result


def _import_modules() -> None:
    for name in MODULES:
        importlib.import_module(name)


# --- the filters a page is opened with ------------------------------------------------------


def default_filters(catalog: Catalog) -> Filters:
    """The sidebar's defaults (ui/filters.py): last full quarter, EUR, reported, everything."""
    period = resolve_period("last_quarter", catalog.last_date)
    return Filters(period=period, comparison=comparison_period("last_quarter", period))


def link_filters(catalog: Catalog, query: str) -> Filters:
    """The filters a link's query string sets, as the sidebar reads them on a session's
    first run; a value the store does not know is a ValueError (the link is not warmed)."""
    params = urllib.parse.parse_qs(query.lstrip("?"), keep_blank_values=True)

    def one(name: str, default: str) -> str:
        return params.get(name, [default])[-1]

    preset = one("period", "last_quarter")
    if preset not in PERIOD_PRESETS or preset == "custom":
        raise ValueError(f"period {preset!r} (a preset other than custom)")
    currency = one("currency", "EUR").upper()
    if currency not in catalog.currencies:
        raise ValueError(f"currency {currency!r}")
    basis = one("basis", "reported")
    if basis not in BASES:
        raise ValueError(f"basis {basis!r}")
    allowed = {
        "region": catalog.regions,
        "country": tuple(code for code, _, _ in catalog.countries),
        "line": catalog.product_lines,
        "channel": catalog.channels,
    }
    chosen = {}
    for name, choices in allowed.items():
        values = params.get(name, [])
        unknown = [v for v in values if v not in choices]
        if unknown:
            raise ValueError(f"{name} {', '.join(unknown)}")
        chosen[name] = tuple(values)
    period = resolve_period(preset, catalog.last_date)
    return Filters(
        period=period,
        comparison=comparison_period(preset, period),
        regions=chosen["region"],
        countries=chosen["country"],
        product_lines=chosen["line"],
        channels=chosen["channel"],
        currency=currency,
        basis=basis,
    )


# --- what each page's default view reads (views/*.py with every page widget at its default) --


def warm_overview(version: str, catalog: Catalog, filters: Filters) -> None:
    from ui import charts, components

    cache.awaiting_rate(version, filters)  # the source caption names lines awaiting a rate
    figures = cache.overview_figures(version, filters)
    if figures["countries"].empty:
        return
    # The figures too: charts are memoised across sessions (ui/charts/memo.py).
    label = components.basis_label(filters)
    charts.revenue_trend(figures["trend"], filters.currency, label, filters.period)
    charts.country_map(figures["countries"], "revenue", filters.currency, filters.period.label)


def warm_markets(version: str, catalog: Catalog, filters: Filters) -> None:
    cache.awaiting_rate(version, filters)
    cache.market_rates_checked(version, filters)
    cache.market_scorecards(version, filters)
    cache.market_reporting_rate(version, filters)
    cache.market_mix(version, filters, "region")
    cache.market_top_accounts(version, filters, 25)  # the first detail section


def warm_review(version: str, catalog: Catalog, filters: Filters) -> None:
    quarters = periods.full_quarters(catalog)
    if quarters:  # the last full quarter against the first comparison, as the page opens
        quarter = quarters[0]
        scope = dataclasses.replace(filters, period=quarter, comparison=quarter)
        data = cache.quarterly_review(version, quarter, next(iter(COMPARISONS)), scope)
        cache.awaiting_rate(version, data.filters)  # the lines its figures leave out


def warm_team(version: str, catalog: Catalog, filters: Filters) -> None:
    quarters = periods.full_quarters(catalog)
    if quarters:  # the Attainment view on the last full quarter
        scope = Scope.from_filters(filters)
        cache.team_attainment(version, quarters[0], scope, attainment.DEFAULT_BASIS)


def warm_pricing(version: str, catalog: Catalog, filters: Filters) -> None:
    from ui.pricing import DEFAULT_MARKETS

    reference = cache.pricing_reference(version)
    codes = [code for code, _, _ in catalog.countries]
    markets = tuple(c for c in DEFAULT_MARKETS if c in codes)
    last = catalog.last_date
    if markets:  # the builder's baseline run (its "probe"), before any shock is set
        probe = pricing.Scenario(
            countries=markets,
            baseline_start=add_months(last, -12) + dt.timedelta(days=1),
            baseline_end=last,
            currency=filters.currency,
        )
        cache.pricing_run(version, probe.to_json())
    products = reference["products"]
    as_of = catalog.rates.last_date
    if not products.empty and as_of is not None:  # the corridor's first product at 15 %
        product = products["product_id"].iloc[0]
        if not cache.pricing_list_prices(version, product, as_of).empty:
            cache.pricing_corridor(version, product, as_of, filters.currency, 15)


def warm_forecast(version: str, catalog: Catalog, currencies: list[str]) -> None:
    """The forecast of every series (the slowest first visit of all: seconds even on a small
    store), once per store, and its conversion into each warmed view's currency."""
    try:
        store = cache.forecast_store(version, catalog.last_date)
    except NoHistory:
        return  # the page says there is not enough history; nothing to warm
    for currency in currencies:
        cache.forecast_shown_in(version, currency, store.window.as_of)


PAGES = (
    ("overview", warm_overview),
    ("markets", warm_markets),
    ("review", warm_review),
    ("team", warm_team),
    ("pricing", warm_pricing),
)


# --- the views sessions are on ----------------------------------------------------------

RECENT_VIEWS = 12  # distinct (reach, filters) remembered, most recent first
_SEEN_LOCK = threading.Lock()
_SEEN: OrderedDict[tuple[str, Filters], set[str]] = OrderedDict()


def note_view(page: str, filters: Filters) -> None:
    """app.py's call after the sidebar: this session is on `page` (its url path, "" for the
    Overview) with `filters` and its user's reach, so a new store version is warmed for it
    before the switch."""
    name = page or "overview"
    if name == "forecast":
        _FORECAST_SEEN[0] = time.monotonic()
    if name not in dict(PAGES):
        return  # the Forecast and Data pages do not depend on the filters: warmed per store
    reach_key = cache.current_user().reach.key()
    with _SEEN_LOCK:
        pages = _SEEN.pop((reach_key, filters), set())
        pages.add(name)
        _SEEN[(reach_key, filters)] = pages
        while len(_SEEN) > RECENT_VIEWS:
            _SEEN.popitem(last=False)


FORECAST_RECENT_S = 600.0
_FORECAST_SEEN = [float("-inf")]  # when a session last ran the Forecast page


def forecast_seen() -> bool:
    return time.monotonic() - _FORECAST_SEEN[0] < FORECAST_RECENT_S


def seen_views() -> tuple[tuple[str, Filters, tuple[str, ...]], ...]:
    with _SEEN_LOCK:
        items = list(_SEEN.items())
    order = [name for name, _ in PAGES]
    return tuple(
        (reach, filters, tuple(sorted(pages, key=order.index)))
        for (reach, filters), pages in reversed(items)
    )


# --- one warm-up per process and store version ----------------------------------------------

_LOCK = threading.Lock()
_STARTED: set[str] = set()  # store versions warmed (or being warmed) by this process
_CURRENT: list[Warmup] = []  # the latest warm-up, cancelled when a newer version starts
WATCH_S = 1.0  # how often the watcher looks for a new store version (a stat of a link)


def ensure_started(store_version: str, on_done=None) -> Warmup | None:
    """Start the warm-up of `store_version` unless this process already did; a warm-up of
    an older version still running is cancelled (its results would be keyed on a version
    nobody reads any more)."""
    with _LOCK:
        if store_version in _STARTED:
            return None
        _STARTED.add(store_version)
        for older in _CURRENT:
            older.cancel()
        links = tuple(os.environ.get(LINKS_ENV, "").split())
        warmup = Warmup(store_version, links, seen_views(), on_done)
        _CURRENT[:] = [warmup]
    warmup.start()
    return warmup


def warm_before_switch(store_version: str) -> None:
    """ServedVersion's hook: warm a new version, then tell it the version is ready."""
    ensure_started(store_version, on_done=cache.SERVED.ready)


def _watch() -> None:
    """Notice a new store version (a CLI import, another server's write) without waiting
    for a session's rerun, so its warm-up and the bound start at the swap."""
    while True:
        time.sleep(WATCH_S)
        try:
            cache.SERVED.choose(cache.latest_store_version())
        except Exception:  # a missing snapshot, a store being rebuilt: the pages report it
            LOG.debug("Store watcher: no version now", exc_info=True)


_WATCHER: list[threading.Thread] = []


def _attach() -> None:
    """Once per process: hold new versions until warm, and watch for them."""
    with _LOCK:
        if _WATCHER:
            return
        cache.SERVED.warm = warm_before_switch
        watcher = threading.Thread(target=_watch, name=f"{THREAD_NAME} watcher", daemon=True)
        _WATCHER.append(watcher)
    watcher.start()


def _real_server() -> bool:
    return type(Runtime._instance) is Runtime


def start() -> None:
    """app.py's call, on every script run (a set lookup once the version is warmed).

    Only in a real server: AppTest stands a mock in for the Runtime and runs one script at a
    time, and a thread filling the caches behind a test's back would race its patches."""
    if os.environ.get(SWITCH_ENV, "on").lower() in {"off", "0", "false", "no"}:
        return
    if not _real_server():
        return
    _attach()
    ensure_started(cache.store_version())
