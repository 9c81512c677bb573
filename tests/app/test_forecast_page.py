"""AppTest: the Forecast page — every view renders, the level and series switch, and the
figures on screen equal those of the analytics calls made here on the same store.

The forecast is deterministic (seeded paths), so forecast_store run here and in the page
give the same numbers to the last digit."""

from __future__ import annotations

import base64
from pathlib import Path

import duckdb
import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from analytics import formatting
from analytics.crm.scope import Scope
from analytics.forecast import batch, figures, landing, projection
from analytics.periods import add_months

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def expected(demo_db_path):
    """The analytics calls the page makes, made directly (as of the store's last sale)."""
    with duckdb.connect(str(demo_db_path), read_only=True) as con:
        as_of = con.execute("SELECT max(order_date) FROM sales_daily").fetchone()[0]
        store = batch.forecast_store(con, as_of)
        snapshot = con.execute("SELECT max(snapshot_date) FROM opportunity_snapshots").fetchone()
        return {
            "store": store,
            "as_of": as_of,
            "eur": figures.shown_in(con, "EUR", as_of),
            "usd": figures.shown_in(con, "USD", as_of),
            "landings": {
                level: landing.year_end_landing(con, store, level)
                for level in ("total", "region", "channel")
            },
            "projection": projection.project(con, snapshot[0], Scope(currency="EUR"))[1],
            "usd_rate": con.execute(
                "SELECT units_per_eur FROM fx_rates WHERE currency_code = 'USD' "
                "AND rate_date <= ? ORDER BY rate_date DESC LIMIT 1",
                [as_of],
            ).fetchone()[0],
        }


def open_forecast(db_path: Path, monkeypatch, **params) -> AppTest:
    monkeypatch.setenv("SALES_ATLAS_DB", str(db_path))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    for key, value in params.items():
        at.query_params[key] = value
    at.run()
    return at.switch_page("views/forecast.py").run()


