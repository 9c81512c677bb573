"""Small user state every app server can write: saved scenarios, the audit log and the
importer's saved column mappings.

It lives in SQLite (standard library), not in the DuckDB store: DuckDB lets one process
write a file while nobody else holds it, so a scenario saved in the store had to close the
app's shared read connection (breaking other sessions' reads) and failed whenever the CLI or
a second server held the file. SQLite in WAL mode lets several processes write one small
file, one short transaction at a time, while readers keep reading.

Path: $SALES_ATLAS_STATE, else the store's path with the suffix .state.sqlite.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd

from analytics import db

ENV_VAR = "SALES_ATLAS_STATE"
BUSY_TIMEOUT_S = 10.0

SCHEMA = """
CREATE TABLE IF NOT EXISTS scenarios (
    scenario_id TEXT PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    created_at  TEXT NOT NULL,   -- ISO 8601, UTC
    created_by  TEXT NOT NULL,
    params      TEXT NOT NULL    -- pricing.Scenario.to_json()
);
CREATE TABLE IF NOT EXISTS audit (
    audit_id INTEGER PRIMARY KEY AUTOINCREMENT,
    at       TEXT NOT NULL,      -- ISO 8601, UTC
    email    TEXT NOT NULL,
    action   TEXT NOT NULL,      -- one of ACTIONS
    detail   TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS audit_at ON audit (at);
CREATE TABLE IF NOT EXISTS mappings (
    name      TEXT PRIMARY KEY,
    kind      TEXT NOT NULL,
    signature TEXT NOT NULL,      -- the file's column names (importer.header_signature)
    columns   TEXT NOT NULL,      -- JSON: field -> the file's column name
    saved_at  TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS mappings_by_signature ON mappings (kind, signature);
"""

ACTIONS = frozenset(
    {
        "sign-in",
        "import",
        "rate fetch",
        "scenario save",
        "scenario delete",
        "export",
        "view as",
        "mapping save",
        "funnel edit",
        "summary currencies",
    }
)


def state_path(store: Path | None = None) -> Path:
    """$SALES_ATLAS_STATE, else next to the store (`store`, default the app's store)."""
    value = os.environ.get(ENV_VAR)
    if value:
        return Path(value)
    return (store or db.database_path()).with_suffix(".state.sqlite")


def connect(path: str | Path | None = None) -> sqlite3.Connection:
    """Open (creating if needed) the state store in WAL mode."""
    path = Path(path) if path is not None else state_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    con = sqlite3.connect(
        path, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False
    )
    con.execute("PRAGMA journal_mode=WAL")
    con.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
    con.executescript(SCHEMA)
    return con


@contextmanager
def transaction(con: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One short write: BEGIN IMMEDIATE takes the write lock at once, so two servers saving
    at the same moment queue (busy timeout) instead of failing halfway."""
    con.execute("BEGIN IMMEDIATE")
    try:
        yield con
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


# --- audit --------------------------------------------------------------------------------


def record(con: sqlite3.Connection, email: str, action: str, detail: str = "") -> None:
    """Write one audit entry: who did what, now."""
    if action not in ACTIONS:
        raise ValueError(f"Unknown audit action {action!r}.")
    with transaction(con):
        con.execute(
            "INSERT INTO audit (at, email, action, detail) VALUES (?, ?, ?, ?)",
            (_now(), email, action, detail),
        )


def audit_log(con: sqlite3.Connection, limit: int = 500) -> pd.DataFrame:
    """The latest audit entries, newest first (grain: one row per recorded action)."""
    rows = con.execute(
        "SELECT at, email, action, detail FROM audit ORDER BY audit_id DESC LIMIT ?", (limit,)
    ).fetchall()
    return pd.DataFrame(rows, columns=["at", "email", "action", "detail"])


# --- saved scenarios ----------------------------------------------------------------------


def save_scenario(con: sqlite3.Connection, name: str, params: str, email: str) -> str:
    """Store scenario JSON under a name (new, or replacing the one of that name); audited."""
    name = name.strip()
    if not name:
        raise ValueError("Give the scenario a name.")
    with transaction(con):
        existing = con.execute(
            "SELECT scenario_id FROM scenarios WHERE name = ?", (name,)
        ).fetchone()
        scenario_id = existing[0] if existing else uuid.uuid4().hex[:12]
        con.execute(
            "INSERT OR REPLACE INTO scenarios VALUES (?, ?, ?, ?, ?)",
            (scenario_id, name, _now(), email, params),
        )
        con.execute(
            "INSERT INTO audit (at, email, action, detail) VALUES (?, ?, 'scenario save', ?)",
            (_now(), email, name),
        )
    return scenario_id


def saved_scenarios(con: sqlite3.Connection) -> pd.DataFrame:
    """scenario_id, name, created_at, created_by of every saved scenario, newest first."""
    rows = con.execute(
        "SELECT scenario_id, name, created_at, created_by FROM scenarios "
        "ORDER BY created_at DESC, name"
    ).fetchall()
    frame = pd.DataFrame(rows, columns=["scenario_id", "name", "created_at", "created_by"])
    frame["created_at"] = pd.to_datetime(frame["created_at"])
    return frame


def scenario_params(con: sqlite3.Connection, scenario_id: str) -> str:
    row = con.execute(
        "SELECT params FROM scenarios WHERE scenario_id = ?", (scenario_id,)
    ).fetchone()
    if row is None:
        raise KeyError(f"No saved scenario {scenario_id!r}; it may have been deleted.")
    return row[0]


def delete_scenario(con: sqlite3.Connection, scenario_id: str, email: str) -> None:
    with transaction(con):
        row = con.execute(
            "SELECT name FROM scenarios WHERE scenario_id = ?", (scenario_id,)
        ).fetchone()
        con.execute("DELETE FROM scenarios WHERE scenario_id = ?", (scenario_id,))
        if row is not None:
            con.execute(
                "INSERT INTO audit (at, email, action, detail) VALUES (?, ?, 'scenario delete', ?)",
                (_now(), email, row[0]),
            )


# --- saved column mappings of the importer ---------------------------------------------------
# A mapping is saved under a name with the header signature of the file it was made for, so a
# file with the same column names is offered it again.


@contextmanager
def _mappings(path: Path) -> Iterator[sqlite3.Connection]:
    con = connect(path)
    try:
        yield con
    finally:
        con.close()


def save_mapping(path: Path, name: str, kind: str, signature: str, columns: dict) -> None:
    """Save (or replace) the mapping `name`."""
    name = name.strip()
    if not name:
        raise ValueError("A saved mapping needs a name.")
    with _mappings(path) as con:
        con.execute(
            "INSERT INTO mappings VALUES (?, ?, ?, ?, ?) ON CONFLICT (name) DO UPDATE SET "
            "kind = excluded.kind, signature = excluded.signature, columns = excluded.columns, "
            "saved_at = excluded.saved_at",
            (
                name,
                kind,
                signature,
                json.dumps(columns, sort_keys=True),
                dt.datetime.now(dt.UTC).isoformat(timespec="microseconds"),
            ),
        )


def mapping_for(path: Path, kind: str, signature: str) -> tuple[str, dict] | None:
    """The most recently saved mapping for files of this kind with these column names."""
    if not Path(path).exists():
        return None
    with _mappings(path) as con:
        row = con.execute(
            "SELECT name, columns FROM mappings WHERE kind = ? AND signature = ? "
            "ORDER BY saved_at DESC, name LIMIT 1",
            (kind, signature),
        ).fetchone()
    return (row[0], json.loads(row[1])) if row else None


def load_mapping(path: Path, name: str) -> tuple[str, dict]:
    """(kind, columns) of the mapping saved as `name`; KeyError if there is none."""
    if Path(path).exists():
        with _mappings(path) as con:
            row = con.execute(
                "SELECT kind, columns FROM mappings WHERE name = ?", (name,)
            ).fetchone()
        if row:
            return row[0], json.loads(row[1])
    raise KeyError(name)


def mappings(path: Path, kind: str | None = None) -> list[dict]:
    """Every saved mapping (of one kind), newest first."""
    if not Path(path).exists():
        return []
    with _mappings(path) as con:
        rows = con.execute(
            "SELECT name, kind, signature, columns, saved_at FROM mappings "
            "WHERE ? IS NULL OR kind = ? ORDER BY saved_at DESC, name",
            (kind, kind),
        ).fetchall()
    return [
        {"name": n, "kind": k, "signature": s, "columns": json.loads(c), "saved_at": t}
        for n, k, s, c, t in rows
    ]


def delete_mapping(path: Path, name: str) -> None:
    with _mappings(path) as con:
        con.execute("DELETE FROM mappings WHERE name = ?", (name,))
