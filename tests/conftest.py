"""Fixtures shared by every test package: one small demo database per test session."""

from __future__ import annotations

from pathlib import Path

import pytest

DEMO_ROWS = 30_000
DEMO_SEED = 7


@pytest.fixture(scope="session")
def demo_db_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Path to a demo DuckDB store (30k order lines, seed 7), built once per session.

    Tests may read it freely; a test that writes must copy it first, so that other tests
    keep seeing the same deterministic data.
    """
    from analytics.demo import build_database

    path = tmp_path_factory.mktemp("demo_db") / "sales_atlas_demo.duckdb"
    build_database(path, rows=DEMO_ROWS, seed=DEMO_SEED)
    return path
