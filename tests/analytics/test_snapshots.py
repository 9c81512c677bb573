"""Store snapshots: a write goes into a copy swapped in atomically; readers read on; one writer
at a time; a killed writer leaves the store as it was (analytics/store.py, data/README.md)."""

from __future__ import annotations

import os
import shutil
import signal
import stat
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import duckdb
import pytest

from analytics import db, store
from analytics.__main__ import main

REPO_ROOT = Path(__file__).resolve().parent.parent.parent

ORDERS_CSV = (
    "order_id;order_date;customer_id;country;currency;product_id;quantity;unit_price;"
    "customer_name;product_name;channel;unit_cost_eur\n"
    "SNAP-1;20.10.2026;SNAP-C;CH;CHF;SNAP-P;3;1.250,00;Snap AG;Probe;direct;600\n"
    "SNAP-2;21.10.2026;SNAP-C;CH;CHF;SNAP-P;2;1.250,00;Snap AG;Probe;direct;600\n"
)


def _count(path: Path, table: str = "countries") -> int:
    with db.connect(path, read_only=True) as con:
        return con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def _add_country(con, code: str) -> None:
    con.execute(
        "INSERT INTO countries VALUES (?, ?, ?, 'Test region', 'Test subregion', 'EUR')",
        [code, code + "X", f"Country {code}"],
    )


@pytest.fixture
def snapshot_store(tmp_path) -> Path:
    """A store made by store.writing: the schema and two countries, AA and BB."""
    path = tmp_path / "atlas.duckdb"
    with store.writing(path, create=True) as con:
        store.create_schema(con)
        _add_country(con, "AA")
        _add_country(con, "BB")
    return path


def test_a_new_store_is_a_pointer_to_its_first_snapshot(snapshot_store):
    assert snapshot_store.is_symlink()
    (first,) = store.snapshots(snapshot_store)
    assert db.current_file(snapshot_store) == first
    # Relative, so the folder can be moved or restored elsewhere whole.
    assert os.readlink(snapshot_store) == f"atlas.duckdb.snapshots/{first.name}"
    assert stat.S_IMODE(first.stat().st_mode) == 0o600
    assert stat.S_IMODE(store.snapshot_dir(snapshot_store).stat().st_mode) == 0o700
    assert not first.with_name(first.name + ".wal").exists()  # checkpointed before the swap
    assert _count(snapshot_store) == 2


def test_a_reader_keeps_its_snapshot_and_the_next_open_sees_the_write(snapshot_store):
    before = db.current_file(snapshot_store)
    reader = db.connect(snapshot_store, read_only=True)  # a server serving the store
    with store.writing(snapshot_store) as con:
        _add_country(con, "CC")
        # Until the block ends the store still names the old snapshot: nothing half-done.
        assert db.current_file(snapshot_store) == before
        assert _count(snapshot_store) == 2
    after = db.current_file(snapshot_store)
    assert after != before and after.parent == before.parent
    assert reader.execute("SELECT count(*) FROM countries").fetchone()[0] == 2
    assert _count(snapshot_store) == 3
    reader.close()
    # The replaced snapshot is kept (a reader resolving the pointer at the swap finds it);
    # the one before it goes at the next write.
    assert store.snapshots(snapshot_store) == [before, after]
    with store.writing(snapshot_store) as con:
        _add_country(con, "DD")
    newest = db.current_file(snapshot_store)
    assert store.snapshots(snapshot_store) == [after, newest]
    assert not before.exists()
    assert _count(snapshot_store) == 4


def test_a_read_connection_on_a_snapshot_keeps_its_hardening(snapshot_store):
    with db.connect(snapshot_store, read_only=True) as con:
        locked, external = con.execute(
            "SELECT current_setting('lock_configuration'), "
            "current_setting('enable_external_access')"
        ).fetchone()
        assert (locked, external) == (True, False)
        with pytest.raises(duckdb.Error):
            con.execute("SET enable_external_access = true")


def test_a_failed_write_leaves_the_store_and_no_copy(snapshot_store):
    before = db.current_file(snapshot_store)
    with pytest.raises(ZeroDivisionError), store.writing(snapshot_store) as con:
        _add_country(con, "CC")
        1 / 0  # noqa: B018
    assert db.current_file(snapshot_store) == before
    assert store.snapshots(snapshot_store) == [before]
    assert _count(snapshot_store) == 2


