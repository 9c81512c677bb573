"""Screen parts of the Data page: upload, detected options, the column mapping, check, load;
history, quality and exchange rates."""

from __future__ import annotations

import dataclasses
import hashlib

import pandas as pd
import streamlit as st

from analytics import formatting, fx, importer
from analytics.crm import stages as crm_stages
from exports import tables
from ui import access, cache, components, errors, text, work

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
        on_click="ignore",
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
        help=(
            f"An XLSX sheet is read up to {importer.MAX_XLSX_ROWS:,} rows and "
            f"{importer.MAX_XLSX_CELLS:,} cells, a workbook up to "
            f"{importer.MAX_XLSX_UNPACKED_BYTES / 1e6:,.0f} MB unpacked; a larger one is "
            "refused before it is read (export it as CSV, which has no such limit)."
        ),
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
        raw = cache.read_upload(upload_id, data, chosen)
    if attempt.failed:
        return None
    if raw.detected.sheets:
        sheet = cols[4].selectbox("Sheet", raw.detected.sheets, key="d_sheet")
        chosen = dataclasses.replace(chosen, sheet=sheet)
        raw = cache.read_upload(upload_id, data, chosen)
    preview = raw.rows.head(20).drop(columns=["_line", "_width"])
    preview.columns = [h or f"(column {i + 1})" for i, h in enumerate(raw.header)]
    shown = raw.detected.describe()
    st.caption(
        f"Read as {shown['format']}"
        + (
            f", {text.md(shown['encoding'])}, delimiter “{text.md(shown['delimiter'])}”"
            if shown["encoding"]
            else ""
        )
        + f" · {len(raw.rows):,} rows · the first 20:"
    )
    st.dataframe(preview, hide_index=True, width="stretch")
    return chosen


NOT_IN_FILE = "(not in this file)"
PREVIEW_ROWS = 5


def mapping(
    version: str, kind: str, upload_id: str, data: bytes, chosen: importer.Options
) -> dict[str, str]:
    """Which of the file's columns holds each field: suggested (a saved mapping for files
    with these column names, else names and content), each changeable; the first rows as
    they would be read, the columns left unused, and a way to save the mapping under a
    name. Returns field -> column ("" = not in the file), for the check and the load."""
    spec = importer.KINDS[kind]
    raw = cache.read_upload(upload_id, data, chosen)
    if kind == "rates":  # as the import reads it: the ECB history layout as rows
        raw = importer.ecb_wide_to_long(
            dataclasses.replace(raw, detected=dataclasses.replace(raw.detected))
        )
    signature = importer.header_signature(raw.header)
    saved = cache.saved_mapping(kind, signature)
    countries, currencies = cache.import_reference(version)
    st.markdown("**Which column holds what**")
    try:
        suggested = importer.suggest_columns(
            spec, raw, set(countries), set(currencies), saved[1] if saved else None
        )
    except importer.FileRejected as problem:  # it names a column spelt otherwise here
        st.warning(
            f"The saved mapping “{text.md(saved[0])}” does not fit this file "
            f"({text.md(str(problem))}) The fields "
            "below are suggested afresh."
        )
        saved = None
        suggested = importer.suggest_columns(spec, raw, set(countries), set(currencies))
    if saved:
        st.info(
            f"Saved mapping “{text.md(saved[0])}” is preselected: it was saved for files with these "
            "column names. Change any field below if this file differs."
        )
    else:
        st.caption(
            "Suggested from the column names (the importer's own, and the standard exports "
            "of Salesforce, HubSpot, Dynamics 365, SAP, Odoo, NetSuite and Shopify) and, "
            "where no name matches, from the values. Check each and change what is wrong."
        )
    in_one_of = {name: group for group in spec.one_of for name in group}

    def need(row: dict) -> str:
        if row["required"]:
            return "required"
        if row["field"] in in_one_of:
            return f"required (one of {len(in_one_of[row['field']])})"
        return "optional"

    if spec.one_of:
        st.caption(
            "Required (one of each group): "
            + "; ".join(" / ".join(group) for group in spec.one_of)
            + ". The others are derived from it."
        )
    columns = [NOT_IN_FILE, *dict.fromkeys(h for h in raw.header if h.strip())]
    basis = {"the mapping": f"saved mapping “{text.md(saved[0])}”" if saved else "the mapping"}
    chosen_columns: dict[str, str] = {}

    def boxes(rows: list[dict], where) -> None:
        grid = where.columns(3)
        for i, row in enumerate(rows):
            why = basis.get(row["basis"], row["basis"])
            picked = grid[i % 3].selectbox(
                f"{row['field']} · {need(row)}",
                columns,
                index=columns.index(row["column"]) if row["column"] in columns else 0,
                key=f"d_map_{kind}_{signature}_{saved[0] if saved else ''}_{row['field']}",
                help=f"Suggested by {why}." if row["column"] else "No column suggested.",
            )
            chosen_columns[row["field"]] = "" if picked == NOT_IN_FILE else picked

    needed = [row for row in suggested if need(row) != "optional"]
    optional = [row for row in suggested if need(row) == "optional"]
    boxes(needed, st)
    if optional:
        found = [row["field"] for row in optional if row["column"]]
        with st.expander(
            f"Optional fields: {len(found)} of {len(optional)} found in the file"
            + (f" ({', '.join(found)})" if found else "")
        ):
            boxes(optional, st)
    used = {c for c in chosen_columns.values() if c}
    unused = list(dict.fromkeys(h for h in raw.header if h.strip() and h not in used))
    mapped = {f: c for f, c in chosen_columns.items() if c}
    position = {h: i for i, h in reversed(list(enumerate(raw.header)))}
    first = raw.rows.head(PREVIEW_ROWS)
    preview = pd.DataFrame({f: first[position[c]].fillna("") for f, c in mapped.items()})
    st.caption(
        f"The first {min(PREVIEW_ROWS, len(raw.rows))} rows as mapped (the file's text; "
        "the check below reads and validates every row):"
    )
    st.dataframe(preview, hide_index=True, width="stretch")
    st.caption(
        "Columns not used: "
        + (", ".join(map(text.md, unused)) if unused else "none — every column is read.")
    )
    left, right = st.columns([3, 1], vertical_alignment="bottom")
    name = left.text_input(
        "Save this mapping as",
        value=saved[0] if saved else "",
        placeholder="e.g. SAP VA05",
        key=f"d_map_name_{signature}",
        help="A file with the same column names is offered this mapping again.",
    )
    if right.button("Save mapping", key="d_map_save", width="stretch"):
        if not name.strip():
            st.error("Give the mapping a name, for example the system and report it comes from.")
        else:
            cache.save_mapping(name, kind, signature, chosen_columns)
            st.success(
                f"Saved as “{text.md(name.strip())}”: offered again for files with these columns."
            )
    return chosen_columns


