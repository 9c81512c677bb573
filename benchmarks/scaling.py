"""Scaling: every page query at several store sizes, with the exponent between sizes, and
peers (pandas, Polars, DuckDB over Parquet) computing the same headline figures in the same
run (issue 19).

Usage:
    python benchmarks/scaling.py [--sizes 1000000 10000000 50000000] [--repeats 5]
                                 [--keep] [--json results.json]

For each size it builds benchmarks/scaling_<rows>.duckdb with the demo generator in a child
process (reporting build time and the child's peak RSS), or reuses one already there, then
times every page query (analytics.bench.page_queries, median of --repeats after a warm-up)
and the peers. The exponent between two sizes is log(t2 / t1) / log(n2 / n1): 0 means flat,
1 means the query grows with the lines. Stores of 50M lines and more (about 10 GB each) and
the Parquet copies are deleted after their size is measured unless --keep.

The peers hold order_lines the way a plain dashboard would: pandas and Polars as a frame in
memory (loaded from Parquet once, load time reported, not counted in the query), DuckDB
reading the Parquet file on every query. Each peer's figures are checked against Sales
Atlas's before any is timed, so every engine computes the same numbers. Peer code is SQL
and frame code of its own on purpose: it stands for another product, not for the app, so it
lives here rather than in analytics/.

Timings depend on the machine's load: the table says the load average before and after
each size. Peak RSS of the build does not.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import itertools
import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import duckdb  # noqa: E402
import pandas as pd  # noqa: E402

from analytics import bench, db, markets, overview  # noqa: E402

HERE = Path(__file__).resolve().parent
DEFAULT_SIZES = (1_000_000, 10_000_000, 50_000_000)
BIG = 50_000_000  # stores this large are deleted after use unless --keep
TOP = 25
PEER_COLUMNS = ("order_id", "order_date", "customer_id", "country_code", "net_amount_eur")


def _load() -> str:
    return "/".join(f"{x:.1f}" for x in os.getloadavg())


def build(rows: int, path: Path) -> dict:
    """Build the demo store in a child process: wall time and the child's peak RSS."""
    started = time.perf_counter()
    child = subprocess.Popen(
        [sys.executable, "-m", "analytics", "build-demo", "--rows", str(rows), "--db", str(path)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
    )
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        raise SystemExit(f"Building {path} failed (exit {child.returncode}).")
    return {
        "build_s": time.perf_counter() - started,
        "peak_rss_gb": usage.ru_maxrss / 2**20,  # ru_maxrss is in KiB on Linux
        "store_gb": path.stat().st_size / 2**30,
        "load": _load(),
    }


# --- the headline figures, by Sales Atlas and by each peer -----------------------------------


@dataclasses.dataclass(frozen=True)
class Windows:
    """The Overview's default: the last full quarter and its comparison period, in EUR."""

    cur: tuple[dt.date, dt.date]
    cmp: tuple[dt.date, dt.date]


def atlas_figures(cur, filters) -> dict:
    """The headline figures as Sales Atlas computes them (EUR, reported)."""
    kpis = overview.kpis(cur, filters).set_index("metric")
    by_country = overview.revenue_by_country(cur, filters)
    top = markets.top_accounts(cur, filters, TOP)
    return {
        "kpis": {
            name: (kpis.loc[name, "current"], kpis.loc[name, "comparison"])
            for name in ("net_revenue", "orders", "active_customers")
        },
        "countries": dict(
            zip(by_country["country_code"], by_country["revenue"].round(6), strict=True)
        ),
        "top": list(zip(top["customer_id"], top["revenue"].round(6), top["orders"], strict=True)),
    }


def pandas_figures(lines: pd.DataFrame, w: Windows) -> dict:
    day = lines["order_date"]
    now = lines[day.between(pd.Timestamp(w.cur[0]), pd.Timestamp(w.cur[1]))]
    before = lines[day.between(pd.Timestamp(w.cmp[0]), pd.Timestamp(w.cmp[1]))]
    countries = now.groupby("country_code", observed=True)["net_amount_eur"].sum()
    accounts = now.groupby("customer_id", observed=True).agg(
        revenue=("net_amount_eur", "sum"), orders=("order_id", "nunique")
    )
    accounts = accounts.sort_values("revenue", ascending=False).head(TOP)
    return {
        "kpis": {
            "net_revenue": (now["net_amount_eur"].sum(), before["net_amount_eur"].sum()),
            "orders": (now["order_id"].nunique(), before["order_id"].nunique()),
            "active_customers": (now["customer_id"].nunique(), before["customer_id"].nunique()),
        },
        "countries": {str(k): round(v, 6) for k, v in countries.items()},
        "top": [
            (str(c), round(r, 6), int(o))
            for c, r, o in zip(accounts.index, accounts["revenue"], accounts["orders"], strict=True)
        ],
    }


def polars_figures(pl, lines, w: Windows) -> dict:
    day = pl.col("order_date")
    now = lines.lazy().filter(day.is_between(*w.cur))
    before = lines.lazy().filter(day.is_between(*w.cmp))

    def totals(frame):
        return frame.select(
            pl.col("net_amount_eur").sum(),
            pl.col("order_id").n_unique(),
            pl.col("customer_id").n_unique(),
        )

    (r1, o1, c1), (r0, o0, c0) = (
        t.rows()[0] for t in pl.collect_all([totals(now), totals(before)])
    )
    countries = now.group_by("country_code").agg(pl.col("net_amount_eur").sum()).collect()
    top = (
        now.group_by("customer_id")
        .agg(pl.col("net_amount_eur").sum().alias("revenue"), pl.col("order_id").n_unique())
        .sort("revenue", descending=True)
        .head(TOP)
        .collect()
    )
    return {
        "kpis": {"net_revenue": (r1, r0), "orders": (o1, o0), "active_customers": (c1, c0)},
        "countries": {k: round(v, 6) for k, v in countries.rows()},
        "top": [(c, round(r, 6), int(o)) for c, r, o in top.rows()],
    }


def duckdb_figures(con, parquet: Path, w: Windows) -> dict:
    src = f"read_parquet('{parquet}')"
    params = [w.cur[0], w.cur[1], w.cmp[0], w.cmp[1]]
    flags = "order_date BETWEEN ? AND ? AS now, order_date BETWEEN ? AND ? AS before"
    r1, r0, o1, o0, c1, c0 = con.execute(
        f"""
        SELECT sum(net_amount_eur) FILTER (WHERE now), sum(net_amount_eur) FILTER (WHERE before),
               count(DISTINCT order_id) FILTER (WHERE now),
               count(DISTINCT order_id) FILTER (WHERE before),
               count(DISTINCT customer_id) FILTER (WHERE now),
               count(DISTINCT customer_id) FILTER (WHERE before)
        FROM (SELECT *, {flags} FROM {src}) WHERE now OR before
        """,
        params,
    ).fetchone()
    window = f"FROM {src} WHERE order_date BETWEEN ? AND ?"
    countries = con.execute(
        f"SELECT country_code, sum(net_amount_eur) {window} GROUP BY 1", list(w.cur)
    ).fetchall()
    top = con.execute(
        f"SELECT customer_id, sum(net_amount_eur) AS r, count(DISTINCT order_id) {window} "
        f"GROUP BY 1 ORDER BY r DESC LIMIT {TOP}",
        list(w.cur),
    ).fetchall()
    return {
        "kpis": {"net_revenue": (r1, r0), "orders": (o1, o0), "active_customers": (c1, c0)},
        "countries": {k: round(v, 6) for k, v in countries},
        "top": [(c, round(r, 6), int(o)) for c, r, o in top],
    }


def same_figures(engine: str, got: dict, want: dict) -> None:
    """Stop the run if a peer's figures differ from Sales Atlas's (1e-9 relative)."""

    def close(a, b) -> bool:
        return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-6)

    problems = []
    for name, pair in want["kpis"].items():
        if not all(close(a, b) for a, b in zip(got["kpis"][name], pair, strict=True)):
            problems.append(f"{name}: {got['kpis'][name]} vs {pair}")
    wanted = {k: v for k, v in want["countries"].items() if v != 0}
    gotten = {k: v for k, v in got["countries"].items() if v != 0}
    if wanted.keys() != gotten.keys() or not all(close(gotten[k], v) for k, v in wanted.items()):
        problems.append("revenue by country differs")
    if [c for c, _, _ in got["top"]] != [c for c, _, _ in want["top"]] or not all(
        close(a[1], b[1]) and a[2] == b[2] for a, b in zip(got["top"], want["top"], strict=True)
    ):
        problems.append("top accounts differ")
    if problems:
        raise SystemExit(f"{engine} does not compute Sales Atlas's figures: {problems}")


