"""Reference data: the countries the store knows, their regions and currencies.

Population (millions) and GDP (USD billions) are rounded 2021 figures, kept only so the demo
company's market data has a realistic relative size per country; they are not a source.
"""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple

import pandas as pd


class Country(NamedTuple):
    code: str
    iso3: str
    name: str
    region: str
    subregion: str
    currency: str  # the currency in use today
    population_m: float
    gdp_usd_bn: float


WE, NE, CEE = "Western Europe", "Northern Europe", "Central & Eastern Europe"
AM, AP, MEA = "Americas", "Asia Pacific", "Middle East & Africa"

COUNTRIES: tuple[Country, ...] = (
    Country("DE", "DEU", "Germany", WE, "DACH", "EUR", 83.2, 4260),
    Country("AT", "AUT", "Austria", WE, "DACH", "EUR", 8.96, 480),
    Country("CH", "CHE", "Switzerland", WE, "DACH", "CHF", 8.7, 800),
    Country("NL", "NLD", "Netherlands", WE, "Benelux", "EUR", 17.5, 1012),
    Country("BE", "BEL", "Belgium", WE, "Benelux", "EUR", 11.6, 600),
    Country("LU", "LUX", "Luxembourg", WE, "Benelux", "EUR", 0.64, 85),
    Country("FR", "FRA", "France", WE, "France", "EUR", 67.7, 2960),
    Country("GB", "GBR", "United Kingdom", WE, "British Isles", "GBP", 67.3, 3130),
    Country("IE", "IRL", "Ireland", WE, "British Isles", "EUR", 5.0, 500),
    Country("IT", "ITA", "Italy", WE, "Southern Europe", "EUR", 59.1, 2110),
    Country("ES", "ESP", "Spain", WE, "Southern Europe", "EUR", 47.3, 1430),
    Country("PT", "PRT", "Portugal", WE, "Southern Europe", "EUR", 10.3, 254),
    Country("GR", "GRC", "Greece", WE, "Southern Europe", "EUR", 10.6, 215),
    Country("MT", "MLT", "Malta", WE, "Southern Europe", "EUR", 0.52, 17),
    Country("CY", "CYP", "Cyprus", WE, "Southern Europe", "EUR", 0.9, 28),
    Country("SE", "SWE", "Sweden", NE, "Nordics", "SEK", 10.4, 640),
    Country("NO", "NOR", "Norway", NE, "Nordics", "NOK", 5.4, 490),
    Country("DK", "DNK", "Denmark", NE, "Nordics", "DKK", 5.9, 400),
    Country("FI", "FIN", "Finland", NE, "Nordics", "EUR", 5.5, 300),
    Country("IS", "ISL", "Iceland", NE, "Nordics", "ISK", 0.37, 25),
    Country("EE", "EST", "Estonia", NE, "Baltics", "EUR", 1.33, 37),
    Country("LV", "LVA", "Latvia", NE, "Baltics", "EUR", 1.88, 39),
    Country("LT", "LTU", "Lithuania", NE, "Baltics", "EUR", 2.8, 66),
    Country("PL", "POL", "Poland", CEE, "Central Europe", "PLN", 37.8, 680),
    Country("CZ", "CZE", "Czechia", CEE, "Central Europe", "CZK", 10.5, 280),
    Country("SK", "SVK", "Slovakia", CEE, "Central Europe", "EUR", 5.4, 118),
    Country("HU", "HUN", "Hungary", CEE, "Central Europe", "HUF", 9.7, 180),
    Country("SI", "SVN", "Slovenia", CEE, "Central Europe", "EUR", 2.1, 61),
    Country("RO", "ROU", "Romania", CEE, "South-East Europe", "RON", 19.1, 285),
    Country("BG", "BGR", "Bulgaria", CEE, "South-East Europe", "EUR", 6.9, 84),
    Country("HR", "HRV", "Croatia", CEE, "South-East Europe", "EUR", 3.9, 68),
    Country("RS", "SRB", "Serbia", CEE, "South-East Europe", "RSD", 6.8, 63),
    Country("US", "USA", "United States", AM, "North America", "USD", 332.0, 23300),
    Country("CA", "CAN", "Canada", AM, "North America", "CAD", 38.2, 2000),
    Country("MX", "MEX", "Mexico", AM, "Latin America", "MXN", 126.7, 1270),
    Country("BR", "BRA", "Brazil", AM, "Latin America", "BRL", 214.0, 1650),
    Country("AR", "ARG", "Argentina", AM, "Latin America", "ARS", 45.8, 490),
    Country("CL", "CHL", "Chile", AM, "Latin America", "CLP", 19.5, 317),
    Country("CO", "COL", "Colombia", AM, "Latin America", "COP", 51.5, 314),
    Country("PE", "PER", "Peru", AM, "Latin America", "PEN", 33.7, 226),
    Country("CN", "CHN", "China", AP, "Greater China", "CNY", 1412.0, 17700),
    Country("HK", "HKG", "Hong Kong", AP, "Greater China", "HKD", 7.4, 369),
    Country("TW", "TWN", "Taiwan", AP, "Greater China", "TWD", 23.4, 775),
    Country("JP", "JPN", "Japan", AP, "North-East Asia", "JPY", 125.7, 4940),
    Country("KR", "KOR", "South Korea", AP, "North-East Asia", "KRW", 51.7, 1810),
    Country("IN", "IND", "India", AP, "South Asia", "INR", 1408.0, 3150),
    Country("ID", "IDN", "Indonesia", AP, "South-East Asia", "IDR", 273.8, 1190),
    Country("MY", "MYS", "Malaysia", AP, "South-East Asia", "MYR", 33.6, 373),
    Country("PH", "PHL", "Philippines", AP, "South-East Asia", "PHP", 113.9, 394),
    Country("SG", "SGP", "Singapore", AP, "South-East Asia", "SGD", 5.45, 397),
    Country("TH", "THA", "Thailand", AP, "South-East Asia", "THB", 70.0, 506),
    Country("VN", "VNM", "Vietnam", AP, "South-East Asia", "VND", 97.5, 366),
    Country("AU", "AUS", "Australia", AP, "Oceania", "AUD", 25.7, 1550),
    Country("NZ", "NZL", "New Zealand", AP, "Oceania", "NZD", 5.1, 250),
    Country("TR", "TUR", "Turkey", MEA, "Middle East", "TRY", 84.8, 819),
    Country("IL", "ISR", "Israel", MEA, "Middle East", "ILS", 9.4, 488),
    Country("AE", "ARE", "United Arab Emirates", MEA, "Gulf", "AED", 9.4, 415),
    Country("SA", "SAU", "Saudi Arabia", MEA, "Gulf", "SAR", 35.9, 834),
    Country("QA", "QAT", "Qatar", MEA, "Gulf", "QAR", 2.7, 180),
    Country("ZA", "ZAF", "South Africa", MEA, "Sub-Saharan Africa", "ZAR", 59.4, 419),
    Country("NG", "NGA", "Nigeria", MEA, "Sub-Saharan Africa", "NGN", 213.0, 441),
    Country("KE", "KEN", "Kenya", MEA, "Sub-Saharan Africa", "KES", 53.0, 110),
    Country("EG", "EGY", "Egypt", MEA, "North Africa", "EGP", 109.0, 425),
    Country("MA", "MAR", "Morocco", MEA, "North Africa", "MAD", 37.0, 142),
)

# Countries that adopted the euro during the demo's years: the earlier currency and the last
# day it was legal tender (the ECB series ends the last business day before the switch).
LEGACY_CURRENCIES: dict[str, tuple[str, dt.date]] = {
    "HR": ("HRK", dt.date(2022, 12, 31)),
    "BG": ("BGN", dt.date(2025, 12, 31)),
}


def countries_frame() -> pd.DataFrame:
    """The countries table's rows."""
    return pd.DataFrame(
        [(c.code, c.iso3, c.name, c.region, c.subregion, c.currency) for c in COUNTRIES],
        columns=["country_code", "iso3", "name", "region", "subregion", "currency_code"],
    )
