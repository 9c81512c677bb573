"""Hostile input (issue 18): the hostile corpus through the importer, the store's read
connection, fx-update against odd rate answers and a slow server, and undoing an import.

The store is the hand-made fixture (conftest.py); each corpus file's expected report was
written by hand in hostile_corpus/make_corpus.py."""

from __future__ import annotations

import contextlib
import datetime as dt
import http.server
import io
import json
import re
import subprocess
import sys
import threading
import time
import zipfile
from pathlib import Path

import duckdb
import pytest

from analytics import db, fx, importer, store
from analytics.importer import reading

D = dt.date

CORPUS = Path(__file__).parent / "hostile_corpus"
CASES = sorted(
    p.name for p in CORPUS.iterdir() if p.suffix in (".csv", ".txt", ".parquet", ".xlsx")
)


def test_the_corpus_has_at_least_forty_kinds():
    assert len(CASES) >= 40


@pytest.mark.parametrize("name", CASES)
def test_hostile_file_gives_its_expected_report(fixture_con, name):
    expected = json.loads((CORPUS / f"{name.rsplit('.', 1)[0]}.expected.json").read_text())
    data = (CORPUS / name).read_bytes()
    report = importer.import_file(fixture_con, expected["kind"], data, name)
    got = report.to_dict()
    assert got["rows_read"] == got["rows_loaded"] + got["rows_rejected"], "nothing is dropped"
    for key in (
        "status",
        "rows_read",
        "rows_loaded",
        "rows_rejected",
        "ignored_columns",
        "created",
    ):
        if key in expected:
            assert got[key] == expected[key], (key, got["message"], got["rejected"][:5])
    for key, value in expected.get("detected", {}).items():
        assert got["detected"][key] == value, key
    if "encoding_note_contains" in expected:
        assert expected["encoding_note_contains"] in got["detected"]["encoding_note"]
    if "message_contains" in expected:
        assert expected["message_contains"] in got["message"], got["message"]
    for part in expected.get("also_contains", ()):
        assert part in got["message"], got["message"]
    if "rejected" in expected:
        shown = [(r["line"], r["column"], r["reason"]) for r in got["rejected"]]
        assert len(shown) == len(expected["rejected"]), shown
        for (line, column, reason), want in zip(shown, expected["rejected"], strict=True):
            assert (line, column) == (want["line"], want["column"]), shown
            assert want["reason_contains"] in reason, (reason, want)
    if "query" in expected:
        sql, rows = expected["query"]
        stored = [list(r) for r in fixture_con.execute(sql).fetchall()]
        assert json.loads(json.dumps(stored, default=str)) == rows


# --- fx-update: odd answers, a total deadline, no writer held across the network ----------


def _count(con, table="fx_rates"):
    return con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


@pytest.mark.parametrize(
    ("answer", "says"),
    [
        ({}, "holds nothing where a table of rates was expected"),
        ({"rates": {}}, "holds no rate for any stored currency"),
        ([1.08, 0.85], "holds a list where a table of rates was expected"),
        ({"rates": [1.08]}, "holds a list where a table of rates was expected"),
        ({"rates": {"USD": 0, "GBP": 0.85}}, "USD is 0.0; a rate must be a number above 0"),
        ({"rates": {"USD": "NaN", "GBP": 0.85}}, "USD is 'NaN', not a number"),
        ({"rates": {"USD": float("nan"), "GBP": 0.85}}, "USD is nan; a rate must be"),
        ({"rates": {"USD": True, "GBP": 0.85}}, "USD is True, not a number"),
        ({"rates": {"USD": 1e-300, "GBP": 0.85}}, "USD is 1e-300; a rate is 0.0001 to 10,000,000"),
        (
            {"rates": {"USD": 5.0, "GBP": 0.85}},
            "USD is 5, more than 2x away from the previous rate (1.09 on 01 Feb 2024)",
        ),
    ],
)
def test_fx_update_reports_an_odd_answer_and_stores_nothing(fixture_con, answer, says):
    before = _count(fixture_con), _count(fixture_con, "fx_daily")
    same = lambda: contextlib.nullcontext(fixture_con)  # noqa: E731
    result = fx.update_rates(same, same, until=D(2024, 2, 2), fetch=lambda day, left: answer)
    assert not result.ok
    assert says in result.message, result.message
    assert "02 Feb 2024" in result.message and "Nothing was stored" in result.message
    assert (_count(fixture_con), _count(fixture_con, "fx_daily")) == before


