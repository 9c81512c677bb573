"""An orders file checked in chunks of lines gives the same report and stores the same rows as
one pass over the whole file; a progress callback that raises stops the import with nothing
written (the Data page's stops so when its session ends).

The store is the hand-made fixture (conftest.py): customers C1–C4, products P1–P2, rates for
USD, GBP and CHF in January 2024.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from analytics import importer
from tests.analytics.conftest import build_fixture
from tests.analytics.test_importer import snapshot

CORPUS = Path(__file__).parent / "import_corpus"

# No line_no column (lines are numbered within each order, in file order, across chunks);
# M1 / 1 and M1 / 2 repeat in later chunks (duplicates across chunks; the first M1 / 2 is on
# a rejected line, and is still the first);
# errors in every chunk; a decimal comma shown only in the last chunk (1.250,5), dates
# DD/MM shown only by the second chunk's 13/01; new customer N1 first on a rejected line
# (its name is taken from its first valid line), new product P9; a JPY line awaiting a rate.
CHUNKED = """order_id;line_no;order_date;customer_id;customer_name;country;currency;product_id;quantity;unit_price;channel
M1;1;04/01/2024;C1;;US;USD;P1;1;50;direct
M1;2;04/01/2024;N1;Never stored;US;USD;P1;x;50;direct
M2;1;05/01/2024;C2;;GB;GBP;P2;2;100;direct
M2;2;05/01/2024;N1;Newco Ltd;GB;GBP;P9;1;70;web
M1;1;13/01/2024;C1;;US;USD;P1;3;50;direct
M3;1;32/01/2024;C3;;DE;EUR;P2;1;25;web
M4;1;08/01/2024;C3;;DE;EUR;P2;-2;25;web
M1;2;05/01/2024;C2;;GB;GBP;P2;2;100;direct
M5;1;09/01/2024;C4;;US;XYZ;P1;1;50;web
M6;1;09/01/2024;C1;;US;JPY;P1;1;900;direct
M7;1;10/01/2024;C3;;DE;EUR;P2;1;1.250,5;web
M8;1;10/01/2024;C3;;DE;EUR;P9;4;12;bazaar
"""
UNNUMBERED = """order_id,order_date,customer_id,country,currency,product_id,quantity,unit_price
U1,2024-01-04,C1,US,USD,P1,1,50
U1,2024-01-04,C1,US,USD,P2,1,51
U2,2024-01-05,C2,GB,GBP,P1,1,52
U1,2024-01-05,C1,US,USD,P1,1,53
U2,2024-01-05,C2,GB,GBP,P2,oops,54
U2,2024-01-05,C2,GB,GBP,P2,1,55
U1,2024-01-06,C1,US,USD,P2,1,56
"""


def _store():
    con = duckdb.connect(":memory:")
    build_fixture(con)
    return con


def _report(con, data: bytes, name: str, chunk_rows: int, commit: bool = False) -> dict:
    report = importer.import_file(
        con, "orders", data, name, commit=commit, chunk_rows=chunk_rows
    ).to_dict()
    report.pop("import_id", None)
    return report


@pytest.mark.parametrize(
    ("name", "data"), [("chunked.csv", CHUNKED), ("unnumbered.csv", UNNUMBERED)]
)
@pytest.mark.parametrize("chunk_rows", [1, 3, 5])
def test_chunks_give_the_same_report_and_rows_as_one_pass(name, data, chunk_rows):
    whole_con, chunked_con = _store(), _store()
    try:
        data = data.encode()
        whole = _report(whole_con, data, name, 10**9, commit=True)
        chunked = _report(chunked_con, data, name, chunk_rows, commit=True)
        assert chunked == whole
        assert snapshot(chunked_con) == snapshot(whole_con)
    finally:
        whole_con.close()
        chunked_con.close()


def test_the_chunked_file_report_by_hand():
    """What the fixture above must give, worked out line by line (the header is line 1)."""
    con = _store()
    try:
        report = _report(con, CHUNKED.encode(), "chunked.csv", 3, commit=True)
        customer = con.execute(
            "SELECT name, country_code, segment FROM customers WHERE customer_id = 'N1'"
        ).fetchall()
        stored = con.execute(
            "SELECT order_id, line_no, quantity, unit_price_local FROM order_lines "
            "WHERE order_id LIKE 'M%' ORDER BY order_id, line_no"
        ).fetchall()
    finally:
        con.close()
    reasons = {(r["line"], r["column"]): r["reason"] for r in report["rejected"]}
    duplicate = "duplicate key: the same order_id / line_no is on line {}"
    assert reasons == {
        (3, "quantity"): "not a number",
        (6, "order_id / line_no"): duplicate.format(2),
        (7, "order_date"): "not a date in the format DD/MM/YYYY",
        (9, "order_id / line_no"): duplicate.format(3),
        (10, "currency"): "unknown currency (write the ISO 4217 code, e.g. USD)",
        (13, "channel"): reasons[(13, "channel")],
    }
    assert reasons[(13, "channel")].startswith("must be one of: ")
    assert report["detected"]["decimal_mark"] == ","
    assert report["detected"]["date_format"] == "DD/MM/YYYY"
    assert (report["rows_read"], report["rows_loaded"], report["rows_rejected"]) == (12, 6, 6)
    assert report["created"] == {"customers": 1, "products": 1}
    assert report["awaiting_rate"]["lines"] == 1  # M6 in JPY: the fixture has no JPY rate
    # N1 takes its first valid line's name (line 5), not the rejected line 3's.
    assert customer == [("Newco Ltd", "GB", "web")]
    # M6 awaits its rate apart from order_lines; 1.250,5 is 1250.5.
    assert stored == [
        ("M1", 1, 1, 50.0),
        ("M2", 1, 2, 100.0),
        ("M2", 2, 1, 70.0),
        ("M4", 1, -2, 25.0),
        ("M7", 1, 1, 1250.5),
    ]


def test_lines_numbered_within_orders_across_chunks():
    con = _store()
    try:
        importer.import_file(con, "orders", UNNUMBERED.encode(), "u.csv", chunk_rows=2)
        stored = con.execute(
            "SELECT order_id, line_no, unit_price_local FROM order_lines "
            "WHERE order_id LIKE 'U%' ORDER BY order_id, line_no"
        ).fetchall()
    finally:
        con.close()
    # U1: lines 2, 3, 5 and 8 of the file -> 1..4; U2: 4, 6 (rejected: "oops"), 7 -> 1..3.
    assert stored == [
        ("U1", 1, 50.0),
        ("U1", 2, 51.0),
        ("U1", 3, 53.0),
        ("U1", 4, 56.0),
        ("U2", 1, 52.0),
        ("U2", 3, 55.0),
    ]


@pytest.mark.parametrize("name", sorted(p.name for p in CORPUS.glob("*.csv")))
def test_every_corpus_file_checked_a_line_at_a_time(name):
    """Each file of the importer corpus (whose expected reports test_importer checks) gives
    the same report in chunks: a line at a time, or four chunks for the 2,105-line file
    whose decimal comma shows only at its end."""
    data = (CORPUS / name).read_bytes()
    chunk_rows = max(1, data.count(b"\n") // 4) if data.count(b"\n") > 50 else 1
    whole_con, chunked_con = _store(), _store()
    try:
        chunked = _report(chunked_con, data, name, chunk_rows)
        assert chunked == _report(whole_con, data, name, 10**9)
    finally:
        whole_con.close()
        chunked_con.close()


class Stop(Exception):
    """What Streamlit's StopException is to the importer: any exception from `progress`."""


