"""Time every forecast of a store and print the back-test per level as a Markdown table.

    python benchmarks/forecast_backtest.py STORE.duckdb --as-of YYYY-MM-DD

wMAPE per level is pooled over the level's series (sum of absolute errors over sum of
actuals), for the chosen models and for seasonal naive on the same months and horizons.
"""

from __future__ import annotations

import argparse
import datetime as dt
import time
from collections import Counter

import duckdb

from analytics.forecast import batch
from analytics.forecast.models import SEASONAL_NAIVE
from analytics.forecast.series import LEVELS


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("db")
    parser.add_argument("--as-of", required=True)
    args = parser.parse_args()
    con = duckdb.connect(args.db, read_only=True)
    wall, cpu = time.perf_counter(), time.process_time()
    result = batch.forecast_store(con, dt.date.fromisoformat(args.as_of))
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(f"{len(result.series)} series, last month {result.window.last_month:%Y-%m}: ", end="")
    print(f"{wall:.1f} s wall, {cpu:.1f} s CPU")
    print("| level | series | chosen | wMAPE chosen | wMAPE seasonal naive | beats naive |")
    print("|---|---|---|---|---|---|")
    for level in LEVELS:
        items = result.at_level(level)
        chosen_error = naive_error = actual = 0.0
        for item in items:
            naive = item.scores[SEASONAL_NAIVE]
            actual += naive.absolute_error / naive.wmape
            naive_error += naive.absolute_error
            chosen_error += item.scores[item.chosen].absolute_error
        wins = sum(
            item.scores[item.chosen].absolute_error < item.scores[SEASONAL_NAIVE].absolute_error
            for item in items
        )
        mix = ", ".join(f"{name} {n}" for name, n in Counter(i.chosen for i in items).most_common())
        print(
            f"| {level} | {len(items)} | {mix} | {chosen_error / actual:.1%} | "
            f"{naive_error / actual:.1%} | {wins} of {len(items)} |"
        )


if __name__ == "__main__":
    main()
