"""Conversion and the rate rule, checked against the fixture's rates by hand."""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest

from analytics import fx, store

D = dt.date


@pytest.mark.parametrize(
    ("amount", "src", "dst", "day", "expected"),
    [
        (100, "USD", "EUR", D(2024, 1, 8), 100 / 1.20),
        (100, "EUR", "USD", D(2024, 1, 8), 120.0),
        (100, "GBP", "USD", D(2024, 1, 8), 100 / 0.90 * 1.20),
        # Saturday and Sunday use Friday's publication.
        (100, "USD", "EUR", D(2024, 1, 6), 100 / 1.10),
        (100, "USD", "EUR", D(2024, 1, 7), 100 / 1.10),
        # 1 January is a TARGET holiday: the last earlier rate (29 Dec) applies.
        (100, "USD", "GBP", D(2024, 1, 1), 100 / 1.105 * 0.87),
        # A rate exactly 10 days old is still used.
        (100, "CHF", "EUR", D(2024, 1, 15), 100 / 0.95),
        (100, "EUR", "EUR", D(1990, 1, 1), 100.0),
        (100, "usd", "eur", D(2024, 1, 9), 100.0),
    ],
)
def test_convert(fixture_con, amount, src, dst, day, expected):
    assert fx.convert(fixture_con, amount, src, dst, day) == pytest.approx(expected, rel=1e-12)


def test_rate_older_than_ten_days_is_an_error_naming_currency_and_date(fixture_con):
    with pytest.raises(fx.RateUnavailable, match=r"CHF.*2024-01-16.*2024-01-05"):
        fx.convert(fixture_con, 100, "CHF", "EUR", D(2024, 1, 16))


def test_no_rate_before_history_starts(fixture_con):
    with pytest.raises(fx.RateUnavailable, match=r"USD.*2023-12-28"):
        fx.convert(fixture_con, 100, "EUR", "USD", D(2023, 12, 28))


def test_unknown_currency(fixture_con):
    with pytest.raises(fx.UnknownCurrency, match="XYZ"):
        fx.convert(fixture_con, 1, "XYZ", "EUR", D(2024, 1, 8))


def test_fx_daily_follows_the_same_rule_as_convert(fixture_con):
    rows = dict(
        fixture_con.execute(
            "SELECT rate_date, units_per_eur FROM fx_daily WHERE currency_code = 'CHF'"
        ).fetchall()
    )
    assert rows[D(2024, 1, 10)] == 0.95
    assert rows[D(2024, 1, 15)] == 0.95
    assert D(2024, 1, 16) not in rows
    assert min(rows) == D(2024, 1, 4)


def test_fx_daily_publication_days(fixture_con):
    flags = dict(
        fixture_con.execute(
            "SELECT rate_date, is_publication_day FROM fx_daily WHERE currency_code = 'EUR'"
        ).fetchall()
    )
    assert flags[D(2024, 1, 5)] and flags[D(2024, 1, 8)]
    assert not flags[D(2024, 1, 6)] and not flags[D(2024, 1, 1)]


def test_parse_ecb_csv_skips_na_and_trailing_column():
    text = "Date,USD,RUB,\n2022-03-02,1.1,N/A,\n2022-03-01,1.2,117.5,\n"
    assert fx.parse_ecb_csv(text) == [
        (D(2022, 3, 2), "USD", 1.1),
        (D(2022, 3, 1), "USD", 1.2),
        (D(2022, 3, 1), "RUB", 117.5),
    ]


def test_bundled_history_loads_every_currency_and_date():
    rows = fx.read_bundled_ecb_history()
    days = {r[0] for r in rows}
    currencies = {r[1] for r in rows}
    assert min(days) == D(1999, 1, 4)
    assert max(days) >= D(2026, 10, 30)
    assert len(currencies) >= 40
    assert {"USD", "JPY", "GBP", "CHF", "HRK", "BGN", "RUB", "ILS"} <= currencies
    # The RUB series ends on 1 March 2022 in the ECB file.
    assert max(r[0] for r in rows if r[1] == "RUB") == D(2022, 3, 1)


