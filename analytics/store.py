"""Creating and writing a store: the schema, the reference data, the derived tables, and the
snapshots every write goes into (data/README.md, "Snapshots: writing while serving").

A store at PATH (what SALES_ATLAS_DB names) is a symbolic link to its current snapshot in
PATH.snapshots/. A write — an import, a rate fetch, an undo, an upgrade, a build — takes the
writer lock (PATH.snapshots/writer.lock, flock), copies the current snapshot, writes into the
copy, CHECKPOINTs it and swaps the link (os.replace: atomic). Readers open the snapshot the
link names, read-only, and keep reading it until they open the next one; nobody ever writes
a file someone reads. A single-file store made before snapshots is read as it is and becomes
the first snapshot on its first write.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import os
import re
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path

import duckdb

from analytics import db, fx, reference, rollups, snapshot_copy, summary_currencies
from analytics.errors import UserError

SNAPSHOTS_SUFFIX = ".snapshots"
LOCK_NAME = "writer.lock"
_COPIER = Path(snapshot_copy.__file__)


class WriterBusy(db.StoreLocked):
    """Another write (an import, a rate fetch, a rebuild) holds the writer lock."""


class StoreExists(UserError):
    """A new store was asked for where one exists."""


class StoreMissing(UserError):
    """A write was asked for on a store that does not exist."""


def snapshot_dir(path: str | Path) -> Path:
    """Where the snapshots of the store at `path` live: PATH.snapshots/ beside it."""
    path = Path(path)
    return path.with_name(path.name + SNAPSHOTS_SUFFIX)


def snapshots(path: str | Path) -> list[Path]:
    """The store's snapshot files, oldest first (names start with their UTC write time)."""
    directory = snapshot_dir(path)
    if not directory.is_dir():
        return []
    return sorted(p for p in directory.glob("*.duckdb") if p.is_file())


@contextmanager
def _writer_lock(path: Path, wait_s: float) -> Iterator[None]:
    """Hold the store's writer lock, waiting up to `wait_s` for another writer to finish.

    flock: the kernel releases it when its holder exits, however it exits (kill -9
    included), so a crashed writer never blocks the next one. Each acquisition opens the
    file anew, so two threads of one process exclude each other too."""
    directory = snapshot_dir(path)
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(directory / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        deadline = time.monotonic() + wait_s
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    holder = os.pread(fd, 200, 0).decode(errors="replace").strip()
                    raise WriterBusy(
                        f"Another write to {path} is under way ({holder or 'starting'}): an "
                        "import, a rate fetch or a rebuild. Nothing was changed; try again "
                        "when it has finished."
                    ) from None
                time.sleep(0.1)
        started = dt.datetime.now().astimezone()
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"process {os.getpid()} since {started:%Y-%m-%d %H:%M:%S %Z}".encode(), 0)
        yield
    finally:
        os.close(fd)  # releases the lock


def _new_snapshot_path(directory: Path) -> Path:
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%f")
    return directory / f"{stamp}-{uuid.uuid4().hex[:8]}.duckdb"


def _side_files(snapshot: Path) -> list[Path]:
    """What DuckDB keeps beside a database file: its write-ahead log and spill folder."""
    return [snapshot.with_name(snapshot.name + ".wal"), snapshot.with_name(snapshot.name + ".tmp")]


def _copy(source: Path, target: Path) -> None:
    """Copy a snapshot (created 0600, synced) in a child process: see snapshot_copy.py for
    why this process must not open the file itself."""
    done = subprocess.run(
        [sys.executable, str(_COPIER), str(source), str(target)], capture_output=True, text=True
    )
    if done.returncode == snapshot_copy.LOCKED:
        target.unlink(missing_ok=True)
        raise db.StoreLocked(
            f"The database {source} is in use by another process that writes it in place (a "
            "program other than this app's import). Close it and try again; nothing was "
            "changed."
        )
    if done.returncode != 0:
        target.unlink(missing_ok=True)
        raise OSError(f"Copying {source} to {target} failed: {done.stderr.strip()}")


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _point(path: Path, snapshot: Path) -> None:
    """Make `path` name `snapshot`, atomically: readers resolving it see the old snapshot or
    the new one, never neither. The link is relative, so the folder can be moved whole."""
    link = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.pointer")
    os.symlink(os.path.relpath(snapshot, path.parent), link)
    try:
        os.replace(link, path)
    except BaseException:
        link.unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


