"""AppTest: the Data page's plan-rates table holds the stored plan rates and saves edits."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[2]


def test_the_data_page_lists_the_plan_rates_and_saves_the_table(
    demo_db_path, tmp_path, monkeypatch
):
    path = tmp_path / "store.duckdb"
    shutil.copy(demo_db_path, path)
    monkeypatch.setenv("SALES_ATLAS_DB", str(path))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
    at.switch_page("views/data.py").run()
    assert not at.exception and not at.error
    assert "Plan rates" in [h.value for h in at.subheader]
    with duckdb.connect(str(path), read_only=True) as con:
        (stored,) = con.execute("SELECT count(*) FROM plan_rates").fetchone()
    table = next(d.value for d in at.dataframe if "units_per_eur" in d.value.columns)
    assert len(table) == stored and stored > 0
    # Saving the table unchanged is checked on the current snapshot and writes nothing.
    at.button(key="d_plan_rates_save").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert any(i.value.startswith("Nothing to save") for i in at.info)
    with duckdb.connect(str(path), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM plan_rates").fetchone() == (stored,)
