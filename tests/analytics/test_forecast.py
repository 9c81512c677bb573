"""The statistical forecast: series, models, back-test, year-end landing and its CLI.

The small store here is built by hand so that its figures can be worked out on paper:
    DE (Western Europe, EUR, Sensors, direct):  1000 EUR a month in 2023, 1100 in 2024, 1200 in 2025
    US (Americas, USD, Software, web):           220 USD a month in 2023, 330 in 2024, 440 in 2025
One sale on the 15th of every month from July 2023 to December 2025. USD is 1.0 per EUR in
2023 and 1.2 in 2024, 1.1 from 1 Jan 2025 and 2.0 from 15 Sep 2025, so at the rate of an as-of
date in Aug 2025 the US sells 200, 300 and 400 EUR a month. Budgets 2025: DE Sensors 3500 a
quarter, US Software 1000 a quarter (and a 2024 row that must not count).
"""

from __future__ import annotations

import datetime as dt
import json
import math
import shutil

import duckdb
import numpy as np
import pandas as pd
import pytest

from analytics import fx, store
from analytics.__main__ import main
from analytics.forecast import accuracy, backtest, batch, landing, models, series
from analytics.forecast.models import SEASONAL_NAIVE, Candidate
from analytics.periods import add_months

D = dt.date
AAA = Candidate("ETS(A,A,A)", "add", "add", False, "add")
ANA = Candidate("ETS(A,N,A)", "add", None, False, "add")
FEW = (models.SEASONAL_NAIVE_CANDIDATE, ANA)


def monthly(year_values: dict[int, float], first: dt.date, last: dt.date) -> list[tuple]:
    rows, month = [], first
    while month <= last:
        rows.append((month.replace(day=15), year_values[month.year]))
        month = add_months(month, 1)
    return rows


LAST_MONTH = D(2025, 12, 1)


