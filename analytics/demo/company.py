"""The demo company's shared parameters: its period, how each channel and region behaves,
and the currency it invoices each country in.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from analytics import reference

COMPANY = "Nordwind Instruments (fictional)"
START = dt.date(2021, 1, 1)
END = dt.date(2026, 9, 30)
YEARS = tuple(range(START.year, END.year + 1))
PLAN_END = dt.date(2026, 12, 31)  # quotas and budgets run to the end of the current year

# Channel: (share of customers outside distributor markets, discount range, mean quantity,
# lines per order range). Small markets are served only by distributors and the web shop.
CHANNELS = ("key account", "distributor", "direct", "web")
CHANNEL_SHARE = np.array([0.05, 0.10, 0.55, 0.30])
DISCOUNT_RANGE = {
    "key account": (0.15, 0.25),
    "distributor": (0.30, 0.40),
    "direct": (0.03, 0.12),
    "web": (0.0, 0.05),
}
MEAN_QUANTITY = {"key account": 8.0, "distributor": 6.0, "direct": 2.5, "web": 0.5}
LINES_PER_ORDER = {"key account": (2, 9), "distributor": (2, 7), "direct": (1, 4), "web": (1, 2)}
ORDER_RATE = {"key account": 5.0, "distributor": 3.0, "direct": 1.2, "web": 0.8}

# Yearly growth by region: the company is established in Western Europe and expanding east
# and in Asia.
REGION_GROWTH = {
    reference.WE: 0.02,
    reference.NE: 0.035,
    reference.CEE: 0.09,
    reference.AM: 0.06,
    reference.AP: 0.11,
    reference.MEA: 0.05,
}
REGION_PRESENCE = {  # relative sales strength per unit of GDP
    reference.WE: 1.0,
    reference.NE: 1.2,
    reference.CEE: 0.9,
    reference.AM: 0.22,
    reference.AP: 0.16,
    reference.MEA: 0.25,
}


# Currencies the demo invoices in: those with ECB rates all through 2021–2026.
ECB_INVOICING = {
    "AUD",
    "BRL",
    "CAD",
    "CHF",
    "CNY",
    "CZK",
    "DKK",
    "GBP",
    "HKD",
    "HUF",
    "IDR",
    "ILS",
    "INR",
    "ISK",
    "JPY",
    "KRW",
    "MXN",
    "MYR",
    "NOK",
    "NZD",
    "PHP",
    "PLN",
    "RON",
    "SEK",
    "SGD",
    "THB",
    "TRY",
    "USD",
    "ZAR",
}


def invoicing_currency(country: reference.Country, year: int) -> str:
    """The currency the demo invoices a country in during a year."""
    legacy = reference.LEGACY_CURRENCIES.get(country.code)
    if legacy and year <= legacy[1].year:
        return legacy[0]
    if country.currency == "EUR" or country.currency in ECB_INVOICING:
        return country.currency
    # No ECB rate: European distributors are invoiced in EUR, all others in USD.
    return "EUR" if country.region in (reference.WE, reference.NE, reference.CEE) else "USD"
