"""An orders file larger than one chunk: its lines read from the file's bytes a range at a
time (reading.LazyRows) and staged in DuckDB (analytics.importer.staging), the whole-file
checks made there in SQL. It must give the report and the stored rows a file of one chunk
gives (the frame's way, a second method), across chunk borders.

The store is the hand-made fixture (conftest.py): customers C1–C4, products P1–P2, order
O3/1 stored as 2024-01-08 C1 P1 US USD 5 x 60, rates for USD, GBP and CHF in January 2024
(none for JPY).
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd
import pytest

from analytics import importer
from analytics.importer import loading, reading, run, staging, undo
from tests.analytics.conftest import build_fixture
from tests.analytics.test_importer import snapshot

CHUNK = 4  # lines a chunk in the tests below: the file's 14 lines are four chunks
HEADER = (
    "order_id,line_no,order_date,customer_id,customer_name,country,currency,product_id,"
    "quantity,unit_price,unit_cost_eur"
)
# Lines 2-5 are chunk 1, 6-9 chunk 2, 10-13 chunk 3, 14-15 chunk 4.
LINES = [
    "S1,1,2024-01-04,C1,,US,USD,P1,1,50,20",  # 2
    "S1,2,2024-01-04,C1,,US,USD,P2,2,51,10",  # 3: key S1 / 2 repeats on line 11 (chunk 3)
    "S2,1,2024-01-05,N1,,GB,GBP,P1,x,52,20",  # 4: rejected; N1 first named here
    "S3,1,2024-01-05,C2,,GB,GBP,P9,1,53,",  # 5: S3 straddles chunks 1 and 2; new P9
    "S3,2,2024-01-05,C2,,GB,GBP,P1,1,54,20",  # 6
    "S4,1,2024-01-08,N1,Newco Ltd,GB,GBP,P1,1,55,20",  # 7: N1's first valid line
    "S8,1,2024-01-09,C3,,DE,EUR,P2,4,25,10",  # 8
    "S5,1,2024-01-08,C4,,US,JPY,P1,1,900,20",  # 9: no JPY rate: awaits one
    "S6,1,2024-01-09,C3,,DE,EUR,P2,1,26,10",  # 10
    "S1,2,2024-01-09,C1,,US,USD,P1,9,57,20",  # 11: duplicate of line 3
    "O3,1,2024-01-08,C1,,US,USD,P1,6,60,20",  # 12: O3/1 is stored with quantity 5
    "S3,3,2024-01-05,C2,,GB,GBP,P1,1,58,20",  # 13
    "S7,1,2024-01-09,C3,,DE,EUR,P2,2,27,10",  # 14
    "S1,2,2024-01-09,C1,,US,USD,P1,3,59,20",  # 15: duplicate of line 3 again (chunk 4)
]
NUMBERED = "\n".join([HEADER, *LINES]).encode() + b"\n"


def _unnumbered(lines: list[str]) -> bytes:
    """The same lines without a line number column (numbered in file order per order)."""
    header = HEADER.replace("line_no,", "")
    rows = [",".join(line.split(",")[:1] + line.split(",")[2:]) for line in lines]
    return "\n".join([header, *rows]).encode() + b"\n"


def _store():
    con = duckdb.connect(":memory:")
    build_fixture(con)
    return con


def _both(data: bytes, commit: bool, **options):
    """(report, store snapshot) of the file in chunks of CHUNK lines and in one chunk."""
    out = []
    for chunk_rows in (CHUNK, 10**9):
        con = _store()
        try:
            report = importer.import_file(
                con, "orders", data, "s.csv", commit=commit, chunk_rows=chunk_rows, **options
            ).to_dict()
            report.pop("import_id", None)
            out.append((report, snapshot(con)))
        finally:
            con.close()
    return out


@pytest.fixture
def stages(monkeypatch):
    """The stages the imports opened: each must have been closed and its folder removed."""
    opened = []

    class Counted(staging.Stage):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            opened.append(self)

    monkeypatch.setattr(run, "Stage", Counted)
    yield opened
    for stage in opened:
        assert not Path(stage._folder.name).exists()


@pytest.mark.parametrize("commit", [False, True])
def test_the_staged_check_gives_the_one_chunk_report_and_rows(stages, commit):
    (staged, staged_store), (whole, whole_store) = _both(NUMBERED, commit)
    assert len(stages) == 1  # the chunked run staged; the one-chunk run did not
    assert staged == whole
    assert staged_store == whole_store


def test_the_staged_report_by_hand(stages):
    """Worked out line by line from the comments on LINES."""
    (report, _), _ = _both(NUMBERED, commit=False)
    reasons = [(r["line"], r["column"], r["value"], r["reason"]) for r in report["rejected"]]
    duplicate = "duplicate key: the same order_id / line_no is on line 3"
    conflict = (
        "this order line is already stored with different values; correct or delete the "
        "stored one first"
    )
    assert reasons == [
        (4, "quantity", "x", "not a number"),
        (11, "order_id / line_no", "S1 / 2", duplicate),
        (12, "(row)", "", conflict),
        (15, "order_id / line_no", "S1 / 2", duplicate),
    ]
    assert (report["rows_read"], report["rows_loaded"], report["rows_rejected"]) == (14, 10, 4)
    assert report["unchanged"] == 0
    assert report["created"] == {"customers": 1, "products": 1}  # N1, P9
    assert report["awaiting_rate"]["lines"] == 1  # S5 in JPY
    assert report["awaiting_rate"]["currencies"][0]["amount_local"] == 900.0


def test_an_order_straddling_chunks_is_numbered_across_them(stages):
    """Without a line number column: S1's lines 2, 3, 11, 15 are S1/1-4 (11 and 15 in later
    chunks), S3's lines 5, 6 (across the first border) and 13 are S3/1-3; nothing repeats."""
    data = _unnumbered(LINES)
    (staged, staged_store), (whole, whole_store) = _both(data, commit=True)
    assert staged == whole and staged_store == whole_store
    con = _store()
    try:
        importer.import_file(con, "orders", data, "u.csv", chunk_rows=CHUNK)
        stored = con.execute(
            "SELECT order_id, line_no, unit_price_local FROM order_lines "
            "WHERE order_id IN ('S1', 'S3') ORDER BY order_id, line_no"
        ).fetchall()
    finally:
        con.close()
    assert stored == [
        ("S1", 1, 50.0),
        ("S1", 2, 51.0),
        ("S1", 3, 57.0),
        ("S1", 4, 59.0),
        ("S3", 1, 53.0),
        ("S3", 2, 54.0),
        ("S3", 3, 58.0),
    ]
    assert [r["line"] for r in staged["rejected"]] == [4, 12]  # "x"; O3/1 stored otherwise


