"""Importing files: the corpus of malformed exports, every format, atomicity, idempotency,
master data and the CLI. The store is the hand-made fixture (conftest.py): US, GB, DE, CH;
rates around January 2024; customers C1–C4, products P1–P2."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from analytics import importer, rollups
from analytics.crm import stages

CORPUS = Path(__file__).parent / "import_corpus"
CASES = sorted(p.name for p in CORPUS.glob("*.csv"))
ROOT = Path(__file__).resolve().parents[2]


def snapshot(con) -> dict:
    """Every company table's rows, to compare a store before and after."""
    tables = [
        "order_lines",
        "customers",
        "products",
        "reps",
        "sales_daily",
        "orders_daily",
        "fx_rates",
        "fx_daily",
        "quotas",
        "budgets",
        "price_list",
        "market_data",
    ]
    return {
        t: sorted(map(tuple, con.execute(f"SELECT * FROM {t}").fetchall()), key=repr)
        for t in tables
    }


@pytest.mark.parametrize("name", CASES)
def test_corpus_file_gives_its_expected_report(fixture_con, name):
    expected = json.loads((CORPUS / name.replace(".csv", ".expected.json")).read_text())
    report = importer.import_file(fixture_con, "orders", (CORPUS / name).read_bytes(), name)
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
            assert got[key] == expected[key], key
    for key, value in expected.get("detected", {}).items():
        assert got["detected"][key] == value, key
    if "message_contains" in expected:
        assert expected["message_contains"] in got["message"]
    if "rejected" in expected:
        shown = [
            {k: r[k] for k in expect}
            for r, expect in zip(got["rejected"], expected["rejected"], strict=True)
        ]
        assert shown == expected["rejected"]
    stored = fixture_con.execute(
        "SELECT count(*) FROM import_log WHERE file_name = ? AND status = ?", [name, got["status"]]
    ).fetchone()[0]
    assert stored == 1, "every import is recorded"


def test_loaded_amounts_by_hand(fixture_con):
    # Its "Unit Cost" names no currency: without one the file is asked about (the corpus
    # case), with one stated it loads.
    data = (CORPUS / "crm_export.csv").read_bytes()
    importer.import_file(fixture_con, "orders", data, "crm", importer.Options(cost_currency="EUR"))
    row = fixture_con.execute(
        "SELECT quantity, unit_price_local, discount_pct, net_amount_local, net_amount_eur, "
        "country_code, channel, customer_id, unit_cost_eur FROM order_lines "
        "WHERE order_id = 'SF-1'"
    ).fetchone()
    # 3 x 100 GBP less 20 % = 240 GBP on 9 Jan 2024 at 0.80 GBP per EUR.
    assert row == (
        3,
        100.0,
        0.2,
        pytest.approx(240.0),
        pytest.approx(300.0),
        "GB",
        "direct",
        "C2",
        30.0,
    )
    sales = fixture_con.execute(
        "SELECT sum(net_amount_eur) FROM sales_daily WHERE order_date = '2024-01-09'"
    ).fetchone()[0]
    assert sales == pytest.approx(100 + 300 + 300)  # O4, O5 and the new line: rollups refreshed


def test_decimal_comma_and_separators(fixture_con):
    importer.import_file(
        fixture_con, "orders", (CORPUS / "semicolon_decimal_comma.csv").read_bytes(), "s.csv"
    )
    prices = dict(
        fixture_con.execute(
            "SELECT order_id, unit_price_local FROM order_lines WHERE order_id LIKE 'S%'"
        ).fetchall()
    )
    assert prices == {"S1": 1234.5, "S2": 99.95}
    late = fixture_con.execute(
        "SELECT unit_price_local FROM order_lines WHERE order_id = 'L2104'"
    ).fetchall()
    assert late == [] or late[0][0] == pytest.approx(24.45)


def test_cp1252_text_is_stored_as_written(fixture_con):
    importer.import_file(fixture_con, "orders", (CORPUS / "cp1252_euro.csv").read_bytes(), "e")
    name = fixture_con.execute("SELECT name FROM customers WHERE customer_id = 'CNEW'").fetchone()
    assert name == ("Café €uro GmbH",)


