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
