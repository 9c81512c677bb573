"""No cold swap (issue 17): a new store version is served once warm or after the bound,
the old one meanwhile; the session that wrote it reads it at once (ui/cache.ServedVersion)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from analytics import db
from analytics.__main__ import main
from ui import cache, warmup

ROOT = Path(__file__).resolve().parents[2]
ORDERS = (
    "order_id;order_date;customer_id;country;currency;product_id;quantity;unit_price;"
    "customer_name;product_name;channel;unit_cost_eur\n"
    "SRV-1;04.03.2025;SRV-C;FR;EUR;SRV-P;2;1.234,50;Srv SA;Gadget;direct;400\n"
    "SRV-2;05.03.2025;SRV-C;FR;EUR;SRV-P;1;99,00;Srv SA;Gadget;direct;40\n"
)


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def versions(tmp_path: Path) -> tuple[str, str]:
    old, new = tmp_path / "a.duckdb", tmp_path / "b.duckdb"
    old.write_bytes(b"")
    new.write_bytes(b"")
    return f"{old}@1", f"{new}@2"


def test_the_old_version_is_served_while_the_new_one_warms_then_the_new_one(tmp_path):
    old, new = versions(tmp_path)
    clock, warming = Clock(), []
    served = cache.ServedVersion(bound_s=30, clock=clock)
    served.warm = warming.append
    assert served.choose(old) == old
    assert served.choose(new) == old  # first sight: the warm-up starts, the old one serves
    assert warming == [new]
    clock.now += 29
    assert served.choose(new) == old
    assert warming == [new]  # one warm-up per version, not one per call
    served.ready(new)
    assert served.choose(new) == new
    assert served.choose(new) == new and warming == [new]


def test_the_new_version_is_served_after_the_bound_even_if_not_warm(tmp_path):
    old, new = versions(tmp_path)
    clock = Clock()
    served = cache.ServedVersion(bound_s=30, clock=clock)
    served.warm = lambda version: None
    served.choose(old)
    assert served.choose(new) == old
    clock.now += 29.9
    assert served.choose(new) == old
    clock.now += 0.1
    assert served.choose(new) == new


def test_no_hold_without_a_warm_up_nor_on_a_snapshot_gone_from_disk(tmp_path):
    old, new = versions(tmp_path)
    served = cache.ServedVersion(bound_s=30, clock=Clock())
    served.choose(old)
    assert served.choose(new) == new  # no warm-up attached (AppTest, warm-up off): at once
    served = cache.ServedVersion(bound_s=30, clock=Clock())
    served.warm = lambda version: None
    served.choose(old)
    Path(old.rsplit("@", 1)[0]).unlink()  # a second write pruned it
    assert served.choose(new) == new
    third = tmp_path / "c.duckdb"
    third.write_bytes(b"")
    served.serve_now(f"{third}@3")  # an upgrade: served at once, warm or not
    assert served.choose(f"{third}@3") == f"{third}@3"


@pytest.fixture
def held(monkeypatch, demo_db_path, tmp_path):
    """A copy of the demo store, served by a ServedVersion that holds every new version
    until the test says it is warm (the bound never passes on its own)."""
    path = tmp_path / "store.duckdb"
    shutil.copyfile(demo_db_path, path)
    monkeypatch.setenv("SALES_ATLAS_DB", str(path))
    monkeypatch.delenv("SALES_ATLAS_ACCESS", raising=False)
    served = cache.ServedVersion(bound_s=3600, clock=Clock())
    served.warming = []
    served.warm = served.warming.append
    monkeypatch.setattr(cache, "SERVED", served)
    st.cache_data.clear()
    st.cache_resource.clear()
    with db.connect(path, read_only=True) as con:
        served.lines = con.execute("SELECT count(*) FROM order_lines").fetchone()[0]
    yield path, served
    st.cache_data.clear()
    st.cache_resource.clear()


def data_page() -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    at = at.switch_page("views/data.py").run()
    assert not at.exception and not at.error, [e.value for e in at.exception]
    return at


def order_lines(at: AppTest) -> str:
    return next(m.value for m in at.metric if m.label == "Order lines")


def test_a_cli_import_is_shown_once_the_new_version_is_warm(held, tmp_path):
    path, served = held
    at = data_page()
    assert order_lines(at) == f"{served.lines:,}"
    source = tmp_path / "orders.csv"
    source.write_text(ORDERS, encoding="utf-8")
    assert main(["import", "orders", str(source), "--db", str(path)]) == 0
    new = cache.latest_store_version()
    at.run()
    assert not at.exception
    assert served.warming == [new]  # its warm-up was asked for…
    assert order_lines(at) == f"{served.lines:,}"  # …and the old version answers meanwhile
    served.ready(new)
    at.run()
    assert order_lines(at) == f"{served.lines + 2:,}"


def test_the_session_that_imports_sees_its_import_at_once_the_others_once_warm(held):
    _, served = held
    importer, other = data_page(), data_page()
    importer.file_uploader[0].set_value(("orders.csv", ORDERS.encode(), "text/csv")).run()
    assert importer.info[0].value.startswith("2 of 2 rows can be loaded")
    importer.button(key="d_load").click().run()
    assert not importer.exception and not importer.error, [e.value for e in importer.error]
    new = cache.latest_store_version()
    assert served.warming == [new]
    assert order_lines(importer) == f"{served.lines + 2:,}"
    note = "You see the new data now; everyone else within 3600 seconds"
    assert any(c.value.startswith(note) for c in importer.caption), [
        c.value for c in importer.caption
    ]
    other.run()
    assert order_lines(other) == f"{served.lines:,}"
    served.ready(new)
    other.run()
    importer.run()
    assert order_lines(other) == order_lines(importer) == f"{served.lines + 2:,}"
    # Once the server serves it, the session forgets its own version (nothing newer left).
    assert cache.OWN_VERSION_KEY not in importer.session_state


def test_a_new_version_is_warmed_for_the_views_sessions_are_on_and_then_reported_ready(
    held, monkeypatch
):
    monkeypatch.setattr(warmup, "_SEEN", type(warmup._SEEN)())
    monkeypatch.setattr(warmup, "_FORECAST_SEEN", [float("-inf")])
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.query_params["currency"] = "USD"
    at.run()
    at.switch_page("views/markets.py").run()
    assert not at.exception
    (reach, filters, pages), *_ = warmup.seen_views()
    assert (reach, filters.currency, pages) == ("all", "USD", ("overview", "markets"))
    done: list[str] = []
    job = warmup.Warmup(cache.store_version(), (), warmup.seen_views(), done.append)
    at_ready: list[list[str]] = []
    job.on_done = lambda version: (done.append(version), at_ready.append(list(job.done)))
    job.run()
    assert not job.failed, job.failed
    assert done == [cache.store_version()]  # reported once
    # Ready once the views seen and the defaults are warm; the forecast (nobody was on its
    # page) after the switch.
    assert {"overview (seen, all)", "markets (seen, all)", "review (default)", "data"} <= set(
        at_ready[0]
    )
    assert "forecast" not in at_ready[0] and "forecast" in job.done
    # Someone on the Forecast page lately: the forecast holds the switch too.
    at.switch_page("views/forecast.py").run()
    assert not at.exception and warmup.forecast_seen()
    at_ready.clear()
    job = warmup.Warmup(cache.store_version(), (), (), None)
    job.on_done = lambda version: at_ready.append(list(job.done))
    job.run()
    assert "forecast" in at_ready[0]
    # A cancelled warm-up never reports its version ready.
    again = warmup.Warmup(cache.store_version(), (), (), done.append)
    again.cancel()
    again.run()
    assert done == [cache.store_version()]


def test_the_hook_warms_a_new_version_and_reports_it_ready(monkeypatch):
    calls = []
    monkeypatch.setattr(warmup, "ensure_started", lambda v, on_done: calls.append((v, on_done)))
    warmup.warm_before_switch("b@2")
    assert calls == [("b@2", cache.SERVED.ready)]
