"""The one query gateway: connections, bound parameters, allow-listed identifiers, time limits.

Every SQL statement the app runs goes through `query` / `execute` here. Values are always
bound as parameters (`?` or `$name`); table and column names can only come from the
allow-lists below, via `identifier`. A statement that runs past its time limit is
interrupted and raises `QueryTimeout` instead of hanging the page; one whose caller is no
longer wanted (the UI's `stop_hook`: its session ended or reruns) is interrupted as well and
raises `QueryStopped`.
"""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from analytics.errors import UserError

DB_ENV_VAR = "SALES_ATLAS_DB"
DEFAULT_DB_PATH = Path(__file__).resolve().parent.parent / "data" / "sales_atlas.duckdb"
DEFAULT_TIME_LIMIT_S = 30.0

TABLES = frozenset(
    {
        "countries",
        "products",
        "global_accounts",
        "customers",
        "reps",
        "order_lines",
        "order_lines_awaiting_rate",
        "opportunities",
        "opportunity_snapshots",
        "activities",
        "quotas",
        "budgets",
        "price_list",
        "product_costs",
        "product_cost_lines",
        "market_data",
        "fx_rates",
        "plan_rates",
        "funnel_stages",
        "scenarios",
        "import_log",
        "imported_order_lines",
        "imported_rates",
        "fx_daily",
        "sales_daily",
        "sales_monthly",
        "orders_daily",
        "orders_monthly",
        "account_monthly",
        "account_orders_monthly",
        "split_orders",
        "item_monthly",
        "currency_daily",
        "rep_monthly",
        "key_lines",
        "summary_currencies",
        "account_monthly_reported",
        "item_monthly_reported",
        "sales_monthly_reported",
    }
)

# Columns a caller may name in a filter or group-by, by the table they belong to.
DIMENSIONS = frozenset(
    {"region", "subregion", "country_code", "currency_code", "channel", "product_line", "segment"}
)

Params = Sequence[Any] | Mapping[str, Any] | None


class QueryTimeout(UserError):
    """A query ran past its time limit and was interrupted."""


class QueryStopped(UserError):
    """A query was interrupted because the work waiting on it is no longer wanted."""


class StoreLocked(UserError):
    """Another process holds the database file."""


class StoreRefused(UserError):
    """The store holds code (a view or macro) where only data belongs, or its path is not
    one the app may use."""


DATA_DIR = DEFAULT_DB_PATH.parent


def database_path() -> Path:
    """The store's path: $SALES_ATLAS_DB if set, else data/sales_atlas.duckdb.

    $SALES_ATLAS_DB must be absolute, or relative to the project as data/…: a relative
    path would otherwise depend on the directory the app was started in (and a missing
    file there would be built as a new demo store)."""
    value = os.environ.get(DB_ENV_VAR)
    if not value:
        return DEFAULT_DB_PATH
    path = Path(value).expanduser()
    if path.is_absolute():
        return path
    if path.parts[:1] == (DATA_DIR.name,):
        return DATA_DIR.parent / path
    raise StoreRefused(
        f"{DB_ENV_VAR}={value} is a relative path; give an absolute path (e.g. "
        f"{Path.cwd() / path}) or one under data/ (e.g. data/{path.name})."
    )


def current_file(path: str | Path) -> Path:
    """The file holding the store's data now. A store written by `store.writing` is a
    symbolic link to its current snapshot (swapped atomically on each write); a single-file
    store, or a path not created yet, is its own file. Connections open the snapshot itself,
    so a swap during a session never changes the file a connection reads."""
    path = Path(path)
    if not path.is_symlink():
        return path.absolute()
    target = Path(os.path.realpath(path))
    if not target.exists():
        raise StoreRefused(
            f"The database {path} points at the snapshot {target}, which is missing. Restore "
            "the snapshots folder from a backup, or point SALES_ATLAS_DB at another store."
        )
    return target


# Views and macros are code. The schema has none, so a store holding one was changed by
# someone else; one reading files would show them to every user.
_CODE_OBJECTS = """
SELECT 'view ' || view_name FROM duckdb_views() WHERE NOT internal AND NOT temporary
UNION ALL
SELECT DISTINCT lower(function_type) || ' ' || function_name FROM duckdb_functions()
WHERE NOT internal AND function_type IN ('macro', 'table_macro')
"""


# Read-only connections to one file share its database and its settings; two threads opening
# the same new snapshot at once (the warm-up and a session) could both find the configuration
# unlocked and the second then fail to lock it ("the configuration has been locked"): the
# settings step of a read connection is serialised in the process; queries are not.
_READ_SETUP = threading.Lock()


