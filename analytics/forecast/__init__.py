"""Statistical forecast of monthly net revenue: series, models, back-test and year-end landing.

Modules: `series` reads the monthly EUR series from the store, `models` holds the candidate
models (seasonal naive and ETS from statsmodels), `accuracy` the error measures, `backtest`
the rolling-origin choice among candidates, `batch` every forecast of a store at once, and
`landing` the year-end landing against budget.
"""
