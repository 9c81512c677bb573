"""An orders file larger than one chunk: its typed lines staged in a DuckDB file of their
own (not in memory), the checks that need every line run there in SQL, and the valid lines
compared with the store a chunk at a time.

The checks are those analytics.importer.orders.finish_orders makes over a frame (line
numbers within an order, repeated keys, the customers, products and reps the file brings
that the store lacks), with the same reasons and values: tests/analytics/test_import_chunks.py
holds the two ways side by side (a file in one chunk goes through the frame's way).
"""

from __future__ import annotations

import datetime as dt
import tempfile
from collections.abc import Iterator
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from analytics.importer.orders import REFERENCE_COLUMNS, OrderLookups, created_orders_references

# The staging database's own memory (its buffer pool; beyond it, it spills to its folder):
# what the staged lines cost the import whatever the file's size.
MEMORY_LIMIT = "128MB"
# Columns whose values are dates (a chunk whose values are all empty still stages them so).
_DATES = frozenset({"order_date"})
# The key whose repeats are rejected, and its label in the report (as finish_orders).
KEY_LABEL = "order_id / line_no"


class Stage:
    """The typed lines of one orders file: a table `lines` in a DuckDB file in a temporary
    folder (removed by close()), and `rejected`, the lines some check rejected."""

    def __init__(self) -> None:
        self._folder = tempfile.TemporaryDirectory(prefix="sales-atlas-import-")
        self.con = duckdb.connect(
            str(Path(self._folder.name) / "stage.duckdb"),
            config={
                "memory_limit": MEMORY_LIMIT,
                "threads": 1,
                "temp_directory": str(Path(self._folder.name) / "spill"),
            },
        )
        self.schema: pa.Schema | None = None
        self.columns: list[str] = []

    def close(self) -> None:
        try:
            self.con.close()
        finally:
            self._folder.cleanup()

    def add(self, frame: pd.DataFrame, rejected_lines) -> None:
        """Stage a checked chunk (every line, rejected ones too: the whole-file checks see
        them) and the lines of it that its checks rejected."""
        if self.schema is None:
            self.schema = _schema(frame)
            self.columns = list(frame.columns)
            columns = ", ".join(f'"{f.name}" {_SQL[f.type]}' for f in self.schema)
            self.con.execute(f"CREATE TABLE lines ({columns})")
            self.con.execute("CREATE TABLE rejected (_line BIGINT)")
        chunk = pa.Table.from_pandas(frame[self.columns], schema=self.schema, preserve_index=False)
        self.con.register("chunk", chunk)
        try:
            self.con.execute("INSERT INTO lines SELECT * FROM chunk")
        finally:
            self.con.unregister("chunk")
        self.reject(rejected_lines)

    def reject(self, lines) -> None:
        lines = pa.table({"_line": pa.array(np.asarray(sorted(set(lines)), dtype="int64"))})
        if len(lines):
            self.con.register("more", lines)
            try:
                self.con.execute("INSERT INTO rejected SELECT _line FROM more")
            finally:
                self.con.unregister("more")

    def number_lines(self) -> None:
        """Lines numbered in file order within each order (a file without line numbers), as
        finish_orders numbers them: deterministic, so a re-import finds the same keys."""
        self.con.execute("ALTER TABLE lines ADD COLUMN line_no BIGINT")
        self.columns.append("line_no")
        self.con.execute(
            """
            UPDATE lines SET line_no = n.line_no
            FROM (SELECT _line, row_number() OVER (PARTITION BY order_id ORDER BY _line)
                         AS line_no FROM lines) n
            WHERE lines._line = n._line
            """
        )

    def duplicates(self) -> pd.DataFrame:
        """The report's rows for keys that repeat (every line after a key's first, a key
        with a missing part left to its own reason), as reject_duplicates gives them; their
        lines are rejected."""
        found = self.con.execute(
            """
            SELECT _line AS line, order_id, line_no, first_line FROM (
                SELECT _line, order_id, line_no,
                       min(_line) OVER (PARTITION BY order_id, line_no) AS first_line
                FROM lines)
            WHERE _line > first_line AND order_id IS NOT NULL AND line_no IS NOT NULL
            ORDER BY _line
            """
        ).df()
        self.reject(found["line"].to_numpy())
        return pd.DataFrame(
            {
                "line": found["line"].astype("int64"),
                "column": KEY_LABEL,
                "value": [
                    f"{o} / {n}"
                    for o, n in zip(
                        found["order_id"], found["line_no"].astype("int64"), strict=True
                    )
                ],
                "reason": [
                    f"duplicate key: the same {KEY_LABEL} is on line {first}"
                    for first in found["first_line"].astype("int64")
                ],
            }
        )

    def first_lines(self, key: str) -> pd.DataFrame:
        """The first valid line of each `key` value, with the columns a created reference
        takes (as orders._first_lines)."""
        columns = ", ".join(f'"{c}"' for c in REFERENCE_COLUMNS if c in self.columns)
        first = self.con.sql(
            f"""
            SELECT {columns} FROM lines
            WHERE _line NOT IN (SELECT _line FROM rejected)
            QUALIFY row_number() OVER (PARTITION BY "{key}" ORDER BY _line) = 1
            ORDER BY _line
            """
        ).to_arrow_table()
        return _frame(first)

    def valid_lines(self, rows: int) -> Iterator[pd.DataFrame]:
        """The lines no check rejected, in file order, `rows` at a time."""
        reader = self.con.sql(
            "SELECT * FROM lines WHERE _line NOT IN (SELECT _line FROM rejected) ORDER BY _line"
        ).to_arrow_reader(rows)
        for batch in reader:
            yield _frame(pa.Table.from_batches([batch]))