def test_an_ambiguous_file_loads_once_the_format_is_given(fixture_con):
    data = (CORPUS / "ambiguous_dates.csv").read_bytes()
    report = importer.import_file(
        fixture_con, "orders", data, "a.csv", importer.Options(date_format="DD/MM/YYYY")
    )
    assert report.status == "loaded" and report.rows_loaded == 2
    dates = fixture_con.execute(
        "SELECT order_date::VARCHAR FROM order_lines WHERE order_id IN ('A1', 'A2') ORDER BY 1"
    ).fetchall()
    assert dates == [("2024-01-04",), ("2024-01-05",)]


def test_importing_the_same_file_twice_changes_nothing(fixture_con):
    data = (CORPUS / "bad_rows.csv").read_bytes()
    first = importer.import_file(fixture_con, "orders", data, "bad_rows.csv")
    before = snapshot(fixture_con)
    second = importer.import_file(fixture_con, "orders", data, "bad_rows.csv")
    assert snapshot(fixture_con) == before
    assert (first.status, second.status) == ("loaded", "unchanged")
    assert second.rows_loaded == first.rows_loaded == second.unchanged == 1
    assert second.rows_rejected == 7


def test_a_stored_line_with_other_values_is_rejected_not_overwritten(fixture_con):
    header = (
        "order_id,line_no,order_date,customer_id,country,currency,product_id,quantity,unit_price"
    )
    changed = f"{header}\nO1,1,2024-01-04,C1,US,USD,P1,11,50\n".encode()
    report = importer.import_file(fixture_con, "orders", changed, "fix.csv")
    assert report.rows_rejected == 1
    assert "already stored with different values" in report.rejected[0]["reason"]
    assert fixture_con.execute(
        "SELECT quantity FROM order_lines WHERE order_id = 'O1'"
    ).fetchone() == (10,)


