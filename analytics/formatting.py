"""Numbers as people read them: money with its currency, percentages, counts, changes.

The one formatter of the app, the exports and the charts. Babel (CLDR) supplies what a locale
decides — currency symbols, where the symbol goes, the grouping and decimal marks, the minus
sign — so nothing here is a hand-written table. The compact form is the house's own: "€12.3M",
"CHF 845.2k", "£2.5bn", the same suffixes in every locale. "bn", not CLDR's English "B",
because that is how the financial press and board packs this app's readers see write it (FT,
ECB, annual reports), and "B" reads as the German "Billion" (10¹²) to half of them; "k" is
lower case as in SI. Babel's own compact forms were not used: they differ by locale (German
has no thousands form at all, so 845,200 stays "845200 CHF"), which would make a KPI row read
unevenly.
"""

from __future__ import annotations

import copy
import functools
import math

from babel import Locale
from babel.numbers import NumberPattern, get_currency_symbol, get_minus_sign_symbol

DEFAULT_LOCALE = "en"
COMPACT = ((1e9, "bn"), (1e6, "M"), (1e3, "k"))


def _is_missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


@functools.cache
def _pattern(locale: str, kind: str, decimals: int) -> NumberPattern:
    """The locale's decimal or percent pattern with exactly `decimals` fraction digits."""
    formats = Locale.parse(locale).percent_formats if kind == "percent" else None
    base = formats[None] if formats is not None else Locale.parse(locale).decimal_formats[None]
    pattern = copy.copy(base)
    pattern.frac_prec = (decimals, decimals)
    return pattern


def number(value: float, decimals: int = 0, locale: str = DEFAULT_LOCALE) -> str:
    """A plain number grouped and rounded by the locale: 1234567.4 -> '1,234,567'."""
    return _pattern(locale, "decimal", decimals).apply(value, locale)


def scaled(magnitude: float) -> tuple[float, str]:
    """A non-negative amount as (value, suffix) for the compact form: 12_345_678 ->
    (12.345678, 'M'). An amount that would round to 1,000 of its unit reads as 1.0 of the
    next ('1.0M', not '1,000.0k')."""
    steps = [(1.0, ""), *reversed(COMPACT)]
    index = max(i for i, (limit, _) in enumerate(steps) if magnitude >= limit or i == 0)
    if index < len(steps) - 1 and round(magnitude / steps[index][0], 1 if index else 0) >= 1000:
        index += 1
    limit, suffix = steps[index]
    return magnitude / limit, suffix


def _nonzero(digits: str) -> bool:
    return any(ch in "123456789" for ch in digits)


def compact(value: float | None, locale: str = DEFAULT_LOCALE, signed: bool = False) -> str:
    """An amount without its currency, as chart labels read: '12.3M', '-845.2k', '999';
    `signed` puts a '+' before gains (a bridge's effects)."""
    if _is_missing(value):
        return "–"
    magnitude, suffix = scaled(abs(value))
    text = number(magnitude, 1 if suffix else 0, locale) + suffix
    if value < 0 and _nonzero(text):
        return get_minus_sign_symbol(locale) + text
    return ("+" if signed and value > 0 and _nonzero(text) else "") + text


def symbol(currency: str, locale: str = DEFAULT_LOCALE) -> str:
    """The currency's symbol in the locale: EUR -> '€', CHF -> 'CHF' (babel, CLDR)."""
    return get_currency_symbol(currency, locale)


def symbols(currencies, locale: str = DEFAULT_LOCALE) -> dict[str, str]:
    """{code: symbol} for the currencies whose symbol is not their code (for a renderer
    whose fonts cannot draw '€' and must write 'EUR ' instead)."""
    return {c: s for c in currencies if (s := symbol(c, locale)) != c}


def _with_symbol(digits: str, negative: bool, currency: str, locale: str) -> str:
    pattern = Locale.parse(locale).currency_formats["standard"]
    sign = symbol(currency, locale)
    before, after = pattern.prefix[0], pattern.suffix[0]
    # CLDR's currency spacing, which babel leaves out: a symbol that is a word (CHF, SEK)
    # is kept apart from the digits.
    if before.endswith("¤") and sign[-1].isalpha():
        before += " "
    if after.startswith("¤") and sign[0].isalpha():
        after = " " + after
    text = before.replace("¤", sign) + digits + after.replace("¤", sign)
    return get_minus_sign_symbol(locale) + text if negative else text


def money(
    value: float | None,
    currency: str,
    compact: bool = True,
    locale: str = DEFAULT_LOCALE,
    cents: bool = False,
) -> str:
    """'€12.3M', 'CHF 845.2k', '-$1.2k' — compact for KPIs; whole units with the locale's
    grouping otherwise ('SEK 1,234,567'), or with two decimals when `cents` ('SEK
    1,234,567.89', for figures that must reconcile to the cent)."""
    if _is_missing(value):
        return "–"
    if compact and not cents:
        magnitude, suffix = scaled(abs(value))
        digits = number(magnitude, 1 if suffix else 0, locale) + suffix
    else:
        digits = number(abs(value), 2 if cents else 0, locale)
    return _with_symbol(digits, value < 0 and _nonzero(digits), currency, locale)


def percent(value: float | None, decimals: int = 1, locale: str = DEFAULT_LOCALE) -> str:
    """0.1234 -> '12.3%'."""
    if _is_missing(value):
        return "–"
    return _pattern(locale, "percent", decimals).apply(value, locale)


def count(value: float | None, locale: str = DEFAULT_LOCALE) -> str:
    """12345 -> '12,345'."""
    return "–" if _is_missing(value) else number(value, 0, locale)


def is_zero(text: str) -> bool:
    """True when a formatted figure shows no non-zero digit ('0.0 pp', '€0', '0.0%'): a
    change that reads as none, so it gets no sign, no arrow and no colour."""
    return not _nonzero(text)


def change(value: float | None, kind: str, locale: str = DEFAULT_LOCALE) -> str | None:
    """A signed change: '+4.2%' for amounts and counts, '+0.8 pp' for percentages; a change
    that rounds to zero has no sign ('0.0%')."""
    if _is_missing(value):
        return None
    if kind == "percent":
        digits = f"{number(abs(value) * 100, 1, locale)} pp"
    else:
        digits = percent(abs(value), 1, locale)
    if is_zero(digits):
        return digits
    return ("+" if value > 0 else get_minus_sign_symbol(locale)) + digits


def signed_money(value: float | None, currency: str, locale: str = DEFAULT_LOCALE) -> str:
    """A change in money: '+€1.2M', '−$340.0k'; '€0' when it rounds to nothing."""
    text = money(value, currency, locale=locale)
    if _is_missing(value) or value <= 0 or is_zero(text):
        return text
    return "+" + text


def metric_value(value: float | None, kind: str, currency: str) -> str:
    """Format a value by its metric kind."""
    if kind == "money":
        return money(value, currency)
    if kind == "percent":
        return percent(value)
    return count(value)
