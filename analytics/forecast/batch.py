"""Every forecast of a store at once: each level's groups, chosen model, monthly intervals.

`forecast_store` is the one entry point: one scan of sales_monthly, then per series the
back-test choice, the forecast 1..months ahead with 80 % and 95 % intervals, and the
simulated paths summed over the rest of the as-of year (for the year-end landing). Its result
depends only on the store's data up to `as_of`, so a caller may cache it per store version.
"""

from __future__ import annotations

import datetime as dt
import zlib
from dataclasses import dataclass

import duckdb
import numpy as np

from analytics.forecast import backtest, models, series
from analytics.forecast.backtest import Score
from analytics.forecast.models import CANDIDATES, Candidate
from analytics.forecast.series import LEVELS, MonthlySeries, Window
from analytics.periods import add_months

MAX_MONTHS = 18
REPETITIONS = 2000


def basis_note(window: Window) -> str:
    return (
        f"EUR at constant as-of rates (each currency's latest ECB rate on or before "
        f"{window.as_of:%d %b %Y}); intervals not clipped at zero."
    )


@dataclass(frozen=True)
class SeriesForecast:
    """One group's history, chosen model, back-test scores and forecast."""

    history: MonthlySeries
    chosen: str
    method_note: str
    scores: dict[str, Score]
    months: tuple[dt.date, ...]
    forecast: np.ndarray
    bounds: dict[str, np.ndarray]  # lo80, hi80, lo95, hi95
    year_months: int  # months of the as-of year still to come, forecast below
    year_rest_point: float  # sum of the point forecasts of those months
    year_rest_paths: np.ndarray  # that sum along each simulated path

    @property
    def level(self) -> str:
        return self.history.level

    @property
    def group(self) -> str:
        return self.history.group


@dataclass(frozen=True)
class StoreForecast:
    window: Window
    months: int
    series: tuple[SeriesForecast, ...]
    skipped: tuple[tuple[str, str, str], ...]  # (level, group, why) not forecast

    @property
    def basis(self) -> str:
        return basis_note(self.window)

    def at_level(self, level: str) -> list[SeriesForecast]:
        return [s for s in self.series if s.level == level]

    def find(self, level: str, group: str) -> SeriesForecast:
        return next(s for s in self.series if s.level == level and s.group == group)

    def rows(self, level: str) -> list[dict]:
        """The CLI's rows: group, month 'YYYY-MM', forecast and bounds in EUR (cents)."""
        rows = []
        for item in self.at_level(level):
            for i, month in enumerate(item.months[: self.months]):
                row = {"group": item.group, "month": f"{month:%Y-%m}"}
                row["forecast"] = round(float(item.forecast[i]), 2)
                for name, values in item.bounds.items():
                    row[name] = round(float(values[i]), 2)
                rows.append(row)
        return rows


def _seed(level: str, group: str, seed: int) -> int:
    return zlib.crc32(f"{level}\0{group}".encode()) ^ seed


def forecast_series(
    history: MonthlySeries,
    window: Window,
    months: int = MAX_MONTHS,
    candidates: tuple[Candidate, ...] = CANDIDATES,
    repetitions: int = REPETITIONS,
    seed: int = 0,
) -> SeriesForecast:
    """One series' chosen model and forecast (see the module doc)."""
    choice = backtest.choose(history.values, candidates)
    year_end = dt.date(window.as_of.year, 12, 1)
    year_months = max(0, _months_between(window.last_month, year_end))
    steps = max(months, year_months)
    rng = np.random.default_rng(_seed(history.level, history.group, seed))
    point = choice.fitted.forecast(steps)
    paths = choice.fitted.simulate(steps, repetitions, rng)
    bounds = models.interval_bounds(choice.fitted, point, paths)
    # Months before January of the as-of year (a store whose data stops early) are not in it.
    in_year = [add_months(window.last_month, i + 1).year == window.as_of.year for i in range(steps)]
    in_year = np.array(in_year, dtype=bool)
    return SeriesForecast(
        history=history,
        chosen=choice.chosen,
        method_note=choice.method_note,
        scores=choice.scores,
        months=tuple(add_months(window.last_month, i + 1) for i in range(months)),
        forecast=point[:months],
        bounds={name: values[:months] for name, values in bounds.items()},
        year_months=int(in_year.sum()),
        year_rest_point=float(point[in_year].sum()),
        year_rest_paths=paths[in_year].sum(axis=0),
    )


def _months_between(first: dt.date, last: dt.date) -> int:
    return (last.year - first.year) * 12 + last.month - first.month


def forecast_store(
    cur: duckdb.DuckDBPyConnection,
    as_of: dt.date,
    months: int = MAX_MONTHS,
    levels: tuple[str, ...] = LEVELS,
    candidates: tuple[Candidate, ...] = CANDIDATES,
    repetitions: int = REPETITIONS,
    seed: int = 0,
) -> StoreForecast:
    """Every series at `levels` forecast 1..`months` ahead from the data on or before `as_of`."""
    if not 1 <= months <= MAX_MONTHS:
        raise ValueError(f"--months must be between 1 and {MAX_MONTHS}, not {months}.")
    window = series.observation_window(cur, as_of)
    done, skipped = [], []
    with models.one_blas_thread():
        for history in series.monthly_series(cur, window, levels):
            if len(history.values) < backtest.MIN_MONTHS:
                why = (
                    f"{len(history.values)} months of history; seasonal naive needs "
                    f"{backtest.MIN_MONTHS}."
                )
                skipped.append((history.level, history.group, why))
                continue
            done.append(forecast_series(history, window, months, candidates, repetitions, seed))
    return StoreForecast(window, months, tuple(done), tuple(skipped))
