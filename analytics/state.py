"""Small user state every server can write (DESIGN: it lives in a transactional store, not
in the DuckDB file the pages read): saved column mappings of the importer.

The store is an SQLite file: $SALES_ATLAS_STATE, else `<database>.state.sqlite` beside the
DuckDB file. A mapping is saved under a name with the header signature of the file it was
made for, so a file with the same column names is offered it again.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import sqlite3
from pathlib import Path

from analytics import db

_SCHEMA = """
CREATE TABLE IF NOT EXISTS mappings (
    name      TEXT PRIMARY KEY,
    kind      TEXT NOT NULL,
    signature TEXT NOT NULL,
    columns   TEXT NOT NULL,      -- JSON: field -> the file's column name
    saved_at  TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS mappings_by_signature ON mappings (kind, signature);
"""


def state_path(database: str | Path | None = None) -> Path:
    if os.environ.get("SALES_ATLAS_STATE"):
        return Path(os.environ["SALES_ATLAS_STATE"])
    database = Path(database) if database else db.database_path()
    return database.with_name(database.name + ".state.sqlite")


@contextlib.contextmanager
def _connect(path: Path):
    con = sqlite3.connect(path, timeout=10)
    try:
        with con:  # one transaction: committed on success, rolled back on error
            con.executescript(_SCHEMA)
            yield con
    finally:
        con.close()


def save_mapping(path: Path, name: str, kind: str, signature: str, columns: dict) -> None:
    """Save (or replace) the mapping `name`."""
    name = name.strip()
    if not name:
        raise ValueError("A saved mapping needs a name.")
    with _connect(path) as con:
        con.execute(
            "INSERT INTO mappings VALUES (?, ?, ?, ?, ?) ON CONFLICT (name) DO UPDATE SET "
            "kind = excluded.kind, signature = excluded.signature, columns = excluded.columns, "
            "saved_at = excluded.saved_at",
            (
                name,
                kind,
                signature,
                json.dumps(columns, sort_keys=True),
                dt.datetime.now().isoformat(timespec="seconds"),
            ),
        )


def mapping_for(path: Path, kind: str, signature: str) -> tuple[str, dict] | None:
    """The most recently saved mapping for files of this kind with these column names."""
    if not path.exists():
        return None
    with _connect(path) as con:
        row = con.execute(
            "SELECT name, columns FROM mappings WHERE kind = ? AND signature = ? "
            "ORDER BY saved_at DESC, name LIMIT 1",
            (kind, signature),
        ).fetchone()
    return (row[0], json.loads(row[1])) if row else None


def load_mapping(path: Path, name: str) -> tuple[str, dict]:
    """(kind, columns) of the mapping saved as `name`; KeyError if there is none."""
    if path.exists():
        with _connect(path) as con:
            row = con.execute(
                "SELECT kind, columns FROM mappings WHERE name = ?", (name,)
            ).fetchone()
        if row:
            return row[0], json.loads(row[1])
    raise KeyError(name)


def mappings(path: Path, kind: str | None = None) -> list[dict]:
    """Every saved mapping (of one kind), newest first."""
    if not path.exists():
        return []
    with _connect(path) as con:
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
    with _connect(path) as con:
        con.execute("DELETE FROM mappings WHERE name = ?", (name,))