def _adopt(path: Path) -> Path:
    """Make a single-file store the first snapshot: a hard link in the snapshots folder (the
    same file, so servers reading it read on), then the pointer swapped in place of the
    file. A file system without hard links gets a copy."""
    first = _new_snapshot_path(snapshot_dir(path))
    wal = path.with_name(path.name + ".wal")
    try:
        os.link(path, first)
        if wal.exists():
            os.link(wal, first.with_name(first.name + ".wal"))
    except OSError:
        first.unlink(missing_ok=True)
        _copy(path, first)
        if wal.exists():
            _copy(wal, first.with_name(first.name + ".wal"))
    _point(path, first)
    return first


def _remove(snapshot: Path) -> None:
    snapshot.unlink(missing_ok=True)
    for side in _side_files(snapshot):
        if side.is_dir():
            shutil.rmtree(side, ignore_errors=True)
        else:
            side.unlink(missing_ok=True)


def _prune(path: Path, keep: set[Path]) -> None:
    """Remove every snapshot but `keep`, and what a crashed write left. Safe for readers on
    Linux: a server still reading a removed snapshot holds it open, and an unlinked file
    stays readable through its open descriptors until the last one closes (its disk space
    is freed then). The snapshot just replaced is kept, so a reader that resolved the
    pointer an instant before the swap still finds the file it named."""
    kept = {p.name for p in keep}
    for entry in snapshot_dir(path).iterdir():
        base = entry.name.removesuffix(".wal").removesuffix(".tmp")
        if entry.name == LOCK_NAME or base in kept:
            continue
        _remove(entry.with_name(base))


def _missing(path: Path) -> StoreMissing:
    return StoreMissing(
        f"{path} does not exist; create it with `python -m analytics init --empty --db {path}`."
    )


@contextmanager
def next_snapshot(path: str | Path, create: bool = False, wait_s: float = 0.0) -> Iterator[Path]:
    """The file the store's next version is written into, swapped in if the block finishes.

    Under the writer lock: the current snapshot is copied (create: no file, the block makes
    a new store there) and its path yielded; when the block finishes the copy is
    checkpointed, synced and the store's pointer swapped to it; when anything escapes the
    block (an error, an interrupt) the copy is deleted and the store is as it was. A
    process killed meanwhile leaves the pointer on the old snapshot and an unnamed copy,
    which the next write removes. Writers wait up to `wait_s` for each other, then
    raise WriterBusy."""
    path = Path(path)
    if not create and not os.path.lexists(path):
        raise _missing(path)
    with _writer_lock(path, wait_s):
        exists = os.path.lexists(path)
        if create and exists:
            raise StoreExists(f"{path} already exists; choose a new file.")
        if not create and not exists:
            raise _missing(path)
        current = None
        if exists:
            current = db.current_file(path) if path.is_symlink() else _adopt(path)
        target = _new_snapshot_path(snapshot_dir(path))
        try:
            if current is not None:
                _copy(current, target)
                wal = current.with_name(current.name + ".wal")
                if wal.exists():
                    _copy(wal, target.with_name(target.name + ".wal"))
            yield target
            if not target.exists():
                raise RuntimeError(f"the write made no store at {target}")
            if target.with_name(target.name + ".wal").exists():
                with db.connect(target) as con:
                    con.execute("CHECKPOINT")
            with target.open("rb") as written:
                os.fsync(written.fileno())
            _fsync_dir(target.parent)
        except BaseException:
            _remove(target)
            raise
        _point(path, target)
        _prune(path, {target} | ({current} if current is not None else set()))


