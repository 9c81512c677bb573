"""Where the server's CPU goes: py-spy samples the streamlit process while a protocol
session clicks through the pages; the collapsed stacks are summarised by inclusive time.

py-spy is a development tool, not a requirement: `pip install py-spy` into the venv.
"""

from __future__ import annotations

import asyncio
import re
import shutil
import signal
import subprocess
from collections import Counter
from pathlib import Path
from typing import Any

from . import runs

# Inclusive-time buckets, in order: the first pattern found anywhere in a stack names it
# (so a query run by a cache miss counts as a query, a figure's to_json inside
# st.plotly_chart as the chart's marshalling). Patterns match py-spy's "function (file:line)".
BUCKETS = [
    ("gc.collect(2) after every run (runner.postScriptGC)", r"_on_script_finished"),
    ("DuckDB queries (analytics/db.py, on a cache miss)", r"analytics/db\.py"),
    ("st.plotly_chart: figure to JSON, protobuf", r"streamlit/elements/plotly_chart"),
    ("st.dataframe and tables: Arrow", r"streamlit/elements/arrow|streamlit/dataframe_util"),
    ("st.cache_data: hashing arguments, copying results", r"streamlit/runtime/caching"),
    ("building plotly figures (ui/charts and plotly)", r"plotly/"),
    ("pandas outside the above", r"pandas/"),
    ("sending: protobuf, websocket, event loop", r"SerializeToString|websocket|uvicorn|asyncio"),
]


# py-spy charges some waiting threads as active; stacks ending in a wait are dropped.
IDLE_LEAF = re.compile(
    r"polling_path_watcher\.py:90\)|\(selectors\.py:|\(threading\.py:|\(queue\.py:"
    r"|concurrent/futures/thread\.py:\d+\)$|base_events\.py:\d+\)$"
)


# A frame of the project's code; py-spy names page scripts by their file name alone.
PROJECT_FRAME = re.compile(
    r"^(.*) \(((?:.*/)?(?:views|ui|analytics)/[^:]*\.py"
    r"|(?:app|overview|markets|review|pricing|team|data)\.py):\d+\)$"
)


def classify(stack: str) -> str:
    """The bucket of one collapsed stack ("frame;frame;…"), or its first project frame."""
    for name, pattern in BUCKETS:
        if re.search(pattern, stack):
            return name
    return "other Streamlit / Python"


def summarise(collapsed: str, top: int = 40) -> dict[str, Any]:
    """Totals per bucket, per page script and per project function (inclusive), from
    py-spy's raw output: one "frame;frame;… count" line per distinct stack."""
    buckets: Counter[str] = Counter()
    project: Counter[str] = Counter()
    leaves: Counter[str] = Counter()
    total = 0
    for line in collapsed.splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        frames = stack.split(";")
        if IDLE_LEAF.search(frames[-1]):
            continue
        total += n
        buckets[classify(stack)] += n
        leaves[frames[-1]] += n
        seen = set()
        for frame in frames:
            match = PROJECT_FRAME.search(frame)
            if match:
                where = match[2].rsplit("/", 2)[-2:] if "/" in match[2] else [match[2]]
                if where[0] not in {"app.py", "views", "ui", "analytics"}:
                    where = ["views", *where]
                where = "/".join(where)
                name = f"{where}:{match[1]}"
                if name not in seen:
                    seen.add(name)
                    project[name] += n

    def share(counter: Counter[str]) -> list[tuple[str, float]]:
        return [(k, round(100 * v / max(1, total), 1)) for k, v in counter.most_common(top)]

    return {
        "samples": total,
        "buckets_pct": share(buckets),
        "project_inclusive_pct": share(project),
        "leaf_self_pct": share(leaves),
    }


def run(ws_url: str, pid: int, rounds: int, out_dir: Path) -> dict[str, Any]:
    py_spy = shutil.which("py-spy")
    if py_spy is None:
        raise SystemExit("py-spy not found: pip install py-spy (a development tool only)")
    raw = out_dir / "profile.collapsed.txt"
    sampler = subprocess.Popen(
        [py_spy, "record", "-p", str(pid), "-r", "200", "-f", "raw", "-o", str(raw), "-t"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        steps = asyncio.run(runs.sequential(ws_url, pid, rounds))
    finally:
        sampler.send_signal(signal.SIGINT)
        sampler.wait(timeout=60)
    result = summarise(raw.read_text())
    result["collapsed_stacks"] = str(raw)
    result["warm_cpu_s"] = steps["warm_cpu_s"]
    result["cpu_s"] = steps["cpu_s"]
    return result