class _Answers:
    """A rates client answering each call with the next of `answers`' rates tables."""

    def __init__(self, answers):
        self.answers = list(answers)

    def get_rates(self, base, date_obj=None):
        answer = self.answers.pop(0)
        return answer.get("rates") if isinstance(answer, dict) and "rates" in answer else answer


def test_an_odd_second_day_stores_the_first_day_neither(fixture_con):
    before = _count(fixture_con)
    client = _Answers([{"rates": {"USD": 1.08, "GBP": 0.85}}, {"rates": {"USD": "1.1"}}])
    result = fx.fetch_newer_rates(fixture_con, until=D(2024, 2, 5), rates_client=client)
    assert not result.ok and "05 Feb 2024" in result.message and "USD is '1.1'" in result.message
    assert _count(fixture_con) == before


def test_fx_update_fetches_with_no_connection_open(fixture_con):
    """The store is read, closed, the network called, then opened for the write."""
    events = []

    @contextlib.contextmanager
    def opened(name):
        events.append(f"open {name}")
        yield fixture_con
        events.append(f"close {name}")

    def fetch(day, left):
        events.append(f"fetch {day:%d}")
        return {"rates": {"USD": 1.1, "GBP": 0.86}}

    result = fx.update_rates(
        lambda: opened("read"), lambda: opened("write"), until=D(2024, 2, 5), fetch=fetch
    )
    assert result.ok and result.rows_added == 4
    assert events == [
        "open read",
        "close read",
        "fetch 02",
        "fetch 05",
        "open write",
        "close write",
    ]


def test_the_deadline_counts_every_call_and_keeps_the_days_fetched(fixture_con):
    asked = []

    def fetch(day, left):
        asked.append(day)
        if day > D(2024, 2, 2):
            time.sleep(left + 0.05)  # a slow answer uses up what is left of the deadline
        return {"rates": {"USD": 1.1, "GBP": 0.86}}

    started = time.monotonic()
    result = fx.update_rates(
        lambda: contextlib.nullcontext(fixture_con),
        lambda: contextlib.nullcontext(fixture_con),
        until=D(2024, 2, 9),
        deadline_s=0.3,
        fetch=fetch,
    )
    assert time.monotonic() - started < 1.5
    # 2 and 5 Feb answered; 5 Feb's answer took the rest of the deadline, so 6-9 Feb are
    # not asked for, and the message says where to go on from.
    assert asked == [D(2024, 2, 2), D(2024, 2, 5)]
    assert result.ok and result.rows_added == 4
    assert "from 06 Feb 2024 within 0.3 s" in result.message
    assert fx.rate_status(fixture_con).last_date == D(2024, 2, 5)


class _Trickle(http.server.BaseHTTPRequestHandler):
    """Answers 200 with a long body sent one byte at a time, 0.1 s apart, for 10 s at most."""

    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", "100")
        self.end_headers()
        try:
            for _ in range(100):
                self.wfile.write(b" ")
                self.wfile.flush()
                time.sleep(0.1)
        except OSError:
            pass  # the client gave up, as it should

    def log_message(self, *args):
        pass


@pytest.fixture
def trickling_server():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Trickle)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


def test_a_server_trickling_bytes_is_cut_off_at_the_total_deadline(fixture_con, trickling_server):
    before = _count(fixture_con)
    started = time.monotonic()
    result = fx.fetch_newer_rates(
        fixture_con, until=D(2024, 2, 9), deadline_s=1.0, base_url=trickling_server
    )
    took = time.monotonic() - started
    # Each byte arrives well within a per-read timeout; only the total deadline stops it.
    assert took < 1.6, took
    assert not result.ok and "did not answer within 1 s" in result.message
    assert _count(fixture_con) == before


class _Fixed(http.server.BaseHTTPRequestHandler):
    body = b""

    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args):
        pass