def funnel(version: str) -> None:
    """The company's funnel: each stage's name, place, status and probability, editable by
    an admin. Team and Forecast show the open stages in this order."""
    stages, used = cache.funnel_for_editing(version)
    if "d_funnel_message" in st.session_state:
        st.success(st.session_state.pop("d_funnel_message"))
    st.caption(
        "Opportunity imports add the stages they bring, placed by their probability column "
        "(else as first seen). Team & pipeline and Forecast show the open stages in this "
        "order. Renaming a stage renames it on every stored deal; marking a stage won or "
        "lost gives its deals that status. Deals: stored deals in the stage now or in a "
        "weekly snapshot."
    )
    statuses = list(crm_stages.STATUSES)
    # Keys of this store version: after an import or a save the rows may be other stages.
    tag = hashlib.sha256(version.encode()).hexdigest()[:8]
    with st.form("d_funnel"):
        head = st.columns([3, 1, 1.3, 1.3, 1])
        for col, title in zip(
            head, ("Stage", "Place", "Status", "Probability (%)", "Deals"), strict=True
        ):
            col.markdown(f"**{title}**")
        rows = []
        for i, stage in enumerate(stages):
            cols = st.columns([3, 1, 1.3, 1.3, 1], vertical_alignment="center")
            show = "collapsed"
            name = cols[0].text_input(
                "Stage", stage.name, key=f"d_funnel_name_{tag}_{i}", label_visibility=show
            )
            place = cols[1].number_input(
                "Place",
                1,
                len(stages),
                i + 1,
                key=f"d_funnel_place_{tag}_{i}",
                label_visibility=show,
            )
            status = cols[2].selectbox(
                "Status",
                statuses,
                statuses.index(stage.status),
                key=f"d_funnel_status_{tag}_{i}",
                label_visibility=show,
            )
            chance = cols[3].number_input(
                "Probability (%)",
                0.0,
                100.0,
                None if stage.probability is None else round(stage.probability * 100, 1),
                step=5.0,
                key=f"d_funnel_probability_{tag}_{i}",
                label_visibility=show,
                placeholder="not known",
            )
            cols[4].markdown(formatting.count(used.get(stage.name, 0)))
            rows.append((place, i, stage.name, name, status, chance))
        submitted = st.form_submit_button("Save the funnel", type="primary")
    if not submitted:
        return
    # A stage given another place goes there and the others make room: on a tie the moved
    # one comes first, then the earlier order.
    rows.sort(key=lambda row: (row[0], row[0] == row[1] + 1, row[1]))
    edited = tuple(
        crm_stages.Stage(name.strip(), status, None if chance is None else chance / 100)
        for _, _, _, name, status, chance in rows
    )
    renamed = {old: name.strip() for _, _, old, name, _, _ in rows}
    with errors.section() as attempt:
        counts = cache.save_funnel(edited, renamed)
    if attempt.failed:
        return
    done = [f"Funnel saved: {' › '.join(text.md(s.name) for s in edited if s.status == 'open')}."]
    if counts["renamed"]:
        done.append(f"{counts['renamed']:,} deals carry the new stage names.")
    if counts["restatused"]:
        done.append(f"{counts['restatused']:,} deals took their stage's new status.")
    st.session_state["d_funnel_message"] = " ".join(done)
    st.rerun()


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
    if result.new_stages:
        notes.append(
            "New funnel stages (see Sales funnel below): "
            + ", ".join(map(text.md, result.new_stages))
        )
    if result.ignored_columns and key != "d_check":  # the mapping step lists them above
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
            on_click="ignore",
        )


def load(
    kind: str,
    data: bytes,
    file_name: str,
    chosen: importer.Options,
    columns: dict[str, str] | None = None,
) -> None:
    """Write the file into the store (read through the mapping `columns`) and keep the
    outcome for the next run."""
    # A tab closed or a rerun during the check stops it at the bar's next update, before
    # the load's transaction starts: nothing is written (ui.work).
    progress = work.progress_bar("lines checked")
    with errors.section() as attempt, cache.writer() as con:
        result = importer.import_file(
            con, kind, data, file_name, chosen, mapping=columns, progress=progress
        )
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


def rates(status: fx.RateStatus, summarised: list[str]) -> None:
    st.markdown(f"**Rates in use:** {text.md(status.label)} · {status.currency_count} currencies")
    names = ["EUR", *summarised]
    named = ", ".join(names[:-1]) + " and " + names[-1] if len(names) > 1 else names[0]
    st.caption(
        f"Reported figures in {named} are read from the monthly summaries; in other "
        "reporting currencies from the order lines (the same figures, more slowly)."
    )
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