@contextmanager
def writing(
    path: str | Path, create: bool = False, wait_s: float = 0.0
) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-write connection on the store's next snapshot (see `next_snapshot`): what the
    block writes becomes visible to readers all at once when it finishes, or never."""
    with next_snapshot(path, create, wait_s) as target:
        con = db.connect(target)
        try:
            yield con
            con.execute("CHECKPOINT")
        finally:
            con.close()


def create_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create every table of the data contract (a no-op for tables that exist). A store that
    gets the summary currencies' setting here (new, or made before it) gets its default."""
    new_setting = not summary_currencies.exists(con)
    con.execute(resources.files("analytics").joinpath("schema.sql").read_text(encoding="utf-8"))
    if new_setting:
        summary_currencies.set_default(con)


def init_reference_data(con: duckdb.DuckDBPyConnection) -> None:
    """Countries and the bundled ECB rate history, with the daily rate table built from it."""
    frame = reference.countries_frame()
    con.register("reference_countries", frame)
    try:
        db.execute(
            con,
            """
            INSERT INTO countries SELECT country_code, iso3, name, region, subregion, currency_code
            FROM reference_countries ON CONFLICT (country_code) DO NOTHING
            """,
        )
    finally:
        con.unregister("reference_countries")
    fx.load_ecb_history(con)
    fx.rebuild_fx_daily(con)


def _table_definition(table: str) -> str:
    """The CREATE TABLE statement of `table` in this version's schema."""
    schema = resources.files("analytics").joinpath("schema.sql").read_text(encoding="utf-8")
    match = re.search(rf"CREATE TABLE IF NOT EXISTS {table} \(.*?\n\);", schema, flags=re.DOTALL)
    if match is None:
        raise ValueError(f"No table {table!r} in schema.sql")
    return match.group(0)


# Tables rebuilt whole from order_lines, each with the column its last schema change added:
# one without it was made by an earlier version.
_DERIVED_COLUMNS = {
    "sales_daily": "known_cost_net_eur",
    "account_monthly": "known_cost_net_eur",
    "item_monthly": "known_cost_units",
    "sales_monthly": "known_cost_net_local",
    "rep_monthly": "net_amount_eur",
}
# Derived tables with a column an earlier version had and this one dropped.
_DROPPED_COLUMNS = {"account_monthly": "rep_id"}
# Tables whose CHECK on a column must allow 'unassigned' (the importer's value for a line
# or customer without a channel or segment); DuckDB cannot alter a CHECK.
_UNASSIGNED_CHECKS = {"order_lines": "channel", "customers": "segment"}
# Tables of the contract added since the first release, which upgrade creates (empty).
_ADDED_TABLES = (
    "plan_rates",
    "order_lines_awaiting_rate",
    "product_costs",
    "product_cost_lines",
    "funnel_stages",
    "summary_currencies",
)


def pending_upgrades(con: duckdb.DuckDBPyConnection) -> dict[str, list[str]]:
    """What a store made by an earlier version lacks: {"recreate": tables whose CHECK lacks
    'unassigned', "nullable": order_lines.unit_cost_eur still NOT NULL, "rebuild": derived
    tables missing or without their newest column, "create": contract tables added since
    (e.g. plan_rates)}. Empty lists: nothing to do."""
    columns = {
        (table, column): nullable
        for table, column, nullable in db.query_rows(
            con,
            "SELECT table_name, column_name, is_nullable FROM information_schema.columns "
            "WHERE table_schema = 'main'",
        )
    }
    tables = {table for table, _ in columns}
    checks = db.query_rows(
        con,
        "SELECT table_name, expression FROM duckdb_constraints() "
        "WHERE schema_name = 'main' AND constraint_type = 'CHECK'",
    )
    recreate = sorted(
        table
        for table, column in _UNASSIGNED_CHECKS.items()
        if any(t == table and column in expr and "'unassigned'" not in expr for t, expr in checks)
    )
    nullable = (
        ["order_lines"]
        if columns.get(("order_lines", "unit_cost_eur")) == "NO" and "order_lines" not in recreate
        else []
    )
    rebuild = sorted(
        table
        for table in {*rollups.SUMMARIES, "split_orders", rollups.KEY_LINES, *_DERIVED_COLUMNS}
        if table not in tables
        or (table in _DERIVED_COLUMNS and (table, _DERIVED_COLUMNS[table]) not in columns)
        or (table, _DROPPED_COLUMNS.get(table)) in columns
    )
    create = sorted(table for table in _ADDED_TABLES if table not in tables)
    return {"recreate": recreate, "nullable": nullable, "rebuild": rebuild, "create": create}


