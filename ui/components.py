"""Reusable screen parts: KPI rows, tables with downloads, empty states, figure captions."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from analytics import awaiting, formatting
from analytics.catalog import Catalog
from analytics.filters import BASES, Filters
from exports import tables
from ui import cache, text


def source_caption(filters: Filters, catalog: Catalog) -> str:
    """The line under a figure: currency and basis, period, data and rate sources, and the
    order lines it leaves out because they await an exchange rate."""
    if filters.basis == "constant":
        basis = f"constant currency at {filters.comparison.label} average ECB rates"
    elif filters.basis == "plan":
        basis = "at plan rates (each quarter's plan rate per currency, set by finance)"
    else:
        basis = "reported at each order day's ECB rate"
    held = awaiting_note(filters)
    return (
        f"{filters.currency}, {basis} · {filters.period.label} vs {filters.comparison.label} · "
        + sources(catalog)
    ) + (f" · {held}" if held else "")


def awaiting_note(filters: Filters) -> str | None:
    """The order lines awaiting an exchange rate that a figure over these filters (both
    periods, its dimensions) leaves out, with the fix; None when there are none."""
    return awaiting.describe(cache.awaiting_rate(cache.database_version(), filters)) or None


def sources(catalog: Catalog) -> str:
    """'Data: … · Rates: …' as markdown: the data source names uploaded files."""
    return f"Data: {text.md(catalog.data_source)} · Rates: {text.md(catalog.rates.label)}"


def margin_coverage_note(coverage: float | None) -> str | None:
    """What a margin figure covers when some revenue has no known unit cost (None when all
    of it has one, or nothing was sold): the help or caption of every margin shown."""
    if coverage is None or pd.isna(coverage) or coverage >= 1:
        return None
    return f"Margin on {formatting.percent(coverage, 0)} of revenue with known cost."


def margin_coverage_of(frame: pd.DataFrame, revenue: str = "revenue") -> float | None:
    """The coverage of rows that partition the revenue (countries, regions, accounts):
    their known-cost revenue over their revenue."""
    total = frame[revenue].sum()
    if not total:
        return None
    return float((frame["margin_coverage"].fillna(0) * frame[revenue]).sum() / total)


def margin_column(coverage: float | None) -> st.column_config.NumberColumn:
    """A table's margin column, its header help saying what share of revenue it covers."""
    return st.column_config.NumberColumn(format="percent", help=margin_coverage_note(coverage))


def basis_label(filters: Filters) -> str:
    return BASES[filters.basis].lower()


def delta(text: str | None) -> dict:
    """st.metric's delta arguments for a change: one that rounds to zero is shown plainly,
    without the green up-arrow Streamlit gives any delta not starting with a minus."""
    if text is not None and formatting.is_zero(text):
        return {"delta": text, "delta_color": "off", "delta_arrow": "off"}
    return {"delta": text}


def kpi_row(kpis: pd.DataFrame, filters: Filters) -> None:
    """One st.metric per KPI, with the change against the comparison period."""
    columns = st.columns(len(kpis))
    for column, row in zip(columns, kpis.itertuples(), strict=True):
        label = row.label if row.kind != "money" else f"{row.label} ({filters.currency})"
        column.metric(
            label,
            formatting.metric_value(row.current, row.kind, filters.currency),
            **delta(formatting.change(row.change, row.kind)),
            delta_description=f"vs {filters.comparison.label}" if row.change is not None else None,
            help=" ".join(
                filter(
                    None,
                    [
                        f"{filters.comparison.label}: "
                        f"{formatting.metric_value(row.comparison, row.kind, filters.currency)}.",
                        margin_coverage_note(getattr(row, "coverage", None)),
                    ],
                )
            ),
            border=True,
        )


def table_with_downloads(
    frame: pd.DataFrame,
    column_config: dict,
    file_stem: str,
    key: str,
    export_frame: pd.DataFrame | None = None,
) -> None:
    """A formatted table with CSV and XLSX downloads of the same rows (raw numbers)."""
    data = frame if export_frame is None else export_frame
    frame, column_config = one_decimal_percentages(frame, column_config)
    st.dataframe(
        frame,
        column_config=date_columns(frame) | column_config,
        hide_index=True,
        width="stretch",
    )
    # A row sized to its buttons, wrapping when narrow: fixed columns cut "Download CSV" to
    # "Dow…" in a half-width table.
    row = st.container(horizontal=True, gap="small")
    left = right = row
    # Files are built when the button is clicked, not on every rerun: an XLSX costs tens of
    # milliseconds per table. A download changes nothing on screen, so it reruns nothing
    # (on_click="ignore"; every download button of the app does the same): a click costs the
    # server the file alone, not the file and a whole page rerun beside it.
    left.download_button(
        "Download CSV",
        lambda: tables.to_csv_bytes(data),
        f"{file_stem}.csv",
        "text/csv",
        key=f"{key}_csv",
        on_click="ignore",
    )
    right.download_button(
        "Download XLSX",
        lambda: tables.to_xlsx_bytes(data, sheet_name=file_stem.replace("_", " ")),
        f"{file_stem}.xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        key=f"{key}_xlsx",
        on_click="ignore",
    )


