"""The store connection and cached wrappers over analytics calls.

The app holds one read-only connection on the store's current snapshot (st.cache_resource) and gives
every call its own cursor, because a DuckDB connection refuses concurrent calls from the
reruns of several sessions. Results are cached per (database version, filters).
"""

from __future__ import annotations

import datetime as dt
import os
import queue
import sqlite3
import threading
import time
from collections.abc import Callable
from contextlib import contextmanager
from typing import TYPE_CHECKING

import duckdb
import pandas as pd
import streamlit as st
from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx

from analytics import (
    access,
    awaiting,
    catalog,
    db,
    demo,
    fx,
    importer,
    markets,
    overview,
    plan_rates,
    pricing,
    quality,
    review,
    state,
    store,
    summary_currencies,
)
from analytics.crm import activity, attainment, changes, deals, forecast, rep, stages
from analytics.crm import scope as crm_scope
from analytics.crm.scope import Scope
from analytics.filters import Filters
from analytics.periods import Period
from ui import work

if TYPE_CHECKING:
    from analytics.forecast import batch, landing
    from analytics.forecast import figures as fc_figures

CACHE_TTL_S = 3600


USER_KEY = "access_user"  # session_state: the access.User this session acts as


def current_user() -> access.User:
    """Who this session acts as (set by ui/access.py before any page runs). With an access
    file and nobody signed in there is no default: a missing user is an error, never
    "everything"."""
    user = st.session_state.get(USER_KEY)
    if user is not None:
        return user
    if access.access_path() is None:
        return access.LOCAL_USER
    raise RuntimeError("No signed-in user: ui.access.gate() must run before any page.")


def latest_store_version() -> str:
    """The snapshot the store names now, and its modification time: each write swaps in a
    new snapshot (a single-file store is changed in place only by older tools), so a write
    gets fresh caches."""
    path = db.database_path()
    try:
        return _snapshot_version(path)
    except FileNotFoundError:  # removed between resolving and stat (two writes in that instant)
        return _snapshot_version(path)


def _snapshot_version(path) -> str:
    current = db.current_file(path)
    return f"{current}@{current.stat().st_mtime_ns}"


# --- which store version this process answers from (issue 17: no cold swap) ----------------

SWITCH_AFTER_ENV = "SALES_ATLAS_SWITCH_AFTER_S"
SWITCH_AFTER_S = 30.0  # data/README.md and the Data page state this bound
OWN_VERSION_KEY = "store_version_written"  # session_state: the version this session wrote


def _snapshot_file(version: str) -> str:
    return version.rsplit("@", 1)[0]


def _mtime_ns(version: str) -> int:
    return int(version.rsplit("@", 1)[1])


class ServedVersion:
    """The store version a server answers from, held across a swap until it is warm.

    Why: every cache entry is keyed by the store version, so the rerun after an import used
    to meet cold caches for every session at once (twenty sessions, each page's queries
    again; the tail of issue 17's load figure). With a warm-up attached (ui/warmup.py, a
    real server only), a new version is warmed in the background while every session reads
    on from the version the caches hold; the switch comes when the warm-up reports it ready,
    or `bound_s` after the new version was first seen, whichever is first. Without a warm-up
    (AppTest, SALES_ATLAS_WARMUP=off) a new version is served at once, as before. A served
    snapshot that is gone from disk (a second write pruned it) is never held on to."""

    def __init__(self, bound_s: float | None = None, clock: Callable[[], float] = time.monotonic):
        self.bound_s = bound_s
        self.clock = clock
        self.served: str | None = None
        self.pending: str | None = None
        self.pending_since = 0.0
        self.warm: Callable[[str], None] | None = None  # starts the warm-up of a version
        self._ready: set[str] = set()
        self._lock = threading.Lock()

    def bound(self) -> float:
        if self.bound_s is not None:
            return self.bound_s
        return float(os.environ.get(SWITCH_AFTER_ENV, SWITCH_AFTER_S))

    def ready(self, version: str) -> None:
        """The warm-up of `version` is done: serve it from the next call on."""
        with self._lock:
            self._ready.add(version)

    def serve_now(self, version: str) -> None:
        """Serve `version` from now on, warm or not (an upgrade: the old one lacks tables)."""
        with self._lock:
            self.served, self.pending = version, None

    def choose(self, latest: str) -> str:
        """The version to answer from, given the one the store names now."""
        start = None
        with self._lock:
            if (
                self.served is None
                or latest == self.served
                or self.warm is None
                or not os.path.exists(_snapshot_file(self.served))
            ):
                self.served, self.pending = latest, None
            elif latest != self.pending:
                self.pending, self.pending_since = latest, self.clock()
                start = latest
            elif latest in self._ready or self.clock() - self.pending_since >= self.bound():
                self.served, self.pending = latest, None
                self._ready.discard(latest)
            served, warm = self.served, self.warm
        if start is not None and warm is not None:
            warm(start)  # outside the lock: it starts a thread, which calls ready() later
        return served


