"""import_file: the steps of an import in order — read, validate, compare, then load or
reject — and the report that says what happened.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Callable

import duckdb
import numpy as np
import pandas as pd

from analytics.importer.changes import (
    compare_order_lines,
    compare_with_store,
    new_snapshot_rows,
    snapshot_rows,
    target_rows,
)
from analytics.importer.columns import header_signature, map_columns
from analytics.importer.crm import (
    created_references,
    new_funnel,
    prepare_activities,
    prepare_opportunities,
)
from analytics.importer.kinds import KINDS
from analytics.importer.loading import load, log_import, new_import_id
from analytics.importer.orders import (
    SCRATCH_COLUMNS,
    awaiting_rows,
    compact,
    finish_orders,
    order_lookups,
    order_rows,
    prepare_order_rows,
    prepare_product_costs,
)
from analytics.importer.reading import (
    DETECT,
    LazyRows,
    Options,
    RawTable,
    ecb_wide_to_long,
    read_file,
)
from analytics.importer.report import FileRejected, Report
from analytics.importer.staging import (
    Stage,
    StagedKeys,
    StagedLines,
    StageFailed,
    finish_staged,
)
from analytics.importer.validation import Problems, detect_formats, reject_duplicates, validate

# Lines of an orders file checked at once: its strings, parsed values and masks for this
# many lines are what the check holds beyond the file's own table (~40 MB at 100,000 lines).
CHUNK_ROWS = 100_000
# Staged valid lines compared with the store at once (a file of more than one chunk): the
# comparison holds each line in several frames (typed, as stored, keys), so fewer at once.
COMPARE_ROWS = 25_000


def import_file(
    con: duckdb.DuckDBPyConnection,
    kind: str,
    data: bytes,
    file_name: str,
    options: Options = DETECT,
    commit: bool = True,
    mapping: dict[str, str] | None = None,
    saved_mapping: Callable[[str], tuple[str, dict] | None] | None = None,
    progress: Callable[[int, int], None] | None = None,
    chunk_rows: int = CHUNK_ROWS,
) -> Report:
    """Read, validate and (when commit) load a file; record it in import_log.

    `mapping` (field -> the file's column name; "" = the file has no such column) overrides
    the detected columns. With commit=False nothing is written: the report says what a load
    would do (the Data page's "validate" step). Without a mapping, `saved_mapping` (header
    signature -> (name, mapping) or None) offers the one saved for files with these columns.

    An orders file is checked `chunk_rows` lines at a time, so that the check's memory is
    bounded by a chunk rather than the file; `progress(lines_checked, lines)` is called after
    each chunk. It may raise to stop the work (the Data page's does when its session ends or
    reruns): the exception propagates before anything is written or logged."""
    if kind not in KINDS:
        raise ValueError(f"Unknown kind {kind!r}; choose one of {', '.join(KINDS)}.")
    report = Report(kind=kind, file_name=file_name)
    import_id = new_import_id() if commit else None
    report.import_id = import_id
    started = dt.datetime.now().replace(microsecond=0)
    stage = None
    try:
        # An orders file (the one kind a file of millions of lines is) is read a chunk of
        # lines at a time, when its reader can (reading.LazyRows).
        raw = read_file(data, options, lazy=kind == "orders")
        if kind == "rates":
            raw = ecb_wide_to_long(raw)
        report.skipped = _skip_footer(raw)
        report.header_signature = header_signature(raw.header)
        report.rows_read = len(raw.rows)
        if mapping is None and saved_mapping is not None:
            found = saved_mapping(report.header_signature)
            if found:
                report.mapping_name, mapping = found
        matched = map_columns(KINDS[kind], raw.header, mapping)
        defaults = matched.defaults(kind)
        if defaults.get("fill_down") and isinstance(raw.rows, LazyRows):
            raw.rows = raw.rows.frame()  # filled down over the whole file's orders
        _fill_down(raw, matched.columns, defaults.get("fill_down", ()))
        _percent(raw, matched.columns, defaults.get("percent", ()))
        if kind == "orders":
            typed, problems, matched, created, stage = _check_orders(
                con, raw, options, mapping, defaults, chunk_rows, progress
            )
            frame = typed
        else:
            frame, problems, matched = validate(con, kind, raw, options, mapping)
            _fill_defaults(frame, defaults)
        report.detected = raw.detected.describe()
        report.detected["export"] = matched.label()
        report.columns = {f: raw.header[i] for f, i in matched.columns.items()}
        report.ignored_columns = matched.ignored
        if report.rows_read == 0:
            raise FileRejected("The file has a header but no rows.")
        if kind != "orders":
            if kind == "opportunities":
                prepare_opportunities(con, frame, problems)
            elif kind == "activities":
                prepare_activities(con, frame, problems)
            elif kind == "product_costs":
                prepare_product_costs(con, frame, options)
                problems.add(
                    frame["currency"] == "", "currency", "a standard cost needs its currency"
                )
            keyed = frame
            if kind == "plan_rates":  # an empty quarter is a key (the whole year), not a gap
                keyed = frame.assign(
                    year=frame["year"].map(lambda y: "" if pd.isna(y) else f"{y:.0f}"),
                    quarter=frame["quarter"].map(lambda q: "year" if pd.isna(q) else f"Q{q:.0f}"),
                )
            reject_duplicates(keyed, problems, list(KINDS[kind].key), " / ".join(KINDS[kind].key))
            created = created_references(con, kind, frame, problems)
        if kind == "orders":
            outcome = (
                _compare_staged(con, stage, problems, chunk_rows, commit)
                if stage is not None
                else _compare_orders(con, typed, problems)
            )
            del typed
            report.awaiting_rate = awaiting_report(outcome.held)
            valid = None
        else:
            valid = frame.drop(index=problems.rejected_index())
            rows = target_rows(kind, valid)
            unchanged, conflicts, updated = compare_with_store(con, kind, rows)
            if kind == "rates" and conflicts.any():
                bad = valid.index[conflicts]
                problems.add(
                    frame.index.isin(bad),
                    "(row)",
                    "this rate is already stored with different values; correct or "
                    "delete the stored one first",
                    pd.Series("", frame.index),
                )
                rows, unchanged = rows[~conflicts], unchanged[~conflicts]
        funnel, report.new_stages = new_funnel(con, valid) if kind == "opportunities" else ((), [])
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
        if kind == "orders":
            report.unchanged = outcome.unchanged
            report.updated = 0
        else:
            report.unchanged = int(unchanged.sum())
            report.updated = int(updated.sum()) if kind != "rates" else 0
        report.created = {name: len(table) for name, table in created.items()}
        if report.rows_loaded == 0:
            report.status, report.message = "rejected", "No row could be loaded: see the reasons."
        elif commit:
            if (
                report.unchanged == report.rows_loaded
                and not created
                and not new_snapshots
                and not funnel
            ):
                report.status = "unchanged"
                report.message = "Every row is already stored with these values: nothing changed."
            else:
                if progress is not None:
                    progress(report.rows_read, report.rows_read)  # the last chance to stop
                orders = kind == "orders"
                costed = load(
                    con,
                    kind,
                    outcome.insert if orders else rows[~unchanged],
                    created,
                    f"import: {file_name}",
                    snapshots,
                    import_id,
                    outcome.keys if orders else _held_keys(kind, rows, unchanged),
                    awaiting=outcome.awaiting if orders else None,
                    funnel=funnel,
                )
                report.status = "loaded"
                report.message = f"Loaded {report.rows_loaded:,} of {report.rows_read:,} rows."
                if kind == "product_costs":
                    report.message += (
                        f" {costed:,} order line{' takes' if costed == 1 else 's take'} a "
                        "standard cost (new or changed): their margins count now."
                    )
                report.message += awaiting_message(report.awaiting_rate)
        else:
            report.status = "validated"
            if (
                report.unchanged == report.rows_loaded
                and not created
                and not new_snapshots
                and not funnel
            ):
                report.message = (
                    f"All {report.rows_loaded:,} loadable rows are already stored "
                    "with these values: loading changes nothing."
                )
            else:
                report.message = (
                    f"{report.rows_loaded:,} of {report.rows_read:,} rows can be loaded."
                )
                report.message += awaiting_message(report.awaiting_rate)
    except FileRejected as problem:
        report.status, report.message = "rejected", str(problem)
        report.rows_loaded, report.rows_rejected = 0, report.rows_read
        if isinstance(problem, StageFailed):  # the check or load stopped: it says nothing
            report.rejected, report.created, report.unchanged = [], {}, 0
            report.awaiting_rate = {}
        if report.rows_read and not report.rejected:
            report.rejected = [
                {"line": None, "column": "(file)", "value": file_name, "reason": str(problem)}
            ]
    finally:
        _close(stage)
    if commit:
        log_import(con, report, data, started, import_id)
    return report


def _close(stage) -> None:
    if stage is not None:
        stage.close()


def _fill_defaults(frame: pd.DataFrame, defaults: dict) -> None:
    """The values an export's vendor implies for fields its files do not carry."""
    for field, value in defaults.items():
        if field not in ("fill_down", "percent") and field not in frame:
            frame[field] = value


def _check_orders(
    con,
    raw: RawTable,
    options: Options,
    mapping: dict[str, str] | None,
    defaults: dict,
    chunk_rows: int,
    progress: Callable[[int, int], None] | None,
):
    """validate() and the order checks over `chunk_rows` lines at a time, then the checks
    that need every line (repeated keys, the references a file brings): the same report and
    rows as one pass over the whole file. The decimal mark and date format are decided for
    the whole file first. The rows of `raw` are consumed (it holds none afterwards).

    A file of one chunk keeps its typed lines in a frame (returned, with no stage); a
    larger one stages them in DuckDB as each chunk is checked (analytics.importer.staging:
    returned, with no frame; the caller closes it), so that what the check holds does not
    grow with the file."""
    if chunk_rows < 1:
        raise ValueError(f"chunk_rows must be at least 1, not {chunk_rows}.")
    options = detect_formats("orders", raw, options, mapping)
    lookups = order_lookups(con)
    total = len(raw.rows)
    number_lines = "line_no" not in map_columns(KINDS["orders"], raw.header, mapping).columns
    stage = Stage(number_lines) if total > chunk_rows else None
    try:
        frames, items, matched = [], [], None
        done, first = 0, True
        while first or len(raw.rows):
            first = False
            rows = raw.rows.iloc[:chunk_rows]
            part = dataclasses.replace(
                raw, rows=rows.frame() if isinstance(rows, LazyRows) else rows
            )
            del rows
            # The lines checked are dropped from the file's table: their strings are freed.
            raw.rows = raw.rows.iloc[chunk_rows:]
            frame, problems, matched = validate(con, "orders", part, options, mapping)
            _fill_defaults(frame, defaults)
            prepare_order_rows(con, frame, problems, options, lookups)
            frame = compact(frame.drop(columns=[c for c in SCRATCH_COLUMNS if c in frame]))
            if stage is None:
                frames.append(frame)
            else:
                stage.add(frame, [line for item in problems.items for line in item["line"]])
            items.extend(problems.items)
            done += len(part.rows)
            del frame, problems, part
            if progress is not None:
                progress(done, total)
        if stage is not None:
            duplicates, created = finish_staged(con, stage, lookups)
            problems = Problems(pd.DataFrame({"_line": np.zeros(0, dtype="int64")}))
            problems.items = items + ([duplicates] if len(duplicates) else [])
            return None, problems, matched, created, stage
    except BaseException:
        _close(stage)
        raise
    frame = _put_together(frames)
    # The chunks' own problems name the values as written; later ones give theirs.
    problems = Problems(frame, raw=pd.DataFrame(index=frame.index))
    problems.items = items
    created = finish_orders(con, frame, problems, lookups)
    return frame, problems, matched, created, None


_CONFLICT = (
    "this order line is already stored with different values; correct or delete the "
    "stored one first"
)


@dataclasses.dataclass
class OrdersOutcome:
    """What an orders file's valid lines do to the store."""

    unchanged: int  # lines stored already with these values (converted or awaiting)
    held: pd.DataFrame | None  # the lines kept awaiting a rate (as analytics.awaiting)
    # the converted lines to insert (order_lines' columns); staged for a file of more than
    # one chunk (read back a part at a time)
    insert: pd.DataFrame | StagedLines | None
    # order_id, line_no, _inserted of every line held (for undo); staged likewise
    keys: pd.DataFrame | StagedKeys | None
    awaiting: pd.DataFrame | None  # the lines awaiting a rate to insert


def _compare_orders(con, typed: pd.DataFrame, problems: Problems) -> OrdersOutcome:
    """The valid lines of a file in one frame, compared with the store; lines stored with
    other values are rejected (into `problems`). Empties `typed`."""
    # Later problems need only the lines' numbers; the file's other columns go to the
    # valid lines a column at a time, never held twice.
    rejected = problems.rejected_index()
    problems.frame = frame = typed[["_line"]]
    valid = _drop_rows(typed, rejected)
    # Lines awaiting a rate are kept apart from the converted ones (analytics.awaiting).
    waiting = valid["_awaiting"].to_numpy(dtype=bool)
    if waiting.any():
        converted, waiting_lines = valid[~waiting], valid[waiting]
        valid = pd.concat([converted, waiting_lines])  # in the order of the two arrays
    else:
        converted, waiting_lines = valid, valid.iloc[:0]
    rows, held = order_rows(converted), awaiting_rows(waiting_lines)
    (unchanged, conflicts), (held_unchanged, held_conflicts) = compare_order_lines(
        con, rows, held, ~converted["_file_cost"].to_numpy(dtype=bool)
    )
    conflicts = np.concatenate([conflicts, held_conflicts])
    if conflicts.any():
        bad = valid.index[conflicts]
        problems.add(frame.index.isin(bad), "(row)", _CONFLICT, pd.Series("", frame.index))
        rows, unchanged = rows[~conflicts[: len(rows)]], unchanged[~conflicts[: len(rows)]]
        held, held_unchanged = held[~held_conflicts], held_unchanged[~held_conflicts]
    return OrdersOutcome(
        unchanged=int(unchanged.sum()) + int(held_unchanged.sum()),
        held=held,
        insert=rows[~unchanged],
        keys=_held_keys("orders", rows, unchanged, held, held_unchanged),
        awaiting=held[~held_unchanged],
    )


def _compare_staged(con, stage, problems: Problems, chunk_rows: int, commit: bool):
    """_compare_orders over staged lines, `chunk_rows` valid lines at a time: what is
    kept across chunks is the lines awaiting a rate. With commit, the lines to insert and
    the undo record's keys are staged as they are found (the outcome's `insert` and `keys`
    read them back a part at a time: staging.StagedLines, StagedKeys)."""
    unchanged = 0
    held_parts, awaiting_parts, conflicting = [], [], []
    key = ["order_id", "line_no"]
    if commit:
        stage.begin_load(con)
    for valid in stage.valid_lines(min(chunk_rows, COMPARE_ROWS)):
        waiting = valid["_awaiting"].to_numpy(dtype=bool)
        converted, waiting_lines = valid[~waiting], valid[waiting]
        rows, held = order_rows(converted), awaiting_rows(waiting_lines)
        (same, conflicts), (held_same, held_conflicts) = compare_order_lines(
            con, rows, held, ~converted["_file_cost"].to_numpy(dtype=bool)
        )
        conflicting += [
            converted["_line"].to_numpy()[conflicts],
            waiting_lines["_line"].to_numpy()[held_conflicts],
        ]
        rows, same = rows[~conflicts], same[~conflicts]
        held, held_same = held[~held_conflicts], held_same[~held_conflicts]
        unchanged += int(same.sum()) + int(held_same.sum())
        held_parts.append(held)
        if commit:
            stage.stage_load(
                rows[~same],
                rows[key].assign(_inserted=~same),
                held[key].assign(_inserted=~held_same),
            )
            awaiting_parts.append(held[~held_same])
        del valid, converted, waiting_lines, rows
    lines = np.sort(np.concatenate(conflicting)) if conflicting else np.zeros(0, dtype="int64")
    if len(lines):
        problems.items.append(
            pd.DataFrame({"line": lines, "column": "(row)", "value": "", "reason": _CONFLICT})
        )

    def joined(parts):
        return pd.concat(parts, ignore_index=True) if parts else None

    insert, keys = stage.loaded() if commit else (None, None)
    return OrdersOutcome(
        unchanged=unchanged,
        held=joined(held_parts),
        insert=insert,
        keys=keys,
        awaiting=joined(awaiting_parts),
    )


def _put_together(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """The chunks as one frame, a column at a time, each chunk's column dropped once it is
    copied: at most one column is held twice (pd.concat would hold every chunk twice).
    Empties `frames`."""
    if len(frames) == 1:
        return frames.pop()
    index = pd.Index(np.concatenate([f.index.to_numpy() for f in frames]))
    columns = {}
    for name in list(frames[0].columns):
        columns[name] = pd.concat([f.pop(name) for f in frames], ignore_index=True).array
    frames.clear()
    return pd.DataFrame(columns, index=index)


def _drop_rows(frame: pd.DataFrame, rows: pd.Index) -> pd.DataFrame:
    """frame without `rows`, built a column at a time, each column dropped from `frame`
    once copied (frame.drop would hold the frame twice). Empties `frame`."""
    if rows.empty:
        return frame.copy(deep=False)
    keep = ~frame.index.isin(rows)
    index = frame.index[keep]
    columns = {name: frame.pop(name).array[keep] for name in list(frame.columns)}
    return pd.DataFrame(columns, index=index)


def _held_keys(kind, rows, unchanged, held=None, held_unchanged=None) -> pd.DataFrame | None:
    """The rows an orders or rates import holds after loading, `_inserted` true for those it
    adds (undo reads them); an orders import's lines awaiting a rate included."""
    if kind == "rates":
        return rows.assign(_inserted=~unchanged)
    if kind != "orders":
        return None
    key = ["order_id", "line_no", "_inserted"]
    return pd.concat(
        [rows.assign(_inserted=~unchanged)[key], held.assign(_inserted=~held_unchanged)[key]]
    )


def awaiting_report(held: pd.DataFrame) -> dict:
    """The report's "awaiting a rate" entry: the file's lines kept without a rate, per
    currency (lines, local amount, first and last date)."""
    if held is None or held.empty:
        return {}
    groups = held.groupby("currency_code").agg(
        lines=("order_id", "size"),
        amount_local=("net_amount_local", "sum"),
        first=("order_date", "min"),
        last=("order_date", "max"),
    )
    return {
        "lines": len(held),
        "currencies": [
            {"currency": c, **{k: v for k, v in row.items()}}
            for c, row in groups.to_dict("index").items()
        ],
    }


def awaiting_message(entry: dict) -> str:
    if not entry:
        return ""
    parts = ", ".join(
        f"{c['currency']} {c['amount_local']:,.2f} ({c['first']:%d %b %Y}"
        + ("" if c["first"] == c["last"] else f" – {c['last']:%d %b %Y}")
        + ")"
        for c in entry["currencies"]
    )
    noun = "line is" if entry["lines"] == 1 else "lines are"
    return (
        f" {entry['lines']:,} {noun} awaiting a rate ({parts}): kept, and left out of "
        "converted figures until the rates arrive; fetch newer rates or import a rates file "
        "to convert them."
    )


# A report's closing lines: totals, notices, who ran it. Only the trailing rows are taken for
# them, and only when their other cells are empty: a data row is never skipped.
_FOOTER = re.compile(
    r"^(grand totals?|totals?|summe|gesamtsumme|gesamt|confidential|vertraulich|copyright|©|"
    r"\(c\)|generated by|filtered by|report generated|powered by)\b",
    re.IGNORECASE,
)


def _skip_footer(raw: RawTable) -> list[dict]:
    """Remove a report's footer rows and say which: the trailing rows that are empty or
    hold one or two cells beginning like a footer ("Grand Totals (3 records)" and its sum,
    "Confidential Information", "Copyright", "Generated By"). The rows are looked at from
    the end, a window at a time (a file's rows need not be held to find its footer)."""
    total = len(raw.rows)
    footer, recognised, end, window = 0, False, total, 64
    while end > 0:
        begin = max(0, end - window)
        cells = _cells(raw.rows.iloc[begin:end])
        for position in range(len(cells) - 1, -1, -1):
            values = [v.strip() for v in cells.iloc[position] if v.strip()]
            if values and (len(values) > 2 or not _FOOTER.match(values[0])):
                end = 0
                break
            footer += 1
            recognised = recognised or bool(values)
        else:
            end, window = begin, window * 4
    if not recognised:
        return []  # only rows of empty fields: they are data rows, reported as such
    start = total - footer
    tail = raw.rows.iloc[start:]
    tail = tail.frame() if isinstance(tail, LazyRows) else tail
    skipped = [
        {"line": int(line), "text": " ".join(v.strip() for v in row if v.strip())}
        for line, row in zip(tail["_line"], _cells(tail).itertuples(index=False), strict=True)
    ]
    raw.rows = raw.rows.iloc[:start]
    return skipped


def _cells(rows) -> pd.DataFrame:
    """Rows' cells as text (a LazyRows' read from the file)."""
    rows = rows.frame() if isinstance(rows, LazyRows) else rows
    return rows.drop(columns=["_line", "_width"]).fillna("").astype(str)


def _fill_down(raw: RawTable, columns: dict[str, int], fields) -> None:
    """Order-level fields an export writes on an order's first line only (Shopify, Odoo):
    a blank on a later line of the same order takes the first line's value."""
    if "order_id" not in columns or not fields:
        return
    order = raw.rows[columns["order_id"]].fillna("").astype(str).str.strip()
    if "order_id" in fields:  # Odoo leaves even the order reference blank on later lines
        order = order.where(order != "").ffill().fillna("")
        raw.rows[columns["order_id"]] = order
    for field in fields:
        if field == "order_id":
            continue
        if field in columns:
            index = columns[field]
            values = raw.rows[index].fillna("").astype(str)
            first = values.where(values.str.strip() != "").groupby(order).transform("first")
            raw.rows[index] = values.where(values.str.strip() != "", first.fillna(""))


def _percent(raw: RawTable, columns: dict[str, int], fields) -> None:
    """Fields an export writes in percent without the sign ("10.0" under "Discount (%)")."""
    indexes = [columns[f] for f in fields if f in columns]
    if not indexes:
        return
    if isinstance(raw.rows, LazyRows):  # applied to each range of lines as it is read
        raw.rows.transforms.append(lambda frame: _add_percent(frame, indexes))
    else:
        _add_percent(raw.rows, indexes)


def _add_percent(frame: pd.DataFrame, indexes: list[int]) -> None:
    for index in indexes:
        if index in frame:
            values = frame[index].fillna("").astype(str).str.strip()
            bare = (values != "") & ~values.str.endswith("%")
            frame[index] = values.where(~bare, values + "%")
