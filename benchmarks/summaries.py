"""Before/after for the queries issue 19 moved onto the monthly summaries.

Usage: python benchmarks/summaries.py DB [--repeats R]. Each query runs through the
summaries and with use_summary=False (its former order_lines reading), median of R runs.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from analytics import bench, bridge, db, markets, quality, review


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("db", type=Path)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    con = db.connect(args.db, read_only=True)
    cur = con.cursor()
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print("| scenario | query | lines ms | summaries ms |\n|---|---|---:|---:|")
    for name, f in bench.scenarios(cur).items():
        q = review.base_period(f.period, "prior_quarter")
        scope = dataclasses.replace(f, comparison=q) if name.startswith("default") else f
        queries = {
            "top_accounts (25)": lambda u, f=f: markets.top_accounts(cur, f, 25, use_summary=u),
            "global_accounts": lambda u, f=f: markets.global_accounts(cur, f, use_summary=u),
            "scorecard: orders + active customers": lambda u, f=f: markets._counts(
                cur, f, use_summary=u
            ),
            "products_sold": lambda u, f=f: markets.products_sold(cur, f, use_summary=u),
            "price_position": lambda u, f=f: markets.price_position(cur, f, "P017", use_summary=u),
            "bridge items (period vs comparison)": lambda u, f=f: bridge.bridge_items(
                cur,
                (f.comparison.start, f.comparison.end),
                (f.period.start, f.period.end),
                f.currency,
                f,
                use_summary=u,
            ),
            "account movers": lambda u, s=scope: review.account_movers(cur, s, use_summary=u),
        }
        for label, fn in queries.items():
            before = bench._median_ms(lambda fn=fn: fn(False), args.repeats)
            after = bench._median_ms(lambda fn=fn: fn(True), args.repeats)
            print(f"| {name} | {label} | {before:.1f} | {after:.1f} |", flush=True)
    after = bench._median_ms(
        lambda: (quality.coverage(cur), quality.unconverted_lines(cur), quality.orphans(cur)),
        args.repeats,
    )
    print(f"| Data page | quality summary (coverage, unconverted, orphans) | – | {after:.1f} |")
    print(f"load average {os.getloadavg()[0]:.1f}")
    con.close()


if __name__ == "__main__":
    main()
