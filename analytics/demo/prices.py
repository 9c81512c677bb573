"""Local price lists: each product's EUR base price per country and year, revised every
January at the previous December's rate.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import numpy as np
import pandas as pd

from analytics.demo.company import YEARS, invoicing_currency
from analytics.demo.rates import RateMatrix
from analytics.demo.world import World
from analytics.demo.writing import insert_frame

# Cumulative list-price increase in EUR terms per year (the inflation years show).
PRICE_INDEX = {2021: 1.0, 2022: 1.04, 2023: 1.11, 2024: 1.155, 2025: 1.19, 2026: 1.225}


class PriceLists:
    """Local list prices per product x country x year, revised every 1 January.

    The EUR base price times the country's positioning, converted at the previous
    December's average rate and rounded to three significant figures.
    """

    def __init__(self, world: World, rates: RateMatrix):
        n_years = len(YEARS)
        n_countries = len(world.countries)
        self.currency = np.empty((n_countries, n_years), dtype=np.int64)
        self.currency_names = rates.currencies
        factor = np.empty((n_countries, n_years))
        for ci, country in enumerate(world.countries):
            for yi, year in enumerate(YEARS):
                code = invoicing_currency(country, year)
                self.currency[ci, yi] = rates.index[code]
                factor[ci, yi] = (
                    world.price_factor[ci] * PRICE_INDEX[year] * rates.december_mean(code, year)
                )
        raw = world.base_price_eur[:, None, None] * factor[None, :, :]
        digits = 2 - np.floor(np.log10(raw))
        self.price = np.round(raw * 10.0**digits) / 10.0**digits  # [product, country, year]
        self.world = world

    def insert(self, con: duckdb.DuckDBPyConnection) -> None:
        n_products, n_countries, n_years = self.price.shape
        p, c, y = np.meshgrid(
            np.arange(n_products), np.arange(n_countries), np.arange(n_years), indexing="ij"
        )
        p, c, y = p.ravel(), c.ravel(), y.ravel()
        years = np.array(YEARS)[y]
        last = y == n_years - 1
        frame = pd.DataFrame(
            {
                "product_id": [f"P{i + 1:03d}" for i in p],
                "country_code": self.world.country_code[c],
                "valid_from": pd.to_datetime([f"{year}-01-01" for year in years]).date,
                "currency_code": np.array(self.currency_names)[self.currency[c, y]],
                "list_price_local": self.price[p, c, y],
                "valid_to": [
                    None if end else dt.date(year, 12, 31)
                    for year, end in zip(years, last, strict=True)
                ],
            }
        )
        insert_frame(con, "price_list", frame)
