"""benchmarks/scaling.py's --store SIZE=PATH argument (the lead's run on stores built
beforehand)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))

import scaling


@pytest.mark.parametrize(
    ("text", "rows"),
    [
        ("100000000=/big/b.duckdb", 100_000_000),
        ("100M=/big/b.duckdb", 100_000_000),
        ("1e8=/big/b.duckdb", 100_000_000),
        ("2.5m=/big/b.duckdb", 2_500_000),
        ("30K=/big/b.duckdb", 30_000),
    ],
)
def test_store_sizes(text, rows):
    assert scaling.store_arg(text) == (rows, Path("/big/b.duckdb"))


@pytest.mark.parametrize("text", ["/big/b.duckdb", "100M=", "lots=/big/b.duckdb"])
def test_bad_store_arguments_say_what_is_expected(text):
    with pytest.raises(argparse.ArgumentTypeError, match="SIZE"):
        scaling.store_arg(text)


def test_exponent():
    assert scaling.exponent(1_000_000, 10.0, 10_000_000, 100.0) == pytest.approx(1.0)
    assert scaling.exponent(10_000_000, 50.0, 50_000_000, 50.0) == 0.0


def test_report_gives_the_interleaved_ratio_to_polars():
    def result(lines, atlas, polars):
        return {
            "lines": lines,
            "store": "s.duckdb",
            "floor_ms": 1.0,
            "queries": {"q": 2.0},
            "peers": [
                {"engine": "Sales Atlas (x)", "median_ms": atlas, "cpu_ms": atlas / 2},
                {"engine": "Polars (frame)", "median_ms": polars, "cpu_ms": polars},
            ],
            "load_before": "1.0",
            "load_after": "1.0",
        }

    text = scaling.report([result(1_000_000, 30.0, 20.0), result(10_000_000, 50.0, 100.0)])
    assert "Sales Atlas / Polars, interleaved rounds, median wall: 1M: 1.50 (CPU 0.75)" in text
    assert "10M: 0.50 (CPU 0.25)" in text
    assert "| Sales Atlas | 15.0 | 25.0 |" in text  # the CPU table
