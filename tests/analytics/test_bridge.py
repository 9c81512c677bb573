"""The revenue bridge on the hand-made fixture, every effect worked out by hand.

Base 4–7 Jan 2024, current 8–9 Jan, reporting currency EUR (lines in conftest.py):
    (P1, US)  base 10 u, 450 USD at 1.08 = 416.67 EUR   current 5 u, 300 USD at 1.20 = 250 EUR
    (P1, GB)  base  2 u, 200 GBP at 0.86 = 232.56 EUR   current 3 u, 240 GBP at 0.80 = 300 EUR
    (P2, US)  —                                         current -1 u (a return), -60 USD = -50 EUR
    (P2, DE)  —                                         current 4 u, 100 EUR
Base-period average rates (publication days 4 and 5 Jan): USD 1/1.08 and 1/1.10 EUR per USD,
GBP 1/0.85 and 1/0.86.
"""

from __future__ import annotations

import datetime as dt

import pytest

from analytics import bridge, fx
from analytics.filters import Filters
from analytics.periods import Period

D = dt.date
BASE = (D(2024, 1, 4), D(2024, 1, 7))
CURRENT = (D(2024, 1, 8), D(2024, 1, 9))
USD = (1 / 1.08 + 1 / 1.10) / 2  # EUR per USD, base average
GBP = (1 / 0.85 + 1 / 0.86) / 2

R0_US, R0_GB = 450 / 1.08, 200 / 0.86
R1 = 300 / 1.20 + 240 / 0.80 - 60 / 1.20 + 100
CC1_US_P1, CC1_GB, CC1_US_P2, CC1_DE = 300 * USD, 240 * GBP, -60 * USD, 100.0
CC1 = CC1_US_P1 + CC1_GB + CC1_US_P2 + CC1_DE
R0 = R0_US + R0_GB
Q0, Q1 = 12, 5 + 3 - 1 + 4
ASP0 = R0 / Q0
P0_US, P0_GB = R0_US / 10, R0_GB / 2


def effects(frame) -> dict[str, float]:
    return dict(zip(frame["effect"], frame["amount"], strict=True))


def test_every_effect_by_hand(fixture_con):
    result = bridge.revenue_bridge(fixture_con, BASE, CURRENT, "EUR")
    assert list(result["effect"]) == ["base", "volume", "mix", "price", "new", "fx", "current"]
    got = effects(result)
    expected = {
        "base": R0,
        "volume": (Q1 - Q0) * ASP0,
        "mix": (5 * P0_US + 3 * P0_GB) - Q1 * ASP0,
        "price": 5 * (CC1_US_P1 / 5 - P0_US) + 3 * (CC1_GB / 3 - P0_GB),
        "new": CC1_US_P2 + CC1_DE,  # P2 was not sold in the base period
        "fx": R1 - CC1,
        "current": R1,
    }
    for name, value in expected.items():
        assert got[name] == pytest.approx(value, rel=1e-12), name
        assert value != pytest.approx(0), f"the fixture should make {name} non-zero"


def test_bridge_reconciles_in_another_currency_and_under_filters(fixture_con):
    for currency, filters in [("USD", None), ("GBP", None), ("EUR", _only(countries=("US",)))]:
        got = effects(bridge.revenue_bridge(fixture_con, BASE, CURRENT, currency, filters))
        steps = sum(got[e] for e in ("base", "volume", "mix", "price", "new", "fx"))
        assert steps == pytest.approx(got["current"], rel=1e-12)
    us = effects(bridge.revenue_bridge(fixture_con, BASE, CURRENT, "EUR", _only(countries=("US",))))
    assert us["base"] == pytest.approx(R0_US)
    assert us["current"] == pytest.approx(300 / 1.20 - 60 / 1.20)


