"""The server's own CPU time and memory, read from /proc, and the arithmetic on them.

utime + stime of /proc/PID/stat count every thread of the process (DuckDB's workers
included), in clock ticks of 1/SC_CLK_TCK s (10 ms here), so another process loading the
cores hardly moves them; latencies, by contrast, do move.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Sequence

# One process, or several counted together (the workers behind `python -m serve`).
Pids = int | Sequence[int]

TICKS_PER_S = os.sysconf("SC_CLK_TCK")
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


def cpu_ticks_from_stat(stat: str) -> int:
    """utime + stime from the text of /proc/PID/stat.

    The command name (field 2) is in parentheses and may hold spaces or parentheses, so the
    fields are counted after the last ')'.
    """
    fields = stat[stat.rindex(")") + 2 :].split()
    # fields[0] is field 3 (state); utime and stime are fields 14 and 15.
    return int(fields[11]) + int(fields[12])


def _each(pids: Pids) -> list[int]:
    return [pids] if isinstance(pids, int) else list(pids)


def cpu_seconds(pids: Pids) -> float:
    """CPU time (user + system) the process (or processes, summed) used so far, in seconds."""
    ticks = 0
    for pid in _each(pids):
        with open(f"/proc/{pid}/stat") as f:
            ticks += cpu_ticks_from_stat(f.read())
    return ticks / TICKS_PER_S


def rss_bytes(pids: Pids) -> int:
    """Resident memory of the process (or processes, summed) now (field 2 of
    /proc/PID/statm, in pages)."""
    pages = 0
    for pid in _each(pids):
        with open(f"/proc/{pid}/statm") as f:
            pages += int(f.read().split()[1])
    return pages * PAGE_SIZE


def wait_quiet(
    pid: Pids, *, window_s: float = 0.25, max_ticks: int = 0, timeout_s: float = 30.0
) -> float:
    """Wait until the process (or processes, together) uses at most `max_ticks` ticks of
    CPU during `window_s`; return its CPU seconds then. Raises TimeoutError if it never
    settles."""
    deadline = time.monotonic() + timeout_s
    before = cpu_seconds(pid)
    while True:
        time.sleep(window_s)
        now = cpu_seconds(pid)
        if round((now - before) * TICKS_PER_S) <= max_ticks:
            return now
        if time.monotonic() > deadline:
            raise TimeoutError(f"process {pid} still busy after {timeout_s:.0f} s")
        before = now


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0..100) with linear interpolation between closest ranks (the
    same rule as numpy's default); NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def summary(values: Sequence[float]) -> dict[str, float | int]:
    """n, median, p95 and max of a sample (rounded to the microsecond for the JSON)."""
    return {
        "n": len(values),
        "median": round(percentile(values, 50), 6),
        "p95": round(percentile(values, 95), 6),
        "max": round(max(values), 6) if values else math.nan,
    }