class _OfflineRates:
    def get_rates(self, base, date_obj=None):
        import requests

        raise requests.exceptions.ConnectionError("network is unreachable")


def test_fetch_newer_rates_offline_changes_nothing(fixture_con):
    before = fixture_con.execute("SELECT count(*) FROM fx_rates").fetchone()[0]
    result = fx.fetch_newer_rates(fixture_con, until=D(2024, 2, 9), rates_client=_OfflineRates())
    assert not result.ok
    assert "Could not fetch" in result.message and "Nothing was changed" in result.message
    assert fixture_con.execute("SELECT count(*) FROM fx_rates").fetchone()[0] == before


class _FakeRates:
    def __init__(self):
        self.days = []

    def get_rates(self, base, date_obj=None):
        assert base == "EUR"
        self.days.append(date_obj.date())
        return {"USD": 1.05, "GBP": 0.82, "JPY": 160.0}


def test_fetch_newer_rates_appends_weekdays_after_last_stored_day(fixture_con):
    client = _FakeRates()
    result = fx.fetch_newer_rates(fixture_con, until=D(2024, 2, 5), rates_client=client)
    assert result.ok
    # 1 Feb is stored; 2 Feb (Fri) and 5 Feb (Mon) are fetched, the weekend is not.
    assert client.days == [D(2024, 2, 2), D(2024, 2, 5)]
    # Only currencies current in the store are added (USD, GBP), not JPY.
    assert result.rows_added == 4
    assert fx.convert(fixture_con, 105, "USD", "EUR", D(2024, 2, 4)) == pytest.approx(100)
    assert fx.rate_status(fixture_con).last_date == D(2024, 2, 5)


def test_legacy_euro_currency_converts_at_its_fixed_rate_after_the_changeover():
    con = duckdb.connect(":memory:")
    store.create_schema(con)
    fx.insert_rates(
        con,
        [
            (D(2022, 12, 29), "HRK", 7.5360),
            (D(2022, 12, 30), "HRK", 7.5365),
            (D(2022, 12, 30), "USD", 1.0666),
            (D(2023, 1, 2), "USD", 1.0683),
        ],
        "test",
    )
    fx.rebuild_fx_daily(con)
    # Before the changeover the ordinary rule applies: Saturday 31 Dec uses Friday's rate.
    assert fx.units_per_eur(con, "HRK", D(2022, 12, 31)) == 7.5365
    # From 1 Jan 2023 the kuna converts at 7.53450 per euro, indefinitely.
    assert fx.convert(con, 753.45, "HRK", "EUR", D(2023, 1, 1)) == pytest.approx(100)
    assert fx.convert(con, 753.45, "HRK", "USD", D(2023, 1, 2)) == pytest.approx(106.83)
    assert fx.units_per_eur(con, "HRK", D(2026, 6, 1)) == 7.5345
    daily = dict(
        con.execute(
            "SELECT rate_date, units_per_eur FROM fx_daily WHERE currency_code = 'HRK' "
            "AND rate_date BETWEEN '2022-12-30' AND '2023-01-02'"
        ).fetchall()
    )
    assert daily == {
        D(2022, 12, 30): 7.5365,
        D(2022, 12, 31): 7.5365,
        D(2023, 1, 1): 7.5345,
        D(2023, 1, 2): 7.5345,
    }


def test_fx_daily_is_stored_in_currency_then_date_order(fixture_con):
    # Physical order (a plain scan, no ORDER BY): what lets a scan for one currency skip
    # the row groups of the others.
    stored = fixture_con.execute("SELECT currency_code, rate_date FROM fx_daily").fetchall()
    assert len(stored) > 40
    assert stored == sorted(stored)
    assert {c for c, _ in stored} == {"CHF", "EUR", "GBP", "USD"}