SERVED = ServedVersion()


def new_data_note() -> str:
    """What the Data page says after a load: who sees it when."""
    return (
        "You see the new data now; everyone else within "
        f"{SERVED.bound():g} seconds, as soon as the server has prepared the pages in use."
    )


def _own_version() -> str | None:
    """The version this session's own write made (None outside a script run or without)."""
    if get_script_run_ctx(suppress_warning=True) is None:
        return None
    return st.session_state.get(OWN_VERSION_KEY)


def store_version() -> str:
    """The store version this session reads: the one the server serves (see ServedVersion),
    or the version of this session's own write while it is newer than that, so whoever
    imports sees the import at once."""
    served = SERVED.choose(latest_store_version())
    own = _own_version()
    if own is not None:
        if _mtime_ns(own) > _mtime_ns(served) and os.path.exists(_snapshot_file(own)):
            return own
        del st.session_state[OWN_VERSION_KEY]  # served caught up (or a later write pruned it)
    return served


def _wrote() -> None:
    """After a write swapped in a new snapshot: this session reads it from now on, and the
    server starts warming it for everyone else."""
    latest = latest_store_version()
    if get_script_run_ctx(suppress_warning=True) is not None:
        st.session_state[OWN_VERSION_KEY] = latest
    SERVED.choose(latest)


def database_version() -> str:
    """The store's version and the current user's reach: every cached figure is keyed by it,
    and `cursor(version)` restricts its queries to that reach."""
    return f"{store_version()}#{current_user().reach.key()}"


_CHECKED: set[str] = set()  # store versions known to have this version's schema
# A server starting while another builds the first store waits for that build this long.
BUILD_WAIT_S = 900.0


def ensure_store() -> None:
    """Build the demo database on first start, with a visible progress bar."""
    path = db.database_path()
    if os.path.lexists(path):
        version = store_version()
        if version not in _CHECKED:
            # A store made by an earlier version gets the tables added since, once, as its
            # next snapshot (servers reading the old one read on).
            if store.needs_upgrade(path):
                with st.spinner("Updating the store to this version…"):
                    store.upgrade(path)
                # Served at once: this code needs the tables the older version lacks.
                SERVED.serve_now(latest_store_version())
            _CHECKED.add(store_version())
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    bar = st.progress(0.0, text="First start: building the demo company's database…")
    # Built as the store's first snapshot, under the writer lock: a half-built file is never
    # named by the store, and sessions or servers starting at once wait for one build.
    try:
        with store.next_snapshot(path, create=True, wait_s=BUILD_WAIT_S) as target:
            demo.build_database(
                target, progress=lambda done, message: bar.progress(done, text=message)
            )
    except store.StoreExists:
        pass  # built by another session or server while this one waited
    bar.empty()