def build_store(con: duckdb.DuckDBPyConnection, last: dt.date = LAST_MONTH) -> None:
    store.create_schema(con)
    con.executemany(
        "INSERT INTO countries VALUES (?, ?, ?, ?, ?, ?)",
        [
            ("US", "USA", "United States", "Americas", "North America", "USD"),
            ("DE", "DEU", "Germany", "Western Europe", "DACH", "EUR"),
        ],
    )
    rates = [(D(2023, 1, 2), "USD", 1.0), (D(2024, 1, 2), "USD", 1.2)]
    rates += [(D(2025, 1, 2), "USD", 1.1), (D(2025, 9, 15), "USD", 2.0)]
    # Weekly publications keep every day within the carry-forward limit.
    day = D(2023, 1, 2)
    while day <= D(2026, 1, 31):
        current = max(r for r in rates if r[0] <= day)
        if day not in {r[0] for r in rates}:
            rates.append((day, "USD", current[2]))
        day += dt.timedelta(days=7)
    fx.insert_rates(con, rates, "test rates")
    fx.rebuild_fx_daily(con)
    first = D(2023, 7, 1)
    de = monthly({2023: 1000.0, 2024: 1100.0, 2025: 1200.0}, first, last)
    us = monthly({2023: 220.0, 2024: 330.0, 2025: 440.0}, first, last)
    rows = [(d, "DE", "EUR", "direct", "Sensors", 1, v, v, 0.0, 1, v) for d, v in de]
    rows += [(d, "US", "USD", "web", "Software", 1, v, v, 0.0, 1, v) for d, v in us]
    con.executemany("INSERT INTO sales_daily VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    months_from_days(con)
    budgets = [("DE", "Sensors", D(2025, m, 1), 3500.0) for m in (1, 4, 7, 10)]
    budgets += [("US", "Software", D(2025, m, 1), 1000.0) for m in (1, 4, 7, 10)]
    budgets.append(("DE", "Sensors", D(2024, 10, 1), 99999.0))
    con.executemany("INSERT INTO budgets VALUES (?, ?, ?, ?)", budgets)


def months_from_days(con) -> None:
    """sales_monthly as the rollups define it: sales_daily summed per calendar month (the
    fixture writes days only; the series read the months)."""
    con.execute("DELETE FROM sales_monthly")
    con.execute(
        """
        INSERT INTO sales_monthly
        SELECT date_trunc('month', order_date)::DATE, country_code, currency_code, channel,
               product_line, sum(units), sum(net_amount_local), sum(net_amount_eur),
               sum(cost_eur), sum(line_count), sum(known_cost_net_eur), sum(net_amount_local)
        FROM sales_daily GROUP BY ALL
        """
    )


@pytest.fixture(scope="module")
def store_file(tmp_path_factory):
    """Built once per module (a store takes a second or two to build)."""
    path = tmp_path_factory.mktemp("forecast") / "forecast.duckdb"
    con = duckdb.connect(str(path))
    build_store(con)
    con.close()
    return path


@pytest.fixture
def small_store(store_file):
    con = duckdb.connect(str(store_file), read_only=True)
    yield con
    con.close()


@pytest.fixture
def writable_store(store_file, tmp_path):
    copy = tmp_path / "copy.duckdb"
    shutil.copy(store_file, copy)
    con = duckdb.connect(str(copy))
    yield con
    con.close()


# --- series ---------------------------------------------------------------------------------


def test_window_ends_with_the_last_complete_month(small_store):
    assert series.observation_window(small_store, D(2025, 8, 31)).last_month == D(2025, 8, 1)
    # 30 Aug: August is partial, so July is the last observation.
    assert series.observation_window(small_store, D(2025, 8, 30)).last_month == D(2025, 7, 1)
    # Data stops in Dec 2025: later months are not loaded, not months without sales.
    assert series.observation_window(small_store, D(2026, 6, 30)).last_month == D(2025, 12, 1)
    with pytest.raises(series.NoHistory):
        series.observation_window(small_store, D(2023, 7, 20))  # only a partial month


def test_series_are_eur_at_the_as_of_rate(small_store):
    window = series.observation_window(small_store, D(2025, 8, 31))
    found = {(s.level, s.group): s for s in series.monthly_series(small_store, window)}
    us = found[("country", "US")]
    assert us.start == D(2023, 7, 1) and len(us.values) == 26
    # 220, 330 and 440 USD at the as-of rate 1.1, whatever the rate on the day of sale.
    assert us.values[:6] == pytest.approx([200.0] * 6)
    assert us.values[6:18] == pytest.approx([300.0] * 12)
    assert us.values[18:] == pytest.approx([400.0] * 8)
    assert found[("total", "Total")].values[-1] == pytest.approx(1600.0)
    assert found[("region", "Americas")].values == pytest.approx(us.values)
    assert found[("channel", "direct")].values == pytest.approx(found[("country", "DE")].values)
    assert sorted(k for k in found if k[0] == "product_line") == [
        ("product_line", "Sensors"),
        ("product_line", "Software"),
    ]


def test_series_from_the_months_equal_the_order_lines(demo_db_path):
    """On the demo store, every level's series (read from sales_monthly) equals the order
    lines summed per month at the as-of rates, computed here with pandas."""
    con = duckdb.connect(str(demo_db_path), read_only=True)
    try:
        as_of = con.execute("SELECT max(order_date) FROM order_lines").fetchone()[0]
        window = series.observation_window(con, as_of)
        lines = con.execute(
            """
            SELECT o.order_date, o.country_code, o.currency_code, o.channel, p.product_line,
                   c.region, o.net_amount_local
            FROM order_lines o JOIN products p USING (product_id)
            JOIN countries c ON c.country_code = o.country_code
            WHERE o.order_date <= ?
            """,
            [window.last_day],
        ).df()
        rates = con.execute(
            "SELECT currency_code, units_per_eur, rate_date FROM fx_daily WHERE rate_date <= ?",
            [as_of],
        ).df()
        found = series.monthly_series(con, window)
    finally:
        con.close()
    latest = rates.sort_values("rate_date").groupby("currency_code")["units_per_eur"].last()
    lines["revenue"] = lines["net_amount_local"] / lines["currency_code"].map(latest)
    lines["month"] = pd.to_datetime(lines["order_date"]).dt.to_period("M")
    columns = {"country": "country_code", "region": "region", "channel": "channel"}
    columns["product_line"] = "product_line"
    checked = 0
    for s in found:
        rows = lines if s.level == "total" else lines[lines[columns[s.level]] == s.group]
        by_month = rows.groupby("month")["revenue"].sum()
        months = pd.period_range(s.start, periods=len(s.values), freq="M")
        expected = by_month.reindex(months, fill_value=0.0).to_numpy()
        assert s.values == pytest.approx(expected, rel=1e-9, abs=1e-6), (s.level, s.group)
        assert by_month.index.min() == months[0]
        checked += 1
    assert checked == len(found) > 20


def test_as_of_reads_nothing_later(writable_store):
    as_of = D(2025, 9, 10)  # September is partial: its days must not count either
    before = batch.forecast_store(writable_store, as_of, 18, ("total", "country"), FEW)
    writable_store.execute(
        "UPDATE sales_daily SET net_amount_local = net_amount_local * 7 "
        "WHERE order_date > ? OR order_date >= ?",
        [as_of, D(2025, 9, 1)],
    )
    writable_store.execute(
        "INSERT INTO sales_daily VALUES ('2025-09-05', 'DE', 'EUR', 'web', 'Sensors', 1, "
        "5000, 5000, 0, 1, 5000), ('2026-03-01', 'FR', 'EUR', 'web', 'Sensors', 1, 5000, 5000, 0, "
        "1, 5000)"
    )
    months_from_days(writable_store)
    writable_store.execute("UPDATE fx_daily SET units_per_eur = 9 WHERE rate_date > ?", [as_of])
    after = batch.forecast_store(writable_store, as_of, 18, ("total", "country"), FEW)
    assert [s.group for s in after.series] == [s.group for s in before.series]
    for old, new in zip(before.series, after.series, strict=True):
        assert new.history.values == pytest.approx(old.history.values, rel=1e-12)
        assert new.forecast == pytest.approx(old.forecast, rel=1e-9)
        for name in ("lo80", "hi80", "lo95", "hi95"):
            assert new.bounds[name] == pytest.approx(old.bounds[name], rel=1e-9)


# --- accuracy and back-test -----------------------------------------------------------------


def test_wmape_and_mase_by_hand():
    assert accuracy.wmape([100, 200], [110, 180]) == pytest.approx(30 / 300)
    assert accuracy.wmape([0, 0], [1, 2]) is None
    training = [100.0] * 12 + [110.0, 90.0]  # year-on-year changes 10 and 10
    assert accuracy.mase([100, 200], [110, 180], training) == pytest.approx(15 / 10)
    assert accuracy.mase([1], [2], [5.0] * 14) is None  # no change in training: no scale


def test_seasonal_naive_back_test_by_hand():
    # 27 months: 100 for a year, 110 for a year, then 130. Scored: the last 12 (months 15..26).
    history = np.array([100.0] * 12 + [110.0] * 12 + [130.0] * 3)
    result = backtest.score(models.SeasonalNaive(history), history[:15])
    # Within a year seasonal naive forecasts a month by the same month a year earlier,
    # at any horizon: 9 errors of 10 and 3 of 20, each scored once per horizon (1, 2, 3).
    assert result.wmape == pytest.approx(150 / (9 * 110 + 3 * 130))
    # MASE scale: training months 12..14 changed by 10 on a year earlier.
    assert result.mase == pytest.approx((150 / 12) / 10)
    actual, _ = backtest.backtest_pairs(models.SeasonalNaive(history), len(history))
    assert len(actual) == backtest.WINDOW * backtest.HORIZON


def test_short_history_falls_back_to_seasonal_naive():
    history = np.arange(30, dtype=float) + 100
    choice = backtest.choose(history, (models.SEASONAL_NAIVE_CANDIDATE, AAA))
    assert choice.chosen == SEASONAL_NAIVE
    assert "30 months of history" in choice.method_note and "seasonal naive" in choice.method_note
    assert choice.fitted.forecast(13) == pytest.approx(np.r_[history[-12:], history[-12]])
    with pytest.raises(ValueError):
        backtest.choose(history[:12])


# --- models on synthetic series --------------------------------------------------------------


def trend_and_season(months: int, rng: np.random.Generator, noise: float = 5.0) -> np.ndarray:
    t = np.arange(months)
    return 1000 + 10 * t + 100 * np.sin(2 * np.pi * t / 12) + rng.normal(0, noise, months)


def test_forecast_recovers_trend_and_seasonality():
    history = trend_and_season(60, np.random.default_rng(1))
    choice = backtest.choose(history, (models.SEASONAL_NAIVE_CANDIDATE, AAA))
    assert choice.chosen == "ETS(A,A,A)"
    # Seasonal naive misses a year of trend (120) every month; the model only the noise.
    assert choice.scores["ETS(A,A,A)"].wmape < choice.scores[SEASONAL_NAIVE].wmape / 5
    t = np.arange(60, 84)
    truth = 1000 + 10 * t + 100 * np.sin(2 * np.pi * t / 12)
    assert choice.fitted.forecast(24) == pytest.approx(truth, rel=0.01)


def coverage(future: np.ndarray, bounds: dict[str, np.ndarray], name: str) -> np.ndarray:
    return (future >= bounds[f"lo{name}"]) & (future <= bounds[f"hi{name}"])


def test_95_percent_interval_holds_95_percent_of_future_points():
    # ETS(A,N,A)'s own process: a level that walks (sd 5), a fixed season, noise of sd 20.
    # Eight years of history: with four the bands hold only ~88 %, as ETS intervals leave
    # out the uncertainty of the estimated parameters and initial states.
    rng = np.random.default_rng(11)
    pattern = 100 * np.sin(2 * np.pi * np.arange(12) / 12)
    inside95, inside80 = [], []
    with models.one_blas_thread():
        for _ in range(20):
            y = 1000 + np.cumsum(rng.normal(0, 5, 108)) + np.tile(pattern, 9)
            y += rng.normal(0, 20, 108)
            fitted = models.fit(ANA, y[:96])
            point = fitted.forecast(12)
            bounds = models.interval_bounds(fitted, point, fitted.simulate(12, 1000, rng))
            inside95.append(coverage(y[96:], bounds, "95"))
            inside80.append(coverage(y[96:], bounds, "80"))
    assert 0.92 <= np.mean(inside95) <= 0.98
    assert 0.74 <= np.mean(inside80) <= 0.86


def test_seasonal_naive_interval_holds_95_percent_of_future_points():
    # Seasonal naive's own process: each month is the same month a year earlier plus noise.
    rng = np.random.default_rng(5)
    inside = []
    for _ in range(200):
        history = 500 + np.cumsum(rng.normal(0, 10, (3, 12)), axis=0).ravel()
        fitted = models.SeasonalNaive(history)
        point = fitted.forecast(12)
        bounds = models.interval_bounds(fitted, point, np.empty((12, 0)))
        inside.append(coverage(history[-12:] + rng.normal(0, 10, 12), bounds, "95"))
        assert bounds["hi95"] - point == pytest.approx(1.959963984540054 * fitted.sigma)
    assert 0.92 <= np.mean(inside) <= 0.98


def test_forecast_made_months_ago_against_what_happened(small_store):
    window = series.observation_window(small_store, D(2025, 8, 31))
    de = next(
        s for s in series.monthly_series(small_store, window, ("country",)) if s.group == "DE"
    )
    track = backtest.forecast_made(de, models.SEASONAL_NAIVE_CANDIDATE, months_ago=3)
    assert list(track["month"]) == [D(2025, 6, 1), D(2025, 7, 1), D(2025, 8, 1)]
    assert list(track["actual"]) == [1200.0] * 3
    assert list(track["forecast"]) == [1100.0] * 3  # the same months of 2024
    assert (track["lo95"] < track["forecast"]).all() and (track["hi95"] > track["forecast"]).all()


# --- year-end landing ------------------------------------------------------------------------


def test_year_end_landing_by_hand(small_store):
    forecast = batch.forecast_store(
        small_store, D(2025, 8, 31), 6, ("total", "region", "channel"), FEW
    )
    # 26 months of history: every series is seasonal naive, so Sep-Dec repeat 2024.
    assert {s.chosen for s in forecast.series} == {SEASONAL_NAIVE}
    by_group = {x.group: x for x in landing.year_end_landing(small_store, forecast, "region")}
    west = by_group["Western Europe"]
    assert (west.months_actual, west.months_forecast) == (8, 4)
    assert west.actual_to_date == pytest.approx(8 * 1200)
    assert west.landing == pytest.approx(8 * 1200 + 4 * 1100)
    assert west.budget == pytest.approx(4 * 3500) and west.versus_budget == pytest.approx(0)
    americas = by_group["Americas"]
    assert americas.landing == pytest.approx(8 * 400 + 4 * 300)
    assert americas.versus_budget == pytest.approx(4400 - 4000)
    # Each month's year-on-year change was 100, so sigma is 100 and four months ahead
    # (all within a year) sum to a normal with sd 200; 2000 paths estimate its quantiles.
    assert west.bounds["hi95"] - west.landing == pytest.approx(1.96 * 200, rel=0.08)
    assert west.landing - west.bounds["lo80"] == pytest.approx(1.2816 * 200, rel=0.08)
    (total,) = landing.year_end_landing(small_store, forecast, "total")
    assert total.landing == pytest.approx(18400) and total.budget == pytest.approx(18000)
    channels = landing.year_end_landing(small_store, forecast, "channel")
    assert {c.group: c.budget for c in channels} == {"direct": None, "web": None}


# --- CLI -------------------------------------------------------------------------------------


def test_cli_json_shape(store_file, capsys):
    code = main(
        [
            *("forecast", "--db", str(store_file), "--as-of", "2025-08-31"),
            *("--months", "3", "--by", "region", "--json"),
        ]
    )
    assert code == 0
    document = json.loads(capsys.readouterr().out, parse_constant=lambda name: 1 / 0)
    rows = document["rows"]
    keys = {"group", "month", "forecast", "lo80", "hi80", "lo95", "hi95"}
    assert all(set(row) == keys for row in rows)
    assert [(r["group"], r["month"]) for r in rows] == [
        (g, m) for g in ("Americas", "Western Europe") for m in ("2025-09", "2025-10", "2025-11")
    ]
    west = [r for r in rows if r["group"] == "Western Europe"]
    assert [r["forecast"] for r in west] == [1100.0] * 3
    for row in rows:
        values = [row[k] for k in ("lo95", "lo80", "forecast", "hi80", "hi95")]
        assert all(math.isfinite(v) for v in values) and values == sorted(values)
    assert document["last_observed_month"] == "2025-08"


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--as-of", "2025-02-30"], "not a date"),
        (["--as-of", "2023-06-30"], "no sales on or before"),
        (["--as-of", "2024-03-31"], "complete months a forecast needs"),
        (["--as-of", "2025-08-31", "--by", "segment"], "not a level"),
        (["--as-of", "2025-08-31", "--months", "19"], "1 to 18"),
    ],
)
def test_cli_errors_exit_2(store_file, capsys, arguments, message):
    assert main(["forecast", "--db", str(store_file), "--json", *arguments]) == 2
    captured = capsys.readouterr()
    assert message in captured.err and captured.out == ""
