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


def _waiting_script(path: str, notes: str, request: str) -> None:
    import json
    import threading
    import time

    import duckdb
    import streamlit as st
    from streamlit.runtime.scriptrunner import RerunData, get_script_run_ctx

    from analytics import db
    from ui import errors, work

    assert work.checkpoint  # importing ui.work sets the gateway's stop hook, as the app does

    # A query DuckDB needs minutes for (a cross join of 10^12 pairs): only an interrupt ends
    # it before the gateway's 30 s deadline.
    slow = "SELECT count(*) FROM range(1000000) a, range(1000000) b WHERE a.range + b.range < 0"
    if st.session_state.get("runs"):
        st.session_state["runs"] += 1  # the rerun asked for: it runs, and asks nothing
        return
    st.session_state["runs"] = 1
    requests = get_script_run_ctx().script_requests
    asked = []

    def ask() -> None:
        time.sleep(0.5)
        asked.append(time.monotonic())
        if request == "stop":
            requests.request_stop()  # what a closed tab does
        else:
            requests.request_rerun(RerunData())  # what a changed widget does

    def note(**values) -> None:  # a file: session state raises once a stop is requested
        with open(notes, "w") as out:
            json.dump(values, out)

    con = duckdb.connect(path)
    # On app.py's error path: its message is the Streamlit call where the runner stops.
    with errors.page():
        try:
            threading.Thread(target=ask).start()
            started = time.monotonic()
            try:
                db.query(con, slow)
            except db.QueryStopped:
                note(stopped_after_ask=time.monotonic() - asked[0], ran=time.monotonic() - started)
                raise
            note(finished=True)  # not reached when the query is interrupted
            db.execute(con, "INSERT INTO import_log (import_id) VALUES ('x')")
        finally:
            con.close()


@pytest.mark.parametrize("request_kind", ["stop", "rerun"])
def test_a_running_query_stops_when_its_session_ends_or_reruns(store, tmp_path, request_kind):
    import json

    before = _counts(store)
    notes = tmp_path / "notes.json"
    at = AppTest.from_function(
        _waiting_script, args=(str(store), str(notes), request_kind), default_timeout=60
    )
    at.run()
    seen = json.loads(notes.read_text())
    assert "finished" not in seen
    # Interrupted within a second of the request (the gateway polls every 50 ms; DuckDB
    # checks for an interrupt between vectors), not at the 30 s deadline.
    assert seen["stopped_after_ask"] < 1.0
    assert seen["ran"] < 5.0
    assert _counts(store) == before
    # A stop ends the script there; a rerun runs it again.
    assert at.session_state["runs"] == (1 if request_kind == "stop" else 2)
    assert not at.exception
    assert not at.error  # the stopped query's message never reaches the screen


def test_outside_a_script_run_only_the_deadline_stops_a_query():
    from analytics import db
    from ui import work  # noqa: F401

    slow = "SELECT count(*) FROM range(1000000) a, range(1000000) b WHERE a.range + b.range < 0"
    con = duckdb.connect()
    try:
        with pytest.raises(db.QueryTimeout):
            db.query(con, slow, time_limit_s=0.3)
        assert db.query_rows(con, "SELECT 42") == [(42,)]
    finally:
        con.close()
