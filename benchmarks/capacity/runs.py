"""The two protocol-level runs: one session measured step by step, and N sessions at once."""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable
from typing import Any

from . import procstat
from .protocol import OPEN_LINK, Session, Step, cycle_steps


def by_step(records: list[dict[str, Any]], value: str) -> dict[str, dict[str, Any]]:
    """{"page / kind": summary of `value`} over the records that have it."""
    groups: dict[str, list[float]] = defaultdict(list)
    for record in records:
        if record.get(value) is not None:
            groups[f"{record['page']} / {record['kind']}"].append(record[value])
    return {name: procstat.summary(values) for name, values in groups.items()}


async def sequential(ws_url: str, pid: int, rounds: int) -> dict[str, Any]:
    """One session runs the cycle `rounds` times; around each step the server is left to
    go quiet, so the CPU it used in between is that step's alone. Round 1 meets cold
    caches; the medians are over every round."""
    session = Session(ws_url)
    records = []
    try:
        for round_no in range(1, rounds + 1):
            for page, kind, action in [OPEN_LINK, *cycle_steps()]:
                before = procstat.wait_quiet(pid)
                result = await action(session)
                after = await asyncio.to_thread(procstat.wait_quiet, pid)
                records.append(
                    {
                        "round": round_no,
                        "page": page,
                        "kind": kind,
                        "cpu_s": round(after - before, 3),
                        "latency_s": round(result.latency_s, 4),
                        "bytes": result.bytes_received,
                        "messages": result.messages,
                    }
                )
    finally:
        await session.close()
    warm = [r for r in records if r["round"] > 1]
    return {
        "rounds": rounds,
        "cpu_s": by_step(records, "cpu_s"),
        "cpu_s_warm": by_step(warm, "cpu_s"),
        "latency_s": by_step(records, "latency_s"),
        "all_cpu_s": procstat.summary([r["cpu_s"] for r in records]),
        "warm_cpu_s": procstat.summary([r["cpu_s"] for r in warm]),
        "records": records,
    }


async def _user(
    ws_url: str,
    steps: list[Step],
    first: int,
    start: float,
    delay_s: float,
    interval_s: float,
    stop_at: float,
    records: list[dict[str, Any]],
) -> None:
    """One user: opens the link after `delay_s`, then clicks through the cycle from step
    `first` (a navigation) on, on a schedule of one click every `interval_s` seconds until
    `stop_at`. A click waits for the previous one's answer; a user who fell behind the
    schedule clicks again at once until back on it, so a server that cannot keep up sees
    every user waiting on it (never more than one click per user in flight). After an error
    the user opens the link again and goes on from the next navigation."""
    session = Session(ws_url)
    await asyncio.sleep(delay_s)
    next_at = time.monotonic()
    i = first
    try:
        while time.monotonic() < stop_at:
            if session.connection is None:
                page, kind, action = OPEN_LINK
                while steps[i % len(steps)][1] != "navigate":
                    i += 1
            else:
                page, kind, action = steps[i % len(steps)]
                i += 1
            clicked = time.monotonic()
            record = {"t": round(clicked - start, 2), "page": page, "kind": kind}
            try:
                result = await action(session)
                record["latency_s"] = round(result.latency_s, 4)
            # ProtocolError, and websockets' ConnectionClosed or OSError from the socket.
            except Exception as problem:
                record["error"] = f"{type(problem).__name__}: {problem}"
                await session.close()
            records.append(record)
            next_at += interval_s
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))
    finally:
        await session.close()


# Something done once in the middle of a run: (seconds after the start, what), where
# what(t0) returns its record (see capacity/events.py).
Event = tuple[float, Callable[[float], Awaitable[dict[str, Any]]]]


def latency_summary(latencies: list[float]) -> dict[str, float | None]:
    return {
        "n": len(latencies),
        "p50": round(procstat.percentile(latencies, 50), 3),
        "p95": round(procstat.percentile(latencies, 95), 3),
        "p99": round(procstat.percentile(latencies, 99), 3),
        "max": round(max(latencies), 3) if latencies else None,
    }


