"""AppTest: the Data page — upload, detected options, check, load, history, quality."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from streamlit.testing.v1 import AppTest

from tests.ui.test_markup import as_shown

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "tests" / "analytics" / "import_corpus"
ORDERS = (
    b"order_id;order_date;customer_id;country;currency;product_id;quantity;unit_price;"
    b"customer_name;product_name;channel;unit_cost_eur\n"
    b"W1;04.03.2025;NEW1;FR;EUR;PX1;2;1.234,50;Nouveau SA;Gadget;direct;400\n"
    b"W2;05.03.2025;NEW1;Atlantis;EUR;PX1;1;99,00;Nouveau SA;Gadget;direct;40\n"
)


@pytest.fixture(scope="module")
def empty_store(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("data_page") / "empty.duckdb"
    subprocess.run(
        [sys.executable, "-m", "analytics", "init", "--empty", "--db", str(path)],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    return path


def open_data(db_path: Path, monkeypatch) -> AppTest:
    monkeypatch.setenv("SALES_ATLAS_DB", str(db_path))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    return at.switch_page("views/data.py").run()


def metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def test_upload_check_and_load_into_an_empty_store(empty_store, tmp_path, monkeypatch):
    store = tmp_path / "store.duckdb"
    shutil.copy(empty_store, store)
    at = open_data(store, monkeypatch)
    assert not at.exception and not at.error
    assert metric(at, "Order lines") == "0"
    assert any("up to 200 MB" in u.label for u in at.file_uploader)

    at.file_uploader[0].set_value(("orders.csv", ORDERS, "text/csv")).run()
    assert not at.exception
    # detected, shown to correct
    assert any("delimiter “;”" in as_shown(c.value) for c in at.caption)
    assert at.info[0].value.startswith("1 of 2 rows can be loaded")
    rejected = at.dataframe[1].value
    assert list(rejected["line"]) == [3] and list(rejected["column"]) == ["country"]
    with duckdb.connect(str(store), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM order_lines").fetchone() == (0,)  # not yet

    at.button(key="d_load").click().run()
    assert not at.exception and not at.error
    assert as_shown(at.success[0].value) == "orders.csv: Loaded 1 of 2 rows."
    assert metric(at, "Order lines") == "1"
    history = next(d.value for d in at.dataframe if "File" in d.value.columns)
    assert list(history["File"]) == ["orders.csv"] and list(history["Status"]) == ["loaded"]
    with duckdb.connect(str(store), read_only=True) as con:
        row = con.execute("SELECT unit_price_local, net_amount_eur FROM order_lines").fetchone()
    assert row == (1234.5, 2469.0)


def test_ambiguous_dates_are_asked_for_then_load(empty_store, tmp_path, monkeypatch):
    store = tmp_path / "store.duckdb"
    shutil.copy(empty_store, store)
    at = open_data(store, monkeypatch)
    data = (CORPUS / "ambiguous_dates.csv").read_bytes().replace(b"2024", b"2025")
    at.file_uploader[0].set_value(("a.csv", data, "text/csv")).run()
    assert "could be DD/MM/YYYY or MM/DD/YYYY" in as_shown(at.error[0].value)
    at.selectbox(key="d_dates").set_value("DD/MM/YYYY").run()
    assert not at.error
    assert at.info[0].value.startswith("2 of 2 rows can be loaded")


def test_a_non_csv_file_is_refused_plainly(empty_store, monkeypatch):
    at = open_data(empty_store, monkeypatch)
    at.file_uploader[0].set_value(("x.csv", (CORPUS / "not_csv.csv").read_bytes(), "text/csv"))
    at.run()
    assert not at.exception
    assert "not a text (CSV) file" in as_shown(at.error[0].value)


def test_demo_store_quality_and_rates(demo_db_path, monkeypatch):
    at = open_data(demo_db_path, monkeypatch)
    assert not at.exception and not at.error
    assert any("Every key points at a stored row" in s.value for s in at.success)
    assert any("Rates in use:" in m.value and "ECB" in m.value for m in at.markdown)
