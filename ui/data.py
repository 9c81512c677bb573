"""Screen parts of the Data page: upload, detected options, check, load; history, quality
and exchange rates."""

from __future__ import annotations

import dataclasses

import pandas as pd
import streamlit as st

from analytics import formatting, fx, importer
from exports import tables
from ui import access, cache, components, errors, text

UPLOAD_LIMIT_MB = 200  # .streamlit/config.toml server.maxUploadSize
DETECT = "Detect"
ENCODINGS = (DETECT, "utf-8", "cp1252", "latin-1")
DELIMITERS = {DETECT: None, "Comma ,": ",", "Semicolon ;": ";", "Tab": "\t", "Pipe |": "|"}
DECIMALS = {DETECT: None, "Point (1,234.56)": False, "Comma (1.234,56)": True}


def upload() -> tuple[str, bytes | None, str | None, str | None]:
    """Kind, file bytes, file name and upload id (None until a file is chosen)."""
    left, right = st.columns([2, 1])
    kind = left.selectbox(
        "What the file holds",
        list(importer.KINDS),
        format_func=lambda k: importer.KINDS[k].label,
        key="d_kind",
    )
    right.download_button(
        f"Template: {importer.KINDS[kind].label.lower()} (CSV)",
        importer.template_csv(kind),
        f"template_{kind}.csv",
        "text/csv",
        key="d_template",
        help="Every column, with example rows. Required columns come first.",
    )
    spec = importer.KINDS[kind]
    required = ", ".join(f.name for f in spec.fields if f.required)
    optional = ", ".join(f.name for f in spec.fields if not f.required) or "none"
    st.caption(
        f"Required columns: {required}. Optional: {optional}. Names match case- and "
        "space-insensitively; common CRM export names are accepted."
    )
    file = st.file_uploader(
        f"File (CSV, TXT, XLSX or Parquet; up to {UPLOAD_LIMIT_MB} MB)",
        type=["csv", "txt", "tsv", "xlsx", "parquet"],
        key=f"d_file_{st.session_state.get('d_nonce', 0)}",  # a new key empties it after a load
    )
    if file is None:
        return kind, None, None, None
    # The upload's own buffer, not a copy: Streamlit holds the file in memory already.
    return kind, file.getvalue(), file.name, file.file_id


def options(data: bytes, upload_id: str) -> importer.Options | None:
    """The reading options: detected, and correctable by the user. None if unreadable."""
    cols = st.columns(5)
    encoding = cols[0].selectbox("Encoding", ENCODINGS, key="d_encoding")
    delimiter = cols[1].selectbox("Delimiter", list(DELIMITERS), key="d_delimiter")
    decimal = cols[2].selectbox("Decimal mark", list(DECIMALS), key="d_decimal")
    date_format = cols[3].selectbox(
        "Date format", [DETECT, *importer.DATE_FORMATS.values()], key="d_dates"
    )
    chosen = importer.Options(
        encoding=None if encoding == DETECT else encoding,
        delimiter=DELIMITERS[delimiter],
        decimal_comma=DECIMALS[decimal],
        date_format=None if date_format == DETECT else date_format,
    )
    with errors.section() as attempt:
        read = cache.preview_file(upload_id, data, chosen)
        if read["sheets"]:
            sheet = cols[4].selectbox("Sheet", read["sheets"], key="d_sheet")
            chosen = dataclasses.replace(chosen, sheet=sheet)
            read = cache.preview_file(upload_id, data, chosen)
    if attempt.failed:
        return None
    shown = read["detected"]
    st.caption(
        f"Read as {shown['format']}"
        + (
            f", {text.md(shown['encoding'])}, delimiter “{text.md(shown['delimiter'])}”"
            if shown["encoding"]
            else ""
        )
        + f" · {read['rows']:,} rows · the first 20:"
    )
    st.dataframe(read["preview"], hide_index=True, width="stretch")
    return chosen


def report(result: importer.Report, key: str) -> None:
    """Counts, what was created or ignored, and every rejected row (downloadable)."""
    cols = st.columns(3)
    cols[0].metric("Rows read", formatting.count(result.rows_read), border=True)
    loadable = "Rows loaded" if result.status in ("loaded", "unchanged") else "Rows that can load"
    cols[1].metric(loadable, formatting.count(result.rows_loaded), border=True)
    cols[2].metric("Rows rejected", formatting.count(result.rows_rejected), border=True)
    detected = result.detected
    if detected:
        st.caption(
            "Read with: "
            + ", ".join(f"{k.replace('_', ' ')} {text.md(v)}" for k, v in detected.items() if v)
        )
    notes = []
    if result.created:
        notes.append("New " + ", ".join(f"{k}: {v:,}" for k, v in result.created.items()))
    if result.updated:
        notes.append(f"{result.updated:,} stored rows get the file's values")
    if result.unchanged:
        notes.append(f"{result.unchanged:,} rows are already stored as they are")
    if result.snapshot:
        snap = result.snapshot
        notes.append(
            f"Pipeline snapshot of {', '.join(snap['dates'])}: {snap['open_deals']:,} "
            f"open deals ({snap['new_or_changed']:,} new or changed)"
        )
    if result.ignored_columns:
        notes.append("Columns not used: " + ", ".join(map(text.md, result.ignored_columns)))
    if result.status == "loaded" and result.import_id and result.kind in ("orders", "rates"):
        notes.append(
            f"Import id `{result.import_id}`: `python -m analytics import-undo "
            f"{result.import_id}` removes what this import added"
        )
    for note in notes:
        st.markdown(f"- {note}")
    rejected = result.rejected_frame()
    if len(rejected):
        st.markdown(f"**Rejected rows** ({result.rows_rejected:,}; every problem listed)")
        st.dataframe(rejected.head(1000), hide_index=True, width="stretch")
        st.download_button(
            "Download the rejected rows (CSV)",
            lambda: tables.to_csv_bytes(rejected),
            f"rejected_{result.file_name}.csv",
            "text/csv",
            key=f"{key}_rejected",
        )


