"""The store connection and cached wrappers over analytics calls.

The app holds one read-only connection per database file (st.cache_resource) and gives
every call its own cursor, because a DuckDB connection refuses concurrent calls from the
reruns of several sessions. Results are cached per (database version, filters).
"""

from __future__ import annotations

import datetime as dt
import os
import threading
import uuid
from contextlib import contextmanager

import duckdb
import pandas as pd
import streamlit as st

from analytics import (
    catalog,
    db,
    demo,
    fx,
    importer,
    markets,
    overview,
    pricing,
    quality,
    review,
    store,
)
from analytics.crm import activity, attainment, changes, deals, forecast, rep
from analytics.crm import scope as crm_scope
from analytics.crm.scope import Scope
from analytics.errors import UserError
from analytics.filters import Filters
from analytics.periods import Period

CACHE_TTL_S = 3600


def database_version() -> str:
    """The store's path and modification time: a rebuilt file gets fresh caches."""
    path = db.database_path()
    return f"{path}@{path.stat().st_mtime_ns}"


_CHECKED: set[str] = set()  # store versions known to have this version's schema


def ensure_store() -> None:
    """Build the demo database on first start, with a visible progress bar."""
    path = db.database_path()
    if path.exists():
        version = database_version()
        if version not in _CHECKED:
            # A store made by an earlier version gets the tables added since, once, before
            # the shared read-only connection opens on it.
            with _WRITE_LOCK:
                if store.needs_upgrade(path):
                    with st.spinner("Updating the store to this version (monthly summaries)…"):
                        store.upgrade(path)
            _CHECKED.add(database_version())
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    bar = st.progress(0.0, text="First start: building the demo company's database…")
    # Build under a temporary name and rename, so a half-built file is never opened and
    # two sessions starting at once cannot corrupt each other's build.
    building = path.with_name(f".{path.name}.{uuid.uuid4().hex}.building")
    try:
        demo.build_database(
            building, progress=lambda done, message: bar.progress(done, text=message)
        )
        if not path.exists():
            os.replace(building, path)
    finally:
        building.unlink(missing_ok=True)
    bar.empty()


@st.cache_resource(max_entries=1)
def _connection(version: str) -> duckdb.DuckDBPyConnection:
    return db.connect(version.rsplit("@", 1)[0], read_only=True)


_WRITE_LOCK = threading.Lock()


class StoreBusy(UserError):
    """Another program holds the store, so the app cannot write to it now."""


@contextmanager
def writer():
    """A read-write connection for one short write (e.g. saving a scenario).

    DuckDB will not open a file read-write while this process holds it read-only, so the
    shared read-only connection is closed first. The write changes the file, hence its
    version: the next read opens a fresh connection and cached figures are recomputed once.
    A read running in another session at that instant fails and is retried on its next
    rerun; writes are rare (saving and deleting scenarios), so that is accepted here.
    """
    with _WRITE_LOCK:
        _connection(database_version()).close()
        _connection.clear()
        try:
            con = db.connect(db.database_path(), read_only=False)
        except db.StoreLocked as problem:
            raise StoreBusy(
                "Another program is using the database (for example an import or a second app "
                "server), so this change could not be saved. Try again when it has finished."
            ) from problem
        try:
            yield con
        finally:
            con.close()


@contextmanager
def cursor():
    """A cursor of its own for one call, on the shared read-only connection."""
    cur = _connection(database_version()).cursor()
    try:
        yield cur
    finally:
        cur.close()


@st.cache_data(ttl=CACHE_TTL_S, max_entries=8, show_spinner=False)
def load_catalog(version: str) -> catalog.Catalog:
    with cursor() as cur:
        return catalog.load(cur)


@st.cache_data(ttl=CACHE_TTL_S, max_entries=64, show_spinner=False)
def overview_figures(version: str, filters: Filters) -> dict[str, pd.DataFrame]:
    """Everything the Overview shows for one set of filters (raises RateUnavailable)."""
    with cursor() as cur:
        overview.check_rates(cur, filters)
        return {
            "kpis": overview.kpis(cur, filters),
            "trend": overview.monthly_revenue_by_region(cur, filters),
            "countries": overview.revenue_by_country(cur, filters),
        }


