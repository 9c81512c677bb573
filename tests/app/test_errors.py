"""AppTest: one error path. A user-facing error anywhere shows its message and ends the page
cleanly; a bug shows a plain message, never a traceback.

Every query goes through analytics.db._run, so making it raise reaches each page's first
query of its own (the catalog, loaded before the patch, stays cached).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from analytics import db
from analytics.db import QueryTimeout
from analytics.fx import RateUnavailable
from tests.ui.test_markup import as_shown
from ui.errors import SOMETHING_WENT_WRONG

ROOT = Path(__file__).resolve().parents[2]
PAGES = sorted(p.name for p in (ROOT / "views").glob("*.py"))
TIMEOUT = QueryTimeout("The query took longer than 30 s and was stopped. Narrow the period.")
NO_RATE = RateUnavailable("No ECB rate for USD on 2026-09-30: fetch newer rates on the Data page.")


@pytest.fixture
def store(demo_db_path, tmp_path, monkeypatch) -> Path:
    """A copy of the demo store: a path of its own, so no other test's cached results
    answer in place of the failing queries."""
    path = tmp_path / "store.duckdb"
    shutil.copy(demo_db_path, path)
    monkeypatch.setenv("SALES_ATLAS_DB", str(path))
    return path


def failing_page(page_file: str, problem: Exception, monkeypatch) -> AppTest:
    """The app opened normally, then `page_file` opened while every query raises `problem`."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.run()
    assert not at.exception

    def fail(*args, **kwargs):
        raise problem

    monkeypatch.setattr(db, "_run", fail)
    if page_file == "overview.py":  # the page already ran: ask it for figures not yet cached
        return at.selectbox(key="f_currency").set_value("USD").run()
    return at.switch_page(f"views/{page_file}").run()


def on_screen(at: AppTest) -> str:
    """Every text the page shows, the sidebar included."""
    kinds = ("error", "warning", "info", "markdown", "caption", "title", "subheader", "text")
    return "\n".join(str(e.value) for kind in kinds for e in getattr(at, kind))


@pytest.mark.parametrize("page_file", PAGES)
@pytest.mark.parametrize("problem", [TIMEOUT, NO_RATE], ids=["timeout", "no_rate"])
def test_a_user_error_shows_its_message_on_every_page(store, monkeypatch, page_file, problem):
    at = failing_page(page_file, problem, monkeypatch)
    assert not at.exception, [e.value for e in at.exception]
    assert [as_shown(e.value) for e in at.error] == [str(problem)]


@pytest.mark.parametrize("page_file", PAGES)
def test_a_bug_shows_a_plain_message_and_no_traceback(store, monkeypatch, caplog, page_file):
    at = failing_page(page_file, RuntimeError("cursor exploded in _run"), monkeypatch)
    assert not at.exception, [e.value for e in at.exception]
    assert [e.value for e in at.error] == [SOMETHING_WENT_WRONG]
    text = on_screen(at)
    assert "cursor exploded" not in text and "Traceback" not in text
    # The details are in the server log instead.
    assert any("cursor exploded" in (r.exc_text or str(r.exc_info)) for r in caplog.records)
