"""The query gateway: small results as columns, and one watcher for every statement's
deadline and stop function."""

from __future__ import annotations

import threading
import time

import duckdb
import pytest

from analytics import db

# A query DuckDB needs minutes for (a cross join of 10^12 pairs): only an interrupt ends it.
SLOW = "SELECT count(*) FROM range(1000000) a, range(1000000) b WHERE a.range + b.range < 0"


@pytest.fixture
def con():
    con = duckdb.connect()
    yield con
    con.close()


def test_query_columns_gives_each_column_by_name(con):
    got = db.query_columns(
        con,
        "SELECT * FROM (VALUES ('DE', 2.5, 3), ('FR', NULL, 4)) t(code, amount, n) "
        "WHERE n >= $least ORDER BY code",
        {"least": 3},
    )
    assert got == {"code": ["DE", "FR"], "amount": [2.5, None], "n": [3, 4]}


def test_query_columns_of_no_rows_keeps_the_names(con):
    got = db.query_columns(con, "SELECT 1 AS a, 'x' AS b WHERE false")
    assert got == {"a": [], "b": []}


def _watchers() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "query-watch"]


def test_one_watcher_thread_serves_every_statement(con):
    for i in range(30):
        assert db.query_rows(con, "SELECT $i", {"i": i}) == [(i,)]
    assert len(_watchers()) == 1


def test_each_statement_keeps_its_own_deadline_beside_others(con):
    """A slow statement on one cursor stops at its own limit while another thread's
    statements, with the default limit, keep running and finish."""
    done: list[int] = []
    stop = threading.Event()

    def quick() -> None:
        cur = con.cursor()
        while not stop.is_set():
            done.append(db.query_rows(cur, "SELECT 1")[0][0])

    other = threading.Thread(target=quick)
    other.start()
    try:
        started = time.monotonic()
        with pytest.raises(db.QueryTimeout):
            db.query(con.cursor(), SLOW, time_limit_s=0.3)
        assert time.monotonic() - started < 5.0
    finally:
        stop.set()
        other.join()
    assert done and set(done) == {1}
    assert db.query_rows(con, "SELECT 42") == [(42,)]


def test_a_failing_stop_function_does_not_end_the_deadlines(con, monkeypatch):
    def broken() -> bool:
        raise RuntimeError("no session")

    monkeypatch.setattr(db, "stop_hook", lambda: broken)
    with pytest.raises(db.QueryTimeout):
        db.query(con, SLOW, time_limit_s=0.3)
    # The watcher is still there for the next statement and its deadline.
    with pytest.raises(db.QueryTimeout):
        db.query(con, SLOW, time_limit_s=0.3)
    assert len(_watchers()) == 1


def test_a_stop_function_that_says_stop_stops_the_statement(con, monkeypatch):
    asked = threading.Event()
    threading.Timer(0.2, asked.set).start()
    monkeypatch.setattr(db, "stop_hook", lambda: asked.is_set)
    started = time.monotonic()
    with pytest.raises(db.QueryStopped):
        db.query(con, SLOW)
    assert time.monotonic() - started < 5.0