# --- markets: one cached wrapper per analytics call -------------------------------------------


@st.cache_data(ttl=CACHE_TTL_S, max_entries=64, show_spinner=False)
def market_rates_checked(version: str, filters: Filters) -> None:
    """Raises RateUnavailable unless every rate the Markets page needs exists."""
    with cursor() as cur:
        markets.check_rates(cur, filters)


@st.cache_data(ttl=CACHE_TTL_S, max_entries=64, show_spinner=False)
def market_scorecards(version: str, filters: Filters) -> dict[str, pd.DataFrame]:
    with cursor() as cur:
        return markets.scorecards(cur, filters)


@st.cache_data(ttl=CACHE_TTL_S, max_entries=64, show_spinner=False)
def market_reporting_rate(version: str, filters: Filters) -> float:
    with cursor() as cur:
        return markets.reporting_rate(cur, filters)


@st.cache_data(ttl=CACHE_TTL_S, max_entries=64, show_spinner=False)
def market_mix(version: str, filters: Filters, by: str) -> pd.DataFrame:
    with cursor() as cur:
        return markets.mix(cur, filters, by)


@st.cache_data(ttl=CACHE_TTL_S, max_entries=64, show_spinner=False)
def market_top_accounts(version: str, filters: Filters, n: int) -> pd.DataFrame:
    with cursor() as cur:
        return markets.top_accounts(cur, filters, n)


@st.cache_data(ttl=CACHE_TTL_S, max_entries=64, show_spinner=False)
def market_global_accounts(version: str, filters: Filters) -> pd.DataFrame:
    with cursor() as cur:
        return markets.global_accounts(cur, filters)


@st.cache_data(ttl=CACHE_TTL_S, max_entries=64, show_spinner=False)
def market_price_position(version: str, filters: Filters, product_id: str) -> pd.DataFrame:
    with cursor() as cur:
        return markets.price_position(cur, filters, product_id)


@st.cache_data(ttl=CACHE_TTL_S, max_entries=64, show_spinner=False)
def market_products_sold(version: str, filters: Filters) -> pd.DataFrame:
    with cursor() as cur:
        return markets.products_sold(cur, filters)


@st.cache_data(ttl=CACHE_TTL_S, max_entries=32, show_spinner="Building the quarterly review…")
def quarterly_review(version: str, quarter: Period, vs: str, filters: Filters) -> review.Review:
    """The whole quarterly review for one quarter, comparison and set of filters."""
    with cursor() as cur:
        return review.build(cur, quarter, vs, filters)


# --- pricing lab ----------------------------------------------------------------------------


@st.cache_data(ttl=CACHE_TTL_S, max_entries=64, show_spinner=False)
def pricing_run(version: str, scenario_json: str):
    """Baseline and results of one scenario (given as JSON so that it hashes reliably)."""
    with cursor() as cur:
        return pricing.run(cur, pricing.Scenario.from_json(scenario_json))


@st.cache_data(ttl=CACHE_TTL_S, max_entries=16, show_spinner=False)
def pricing_spots(version: str, currencies: tuple[str, ...]) -> dict:
    with cursor() as cur:
        return pricing.spot_rates(cur, currencies)


@st.cache_data(ttl=CACHE_TTL_S, max_entries=8, show_spinner="Simulating exchange rates…")
def pricing_margin_at_risk(
    version: str, scenario_json: str, lookback_days: int, horizon: int, paths: int, seed: int
) -> pricing.MarginAtRisk:
    scenario = pricing.Scenario.from_json(scenario_json)
    with cursor() as cur:
        results, _ = pricing.run(cur, scenario)
        currencies = set(results["currency_code"]) | {scenario.currency}
        spots = pricing.spot_rates(cur, currencies)
        # The window ends at the latest stored rate, where the simulation starts.
        end = fx.rate_status(cur).last_date
        returns = pricing.log_returns(cur, currencies, end, lookback_days)
    return pricing.margin_at_risk(results, scenario, spots, returns, horizon, paths, seed)


@st.cache_data(ttl=CACHE_TTL_S, max_entries=16, show_spinner=False)
def pricing_episode_shocks(version: str, currencies: tuple[str, ...], start, end) -> dict:
    with cursor() as cur:
        return pricing.episode_shocks(cur, currencies, start, end)