def test_a_footer_is_found_from_the_end_in_ranges(stages):
    """A report's footer found from the end a window at a time (of a LazyRows)."""
    lines = [f"F{i},1,2024-01-04,C1,,US,USD,P1,1,50,20" for i in range(1, 11)]
    data = "\n".join([HEADER, *lines, "Grand Totals (10 records),,,,,,,,,,", ""]).encode()
    assert isinstance(reading.read_file(data, lazy=True).rows, reading.LazyRows)
    (staged, _), (whole, _) = _both(data, commit=False)
    assert staged == whole
    assert staged["skipped"] == [{"line": 12, "text": "Grand Totals (10 records)"}]
    assert (staged["rows_read"], staged["rows_rejected"]) == (10, 0)


def test_percent_fields_are_applied_to_each_range_read():
    """An export's percent fields ("10.0" under "Discount (%)") on a LazyRows: applied to
    every range of lines and column as it is read, as to the whole frame."""
    data = b"a,discount\nx,10.0\ny,\nz,5%\nw,7\n"
    eager, lazy = reading.read_file(data), reading.read_file(data, lazy=True)
    for raw in (eager, lazy):
        run._percent(raw, {"discount_pct": 1}, ["discount_pct"])
    assert list(eager.rows[1]) == ["10.0%", "", "5%", "7%"]
    pd.testing.assert_frame_equal(lazy.rows.frame(), eager.rows)
    pd.testing.assert_frame_equal(lazy.rows.iloc[2:].frame(), eager.rows.iloc[2:])
    pd.testing.assert_series_equal(lazy.rows[1], eager.rows[1])


