"""Order lines awaiting a rate (issue 11, item 5), on the hand-made fixture (conftest.py):
kept, counted and named, left out of converted figures, converted when the rates arrive.

The fixture's rates end on 1 Feb 2024 (USD 1.09, GBP 0.855; CHF stops after 5 Jan), so
fx_daily spans to 11 Feb. The file below adds, in February:
    O7/1 2024-02-01 DE EUR  1 x  50       =  50 EUR   converts (EUR is 1)
    O8/1 2024-02-05 US ARS  2 x 450       = 900 ARS   awaits: no ARS rate is stored
    O9/1 2024-02-05 DE CHF  3 x  10       =  30 CHF   awaits: no CHF rate since 5 Jan
With the fixture's O6 (1 x 109 USD on 1 Feb = 100 EUR), 1–9 Feb is 150 EUR before the rates.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest

from analytics import awaiting, db, fx, importer, overview
from analytics.filters import Filters
from analytics.periods import Period

D = dt.date
FEB = Period(D(2024, 2, 1), D(2024, 2, 9), "1–9 Feb 2024")
JAN = Period(D(2024, 1, 8), D(2024, 1, 9), "8–9 Jan 2024")

ORDERS = (
    b"order_id,order_date,customer_id,country,currency,product_id,quantity,unit_price,"
    b"channel,unit_cost_eur\n"
    b"O7,2024-02-01,C3,DE,EUR,P2,1,50,web,10\n"
    b"O8,2024-02-05,C1,US,ARS,P1,2,450,direct,\n"  # no cost: P1's stored 30 EUR
    b"O9,2024-02-05,C3,DE,chf,P2,3,10,web,4\n"
)
# ARS on the lines' day; CHF on the Friday before (carried to Monday 5 Feb).
RATES = b"rate_date,currency,units_per_eur\n2024-02-05,ARS,900\n2024-02-02,CHF,0.93\n"


def _filters(**kwargs) -> Filters:
    return Filters(**{"period": FEB, "comparison": JAN, "currency": "EUR"} | kwargs)


def _revenue(con, **kwargs) -> float:
    return float(
        overview.kpis(con, _filters(**kwargs)).set_index("metric").loc["net_revenue", "current"]
    )


def test_lines_without_a_rate_are_kept_named_and_left_out(fixture_con):
    report = importer.import_file(fixture_con, "orders", ORDERS, "feb.csv")
    got = json.loads(json.dumps(report.to_dict(), allow_nan=False))  # valid JSON
    assert (got["status"], got["rows_read"], got["rows_loaded"], got["rows_rejected"]) == (
        "loaded",
        3,
        3,
        0,
    )
    assert "2 lines are awaiting a rate" in got["message"]
    assert got["awaiting_rate"] == {
        "lines": 2,
        "currencies": [
            {
                "currency": "ARS",
                "lines": 1,
                "amount_local": 900.0,
                "first": "2024-02-05",
                "last": "2024-02-05",
            },
            {
                "currency": "CHF",
                "lines": 1,
                "amount_local": 30.0,
                "first": "2024-02-05",
                "last": "2024-02-05",
            },
        ],
    }
    # Converted figures: O6 (100 EUR) and O7 (50 EUR) only.
    assert _revenue(fixture_con) == pytest.approx(150.0, rel=1e-12)
    stored = db.query_rows(fixture_con, "SELECT count(*) FROM order_lines WHERE order_id > 'O6'")
    assert stored[0][0] == 1
    # The caption of a figure over those days names them: count, local amounts, days, fix.
    held = awaiting.summary(fixture_con, _filters(), [(FEB.start, FEB.end), (JAN.start, JAN.end)])
    note = awaiting.describe(held)
    assert note == (
        "Not included: 2 order lines awaiting an exchange rate — ARS 900.00 (05 Feb 2024); "
        "CHF 30.00 (05 Feb 2024); " + awaiting.FIX + "."
    )
    # …under the figure's filters: a figure on Germany alone names the CHF line only, and
    # one on January none.
    only_de = awaiting.summary(fixture_con, _filters(countries=("DE",)), [(FEB.start, FEB.end)])
    assert list(only_de["currency_code"]) == ["CHF"]
    assert awaiting.describe(awaiting.summary(fixture_con, None, [(JAN.start, JAN.end)])) is None

    again = importer.import_file(fixture_con, "orders", ORDERS, "feb.csv")
    assert again.status == "unchanged" and again.awaiting_rate["lines"] == 2


def test_a_rates_import_converts_them_with_the_rollups(fixture_con):
    importer.import_file(fixture_con, "orders", ORDERS, "feb.csv")
    report = importer.import_file(fixture_con, "rates", RATES, "rates.csv")
    assert report.status == "loaded"
    assert awaiting.count(fixture_con) == 0
    # By hand: 100 (O6) + 50 (O7) + 900 ARS / 900 + 30 CHF / 0.93.
    assert _revenue(fixture_con) == pytest.approx(150 + 1 + 30 / 0.93, rel=1e-12)
    lines = db.query(
        fixture_con,
        "SELECT order_id, net_amount_eur, unit_cost_eur FROM order_lines "
        "WHERE order_id IN ('O8', 'O9') ORDER BY 1",
    )
    assert lines["net_amount_eur"].tolist() == [900 / 900, 30 / 0.93]
    # O8 has no cost in the file: the product's latest stored one (P1: 30 EUR on 9 Jan).
    assert lines["unit_cost_eur"].tolist() == [30.0, 4.0]
    # order_lines stays in date order, and the file re-imported now changes nothing.
    dates = [r[0] for r in db.query_rows(fixture_con, "SELECT order_date FROM order_lines")]
    assert dates == sorted(dates)
    assert importer.import_file(fixture_con, "orders", ORDERS, "feb.csv").status == "unchanged"


def test_fx_update_converts_them(fixture_con):
    # O10 in dollars; O11 in euros with a cost in dollars: both wait for 20 Feb's USD rate.
    late = (
        b"order_id,order_date,customer_id,country,currency,product_id,quantity,unit_price,"
        b"channel,unit_cost,cost_currency\nO10,2024-02-20,C1,US,USD,P1,1,100,direct,,\n"
        b"O11,2024-02-20,C3,DE,EUR,P2,2,30,web,10,USD\n"
    )
    report = importer.import_file(fixture_con, "orders", late, "late.csv")
    assert report.awaiting_rate["lines"] == 2, report.message

    class Rates:
        def get_rates(self, base, day):
            return {"USD": 1.25, "GBP": 0.85}

    result = fx.fetch_newer_rates(fixture_con, until=D(2024, 2, 20), rates_client=Rates())
    assert result.ok and "2 order lines awaiting these rates are now converted" in result.message
    assert db.query_rows(
        fixture_con,
        "SELECT order_id, net_amount_eur, unit_cost_eur FROM order_lines "
        "WHERE order_id IN ('O10', 'O11') ORDER BY 1",
    ) == [("O10", 100 / 1.25, 30.0), ("O11", 60.0, 10 / 1.25)]  # O10: P1's stored 30 EUR
    day = db.query_rows(
        fixture_con,
        "SELECT sum(net_amount_eur), sum(cost_eur) FROM sales_daily "
        "WHERE order_date = '2024-02-20'",
    )
    assert day[0] == pytest.approx((100 / 1.25 + 60, 30 + 2 * 10 / 1.25), rel=1e-12)


def test_undoing_the_import_removes_its_waiting_lines(fixture_con):
    report = importer.import_file(fixture_con, "orders", ORDERS, "feb.csv")
    result = importer.undo_import(fixture_con, report.import_id)
    assert result.removed == 3
    assert awaiting.count(fixture_con) == 0
    assert _revenue(fixture_con) == pytest.approx(100.0, rel=1e-12)


def test_a_made_up_currency_is_still_rejected(fixture_con):
    bad = ORDERS.replace(b"ARS", b"XYZ")
    report = importer.import_file(fixture_con, "orders", bad, "bad.csv")
    assert [(r["line"], r["column"]) for r in report.rejected] == [(3, "currency")]