@st.cache_data(ttl=CACHE_TTL_S, max_entries=4, show_spinner=False)
def pricing_reference(version: str) -> dict:
    """Episodes the stored history can replay, and the products for the corridor."""
    with cursor() as cur:
        return {"episodes": pricing.available_episodes(cur), "products": pricing.products(cur)}


@st.cache_data(ttl=CACHE_TTL_S, max_entries=16, show_spinner=False)
def pricing_list_prices(version: str, product_id: str, as_of) -> pd.DataFrame:
    with cursor() as cur:
        return pricing.list_prices(cur, product_id, as_of)


@st.cache_data(ttl=CACHE_TTL_S, max_entries=4, show_spinner=False)
def saved_scenarios(version: str) -> pd.DataFrame:
    with cursor() as cur:
        return pricing.saved_scenarios(cur)


@st.cache_data(ttl=CACHE_TTL_S, max_entries=32, show_spinner=False)
def saved_scenario(version: str, scenario_id: str) -> pricing.Scenario:
    with cursor() as cur:
        return pricing.load_scenario(cur, scenario_id)


# --- data page ------------------------------------------------------------------------------


@st.cache_data(ttl=CACHE_TTL_S, max_entries=4, show_spinner="Checking every row…")
def check_import(version: str, kind: str, data: bytes, file_name: str, options) -> importer.Report:
    """What loading the file would do, without writing anything."""
    with cursor() as cur:
        return importer.import_file(cur, kind, data, file_name, options, commit=False)


@st.cache_data(ttl=CACHE_TTL_S, max_entries=4, show_spinner=False)
def data_quality(version: str) -> dict:
    with cursor() as cur:
        return {
            "coverage": quality.coverage(cur),
            "unconverted": quality.unconverted_lines(cur),
            "orphans": quality.orphans(cur),
            "history": quality.import_history(cur),
            "rates": fx.rate_status(cur),
        }


# --- team and pipeline ----------------------------------------------------------------------


@st.cache_data(ttl=CACHE_TTL_S, max_entries=32, show_spinner=False)
def team_attainment(version: str, quarter: Period, scope: Scope) -> dict:
    with cursor() as cur:
        return attainment.attainment_view(cur, quarter, scope)


@st.cache_data(ttl=CACHE_TTL_S, max_entries=32, show_spinner=False)
def team_pipeline(version: str, scope: Scope) -> dict:
    with cursor() as cur:
        return deals.pipeline_view(cur, scope)


@st.cache_data(ttl=CACHE_TTL_S, max_entries=32, show_spinner=False)
def team_forecast(version: str, quarter: Period, scope: Scope, week: int) -> dict:
    with cursor() as cur:
        return forecast.forecast_view(cur, quarter, scope, week)


@st.cache_data(ttl=CACHE_TTL_S, max_entries=32, show_spinner=False)
def team_pipeline_changes(
    version: str, first: dt.date, last: dt.date, quarter: Period, scope: Scope
) -> tuple[pd.DataFrame, pd.DataFrame]:
    with cursor() as cur:
        return changes.pipeline_changes(cur, first, last, quarter, scope)


@st.cache_data(ttl=CACHE_TTL_S, max_entries=32, show_spinner=False)
def team_activity(version: str, period: Period, scope: Scope, by: str) -> pd.DataFrame:
    with cursor() as cur:
        return activity.activity_impact(cur, period, scope, by)


@st.cache_data(ttl=CACHE_TTL_S, max_entries=32, show_spinner=False)
def team_rep(version: str, quarter: Period, scope: Scope, rep_id: str) -> dict:
    with cursor() as cur:
        return rep.rep_view(cur, quarter, scope, rep_id)


@st.cache_data(ttl=CACHE_TTL_S, max_entries=32, show_spinner=False)
def team_reps(version: str, scope: Scope) -> pd.DataFrame:
    with cursor() as cur:
        return crm_scope.reps(cur, scope)


@st.cache_data(ttl=CACHE_TTL_S, max_entries=8, show_spinner=False)
def team_snapshot_dates(version: str) -> list[dt.date]:
    with cursor() as cur:
        return crm_scope.snapshot_dates(cur)
