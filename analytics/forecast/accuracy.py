"""Forecast error measures: wMAPE and MASE over paired actuals and forecasts."""

from __future__ import annotations

import numpy as np

SEASON = 12


def wmape(actual: np.ndarray, forecast: np.ndarray) -> float | None:
    """Sum of absolute errors over sum of absolute actuals; None when every actual is 0."""
    actual, forecast = np.asarray(actual, dtype=float), np.asarray(forecast, dtype=float)
    scale = np.abs(actual).sum()
    return float(np.abs(actual - forecast).sum() / scale) if scale > 0 else None


def seasonal_naive_scale(training: np.ndarray) -> float | None:
    """MASE's scale: the mean absolute year-on-year change over the training months."""
    training = np.asarray(training, dtype=float)
    if len(training) <= SEASON:
        return None
    scale = float(np.abs(training[SEASON:] - training[:-SEASON]).mean())
    return scale if scale > 0 else None


def mase(actual: np.ndarray, forecast: np.ndarray, training: np.ndarray) -> float | None:
    """Mean absolute error over `seasonal_naive_scale(training)`; None without a scale."""
    scale = seasonal_naive_scale(training)
    if scale is None:
        return None
    actual, forecast = np.asarray(actual, dtype=float), np.asarray(forecast, dtype=float)
    return float(np.abs(actual - forecast).mean() / scale)