def test_a_failure_mid_load_leaves_the_store_exactly_as_before(fixture_con, monkeypatch):
    before = snapshot(fixture_con)

    def broken(con):
        con.execute("DELETE FROM sales_daily")  # half done …
        raise RuntimeError("disk full")  # … then it fails

    monkeypatch.setattr(rollups, "refresh", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        importer.import_file(fixture_con, "orders", (CORPUS / "returns.csv").read_bytes(), "r")
    assert snapshot(fixture_con) == before


def test_xlsx_with_a_chosen_sheet(fixture_con):
    from openpyxl import Workbook

    book = Workbook()
    book.active.title = "Notes"
    book.active.append(["nothing to see"])
    sheet = book.create_sheet("Orders")
    sheet.append(
        [
            "Order ID",
            "Order Date",
            "Customer ID",
            "Country",
            "Currency",
            "Product ID",
            "Quantity",
            "Unit Price",
            "Channel",
            "Unit cost EUR",
        ]
    )
    import datetime as dt

    sheet.append(["XL-1", dt.datetime(2024, 1, 8), "C1", "US", "USD", "P1", 2, 60.0, "direct", 20])
    sheet.append(["XL-2", dt.datetime(2024, 1, 8), "C1", "US", "USD", "P1", 1, -60.0, "direct", 20])
    out = io.BytesIO()
    book.save(out)
    data = out.getvalue()
    wrong = importer.import_file(fixture_con, "orders", data, "o.xlsx")
    assert wrong.status == "rejected" and "Missing required column" in wrong.message
    report = importer.import_file(
        fixture_con, "orders", data, "o.xlsx", importer.Options(sheet="Orders")
    )
    assert (report.rows_loaded, report.rows_rejected) == (1, 1)
    assert report.detected["format"] == "xlsx" and report.detected["sheet"] == "Orders"
    assert report.rejected[0]["line"] == 3 and report.rejected[0]["reason"] == "negative price"
    missing = importer.import_file(
        fixture_con, "orders", data, "o.xlsx", importer.Options(sheet="Sales")
    )
    assert "no sheet “Sales”; it has Notes, Orders" in missing.message


def test_parquet(fixture_con, tmp_path):
    frame = pd.DataFrame(
        {
            "order_id": ["PQ-1"],
            "order_date": [pd.Timestamp("2024-01-09")],
            "customer_id": ["C2"],
            "country": ["GB"],
            "currency": ["GBP"],
            "product_id": ["P1"],
            "quantity": [1],
            "unit_price": [80.0],
            "channel": ["direct"],
            "unit_cost_eur": [30.0],
        }
    )
    path = tmp_path / "o.parquet"
    frame.to_parquet(path)
    report = importer.import_file(fixture_con, "orders", path.read_bytes(), "o.parquet")
    assert report.status == "loaded" and report.detected["format"] == "parquet"
    assert fixture_con.execute(
        "SELECT net_amount_eur FROM order_lines WHERE order_id = 'PQ-1'"
    ).fetchone()[0] == pytest.approx(80 / 0.80)


def test_ecb_daily_history_layout(fixture_con):
    data = b"Date,USD,JPY,GBP,\n2024-02-02,1.0800,159.5,N/A,\n2024-02-05,1.0750,N/A,0.8500,\n"
    report = importer.import_file(fixture_con, "rates", data, "eurofxref-hist.csv")
    assert report.status == "loaded" and report.rows_read == 4 and report.rows_loaded == 4
    assert "ECB daily history layout" in report.detected["format"]
    daily = fixture_con.execute(
        "SELECT units_per_eur FROM fx_daily WHERE currency_code = 'USD' AND rate_date = '2024-02-04'"
    ).fetchone()
    assert daily == (1.08,)  # the daily table was rebuilt: Sunday takes Friday's rate


def test_master_data_updates_and_references(fixture_con):
    customers = b"customer_id,name,country,segment\nC1,Acme Incorporated,US,key account\nC9,Nine,Germany,web\n"
    report = importer.import_file(fixture_con, "customers", customers, "c.csv")
    assert (report.rows_loaded, report.updated) == (2, 1)
    assert fixture_con.execute(
        "SELECT name FROM customers WHERE customer_id = 'C1'"
    ).fetchone() == ("Acme Incorporated",)
    quotas = (
        b"rep_id,quarter_start,quota_eur\nR1,2024-01-01,1000\nRX,2024-01-01,5\nR1,2024-02-01,7\n"
    )
    fixture_con.execute("INSERT INTO reps VALUES ('R1', 'Rita', 'A', 'Americas', NULL)")
    report = importer.import_file(fixture_con, "quotas", quotas, "q.csv")
    reasons = {r["line"]: r["reason"] for r in report.rejected}
    assert reasons == {4: "must be the first day of a quarter (1 Jan, 1 Apr, 1 Jul or 1 Oct)"}
    # A quota for a rep the store lacks creates the rep, as order imports do.
    assert report.rows_loaded == 2 and report.created == {"reps": 1}
    assert fixture_con.execute("SELECT name, team FROM reps WHERE rep_id = 'RX'").fetchone() == (
        "RX",
        "Imported",
    )


def test_templates_import_cleanly(fixture_con):
    for kind in ("customers", "products", "reps", "market_data", "budgets"):
        report = importer.import_file(fixture_con, kind, importer.template_csv(kind), f"{kind}.csv")
        assert report.status == "loaded", (kind, report.rejected, report.message)


def test_cli_prints_a_json_report_and_exit_codes(tmp_path):
    db_path = tmp_path / "empty.duckdb"
    run = [sys.executable, "-m", "analytics"]
    init = subprocess.run(
        [*run, "init", "--empty", "--db", str(db_path)], cwd=ROOT, capture_output=True, text=True
    )
    assert init.returncode == 0, init.stderr
    with duckdb.connect(str(db_path), read_only=True) as con:
        counts = con.execute(
            "SELECT (SELECT count(*) FROM countries), (SELECT count(*) FROM fx_rates) > 1000, "
            "(SELECT count(*) FROM order_lines), (SELECT count(*) FROM customers)"
        ).fetchone()
    assert counts == (64, True, 0, 0)
    good = tmp_path / "orders.csv"
    good.write_bytes(
        b"order_id,order_date,customer_id,country,currency,product_id,quantity,unit_price,"
        b"customer_name,product_name,channel,unit_cost_eur\n"
        b"N1,2024-03-04,NEW,FR,EUR,PN,2,10,Nouveau SA,Gadget,direct,4\n"
    )
    loaded = subprocess.run(
        [*run, "import", "orders", str(good), "--db", str(db_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert loaded.returncode == 0, loaded.stderr
    report = json.loads(loaded.stdout)
    assert (report["rows_read"], report["rows_loaded"], report["rows_rejected"]) == (1, 1, 0)
    assert report["created"] == {"customers": 1, "products": 1}
    bad = tmp_path / "bad.csv"
    bad.write_bytes((CORPUS / "missing_columns.csv").read_bytes())
    rejected = subprocess.run(
        [*run, "import", "orders", str(bad), "--db", str(db_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert rejected.returncode == 2
    assert json.loads(rejected.stdout)["status"] == "rejected"
    with duckdb.connect(str(db_path)):  # another process holds the store
        locked = subprocess.run(
            [*run, "import", "orders", str(good), "--db", str(db_path)],
            cwd=ROOT,
            capture_output=True,
            text=True,
        )
    assert locked.returncode == 2
    assert "in use by another process" in locked.stderr


def test_line_numbers_survive_quoted_newlines_blank_lines_and_short_rows(fixture_con):
    data = (
        b"order_id,order_date,customer_id,country,currency,product_id,quantity,unit_price,"
        b"customer_name,channel,unit_cost_eur\n"
        b'Q1,2024-01-04,CQ,US,USD,P1,1,50,"Two\nLines Inc",direct,20\n'
        b"\n"
        b"Q2,2024-01-04,C1,US,USD,P1,1\n"
        b"Q3,2024-01-04,C1,XX,USD,P1,1,50,,direct,20\n"
    )
    report = importer.import_file(fixture_con, "orders", data, "q.csv")
    assert report.rows_read == 3 and report.rows_loaded == 1
    lines = {(r["line"], r["column"]) for r in report.rejected}
    assert (5, "(row)") in lines and (6, "country") in lines
    name = fixture_con.execute("SELECT name FROM customers WHERE customer_id = 'CQ'").fetchone()
    assert name == ("Two\nLines Inc",)


def test_order_lines_stay_in_date_order(fixture_con):
    data = (
        b"order_id,order_date,customer_id,country,currency,product_id,quantity,unit_price,"
        b"channel,unit_cost_eur\n"
        b"Z2,2024-01-09,C1,US,USD,P1,1,50,direct,20\n"
        b"Z1,2024-01-04,C1,US,USD,P1,1,50,direct,20\n"
    )
    importer.import_file(fixture_con, "orders", data, "z.csv")
    dates = [r[0] for r in fixture_con.execute("SELECT order_date FROM order_lines").fetchall()]
    assert dates == sorted(dates) and len(dates) == 9


def _snapshots(con) -> list[tuple]:
    return con.execute(
        "SELECT snapshot_date::VARCHAR, opportunity_id, stage, amount_local, close_date::VARCHAR, "
        "forecast_category FROM opportunity_snapshots ORDER BY ALL"
    ).fetchall()


def test_each_opportunities_export_records_a_pipeline_snapshot(fixture_con):
    con = fixture_con
    con.execute("INSERT INTO reps VALUES ('R1', 'Rita', 'A', 'Americas', NULL)")
    header = "opportunity_id,customer_id,rep_id,country,currency,amount,stage,forecast,created,close_date,status,as of\n"
    week_1 = header + (
        "OP1,C1,R1,US,USD,1000,Proposal,commit,2024-01-02,2024-03-15,open,2024-01-05\n"
        "OP2,C2,R1,GB,GBP,500,Qualification,pipeline,2024-01-03,2024-02-20,open,2024-01-05\n"
        "OP3,C3,R1,DE,EUR,300,Negotiation,commit,2023-12-01,2024-01-04,won,2024-01-05\n"
    )
    report = importer.import_file(con, "opportunities", week_1.encode(), "crm_week1.csv")
    assert report.status == "loaded" and report.rows_loaded == 3
    assert report.snapshot == {"dates": ["2024-01-05"], "open_deals": 2, "new_or_changed": 2}
    assert _snapshots(con) == [
        ("2024-01-05", "OP1", "Proposal", 1000.0, "2024-03-15", "commit"),
        ("2024-01-05", "OP2", "Qualification", 500.0, "2024-02-20", "pipeline"),
    ]
    again = importer.import_file(con, "opportunities", week_1.encode(), "crm_week1.csv")
    assert again.status == "unchanged" and len(_snapshots(con)) == 2

    # A week later OP1 grew and OP2 was lost: the snapshot of 12 Jan holds OP1 only, and
    # the pipeline-change waterfall between the two reads it.
    week_2 = header + (
        "OP1,C1,R1,US,USD,1200,Negotiation,commit,2024-01-02,2024-03-15,open,2024-01-12\n"
        "OP2,C2,R1,GB,GBP,500,Qualification,pipeline,2024-01-03,2024-02-20,lost,2024-01-12\n"
    )
    report = importer.import_file(con, "opportunities", week_2.encode(), "crm_week2.csv")
    assert report.status == "loaded" and report.updated == 2
    assert _snapshots(con)[-1] == (
        "2024-01-12",
        "OP1",
        "Negotiation",
        1200.0,
        "2024-03-15",
        "commit",
    )
    assert len(_snapshots(con)) == 3
    from analytics.crm.changes import pipeline_changes
    from analytics.crm.scope import Scope
    from analytics.review import quarter

    steps, _ = pipeline_changes(
        con,
        pd.Timestamp("2024-01-05").date(),
        pd.Timestamp("2024-01-12").date(),
        quarter(pd.Timestamp("2024-01-01").date()),
        Scope(currency="USD"),
    )
    amounts = dict(zip(steps["step"], steps["amount"], strict=True))
    usd_per_gbp = 1.09 / 0.855  # the latest stored rates, 2024-02-01
    assert amounts["start"] == pytest.approx(1000 + 500 * usd_per_gbp)
    assert amounts["amount up"] == pytest.approx(200)
    assert amounts["lost"] == pytest.approx(-500 * usd_per_gbp)
    assert amounts["end"] == pytest.approx(1200)


def test_an_export_without_a_snapshot_date_is_the_pipeline_of_the_import_day(fixture_con):
    import datetime as dt

    fixture_con.execute("INSERT INTO reps VALUES ('R1', 'Rita', 'A', 'Americas', NULL)")
    data = importer.template_csv("opportunities").decode()
    header, row = data.splitlines()[:2]
    drop = header.split(",").index("snapshot_date")
    strip = lambda line: ",".join(v for i, v in enumerate(line.split(",")) if i != drop)  # noqa: E731
    row = row.replace("ACME-DE", "C3").replace("R-7", "R1")
    report = importer.import_file(
        fixture_con, "opportunities", f"{strip(header)}\n{strip(row)}\n".encode(), "crm.csv"
    )
    assert report.status == "loaded", report.rejected
    assert report.snapshot["dates"] == [f"{dt.date.today():%Y-%m-%d}"]


def test_opportunity_stages_keep_the_companys_names(fixture_con):
    fixture_con.execute("INSERT INTO reps VALUES ('R1', 'Rita', 'A', 'Americas', NULL)")
    data = (
        "opportunity_id,customer_id,rep_id,country,currency,amount,stage,forecast,created,close_date,status\n"
        "OP1,C1,R1,US,USD,1000,negotiation,commit,2024-01-02,2024-03-15,open\n"
        "OP2,C1,R1,US,USD,1000,Discovery,pipeline,2024-01-02,2024-03-15,open\n"
        "OP3,C1,R1,US,USD,1000,closed won,commit,2024-01-02,2024-01-09,won\n"
    )
    report = importer.import_file(fixture_con, "opportunities", data.encode(), "crm.csv")
    # No deal stored yet: the file's stages are the funnel, in the order first seen.
    assert report.rejected == []
    assert report.new_stages == ["Negotiation", "Discovery", "Closed Won"]
    stored = fixture_con.execute(
        "SELECT opportunity_id, stage FROM opportunities ORDER BY 1"
    ).fetchall()
    # The funnel's own spelling for a stage it has; a new one kept as the file writes it.
    assert stored == [("OP1", "Negotiation"), ("OP2", "Discovery"), ("OP3", "Closed Won")]
    assert [(s.name, s.status) for s in stages.funnel(fixture_con)] == [
        ("Negotiation", "open"),
        ("Discovery", "open"),
        ("Closed Won", "won"),
    ]
