"""AppTest: long work stops when its session ends. A script run by Streamlit's own script
runner checks an orders file with ui.work's callbacks; after the second chunk it asks its
runner to stop, as a closed tab does (websocket_session_manager.disconnect_session ->
AppSession.request_script_stop -> ScriptRunner.request_stop). The next callback is where
Streamlit raises StopException: the script ends there, nothing is written to the store and
nothing is logged. The same file checked without a stop request loads (the control)."""

from __future__ import annotations

import duckdb
import pytest
from streamlit.testing.v1 import AppTest

from tests.analytics.conftest import build_fixture


def _script(path: str, stop_after: int | None, callback: str) -> None:
    import duckdb
    import streamlit as st
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    from analytics import importer
    from tests.analytics.test_import_chunks import CHUNKED
    from ui import work

    seen = []
    update = work.checkpoint if callback == "checkpoint" else work.progress_bar("lines checked")

    def progress(done: int, total: int) -> None:
        seen.append(done)
        st.session_state["seen"] = list(seen)  # noted before the stop is asked for
        if stop_after is not None and len(seen) == stop_after:
            get_script_run_ctx().script_requests.request_stop()  # what a closed tab does
        update(done, total)  # the Streamlit call where the runner raises StopException
        st.session_state["updated"] = list(seen)

    con = duckdb.connect(path)
    try:
        report = importer.import_file(
            con, "orders", CHUNKED.encode(), "c.csv", progress=progress, chunk_rows=3
        )
        st.session_state["status"] = report.status
    finally:
        con.close()


def _counts(path) -> tuple[int, int, int]:
    with duckdb.connect(str(path)) as con:
        return tuple(
            con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            for table in ("order_lines", "customers", "import_log")
        )


@pytest.fixture
def store(tmp_path):
    path = tmp_path / "store.duckdb"
    with duckdb.connect(str(path)) as con:
        build_fixture(con)
    return path


@pytest.mark.parametrize("callback", ["checkpoint", "progress_bar"])
def test_a_session_that_ends_mid_check_stops_with_nothing_written(store, callback):
    before = _counts(store)
    at = AppTest.from_function(_script, args=(str(store), 2, callback), default_timeout=60)
    at.run()
    assert not at.exception
    # Stopped at the second chunk's callback (lines 1-6 of 12 checked): the third never ran.
    assert at.session_state["seen"] == [3, 6]
    assert at.session_state["updated"] == [3]  # the second update raised
    assert "status" not in at.session_state
    assert _counts(store) == before


@pytest.mark.parametrize("callback", ["checkpoint", "progress_bar"])
def test_without_a_stop_the_same_check_loads(store, callback):
    before = _counts(store)
    at = AppTest.from_function(_script, args=(str(store), None, callback), default_timeout=60)
    at.run()
    assert not at.exception
    # Four chunks of 3 lines, then the call just before the write.
    assert at.session_state["seen"] == [3, 6, 9, 12, 12]
    assert at.session_state["status"] == "loaded"
    # 6 lines loaded (5 converted, 1 awaiting its JPY rate apart), customer N1 created.
    lines, customers, logged = _counts(store)
    assert (lines, customers, logged) == (before[0] + 5, before[1] + 1, before[2] + 1)