def load(kind: str, data: bytes, file_name: str, chosen: importer.Options) -> None:
    """Write the file into the store and keep the outcome for the next run."""
    with errors.section() as attempt, cache.writer() as con:
        result = importer.import_file(con, kind, data, file_name, chosen)
    if attempt.failed:
        return
    cache.audit("import", f"{kind} {file_name}: {result.status}, {result.rows_loaded:,} rows")
    st.session_state["d_result"] = result
    st.session_state["d_nonce"] = st.session_state.get("d_nonce", 0) + 1
    st.rerun()


def audit(frame: pd.DataFrame) -> None:
    """Sign-ins, imports, rate fetches, scenario saves and exports: who and when."""
    if frame.empty:
        st.caption("Nothing recorded yet.")
        return
    table = frame.rename(
        columns={"at": "When (UTC)", "email": "Who", "action": "What", "detail": "Detail"}
    )
    components.table_with_downloads(table, {}, "audit_log", "d_audit")


def history(frame: pd.DataFrame) -> None:
    if frame.empty:
        st.caption("No imports yet.")
        return
    table = frame.rename(
        columns={
            "started_at": "When",
            "kind": "Kind",
            "file_name": "File",
            "status": "Status",
            "rows_read": "Read",
            "rows_loaded": "Loaded",
            "rows_rejected": "Rejected",
            "sha256": "SHA-256 (start)",
        }
    )
    count = st.column_config.NumberColumn(format="localized")
    components.table_with_downloads(
        table, {"Read": count, "Loaded": count, "Rejected": count}, "import_history", "d_history"
    )


def quality(summary: dict) -> None:
    coverage = summary["coverage"]
    cols = st.columns([1, 2, 1.3])  # the span needs room for two whole dates
    cols[0].metric("Order lines", formatting.count(coverage["lines"]), border=True)
    span = (
        f"{coverage['first']:%d %b %Y} – {coverage['last']:%d %b %Y}" if coverage["first"] else "–"
    )
    cols[1].metric("Dates covered", span, border=True)
    cols[2].metric(
        "Business days without sales",
        formatting.count(coverage["days_without_sales"]),
        help="Mondays to Fridays between the first and the last date with no order line; "
        "weekends are not counted (public holidays are).",
        border=True,
    )
    unconverted = summary["unconverted"]
    if unconverted.empty:
        st.success("Every order line has an ECB rate for its currency and day.")
    else:
        st.warning("Order lines on days without a usable ECB rate (they cannot be reported):")
        st.dataframe(unconverted, hide_index=True)
    held = summary["awaiting"]
    if not held.empty:
        lines = int(held["lines"].sum())
        st.warning(
            f"{formatting.count(lines)} order line{'' if lines == 1 else 's'} awaiting an "
            "exchange rate: kept, and in no figure until the rate arrives. To convert them, "
            "fetch newer rates (Exchange rates, below) or import a rates file for these "
            "currencies and days; they convert as soon as the rates are stored."
        )
        st.dataframe(
            held.rename(
                columns={
                    "currency_code": "Currency",
                    "lines": "Lines",
                    "amount_local": "Amount (local currency)",
                    "first": "First day",
                    "last": "Last day",
                }
            ),
            hide_index=True,
        )
    if not cache.current_user().reach.everything:
        st.caption(
            "Figures above cover your scope. The key checks span the whole store, so they are "
            "shown to users who see all of it."
        )
        return
    orphans = summary["orphans"]
    bad = orphans[orphans["rows"] > 0]
    if bad.empty:
        st.success("Every key points at a stored row: no orphan customers, products or reps.")
    else:
        st.warning("Rows pointing at keys that are not stored:")
        st.dataframe(bad, hide_index=True)


def rates(status: fx.RateStatus) -> None:
    st.markdown(f"**Rates in use:** {text.md(status.label)} · {status.currency_count} currencies")
    if not access.can("fetch_rates"):
        st.caption(access.refusal("fetch_rates"))
        return
    if st.button(
        "Fetch newer rates",
        key="d_fetch",
        help="Asks the ECB (through forex-python's rate server) for rates after the last "
        f"stored day; {fx.LIVE_DEADLINE_S:g} seconds at most in all, and offline it says so.",
    ):
        with errors.section() as attempt:
            result = fx.update_rates(cache.unrestricted_cursor, cache.writer)
        if attempt.failed:
            return
        cache.audit("rate fetch", result.message)
        st.session_state["d_rates_message"] = (result.ok, result.message)
        st.rerun()
    if "d_rates_message" in st.session_state:
        ok, message = st.session_state.pop("d_rates_message")
        (st.success if ok else st.warning)(text.md(message))
