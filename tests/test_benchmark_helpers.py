"""The pure arithmetic of benchmarks/capacity: /proc parsing, percentiles, protocol keys and
the profile's summary (the benchmark itself is run by hand, not in CI)."""

from __future__ import annotations

import math
import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))

from capacity import procstat, profile
from capacity.protocol import user_key


def test_cpu_ticks_are_utime_plus_stime_even_with_a_tricky_command_name():
    # Fields 14 and 15 (utime 1234, stime 56) after a name holding spaces and a ')'.
    rest = ["S", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "1234", "56", "0", "0"]
    stat = "4242 (python (x) y) " + " ".join(rest)
    assert procstat.cpu_ticks_from_stat(stat) == 1290


def test_own_cpu_time_and_memory_come_from_proc():
    before = procstat.cpu_seconds(os.getpid())
    deadline = procstat.cpu_seconds(os.getpid()) + 0.05
    while procstat.cpu_seconds(os.getpid()) < deadline:  # burn 50 ms of CPU
        pass
    # Ticks are 10 ms; 118.74 - 118.69 is 0.04999… in binary floating point.
    assert procstat.cpu_seconds(os.getpid()) - before >= 0.05 - 1e-9
    with open(f"/proc/{os.getpid()}/status") as f:
        vm_rss_kb = next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))
    assert procstat.rss_bytes(os.getpid()) == pytest.approx(vm_rss_kb * 1024, rel=0.05)


def test_percentile_interpolates_between_closest_ranks():
    values = [5.0, 1.0, 4.0, 2.0, 3.0]
    assert procstat.percentile(values, 50) == 3.0
    assert procstat.percentile(values, 95) == pytest.approx(4.8)  # 4 + 0.8 * (5 - 4)
    assert procstat.percentile([1.0, 2.0], 50) == 1.5
    assert procstat.percentile([7.0], 95) == 7.0
    assert math.isnan(procstat.percentile([], 50))
    assert procstat.summary([0.3, 0.1, 0.2]) == {"n": 3, "median": 0.2, "p95": 0.29, "max": 0.3}


def test_user_key_is_the_tail_of_a_widget_id():
    assert user_key("$$ID-0123abcd-f_currency") == "f_currency"
    assert user_key("$$ID-0123abcd-markets_bars_region-0") == "markets_bars_region-0"
    assert user_key("$$ID-0123abcd-None") is None
    assert user_key("plain") is None


def test_profile_summary_drops_waits_and_charges_stacks_to_the_first_bucket():
    collapsed = "\n".join(
        [
            "run (script_runner.py:1);_on_script_finished (script_runner.py:1055) 30",
            "<module> (app.py:9);<module> (markets.py:50);query (analytics/db.py:98) 20",
            "<module> (app.py:9);<module> (markets.py:60);to_json (plotly/io.py:1) 10",
            "worker (x.py:1);select (selectors.py:468) 500",
        ]
    )
    result = profile.summarise(collapsed)
    assert result["samples"] == 60
    buckets = dict(result["buckets_pct"])
    assert buckets["gc.collect(2) after every run (runner.postScriptGC)"] == 50.0
    assert buckets["DuckDB queries (analytics/db.py, on a cache miss)"] == pytest.approx(33.3)
    assert buckets["building plotly figures (ui/charts and plotly)"] == pytest.approx(16.7)
    project = dict(result["project_inclusive_pct"])
    assert project["app.py:<module>"] == 50.0
    assert project["views/markets.py:<module>"] == 50.0
    assert project["analytics/db.py:query"] == pytest.approx(33.3)
