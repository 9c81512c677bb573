"""Rolling-origin back-test: each candidate's error, the choice of model, its track record.

The scored months are the last 12 observed. Each is forecast 1, 2 and 3 months ahead (a
quarter, the horizon of a quarterly review), from origins that see only the months before
it, so every candidate is judged on 36 forecasts it could have made at the time. An ETS
candidate's parameters are estimated once, on the months before the first origin, and then
run forward (the states are updated with each new month; the parameters are not refitted);
the chosen model is then refitted on the whole history for the forecast itself.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from analytics.forecast import accuracy, models
from analytics.forecast.models import CANDIDATES, SEASON, SEASONAL_NAIVE, Candidate, Fitted
from analytics.forecast.series import MonthlySeries
from analytics.periods import add_months

WINDOW = 12
HORIZON = 3
FIT_MONTHS = 24  # an ETS candidate needs two years before the back-test's first origin
MIN_ETS_MONTHS = FIT_MONTHS + WINDOW + HORIZON - 1
MIN_MONTHS = SEASON + 1  # seasonal naive needs the same month a year earlier


@dataclass(frozen=True)
class Score:
    """A candidate's back-test error over the scored months."""

    candidate: str
    wmape: float | None
    mase: float | None
    absolute_error: float


@dataclass(frozen=True)
class Choice:
    """The model chosen for a series, refitted on its whole history, and why."""

    fitted: Fitted
    scores: dict[str, Score]
    method_note: str

    @property
    def chosen(self) -> str:
        return self.fitted.candidate.name


def backtest_pairs(fitted: Fitted, length: int) -> tuple[np.ndarray, np.ndarray]:
    """(actual, forecast) for every scored month and horizon; `fitted` runs over the history."""
    history = fitted.history
    first_scored = length - WINDOW
    actual, forecast = [], []
    for origin in range(first_scored - HORIZON + 1, length):
        predicted = fitted.origin_forecasts(origin, HORIZON)
        for step in range(HORIZON):
            target = origin + step
            if first_scored <= target < length:
                actual.append(history[target])
                forecast.append(predicted[step])
    return np.array(actual), np.array(forecast)


def score(fitted: Fitted, training: np.ndarray) -> Score:
    actual, forecast = backtest_pairs(fitted, len(fitted.history))
    return Score(
        fitted.candidate.name,
        accuracy.wmape(actual, forecast),
        accuracy.mase(actual, forecast, training),
        float(np.abs(actual - forecast).sum()),
    )


def choose(history: np.ndarray, candidates: tuple[Candidate, ...] = CANDIDATES) -> Choice:
    """The candidate with the least back-test error (ties go to the simpler, listed first)."""
    history = np.asarray(history, dtype=float)
    length = len(history)
    if length < MIN_MONTHS:
        raise ValueError(f"{length} months of history; a forecast needs at least {MIN_MONTHS}.")
    naive = models.SeasonalNaive(history)
    training = history[: length - WINDOW]
    first_origin = length - WINDOW - HORIZON + 1
    scores: dict[str, Score] = {}
    if first_origin > SEASON:
        scores[SEASONAL_NAIVE] = score(naive, training)
    if length < MIN_ETS_MONTHS:
        note = (
            f"{length} months of history: a back-tested ETS model needs {MIN_ETS_MONTHS} "
            f"({FIT_MONTHS} to fit, {WINDOW + HORIZON - 1} to test), so seasonal naive."
        )
        return Choice(naive, scores, note)
    fitted_by_name: dict[str, Fitted] = {SEASONAL_NAIVE: naive}
    for candidate in candidates:
        if candidate.is_seasonal_naive or not models.eligible(candidate, history):
            continue
        try:
            early = models.fit(candidate, history[:first_origin])
            result = score(early.over(history), training)
        except (ValueError, np.linalg.LinAlgError):
            continue  # a specification the data cannot support is simply not a candidate
        if np.isfinite(result.absolute_error):
            scores[candidate.name] = result
            fitted_by_name[candidate.name] = early
    ranked = [c.name for c in candidates if c.name in scores]
    best = min(ranked, key=lambda name: scores[name].absolute_error)
    chosen = fitted_by_name[best].refit(history)
    naive_score = scores[SEASONAL_NAIVE]
    note = (
        f"{best}: least back-test error of {len(ranked)} candidates (wMAPE "
        f"{_percent(scores[best].wmape)} against seasonal naive's {_percent(naive_score.wmape)}, "
        f"last {WINDOW} months forecast 1 to {HORIZON} months ahead)."
    )
    return Choice(chosen, scores, note)


def _percent(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1%}"


def forecast_made(
    series: MonthlySeries,
    candidate: Candidate,
    months_ago: int,
    repetitions: int = 2000,
    seed: int = 0,
) -> pd.DataFrame:
    """The forecast `candidate` would have made `months_ago` months ago, against what happened.

    The model is fitted afresh on the months up to that origin only. Grain: one row per month
    after the origin: month, actual, forecast, lo80, hi80, lo95, hi95 (EUR at as-of rates).
    """
    length = len(series.values) - months_ago
    if months_ago < 1 or length < MIN_MONTHS:
        raise ValueError(
            f"A forecast made {months_ago} months ago needs {MIN_MONTHS} months before it; "
            f"{series.group} has {max(length, 0)}."
        )
    if not candidate.is_seasonal_naive and length < FIT_MONTHS:
        raise ValueError(f"{candidate.name} needs {FIT_MONTHS} months before its origin.")
    with models.one_blas_thread():
        fitted = models.fit(candidate, series.values[:length])
    point = fitted.forecast(months_ago)
    paths = fitted.simulate(months_ago, repetitions, np.random.default_rng(seed))
    bounds = models.interval_bounds(fitted, point, paths)
    months: list[dt.date] = [add_months(series.start, length + i) for i in range(months_ago)]
    return pd.DataFrame(
        {"month": months, "actual": series.values[length:], "forecast": point, **bounds}
    )
