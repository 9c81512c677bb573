"""AppTest: the Data page — upload, detected options, check, load, history, quality."""

from __future__ import annotations

import json
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


def frame_with(at: AppTest, column: str):
    """The first table on the page with this column (the raw preview, the mapped preview and
    the rejected rows come in that order)."""
    return next(d.value for d in at.dataframe if column in d.value.columns)


def test_upload_check_and_load_into_an_empty_store(empty_store, tmp_path, monkeypatch):
    store = tmp_path / "store.duckdb"
    shutil.copy(empty_store, store)
    at = open_data(store, monkeypatch)
    assert not at.exception and not at.error
    assert metric(at, "Order lines") == "0"
    assert any("up to 200 MB" in u.label for u in at.file_uploader)
    # The XLSX limits, stated where the file is chosen (issue 18).
    assert any(
        "1,048,576 rows and 4,000,000 cells" in u.help and "1,000 MB unpacked" in u.help
        for u in at.file_uploader
    )

    at.file_uploader[0].set_value(("orders.csv", ORDERS, "text/csv")).run()
    assert not at.exception
    # detected, shown to correct
    assert any("delimiter “;”" in as_shown(c.value) for c in at.caption)
    assert at.info[0].value.startswith("1 of 2 rows can be loaded")
    rejected = frame_with(at, "reason")
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
    # which reporting currencies the monthly summaries hold (the store's setting)
    assert any(
        "Reported figures in EUR, GBP and USD are read from the monthly summaries" in c.value
        for c in at.caption
    )


# An order export with headers no alias or standard export knows: the dates, currencies,
# countries and quantities are recognised by their values; the rest is said by the user.
UNFAMILIAR = (
    "Beleg;Tag;Konto;Ware;Stück;Wert;Geld;Staat;Notiz\n"
    "M-1;09.01.2025;C3;P1;2;50,00;EUR;DE;eilig\n"
    "M-2;10.01.2025;C1;P2;1;10,00;usd;Frankreich;\n"
    "M-3;10.01.2025;C1;P2;3;30,00;EUR;FR;\n"
).encode()


def field_box(at: AppTest, field: str):
    return next(s for s in at.selectbox if s.label.split(" · ")[0] == field)


def test_mapping_suggested_changed_saved_and_offered_again(empty_store, tmp_path, monkeypatch):
    store = tmp_path / "store.duckdb"
    shutil.copy(empty_store, store)
    at = open_data(store, monkeypatch)
    at.file_uploader[0].set_value(("beleg.csv", UNFAMILIAR, "text/csv")).run()
    assert not at.exception
    # Suggested by content; nothing for the ids, which no name or value gives away.
    assert {f: field_box(at, f).value for f in ("order_date", "currency", "country")} == {
        "order_date": "Tag",
        "currency": "Geld",
        "country": "Staat",
    }
    assert field_box(at, "quantity").value == "Stück"
    assert field_box(at, "unit_price").value == "Wert"  # an amount: offered as the price
    assert field_box(at, "order_id").value == "(not in this file)"
    assert field_box(at, "order_id").label == "order_id · required"
    assert field_box(at, "net_amount").label == "net_amount · required (one of 3)"
    labels = [s.label for s in at.selectbox if " · " in s.label]
    assert labels.index("product_id · required") < labels.index("customer_id · required (one of 2)")
    assert labels.index("unit_price · required (one of 3)") < labels.index("country · optional")
    assert any(
        c.value.startswith("Required (one of each group): customer_id / customer_name; ")
        for c in at.caption
    )
    assert at.expander[0].label == "Optional fields: 1 of 13 found in the file (country)"
    assert "for order lines: order_id, product_id, customer_id or customer_name." in as_shown(
        at.error[0].value
    )

    field_box(at, "order_id").set_value("Beleg")
    field_box(at, "product_id").set_value("Ware")
    field_box(at, "customer_id").set_value("Konto")
    field_box(at, "unit_price").set_value("(not in this file)")
    field_box(at, "net_amount").set_value("Wert")  # the change: a line's value, not a price
    at.run()
    assert not at.exception and not at.error
    preview = frame_with(at, "net_amount")
    assert list(preview["order_id"]) == ["M-1", "M-2", "M-3"]
    assert list(preview["net_amount"]) == ["50,00", "10,00", "30,00"]
    assert list(preview["country"]) == ["DE", "Frankreich", "FR"]
    assert "unit_price" not in preview.columns
    assert any(as_shown(c.value) == "Columns not used: Notiz" for c in at.caption)
    assert as_shown(at.info[0].value).startswith("3 of 3 rows can be loaded")

    at.text_input(key=next(k for k in at.session_state if k.startswith("d_map_name_"))).input(
        "Beleg export"
    )
    at.button(key="d_map_save").click().run()
    assert any(as_shown(s.value).startswith("Saved as “Beleg export”") for s in at.success)
    at.button(key="d_load").click().run()
    assert not at.exception and not at.error
    assert as_shown(at.success[0].value) == "beleg.csv: Loaded 3 of 3 rows."
    audit = frame_with(at, "What")
    saved = audit[audit["What"] == "mapping save"]["Detail"].tolist()
    assert saved == [
        "Beleg export: orders, country = Staat, currency = Geld, customer_id = Konto, "
        "net_amount = Wert, order_date = Tag, order_id = Beleg, product_id = Ware, "
        "quantity = Stück"
    ]
    with duckdb.connect(str(store), read_only=True) as con:
        rows = con.execute(
            "SELECT order_id, order_date::VARCHAR, customer_id, product_id, country_code, "
            "currency_code, quantity, unit_price_local, net_amount_local, net_amount_eur "
            "FROM order_lines ORDER BY order_id"
        ).fetchall()
        usd = con.execute(
            "SELECT units_per_eur FROM fx_rates WHERE currency_code = 'USD' "
            "AND rate_date = DATE '2025-01-10'"
        ).fetchone()[0]
    # A line's value over its quantity is the unit price; USD at the ECB rate of 10 Jan 2025.
    assert rows[0] == ("M-1", "2025-01-09", "C3", "P1", "DE", "EUR", 2, 25.0, 50.0, 50.0)
    assert rows[1][:9] == ("M-2", "2025-01-10", "C1", "P2", "FR", "USD", 1, 10.0, 10.0)
    assert rows[1][9] == pytest.approx(10.0 / usd)
    assert rows[2] == ("M-3", "2025-01-10", "C1", "P2", "FR", "EUR", 3, 10.0, 30.0, 30.0)

    # The next file with the same column names: the saved mapping is offered and used.
    again = UNFAMILIAR.split(b"\n")[0] + b"\nM-4;13.01.2025;C3;P1;4;80,00;EUR;DE;\n"
    at.file_uploader[0].set_value(("beleg2.csv", again, "text/csv")).run()
    assert not at.exception
    assert as_shown(at.info[0].value).startswith("Saved mapping “Beleg export” is preselected")
    assert field_box(at, "net_amount").value == "Wert"
    assert field_box(at, "unit_price").value == "(not in this file)"
    assert field_box(at, "order_id").value == "Beleg"
    assert as_shown(at.info[1].value).startswith("1 of 1 rows can be loaded")
    at.button(key="d_load").click().run()
    assert as_shown(at.success[0].value) == "beleg2.csv: Loaded 1 of 1 rows."
    with duckdb.connect(str(store), read_only=True) as con:
        assert con.execute(
            "SELECT unit_price_local, net_amount_eur FROM order_lines WHERE order_id = 'M-4'"
        ).fetchone() == (20.0, 80.0)