def test_constant_currency_revenue_by_hand(fixture_con):
    assert bridge.constant_currency_revenue(fixture_con, CURRENT, BASE, "EUR") == pytest.approx(CC1)
    # In USD: each currency at the base period's mean USD cross rate.
    usd_per_gbp = (1.08 / 0.85 + 1.10 / 0.86) / 2
    usd_per_eur = (1.08 + 1.10) / 2
    expected = (300 - 60) * 1.0 + 240 * usd_per_gbp + 100 * usd_per_eur
    assert bridge.constant_currency_revenue(fixture_con, CURRENT, BASE, "USD") == pytest.approx(
        expected
    )


def test_missing_base_rate_is_a_clear_error(fixture_con):
    # CHF's last rate is 5 Jan: on 1 Feb (a day with sales) it is 27 days old, so reporting
    # in CHF is refused, naming the currency, rather than converted at a stale rate.
    with pytest.raises(fx.RateUnavailable, match="CHF"):
        bridge.revenue_bridge(fixture_con, BASE, (D(2024, 2, 1), D(2024, 2, 1)), "CHF")


def test_base_without_sales_is_refused(fixture_con):
    with pytest.raises(ValueError, match="no net units"):
        # 5 Jan has rates but no orders.
        bridge.revenue_bridge(fixture_con, (D(2024, 1, 5), D(2024, 1, 5)), CURRENT, "EUR")


def _only(**kwargs) -> Filters:
    period = Period(*CURRENT, "current")
    return Filters(period=period, comparison=Period(*BASE, "base"), **kwargs)


@pytest.mark.parametrize(
    ("base", "current", "currency", "filters"),
    [
        ((D(2026, 4, 1), D(2026, 6, 30)), (D(2026, 7, 1), D(2026, 9, 30)), "EUR", None),
        ((D(2025, 7, 1), D(2025, 9, 30)), (D(2026, 7, 1), D(2026, 9, 30)), "USD", None),
        ((D(2022, 10, 1), D(2022, 12, 31)), (D(2023, 1, 1), D(2023, 3, 31)), "JPY", None),
        (
            (D(2025, 10, 1), D(2025, 12, 31)),
            (D(2026, 1, 1), D(2026, 3, 31)),
            "GBP",
            {"regions": ("Central & Eastern Europe",)},
        ),
        (
            (D(2024, 1, 1), D(2024, 3, 31)),
            (D(2024, 4, 1), D(2024, 6, 30)),
            "CHF",
            {"product_lines": ("Sensors",), "channels": ("distributor", "direct")},
        ),
    ],
)
def test_bridge_reconciles_on_the_demo(demo_db_path, base, current, currency, filters):
    import duckdb

    with duckdb.connect(str(demo_db_path), read_only=True) as con:
        scope = _only(**filters) if filters else None
        got = effects(bridge.revenue_bridge(con, base, current, currency, scope))
        steps = sum(got[e] for e in ("base", "volume", "mix", "price", "new", "fx"))
        assert steps == pytest.approx(got["current"], rel=1e-9)
        assert all(got[e] != 0 for e in ("volume", "mix", "price", "fx"))
        # The ends are the periods' reported revenue, computed here from order_lines and fx.
        for period, name in ((base, "base"), (current, "current")):
            days = con.execute(
                "SELECT order_date, sum(net_amount_eur) FROM order_lines o "
                "WHERE order_date BETWEEN ? AND ? "
                + (
                    "AND country_code IN (SELECT country_code FROM countries WHERE region = "
                    "'Central & Eastern Europe') "
                    if filters and "regions" in filters
                    else ""
                )
                + (
                    "AND product_id IN (SELECT product_id FROM products WHERE product_line = "
                    "'Sensors') AND channel IN ('distributor', 'direct') "
                    if filters and "product_lines" in filters
                    else ""
                )
                + "GROUP BY 1",
                list(period),
            ).fetchall()
            expected = sum(eur * fx.units_per_eur(con, currency, day) for day, eur in days)
            assert got[name] == pytest.approx(expected, rel=1e-9)