def connect(path: str | Path | None = None, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open the store. A lock held by another process becomes a plain `StoreLocked` error.

    Read-only (the app's pages): the store is data, not code. External access is switched
    off (no file, URL or extension can be read through a query) and the configuration
    locked so no statement can switch it back; a store holding views or macros is refused.
    Read-write: a store created here is readable by its owner only (0600), and so are the
    write-ahead log and spill files DuckDB creates next to it (the process umask is 077
    from the first write connection on). Loads do not write the store in place: they write
    its next snapshot through `store.writing`, which opens this on the copy.

    A store that is a pointer to a snapshot (see `current_file`) is opened on that snapshot."""
    given = Path(path) if path is not None else database_path()
    memory = str(given) == ":memory:"
    path = given if memory else current_file(given)
    if not read_only and not memory:
        os.umask(0o077)
    new = not memory and not path.exists()
    try:
        con = duckdb.connect(str(path), read_only=read_only)
    except duckdb.IOException as exc:
        if read_only and given.is_symlink() and not path.exists():
            # The pointer moved on and this snapshot was removed between resolving and
            # opening (two writes in that instant): open the one it names now.
            return connect(given, read_only=True)
        if "lock" in str(exc).lower():
            raise StoreLocked(
                f"The database {path} is in use by another process (for example a running app "
                "or import). Close it, or point SALES_ATLAS_DB at another file, and try again."
            ) from exc
        raise
    if new and path.exists():
        path.chmod(0o600)
    if not read_only:
        # A long load or rebuild would otherwise draw DuckDB's progress bar over the CLI's
        # own progress lines (and into the server's log).
        con.execute("SET enable_progress_bar = false")
    if read_only:
        with _READ_SETUP:
            _configure_read_only(con, path)
    return con


def _configure_read_only(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    """External access off and the configuration locked (by the first connection to the
    file in this process), and no code objects in the store; closes `con` on refusal."""
    try:
        # DuckDB shares one database per file within a process: a second connection
        # finds the settings already made (and locked) by the first.
        locked, external = con.execute(
            "SELECT current_setting('lock_configuration'), "
            "current_setting('enable_external_access')"
        ).fetchone()
        if not locked:
            con.execute("SET enable_progress_bar = false")
            con.execute("SET enable_external_access = false")
            con.execute("SET lock_configuration = true")
        elif external:
            raise StoreRefused(
                f"The database {path} is open in this process with external access on; "
                "close that connection first."
            )
        code = [row[0] for row in con.execute(_CODE_OBJECTS).fetchall()]
    except BaseException:
        con.close()
        raise
    if code:
        con.close()
        raise StoreRefused(
            f"The database {path} holds {', '.join(code[:5])}: a store of this app holds "
            "tables only, so it has been changed by another program and is not opened. "
            "Restore it from a backup, or rebuild it."
        )


def identifier(name: str, allowed: frozenset[str] = TABLES | DIMENSIONS) -> str:
    """Quote a table or column name after checking it against an allow-list."""
    if name not in allowed or not re.fullmatch(r"[a-z_][a-z0-9_]*", name):
        raise ValueError(f"{name!r} is not an allowed table or column name")
    return f'"{name}"'


# Besides its deadline, a query stops as soon as the work waiting on it is no longer wanted
# (a page whose session ended, or that reruns). analytics never imports streamlit, so the UI
# sets this hook (ui.work): called in the querying thread, it returns a function that says
# "stop now" when polled from another thread, or None when only the deadline applies.
stop_hook: Callable[[], Callable[[], bool] | None] | None = None
# How often a query with a stop function asks it: the latency of a stop, for a poll that
# costs a few microseconds.
STOP_POLL_S = 0.05


class _Watch:
    """One running statement: its cursor, deadline and stop function, and whether the
    watcher stopped it because the stop function said so."""

    __slots__ = ("cur", "deadline", "stopped", "wanted")

    def __init__(self, cur, deadline: float, wanted: Callable[[], bool] | None) -> None:
        self.cur, self.deadline, self.wanted, self.stopped = cur, deadline, wanted, False

    def wake(self, now: float) -> float:
        return self.deadline if self.wanted is None else min(self.deadline, now + STOP_POLL_S)


class _Watcher:
    """One thread of the process watches every running statement's deadline and stop
    function: DuckDB's interrupt() is the one call that ends a running statement from
    outside. A thread per statement cost its start on every statement (~0.05 ms of CPU,
    and the wait until the new thread runs: ~0.4 ms of wall time per statement at load 4,
    up to tens of ms under heavy load; benchmarks/README.md, branch `overview`)."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._running: set[_Watch] = set()
        self._thread: threading.Thread | None = None
        self._next_wake = float("inf")

    def start(self, cur, time_limit_s: float, wanted: Callable[[], bool] | None) -> _Watch:
        watch = _Watch(cur, time.monotonic() + time_limit_s, wanted)
        with self._changed:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._loop, name="query-watch", daemon=True)
                self._thread.start()
            self._running.add(watch)
            if watch.wake(time.monotonic()) < self._next_wake:  # else it wakes early enough
                self._changed.notify()
        return watch

    def finish(self, watch: _Watch) -> None:
        with self._changed:
            self._running.discard(watch)

    def _loop(self) -> None:
        with self._changed:
            while True:
                now = time.monotonic()
                self._next_wake = self._check(now)
                self._changed.wait(
                    None if self._next_wake == float("inf") else max(0.0, self._next_wake - now)
                )

    def _check(self, now: float) -> float:
        """Stop the statements due (their stop function says so, or past their deadline);
        the time the next is due. A function of its own, so that no cursor stays referenced
        from the waiting thread (a cursor alive at exit is reported as a leak by DuckDB)."""
        for watch in list(self._running):
            if watch.wanted is not None and _stop_wanted(watch.wanted):
                watch.stopped = True
            if watch.stopped or now >= watch.deadline:
                self._running.discard(watch)
                watch.cur.interrupt()
        return min((watch.wake(now) for watch in self._running), default=float("inf"))

    def after_fork(self) -> None:
        """In a forked child the watcher thread does not exist, and the lock may be held."""
        self.__init__()


def _stop_wanted(wanted: Callable[[], bool]) -> bool:
    # A stop function that fails must not end the watcher, which every query relies on.
    try:
        return bool(wanted())
    except Exception:
        return False


_watcher = _Watcher()
os.register_at_fork(after_in_child=_watcher.after_fork)


def _run(cur: duckdb.DuckDBPyConnection, sql: str, params: Params, time_limit_s: float):
    wanted = stop_hook() if stop_hook is not None else None
    watch = _watcher.start(cur, time_limit_s, wanted)
    try:
        return cur.execute(sql, params) if params is not None else cur.execute(sql)
    except duckdb.InterruptException as exc:
        if watch.stopped:
            raise QueryStopped(
                "The page was closed or changed while this query ran, so it was stopped."
            ) from exc
        raise QueryTimeout(
            f"The query took longer than {time_limit_s:.0f} s and was stopped. "
            "Narrow the period or filters and try again."
        ) from exc
    finally:
        _watcher.finish(watch)


def query(
    cur: duckdb.DuckDBPyConnection,
    sql: str,
    params: Params = None,
    time_limit_s: float = DEFAULT_TIME_LIMIT_S,
) -> pd.DataFrame:
    """Run a read query with bound parameters and return its result as a DataFrame."""
    return _run(cur, sql, params, time_limit_s).df()


def query_rows(
    cur: duckdb.DuckDBPyConnection,
    sql: str,
    params: Params = None,
    time_limit_s: float = DEFAULT_TIME_LIMIT_S,
) -> list[tuple]:
    """Run a read query with bound parameters and return its rows as tuples."""
    return _run(cur, sql, params, time_limit_s).fetchall()


def query_columns(
    cur: duckdb.DuckDBPyConnection,
    sql: str,
    params: Params = None,
    time_limit_s: float = DEFAULT_TIME_LIMIT_S,
) -> dict[str, list]:
    """Run a read query with bound parameters and return its result as one list of Python
    values per column, by name (NULL is None).

    For small results that a caller turns into figures or a frame of its own: a DataFrame
    from DuckDB costs ~0.6 ms more than its rows for a few dozen rows (benchmarks/README.md,
    branch `overview`), more than some of the statements it follows."""
    result = _run(cur, sql, params, time_limit_s)
    rows = result.fetchall()
    names = [column[0] for column in result.description]
    if not rows:
        return {name: [] for name in names}
    return dict(zip(names, map(list, zip(*rows, strict=True)), strict=True))


def execute(cur: duckdb.DuckDBPyConnection, sql: str, params: Params = None) -> None:
    """Run a statement that changes the store (no time limit: loads must not stop halfway)."""
    if params is None:
        cur.execute(sql)
    else:
        cur.execute(sql, params)


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """Run the block as one transaction: committed if it finishes, rolled back if anything
    (an error, or an interrupt) escapes it, so a load never leaves a table half written."""
    con.execute("BEGIN TRANSACTION")
    try:
        yield con
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")