# Two entries: the version served and the one being warmed before the switch (ServedVersion);
# a third version drops the oldest connection.
@st.cache_resource(max_entries=2)
def _connection(store: str) -> duckdb.DuckDBPyConnection:
    return db.connect(_snapshot_file(store), read_only=True)


@st.cache_resource(max_entries=2)
def _restricted_cursors(store: str) -> dict[str, queue.SimpleQueue]:
    """Idle cursors already restricted to a reach, by reach (restricting costs ~60 ms, so a
    cursor is kept for the next call). Per store version, as the connections."""
    return {}


_POOL_LOCK = threading.Lock()


@contextmanager
def writer():
    """A read-write connection for one load (an import, a rate fetch) on the store's next
    snapshot: every session, here and on other servers, reads on from the current one
    meanwhile, and its next rerun after the swap reads the new one (its version changes).
    Another write under way (the CLI's, another server's) refuses this one clearly
    (store.WriterBusy), and nothing is changed. The writing session reads its write at
    once; the others once the server has warmed it (ServedVersion)."""
    with store.writing(db.database_path()) as con:
        yield con
    _wrote()


@contextmanager
def cursor(version: str):
    """A cursor of its own for one call, on the shared read-only connection, seeing only the
    reach named in `version` (see `database_version`)."""
    store, reach_key = version.rsplit("#", 1)
    reach = access.Reach.from_key(reach_key)
    if reach.everything:
        cur = _connection(store).cursor()
        try:
            yield cur
        finally:
            cur.close()
        return
    with _POOL_LOCK:
        idle = _restricted_cursors(store).setdefault(reach_key, queue.SimpleQueue())
    try:
        cur = idle.get_nowait()
    except queue.Empty:
        cur = _connection(store).cursor()
        access.restrict(cur, reach)
    yield cur
    idle.put(cur)


@contextmanager
def unrestricted_cursor():
    """A cursor over the whole store, for checks that must see all of it (the access file
    itself, an admin's import check); never for figures shown to a user."""
    cur = _connection(store_version()).cursor()
    try:
        yield cur
    finally:
        cur.close()


@st.cache_data(ttl=CACHE_TTL_S, max_entries=8, show_spinner=False)
def load_catalog(version: str) -> catalog.Catalog:
    with cursor(version) as cur:
        return catalog.load(cur)


@st.cache_data(ttl=CACHE_TTL_S, max_entries=64, show_spinner=False)
def awaiting_rate(version: str, filters: Filters) -> pd.DataFrame:
    """Order lines awaiting a rate that the filters' periods and dimensions would include."""
    with cursor(version) as cur:
        periods = [(p.start, p.end) for p in (filters.period, filters.comparison)]
        return awaiting.summary(cur, filters, periods)


@st.cache_data(ttl=CACHE_TTL_S, max_entries=64, show_spinner=False)
def overview_figures(version: str, filters: Filters) -> dict[str, pd.DataFrame]:
    """Everything the Overview shows for one set of filters (raises RateUnavailable)."""
    with cursor(version) as cur:
        overview.check_rates(cur, filters)
        return overview.figures(cur, filters) | {
            "trend": overview.monthly_revenue_by_region(cur, filters)
        }


# --- markets: one cached wrapper per analytics call -------------------------------------------


@st.cache_data(ttl=CACHE_TTL_S, max_entries=64, show_spinner=False)
def market_rates_checked(version: str, filters: Filters) -> None:
    """Raises RateUnavailable unless every rate the Markets page needs exists."""
    with cursor(version) as cur:
        markets.check_rates(cur, filters)


@st.cache_data(ttl=CACHE_TTL_S, max_entries=64, show_spinner=False)
def market_scorecards(version: str, filters: Filters) -> dict[str, pd.DataFrame]:
    with cursor(version) as cur:
        return markets.scorecards(cur, filters)


