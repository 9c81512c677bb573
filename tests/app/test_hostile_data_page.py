"""AppTest: the Data page rejects implausible values with the importer's reasons (issue 18)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import duckdb
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[2]
HEADER = (
    b"order_id,order_date,customer_id,country,currency,product_id,quantity,unit_price,"
    b"customer_name,channel,unit_cost_eur\n"
)


def test_a_400_digit_price_and_a_stray_byte_are_rejected_on_the_data_page(tmp_path, monkeypatch):
    store = tmp_path / "store.duckdb"
    subprocess.run(
        [sys.executable, "-m", "analytics", "init", "--empty", "--db", str(store)],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    data = (
        HEADER
        + "H1,2025-03-04,NEW1,DE,EUR,PX1,2,10,Müller GmbH,direct,4\n".encode()
        + b"H2,2025-03-04,NEW1,DE,EUR,PX1,2,"
        + b"9" * 400
        + ",Müller GmbH,direct,4\n".encode()
        + b"H3,2025-03-04,NEW2,DE,EUR,PX1,2,10,Caf\xe9 Sud,direct,4\n"
    )
    monkeypatch.setenv("SALES_ATLAS_DB", str(store))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    at = at.switch_page("views/data.py").run()
    at.file_uploader[0].set_value(("hostile.csv", data, "text/csv")).run()
    assert not at.exception
    assert at.info[0].value.startswith("1 of 3 rows can be loaded")
    rejected = next(d.value for d in at.dataframe if "reason" in d.value.columns)
    assert list(rejected["line"]) == [3, 4]
    assert "too large to be a number" in rejected["reason"].iloc[0]
    assert "0xE9" in rejected["reason"].iloc[1]
    at.button(key="d_load").click().run()
    assert not at.exception and not at.error
    with duckdb.connect(str(store), read_only=True) as con:
        assert con.execute("SELECT name FROM customers").fetchall() == [("Müller GmbH",)]
        assert con.execute("SELECT max(unit_price_local) FROM order_lines").fetchone() == (10.0,)