def one_decimal_percentages(frame, column_config: dict):
    """The table and its column config with every "percent" column shown with one decimal,
    as the KPI cards show percentages ("9.1%"; Streamlit's "percent" format gives two,
    "9.08%"). A DataFrame's column is shown times 100 with a printf format; a Styler's keeps
    its fractions (its colour rules compare them) and gets a display format instead. The
    downloads are built from the frame as given, so they keep the exact fractions."""
    columns = [
        name
        for name, config in column_config.items()
        if isinstance(config, dict) and config.get("type_config", {}).get("format") == "percent"
    ]
    if not columns:
        return frame, column_config
    column_config = dict(column_config)
    if not isinstance(frame, pd.DataFrame):  # a Styler
        frame = frame.format("{:.1%}", subset=columns, na_rep="")
        for name in columns:
            column_config[name] = {
                **column_config[name],
                "type_config": {**column_config[name]["type_config"], "format": None},
            }
        return frame, column_config
    frame = frame.copy()
    for name in columns:
        frame[name] = frame[name] * 100
        column_config[name] = {
            **column_config[name],
            "type_config": {**column_config[name]["type_config"], "format": "%.1f%%"},
        }
    return frame, column_config


def date_columns(frame) -> dict:
    """A date column for every datetime column holding only days, which st.dataframe would
    otherwise show as '2026-12-15 00:00:00'."""
    data = getattr(frame, "data", frame)  # a Styler's frame
    config = {}
    for name in data.columns:
        values = data[name]
        if (
            pd.api.types.is_datetime64_any_dtype(values)
            and (values.dropna() == values.dropna().dt.normalize()).all()
        ):
            config[name] = st.column_config.DateColumn(format="D MMM YYYY")
    return config


def kept_choice(key: str, value, default):
    """A single-choice segmented control's value. Clicking the chosen option again clears it
    in Streamlit; `required=True` stops that in the browser, and this keeps the choice made
    before (not the first option) should no value arrive anyway."""
    memo = f"_{key}_kept"
    if value is None:
        return st.session_state.get(memo, default)
    st.session_state[memo] = value
    return value


def empty_state(title: str, body: str) -> None:
    """What a page shows when there is nothing to show, and what to do about it."""
    st.info(f"**{title}**\n\n{body}")


def require_sales(catalog: Catalog, needs: str = "order lines") -> None:
    """Stop the page with what to do when the store holds no sales yet."""
    if catalog.has_sales:
        return
    empty_state(
        "No sales in this store yet",
        f"This page needs {needs}. Import your own on the Data page, point `SALES_ATLAS_DB` "
        "at a store that has them, or build the demo company with "
        "`python -m analytics build-demo --db PATH`.",
    )
    st.stop()


def top_markets_table(countries: pd.DataFrame, filters: Filters) -> None:
    """Countries by net revenue with growth, share and margin; downloadable."""
    cur = filters.currency
    comparison = filters.comparison.label
    table = pd.DataFrame(
        {
            "Country": countries["country"],
            "Region": countries["region"],
            f"Net revenue ({cur})": countries["revenue"],
            f"{comparison} ({cur})": countries["revenue_prior"],
            "Growth": countries["growth"],
            "Share of total": countries["share"],
            "Gross margin %": countries["gross_margin_pct"],
            "Units": countries["units"],
        }
    )
    money = st.column_config.NumberColumn(format="localized")
    percent = st.column_config.NumberColumn(format="percent")
    table_with_downloads(
        table.round({f"Net revenue ({cur})": 0, f"{comparison} ({cur})": 0}),
        {
            f"Net revenue ({cur})": money,
            f"{comparison} ({cur})": money,
            "Growth": percent,
            "Share of total": percent,
            "Gross margin %": margin_column(margin_coverage_of(countries)),
            "Units": st.column_config.NumberColumn(format="localized"),
        },
        file_stem="top_markets",
        key="top_markets",
        export_frame=table,
    )
