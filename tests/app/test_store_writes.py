"""AppTest: the app while the store is written (issue 12) — a session keeps its page during a
CLI import and sees the new data on its next run; a load from the Data page while another
write is under way is refused with a message, and nothing changes."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

from streamlit.testing.v1 import AppTest

from analytics import db, store
from analytics.__main__ import main

ROOT = Path(__file__).resolve().parents[2]
ORDERS = (
    "order_id;order_date;customer_id;country;currency;product_id;quantity;unit_price;"
    "customer_name;product_name;channel;unit_cost_eur\n"
    "APP-1;04.03.2025;APP-C;FR;EUR;APP-P;2;1.234,50;App SA;Gadget;direct;400\n"
    "APP-2;05.03.2025;APP-C;FR;EUR;APP-P;1;99,00;App SA;Gadget;direct;40\n"
)


def _order_lines(at: AppTest) -> str:
    return next(m.value for m in at.metric if m.label == "Order lines")


def _data_page(path: Path, monkeypatch) -> AppTest:
    monkeypatch.setenv("SALES_ATLAS_DB", str(path))
    monkeypatch.delenv("SALES_ATLAS_ACCESS", raising=False)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    return at.switch_page("views/data.py").run()


def test_a_session_reads_on_during_a_cli_import_and_sees_it_on_its_next_run(
    demo_db_path, tmp_path, monkeypatch
):
    path = tmp_path / "store.duckdb"
    shutil.copyfile(demo_db_path, path)
    with db.connect(path, read_only=True) as con:
        lines = con.execute("SELECT count(*) FROM order_lines").fetchone()[0]
    at = _data_page(path, monkeypatch)
    assert not at.exception and not at.error
    assert _order_lines(at) == f"{lines:,}"
    source = tmp_path / "orders.csv"
    source.write_text(ORDERS, encoding="utf-8")
    # The app holds the store open read-only in this very process: the import used to stop
    # on DuckDB's lock here.
    assert main(["import", "orders", str(source), "--db", str(path)]) == 0
    at.run()
    assert not at.exception and not at.error
    assert _order_lines(at) == f"{lines + 2:,}"
    history = next(d.value for d in at.dataframe if "File" in d.value.columns)
    assert list(history["File"])[:1] == ["orders.csv"]


def test_a_load_during_another_write_is_refused_and_changes_nothing(
    demo_db_path, tmp_path, monkeypatch
):
    path = tmp_path / "store.duckdb"
    shutil.copyfile(demo_db_path, path)
    at = _data_page(path, monkeypatch)
    before = _order_lines(at)
    at.file_uploader[0].set_value(("orders.csv", ORDERS.encode(), "text/csv")).run()
    assert at.info[0].value.startswith("2 of 2 rows can be loaded")
    holding, release = threading.Event(), threading.Event()

    def cli_import_under_way():
        with store.writing(path):
            holding.set()
            release.wait(60)

    other = threading.Thread(target=cli_import_under_way)
    other.start()
    try:
        assert holding.wait(60)
        current = db.current_file(path)
        at.button(key="d_load").click().run()
        assert not at.exception
        assert any(
            "Another write to" in e.value and "Nothing was changed" in e.value for e in at.error
        ), [e.value for e in at.error]
        assert db.current_file(path) == current
    finally:
        release.set()
        other.join(60)
    at.run()
    assert not at.exception
    assert _order_lines(at) == before