@st.cache_data(ttl=CACHE_TTL_S, max_entries=64, show_spinner=False)
def market_reporting_rate(version: str, filters: Filters) -> float:
    with cursor(version) as cur:
        return markets.reporting_rate(cur, filters)


@st.cache_data(ttl=CACHE_TTL_S, max_entries=64, show_spinner=False)
def market_mix(version: str, filters: Filters, by: str) -> pd.DataFrame:
    with cursor(version) as cur:
        return markets.mix(cur, filters, by)


@st.cache_data(ttl=CACHE_TTL_S, max_entries=64, show_spinner=False)
def market_top_accounts(version: str, filters: Filters, n: int) -> pd.DataFrame:
    with cursor(version) as cur:
        return markets.top_accounts(cur, filters, n)


@st.cache_data(ttl=CACHE_TTL_S, max_entries=64, show_spinner=False)
def market_global_accounts(version: str, filters: Filters) -> pd.DataFrame:
    with cursor(version) as cur:
        return markets.global_accounts(cur, filters)


@st.cache_data(ttl=CACHE_TTL_S, max_entries=64, show_spinner=False)
def market_price_position(version: str, filters: Filters, product_id: str) -> pd.DataFrame:
    with cursor(version) as cur:
        return markets.price_position(cur, filters, product_id)


@st.cache_data(ttl=CACHE_TTL_S, max_entries=64, show_spinner=False)
def market_products_sold(version: str, filters: Filters) -> pd.DataFrame:
    with cursor(version) as cur:
        return markets.products_sold(cur, filters)


@st.cache_data(ttl=CACHE_TTL_S, max_entries=32, show_spinner="Building the quarterly review…")
def quarterly_review(version: str, quarter: Period, vs: str, filters: Filters) -> review.Review:
    """The whole quarterly review for one quarter, comparison and set of filters."""
    held = load_catalog(version)  # the page's own, per store version: the review's stamp
    with cursor(version) as cur:
        return review.build(cur, quarter, vs, filters, held)


# --- pricing lab ----------------------------------------------------------------------------


@st.cache_data(ttl=CACHE_TTL_S, max_entries=64, show_spinner=False)
def pricing_run(version: str, scenario_json: str):
    """Baseline and results of one scenario (given as JSON so that it hashes reliably)."""
    with cursor(version) as cur:
        return pricing.run(cur, pricing.Scenario.from_json(scenario_json))


@st.cache_data(ttl=CACHE_TTL_S, max_entries=16, show_spinner=False)
def pricing_spots(version: str, currencies: tuple[str, ...]) -> dict:
    with cursor(version) as cur:
        return pricing.spot_rates(cur, currencies)


@st.cache_data(ttl=CACHE_TTL_S, max_entries=8, show_spinner="Simulating exchange rates…")
def pricing_margin_at_risk(
    version: str, scenario_json: str, lookback_days: int, horizon: int, paths: int, seed: int
) -> pricing.MarginAtRisk:
    scenario = pricing.Scenario.from_json(scenario_json)
    with cursor(version) as cur:
        results, _ = pricing.run(cur, scenario)
        currencies = set(results["currency_code"]) | {scenario.currency}
        spots = pricing.spot_rates(cur, currencies)
        # The window ends at the latest stored rate, where the simulation starts.
        end = fx.rate_status(cur).last_date
        returns = pricing.log_returns(cur, currencies, end, lookback_days)
    return pricing.margin_at_risk(results, scenario, spots, returns, horizon, paths, seed)


@st.cache_data(ttl=CACHE_TTL_S, max_entries=16, show_spinner=False)
def pricing_episode_shocks(version: str, currencies: tuple[str, ...], start, end) -> dict:
    with cursor(version) as cur:
        return pricing.episode_shocks(cur, currencies, start, end)


@st.cache_data(ttl=CACHE_TTL_S, max_entries=4, show_spinner=False)
def pricing_reference(version: str) -> dict:
    """Episodes the stored history can replay, and the products for the corridor."""
    with cursor(version) as cur:
        return {"episodes": pricing.available_episodes(cur), "products": pricing.products(cur)}


