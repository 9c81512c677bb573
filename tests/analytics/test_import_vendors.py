"""Real-world-shaped exports (tests/analytics/import_corpus_vendors/): one per system, each
with its expected report and amounts worked out by hand (EUR = local / the fixture's ECB rate
of the day); re-importing changes nothing. Then the mapping step, saved mappings, what is
derived instead of refused, and a JSON report without NaN."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from analytics import importer, state
from tests.analytics.test_importer import snapshot

CORPUS = Path(__file__).parent / "import_corpus_vendors"
CASES = sorted(p.name for p in CORPUS.glob("*.expected.json"))
ROOT = Path(__file__).resolve().parents[2]


def _options(expected: dict) -> importer.Options:
    return importer.Options(**expected.get("options", {}))


@pytest.mark.parametrize("case", CASES)
def test_vendor_export_loads_as_expected(fixture_con, case):
    expected = json.loads((CORPUS / case).read_text(encoding="utf-8"))
    data = (CORPUS / expected["file"]).read_bytes()
    report = importer.import_file(
        fixture_con, expected["kind"], data, expected["file"], _options(expected)
    )
    got = report.to_dict()
    json.dumps(got, allow_nan=False)
    assert got["rows_read"] == got["rows_loaded"] + got["rows_rejected"]
    for key in ("status", "rows_read", "rows_loaded", "rows_rejected", "created"):
        assert got[key] == expected[key], (key, got["rejected"], got["message"])
    assert got["detected"]["export"] == expected["export"]
    assert [s["line"] for s in got["skipped"]] == expected.get("skipped_lines", [])
    for want, row in zip(expected.get("rejected", []), got["rejected"], strict=True):
        assert {k: row[k] for k in want} == want
    for key, (local, eur) in expected.get("lines", {}).items():
        order_id, line_no = key.rsplit("/", 1)
        stored = fixture_con.execute(
            "SELECT net_amount_local, net_amount_eur, channel, unit_cost_eur FROM order_lines "
            "WHERE order_id = ? AND line_no = ?",
            [order_id, int(line_no)],
        ).fetchone()
        assert stored is not None, key
        assert stored[:2] == (pytest.approx(local), pytest.approx(eur)), key
        if key in expected.get("channels", {}):
            assert stored[2] == expected["channels"][key]
        if key in expected.get("unknown_cost", []):
            assert stored[3] is None
    for deal, (stage, category, status, amount) in expected.get("deals", {}).items():
        assert fixture_con.execute(
            "SELECT stage, forecast_category, status, amount_local FROM opportunities "
            "WHERE opportunity_id = ?",
            [deal],
        ).fetchone() == (stage, category, status, amount)
    if "activities" in expected:
        counts = dict(
            fixture_con.execute("SELECT type, count(*) FROM activities GROUP BY type").fetchall()
        )
        assert counts == expected["activities"]

    before = snapshot(fixture_con)
    again = importer.import_file(
        fixture_con, expected["kind"], data, expected["file"], _options(expected)
    )
    assert again.status == "unchanged", again.message
    assert again.created == {}
    assert snapshot(fixture_con) == before


def test_net_price_is_after_discount(fixture_con):
    # 2 x net 90 = 180 EUR. Read as the pre-discount price (before), the 10 % was taken
    # twice: 2 x 90 x 0.9 = 162.
    data = (
        b"order_id,order_date,customer_id,country,currency,product_id,quantity,net price,"
        b"discount\nNP-1,2024-01-09,C3,DE,EUR,P1,2,90,10%\n"
    )
    report = importer.import_file(fixture_con, "orders", data, "np.csv")
    assert report.status == "loaded", report.rejected
    assert fixture_con.execute(
        "SELECT unit_price_local, discount_pct, net_amount_local FROM order_lines "
        "WHERE order_id = 'NP-1'"
    ).fetchone() == (pytest.approx(100.0), 0.1, pytest.approx(180.0))


def test_unit_cost_without_currency_is_asked_and_with_one_converted(fixture_con):
    data = (
        b"order_id,order_date,customer_id,country,currency,product_id,quantity,unit_price,"
        b"unit cost\nUC-1,2024-01-09,C2,GB,GBP,P1,1,100,40\n"
    )
    asked = importer.import_file(fixture_con, "orders", data, "uc.csv", commit=False)
    assert asked.status == "rejected" and "does not say its currency" in asked.message
    report = importer.import_file(
        fixture_con, "orders", data, "uc.csv", importer.Options(cost_currency="GBP")
    )
    assert report.status == "loaded"
    # 40 GBP at 0.80 GBP per EUR on 9 Jan 2024 = 50 EUR.
    assert fixture_con.execute(
        "SELECT unit_cost_eur FROM order_lines WHERE order_id = 'UC-1'"
    ).fetchone() == (pytest.approx(50.0),)


def test_unknown_cost_loads_and_rollups_keep_the_known_cost_revenue(fixture_con):
    data = (
        b"order_id,order_date,customer_id,country,currency,product_id,quantity,unit_price\n"
        b"NC-1,2024-02-01,C4,US,USD,P-NEW,1,218\n"
    )
    report = importer.import_file(fixture_con, "orders", data, "nc.csv")
    assert report.status == "loaded" and report.created == {"products": 1}
    day = fixture_con.execute(
        "SELECT sum(net_amount_eur), sum(known_cost_net_eur), sum(cost_eur) FROM sales_daily "
        "WHERE order_date = '2024-02-01'"
    ).fetchone()
    # O6 (109 USD, cost 10 EUR) and NC-1 (218 USD, cost unknown) at 1.09 USD per EUR.
    assert day == (pytest.approx(300.0), pytest.approx(100.0), pytest.approx(10.0))


def test_mapping_overrides_detection_and_suggestions_use_content(fixture_con):
    data = (
        "Beleg;Tag;Konto;Ware;Stück;Wert;Geld;Staat\n"
        "M-1;09.01.2024;C3;P1;2;50,00;EUR;DE\n"
        "M-2;09.01.2024;C1;P2;1;10,00;USD;US\n"
    ).encode()
    rejected = importer.import_file(fixture_con, "orders", data, "m.csv", commit=False)
    assert rejected.status == "rejected" and "Missing required column(s)" in rejected.message
    raw = importer.read_file(data)
    suggestions = {
        s["field"]: (s["column"], s["basis"])
        for s in importer.suggest_columns(
            importer.KINDS["orders"], raw, {"DE", "US", "GB", "CH"}, {"EUR", "USD", "GBP"}
        )
    }
    assert suggestions["order_date"] == ("Tag", "its values look like dates")
    assert suggestions["currency"] == ("Geld", "its values look like currency codes")
    assert suggestions["country"] == ("Staat", "its values look like country codes or names")
    mapping = {
        "order_id": "Beleg",
        "order_date": "Tag",
        "customer_id": "Konto",
        "product_id": "Ware",
        "quantity": "Stück",
        "net_amount": "Wert",
        "currency": "Geld",
        "country": "Staat",
    }
    report = importer.import_file(fixture_con, "orders", data, "m.csv", mapping=mapping)
    assert report.status == "loaded", report.rejected
    assert report.columns == mapping
    assert fixture_con.execute(
        "SELECT net_amount_eur FROM order_lines WHERE order_id = 'M-2'"
    ).fetchone() == (pytest.approx(10.0),)  # 10 USD at 1.00 on 9 Jan 2024
    with pytest.raises(importer.FileRejected, match="Nope"):
        importer.map_columns(importer.KINDS["orders"], raw.header, {"order_id": "Nope"})


def test_saved_mapping_is_offered_for_the_same_headers(tmp_path):
    path = tmp_path / "atlas.state.sqlite"
    header = ["Beleg", "Tag"]
    signature = importer.header_signature(header)
    assert importer.header_signature([" beleg", "TAG "]) == signature
    state.save_mapping(path, "SAP VA05", "orders", signature, {"order_id": "Beleg"})
    assert state.mapping_for(path, "orders", signature) == ("SAP VA05", {"order_id": "Beleg"})
    assert state.mapping_for(path, "orders", importer.header_signature(["Other"])) is None
    assert state.mapping_for(path, "customers", signature) is None
    state.save_mapping(path, "SAP VA05", "orders", signature, {"order_id": "Tag"})
    assert [m["columns"] for m in state.mappings(path)] == [{"order_id": "Tag"}]
    assert state.state_path(tmp_path / "x.duckdb") == tmp_path / "x.state.sqlite"


def test_cli_mapping_file_save_and_reuse(tmp_path):
    db_path = tmp_path / "store.duckdb"
    run = [sys.executable, "-m", "analytics"]
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    init = subprocess.run(
        [*run, "init", "--empty", "--db", str(db_path)], cwd=ROOT, capture_output=True, text=True
    )
    assert init.returncode == 0, init.stderr
    export = tmp_path / "export.csv"
    export.write_text(
        "Doc;Day;Acct;Mat;Qty;Value;Cur;Land\nX-1;09.01.2024;K1;M1;2;50,00;EUR;DE\n",
        encoding="utf-8",
    )
    mapping = tmp_path / "mapping.toml"
    mapping.write_text(
        'order_id = "Doc"\norder_date = "Day"\ncustomer_id = "Acct"\nproduct_id = "Mat"\n'
        'quantity = "Qty"\nnet_amount = "Value"\ncurrency = "Cur"\ncountry = "Land"\n',
        encoding="utf-8",
    )
    command = [*run, "import", "orders", str(export), "--db", str(db_path)]
    first = subprocess.run(
        [*command, "--mapping", str(mapping), "--save-mapping", "ERP A"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**env, "PYTHONPATH": str(ROOT)},
    )
    assert first.returncode == 0, first.stdout + first.stderr
    assert json.loads(first.stdout)["status"] == "loaded"
    export.write_text(
        "Doc;Day;Acct;Mat;Qty;Value;Cur;Land\nX-2;10.01.2024;K1;M1;1;25,00;EUR;DE\n",
        encoding="utf-8",
    )
    second = subprocess.run(
        [*run, "import", "orders", str(export), "--db", str(db_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**env, "PYTHONPATH": str(ROOT)},
    )
    report = json.loads(second.stdout)
    assert (report["status"], report["mapping_name"]) == ("loaded", "ERP A")


def test_json_report_has_no_nan():
    report = importer.Report(kind="orders", file_name="x")
    report.rejected = [{"line": None, "column": "unit_price", "value": math.nan, "reason": "r"}]
    report.detected = {"rate": float("inf")}
    text = json.dumps(report.to_dict(), allow_nan=False)
    assert json.loads(text)["rejected"][0]["value"] is None