def test_a_single_file_store_is_read_as_is_and_becomes_the_first_snapshot(tmp_path):
    path = tmp_path / "old.duckdb"
    with db.connect(path) as con:  # as stores were made before snapshots
        store.create_schema(con)
        _add_country(con, "AA")
    inode = path.stat().st_ino
    reader = db.connect(path, read_only=True)
    with store.writing(path) as con:
        _add_country(con, "BB")
    assert path.is_symlink()
    first, second = store.snapshots(path)
    # The old file itself (a hard link, same inode) is the first snapshot: a server reading
    # it reads on, untouched.
    assert first.stat().st_ino == inode
    assert db.current_file(path) == second
    assert reader.execute("SELECT count(*) FROM countries").fetchone()[0] == 1
    reader.close()
    assert _count(path) == 2


def test_a_second_writer_is_refused_clearly_and_a_waiting_one_loses_nothing(snapshot_store):
    holding, release = threading.Event(), threading.Event()

    def first_writer():
        with store.writing(snapshot_store) as con:
            _add_country(con, "CC")
            holding.set()
            release.wait(30)

    thread = threading.Thread(target=first_writer)
    thread.start()
    try:
        assert holding.wait(30)
        with pytest.raises(store.WriterBusy) as refused, store.writing(snapshot_store) as con:
            _add_country(con, "XX")
        message = str(refused.value)
        assert f"Another write to {snapshot_store} is under way (process {os.getpid()}" in message
        assert "Nothing was changed" in message
        # A writer that may wait gets the lock once the first is done, on the first's result.
        threading.Timer(0.5, release.set).start()
        with store.writing(snapshot_store, wait_s=30) as con:
            _add_country(con, "DD")
    finally:
        release.set()
        thread.join(30)
    with db.connect(snapshot_store, read_only=True) as con:
        rows = con.execute("SELECT country_code FROM countries ORDER BY 1").fetchall()
    codes = [row[0] for row in rows]
    assert codes == ["AA", "BB", "CC", "DD"]


def test_a_writer_killed_mid_load_leaves_the_old_snapshot_and_nothing_half_written(
    snapshot_store,
):
    before = db.current_file(snapshot_store)
    script = textwrap.dedent(
        f"""
        import time
        from analytics import db, store
        with store.writing({str(snapshot_store)!r}) as con:
            con.execute("BEGIN TRANSACTION")
            con.execute(
                "INSERT INTO countries SELECT 'Z' || i, 'ZZ' || i, 'Half ' || i, 'R', 'S', 'EUR' "
                "FROM range(50000) t(i)"
            )
            print("writing", flush=True)
            time.sleep(120)
        """
    )
    writer = subprocess.Popen(
        [sys.executable, "-c", script], cwd=REPO_ROOT, stdout=subprocess.PIPE, text=True
    )
    try:
        assert writer.stdout.readline().strip() == "writing"
        assert len(store.snapshots(snapshot_store)) == 2  # the copy being written
        writer.send_signal(signal.SIGKILL)
        writer.wait(30)
    finally:
        writer.kill()
    assert db.current_file(snapshot_store) == before
    assert _count(snapshot_store) == 2
    # The kernel released the lock with the process: the next write runs at once, and
    # removes the dead writer's copy.
    with store.writing(snapshot_store) as con:
        _add_country(con, "CC")
    assert _count(snapshot_store) == 3
    assert store.snapshots(snapshot_store) == [before, db.current_file(snapshot_store)]


def test_a_pointer_to_a_missing_snapshot_is_refused_clearly(snapshot_store):
    shutil.rmtree(store.snapshot_dir(snapshot_store))
    with pytest.raises(db.StoreRefused, match="which is missing"):
        db.connect(snapshot_store, read_only=True)


def test_a_new_store_where_one_exists_is_refused(snapshot_store):
    with pytest.raises(store.StoreExists), store.writing(snapshot_store, create=True):
        pass
    with pytest.raises(store.StoreMissing), store.writing(snapshot_store.with_name("none")):
        pass


