"""An orders file larger than one chunk: its typed lines staged in a DuckDB file of their
own (not in memory), the checks that need every line run there in SQL, and the valid lines
compared with the store a chunk at a time.

The checks are those analytics.importer.orders.finish_orders makes over a frame (line
numbers within an order, repeated keys, the customers, products and reps the file brings
that the store lacks), with the same reasons and values: tests/analytics/test_import_chunks.py
holds the two ways side by side (a file in one chunk goes through the frame's way).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import tempfile
from collections.abc import Iterator
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from analytics.importer.orders import REFERENCE_COLUMNS, OrderLookups, created_orders_references
from analytics.importer.report import FileRejected

# The staging database's own memory (its buffer pool; beyond it, it spills to its folder):
# what the staged lines cost the import whatever the file's size.
MEMORY_LIMIT = "64MB"
# Columns whose values are dates (a chunk whose values are all empty still stages them so).
_DATES = frozenset({"order_date"})
# The key whose repeats are rejected, and its label in the report (as finish_orders).
KEY_LABEL = "order_id / line_no"
# Staged lines handed to the store at once by a load (sorted a range of days at a time).
LOAD_ROWS = 100_000


class StageFailed(FileRejected):
    """The staging database ran out of disk or memory: the file is reported, not loaded."""


@contextlib.contextmanager
def _room() -> Iterator[None]:
    """The staging database's failures for want of room (its disk filling, its memory
    limit reached with nowhere to spill) as a report: nothing of the file is stored."""
    try:
        yield
    except (duckdb.OutOfMemoryException, duckdb.IOException) as problem:
        raise StageFailed(
            f"Not enough disk or memory to check this file: {problem}. Nothing was stored; "
            "free some disk space or import the file in parts."
        ) from problem


class Stage:
    """The typed lines of one orders file: a table `lines` in a DuckDB file in a temporary
    folder (removed by close()), each line marked `_rejected` once a check rejects it.

    Nothing here sorts or windows the whole table (DuckDB runs out of a small memory limit
    doing so at a few million lines): lines are numbered within their orders as they are
    staged, the whole-file checks are aggregates, and the lines are read back in the order
    they were staged (file order; a scan keeps insertion order)."""

    def __init__(self, number_lines: bool = False) -> None:
        self._folder = tempfile.TemporaryDirectory(prefix="sales-atlas-import-")
        try:
            with _room():
                self.con = self._connect()
        except BaseException:
            self._folder.cleanup()
            raise
        self.number = number_lines  # the file has no line numbers: number them here
        self.schema: pa.Schema | None = None
        self.columns: list[str] = []
        self._writer: duckdb.DuckDBPyConnection | None = None  # a load's staging cursor

    def _connect(self) -> duckdb.DuckDBPyConnection:
        return duckdb.connect(
            str(Path(self._folder.name) / "stage.duckdb"),
            config={
                "memory_limit": MEMORY_LIMIT,
                "threads": 1,
                "temp_directory": str(Path(self._folder.name) / "spill"),
                "preserve_insertion_order": True,
            },
        )

    def close(self) -> None:
        try:
            if self._writer is not None:
                self._writer.close()
            self.con.close()
        finally:
            self._folder.cleanup()

    def add(self, frame: pd.DataFrame, rejected_lines) -> None:
        """Stage a checked chunk (every line, rejected ones too: the whole-file checks see
        them), marking the lines its checks rejected."""
        with _room():
            self._add(frame, rejected_lines)

    def _add(self, frame: pd.DataFrame, rejected_lines) -> None:
        if self.number:
            frame["line_no"] = self._line_numbers(frame["order_id"])
        if self.schema is None:
            self.schema = _schema(frame)
            self.columns = list(frame.columns)
            columns = ", ".join(f'"{f.name}" {_SQL[f.type]}' for f in self.schema)
            self.con.execute(f"CREATE TABLE lines ({columns}, _rejected BOOLEAN)")
        chunk = pa.Table.from_pandas(frame[self.columns], schema=self.schema, preserve_index=False)
        rejected = frame["_line"].isin(set(rejected_lines)).to_numpy(dtype=bool)
        chunk = chunk.append_column("_rejected", pa.array(rejected))
        self.con.register("chunk", chunk)
        try:
            self.con.execute("INSERT INTO lines SELECT * FROM chunk")
        finally:
            self.con.unregister("chunk")

    def _line_numbers(self, orders: pd.Series) -> pd.Series:
        """Each line's number within its order in file order (finish_orders' numbering:
        deterministic, so a re-import finds the same keys): the order's lines staged so far
        plus its place in this chunk."""
        within = orders.groupby(orders, sort=False).cumcount() + 1
        if self.schema is None:
            return within.astype("Int64")
        keys = pa.table({"order_id": pa.array(orders.drop_duplicates(), pa.large_string())})
        self.con.register("chunk_orders", keys)
        try:
            before = self.con.execute(
                "SELECT order_id, count(*) AS n FROM lines "
                "WHERE order_id IN (SELECT order_id FROM chunk_orders) GROUP BY order_id"
            ).df()
        finally:
            self.con.unregister("chunk_orders")
        staged = dict(zip(before["order_id"], before["n"], strict=True))
        return (within + orders.map(staged).fillna(0).astype("int64")).astype("Int64")

    def duplicates(self) -> pd.DataFrame:
        """The report's rows for keys that repeat (every line after a key's first, a key
        with a missing part left to its own reason), as reject_duplicates gives them; their
        lines are rejected."""
        with _room():
            return self._duplicates()

    def _duplicates(self) -> pd.DataFrame:
        found = self.con.execute(
            """
            SELECT l._line AS line, l.order_id, l.line_no, f.first_line
            FROM lines l JOIN (SELECT order_id, line_no, min(_line) AS first_line FROM lines
                               WHERE order_id IS NOT NULL AND line_no IS NOT NULL
                               GROUP BY ALL HAVING count(*) > 1) f USING (order_id, line_no)
            WHERE l._line > f.first_line
            """
        ).df()
        found = found.sort_values("line", kind="stable")
        if len(found):
            self.con.register("repeated", pa.table({"line": pa.array(found["line"], pa.int64())}))
            try:
                self.con.execute(
                    "UPDATE lines SET _rejected = true WHERE _line IN (SELECT line FROM repeated)"
                )
            finally:
                self.con.unregister("repeated")
        return pd.DataFrame(
            {
                "line": found["line"].astype("int64").to_numpy(),
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
        with _room():
            first = self.con.sql(
                f"""
                SELECT _line, {columns} FROM lines
                WHERE _line IN (SELECT min(_line) FROM lines WHERE NOT _rejected
                                GROUP BY "{key}")
                """
            ).to_arrow_table()
        return _frame(first).sort_values("_line", kind="stable").drop(columns="_line")

    def valid_lines(self, rows: int) -> Iterator[pd.DataFrame]:
        """The lines no check rejected, in file order (the order they were staged in),
        `rows` at a time."""
        with _room():
            reader = self.con.sql(
                "SELECT * EXCLUDE (_rejected) FROM lines WHERE NOT _rejected"
            ).to_arrow_reader(rows)
        last = -1
        for batch in _batches(reader):
            frame = _frame(pa.Table.from_batches([batch]))
            del batch
            pa.default_memory_pool().release_unused()  # the last chunk's pages, given back
            lines = frame["_line"].to_numpy()
            if len(lines) and (lines[0] <= last or (np.diff(lines) <= 0).any()):
                raise RuntimeError("The staged lines came back out of file order.")
            last = lines[-1] if len(lines) else last
            yield frame.reset_index(drop=True)

    # --- a load's lines, staged as they are compared with the store ---------------------

    def begin_load(self, store) -> None:
        """Tables for what a load writes: `load_lines` (the converted lines to insert, with
        the store's order_lines column types, so that they come back as the store would
        have them) and `load_keys` (the undo record's keys: `part` 0 for the converted
        lines, 1 for those awaiting a rate, each in the order staged)."""
        types = store.execute(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = 'main' AND table_name = 'order_lines' "
            "ORDER BY ordinal_position"
        ).fetchall()
        columns = ", ".join(f'"{name}" {kind}' for name, kind in types)
        with _room():
            # Its own cursor: the valid lines' reader is open on self.con meanwhile.
            self._writer = self.con.cursor()
            self._writer.execute(f"CREATE TABLE load_lines ({columns})")
            self._writer.execute(
                "CREATE TABLE load_keys (order_id VARCHAR, line_no BIGINT, _inserted BOOLEAN, "
                "part INTEGER)"
            )

    def stage_load(self, insert: pd.DataFrame, keys: pd.DataFrame, held_keys: pd.DataFrame):
        """Stage one comparison's lines to insert (order_lines' columns) and the keys it
        holds (order_id, line_no, _inserted: the converted lines', then those awaiting)."""
        with _room():
            if len(insert):
                self._writer.register("load_chunk", insert)
                try:
                    names = ", ".join(f'"{c}"' for c in insert.columns)
                    self._writer.execute(
                        f"INSERT INTO load_lines ({names}) SELECT {names} FROM load_chunk"
                    )
                finally:
                    self._writer.unregister("load_chunk")
            for part, frame in enumerate((keys, held_keys)):
                if len(frame):
                    self._writer.register("key_chunk", frame[["order_id", "line_no", "_inserted"]])
                    try:
                        self._writer.execute(
                            f"INSERT INTO load_keys SELECT order_id, line_no, _inserted, {part} "
                            "FROM key_chunk"
                        )
                    finally:
                        self._writer.unregister("key_chunk")

    def loaded(self) -> tuple[StagedLines, StagedKeys]:
        """What the load inserts and records, once every valid line is staged."""
        self._writer.close()
        return StagedLines(self), StagedKeys(self)


class StagedLines:
    """The converted lines a staged load inserts, read back sorted as order_lines keeps
    them (order_date, order_id, line_no) a range of days at a time: no whole-table sort."""

    def __init__(self, stage: Stage) -> None:
        self.stage = stage
        with _room():
            self.days = stage.con.execute(
                "SELECT order_date, count(*) FROM load_lines GROUP BY order_date "
                "ORDER BY order_date"
            ).fetchall()

    def __len__(self) -> int:
        return sum(n for _, n in self.days)

    def dates(self) -> list[dt.date]:
        return [day for day, _ in self.days]

    def first_date(self) -> dt.date | None:
        return self.days[0][0] if self.days else None

    def parts(self, rows: int | None = None) -> Iterator[pa.Table]:
        """The lines in order_lines' order, the days of about `rows` lines at a time (a
        day of more lines is a part of its own)."""
        for first, last in _ranges(self.days, rows or LOAD_ROWS):
            with _room():
                part = self.stage.con.sql(
                    "SELECT * FROM load_lines WHERE order_date BETWEEN $first AND $last "
                    "ORDER BY order_date, order_id, line_no",
                    params={"first": first, "last": last},
                ).to_arrow_table()
            yield part
            del part
            pa.default_memory_pool().release_unused()


class StagedKeys:
    """The keys a staged load's undo record holds, `rows` at a time, in the order the one-
    frame load records them (the converted lines', then those awaiting a rate)."""

    def __init__(self, stage: Stage) -> None:
        self.stage = stage

    def parts(self, rows: int | None = None) -> Iterator[pd.DataFrame]:
        for part in (0, 1):
            with _room():
                reader = self.stage.con.sql(
                    "SELECT order_id, line_no, _inserted FROM load_keys WHERE part = $part",
                    params={"part": part},
                ).to_arrow_reader(rows or LOAD_ROWS)
            for batch in _batches(reader):
                yield batch.to_pandas()


def _ranges(days: list[tuple[dt.date, int]], rows: int) -> Iterator[tuple[dt.date, dt.date]]:
    """Consecutive days (first, last) holding together at most `rows` lines, or one day."""
    first, last, held = None, None, 0
    for day, count in days:
        if first is not None and held + count > rows:
            yield first, last
            first, held = None, 0
        if first is None:
            first = day
        last, held = day, held + count
    if first is not None:
        yield first, last


def _batches(reader) -> Iterator[pa.RecordBatch]:
    """A staged query's batches, its failures for want of room as a report."""
    while True:
        with _room():
            try:
                batch = reader.read_next_batch()
            except StopIteration:
                return
        yield batch


def finish_staged(con, stage: Stage, lookups: OrderLookups) -> tuple[pd.DataFrame, dict]:
    """finish_orders over the staged lines: (the report's rows for repeated keys, the
    customers, products and reps to create)."""
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
