"""The forecast's figures as people see them: in the reporting currency, with their basis.

The forecast is made in EUR at constant (as-of) rates; it is shown in the reporting currency
at one rate, the ECB rate of that currency on or before the as-of date, so every month of the
history, the forecast and its intervals is multiplied by the same number and the shape of the
series does not change with the currency. The EUR budget is shown at that rate too.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import duckdb
import numpy as np
import pandas as pd

from analytics import db, fx
from analytics.forecast import backtest, batch, landing
from analytics.forecast.batch import SeriesForecast, StoreForecast
from analytics.forecast.models import CANDIDATES, SEASONAL_NAIVE, Candidate
from analytics.forecast.series import LEVELS

LEVEL_LABELS = {level: level.replace("_", " ").capitalize() for level in LEVELS}
BOUNDS = ("lo80", "hi80", "lo95", "hi95")
WEB = "web"


@dataclass(frozen=True)
class Shown:
    """The reporting currency and the one rate that converts the EUR forecast into it."""

    currency: str
    rate: float  # units of `currency` per EUR
    rate_date: dt.date | None  # the ECB publication day of `rate`; None for EUR
    as_of: dt.date

    def note(self) -> str:
        made = (
            f"Made in EUR at constant as-of rates (each currency's latest ECB rate on or before "
            f"{self.as_of:%d %b %Y})"
        )
        if self.currency == fx.BASE_CURRENCY:
            return f"{made}, shown in EUR."
        return (
            f"{made}, shown in {self.currency} at the ECB rate of {self.rate_date:%d %b %Y} "
            f"({self.rate:,.4f} {self.currency} per EUR)."
        )

    def axis(self) -> str:
        if self.currency == fx.BASE_CURRENCY:
            return f"EUR at constant {self.as_of:%d %b %Y} rates"
        return f"{self.currency} (EUR at constant {self.as_of:%d %b %Y} rates, × {self.rate:,.4f})"


def shown_in(cur: duckdb.DuckDBPyConnection, currency: str, as_of: dt.date) -> Shown:
    """`currency`'s rate on `as_of` by the store's rate rule (raises RateUnavailable)."""
    rate = fx.units_per_eur(cur, currency, as_of)
    if currency == fx.BASE_CURRENCY:
        return Shown(currency, 1.0, None, as_of)
    published = db.query_rows(
        cur,
        "SELECT max(rate_date) FROM fx_rates WHERE currency_code = $c AND rate_date <= $d",
        {"c": currency, "d": as_of},
    )[0][0]
    return Shown(currency, rate, published, as_of)


def candidate(name: str) -> Candidate:
    return next(c for c in CANDIDATES if c.name == name)


def series_frame(item: SeriesForecast, months: int, shown: Shown) -> pd.DataFrame:
    """History and forecast 1..`months` ahead in the reporting currency.

    Grain: one row per month: month, actual (NaN on forecast months), forecast, lo80, hi80,
    lo95, hi95 (NaN on history months)."""
    history = pd.DataFrame({"month": item.history.months, "actual": item.history.values})
    ahead = pd.DataFrame({"month": list(item.months[:months]), "forecast": item.forecast[:months]})
    for name in BOUNDS:
        ahead[name] = item.bounds[name][:months]
    frame = pd.concat([history, ahead], ignore_index=True)
    for column in ("actual", "forecast", *BOUNDS):
        frame[column] = frame[column].astype("float64") * shown.rate
    return frame


def scores_frame(item: SeriesForecast) -> pd.DataFrame:
    """The back-test of every candidate scored, the chosen one first, seasonal naive next.

    Grain: one row per candidate: model, chosen, wmape, mase."""
    names = sorted(
        item.scores,
        key=lambda n: (n != item.chosen, n != SEASONAL_NAIVE, list(item.scores).index(n)),
    )
    return pd.DataFrame(
        {
            "model": names,
            "chosen": [n == item.chosen for n in names],
            "wmape": [_none_to_nan(item.scores[n].wmape) for n in names],
            "mase": [_none_to_nan(item.scores[n].mase) for n in names],
        }
    )


def _none_to_nan(value: float | None) -> float:
    return np.nan if value is None else float(value)


def track_record(item: SeriesForecast, months_ago: int, shown: Shown) -> pd.DataFrame:
    """The chosen model's forecast made `months_ago` months ago against what happened, in
    the reporting currency (see backtest.forecast_made; raises ValueError if too short)."""
    made = backtest.forecast_made(item.history, candidate(item.chosen), months_ago)
    for column in ("actual", "forecast", *BOUNDS):
        made[column] = made[column] * shown.rate
    return made


def max_months_ago(item: SeriesForecast) -> int:
    """The furthest back a forecast of the chosen model can be made again (0: not at all)."""
    need = backtest.MIN_MONTHS if item.chosen == SEASONAL_NAIVE else backtest.FIT_MONTHS
    return max(0, min(len(item.history.values) - need, 12))


def landing_frame(landings: list[landing.Landing], shown: Shown) -> pd.DataFrame:
    """Year-end landings in the reporting currency, against budget.

    Grain: one row per group: group, months_actual, actual_to_date, months_forecast,
    forecast_rest, landing, lo80, hi80, lo95, hi95, budget, versus_budget, versus_budget_pct
    (NaN where the group has no budget)."""
    rows = []
    for x in landings:
        budget = np.nan if x.budget is None else x.budget * shown.rate
        lands = x.landing * shown.rate
        rows.append(
            {
                "group": x.group,
                "months_actual": x.months_actual,
                "actual_to_date": x.actual_to_date * shown.rate,
                "months_forecast": x.months_forecast,
                "forecast_rest": x.forecast_rest * shown.rate,
                "landing": lands,
                **{name: x.bounds[name] * shown.rate for name in BOUNDS},
                "budget": budget,
                "versus_budget": lands - budget,
                "versus_budget_pct": (lands - budget) / budget if budget else np.nan,
            }
        )
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class Summary:
    """What the deck's slide and the HTML report's section show: the total's forecast to the
    year end and the year-end landing per region and in total, in the reporting currency."""

    shown: Shown
    year: int
    total: pd.DataFrame  # series_frame of the total, last 12 months and the year's rest
    chosen: str
    method_note: str
    landings: pd.DataFrame  # landing_frame: regions, then the total


def summary(
    store: StoreForecast, regions: list[landing.Landing], total: list[landing.Landing], shown: Shown
) -> Summary:
    item = store.find("total", total[0].group)
    year = store.window.as_of.year
    months = max(1, min(item.year_months, len(item.months)))
    frame = series_frame(item, months, shown)
    frame = frame[frame["month"] >= frame["month"].iloc[-1].replace(year=year - 1, month=1)]
    return Summary(
        shown=shown,
        year=year,
        total=frame.reset_index(drop=True),
        chosen=item.chosen,
        method_note=item.method_note,
        landings=landing_frame([*regions, *total], shown),
    )


def review_as_of(quarter_end: dt.date, data_date: dt.date) -> dt.date:
    """A quarterly review's forecast is made as at its quarter's end (or the data's, if
    earlier), so the deck of a past quarter says where that year looked like landing then."""
    return min(quarter_end, data_date)


def build_summary(cur: duckdb.DuckDBPyConnection, as_of: dt.date, currency: str) -> Summary:
    """The Summary straight from the store, uncached (the report command's path)."""
    store = batch.forecast_store(cur, as_of)
    regions = landing.year_end_landing(cur, store, "region")
    total = landing.year_end_landing(cur, store, "total")
    return summary(store, regions, total, shown_in(cur, currency, as_of))