@pytest.mark.parametrize("stop_after", [1, 2, 4])
def test_a_progress_callback_that_raises_stops_the_import_with_nothing_written(stop_after):
    con = _store()
    try:
        before = snapshot(con)
        log_before = con.execute("SELECT count(*) FROM import_log").fetchone()[0]
        calls = []

        def progress(done: int, total: int) -> None:
            calls.append((done, total))
            if len(calls) == stop_after:
                raise Stop

        with pytest.raises(Stop):
            importer.import_file(
                con, "orders", CHUNKED.encode(), "c.csv", progress=progress, chunk_rows=3
            )
        assert calls == [(3, 12), (6, 12), (9, 12), (12, 12)][:stop_after]
        assert snapshot(con) == before
        assert con.execute("SELECT count(*) FROM import_log").fetchone()[0] == log_before
    finally:
        con.close()


def test_progress_is_called_before_the_write():
    """After the last chunk, progress is called once more just before the load: a session
    that ended while the file was being checked stops there."""
    con = _store()
    try:
        calls = []
        importer.import_file(
            con,
            "orders",
            UNNUMBERED.encode(),
            "u.csv",
            progress=lambda done, total: calls.append((done, total)),
            chunk_rows=4,
        )
    finally:
        con.close()
    assert calls == [(4, 7), (7, 7), (7, 7)]