def test_the_cli_imports_while_another_process_holds_the_store_open(demo_db_path, tmp_path):
    """The failure issue 12 names: an app server holds the store read-only, and the import
    stopped on DuckDB's file lock. Now the import writes the next snapshot and swaps it in;
    the server's open connection reads on from the old one."""
    path = tmp_path / demo_db_path.name
    shutil.copyfile(demo_db_path, path)
    lines = _count(path, "order_lines")
    server = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys; from analytics import db; con = db.connect(sys.argv[1], read_only=True);"
            "print('open', flush=True); sys.stdin.readline();"
            "print(con.execute('SELECT count(*) FROM order_lines').fetchone()[0], flush=True)",
            str(path),
        ],
        cwd=REPO_ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout.readline().strip() == "open"
        source = tmp_path / "orders.csv"
        source.write_text(ORDERS_CSV, encoding="utf-8")
        assert main(["import", "orders", str(source), "--db", str(path)]) == 0
        server.stdin.write("\n")
        server.stdin.flush()
        assert int(server.stdout.readline()) == lines  # the old snapshot, read on
    finally:
        server.kill()
        server.wait(30)
    assert _count(path, "order_lines") == lines + 2


def test_a_cli_import_killed_between_its_load_and_the_swap_changes_nothing(demo_db_path, tmp_path):
    """`python -m analytics import` killed -9 with its load written into the next snapshot:
    the store still names the old one, which holds none of the file's lines."""
    path = tmp_path / demo_db_path.name
    shutil.copyfile(demo_db_path, path)
    lines = _count(path, "order_lines")
    source = tmp_path / "orders.csv"
    source.write_text(ORDERS_CSV, encoding="utf-8")
    held = textwrap.dedent(
        """
        import sys, time
        from analytics.importer import run
        loaded = run.load

        def load_then_hold(*args, **kwargs):
            loaded(*args, **kwargs)
            print("loaded", flush=True)
            time.sleep(120)

        run.load = load_then_hold
        from analytics.__main__ import main
        sys.exit(main(sys.argv[1:]))
        """
    )
    writer = subprocess.Popen(
        [sys.executable, "-c", held, "import", "orders", str(source), "--db", str(path)],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert writer.stdout.readline().strip() == "loaded"
        current = db.current_file(path)
        writer.send_signal(signal.SIGKILL)
        writer.wait(30)
    finally:
        writer.kill()
    assert db.current_file(path) == current
    with db.connect(path, read_only=True) as con:
        assert con.execute("SELECT count(*) FROM order_lines").fetchone()[0] == lines
        assert con.execute(
            "SELECT count(*) FROM order_lines WHERE order_id LIKE 'SNAP-%'"
        ).fetchone() == (0,)
    assert main(["import", "orders", str(source), "--db", str(path)]) == 0
    assert _count(path, "order_lines") == lines + 2


def _open_read_write_elsewhere(path: Path) -> str:
    """What another process gets when it opens `path` read-write: 'opened' or the error."""
    script = (
        "import sys, duckdb\n"
        "try:\n    duckdb.connect(sys.argv[1]).close(); print('opened')\n"
        "except duckdb.Error as e:\n    print(e)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(path)], capture_output=True, text=True, timeout=60
    )
    return done.stdout.strip()


def test_a_program_writing_the_store_in_place_refuses_the_copy(snapshot_store):
    before = db.current_file(snapshot_store)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, duckdb; con = duckdb.connect(sys.argv[1]); print('open', flush=True);"
            "sys.stdin.readline()",
            str(before),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "open"
        refused = pytest.raises(db.StoreLocked, match="in use by another process")
        with refused, store.writing(snapshot_store) as con:
            _add_country(con, "CC")
    finally:
        holder.kill()
        holder.wait(30)
    assert store.snapshots(snapshot_store) == [before]
    assert db.current_file(snapshot_store) == before


def test_the_copy_leaves_this_process_s_read_lock_in_place(snapshot_store):
    """The copy's lock is an open-file-description lock: closing it must not drop the lock
    this process's DuckDB read connection holds (a POSIX lock would), or a program could
    then open the snapshot read-write under a server reading it."""
    current = db.current_file(snapshot_store)
    reader = db.connect(snapshot_store, read_only=True)
    try:
        with store.writing(snapshot_store) as con:
            _add_country(con, "CC")
        assert "lock" in _open_read_write_elsewhere(current).lower()
    finally:
        reader.close()
    assert _open_read_write_elsewhere(current) == "opened"