def export_parquet(path: Path) -> Path:
    """order_lines' peer columns as Parquet beside the store (before the store is opened
    read-only by the app's connection, which cannot write files)."""
    parquet = path.with_suffix(".parquet")
    if not parquet.exists():
        with duckdb.connect(str(path), read_only=True) as con:
            con.execute(
                f"COPY (SELECT {', '.join(PEER_COLUMNS)} FROM order_lines) TO '{parquet}' "
                "(FORMAT parquet)"
            )
    return parquet


def peers(cur, path: Path, filters, repeats: int, keep: bool) -> list[dict]:
    """Time the headline figures in Sales Atlas and in each peer."""
    import polars as pl

    w = Windows(
        (filters.period.start, filters.period.end),
        (filters.comparison.start, filters.comparison.end),
    )
    parquet = path.with_suffix(".parquet")
    want = atlas_figures(cur, filters)
    started = time.perf_counter()
    frame = pd.read_parquet(parquet, columns=list(PEER_COLUMNS))
    frame["order_date"] = pd.to_datetime(frame["order_date"])
    for column in ("customer_id", "country_code"):
        frame[column] = frame[column].astype("category")
    pandas_load = time.perf_counter() - started
    started = time.perf_counter()
    polars_frame = pl.read_parquet(parquet, columns=list(PEER_COLUMNS))
    polars_load = time.perf_counter() - started
    parquet_con = duckdb.connect()
    engines = {
        "Sales Atlas (overview.kpis + revenue_by_country + markets.top_accounts)": lambda: (
            atlas_figures(cur, filters)
        ),
        f"pandas (frame in memory; load {pandas_load:.1f} s)": lambda: pandas_figures(frame, w),
        f"Polars (frame in memory; load {polars_load:.1f} s)": lambda: polars_figures(
            pl, polars_frame, w
        ),
        "DuckDB over Parquet (file read per query)": lambda: duckdb_figures(
            parquet_con, parquet, w
        ),
    }
    rows = []
    for engine, fn in engines.items():
        same_figures(engine, fn(), want)
        rows.append({"engine": engine, "median_ms": bench._median_ms(fn, repeats)})
    parquet_con.close()
    if not keep:
        parquet.unlink()
    return rows


