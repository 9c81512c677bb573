"""Candidate models of a monthly series: seasonal naive and ETS (statsmodels' ETSModel).

Each candidate is fitted on a history and then gives point forecasts from any origin inside
that history (for the back-test), point forecasts past its end, and simulated future paths
(for intervals of single months and of sums of months).

ETS uses heuristic initial states (from the first two years, so the same states whether the
model sees the whole history or a prefix) and statsmodels' maximum-likelihood fit.

Seasonal naive forecasts a month by the same month a year earlier; its errors are taken as
normal with the standard deviation of the history's year-on-year differences, sigma, so h
months ahead the error is sigma * sqrt(k + 1) with k = (h - 1) // 12 whole years (the
standard seasonal-naive formula), and its paths are drawn the same way.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Protocol

import numpy as np
from statsmodels.tools.sm_exceptions import ConvergenceWarning
from statsmodels.tsa.exponential_smoothing.ets import ETSModel
from threadpoolctl import ThreadpoolController

SEASON = 12
SEASONAL_NAIVE = "seasonal naive"

_threadpools: ThreadpoolController | None = None


def one_blas_thread():
    """A context in which BLAS runs on one thread.

    Each ETS fit is a small optimisation; OpenBLAS threads contending for two busy cores made
    each fit about five times slower. Finding the BLAS libraries takes ~10 ms, so it is done
    once per process, and callers wrap a whole batch of fits, not each one.
    """
    global _threadpools
    if _threadpools is None:
        _threadpools = ThreadpoolController()
    return _threadpools.limit(limits=1, user_api="blas")


@dataclass(frozen=True)
class Candidate:
    """A model specification; `error` None means seasonal naive."""

    name: str
    error: str | None = None
    trend: str | None = None
    damped_trend: bool = False
    seasonal: str | None = None

    @property
    def is_seasonal_naive(self) -> bool:
        return self.error is None

    @property
    def multiplicative(self) -> bool:
        return "mul" in (self.error, self.trend, self.seasonal)


SEASONAL_NAIVE_CANDIDATE = Candidate(SEASONAL_NAIVE)
# ETS(error, trend, season): A additive, M multiplicative, Ad damped additive, N none.
CANDIDATES = (
    SEASONAL_NAIVE_CANDIDATE,
    Candidate("ETS(A,Ad,A)", "add", "add", True, "add"),
    Candidate("ETS(M,Ad,M)", "mul", "add", True, "mul"),
    Candidate("ETS(A,N,A)", "add", None, False, "add"),
)


def eligible(candidate: Candidate, history: np.ndarray) -> bool:
    """Multiplicative models need every month above zero; seasonal naive a year of history."""
    if candidate.is_seasonal_naive:
        return len(history) > SEASON
    return not candidate.multiplicative or bool(np.all(history > 0))


class Fitted(Protocol):
    """A candidate fitted on a history."""

    candidate: Candidate
    history: np.ndarray

    def refit(self, history: np.ndarray) -> Fitted:
        """The same specification fitted anew on `history`."""

    def over(self, history: np.ndarray) -> Fitted:
        """The fitted parameters run over `history` (a longer one: the back-test's), not refitted."""

    def origin_forecasts(self, length: int, horizon: int) -> np.ndarray:
        """Point forecasts 1..horizon months ahead made with the first `length` months."""

    def forecast(self, steps: int) -> np.ndarray:
        """Point forecasts 1..steps months past the history."""

    def simulate(self, steps: int, repetitions: int, rng: np.random.Generator) -> np.ndarray:
        """Future paths, shape (steps, repetitions)."""


class SeasonalNaive:
    def __init__(self, history: np.ndarray):
        self.candidate = SEASONAL_NAIVE_CANDIDATE
        self.history = np.asarray(history, dtype=float)
        differences = self.history[SEASON:] - self.history[:-SEASON]
        self.sigma = float(np.sqrt(np.mean(differences**2))) if len(differences) else 0.0

    def refit(self, history: np.ndarray) -> SeasonalNaive:
        return SeasonalNaive(history)

    def over(self, history: np.ndarray) -> SeasonalNaive:
        return SeasonalNaive(history)

    def origin_forecasts(self, length: int, horizon: int) -> np.ndarray:
        steps = np.arange(1, horizon + 1)
        years = (steps - 1) // SEASON + 1
        return self.history[length - 1 + steps - SEASON * years]

    def forecast(self, steps: int) -> np.ndarray:
        return self.origin_forecasts(len(self.history), steps)

    def sigma_ahead(self, steps: int) -> np.ndarray:
        return self.sigma * np.sqrt((np.arange(steps)) // SEASON + 1)

    def simulate(self, steps: int, repetitions: int, rng: np.random.Generator) -> np.ndarray:
        paths = np.empty((len(self.history) + steps, repetitions))
        paths[: len(self.history)] = self.history[:, None]
        shocks = rng.normal(0.0, self.sigma, size=(steps, repetitions))
        for step in range(steps):
            at = len(self.history) + step
            paths[at] = paths[at - SEASON] + shocks[step]
        return paths[len(self.history) :]


class ETS:
    """statsmodels' ETSModel, fitted once; forecasts from earlier origins reuse its parameters."""

    def __init__(self, candidate: Candidate, history: np.ndarray, results):
        self.candidate = candidate
        self.history = np.asarray(history, dtype=float)
        self.results = results

    @property
    def params(self) -> np.ndarray:
        return self.results.params

    def refit(self, history: np.ndarray) -> ETS:
        """The same specification fitted on a longer history, starting from these parameters."""
        history = np.asarray(history, dtype=float)
        return ETS(self.candidate, history, _fit(self.candidate, history, self.params))

    def over(self, history: np.ndarray) -> ETS:
        history = np.asarray(history, dtype=float)
        results = _model(self.candidate, history).smooth(self.params)
        return ETS(self.candidate, history, results)

    def origin_forecasts(self, length: int, horizon: int) -> np.ndarray:
        # statsmodels' own point forecast: a simulation with zero errors from that origin
        # (the states at `length` depend on the first `length` months only).
        zeros = np.zeros((horizon, 1))
        return np.asarray(
            self.results.simulate(horizon, anchor=length - 1, random_errors=zeros), dtype=float
        ).reshape(horizon)

    def forecast(self, steps: int) -> np.ndarray:
        return np.asarray(self.results.forecast(steps), dtype=float)

    def simulate(self, steps: int, repetitions: int, rng: np.random.Generator) -> np.ndarray:
        paths = self.results.simulate(steps, anchor="end", repetitions=repetitions, rng=rng)
        return np.asarray(paths, dtype=float).reshape(steps, repetitions)


def _model(candidate: Candidate, history: np.ndarray) -> ETSModel:
    return ETSModel(
        history,
        error=candidate.error,
        trend=candidate.trend,
        damped_trend=candidate.damped_trend,
        seasonal=candidate.seasonal,
        seasonal_periods=SEASON if candidate.seasonal else None,
        initialization_method="heuristic",
    )


def _fit(candidate: Candidate, history: np.ndarray, start_params=None):
    with warnings.catch_warnings():
        # A fit that stops at the iteration limit is still a valid model; the back-test
        # judges it by its forecasts, so the optimiser's warning adds nothing.
        warnings.simplefilter("ignore", ConvergenceWarning)
        return _model(candidate, history).fit(start_params=start_params, disp=False)


def fit(candidate: Candidate, history: np.ndarray) -> Fitted:
    """`candidate` fitted on `history`."""
    if candidate.is_seasonal_naive:
        return SeasonalNaive(history)
    history = np.asarray(history, dtype=float)
    return ETS(candidate, history, _fit(candidate, history))


# Two-sided intervals: their name -> (lower, upper) quantile.
LEVELS_OF_CONFIDENCE = {"80": (0.10, 0.90), "95": (0.025, 0.975)}
NORMAL_QUANTILE = {0.10: -1.2815515655446004, 0.90: 1.2815515655446004}
NORMAL_QUANTILE |= {0.025: -1.959963984540054, 0.975: 1.959963984540054}


def interval_bounds(fitted: Fitted, point: np.ndarray, paths: np.ndarray) -> dict[str, np.ndarray]:
    """lo80, hi80, lo95, hi95 per month ahead, not clipped at zero.

    Seasonal naive: the standard formula (point +- z * sigma_h). ETS: quantiles of the
    simulated paths, as statsmodels itself forms the intervals of multiplicative models.
    """
    bounds = {}
    for name, (low, high) in LEVELS_OF_CONFIDENCE.items():
        if isinstance(fitted, SeasonalNaive):
            spread = fitted.sigma_ahead(len(point))
            bounds[f"lo{name}"] = point + NORMAL_QUANTILE[low] * spread
            bounds[f"hi{name}"] = point + NORMAL_QUANTILE[high] * spread
        else:
            bounds[f"lo{name}"] = np.quantile(paths, low, axis=1)
            bounds[f"hi{name}"] = np.quantile(paths, high, axis=1)
    return bounds