@st.cache_data(ttl=CACHE_TTL_S, max_entries=16, show_spinner=False)
def pricing_list_prices(version: str, product_id: str, as_of) -> pd.DataFrame:
    with cursor(version) as cur:
        return pricing.list_prices(cur, product_id, as_of)


@st.cache_data(ttl=CACHE_TTL_S, max_entries=32, show_spinner=False)
def pricing_corridor(
    version: str, product_id: str, as_of, currency: str, threshold_pct: int
) -> tuple[pd.DataFrame, pd.DataFrame, tuple[float, float]]:
    """pricing.price_corridor for one product's list prices (not empty) at spot in
    `currency`: cached, since it compares every pair of countries in Python."""
    prices = pricing_list_prices(version, product_id, as_of)
    spots = pricing_spots(version, tuple(sorted(set(prices["currency_code"]) | {currency})))
    return pricing.price_corridor(prices, spots, currency, threshold_pct / 100)


_STATE_LOCK = threading.Lock()


@st.cache_resource(max_entries=1)
def _state_connection(path: str) -> sqlite3.Connection:
    return state.connect(path)


@contextmanager
def state_store():
    """The small state store (scenarios, audit): one connection per server, one user of it at
    a time. It is SQLite beside the DuckDB store, so writing here never touches the store
    or anyone's read of it, and every server can write it."""
    with _STATE_LOCK:
        yield _state_connection(str(state.state_path()))


def saved_scenarios() -> pd.DataFrame:
    """Not cached: another session or server may have saved one since (a read is ~1 ms)."""
    with state_store() as con:
        return pricing.saved_scenarios(con)


def saved_scenario(scenario_id: str) -> pricing.Scenario:
    with state_store() as con:
        return pricing.load_scenario(con, scenario_id)


def audit(action: str, detail: str = "") -> None:
    """Record what the current user did."""
    with state_store() as con:
        state.record(con, current_user().email, action, detail)


def audit_log() -> pd.DataFrame:
    with state_store() as con:
        return state.audit_log(con)


# --- data page ------------------------------------------------------------------------------


@st.cache_data(ttl=CACHE_TTL_S, max_entries=4, show_spinner="Checking every row…")
def check_import(
    version: str,
    kind: str,
    upload_id: str,
    _data: bytes,
    file_name: str,
    options,
    mapping: dict | None = None,
) -> importer.Report:
    """What loading the file would do, without writing anything (checked against the whole
    store: an import is an admin's, whatever their own reach). `mapping`: field -> the
    file's column ("" = not in the file), as the mapping step chose. Keyed by the upload's
    id, not its bytes: hashing a 200 MB file on every rerun costs time."""
    with unrestricted_cursor() as cur:
        return importer.import_file(
            cur,
            kind,
            _data,
            file_name,
            options,
            commit=False,
            mapping=mapping,
            progress=work.checkpoint,  # a closed tab or a rerun stops the check between chunks
        )


@st.cache_resource(ttl=CACHE_TTL_S, max_entries=2, show_spinner="Reading the file…")
def read_upload(upload_id: str, _data: bytes, options) -> importer.RawTable:
    """The uploaded file's header and rows, read once for the reading options and the
    mapping step (a resource, not pickled per rerun: an export may have a million rows;
    two entries: a workbook is read once without and once with its sheet). Keyed by the
    upload's id, not its bytes. Shared: callers must not change it. A plain UTF-8 CSV's
    rows are read from its bytes when asked for (importer.LazyRows: the preview reads its
    first rows), not held as a second copy of the file beside the upload."""
    return importer.read_file(_data, options, lazy=True)


