"""The exchange rates the demo converts with: units per EUR for every day, from fx_daily."""

from __future__ import annotations

import datetime as dt

import duckdb
import numpy as np
import pandas as pd

from analytics import db
from analytics.demo.company import END, START


class RateMatrix:
    """Units per EUR for every calendar day of the demo and every currency it invoices in."""

    def __init__(self, con: duckdb.DuckDBPyConnection):
        self.first = START - dt.timedelta(days=40)  # December rates set January's price lists
        self.days = (END - self.first).days + 1
        frame = db.query(
            con,
            "SELECT rate_date, currency_code, units_per_eur FROM fx_daily "
            "WHERE rate_date BETWEEN ? AND ?",
            [self.first, END],
        )
        self.currencies = sorted(frame["currency_code"].unique())
        self.index = {c: i for i, c in enumerate(self.currencies)}
        self.values = np.full((self.days, len(self.currencies)), np.nan)
        day = (pd.to_datetime(frame["rate_date"]) - pd.Timestamp(self.first)).dt.days.to_numpy()
        col = frame["currency_code"].map(self.index).to_numpy()
        self.values[day, col] = frame["units_per_eur"].to_numpy()

    def day_index(self, date: dt.date) -> int:
        return (date - self.first).days

    def lookup(self, days_since_start: np.ndarray, currency_idx: np.ndarray) -> np.ndarray:
        """Rates for demo day numbers (0 = START); raises if any is missing."""
        values = self.values[days_since_start + (START - self.first).days, currency_idx]
        if np.isnan(values).any():
            raise RuntimeError("The ECB history lacks a rate the demo needs; rebuild the store.")
        return values

    def december_mean(self, currency: str, year: int) -> float:
        lo = self.day_index(dt.date(year - 1, 12, 1))
        hi = self.day_index(dt.date(year - 1, 12, 31))
        return float(np.nanmean(self.values[lo : hi + 1, self.index[currency]]))
