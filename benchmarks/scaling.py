"""Scaling: every page query at several store sizes, with the exponent between sizes, and
peers (pandas, Polars, DuckDB over Parquet) computing the same headline figures in the same
run (issue 19).

Usage:
    python benchmarks/scaling.py [--sizes 1000000 10000000 50000000] [--repeats 5]
                                 [--store SIZE=PATH ...] [--workdir DIR]
                                 [--keep] [--json results.json] [--no-peers]

For each size it builds <workdir>/scaling_<rows>.duckdb with the demo generator in a child
process (reporting build time and the child's peak RSS), or reuses one already there, or
the store given for that size with --store (a store built beforehand, e.g. with
`python -m analytics build-demo --rows 100000000 --db /work/big/b100m.duckdb`: opened
read-only, never changed or deleted), then times every page query
(analytics.bench.page_queries, median of --repeats after a warm-up) and the peers. The
exponent between two sizes is log(t2 / t1) / log(n2 / n1), with n the store's actual line
count: 0 means flat, 1 means the query grows with the lines. Stores this run built of 50M
lines and more (about 10 GB each) and the Parquet copies (in --workdir) are deleted after
their size is measured unless --keep.

The peers hold order_lines the way a plain dashboard would: pandas and Polars as a frame in
memory (loaded from Parquet once, load time reported, not counted in the query), DuckDB
reading the Parquet file on every query. Each peer's figures are checked against Sales
Atlas's before any is timed, so every engine computes the same numbers. Peer code is SQL
and frame code of its own on purpose: it stands for another product, not for the app, so it
lives here rather than in analytics/.

--no-peers skips the peers and their Parquet copy: at 50M lines and more they hold frames of
several GB, which per-query work does not need (the page queries are timed all the same).

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
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import duckdb  # noqa: E402
import pandas as pd  # noqa: E402

from analytics import bench, db, markets, overview, store  # noqa: E402

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
    """The headline figures as Sales Atlas computes them (EUR, reported): the Overview's KPI
    row and revenue by country (one call, as the page makes it) and the top accounts."""
    page = overview.figures(cur, filters)
    kpis = page["kpis"].set_index("metric")
    by_country = page["countries"]
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


def export_parquet(path: Path, parquet: Path) -> Path:
    """order_lines' peer columns as Parquet in the work folder (before the store is opened
    read-only by the app's connection, which cannot write files)."""
    if not parquet.exists():
        with duckdb.connect(str(path), read_only=True) as con:
            con.execute(
                f"COPY (SELECT {', '.join(PEER_COLUMNS)} FROM order_lines) TO '{parquet}' "
                "(FORMAT parquet)"
            )
    return parquet


def peers(cur, parquet: Path, filters, repeats: int) -> list[dict]:
    """Time the headline figures in Sales Atlas and in each peer."""
    import polars as pl

    w = Windows(
        (filters.period.start, filters.period.end),
        (filters.comparison.start, filters.comparison.end),
    )
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
        "Sales Atlas (overview.figures + markets.top_accounts)": lambda: atlas_figures(
            cur, filters
        ),
        f"pandas (frame in memory; load {pandas_load:.1f} s)": lambda: pandas_figures(frame, w),
        f"Polars (frame in memory; load {polars_load:.1f} s)": lambda: polars_figures(
            pl, polars_frame, w
        ),
        "DuckDB over Parquet (file read per query)": lambda: duckdb_figures(
            parquet_con, parquet, w
        ),
    }
    for engine, fn in engines.items():
        same_figures(engine, fn(), want)  # and the warm-up
    # Interleaved: each round runs every engine once, so a change in the machine's load
    # moves all of them alike and their ratio stays meaningful on a busy machine.
    walls: dict[str, list[float]] = {engine: [] for engine in engines}
    cpus: dict[str, list[float]] = {engine: [] for engine in engines}
    for _ in range(repeats):
        for engine, fn in engines.items():
            wall, cpu = time.perf_counter(), time.process_time()
            fn()
            walls[engine].append((time.perf_counter() - wall) * 1000)
            cpus[engine].append((time.process_time() - cpu) * 1000)
    parquet_con.close()
    return [
        {
            "engine": engine,
            "median_ms": statistics.median(walls[engine]),
            # the process's CPU time, all threads: what the engine costs, whatever the load
            "cpu_ms": statistics.median(cpus[engine]),
        }
        for engine in engines
    ]


# --- the run -------------------------------------------------------------------------------


