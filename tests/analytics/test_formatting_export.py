"""Number formatting."""

from __future__ import annotations

import pytest

from analytics import formatting


@pytest.mark.parametrize(
    ("value", "currency", "expected"),
    [
        (12_345_678, "EUR", "€12.3M"),
        (845_200, "CHF", "CHF 845.2k"),
        (-1_234, "USD", "-$1.2k"),
        (999, "JPY", "¥999"),
        (2.5e9, "GBP", "£2.5bn"),
        (float("nan"), "EUR", "–"),
    ],
)
def test_money_compact(value, currency, expected):
    assert formatting.money(value, currency) == expected


def test_money_full_uses_thousands_separators():
    assert formatting.money(1234567.4, "SEK", compact=False) == "SEK 1,234,567"


@pytest.mark.parametrize(
    ("value", "kind", "expected"),
    [
        (0.0423, "money", "+4.2%"),
        (-0.1, "count", "-10.0%"),
        (0.008, "percent", "+0.8 pp"),
        (None, "money", None),
    ],
)
def test_change(value, kind, expected):
    assert formatting.change(value, kind) == expected