def funnel_box(at: AppTest, kind: str, row: int):
    """The funnel editor's widget `kind` (name, place, status, probability) in row `row`."""
    boxes = {
        "name": at.text_input,
        "place": at.number_input,
        "status": at.selectbox,
        "probability": at.number_input,
    }[kind]
    return next(
        w for w in boxes if w.key.startswith(f"d_funnel_{kind}_") and w.key.endswith(f"_{row}")
    )


def team_funnel_stages(at: AppTest, store: Path, monkeypatch) -> list[str]:
    """The stages of the Team page's first pipeline funnel, top to bottom."""
    at.query_params["t_view"] = "Pipeline"
    at.switch_page("views/team.py").run()
    assert not at.exception and not at.error
    figure = next(
        json.loads(c.proto.spec)
        for c in at.get("plotly_chart")
        if "Open pipeline by stage" in c.proto.spec
    )
    return list(figure["data"][0]["y"])


def test_funnel_edit_changes_the_team_funnel_order(demo_db_path, tmp_path, monkeypatch):
    store = tmp_path / "demo.duckdb"
    shutil.copy(demo_db_path, store)
    at = open_data(store, monkeypatch)
    assert not at.exception and not at.error
    # The demo stores no funnel: the default one, with its stored deals counted.
    assert [funnel_box(at, "name", i).value for i in range(6)] == [
        "Prospecting",
        "Qualification",
        "Proposal",
        "Negotiation",
        "Closed Won",
        "Closed Lost",
    ]
    with duckdb.connect(str(store), read_only=True) as con:
        proposals = con.execute(
            "SELECT count(DISTINCT opportunity_id) FROM (SELECT stage, opportunity_id FROM "
            "opportunities UNION ALL SELECT stage, opportunity_id FROM opportunity_snapshots) "
            "WHERE stage = 'Proposal'"
        ).fetchone()[0]
    deal_counts = [m.value for m in at.markdown if m.value.replace(",", "").isdigit()]
    assert deal_counts[2] == f"{proposals:,}"
    assert team_funnel_stages(at, store, monkeypatch) == [
        "Prospecting",
        "Qualification",
        "Proposal",
        "Negotiation",
    ]

    at.switch_page("views/data.py").run()
    funnel_box(at, "place", 3).set_value(1)  # Negotiation first
    funnel_box(at, "name", 1).input("Discovery")  # Qualification renamed
    funnel_box(at, "probability", 2).set_value(40.0)
    at.button(key="FormSubmitter:d_funnel-Save the funnel").click().run()
    assert not at.exception and not at.error
    assert any(
        s.value.startswith("Funnel saved: Negotiation › Prospecting › Discovery › Proposal.")
        for s in at.success
    )
    audit = frame_with(at, "What")
    assert (
        audit[audit["What"] == "funnel edit"]["Detail"]
        .iloc[0]
        .startswith("Negotiation (open) > Prospecting (open) > Discovery (open) > Proposal (open)")
    )
    with duckdb.connect(str(store), read_only=True) as con:
        assert con.execute(
            "SELECT stage, position, status, probability FROM funnel_stages ORDER BY position"
        ).fetchall()[:4] == [
            ("Negotiation", 0, "open", None),
            ("Prospecting", 1, "open", None),
            ("Discovery", 2, "open", None),
            ("Proposal", 3, "open", 0.4),
        ]
        assert con.execute(
            "SELECT count(*) FROM opportunities WHERE stage = 'Qualification'"
        ).fetchone() == (0,)
    assert team_funnel_stages(at, store, monkeypatch) == [
        "Negotiation",
        "Prospecting",
        "Discovery",
        "Proposal",
    ]
