"""The warm-up (ui/warmup.py): after it, a session's first run of a page queries nothing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from analytics import db
from ui import cache, warmup

ROOT = Path(__file__).resolve().parents[2]
LINK = "period=l12m&currency=USD&basis=constant"


def counted_queries(patch: pytest.MonkeyPatch, db_path) -> list[str]:
    """Point the app at `db_path` with cold caches and collect every read query from now on
    (analytics/db.py's one path)."""
    patch.setenv("SALES_ATLAS_DB", str(db_path))
    st.cache_data.clear()
    st.cache_resource.clear()
    seen: list[str] = []
    real = db._run

    def counting(cur, sql, *args, **kwargs):
        seen.append(sql)
        return real(cur, sql, *args, **kwargs)

    patch.setattr(db, "_run", counting)
    return seen


@pytest.fixture
def queries(monkeypatch, demo_db_path) -> list[str]:
    """Every read query the analytics run (analytics/db.py's one path), from a cold cache."""
    yield counted_queries(monkeypatch, demo_db_path)
    st.cache_data.clear()
    st.cache_resource.clear()


def first_run(page: str | None = None, **params: str) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    for key, value in params.items():
        at.query_params[key] = value
    at.run()
    if page:
        at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def metrics(at: AppTest) -> list[tuple[str, str]]:
    return [(m.label, m.value) for m in at.metric]


def warm(links: tuple[str, ...] = ()) -> warmup.Warmup:
    job = warmup.Warmup(cache.store_version(), links)
    job.start()
    job.join(timeout=300)
    assert not job.is_alive()
    assert not job.failed, job.failed
    return job


def test_after_the_warm_up_the_overview_queries_nothing_and_shows_the_same(queries):
    cold = first_run()
    assert queries, "a cold first run must query the store (else this test proves nothing)"
    cold_figures = metrics(cold)
    assert cold_figures and cold_figures[0][0] == "Net revenue (EUR)"

    st.cache_data.clear()
    st.cache_resource.clear()
    job = warm()
    assert {"imports", "catalog", "overview (default)", "forecast", "data"} <= set(job.done)
    warmed_queries = len(queries)
    assert warmed_queries > 0  # the warm-up itself ran the queries

    at = first_run()
    assert len(queries) == warmed_queries, queries[warmed_queries:]
    assert metrics(at) == cold_figures


@pytest.fixture(scope="module")
def warmed_link(demo_db_path) -> Iterator[list[str]]:
    """The queries seen, after one warm-up of LINK from a cold cache, shared by the pages'
    checks below (a warm-up costs seconds). Sharing cannot hide a query: a page's check
    fails on any query its run makes, so a passing check added no entry that a query
    would have filled for the next page."""
    with pytest.MonkeyPatch.context() as patch:
        seen = counted_queries(patch, demo_db_path)
        warm((LINK,))
        assert seen, "the warm-up ran no query: the pages' checks would prove nothing"
        yield seen
    st.cache_data.clear()
    st.cache_resource.clear()


@pytest.mark.parametrize(
    "page", ["views/markets.py", "views/review.py", "views/team.py", "views/data.py"]
)
def test_a_warmed_link_opens_each_default_page_without_a_query(warmed_link, page):
    before = len(warmed_link)
    first_run(page, period="l12m", currency="USD", basis="constant")
    assert len(warmed_link) == before, warmed_link[before:]


def test_a_link_the_store_does_not_know_is_not_warmed(demo_db_path, monkeypatch):
    monkeypatch.setenv("SALES_ATLAS_DB", str(demo_db_path))
    catalog = cache.load_catalog(f"{cache.store_version()}#all")
    with pytest.raises(ValueError, match="currency 'XXX'"):
        warmup.link_filters(catalog, "currency=XXX")
    with pytest.raises(ValueError, match="region Atlantis"):
        warmup.link_filters(catalog, "region=Atlantis")
    chosen = warmup.link_filters(catalog, "period=ytd&currency=usd&region=" + catalog.regions[0])
    assert (chosen.currency, chosen.regions, chosen.period.start.month) == (
        "USD",
        (catalog.regions[0],),
        1,
    )


def test_one_warm_up_per_process_and_version_and_a_new_version_cancels_the_old(monkeypatch):
    started: list[str] = []
    monkeypatch.setattr(warmup.Warmup, "start", lambda self: started.append(self.store_version))
    monkeypatch.setattr(warmup, "_STARTED", set())
    monkeypatch.setattr(warmup, "_CURRENT", [])
    first = warmup.ensure_started("a@1")
    assert warmup.ensure_started("a@1") is None
    second = warmup.ensure_started("b@2")
    assert started == ["a@1", "b@2"]
    assert first.cancelled and not second.cancelled
    # A cancelled warm-up stops before its next step.
    first.run()
    assert first.done == []


def test_no_warm_up_under_apptest_or_when_switched_off(monkeypatch, demo_db_path):
    """AppTest's stand-in runtime gets none (it would race the tests' patches), nor does a
    server with SALES_ATLAS_WARMUP=off."""
    monkeypatch.setenv("SALES_ATLAS_DB", str(demo_db_path))
    calls: list[str] = []
    monkeypatch.setattr(warmup, "ensure_started", calls.append)
    first_run()
    assert calls == []
    monkeypatch.setattr(warmup, "_real_server", lambda: True)
    monkeypatch.setenv("SALES_ATLAS_WARMUP", "off")
    warmup.start()
    assert calls == []
    monkeypatch.setenv("SALES_ATLAS_WARMUP", "on")
    # The hold-until-warm hook and the store watcher are process-wide: not attached here.
    monkeypatch.setattr(warmup, "_attach", lambda: calls.append("attached"))
    warmup.start()
    assert calls == ["attached", cache.store_version()]