def test_a_file_whose_every_line_is_rejected_stages_and_reports_them_all(stages):
    lines = [f"R{i},1,2024-01-04,C1,,US,USD,P1,x,50,20" for i in range(1, 10)]
    data = "\n".join([HEADER, *lines]).encode() + b"\n"
    (staged, _), (whole, _) = _both(data, commit=True)
    assert staged == whole
    assert staged["status"] == "rejected" and staged["rows_rejected"] == 9


CORPUS = Path(__file__).parent / "import_corpus"
HOSTILE = Path(__file__).parent / "hostile_corpus"


@pytest.mark.parametrize(
    "path", sorted(CORPUS.glob("*.csv")) + sorted(HOSTILE.glob("*.csv")), ids=lambda p: p.name
)
def test_lazy_rows_read_as_the_whole_frame(path):
    """LazyRows' rows, ranges of rows and columns equal the eager read's (where the lazy
    reader takes the file at all)."""
    data = path.read_bytes()
    try:
        eager = reading.read_file(data)
    except importer.FileRejected:
        return
    lazy = reading.read_file(data, lazy=True)
    if not isinstance(lazy.rows, reading.LazyRows):
        assert lazy.rows.equals(eager.rows)
        return
    assert lazy.header == eager.header and len(lazy.rows) == len(eager.rows)
    pd.testing.assert_frame_equal(lazy.rows.frame(), eager.rows)
    n = len(eager.rows)
    for begin, end in [(0, 1), (1, 3), (n - 1, n), (2, 2), (n // 2, n)]:
        pd.testing.assert_frame_equal(lazy.rows.iloc[begin:end].frame(), eager.rows.iloc[begin:end])
    for i in range(len(eager.header)):
        pd.testing.assert_series_equal(lazy.rows[i], eager.rows[i])
        pd.testing.assert_series_equal(lazy.rows.iloc[1:][i], eager.rows.iloc[1:][i])


# --- the load of a staged file: a part at a time, the same store --------------------------


def _everything(con) -> dict:
    """Every table's rows (import_log without its ids and times, the undo record without
    the import id), and order_lines' physical order (DESIGN: kept in date order)."""
    special = {
        "import_log": "SELECT kind, file_name, sha256, rows_read, rows_loaded, rows_rejected, "
        "status FROM import_log",
        "imported_order_lines": "SELECT order_id, line_no, inserted FROM imported_order_lines",
    }
    tables = [t for (t,) in con.execute("SHOW TABLES").fetchall()]
    out = {
        t: sorted(
            map(tuple, con.execute(special.get(t, f'SELECT * FROM "{t}"')).fetchall()), key=repr
        )
        for t in tables
    }
    out["physical order"] = con.execute(
        "SELECT order_date, order_id, line_no FROM order_lines"
    ).fetchall()
    return out


def _load_both(data: bytes, then=None):
    """(report, every table) of the file loaded in chunks of CHUNK lines and in one chunk;
    `then(con, report)` runs on each store before it is read (e.g. an undo)."""
    out = []
    for chunk_rows in (CHUNK, 10**9):
        con = _store()
        try:
            report = importer.import_file(con, "orders", data, "s.csv", chunk_rows=chunk_rows)
            if then is not None:
                then(con, report)
            report = report.to_dict()
            report.pop("import_id")
            out.append((report, _everything(con)))
        finally:
            con.close()
    return out


@pytest.fixture
def inserts(monkeypatch):
    """The order lines each insert into order_lines and each undo record hands the store,
    with a load part of 2 lines (the staged load's days of about 2 lines at a time)."""
    monkeypatch.setattr(staging, "LOAD_ROWS", 2)
    sizes = {"order_lines": [], "undo": []}
    insert, record = loading._insert, undo.record

    def counted_insert(con, table, rows, upsert=False):
        if table == "order_lines":
            sizes["order_lines"].append(len(rows))
        insert(con, table, rows, upsert)

    def counted_record(con, kind, import_id, held):
        sizes["undo"].append(len(held))
        record(con, kind, import_id, held)

    monkeypatch.setattr(loading, "_insert", counted_insert)
    monkeypatch.setattr(undo, "record", counted_record)
    return sizes


@pytest.mark.parametrize("numbered", [True, False], ids=["line_no", "numbered here"])
def test_the_staged_load_stores_what_the_one_chunk_load_stores(stages, inserts, numbered):
    """Every table (rollups and summaries, import_log, the undo record, the lines awaiting a
    rate) and order_lines' physical order: the lines start before the stored O3/1
    (2024-01-08), so the table is rewritten in date order after the insert."""
    data = NUMBERED if numbered else _unnumbered(LINES)
    (staged, staged_store), (whole, whole_store) = _load_both(data)
    assert len(stages) == 1
    assert staged == whole
    assert staged_store == whole_store
    assert staged["status"] == "loaded"
    assert staged_store["order_lines_awaiting_rate"][0][:2] == ("S5", 1)
    # held: 10 lines numbered (lines 4, 11, 12, 15 rejected), 12 unnumbered (4 and 12)
    assert len(staged_store["imported_order_lines"]) == (10 if numbered else 12)


def test_the_staged_load_hands_the_store_a_few_days_of_lines_at_a_time(stages, inserts):
    """The 9 converted lines to insert (lines 2, 3, 5, 6, 7, 8, 10, 13, 14) by day:
    2024-01-04 S1/1-2, 01-05 S3/1-3, 01-08 S4/1, 01-09 S8, S6, S7. Parts of about 2 lines:
    01-04 (2), 01-05 (3: a day is not split), 01-08 (1), 01-09 (3). The undo record (those 9
    and S5/1 awaiting a rate) 2 keys at a time. The one-chunk load hands them over whole."""
    _load_both(NUMBERED)
    staged, whole = inserts["order_lines"][:4], inserts["order_lines"][4:]
    assert staged == [2, 3, 1, 3]
    assert whole == [9]
    assert inserts["undo"] == [2, 2, 2, 2, 1, 1, 10]  # 9 converted by 2; S5; then whole


def test_undoing_a_staged_load_restores_the_store(stages):
    """Undo leaves every table as the undo of the one-chunk load does, and order_lines,
    the lines awaiting a rate and the rollups as before the import (the customers and
    products it created stay, as undo says)."""
    con = _store()
    try:
        undo.ensure_tables(con)
        before = _everything(con)
    finally:
        con.close()

    def undone(con, report):
        undo.undo_import(con, report.import_id)

    (staged, staged_store), (whole, whole_store) = _load_both(NUMBERED, then=undone)
    assert staged == whole and staged_store == whole_store
    assert staged_store["import_log"][0][-1] == "undone"
    for table, rows in before.items():
        if table in ("import_log", "customers", "products"):
            continue
        assert staged_store[table] == rows, table
    assert staged_store.get("order_lines_awaiting_rate", []) == []
    assert {r[0] for r in staged_store["customers"]} - {r[0] for r in before["customers"]} == {"N1"}


class _Full:
    """A staging connection whose disk fills when a statement containing `where` runs."""

    def __init__(self, con, where: str) -> None:
        self._con, self._where = con, where

    def _check(self, sql: str) -> None:
        if self._where in sql:
            raise duckdb.IOException("Could not write file: No space left on device")

    def execute(self, sql, *args, **kwargs):
        self._check(sql)
        return self._con.execute(sql, *args, **kwargs)

    def sql(self, sql, *args, **kwargs):
        self._check(sql)
        return self._con.sql(sql, *args, **kwargs)

    def cursor(self):
        return _Full(self._con.cursor(), self._where)

    def __getattr__(self, name):
        return getattr(self._con, name)


@pytest.mark.parametrize(
    ("where", "commit"),
    [
        ("INSERT INTO lines", False),
        ("INSERT INTO lines", True),
        ("INSERT INTO load_lines", True),
        ("FROM load_lines WHERE order_date", True),
    ],
    ids=["check", "check before a load", "staging the load", "the load's read-back"],
)
def test_a_staging_store_out_of_room_is_reported_and_stores_nothing(
    stages, monkeypatch, where, commit
):
    """The disk filling under the staging database, while the file is checked or while the
    load reads its lines back inside the store's transaction: a report, nothing stored
    (beyond import_log's entry saying so), the staging folder removed."""
    connect = staging.Stage._connect
    monkeypatch.setattr(staging.Stage, "_connect", lambda self: _Full(connect(self), where))
    con = _store()
    try:
        before = _everything(con)
        report = importer.import_file(
            con, "orders", NUMBERED, "s.csv", commit=commit, chunk_rows=CHUNK
        )
        after = _everything(con)
    finally:
        con.close()
    assert report.status == "rejected"
    assert report.message.startswith(
        "Not enough disk or memory to check this file: Could not write file: No space left "
        "on device. Nothing was stored"
    )
    assert (report.rows_read, report.rows_loaded, report.rows_rejected) == (14, 0, 14)
    assert report.created == {} and report.awaiting_rate == {}
    assert [r["column"] for r in report.rejected] == ["(file)"]
    assert len(stages) == 1
    log = after.pop("import_log")
    before.pop("import_log")
    for table in ("imported_order_lines", "imported_rates"):  # made by the load's undo record
        if table not in before:
            assert after.pop(table, []) == []
    assert after == before
    assert log == ([("orders", "s.csv", log[0][2], 14, 0, 14, "rejected")] if commit else [])


def test_the_staged_load_bounds_the_stores_memory_and_puts_it_back(stages, monkeypatch):
    """The store's DuckDB memory limit is loading.LOAD_MEMORY while a staged file loads (the
    date-order rewrite sees it) and DuckDB's default again afterwards; a limit the caller
    set is left as it is."""
    seen = []
    refresh = loading.rollups.sort_order_lines

    def watched(con, *args, **kwargs):
        seen.append(con.execute("SELECT current_setting('memory_limit')").fetchone()[0])
        return refresh(con, *args, **kwargs)

    monkeypatch.setattr(loading.rollups, "sort_order_lines", watched)
    default = duckdb.connect().execute("SELECT current_setting('memory_limit')").fetchone()[0]
    for chosen, during in ((None, "244.1 MiB"), ("1GB", "953.6 MiB")):  # 256 MB, 1 GB shown
        con = _store()
        try:
            if chosen:
                con.execute(f"SET memory_limit = '{chosen}'")
            importer.import_file(con, "orders", NUMBERED, "s.csv", chunk_rows=CHUNK)
            after = con.execute("SELECT current_setting('memory_limit')").fetchone()[0]
        finally:
            con.close()
        assert seen.pop() == during
        assert after == (during if chosen else default)


def test_a_staged_load_out_of_the_stores_memory_is_made_again_without_the_limit(
    stages, monkeypatch
):
    """The store running out of LOAD_MEMORY in the rollups' refresh: the load is rolled back
    and made once more under DuckDB's default limit, storing what the one-chunk load does."""
    refresh, limits = loading.rollups.refresh, []

    def short_once(con, *args, **kwargs):
        limits.append(con.execute("SELECT current_setting('memory_limit')").fetchone()[0])
        if len(limits) == 1:
            raise duckdb.OutOfMemoryException("Out of Memory Error: failed to pin block")
        return refresh(con, *args, **kwargs)

    monkeypatch.setattr(loading.rollups, "refresh", short_once)
    (staged, staged_store), (whole, whole_store) = _load_both(NUMBERED)
    default = duckdb.connect().execute("SELECT current_setting('memory_limit')").fetchone()[0]
    assert limits == ["244.1 MiB", default, default]  # staged twice, then the one-chunk load
    assert staged == whole and staged_store == whole_store
    assert staged["status"] == "loaded"