def finish_staged(con, stage: Stage, lookups: OrderLookups) -> tuple[pd.DataFrame, dict]:
    """finish_orders over the staged lines: (the report's rows for repeated keys, the
    customers, products and reps to create)."""
    if "line_no" not in stage.columns:
        stage.number_lines()
    duplicates = stage.duplicates()
    keys = ["customer_id", "product_id", *(["rep_id"] if "rep_id" in stage.columns else [])]
    firsts = {key: stage.first_lines(key) for key in keys}
    return duplicates, created_orders_references(con, firsts, lookups)


_SQL = {
    pa.large_string(): "VARCHAR",
    pa.float64(): "DOUBLE",
    pa.int64(): "BIGINT",
    pa.bool_(): "BOOLEAN",
    pa.date32(): "DATE",
}


def _schema(frame: pd.DataFrame) -> pa.Schema:
    """The Arrow (and so SQL) type of each column of a checked chunk: what its values are,
    so that every chunk stages alike."""
    fields = []
    for name, column in frame.items():
        kind = column.dtype
        if name in _DATES:
            kind = pa.date32()
        elif pd.api.types.is_bool_dtype(kind):
            kind = pa.bool_()
        elif pd.api.types.is_integer_dtype(kind):
            kind = pa.int64()
        elif pd.api.types.is_float_dtype(kind):
            kind = pa.float64()
        else:
            present = column.dropna()
            first = present.iloc[0] if len(present) else ""
            if isinstance(first, dt.date) and not isinstance(first, dt.datetime):
                kind = pa.date32()
            elif isinstance(first, (bool, np.bool_)):
                kind = pa.bool_()
            else:
                kind = pa.large_string()
        fields.append(pa.field(str(name), kind))
    return pa.schema(fields)


def _frame(table: pa.Table) -> pd.DataFrame:
    """Staged lines as the checks' frames hold them: dates as dates, line numbers as
    nullable integers."""
    frame = table.to_pandas(date_as_object=True)
    if "line_no" in frame:
        frame["line_no"] = frame["line_no"].astype("Int64")
    return frame
