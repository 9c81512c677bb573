"""The one number formatter: babel's symbols and separators, the house's compact suffixes.

The expected strings are written out by hand from CLDR's rules for each locale (en: symbol
before the number, ',' groups; de: symbol after a no-break space, '.' groups, ',' decimals).
"""

from __future__ import annotations

import pytest

from analytics import formatting


@pytest.mark.parametrize(
    ("value", "currency", "locale", "expected"),
    [
        (12_345_678, "EUR", "de", "12,3M\xa0€"),
        (845_200, "CHF", "de", "845,2k\xa0CHF"),
        (-1_234, "USD", "de", "-1,2k\xa0$"),
        (5_000, "BRL", "en", "R$5.0k"),  # a symbol the old hand-written table did not have
        (999_960, "EUR", "en", "€1.0M"),  # not "€1,000.0k"
        (999.6, "EUR", "en", "€1.0k"),
        (-0.4, "EUR", "en", "€0"),  # no "-€0"
    ],
)
def test_money_compact_by_locale(value, currency, locale, expected):
    assert formatting.money(value, currency, locale=locale) == expected


def test_money_full_groups_by_locale():
    assert formatting.money(1_234_567.4, "EUR", compact=False, locale="de") == "1.234.567\xa0€"
    assert formatting.money(1_234_567.4, "INR", compact=False, locale="en_IN") == "₹12,34,567"


@pytest.mark.parametrize(
    ("value", "signed", "expected"),
    [
        (1_250_000, True, "+1.2M"),
        (1_250_000, False, "1.2M"),
        (-845_200, True, "-845.2k"),
        (0.0, True, "0"),
        (2.5e9, False, "2.5bn"),
        (12, True, "+12"),
    ],
)
def test_compact_amounts_for_chart_labels(value, signed, expected):
    assert formatting.compact(value, signed=signed) == expected


def test_percent_count_and_change_follow_the_locale():
    assert formatting.percent(0.1234) == "12.3%"
    assert formatting.percent(0.1234, locale="de") == "12,3\xa0%"
    assert formatting.count(12_345, locale="de") == "12.345"
    assert formatting.change(0.008, "percent", locale="de") == "+0,8 pp"


def test_symbols_come_from_babel():
    assert formatting.symbols(["EUR", "CHF", "GBP", "CNY"]) == {
        "EUR": "€",
        "GBP": "£",
        "CNY": "CN¥",
    }


def test_a_change_that_rounds_to_zero_has_no_sign():
    # "+0.0 pp" and "↑ €0" read as a rise; nothing changed at the precision shown.
    assert formatting.change(0.0, "percent") == "0.0 pp"
    assert formatting.change(0.00004, "percent") == "0.0 pp"
    assert formatting.change(-0.0004, "money") == "0.0%"
    assert formatting.change(0.0006, "money") == "+0.1%"
    assert formatting.change(-0.0006, "money") == "-0.1%"
    assert formatting.compact(1e-9, signed=True) == "0"
    assert formatting.signed_money(0.2, "EUR") == "€0"
    assert formatting.signed_money(999_960, "USD") == "+$1.0M"  # not "+$1,000.0k"
    assert formatting.signed_money(-340_000, "USD") == "-$340.0k"
    assert formatting.is_zero("0.0 pp") and not formatting.is_zero("+0.1 pp")