@pytest.mark.parametrize(
    ("body", "says"),
    [
        (b'{"rates": {"USD": NaN, "GBP": 0.85}}', "Could not fetch newer rates (ValueError)"),
        (b'{"rates": {}}', "holds no rate for any stored currency"),
        (b"[]", "holds a list where a table of rates was expected"),
        (b"<html>maintenance</html>", "Could not fetch newer rates (JSONDecodeError)"),
    ],
)
def test_odd_answers_from_a_local_server(fixture_con, body, says):
    handler = type("Handler", (_Fixed,), {"body": body})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        before = _count(fixture_con)
        result = fx.fetch_newer_rates(
            fixture_con,
            until=D(2024, 2, 2),
            deadline_s=5,
            base_url=f"http://127.0.0.1:{server.server_address[1]}/",
        )
        assert not result.ok and says in result.message, result.message
        assert "up to date" not in result.message
        assert _count(fixture_con) == before
    finally:
        server.shutdown()
        server.server_close()


# --- the store is data, not code ------------------------------------------------------------


@pytest.fixture
def store_file(tmp_path):
    path = tmp_path / "store.duckdb"
    con = db.connect(path)
    store.create_schema(con)
    con.execute("INSERT INTO countries VALUES ('DE', 'DEU', 'Germany', 'W', 'DACH', 'EUR')")
    con.close()
    return path


