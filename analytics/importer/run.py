"""import_file: the steps of an import in order — read, validate, compare, then load or
reject — and the report that says what happened.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import pandas as pd

from analytics.importer.changes import (
    compare_with_store,
    new_snapshot_rows,
    snapshot_rows,
    target_rows,
)
from analytics.importer.kinds import KINDS
from analytics.importer.loading import load, log_import
from analytics.importer.orders import prepare_orders
from analytics.importer.reading import DETECT, Options, ecb_wide_to_long, read_file
from analytics.importer.report import FileRejected, Report
from analytics.importer.validation import check_references, reject_duplicates, validate


def import_file(
    con: duckdb.DuckDBPyConnection,
    kind: str,
    data: bytes,
    file_name: str,
    options: Options = DETECT,
    commit: bool = True,
) -> Report:
    """Read, validate and (when commit) load a file; record it in import_log.

    With commit=False nothing is written: the report says what a load would do (the Data
    page's "validate" step)."""
    if kind not in KINDS:
        raise ValueError(f"Unknown kind {kind!r}; choose one of {', '.join(KINDS)}.")
    report = Report(kind=kind, file_name=file_name)
    started = dt.datetime.now().replace(microsecond=0)
    try:
        raw = read_file(data, options)
        if kind == "rates":
            raw = ecb_wide_to_long(raw)
        report.rows_read = len(raw.rows)
        frame, problems, mapping = validate(con, kind, raw, options)
        report.detected = raw.detected.describe()
        report.ignored_columns = mapping.ignored
        if report.rows_read == 0:
            raise FileRejected("The file has a header but no rows.")
        created = {}
        if kind == "orders":
            created = prepare_orders(con, frame, problems)
        else:
            reject_duplicates(frame, problems, list(KINDS[kind].key), " / ".join(KINDS[kind].key))
            check_references(con, kind, frame, problems)
        valid = frame.drop(index=problems.rejected_index())
        rows = target_rows(kind, valid)
        unchanged, conflicts, updated = compare_with_store(con, kind, rows)
        if kind in ("orders", "rates") and conflicts.any():
            label = "order line" if kind == "orders" else "rate"
            bad = valid.index[conflicts]
            problems.add(
                frame.index.isin(bad),
                "(row)",
                f"this {label} is already stored with different values; correct or "
                "delete the stored one first",
                pd.Series("", frame.index),
            )
            rows, unchanged = rows[~conflicts], unchanged[~conflicts]
        snapshots = snapshot_rows(valid) if kind == "opportunities" else None
        new_snapshots = new_snapshot_rows(con, snapshots) if snapshots is not None else 0
        if snapshots is not None and len(snapshots):
            report.snapshot = {
                "dates": sorted({f"{d:%Y-%m-%d}" for d in snapshots["snapshot_date"]}),
                "open_deals": len(snapshots),
                "new_or_changed": new_snapshots,
            }
        rejected = problems.table()
        report.rejected = rejected.to_dict("records")
        report.rows_rejected = int(rejected["line"].nunique())
        report.rows_loaded = report.rows_read - report.rows_rejected
        report.unchanged = int(unchanged.sum())
        report.updated = int(updated.sum()) if kind not in ("orders", "rates") else 0
        report.created = {name: len(table) for name, table in created.items()}
        if report.rows_loaded == 0:
            report.status, report.message = "rejected", "No row could be loaded: see the reasons."
        elif commit:
            if report.unchanged == report.rows_loaded and not created and not new_snapshots:
                report.status = "unchanged"
                report.message = "Every row is already stored with these values: nothing changed."
            else:
                load(con, kind, rows[~unchanged], created, f"import: {file_name}", snapshots)
                report.status = "loaded"
                report.message = f"Loaded {report.rows_loaded:,} of {report.rows_read:,} rows."
        else:
            report.status = "validated"
            if report.unchanged == report.rows_loaded and not created and not new_snapshots:
                report.message = (
                    f"All {report.rows_loaded:,} loadable rows are already stored "
                    "with these values: loading changes nothing."
                )
            else:
                report.message = (
                    f"{report.rows_loaded:,} of {report.rows_read:,} rows can be loaded."
                )
    except FileRejected as problem:
        report.status, report.message = "rejected", str(problem)
        report.rows_loaded, report.rows_rejected = 0, report.rows_read
        if report.rows_read and not report.rejected:
            report.rejected = [
                {"line": None, "column": "(file)", "value": file_name, "reason": str(problem)}
            ]
    if commit:
        log_import(con, report, data, started)
    return report