# --- the run -------------------------------------------------------------------------------


def measure(rows: int, repeats: int, keep: bool) -> dict:
    path = HERE / f"scaling_{rows}.duckdb"
    result: dict = {"rows": rows, "load_before": _load()}
    if path.exists():
        print(f"Reusing {path}", flush=True)
    else:
        print(f"Building {path} with {rows:,} lines…", flush=True)
        result["build"] = build(rows, path)
        print(f"  {result['build']}", flush=True)
    export_parquet(path)
    con = db.connect(path, read_only=True)
    cur = con.cursor()
    result["floor_ms"] = bench.floor_ms(cur, repeats)
    result["queries"] = {}
    for scenario, label, fn, runs in bench.page_queries(cur, repeats):
        result["queries"][f"{scenario} | {label}"] = bench._median_ms(fn, min(runs, repeats))
        print(f"  {scenario} | {label}: {result['queries'][f'{scenario} | {label}']:.1f} ms")
    default = next(iter(bench.scenarios(cur).values()))
    result["peers"] = peers(cur, path, default, repeats, keep)
    con.close()
    result["load_after"] = _load()
    if rows >= BIG and not keep:
        for p in (path, path.with_suffix(".duckdb.wal")):
            p.unlink(missing_ok=True)
    return result


def exponent(n1: int, t1: float, n2: int, t2: float) -> float:
    return math.log(t2 / t1) / math.log(n2 / n1)


def report(results: list[dict]) -> str:
    sizes = [r["rows"] for r in results]
    names = [f"{n / 1e6:g}M" for n in sizes]
    steps = [f"exp {a}→{b}" for a, b in itertools.pairwise(names)]
    out = ["## Builds\n", "| lines | build s | peak RSS GB | store GB | load average |"]
    out.append("|---:|---:|---:|---:|---|")
    for r in results:
        b = r.get("build")
        if b:
            out.append(
                f"| {r['rows']:,} | {b['build_s']:.0f} | {b['peak_rss_gb']:.2f} | "
                f"{b['store_gb']:.2f} | {b['load']} |"
            )
        else:
            out.append(f"| {r['rows']:,} | (reused) | – | – | – |")

    def table(title: str, rows: dict[str, list[float]]) -> None:
        out.extend(["", f"## {title}\n", "| query | " + " | ".join(names + steps) + " |"])
        out.append("|---|" + "---:|" * (len(names) + len(steps)))
        for label, times in rows.items():
            exps = [
                f"{exponent(sizes[i], times[i], sizes[i + 1], times[i + 1]):.2f}"
                for i in range(len(times) - 1)
            ]
            cells = [f"{t:.1f}" for t in times] + exps
            out.append(f"| {label} | " + " | ".join(cells) + " |")

    queries = {"floor: full scan of order_lines": [r["floor_ms"] for r in results]}
    for label in results[0]["queries"]:
        queries[label] = [r["queries"][label] for r in results]
    table("Page queries, median ms", queries)
    engines = {}
    for i, peer in enumerate(results[0]["peers"]):
        engines[peer["engine"].split(" (")[0]] = [r["peers"][i]["median_ms"] for r in results]
    table("Headline figures (KPIs, revenue by country, top 25 accounts), median ms", engines)
    loads = ", ".join(
        f"{n}: {r['load_before']} → {r['load_after']}" for n, r in zip(names, results, strict=True)
    )
    out.extend(["", f"Load average (1/5/15 min) before → after each size: {loads}."])
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=list(DEFAULT_SIZES))
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--keep", action="store_true", help="keep 50M+ stores and Parquet")
    parser.add_argument("--json", type=Path, help="also write the raw figures here")
    args = parser.parse_args()
    results = [measure(rows, args.repeats, args.keep) for rows in sorted(args.sizes)]
    if args.json:
        args.json.write_text(json.dumps(results, indent=1, default=str))
    print(report(results))


if __name__ == "__main__":
    main()