def ok(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def plotted(values) -> list[float]:
    """A trace's numbers: Plotly sends arrays as base64 typed arrays."""
    if isinstance(values, dict):
        return np.frombuffer(base64.b64decode(values["bdata"]), dtype=values["dtype"]).tolist()
    return list(values)


def figure(at: AppTest, index: int = 0) -> dict:
    import json

    return json.loads(at.get("plotly_chart")[index].proto.spec)


def trace(fig: dict, name: str) -> dict:
    return next(t for t in fig["data"] if t.get("name") == name)


def test_renders_the_total_forecast_with_its_landing_and_back_test(
    demo_db_path, monkeypatch, expected
):
    at = open_forecast(demo_db_path, monkeypatch)
    ok(at)
    assert at.query_params["fc_view"] == "Forecast" and at.query_params["fc_level"] == "total"
    item = expected["store"].find("total", "Total")
    (total,) = expected["landings"]["total"]
    year = expected["as_of"].year
    assert metric(at, f"Year-end landing {year} (EUR)") == formatting.money(total.landing, "EUR")
    assert metric(at, "80 % interval") == (
        f"{formatting.money(total.bounds['lo80'], 'EUR')} – "
        f"{formatting.money(total.bounds['hi80'], 'EUR')}"
    )
    assert metric(at, f"Budget {year} (EUR)") == formatting.money(total.budget, "EUR")

    fig = figure(at)
    assert "Total: net revenue per month" in fig["layout"]["title"]["text"]
    assert "EUR" in fig["layout"]["yaxis"]["title"]["text"]
    # 12 months ahead by default; the forecast line starts at the last actual month.
    forecast_line = plotted(trace(fig, "Forecast")["y"])
    assert forecast_line[1:] == item.forecast[:12].tolist()
    assert forecast_line[0] == item.history.values[-1]
    assert plotted(trace(fig, "Actual")["y"]) == item.history.values[-36:].tolist()
    band = [t for t in fig["data"] if t.get("legendgroup") == "95 % interval"]
    assert plotted(band[0]["y"]) == item.bounds["hi95"][:12].tolist()
    assert plotted(band[1]["y"]) == item.bounds["lo95"][:12].tolist()
    assert any("constant as-of rates" in c.value for c in at.caption)

    table = at.dataframe[0].value
    assert len(table) == 12
    assert table["Forecast (EUR)"].tolist() == pytest.approx(np.round(item.forecast[:12]))
    scores = at.dataframe[1].value
    assert scores["Model"].iloc[0] == f"{item.chosen} ✓"
    naive = scores[scores["Model"].str.startswith("seasonal naive")].iloc[0]
    assert naive["wMAPE"] == item.scores["seasonal naive"].wmape
    assert naive["MASE"] == item.scores["seasonal naive"].mase
    assert scores["wMAPE"].iloc[0] == item.scores[item.chosen].wmape

    # The track record: the chosen model's forecast six months ago against what happened.
    track = figure(at, 1)
    assert "made 6 months ago" in track["layout"]["title"]["text"]
    assert plotted(trace(track, "What happened")["y"]) == item.history.values[-6:].tolist()

    at.slider(key="fc_months").set_value(3).run()
    ok(at)
    assert len(at.dataframe[0].value) == 3


def test_level_and_series_switch_to_a_region_in_usd(demo_db_path, monkeypatch, expected):
    at = open_forecast(demo_db_path, monkeypatch, currency="USD")
    ok(at)
    at.radio(key="fc_level").set_value("region").run()
    ok(at)
    series = at.selectbox(key="fc_series")
    assert series.options == sorted(s.group for s in expected["store"].at_level("region"))
    series.set_value("Americas").run()
    ok(at)
    assert at.query_params["fc_level"] == "region" and at.query_params["fc_series"] == "Americas"
    item = expected["store"].find("region", "Americas")
    rate = expected["usd_rate"]
    fig = figure(at)
    assert fig["layout"]["title"]["text"].startswith("Americas: net revenue per month")
    assert "USD" in fig["layout"]["yaxis"]["title"]["text"]
    assert plotted(trace(fig, "Forecast")["y"])[1:] == (item.forecast[:12] * rate).tolist()
    americas = next(x for x in expected["landings"]["region"] if x.group == "Americas")
    year = expected["as_of"].year
    assert metric(at, f"Year-end landing {year} (USD)") == formatting.money(
        americas.landing * rate, "USD"
    )
    assert any(f"{rate:,.4f} USD per EUR" in c.value for c in at.caption)

    at.radio(key="fc_level").set_value("country").run()
    ok(at)
    assert at.selectbox(key="fc_series").value == "AR"  # Argentina sorts first by name


def test_year_end_landing_per_region_and_total(demo_db_path, monkeypatch, expected):
    at = open_forecast(demo_db_path, monkeypatch, fc_view="Year-end landing")
    ok(at)
    table = at.dataframe[0].value
    landings = [*expected["landings"]["region"], *expected["landings"]["total"]]
    assert table["Region"].tolist() == [x.group for x in landings]
    assert table["Landing (EUR)"].tolist() == [round(x.landing) for x in landings]
    assert table["95 % high"].tolist() == [round(x.bounds["hi95"]) for x in landings]
    assert table["Budget (EUR)"].tolist() == [round(x.budget) for x in landings]
    total = landings[-1]
    # Shown in percent with one decimal, like the cards (the download keeps the fraction).
    assert table["vs budget %"].iloc[-1] == pytest.approx((total.landing / total.budget - 1) * 100)
    assert [b.label for b in at.get("download_button")][:2] == ["Download CSV", "Download XLSX"]


def test_pipeline_projection_beside_forecast_and_commit(demo_db_path, monkeypatch, expected):
    at = open_forecast(demo_db_path, monkeypatch, fc_view="Pipeline projection")
    ok(at)
    table = at.dataframe[0].value
    quarters = expected["projection"]
    assert table["Quarter"].tolist() == [q.quarter.label for q in quarters]
    assert table["Pipeline projection (EUR)"].tolist() == [round(q.expected_won) for q in quarters]
    assert table["Reps' commit (EUR)"].tolist() == [round(q.commit) for q in quarters]
    item = expected["store"].find("total", "Total")
    statistical = [projection.quarter_forecast(item, q.quarter) for q in quarters]
    assert table["Statistical forecast (EUR)"].tolist() == [
        round(s[0]) if s else None for s in statistical
    ]
    at.radio(key="fc_level").set_value("channel").run()
    ok(at)
    assert any("No pipeline projection per channel" in i.value for i in at.info)


def test_web_channel_on_its_own(demo_db_path, monkeypatch, expected):
    at = open_forecast(demo_db_path, monkeypatch, fc_view="Web channel")
    ok(at)
    item = expected["store"].find("channel", "web")
    fig = figure(at)
    assert fig["layout"]["title"]["text"].startswith("Web channel: net revenue per month")
    assert plotted(trace(fig, "Forecast")["y"])[1:] == item.forecast[:12].tolist()
    web = next(x for x in expected["landings"]["channel"] if x.group == "web")
    assert metric(at, f"Year-end landing {expected['as_of'].year} (EUR)") == formatting.money(
        web.landing, "EUR"
    )
    assert metric(at, f"Budget {expected['as_of'].year}") == "–"  # budgets have no channel


def test_short_history_says_seasonal_naive_and_why(tmp_path, demo_db_path, monkeypatch):
    """A store with 20 months of sales: every series falls back to seasonal naive."""
    import shutil

    path = tmp_path / "short.duckdb"
    shutil.copyfile(demo_db_path, path)
    with duckdb.connect(str(path)) as con:
        last = con.execute("SELECT max(order_date) FROM sales_daily").fetchone()[0]
        first = add_months(last.replace(day=1), -19)  # the demo ends on a month's last day
        con.execute("DELETE FROM sales_daily WHERE order_date < ?", [first])
        con.execute("DELETE FROM sales_monthly WHERE month < ?", [first])
    at = open_forecast(path, monkeypatch)
    ok(at)
    assert any(m.value == "**Model: seasonal naive**" for m in at.markdown)
    note = next(c.value for c in at.caption if "months of history" in c.value)
    assert "20 months of history" in note and "so seasonal naive" in note


def test_a_user_limited_to_a_region_sees_its_forecast_only(
    demo_db_path, tmp_path, monkeypatch, expected
):
    """Signed in with the reach Western Europe, the total is that region's sales."""
    from ui import access as ui_access

    access_file = tmp_path / "access.toml"
    access_file.write_text(
        '[identity]\nsource = "header"\nheader = "X-Forwarded-Email"\n\n'
        '[[users]]\nemail = "we@example.com"\nrole = "viewer"\nregions = ["Western Europe"]\n'
    )
    monkeypatch.setenv("SALES_ATLAS_ACCESS", str(access_file))
    monkeypatch.setenv("SALES_ATLAS_STATE", str(tmp_path / "state.sqlite"))
    monkeypatch.setattr(ui_access, "identity", lambda listed: "we@example.com")
    at = open_forecast(demo_db_path, monkeypatch)
    ok(at)
    # The reach's total is the region's series: same history, model and point forecast.
    west = next(x for x in expected["landings"]["region"] if x.group == "Western Europe")
    year = expected["as_of"].year
    assert metric(at, f"Year-end landing {year} (EUR)") == formatting.money(west.landing, "EUR")
    item = expected["store"].find("region", "Western Europe")
    assert plotted(trace(figure(at), "Forecast")["y"])[1:] == pytest.approx(
        item.forecast[:12].tolist(), rel=1e-9
    )
    at.radio(key="fc_level").set_value("region").run()
    ok(at)
    assert at.selectbox(key="fc_series").options == ["Western Europe"]
