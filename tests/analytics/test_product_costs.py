"""A product cost file fills in the margin of lines already loaded (issue 11, item 4), on
the hand-made fixture (conftest.py: USD 1.20 on 8 Jan 2024, 1.09 on 1 Feb).

An order file brings P3, a product with no cost anywhere:
    O7/1 2024-01-08 US USD  3 x 100 = 300 USD = 250 EUR   no cost
    O8/1 2024-02-01 DE EUR  2 x  50 = 100 EUR             no cost
    O9/1 2024-02-01 DE EUR  1 x  50 =  50 EUR             cost 5 EUR in the file
The cost file: P3 12 USD from 1 Jan 2024, 20 USD from 1 Feb 2024. By hand, in EUR:
    O7 12 / 1.20 = 10 (the January cost at 8 Jan's rate); O8 20 / 1.09; O9 keeps its 5.
"""

from __future__ import annotations

import datetime as dt

import pytest

from analytics import db, importer, overview
from analytics.filters import Filters
from analytics.importer import Options
from analytics.periods import Period

D = dt.date
ORDERS = (
    b"order_id,order_date,customer_id,country,currency,product_id,quantity,unit_price,"
    b"channel,unit_cost_eur\n"
    b"O7,2024-01-08,C1,US,USD,P3,3,100,direct,\n"
    b"O8,2024-02-01,C3,DE,EUR,P3,2,50,web,\n"
    b"O9,2024-02-01,C3,DE,EUR,P3,1,50,web,5\n"
)
COSTS = b"Material,Standard cost,Valid from\nP3,12,2024-01-01\nP3,20,2024-02-01\n"
FEB = Period(D(2024, 2, 1), D(2024, 2, 1), "1 Feb 2024")
JAN = Period(D(2024, 1, 8), D(2024, 1, 9), "8–9 Jan 2024")


def _costs(con) -> dict:
    rows = db.query_rows(
        con, "SELECT order_id, unit_cost_eur FROM order_lines WHERE product_id = 'P3'"
    )
    return dict(rows)


def _margin_coverage(con) -> float:
    kpis = overview.kpis(con, Filters(period=FEB, comparison=JAN, currency="EUR"))
    return float(kpis.set_index("metric").loc["gross_margin_pct", "coverage"])


def test_a_cost_file_fills_in_unknown_costs_by_hand(fixture_con):
    assert importer.import_file(fixture_con, "orders", ORDERS, "p3.csv").status == "loaded"
    assert _costs(fixture_con) == {"O7": None, "O8": None, "O9": 5.0}
    # 1 Feb: O6 (100 EUR, cost known), O8 (100, unknown), O9 (50, known).
    assert _margin_coverage(fixture_con) == pytest.approx(150 / 250)

    report = importer.import_file(
        fixture_con, "product_costs", COSTS, "costs.csv", Options(cost_currency="USD")
    )
    assert (report.status, report.rows_loaded, report.rows_rejected) == ("loaded", 2, 0)
    assert "2 order lines take a standard cost" in report.message
    assert _costs(fixture_con) == {"O7": 12 / 1.20, "O8": 20 / 1.09, "O9": 5.0}
    assert _margin_coverage(fixture_con) == 1.0
    # The rollups were rebuilt with the costs: 1 Feb's cost is O6's 10 + 2 x 20 / 1.09 + 5.
    (cost,) = db.query_rows(
        fixture_con, "SELECT sum(cost_eur) FROM sales_daily WHERE order_date = '2024-02-01'"
    )[0]
    assert cost == pytest.approx(10 + 2 * 20 / 1.09 + 5, rel=1e-12)

    # Re-importing either file changes nothing.
    again = importer.import_file(
        fixture_con, "product_costs", COSTS, "costs.csv", Options(cost_currency="USD")
    )
    assert again.status == "unchanged"
    assert importer.import_file(fixture_con, "orders", ORDERS, "p3.csv").status == "unchanged"
    assert _costs(fixture_con) == {"O7": 12 / 1.20, "O8": 20 / 1.09, "O9": 5.0}


def test_a_corrected_cost_file_corrects_the_lines_and_new_lines_take_it(fixture_con):
    importer.import_file(fixture_con, "orders", ORDERS, "p3.csv")
    importer.import_file(fixture_con, "product_costs", COSTS, "c.csv", Options(cost_currency="USD"))
    fixed = COSTS.replace(b"P3,12,", b"P3,24,")
    report = importer.import_file(
        fixture_con, "product_costs", fixed, "c2.csv", Options(cost_currency="USD")
    )
    assert report.status == "loaded" and report.updated == 1
    assert _costs(fixture_con)["O7"] == 24 / 1.20 and _costs(fixture_con)["O9"] == 5.0
    later = b"order_id,order_date,customer_id,country,currency,product_id,quantity,unit_price\n"
    later += b"O10,2024-01-09,C3,DE,EUR,P3,1,50\n"
    importer.import_file(fixture_con, "orders", later, "later.csv")
    # No cost in the file: P3's standard cost of 9 Jan (24 USD at 1.00), not its latest
    # cost on another line.
    assert _costs(fixture_con)["O10"] == 24 / 1.00


def test_a_cost_file_without_a_currency_is_asked_about(fixture_con):
    report = importer.import_file(fixture_con, "product_costs", COSTS, "costs.csv")
    assert report.status == "rejected" and "--cost-currency" in report.message
    stated = COSTS.replace(b"Valid from\n", b"Valid from,Currency\n").replace(b"01\n", b"01,EUR\n")
    report = importer.import_file(fixture_con, "product_costs", stated, "costs.csv")
    assert report.status == "loaded", report.message
    assert db.query_rows(
        fixture_con, "SELECT product_id, currency_code, standard_cost FROM product_costs ORDER BY 3"
    ) == [("P3", "EUR", 12.0), ("P3", "EUR", 20.0)]
    # P3 did not exist: the cost file creates it, as orders do.
    assert report.created == {"products": 1}
