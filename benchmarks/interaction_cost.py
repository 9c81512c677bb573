"""Server cost per interaction (issue 17): CPU time of the streamlit process and latency.

    python benchmarks/interaction_cost.py browser  --rows 300000 [--repeats 5]
    python benchmarks/interaction_cost.py steps    --rows 300000 [--repeats 5]
    python benchmarks/interaction_cost.py profile  --rows 300000 [--repeats 3]   # py-spy
    python benchmarks/interaction_cost.py sessions --rows 1000000 --sessions 20 \\
        --interval 5 --duration 120 [--import-at 50] [--save-at 70] [--workers 2]

Each mode starts `streamlit run app.py` on the store (benchmarks/bench_<rows>.duckdb, built
from the demo generator if missing, or --db), measures, stops the server and prints a JSON
summary (also written to --out). The server's CPU is read from /proc/PID/stat of the
streamlit process itself, so other load on the machine hardly moves it; latencies do move.

- browser: Debian's Chromium through Playwright, one tab, each page and each kind of
  interaction `--repeats` times; CPU from quiet to quiet around each, click-to-idle latency
  as the page reports it (script run over, nothing stale on screen).
- steps: the same round through the pages over Streamlit's websocket protocol, one session:
  what the server spends per step without a browser's share of the cores.
- sessions: N protocol sessions at once, each interacting every --interval seconds for
  --duration seconds: errors, p50/p95/p99 latency, CPU per interaction, memory. With
  --import-at S a CLI import of a small orders file (--import-lines, the store's latest
  lines under new ids) starts S seconds in; with --save-at S one more session saves a
  scenario in the Pricing lab (issue 12's load figure). Either runs on a copy of the store,
  deleted afterwards, so the benchmark stores are never changed. With --workers N the app
  is served as `python -m serve --workers N` serves it (N streamlit processes behind its
  sticky proxy, each primed by the launcher) and the sessions go through the proxy; the
  server's CPU and memory are then the workers' summed, the proxy's given beside them, and
  each process's own.

The server warms its caches for the default view and for the link the sessions open
(SALES_ATLAS_WARM_LINKS, ui/warmup.py), as a deployment that names its meeting link does;
--no-warmup measures a cold server (SALES_ATLAS_WARMUP=off). Once healthy, the server is
primed by one request to /_stcore/script-health-check, as a deployment's readiness probe
does (.streamlit/config.toml enables it): app.py's first run, which starts the warm-up,
happens before the first session; --no-prime leaves that to the first session.
- profile: the steps round under py-spy (pip install py-spy; not a requirement): the
  server's samples by inclusive cost (queries, charts, tables, caching, …) and by function
  of app.py, views/, ui/ and analytics/. The collapsed stacks are kept beside --out.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

from capacity import events, procstat, runs
from capacity.protocol import LINK_QUERY
from capacity.server import REPO_ROOT, AppServer, ServedCluster, ensure_store

HERE = Path(__file__).resolve().parent


def machine() -> dict[str, object]:
    with open("/proc/loadavg") as f:
        load = f.read().split()[:3]
    return {
        "date": dt.datetime.now().isoformat(timespec="seconds"),
        "cores": os.cpu_count(),
        "loadavg_1_5_15_at_start": [float(x) for x in load],
        "python": platform.python_version(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("mode", choices=["browser", "steps", "sessions", "profile"])
    parser.add_argument("--rows", type=int, default=300_000, help="order lines of the store")
    parser.add_argument("--db", type=Path, help="store (default benchmarks/bench_<rows>.duckdb)")
    parser.add_argument("--repeats", type=int, default=5, help="rounds (browser, steps)")
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--interval", type=float, default=5.0, help="seconds between clicks")
    parser.add_argument("--duration", type=float, default=120.0, help="seconds")
    parser.add_argument("--out", type=Path, help="write the full JSON here")
    parser.add_argument("--records", action="store_true", help="keep every interaction")
    parser.add_argument("--import-at", type=float, help="sessions: CLI import at S seconds")
    parser.add_argument("--import-lines", type=int, default=1000, help="lines it imports")
    parser.add_argument("--save-at", type=float, help="sessions: scenario save at S seconds")
    parser.add_argument("--no-warmup", action="store_true", help="a cold server (no warm-up)")
    parser.add_argument("--no-prime", action="store_true", help="no readiness probe at start")
    parser.add_argument(
        "--workers", type=int, help="sessions: serve with `python -m serve --workers N`"
    )
    args = parser.parse_args(argv)
    writes = args.import_at is not None or args.save_at is not None
    if writes and args.mode != "sessions":
        parser.error("--import-at and --save-at belong to the sessions mode")
    if args.workers is not None and (args.mode != "sessions" or args.no_prime):
        parser.error("--workers belongs to the sessions mode (and its workers are primed)")

    db = ensure_store(args.db or HERE / f"bench_{args.rows}.duckdb", args.rows)
    result: dict[str, object] = {"mode": args.mode, "store": str(db), **machine()}
    with tempfile.TemporaryDirectory(prefix="interaction_cost_") as folder:
        if writes:  # the import and the save write a copy (and its state store), not `db`
            db = events.working_copy(db, Path(folder))
            os.environ["SALES_ATLAS_STATE"] = str(Path(folder) / "state.sqlite")
            result["store_copy"] = str(db)
        code = _measure(args, db, Path(folder), result)
    return code


def _measure(args: argparse.Namespace, db: Path, folder: Path, result: dict) -> int:
    log = Path(tempfile.gettempdir()) / f"interaction_cost_{os.getpid()}.log"
    env = (
        {"SALES_ATLAS_WARMUP": "off"} if args.no_warmup else {"SALES_ATLAS_WARM_LINKS": LINK_QUERY}
    )
    result["warmup"] = not args.no_warmup
    result["workers"] = args.workers
    served = (
        AppServer(db, log, env=env, prime=not args.no_prime)
        if args.workers is None
        else ServedCluster(db, log, args.workers, env=env)
    )
    with served as server:
        result["rss_mb_server_started"] = round(procstat.rss_bytes(server.pid) / 2**20, 1)
        # The probe's own answer time, then the warm-up it started, which a server started
        # before the meeting has finished by the time people arrive; the server's CPU up to
        # the first session.
        result["prime_s"] = None if server.prime_s is None else round(server.prime_s, 2)
        if server.prime_s is not None:
            started = time.monotonic()
            procstat.wait_quiet(server.pid, timeout_s=600)
            result["warmup_s_after_prime"] = round(time.monotonic() - started, 1)
        result["cpu_s_before_sessions"] = round(procstat.cpu_seconds(server.pid), 2)
        ws_url = server.base_url.replace("http", "ws", 1) + "/_stcore/stream"
        if args.mode == "browser":
            from capacity import browser

            measured = browser.run(server.base_url, server.pid, args.repeats)
        elif args.mode == "profile":
            from capacity import profile

            out_dir = (args.out or log).parent
            measured = profile.run(ws_url, server.pid, args.repeats, out_dir)
        elif args.mode == "steps":
            measured = asyncio.run(runs.sequential(ws_url, server.pid, args.repeats))
        else:
            happenings: list[runs.Event] = []
            if args.import_at is not None:
                orders = events.orders_file(db, folder, args.import_lines)
                happenings.append((args.import_at, lambda t0: events.cli_import(db, orders, t0)))
            if args.save_at is not None:
                state_file = Path(os.environ["SALES_ATLAS_STATE"])
                happenings.append(
                    (args.save_at, lambda t0: events.scenario_save(ws_url, state_file, t0))
                )
            measured = asyncio.run(
                runs.concurrent(
                    ws_url,
                    server.processes,
                    args.sessions,
                    args.interval,
                    args.duration,
                    happenings,
                )
            )
            measured["event_failures"] = sum(events.failed(e) for e in measured["events"])
        result["rss_mb_server_end"] = round(procstat.rss_bytes(server.pid) / 2**20, 1)
    with open("/proc/loadavg") as f:
        result["loadavg_1_5_15_at_end"] = [float(x) for x in f.read().split()[:3]]
    if not args.records:
        measured.pop("records", None)
    result.update(measured)
    text = json.dumps(result, indent=2)
    if args.out:
        args.out.write_text(text + "\n")
    print(text)
    print(f"server log: {log}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    os.chdir(REPO_ROOT)
    sys.exit(main())