# Servers starting at once on an old store: the first upgrades it, the others wait for it.
UPGRADE_WAIT_S = 600.0


def needs_upgrade(path) -> bool:
    """Whether a store made by an earlier version needs `upgrade`."""
    with db.connect(path, read_only=True) as con:
        return any(pending_upgrades(con).values())


def upgrade(path) -> bool:
    """Bring a store made by an earlier version up to this one's schema, in one transaction:
    order_lines.unit_cost_eur nullable; order_lines and customers recreated where their CHECK
    lacks 'unassigned' (rows copied, order lines in date order, the order later reads rely
    on); derived tables missing or without their newest column dropped, created and filled
    from the order lines; the tables added since (plan_rates, funnel_stages) created empty
    (every CREATE is IF NOT EXISTS), but the summary currencies' setting, which starts with
    its default (USD, GBP) and gets their summaries filled. Written as the store's next
    snapshot, so servers reading it read on.
    Returns whether anything was done."""
    if not needs_upgrade(path):
        return False
    try:
        with writing(path, wait_s=UPGRADE_WAIT_S) as con:
            pending = pending_upgrades(con)
            if not any(pending.values()):
                raise _UpgradedMeanwhile  # by a server that held the lock first
            _apply_upgrades(con, pending)
    except _UpgradedMeanwhile:
        return False
    return True


class _UpgradedMeanwhile(Exception):
    pass


def _apply_upgrades(con: duckdb.DuckDBPyConnection, pending: dict[str, list[str]]) -> None:
    with db.transaction(con):
        for table in pending["recreate"]:
            staged = f"{table}__upgrade"
            db.execute(con, _table_definition(table).replace(f" {table} (", f" {staged} (", 1))
            order = " ORDER BY order_date" if table == "order_lines" else ""
            db.execute(con, f"INSERT INTO {staged} SELECT * FROM {table}{order}")
            db.execute(con, f"DROP TABLE {table}")
            db.execute(con, f"ALTER TABLE {staged} RENAME TO {table}")
        if pending["nullable"]:
            db.execute(con, "ALTER TABLE order_lines ALTER COLUMN unit_cost_eur DROP NOT NULL")
        for table in pending["rebuild"]:
            db.execute(con, f"DROP TABLE IF EXISTS {table}")
        create_schema(con)
        rebuild = set(pending["rebuild"])
        if "sales_daily" in rebuild:
            rollups.rebuild_sales_rollups(con)
        else:
            rest = rebuild - {"sales_monthly", "orders_monthly"}
            if rest and rest <= set(rollups.REPORTED):
                # Only summary currencies' rows are new (e.g. sales_monthly_reported): the
                # other summaries, and those of them already there, stand.
                rollups.rebuild_reported(con, None, summary_currencies.stored(con), rest)
            elif rest:
                rollups.rebuild_summaries(con)  # orders_monthly among them
            # A store made before sales_monthly (orders_monthly) gets that table alone (one
            # pass over the lines; over orders_daily), not every summary again.
            if "sales_monthly" in rebuild:
                rollups.rebuild_sales_monthly(con)
            if "orders_monthly" in rebuild and not (rest - set(rollups.REPORTED)):
                rollups.rebuild_orders_monthly(con)
