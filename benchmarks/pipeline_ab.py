"""The pipeline page queries, two versions of the code A/B interleaved on one store.

Usage:
    python benchmarks/pipeline_ab.py --old DIR --new DIR --store PATH [--rounds 3]
                                     [--repeats 15]

DIR is a checkout (or `git archive` copy) holding analytics/. Each round runs the old code,
then the new, each in a child process of its own (the two cannot share one interpreter's
`analytics`), on the same store opened read-only. A child times the queries that
analytics.bench.page_queries names "team: pipeline view", "team: forecast view" (each
scenario) and "forecast: pipeline projection": a warm-up, then the median of --repeats
calls, wall clock and CPU time of the process (all threads, time.process_time). The table
gives, per query, the median over rounds of each version's medians, and the load average
before each round: under load compare the CPU columns.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

WANTED = ("team: pipeline view", "team: forecast view", "forecast: pipeline projection")


def child(root: str, store: str, repeats: int) -> None:
    sys.path.insert(0, root)
    from analytics import bench, db

    con = db.connect(store, read_only=True)
    cur = con.cursor()
    out = {}
    for scenario, label, fn, _ in bench.page_queries(cur, repeats):
        if not label.startswith(WANTED):
            continue
        if label.startswith("team:"):
            label = f"{label} [{scenario}]"
        fn()
        walls, cpus = [], []
        for _ in range(repeats):
            wall, cpu = time.perf_counter(), time.process_time()
            fn()
            walls.append((time.perf_counter() - wall) * 1000)
            cpus.append((time.process_time() - cpu) * 1000)
        out[label] = (statistics.median(walls), statistics.median(cpus))
    con.close()
    print(json.dumps(out))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--old", required=True)
    parser.add_argument("--new", required=True)
    parser.add_argument("--store", required=True)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], args.child[1], int(args.child[2]))
        return
    results: dict[str, dict[str, list]] = {"old": {}, "new": {}}
    loads = []
    for _ in range(args.rounds):
        loads.append(os.getloadavg()[0])
        for version in ("old", "new"):
            root = str(Path(getattr(args, version)).resolve())
            done = subprocess.run(
                [
                    *(sys.executable, __file__, "--old", "-", "--new", "-"),
                    *("--store", args.store, "--child", root, args.store, str(args.repeats)),
                ],
                capture_output=True,
                text=True,
                check=True,
            )
            for label, timing in json.loads(done.stdout.strip().splitlines()[-1]).items():
                results[version].setdefault(label, []).append(timing)
    loads.append(os.getloadavg()[0])
    print(f"store {args.store}; {args.rounds} rounds x {args.repeats} calls")
    print(
        f"load average (1 min) before each round and after: {', '.join(f'{x:.2f}' for x in loads)}"
    )
    print("\n| query | old ms | new ms | old CPU ms | new CPU ms |\n|---|---:|---:|---:|---:|")
    for label in results["old"]:

        def median(version: str, i: int, label: str = label) -> float:
            return statistics.median(t[i] for t in results[version][label])

        print(
            f"| {label} | {median('old', 0):.1f} | {median('new', 0):.1f} | "
            f"{median('old', 1):.1f} | {median('new', 1):.1f} |"
        )


if __name__ == "__main__":
    main()