def test_threads_opening_one_new_store_at_once_all_get_a_locked_read_connection(tmp_path):
    """The warm-up and a session open a new snapshot in the same instant: both find the
    configuration unlocked unless the settings step is serialised, and the second then
    fails to lock it (seen as "Something went wrong" on the Data page after a load)."""
    failures, opened = [], []
    for n in range(12):
        path = tmp_path / f"s{n}.duckdb"
        con = duckdb.connect(str(path))
        con.execute("CREATE TABLE t (x INTEGER)")
        con.close()
        barrier = threading.Barrier(6)

        def open_it(path=path, barrier=barrier):
            barrier.wait()
            try:
                opened.append(db.connect(path, read_only=True))
            except duckdb.Error as error:
                failures.append(str(error))

        threads = [threading.Thread(target=open_it) for _ in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    try:
        assert failures == []
        assert len(opened) == 72
        for con in opened:
            assert con.execute("SELECT current_setting('enable_external_access')").fetchone() == (
                False,
            )
    finally:
        for con in opened:
            con.close()


def test_the_read_connection_reads_no_file_and_cannot_be_switched_back(store_file, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("s3cret")
    con = db.connect(store_file, read_only=True)
    try:
        assert con.execute("SELECT name FROM countries").fetchall() == [("Germany",)]
        for sql in (
            f"SELECT content FROM read_text('{secret}')",
            f"SELECT * FROM read_csv('{secret}')",
            f"ATTACH '{tmp_path / 'other.duckdb'}' AS other",
        ):
            with pytest.raises(duckdb.Error, match=r"disabled by configuration|Permission"):
                con.execute(sql)
        with pytest.raises(duckdb.Error, match="configuration has been locked"):
            con.execute("SET enable_external_access = true")
        cur = con.cursor()  # the app's pages read through cursors of the shared connection
        with pytest.raises(duckdb.Error, match=r"disabled by configuration|Permission"):
            cur.execute(f"SELECT content FROM read_text('{secret}')")
    finally:
        con.close()


@pytest.mark.parametrize(
    "code",
    [
        "CREATE VIEW import_log_v AS SELECT content AS file_name FROM read_text('{secret}')",
        "CREATE MACRO leak() AS (SELECT content FROM read_text('{secret}'))",
        "CREATE MACRO rows_of(p) AS TABLE SELECT * FROM read_csv(p)",
    ],
)
def test_a_store_holding_views_or_macros_is_refused(store_file, tmp_path, code):
    secret = tmp_path / "secret.txt"
    secret.write_text("s3cret")
    con = duckdb.connect(str(store_file))
    if "import_log_v" in code:  # the attack: import_log itself replaced by a view
        con.execute("DROP TABLE import_log")
        code = code.replace("import_log_v", "import_log")
    con.execute(code.format(secret=secret))
    con.close()
    with pytest.raises(db.StoreRefused, match="tables only") as refused:
        db.connect(store_file, read_only=True)
    assert "s3cret" not in str(refused.value)


def test_a_new_store_and_its_log_are_private(tmp_path):
    path = tmp_path / "new.duckdb"
    con = db.connect(path)
    try:
        con.execute("CREATE TABLE t AS SELECT 1 AS a")
        con.execute("INSERT INTO t VALUES (2)")
        assert path.stat().st_mode & 0o777 == 0o600
        wal = path.with_name(path.name + ".wal")
        assert wal.exists() and wal.stat().st_mode & 0o777 == 0o600
    finally:
        con.close()


def test_the_store_path_is_absolute_or_under_data(monkeypatch, tmp_path):
    monkeypatch.setenv(db.DB_ENV_VAR, "sales.duckdb")
    with pytest.raises(db.StoreRefused, match="relative path"):
        db.database_path()
    monkeypatch.setenv(db.DB_ENV_VAR, "data/other.duckdb")
    assert db.database_path() == db.DEFAULT_DB_PATH.parent / "other.duckdb"
    monkeypatch.setenv(db.DB_ENV_VAR, str(tmp_path / "x.duckdb"))
    assert db.database_path() == tmp_path / "x.duckdb"
    monkeypatch.delenv(db.DB_ENV_VAR)
    assert db.database_path() == db.DEFAULT_DB_PATH


# --- undoing an import ----------------------------------------------------------------------

TABLES = ("order_lines", "sales_daily", "orders_daily", "fx_rates", "fx_daily", "customers")


def snapshot(con) -> dict:
    return {
        t: sorted(map(tuple, con.execute(f"SELECT * FROM {t}").fetchall()), key=repr)
        for t in TABLES
    }


def _orders(*lines: str) -> bytes:
    return ("\n".join([HEADER, *lines]) + "\n").encode()


HEADER = (
    "order_id,order_date,customer_id,country,currency,product_id,quantity,unit_price,"
    "customer_name,channel,unit_cost_eur"
)
U1 = "U1,2024-01-08,C1,US,USD,P1,2,60,,direct,20"  # 120 USD at 1.20 = EUR 100
U2 = "U2,2024-01-09,C1,US,USD,P1,1,50,,direct,20"  # 50 USD at 1.00 = EUR 50
U3 = "U3,2024-01-09,CNEW,DE,EUR,P2,3,10,New GmbH,web,4"  # EUR 30, creates customer CNEW


def _eur(con) -> float:
    return con.execute("SELECT sum(net_amount_eur) FROM sales_daily").fetchone()[0]


def test_undo_removes_what_the_import_added_and_rebuilds_the_rollups(fixture_con):
    original = snapshot(fixture_con)
    base = _eur(fixture_con)
    a = importer.import_file(fixture_con, "orders", _orders(U1, U2), "a.csv")
    b = importer.import_file(fixture_con, "orders", _orders(U2, U3), "b.csv")
    assert (a.status, b.status, b.unchanged) == ("loaded", "loaded", 1)
    assert _eur(fixture_con) == pytest.approx(base + 100 + 50 + 30)

    result = importer.undo_import(fixture_con, a.import_id)
    # U1 goes; U2 stays, because b.csv holds it too; U3 was never a's.
    assert (result.removed, result.kept) == (1, 1)
    assert "1 order lines stay: a later import holds them too" in result.message
    lines = fixture_con.execute("SELECT order_id FROM order_lines WHERE order_id LIKE 'U%'")
    assert sorted(r[0] for r in lines.fetchall()) == ["U2", "U3"]
    assert _eur(fixture_con) == pytest.approx(base + 50 + 30)
    status = dict(fixture_con.execute("SELECT import_id, status FROM import_log").fetchall())
    assert status[a.import_id] == "undone" and status[b.import_id] == "loaded"

    # b.csv now counts as having added U2: undoing it leaves the store as it was, except
    # for the customer its order line created (kept: other data may point at it).
    importer.undo_import(fixture_con, b.import_id)
    after = snapshot(fixture_con)
    assert after["customers"] == sorted(
        [*original["customers"], ("CNEW", "New GmbH", "DE", "web", None)], key=repr
    )
    assert {t: v for t, v in after.items() if t != "customers"} == {
        t: v for t, v in original.items() if t != "customers"
    }

    with pytest.raises(importer.UndoRefused, match="already undone"):
        importer.undo_import(fixture_con, a.import_id)


def test_a_wrong_line_is_corrected_by_undo_and_a_corrected_import(fixture_con):
    wrong = importer.import_file(fixture_con, "orders", _orders(U1), "wrong.csv")
    fixed = _orders(U1.replace(",60,", ",66,"))
    conflict = importer.import_file(fixture_con, "orders", fixed, "fixed.csv")
    assert conflict.status == "rejected" and "already stored" in conflict.rejected[0]["reason"]
    importer.undo_import(fixture_con, wrong.import_id)
    assert importer.import_file(fixture_con, "orders", fixed, "fixed.csv").status == "loaded"
    price = "SELECT unit_price_local FROM order_lines WHERE order_id = 'U1'"
    assert fixture_con.execute(price).fetchall() == [(66.0,)]


def test_undoing_a_rates_import_rebuilds_the_daily_rates(fixture_con):
    original = snapshot(fixture_con)
    data = b"rate_date,currency,units_per_eur\n2024-02-02,USD,1.1\n2024-02-05,USD,1.11\n"
    report = importer.import_file(fixture_con, "rates", data, "rates.csv")
    assert report.status == "loaded" and snapshot(fixture_con) != original
    assert importer.undo_import(fixture_con, report.import_id).removed == 2
    assert snapshot(fixture_con) == original


def test_imports_that_cannot_be_undone_say_why(fixture_con):
    with pytest.raises(importer.UndoRefused, match="No import has the id"):
        importer.undo_import(fixture_con, "nope")
    master = importer.import_file(
        fixture_con, "products", b"product_id,name,product_line\nP9,Gauge,Sensors\n", "p.csv"
    )
    with pytest.raises(importer.UndoRefused, match="master data is updated in place"):
        importer.undo_import(fixture_con, master.import_id)
    bad = importer.import_file(fixture_con, "orders", _orders(U1.replace(",60,", ",x,")), "x")
    with pytest.raises(importer.UndoRefused, match="loaded nothing"):
        importer.undo_import(fixture_con, bad.import_id)


def test_import_undo_from_the_command_line(fixture_con, tmp_path, capsys):
    from analytics.__main__ import main

    path = tmp_path / "store.duckdb"
    fixture_con.execute(f"ATTACH '{path}' AS copy")
    fixture_con.execute("COPY FROM DATABASE memory TO copy")
    fixture_con.execute("DETACH copy")
    source = tmp_path / "orders.csv"
    source.write_bytes(_orders(U1, U2))
    assert main(["import", "orders", str(source), "--db", str(path)]) == 0
    import_id = json.loads(capsys.readouterr().out)["import_id"]
    assert main(["import-undo", import_id, "--db", str(path)]) == 0
    assert "removed 2 order lines" in capsys.readouterr().out
    assert main(["import-undo", import_id, "--db", str(path)]) == 2
    assert "already undone" in capsys.readouterr().err
    con = db.connect(path, read_only=True)
    try:
        assert (
            con.execute("SELECT count(*) FROM order_lines WHERE order_id LIKE 'U%'").fetchone()[0]
            == 0
        )
    finally:
        con.close()


# --- XLSX: bounded work ---------------------------------------------------------------------


def _xlsx(rows: int, dimension: bool = True) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(HEADER.split(","))
    for i in range(rows):
        sheet.append([f"X{i}", "2024-01-08", "C1", "US", "USD", "P1", 1, 60, "", "direct", 20])
    out = io.BytesIO()
    book.save(out)
    if dimension:
        return out.getvalue()
    # A sheet that does not state its size: openpyxl must count while reading.
    source, target = zipfile.ZipFile(io.BytesIO(out.getvalue())), io.BytesIO()
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for item in source.infolist():
            content = source.read(item)
            if item.filename.startswith("xl/worksheets/"):
                content = re.sub(rb"<dimension[^>]*/>", b"", content)
            archive.writestr(item, content)
    return target.getvalue()


@pytest.mark.parametrize("dimension", [True, False])
def test_an_xlsx_with_more_rows_than_allowed_is_rejected(fixture_con, monkeypatch, dimension):
    monkeypatch.setattr(reading, "MAX_XLSX_ROWS", 5)
    ok = importer.import_file(fixture_con, "orders", _xlsx(4, dimension), "ok.xlsx")
    assert ok.status == "loaded" and ok.rows_loaded == 4
    big = importer.import_file(fixture_con, "orders", _xlsx(5, dimension), "big.xlsx")
    assert big.status == "rejected"
    assert "an XLSX is read up to 5 rows" in big.message
    # The header and 5 rows of 11 cells, counted in the sheet's XML whether or not it
    # states its size.
    assert "(sheet1.xml) has 6 rows and 66 cells" in big.message


def test_an_xlsx_over_its_limits_is_refused_before_openpyxl_reads_it(fixture_con, monkeypatch):
    """A sheet that states no size made openpyxl parse every row just to open the workbook
    (a 0.4 MB file of 3 million one-cell rows: 385 s before its report); the rows and cells
    are counted in the XML first, and openpyxl never starts."""
    import openpyxl

    def never(*args, **kwargs):
        raise AssertionError("openpyxl opened a workbook over the limits")

    data = _xlsx(40, dimension=False)
    monkeypatch.setattr(openpyxl, "load_workbook", never)
    monkeypatch.setattr(reading, "MAX_XLSX_CELLS", 100)  # 41 rows x 11 cells = 451
    report = importer.import_file(fixture_con, "orders", data, "cells.xlsx")
    assert report.status == "rejected"
    assert "has 41 rows and 451 cells" in report.message and "100 cells" in report.message


def test_an_xlsx_that_unpacks_too_large_is_rejected(fixture_con, monkeypatch):
    data = _xlsx(3)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        unpacked = sum(i.file_size for i in archive.infolist())
    monkeypatch.setattr(reading, "MAX_XLSX_UNPACKED_BYTES", unpacked - 1)
    report = importer.import_file(fixture_con, "orders", data, "big.xlsx")
    assert report.status == "rejected" and "unpacks to" in report.message
    monkeypatch.setattr(reading, "MAX_XLSX_UNPACKED_BYTES", unpacked)
    assert importer.import_file(fixture_con, "orders", data, "ok.xlsx").status == "loaded"


def test_a_second_read_connection_to_the_same_store_shares_the_locked_settings(store_file):
    first = db.connect(store_file, read_only=True)
    try:
        second = db.connect(store_file, read_only=True)  # the same database in this process
        setting = "SELECT current_setting('enable_external_access')"
        assert second.execute(setting).fetchone() == (False,)
        second.close()
    finally:
        first.close()


def _sheet_of_cells(cells: int, per_row: int = 18) -> bytes:
    """A workbook whose one sheet holds `cells` cells (rows of `per_row` and the rest),
    written straight as XML (openpyxl would take minutes to write millions)."""
    rows, rest = divmod(cells, per_row)
    row = b"<row>" + b"<c><v>1</v></c>" * per_row + b"</row>"
    sheet = (
        b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        b"<sheetData>"
        + row * rows
        + ((b"<row>" + b"<c><v>1</v></c>" * rest + b"</row>") if rest else b"")
        + b"</sheetData></worksheet>"
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", sheet)
    return out.getvalue()


def test_an_xlsx_is_read_up_to_four_million_cells(fixture_con, monkeypatch):
    """The cell limit is what openpyxl reads here in about a minute (issue 18: 18.9 million
    cells at Excel's row limit took ~5 minutes of CPU): a sheet of exactly 4,000,000 cells
    goes on to openpyxl, one more cell is refused from the count alone, with the limits."""
    import openpyxl

    def opened(*args, **kwargs):
        raise ValueError("openpyxl was asked to open it")

    monkeypatch.setattr(openpyxl, "load_workbook", opened)
    assert importer.MAX_XLSX_CELLS == 4_000_000
    at_limit = importer.import_file(fixture_con, "orders", _sheet_of_cells(4_000_000), "a.xlsx")
    assert "openpyxl was asked to open it" in at_limit.message  # past the count
    over = importer.import_file(fixture_con, "orders", _sheet_of_cells(4_000_001), "b.xlsx")
    assert over.status == "rejected"
    assert "has 222,223 rows and 4,000,001 cells" in over.message
    assert "up to 1,048,576 rows and 4,000,000 cells" in over.message


def test_no_connection_draws_duckdb_progress_bar(store_file):
    """A long load in the CLI would otherwise draw DuckDB's own progress bar over the CLI's
    progress lines. DuckDB's default is on in a plain process but off under pytest's capture,
    so the connections are opened in a child process, as the CLI opens them."""
    script = (
        "import sys\n"
        "from analytics import db\n"
        "setting = \"SELECT current_setting('enable_progress_bar')\"\n"
        "writer = db.connect(sys.argv[1])\n"
        "print(writer.execute(setting).fetchone()[0])\n"
        "writer.close()\n"
        "reader = db.connect(sys.argv[1], read_only=True)\n"
        "print(reader.execute(setting).fetchone()[0], reader.cursor().execute(setting).fetchone()[0])\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(store_file)],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert done.stdout.split() == ["False", "False", "False"]