@st.cache_data(ttl=CACHE_TTL_S, max_entries=2, show_spinner=False)
def import_reference(version: str) -> tuple[frozenset, frozenset]:
    """The country codes and names (upper-case) and the currency codes the store knows:
    what the mapping step's content suggestions look for."""
    with unrestricted_cursor() as cur:
        known = importer.known_values(cur)
    return frozenset(known["countries"]), frozenset(known["currencies"])


@st.cache_data(ttl=CACHE_TTL_S, max_entries=2, show_spinner=False)
def funnel_for_editing(version: str) -> tuple[tuple, dict[str, int]]:
    """The stored funnel (the default when none is stored) and how many deals each stage
    holds, over the whole store (the funnel is the company's, whatever the editor's reach)."""
    with unrestricted_cursor() as cur:
        return stages.funnel(cur), stages.used_stages(cur)


def save_funnel(funnel: tuple, renamed: dict[str, str]) -> dict[str, int]:
    """Store an edited funnel (names, order, status, probability) and record who did."""
    with writer() as con:
        counts = stages.save(con, funnel, renamed)
    audit(
        "funnel edit",
        " > ".join(f"{s.name} ({s.status})" for s in funnel)
        + "".join(f"; {old} renamed {new}" for old, new in renamed.items() if old != new),
    )
    return counts


def saved_mapping(kind: str, signature: str) -> tuple[str, dict] | None:
    """The mapping saved for files of this kind with these column names. Not cached: another
    session or server may have saved one since."""
    with state_store():
        return state.mapping_for(state.state_path(), kind, signature)


def save_mapping(name: str, kind: str, signature: str, columns: dict) -> None:
    """Save the mapping under `name` and record who did (audited like an import)."""
    with state_store() as con:
        state.save_mapping(state.state_path(), name, kind, signature, columns)
        state.record(
            con,
            current_user().email,
            "mapping save",
            f"{name.strip()}: {kind}, "
            + ", ".join(f"{f} = {c}" for f, c in sorted(columns.items()) if c),
        )


@st.cache_data(ttl=CACHE_TTL_S, max_entries=4, show_spinner=False)
def data_quality(version: str) -> dict:
    with cursor(version) as cur:
        return {
            "coverage": quality.coverage(cur),
            "unconverted": quality.unconverted_lines(cur),
            "awaiting": awaiting.summary(cur),
            "orphans": quality.orphans(cur),
            "history": quality.import_history(cur),
            "rates": fx.rate_status(cur),
            "summary_currencies": summary_currencies.stored(cur),
        }


@st.cache_data(ttl=CACHE_TTL_S, max_entries=4, show_spinner=False)
def stored_plan_rates(version: str) -> pd.DataFrame:
    """The plan rates the Data page lists (and admins edit)."""
    with cursor(version) as cur:
        return plan_rates.stored(cur)


# --- team and pipeline ----------------------------------------------------------------------


@st.cache_data(ttl=CACHE_TTL_S, max_entries=32, show_spinner=False)
def team_attainment(
    version: str, quarter: Period, scope: Scope, basis: str = attainment.DEFAULT_BASIS
) -> dict:
    with cursor(version) as cur:
        return attainment.attainment_view(cur, quarter, scope, basis)


@st.cache_data(ttl=CACHE_TTL_S, max_entries=32, show_spinner=False)
def team_pipeline(version: str, scope: Scope) -> dict:
    with cursor(version) as cur:
        return deals.pipeline_view(cur, scope)


@st.cache_data(ttl=CACHE_TTL_S, max_entries=32, show_spinner=False)
def team_forecast(version: str, quarter: Period, scope: Scope, week: int) -> dict:
    with cursor(version) as cur:
        return forecast.forecast_view(cur, quarter, scope, week)


@st.cache_data(ttl=CACHE_TTL_S, max_entries=8, show_spinner=False)
def team_forecast_quarters(version: str, finished: list[Period]) -> list[Period]:
    with cursor(version) as cur:
        return forecast.forecast_quarters(cur, finished)


