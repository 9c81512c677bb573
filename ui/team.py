"""Screen parts of the Team & pipeline page: one view at a time (attainment, pipeline,
pipeline changes, forecast, activity, rep view), chosen in the URL as t_view."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from analytics import formatting, periods
from analytics.crm import attainment as crm_attainment
from analytics.crm import deals as crm_deals
from analytics.crm.scope import Scope
from analytics.periods import Period
from ui import charts, components, links, text

VIEWS = ("Attainment", "Pipeline", "Pipeline changes", "Forecast", "Activity vs impact", "Rep view")
CHART_CONFIG = {"displaylogo": False}
MONEY = {"format": "localized"}
RATES_NOTE = (
    "Deals as they stand now: open deals at the latest stored ECB rate, won and lost deals at "
    "their close date's rate; attainment compares booked revenue and quota in EUR."
)


ATTAINMENT_BASES = {"plan": "At plan rates", "reported": "Reported"}


def attainment_basis() -> str:
    """Booked revenue at plan rates (the default: quotas are set at plan rates, so currencies
    a rep does not control do not move attainment) or reported; kept in the link."""
    state = st.session_state
    if "t_basis" not in state:
        asked = st.query_params.get("t_basis")
        state["t_basis"] = asked if asked in ATTAINMENT_BASES else crm_attainment.DEFAULT_BASIS
    chosen = st.segmented_control(
        "Booked revenue",
        list(ATTAINMENT_BASES),
        format_func=ATTAINMENT_BASES.get,
        key="t_basis",
        required=True,
        help="At plan rates: each order's local amount at its quarter's plan rate, the rates "
        "the quotas were set at. Reported: each order at its day's ECB rate.",
    )
    basis = components.kept_choice("t_basis", chosen, crm_attainment.DEFAULT_BASIS)
    st.query_params["t_basis"] = basis
    return basis


def basis_note(basis: str) -> str:
    return f"Booked revenue {crm_attainment.BASES[basis]}; quotas in EUR, set at plan rates."


def view_choice() -> str:
    state = st.session_state
    if "t_view" not in state:
        asked = st.query_params.get("t_view")
        state["t_view"] = asked if asked in VIEWS else VIEWS[0]
        links.not_a_choice("t_view", None if asked in VIEWS else asked, VIEWS[0])
    chosen = st.segmented_control(
        "View", VIEWS, key="t_view", label_visibility="collapsed", required=True
    )
    chosen = components.kept_choice("t_view", chosen, VIEWS[0])
    st.query_params["t_view"] = chosen
    return chosen


def quarter_choice(quarters: list[Period]) -> Period:
    keys = [periods.quarter_key(q) for q in quarters]
    labels = dict(zip(keys, (q.label for q in quarters), strict=True))
    state = st.session_state
    if state.get("t_quarter") not in keys:  # first visit, or a view without that quarter
        asked = (st.query_params.get("t_quarter") or "").upper()
        state["t_quarter"] = asked if asked in keys else keys[0]
        links.not_a_choice("t_quarter", None if asked in keys else asked, labels[keys[0]])
    st.columns([1, 3])[0].selectbox("Quarter", keys, format_func=labels.get, key="t_quarter")
    st.query_params["t_quarter"] = state["t_quarter"]
    return quarters[keys.index(state["t_quarter"])]


def week_choice() -> int:
    """Which week of past quarters forecast accuracy looks at (commit then vs won)."""
    return st.columns([1, 3])[0].number_input(
        "Accuracy: commit at week",
        min_value=0,
        max_value=12,
        value=4,
        step=1,
        key="t_week",
        help="Weeks into each past quarter at which its commit is compared with what was won.",
    )


def _deals(count: int) -> str:
    return f"{count:,} deal" if count == 1 else f"{count:,} deals"


def _money(value, currency: str) -> str:
    return formatting.money(value, currency)


PERCENT_COLUMNS = (
    "Attainment",
    "Previous attainment",
    "Year to date",
    "Share of reps",
    "Conversion",
    "Win rate",
    "Accuracy",
    "Commit conversion",
)


def _eur_table(frame: pd.DataFrame, columns: dict[str, str], stem: str, key: str) -> None:
    """A table for people (money in whole units, ratios as percentages with one decimal, as
    the cards show them) whose downloads keep the exact values."""
    exact = frame[list(columns)].rename(columns=columns)
    table = exact.copy()
    config = {}
    for c in table.columns:
        if c in PERCENT_COLUMNS:
            table[c] = table[c] * 100
            config[c] = st.column_config.NumberColumn(format="%.1f%%")
        elif "(" in c and ")" in c and table[c].dtype.kind in "fi":
            table[c] = table[c].round(0)
            config[c] = st.column_config.NumberColumn(format="localized")
    components.table_with_downloads(table, config, stem, key, export_frame=exact)


# --- attainment -----------------------------------------------------------------------------


def attainment(data: dict, quarter: Period) -> None:
    board, ytd = data["leaderboard"], data["ytd"]
    if board.empty:
        components.empty_state(
            "No quotas for this quarter", "Import quotas on the Data page to see attainment."
        )
        return
    total, total_ytd = data["total"], data["total_ytd"]
    cols = st.columns(4)
    cols[0].metric(
        f"Team attainment, {quarter.label}",
        formatting.percent(total["attainment"]),
        border=True,
        help=basis_note(data["basis"]),
    )
    cols[1].metric(
        f"Year to date {quarter.end.year}",
        formatting.percent(total_ytd["attainment"]),
        border=True,
    )
    cols[2].metric(
        "Reps at or above quota",
        f"{total['reps_at_quota']} of {total['reps']}",
        border=True,
    )
    cols[3].metric(
        "Booked (EUR)",
        _money(total["booked_eur"], "EUR"),
        border=True,
        help=f"Quota {_money(total['quota_eur'], 'EUR')}",
    )
    st.caption(basis_note(data["basis"]))
    st.markdown(f"**Leaderboard — {quarter.label}** (rank change vs the quarter before)")
    shown = board.assign(
        move=board["rank_change"].map(
            lambda c: (
                "new" if pd.isna(c) else f"▲ {c:.0f}" if c > 0 else f"▼ {-c:.0f}" if c < 0 else "="
            )
        )
    )
    _eur_table(
        shown,
        {
            "rank": "Rank",
            "move": "Move",
            "name": "Rep",
            "team": "Team",
            "quota_eur": "Quota (EUR)",
            "booked_eur": "Booked (EUR)",
            "attainment": "Attainment",
            "previous_attainment": "Previous attainment",
            "ytd_attainment": "Year to date",
        },
        "leaderboard",
        "t_leaderboard",
    )
    left, right = st.columns([2, 3])
    with left:
        st.markdown("**How many reps reached …**")
        _eur_table(
            crm_attainment.bands(board),
            {"band": "Reached", "reps": "Reps", "share": "Share of reps"},
            "attainment_bands",
            "t_bands",
        )
        by = st.radio("Roll up by", ["team", "region"], horizontal=True, key="t_rollup")
    with right:
        st.plotly_chart(
            charts.attainment_bars(
                crm_attainment.rollup(board, by),
                by,
                f"Attainment by {by} — {quarter.label} and year to date",
                crm_attainment.rollup(ytd, by),
            ),
            config=CHART_CONFIG,
            key="t_rollup_chart",
        )
    if len(data["trend"]):
        st.plotly_chart(
            charts.attainment_trend(
                data["trend"],
                "Team attainment by quarter (booked / quota, EUR, "
                f"{ATTAINMENT_BASES[data['basis']].lower()})",
            ),
            config=CHART_CONFIG,
            key="t_trend",
        )


# --- pipeline -------------------------------------------------------------------------------


def pipeline(data: dict, currency: str) -> None:
    stats = data["stats"]
    cols = st.columns(4)
    cols[0].metric(
        "Win rate (count)",
        formatting.percent(stats["win_rate"]),
        border=True,
        help=f"{stats['won']:,} won / {stats['won'] + stats['lost']:,} closed, "
        f"{stats['start']:%d %b %Y} – {stats['end']:%d %b %Y}",
    )
    cols[1].metric("Win rate (value)", formatting.percent(stats["win_rate_value"]), border=True)
    cols[2].metric(
        f"Average won deal ({currency})", _money(stats["average_deal"], currency), border=True
    )
    cols[3].metric(
        "Sales cycle",
        f"{stats['cycle_days']:.0f} days" if stats["cycle_days"] == stats["cycle_days"] else "–",
        border=True,
        help="Created to won, average over the won deals.",
    )
    for summary, funnel in zip(data["summaries"], data["funnels"], strict=True):
        st.markdown(f"**{summary['quarter']}**")
        cols = st.columns(4)
        cols[0].metric(
            f"Open pipeline ({currency})",
            _money(summary["pipeline"], currency),
            delta=_deals(summary["deals"]),
            delta_color="off",
            delta_arrow="off",
            border=True,
        )
        cols[1].metric(f"Closed won ({currency})", _money(summary["won"], currency), border=True)
        cols[2].metric(
            "Coverage",
            f"{summary['coverage']:.2f}×" if summary["coverage"] == summary["coverage"] else "–",
            help="Open pipeline due in the quarter / (quota - closed won), all at the "
            "snapshot's rates.",
            border=True,
        )
        cols[3].metric(
            f"Velocity ({currency} per day)",
            _money(summary["velocity_per_day"], currency),
            help="Open deals x average won deal x win rate / cycle days.",
            border=True,
        )
        if not funnel["deals"].any():
            st.caption(f"No open deal is due in {summary['quarter']}.")
            continue
        st.plotly_chart(
            charts.stage_funnel(
                funnel,
                currency,
                f"Open pipeline by stage — due in "
                f"{summary['quarter']}, {currency} (share that went on to the next "
                "stage, last 12 months)",
            ),
            config=CHART_CONFIG,
            key=f"t_funnel_{summary['quarter']}",
        )
    stuck = data["stuck"]
    st.markdown(
        f"**Deals stuck in a stage** (more than {crm_deals.STUCK_FACTOR:g}× the stage's "
        "average time)"
    )
    if stuck.empty:
        st.success("No open deal has been in its stage more than twice the stage's average.")
    else:
        _eur_table(
            stuck,
            {
                "opportunity_id": "Deal",
                "customer": "Customer",
                "rep": "Rep",
                "stage": "Stage",
                "days_in_stage": "Days in stage",
                "stage_average_days": "Stage average (days)",
                "amount": f"Amount ({currency})",
                "close_date": "Close date",
            },
            "stuck_deals",
            "t_stuck",
        )
    st.caption(
        "Open pipeline, closed won, coverage, velocity and the funnel: "
        + data["rate_rule"]
        + " Win rate, average deal, cycle and stuck deals: "
        + RATES_NOTE
        + " Win rate, average deal and cycle: deals closed in the last 12 months."
    )


# --- pipeline changes -----------------------------------------------------------------------

STEP_LABELS = {
    "created": "Created",
    "pulled in": "Pulled in",
    "pushed out": "Pushed out",
    "amount up": "Amount up",
    "amount down": "Amount down",
    "won": "Won",
    "lost": "Lost",
}


def changes_inputs(dates: list, quarters: list[Period]) -> tuple:
    cols = st.columns(3)
    target = cols[0].selectbox(
        "Pipeline due in", quarters, format_func=lambda q: q.label, key="t_change_quarter"
    )
    default_first = max(0, len(dates) - 9)
    first = cols[1].selectbox(
        "From snapshot",
        dates,
        index=default_first,
        format_func=lambda d: f"{d:%d %b %Y}",
        key="t_from",
    )
    last = cols[2].selectbox(
        "To snapshot",
        dates,
        index=len(dates) - 1,
        format_func=lambda d: f"{d:%d %b %Y}",
        key="t_to",
    )
    return target, first, last


def _not_converted(details: pd.DataFrame) -> str:
    """The deals the waterfall leaves out for want of a rate, named (id, amount, currency)."""
    left_out = details[details["step"] == "not converted"]
    if left_out.empty:
        return ""
    named = ", ".join(
        f"{r.opportunity_id} ({r.customer}, {r.currency_code} {r.amount_local:,.2f})"
        for r in left_out.itertuples()
    )
    return (
        f" Not included: {len(left_out)} deal{'' if len(left_out) == 1 else 's'} in a "
        f"currency with no current ECB rate: {named}. Fetch newer rates or import a rates "
        "file on the Data page to count them."
    )


def changes(steps: pd.DataFrame, details: pd.DataFrame, currency: str, first, last, target) -> None:
    frame = steps.replace({"step": {"start": "base", "end": "current"}}).rename(
        columns={"step": "effect"}
    )
    labels = STEP_LABELS | {"base": f"{first:%d %b}", "current": f"{last:%d %b}"}
    st.plotly_chart(
        charts.bridge_waterfall(
            frame,
            labels,
            currency,
            f"Pipeline due in {target.label}: {first:%d %b %Y} → {last:%d %b %Y} — {currency}",
            "Open pipeline",
        ),
        config=CHART_CONFIG,
        key="t_changes",
    )
    st.caption(
        "Every deal at its currency's latest rate, so the bars add up exactly. Won and "
        "lost: closed between the snapshots; pushed out: still open, now due after the "
        "quarter; pulled in: existed before, now due in it. " + RATES_NOTE + _not_converted(details)
    )
    step = st.selectbox(
        "Deals behind",
        [s for s in STEP_LABELS if s in set(details["step"])],
        format_func=STEP_LABELS.get,
        key="t_step",
    )
    if step:
        _eur_table(
            details[details["step"] == step],
            {
                "opportunity_id": "Deal",
                "customer": "Customer",
                "rep": "Rep",
                "stage": "Stage now",
                "close_date": "Close date",
                "status": "Status",
                "amount": f"Change ({currency})",
            },
            f"pipeline_{step.replace(' ', '_')}",
            "t_step_deals",
        )


# --- forecast -------------------------------------------------------------------------------


def forecast(data: dict, quarter: Period, currency: str, week: int) -> None:
    result, accuracy = data["forecast"], data["accuracy"]
    share = result["closed_commit_share"]
    st.metric(
        f"Closed + commit vs quota, {quarter.label}",
        formatting.percent(share, 0) if share == share else "No quota",
        delta=f"{_money(result['closed_commit'], currency)} of {_money(result['quota'], currency)}",
        delta_color="off",
        delta_arrow="off",
        help="Won so far plus the open deals in commit, over the quarter's quota: where the "
        "quarter lands if every commit deal closes.",
        border=True,
        width="content",
    )
    cols = st.columns(5)
    for column, key, label in zip(
        cols, ("commit", "best_case", "pipeline"), ("Commit", "Best case", "Pipeline"), strict=False
    ):
        share = result[f"{key}_share"]
        column.metric(
            f"{label} ({currency})",
            _money(result[key], currency),
            delta=f"{formatting.percent(share, 0)} of quota" if share == share else None,
            delta_color="off",
            delta_arrow="off",
            border=True,
        )
    cols[3].metric(f"Quota ({currency})", _money(result["quota"], currency), border=True)
    cols[4].metric(
        f"Closed won ({currency})",
        _money(result["won"], currency),
        help=f"Won in {quarter.label} up to {result['snapshot_date']:%d %b %Y}.",
        border=True,
    )
    st.caption(data["rate_rule"])
    st.markdown(f"**Forecast accuracy: the call at week {week} (closed + commit) vs won**")
    if accuracy.empty:
        components.empty_state("No past quarters", "The store has no snapshots for them.")
        return
    _eur_table(
        accuracy,
        {
            "quarter": "Quarter",
            "snapshot": "Snapshot",
            "won_by_snapshot_eur": "Won by the snapshot (EUR)",
            "commit_eur": "Commit (EUR)",
            "forecast_eur": "Closed + commit (EUR)",
            "won_eur": "Won (EUR)",
            "accuracy": "Accuracy",
            "commit_conversion": "Commit conversion",
        },
        "forecast_accuracy",
        "t_accuracy",
    )
    st.caption(
        "The call: won in the quarter up to the snapshot plus the open deals in commit for it "
        "(closed + commit). Accuracy = 1 − |call − won| / won: 100 % for an exact call, lower "
        "the further off in either direction. Commit conversion = won / commit at that "
        "week: above 100 % when best-case and pipeline deals were won too. EUR: commit at the "
        "snapshot's rate, won at the close date's."
    )


# --- activity and rep view --------------------------------------------------------------------


def activity(frame: pd.DataFrame, by: str, currency: str, period: Period) -> None:
    if frame.empty or not frame["activities"].any():
        # Without activities every rep sits at 0 on the x axis: nothing to compare.
        components.empty_state(
            f"No activities in {period.label}",
            "No call, meeting, visit, e-mail or demo was logged for this selection, so "
            "activity cannot be set against revenue. Import the CRM's activity export on the "
            "Data page, or choose another quarter.",
        )
        return
    what = "rep" if by == "rep" else "account"
    st.plotly_chart(
        charts.activity_scatter(
            frame.head(400),
            currency,
            what,
            f"Activities vs revenue per {what} — {period.label}, {currency}",
        ),
        config=CHART_CONFIG,
        key=f"t_activity_{by}",
    )
    _eur_table(
        frame,
        {
            "name": what.capitalize(),
            "activities": "Activities",
            "meetings": "Meetings, visits, demos",
            "revenue": f"Revenue ({currency})",
            "pipeline": f"Open pipeline ({currency})",
        },
        f"activity_by_{what}",
        "t_activity_table",
    )
    st.caption(
        f"Revenue: order lines booked in {period.label}, each at its day's rate. " + RATES_NOTE
    )


def rep_view(data: dict, quarter: Period, currency: str) -> None:
    rep, slipped, activities = data["attainment"], data["slipped"], data["activities"]
    cols = st.columns(3)
    if rep is None:
        cols[0].metric(f"Attainment, {quarter.label}", "No quota", border=True)
    else:
        cols[0].metric(
            f"Attainment, {quarter.label}",
            formatting.percent(rep["attainment"]),
            help=f"Booked {_money(rep['booked_eur'], 'EUR')} of "
            f"{_money(rep['quota_eur'], 'EUR')}. {basis_note(data['basis'])}",
            border=True,
        )
    cols[1].metric(
        f"Open pipeline ({currency})",
        _money(data["open_pipeline"], currency),
        delta=_deals(data["open_deals"]),
        delta_color="off",
        delta_arrow="off",
        border=True,
    )
    cols[2].metric("Activities", formatting.count(data["activity_count"]), border=True)
    st.markdown("**Open deals by stage**")
    _eur_table(
        data["by_stage"],
        {"stage": "Stage", "deals": "Deals", "amount": f"Amount ({currency})"},
        "rep_deals_by_stage",
        "t_rep_stages",
    )
    st.markdown(f"**Slipped deals** (due in {quarter.label} at some point, now due later)")
    if slipped.empty:
        st.success("No deal slipped out of the quarter.")
    else:
        _eur_table(
            slipped,
            {
                "opportunity_id": "Deal",
                "customer": "Customer",
                "was_due": "Was due",
                "now_due": "Now due",
                "status": "Status",
            },
            "rep_slipped",
            "t_rep_slipped",
        )
    st.markdown(f"**Activities in {quarter.label}**")
    if activities.empty:
        st.caption("None logged.")
    else:
        _eur_table(
            activities,
            {"type": "Type", "activities": "Activities", "accounts": "Accounts"},
            "rep_activities",
            "t_rep_activities",
        )


def scope_note(scope: Scope, data_source: str, rates: str) -> str:
    """Which sidebar filters apply here (quotas and deals carry no product line or channel;
    the quarter is chosen on the page) and where the figures come from."""
    where = ", ".join(map(text.md, [*scope.regions, *scope.countries])) or "all regions"
    return (
        f"{where} · {scope.currency} · the sidebar's period, product line, channel and basis "
        f"do not apply here · Data: {text.md(data_source)} · Rates: {text.md(rates)}"
    )
