"""A tiny hand-made store whose every figure can be worked out on paper.

Rates (units per EUR), ECB publication days only:
    2023-12-29 Fri  USD 1.105  GBP 0.87
    2024-01-04 Thu  USD 1.08   GBP 0.85   CHF 0.94
    2024-01-05 Fri  USD 1.10   GBP 0.86   CHF 0.95
    2024-01-08 Mon  USD 1.20   GBP 0.90
    2024-01-09 Tue  USD 1.00   GBP 0.80
    2024-02-01 Thu  USD 1.09   GBP 0.855
(1 Jan 2024 is a TARGET holiday; CHF stops after 5 Jan.)

Order lines (local amount = qty x price x (1 - discount)):
    O1/1 2024-01-04 US USD  10 x  50 x 0.9 =  450 USD   Sensors     key account
    O2/1 2024-01-06 GB GBP   2 x 100       =  200 GBP   Sensors     direct  (Saturday)
    O3/1 2024-01-08 US USD   5 x  60       =  300 USD   Sensors     direct
    O3/2 2024-01-08 US USD  -1 x  60       =  -60 USD   Software    direct  (a return)
    O4/1 2024-01-09 DE EUR   4 x  25       =  100 EUR   Software    web
    O5/1 2024-01-09 GB GBP   3 x 100 x 0.8 =  240 GBP   Sensors     direct
    O6/1 2024-02-01 US USD   1 x 109       =  109 USD   Software    web
"""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest

from analytics import fx, rollups, store

D = dt.date

RATES = {
    D(2023, 12, 29): {"USD": 1.105, "GBP": 0.87},
    D(2024, 1, 4): {"USD": 1.08, "GBP": 0.85, "CHF": 0.94},
    D(2024, 1, 5): {"USD": 1.10, "GBP": 0.86, "CHF": 0.95},
    D(2024, 1, 8): {"USD": 1.20, "GBP": 0.90},
    D(2024, 1, 9): {"USD": 1.00, "GBP": 0.80},
    D(2024, 2, 1): {"USD": 1.09, "GBP": 0.855},
}

# order_id, line_no, date, customer, product, country, channel, currency, qty, price, discount,
# EUR amount worked out by hand with the day's rate, unit cost EUR
LINES = [
    (
        "O1",
        1,
        D(2024, 1, 4),
        "C1",
        "P1",
        "US",
        "key account",
        "USD",
        10,
        50.0,
        0.1,
        450 / 1.08,
        20.0,
    ),
    ("O2", 1, D(2024, 1, 6), "C2", "P1", "GB", "direct", "GBP", 2, 100.0, 0.0, 200 / 0.86, 30.0),
    ("O3", 1, D(2024, 1, 8), "C1", "P1", "US", "direct", "USD", 5, 60.0, 0.0, 300 / 1.20, 20.0),
    ("O3", 2, D(2024, 1, 8), "C1", "P2", "US", "direct", "USD", -1, 60.0, 0.0, -60 / 1.20, 10.0),
    ("O4", 1, D(2024, 1, 9), "C3", "P2", "DE", "web", "EUR", 4, 25.0, 0.0, 100.0, 10.0),
    ("O5", 1, D(2024, 1, 9), "C2", "P1", "GB", "direct", "GBP", 3, 100.0, 0.2, 240 / 0.80, 30.0),
    ("O6", 1, D(2024, 2, 1), "C4", "P2", "US", "web", "USD", 1, 109.0, 0.0, 109 / 1.09, 10.0),
]


def build_fixture(con: duckdb.DuckDBPyConnection) -> None:
    store.create_schema(con)
    con.executemany(
        "INSERT INTO countries VALUES (?, ?, ?, ?, ?, ?)",
        [
            ("US", "USA", "United States", "Americas", "North America", "USD"),
            ("GB", "GBR", "United Kingdom", "Northern Europe", "British Isles", "GBP"),
            ("DE", "DEU", "Germany", "Western Europe", "DACH", "EUR"),
            ("CH", "CHE", "Switzerland", "Western Europe", "DACH", "CHF"),
        ],
    )
    con.executemany(
        "INSERT INTO products VALUES (?, ?, ?, ?, ?)",
        [
            ("P1", "SKU-1", "Probe", "Sensors", "Probes"),
            ("P2", "SKU-2", "Suite", "Software", "Licences"),
        ],
    )
    con.executemany(
        "INSERT INTO customers VALUES (?, ?, ?, ?, ?)",
        [
            ("C1", "Acme Inc", "US", "key account", None),
            ("C2", "Brit Ltd", "GB", "direct", None),
            ("C3", "Deutsche GmbH", "DE", "web", None),
            ("C4", "Web Buyer", "US", "web", None),
        ],
    )
    fx.insert_rates(
        con,
        [(day, code, rate) for day, quotes in RATES.items() for code, rate in quotes.items()],
        "test rates",
    )
    fx.rebuild_fx_daily(con)
    con.executemany(
        "INSERT INTO order_lines VALUES (?, ?, ?, ?, ?, 'R1', ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (o, n, d, c, p, country, ch, cur, q, price, disc, q * price * (1 - disc), eur, cost)
            for (o, n, d, c, p, country, ch, cur, q, price, disc, eur, cost) in LINES
        ],
    )
    rollups.rebuild_sales_rollups(con)


@pytest.fixture
def fixture_con():
    con = duckdb.connect(":memory:")
    build_fixture(con)
    yield con
    con.close()
