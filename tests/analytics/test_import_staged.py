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
from analytics.importer import reading, run, staging
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