def measure(
    rows: int, repeats: int, keep: bool, workdir: Path, given: Path | None, with_peers: bool = True
) -> dict:
    path = given or workdir / f"scaling_{rows}.duckdb"
    parquet = workdir / f"scaling_{rows}.parquet"
    result: dict = {"rows": rows, "store": str(path), "load_before": _load()}
    built = False
    if given is not None:
        if not os.path.lexists(given):
            raise SystemExit(f"--store {rows}={given}: no such store.")
        if store.needs_upgrade(given):
            raise SystemExit(
                f"--store {rows}={given} was made by an earlier version and lacks tables this "
                "one reads. Upgrade a copy (cp -L, then python -m analytics bench on it "
                "upgrades it) or rebuild it; this run opens stores read-only."
            )
        print(f"Using {given} for {rows:,} lines (read-only)", flush=True)
    elif path.exists():
        print(f"Reusing {path}", flush=True)
    else:
        print(f"Building {path} with {rows:,} lines…", flush=True)
        result["build"] = build(rows, path)
        built = True
        print(f"  {result['build']}", flush=True)
    if with_peers:
        export_parquet(path, parquet)
    con = db.connect(path, read_only=True)
    cur = con.cursor()
    result["lines"] = db.query_rows(cur, "SELECT count(*) FROM order_lines")[0][0]
    result["floor_ms"] = bench.floor_ms(cur, repeats)
    result["queries"] = {}
    for scenario, label, fn, runs in bench.page_queries(cur, repeats):
        result["queries"][f"{scenario} | {label}"] = bench._median_ms(fn, min(runs, repeats))
        print(f"  {scenario} | {label}: {result['queries'][f'{scenario} | {label}']:.1f} ms")
    if with_peers:
        default = next(iter(bench.scenarios(cur).values()))
        result["peers"] = peers(cur, parquet, default, repeats)
    con.close()
    result["load_after"] = _load()
    if not keep:
        parquet.unlink(missing_ok=True)
        if built and rows >= BIG:
            for p in (path, path.with_suffix(".duckdb.wal")):
                p.unlink(missing_ok=True)
    return result


def exponent(n1: int, t1: float, n2: int, t2: float) -> float:
    return math.log(t2 / t1) / math.log(n2 / n1)


def report(results: list[dict]) -> str:
    sizes = [r["lines"] for r in results]
    names = [f"{n / 1e6:g}M" for n in sizes]
    steps = [f"exp {a}→{b}" for a, b in itertools.pairwise(names)]
    out = ["## Stores\n", "| lines | store | build s | peak RSS GB | store GB | load average |"]
    out.append("|---:|---|---:|---:|---:|---|")
    for r in results:
        b = r.get("build")
        if b:
            out.append(
                f"| {r['lines']:,} | {r['store']} | {b['build_s']:.0f} | {b['peak_rss_gb']:.2f} "
                f"| {b['store_gb']:.2f} | {b['load']} |"
            )
        else:
            out.append(f"| {r['lines']:,} | {r['store']} (reused) | – | – | – | – |")

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
    if all("peers" in r for r in results):
        engines = {}
        for i, peer in enumerate(results[0]["peers"]):
            engines[peer["engine"].split(" (")[0]] = [r["peers"][i]["median_ms"] for r in results]
        table("Headline figures (KPIs, revenue by country, top 25 accounts), median ms", engines)
        cpu = {
            peer["engine"].split(" (")[0]: [r["peers"][i]["cpu_ms"] for r in results]
            for i, peer in enumerate(results[0]["peers"])
        }
        table("Headline figures, median CPU ms of the process (all threads)", cpu)
        atlas, polars = (next(k for k in engines if k.startswith(p)) for p in ("Sales", "Polars"))
        ratios = ", ".join(
            f"{n}: {a / b:.2f} (CPU {c / d:.2f})"
            for n, a, b, c, d in zip(
                names, engines[atlas], engines[polars], cpu[atlas], cpu[polars], strict=True
            )
        )
        out.extend(["", f"Sales Atlas / Polars, interleaved rounds, median wall: {ratios}."])
    loads = ", ".join(
        f"{n}: {r['load_before']} → {r['load_after']}" for n, r in zip(names, results, strict=True)
    )
    out.extend(["", f"Load average (1/5/15 min) before → after each size: {loads}."])
    return "\n".join(out)


def store_arg(text: str) -> tuple[int, Path]:
    """SIZE=PATH, e.g. 100000000=/work/big/b100m.duckdb (SIZE may be written 100M or 1e8)."""
    size, sep, path = text.partition("=")
    if not sep or not path:
        raise argparse.ArgumentTypeError(f"{text!r}: expected SIZE=PATH")
    size = size.strip().upper()
    scale = {"K": 10**3, "M": 10**6}.get(size[-1:], 1)
    try:
        rows = round(float(size[:-1] if scale > 1 else size) * scale)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: SIZE must be a number of lines") from None
    return rows, Path(path).expanduser()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", help="default: 1M 10M 50M")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument(
        "--store",
        type=store_arg,
        action="append",
        default=[],
        metavar="SIZE=PATH",
        help="time this existing store for SIZE lines (read-only) instead of building one",
    )
    parser.add_argument(
        "--workdir", type=Path, default=HERE, help="where built stores and Parquet copies go"
    )
    parser.add_argument("--keep", action="store_true", help="keep 50M+ stores and Parquet")
    parser.add_argument("--json", type=Path, help="also write the raw figures here")
    parser.add_argument(
        "--no-peers",
        dest="peers",
        action="store_false",
        help="time the page queries only (no Parquet copy, no frames in memory)",
    )
    args = parser.parse_args()
    given = dict(args.store)
    sizes = set(args.sizes or ([] if given else DEFAULT_SIZES)) | set(given)
    args.workdir.mkdir(parents=True, exist_ok=True)
    results = [
        measure(rows, args.repeats, args.keep, args.workdir, given.get(rows), args.peers)
        for rows in sorted(sizes)
    ]
    if args.json:
        args.json.write_text(json.dumps(results, indent=1, default=str))
    print(report(results))


if __name__ == "__main__":
    main()
