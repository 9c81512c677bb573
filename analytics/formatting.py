"""Numbers as people read them: money with its currency, percentages, counts, changes."""

from __future__ import annotations

import math

CURRENCY_SYMBOLS = {
    "EUR": "€",
    "USD": "$",
    "GBP": "£",
    "JPY": "¥",
    "CNY": "CN¥",
    "INR": "₹",
    "KRW": "₩",
}


def _is_missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def money(value: float | None, currency: str, compact: bool = True) -> str:
    """'€12.3M', 'CHF 845.2k', '$-1,234' — compact for KPIs, full with separators otherwise."""
    if _is_missing(value):
        return "–"
    symbol = CURRENCY_SYMBOLS.get(currency)
    sign = "-" if value < 0 else ""
    magnitude = abs(value)
    if compact:
        for limit, suffix in ((1e9, "bn"), (1e6, "M"), (1e3, "k")):
            if magnitude >= limit:
                number = f"{magnitude / limit:,.1f}{suffix}"
                break
        else:
            number = f"{magnitude:,.0f}"
    else:
        number = f"{magnitude:,.0f}"
    return f"{sign}{symbol}{number}" if symbol else f"{sign}{currency} {number}"


def percent(value: float | None, decimals: int = 1) -> str:
    """0.1234 -> '12.3%'."""
    return "–" if _is_missing(value) else f"{value * 100:.{decimals}f}%"


def count(value: float | None) -> str:
    """12345 -> '12,345'."""
    return "–" if _is_missing(value) else f"{value:,.0f}"


def change(value: float | None, kind: str) -> str | None:
    """A signed change: '+4.2%' for amounts and counts, '+0.8 pp' for percentages."""
    if _is_missing(value):
        return None
    if kind == "percent":
        return f"{value * 100:+.1f} pp"
    return f"{value * 100:+.1f}%"


def metric_value(value: float | None, kind: str, currency: str) -> str:
    """Format a value by its metric kind."""
    if kind == "money":
        return money(value, currency)
    if kind == "percent":
        return percent(value)
    return count(value)