async def concurrent(
    ws_url: str,
    processes: dict[str, int],
    sessions: int,
    interval_s: float,
    duration_s: float,
    events: list[Event] = (),
) -> dict[str, Any]:
    """`sessions` users at once, each interacting every `interval_s` for `duration_s`
    (starts spread over one interval), and the `events` at their times. `processes` names
    the server's processes: {"server": pid}, or the workers and the "proxy" of `python -m
    serve`. Server CPU per interaction is the CPU of every process but the proxy over the
    run divided by the interactions answered (the proxy's is given beside it); memory is
    their sum, and each process's CPU and memory are given too."""
    pid = [p for name, p in processes.items() if name != "proxy"]
    steps = cycle_steps()
    navigations = [i for i, step in enumerate(steps) if step[1] == "navigate"]
    records: list[dict[str, Any]] = []
    rss_samples: list[int] = []
    procstat.wait_quiet(list(processes.values()))
    rss_each = {name: [procstat.rss_bytes(p)] for name, p in processes.items()}
    rss_start = procstat.rss_bytes(pid)
    cpu_start = procstat.cpu_seconds(pid)
    cpu_start_each = {name: procstat.cpu_seconds(p) for name, p in processes.items()}
    start = time.monotonic()
    stop_at = start + duration_s

    async def sample_rss() -> None:
        while time.monotonic() < stop_at:
            for name, each in processes.items():
                rss_each[name].append(procstat.rss_bytes(each))
            rss_samples.append(sum(rss_each[name][-1] for name in processes if name != "proxy"))
            await asyncio.sleep(1.0)

    async def at(delay_s: float, what) -> dict[str, Any]:
        await asyncio.sleep(delay_s)
        return await what(start)

    sampler = asyncio.create_task(sample_rss())
    happenings = [asyncio.create_task(at(delay, what)) for delay, what in events]
    await asyncio.gather(
        *(
            _user(
                ws_url,
                steps,
                first=navigations[n % len(navigations)],
                start=start,
                delay_s=interval_s * n / sessions,
                interval_s=interval_s,
                stop_at=stop_at,
                records=records,
            )
            for n in range(sessions)
        )
    )
    wall = time.monotonic() - start
    cpu_busy = procstat.cpu_seconds(pid) - cpu_start
    cpu_each = {
        name: procstat.cpu_seconds(p) - cpu_start_each[name] for name, p in processes.items()
    }
    await sampler
    event_records = [await task for task in happenings]
    rss_end = procstat.rss_bytes(pid)
    for name, each in processes.items():
        rss_each[name].append(procstat.rss_bytes(each))
    after_idle = procstat.wait_quiet(pid, timeout_s=120)
    answered = [r for r in records if "latency_s" in r]
    errors = [r for r in records if "error" in r]
    latencies = [r["latency_s"] for r in answered]
    return {
        "sessions": sessions,
        "interval_s": interval_s,
        "duration_s": duration_s,
        "wall_s": round(wall, 1),
        "interactions": len(records),
        "answered": len(answered),
        "errors": len(errors),
        "error_samples": sorted({r["error"] for r in errors})[:10],
        "latency_s": latency_summary(latencies),
        "latency_s_by_step": by_step(answered, "latency_s"),
        "events": event_records,
        # Clicks made while each event ran, and in the 10 s after it (the first reruns on
        # a new snapshot meet cold caches).
        "latency_s_during_events": {
            event["event"]: latency_summary(
                [
                    r["latency_s"]
                    for r in answered
                    if event["at_s"] <= r["t"] <= event["at_s"] + event["seconds"] + 10
                ]
            )
            for event in event_records
        },
        "server_cpu_s": round(cpu_busy, 2),
        "server_cpu_s_until_idle": round(after_idle - cpu_start, 2),
        "server_cpu_per_interaction_s": round(cpu_busy / max(1, len(answered)), 3),
        "server_cores_busy": round(cpu_busy / wall, 2),
        "rss_mb": {
            "start": round(rss_start / 2**20, 1),
            "max": round(max([*rss_samples, rss_end]) / 2**20, 1),
            "end": round(rss_end / 2**20, 1),
        },
        "by_process": {
            name: {
                "cpu_s": round(cpu_each[name], 2),
                "cpu_per_interaction_s": round(cpu_each[name] / max(1, len(answered)), 3),
                "rss_mb_start_max_end": [
                    round(rss_each[name][0] / 2**20, 1),
                    round(max(rss_each[name]) / 2**20, 1),
                    round(rss_each[name][-1] / 2**20, 1),
                ],
            }
            for name in processes
        },
        "records": records,
    }