@st.cache_data(ttl=CACHE_TTL_S, max_entries=32, show_spinner=False)
def team_pipeline_changes(
    version: str, first: dt.date, last: dt.date, quarter: Period, scope: Scope
) -> tuple[pd.DataFrame, pd.DataFrame]:
    with cursor(version) as cur:
        return changes.pipeline_changes(cur, first, last, quarter, scope)


@st.cache_data(ttl=CACHE_TTL_S, max_entries=32, show_spinner=False)
def team_activity(version: str, period: Period, scope: Scope, by: str) -> pd.DataFrame:
    with cursor(version) as cur:
        return activity.activity_impact(cur, period, scope, by)


@st.cache_data(ttl=CACHE_TTL_S, max_entries=32, show_spinner=False)
def team_rep(version: str, quarter: Period, scope: Scope, rep_id: str, basis: str = "plan") -> dict:
    with cursor(version) as cur:
        return rep.rep_view(cur, quarter, scope, rep_id, basis)


@st.cache_data(ttl=CACHE_TTL_S, max_entries=32, show_spinner=False)
def team_reps(version: str, scope: Scope) -> pd.DataFrame:
    with cursor(version) as cur:
        return crm_scope.reps(cur, scope)


@st.cache_data(ttl=CACHE_TTL_S, max_entries=8, show_spinner=False)
def team_snapshot_dates(version: str) -> list[dt.date]:
    with cursor(version) as cur:
        return crm_scope.snapshot_dates(cur)


# --- statistical forecast -------------------------------------------------------------------
# The forecast modules are imported by these wrappers, not at the top: they import statsmodels
# (~1.6 s of CPU), which every page's first run in a fresh process paid through app.py's
# import of this module, though only the Forecast page uses it (the warm-up imports it in the
# background when it warms the forecast).


@st.cache_resource(max_entries=16, show_spinner="Forecasting every series (once per store)…")
def forecast_store(version: str, as_of: dt.date) -> batch.StoreForecast:
    """Every series forecast 18 months ahead, once per store version, reach and as-of date
    (a user whose reach is some regions gets the forecast of those regions' sales).

    A resource, not data: the pages only read it, and unpickling its ~1.5 MB on every rerun
    (st.cache_data's copy) would cost each rerun for nothing."""
    from analytics.forecast import batch

    with cursor(version) as cur:
        return batch.forecast_store(cur, as_of)


@st.cache_data(ttl=CACHE_TTL_S, max_entries=8, show_spinner=False)
def forecast_landings(version: str, as_of: dt.date, level: str) -> list[landing.Landing]:
    from analytics.forecast import landing

    with cursor(version) as cur:
        return landing.year_end_landing(cur, forecast_store(version, as_of), level)


@st.cache_data(ttl=CACHE_TTL_S, max_entries=16, show_spinner=False)
def forecast_shown_in(version: str, currency: str, as_of: dt.date) -> fc_figures.Shown:
    from analytics.forecast import figures as fc_figures

    with cursor(version) as cur:
        return fc_figures.shown_in(cur, currency, as_of)


@st.cache_data(ttl=CACHE_TTL_S, max_entries=64, show_spinner="Re-making that forecast…")
def forecast_track_record(
    version: str, as_of: dt.date, level: str, group: str, months_ago: int, currency: str
) -> pd.DataFrame:
    from analytics.forecast import figures as fc_figures

    item = forecast_store(version, as_of).find(level, group)
    return fc_figures.track_record(item, months_ago, forecast_shown_in(version, currency, as_of))


@st.cache_data(ttl=CACHE_TTL_S, max_entries=32, show_spinner=False)
def pipeline_projection(version: str, scope: Scope) -> tuple | None:
    """(stage rates, the two quarters' projections) at the latest snapshot; None without one."""
    from analytics.forecast import projection

    with cursor(version) as cur:
        snapshot = crm_scope.latest_snapshot(cur)
        return None if snapshot is None else projection.project(cur, snapshot, scope)
