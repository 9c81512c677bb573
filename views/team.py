"""Team & pipeline: quota attainment, the pipeline and how it changed, the forecast, activity
against impact, and one rep's quarter."""

import streamlit as st

from ui import cache, components, errors, filters, periods, text
from ui import team as view

st.title("Team & pipeline")
version = cache.database_version()
catalog = cache.load_catalog(version)
components.require_sales(catalog, "order lines, reps, quotas and opportunities")
scope = filters.team_scope()
quarters = periods.full_quarters(catalog)


# A fragment: switching the view (or a view's own choices) reruns the views alone, not the
# sidebar.
@errors.fragment
def views() -> None:
    chosen = view.view_choice()
    st.caption(view.scope_note(scope, catalog.data_source, catalog.rates.label))

    if chosen == "Attainment":
        quarter = view.quarter_choice(quarters)
        basis = view.attainment_basis()
        with errors.section() as attempt:
            data = cache.team_attainment(version, quarter, scope, basis)
        if not attempt.failed:
            view.attainment(data, quarter)
    elif chosen == "Pipeline":
        data = cache.team_pipeline(version, scope)
        if not data:
            components.empty_state(
                "No pipeline snapshots",
                "Import your CRM's opportunity export on the Data page: each import records that "
                "day's open deals as a snapshot.",
            )
        else:
            st.caption(
                f"Deals as they stand on {data['as_of']:%d %b %Y}; time in stage and stage "
                f"conversion from the weekly snapshots (latest {data['snapshot']:%d %b %Y})."
            )
            view.pipeline(data, scope.currency)
    elif chosen == "Pipeline changes":
        dates = cache.team_snapshot_dates(version)
        if len(dates) < 2:
            components.empty_state(
                "Not enough snapshots", "Pipeline changes need two weekly snapshots."
            )
        else:
            targets = periods.this_and_next_quarter(dates[-1])
            target, first, last = view.changes_inputs(dates, targets)
            if first >= last:
                st.error("Choose a “from” snapshot before the “to” snapshot.")
            else:
                steps, details = cache.team_pipeline_changes(version, first, last, target, scope)
                view.changes(steps, details, scope.currency, first, last, target)
    elif chosen == "Forecast":
        quarter = view.quarter_choice(cache.team_forecast_quarters(version, quarters))
        week = view.week_choice()
        data = cache.team_forecast(version, quarter, scope, week)
        if data["forecast"] is None:
            components.empty_state(
                "No snapshot", f"No pipeline snapshot on or before {quarter.end:%d %b %Y}."
            )
        else:
            view.forecast(data, quarter, scope.currency, week)
    elif chosen == "Activity vs impact":
        quarter = view.quarter_choice(quarters)
        by = st.radio("Per", ["rep", "account"], horizontal=True, key="t_activity_by")
        view.activity(cache.team_activity(version, quarter, scope, by), by, scope.currency, quarter)
    else:
        quarter = view.quarter_choice(quarters)
        reps = cache.team_reps(version, scope)
        names = dict(zip(reps["rep_id"], reps["name"] + " · " + reps["team"], strict=True))
        state = st.session_state
        if "t_rep" not in state:
            asked = st.query_params.get("t_rep")
            if asked and asked not in names:
                st.warning(
                    f"The link's t_rep “{text.from_link(asked)}” names no rep in this selection."
                )
            state["t_rep"] = asked if asked in names else next(iter(names), None)
        elif state["t_rep"] not in names:  # the region filter changed under the chosen rep
            state["t_rep"] = next(iter(names), None)
        rep_id = st.selectbox("Rep", list(names), format_func=names.get, key="t_rep")
        if rep_id is None:
            components.empty_state("No reps", "No rep works in the selected regions.")
        else:
            st.query_params["t_rep"] = rep_id
            basis = view.attainment_basis()
            with errors.section() as attempt:
                data = cache.team_rep(version, quarter, scope, rep_id, basis)
            if not attempt.failed:
                view.rep_view(data, quarter, scope.currency)


views()
