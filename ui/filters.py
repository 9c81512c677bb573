"""The global filter sidebar: kept in session_state and mirrored in the URL query string.

A copied link reopens the same view: on a session's first run the URL's values seed the
widgets (values the store does not know are reported, not silently dropped), and every run
writes the current values back to the URL.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import streamlit as st

from analytics import reference
from analytics.catalog import Catalog
from analytics.crm.scope import Scope
from analytics.filters import BASES, PERIOD_PRESETS, Filters, comparison_period, resolve_period
from analytics.periods import Period
from ui import access, cache, text

# session_state key -> URL parameter
URL_KEYS = {
    "f_period": "period",
    "f_range": "range",
    "f_regions": "region",
    "f_countries": "country",
    "f_lines": "line",
    "f_channels": "channel",
    "f_currency": "currency",
    "f_basis": "basis",
}
LIST_KEYS = ("f_regions", "f_countries", "f_lines", "f_channels")


def _seed_from_url(catalog: Catalog) -> list[str]:
    """Put the URL's filter values into session_state; return what had to be ignored."""
    params = st.query_params
    problems: list[str] = []
    allowed = {
        "f_regions": catalog.regions,
        "f_countries": tuple(code for code, _, _ in catalog.countries),
        "f_lines": catalog.product_lines,
        "f_channels": catalog.channels,
    }
    # The catalog is read within the user's reach, so a region or country a link names but
    # the catalog lacks is either outside that reach or not in the store at all.
    restricted = not cache.current_user().reach.everything
    anywhere = {
        "f_regions": {c.region for c in reference.COUNTRIES},
        "f_countries": {c.code for c in reference.COUNTRIES},
    }
    for key in LIST_KEYS:
        values = params.get_all(URL_KEYS[key])
        known = [v for v in values if v in allowed[key]]
        for v in values:
            if v in allowed[key]:
                continue
            if restricted and v in anywhere.get(key, ()):
                st.session_state.setdefault("f_url_outside", []).append(_asked(URL_KEYS[key], v))
            else:
                problems.append(_asked(URL_KEYS[key], v))
        if known:
            st.session_state[key] = known
    if "period" in params:
        if params["period"] in PERIOD_PRESETS:
            st.session_state["f_period"] = params["period"]
        else:
            problems.append(_asked("period", params["period"]))
    if "range" in params:
        try:
            start, end = (dt.date.fromisoformat(v) for v in params["range"].split("_", 1))
            if start > end:
                raise ValueError
        except ValueError:
            problems.append(_asked("range", params["range"]) + " (expected YYYY-MM-DD_YYYY-MM-DD)")
        else:
            st.session_state["f_range"] = _within_data(start, end, catalog)
    for key, choices in (("f_currency", catalog.currencies), ("f_basis", tuple(BASES))):
        value = params.get(URL_KEYS[key])
        if value is not None:
            if value.upper() in choices or value in choices:
                st.session_state[key] = value.upper() if key == "f_currency" else value
            else:
                problems.append(_asked(URL_KEYS[key], value))
    return problems


def _asked(param: str, value: str) -> str:
    """A link's parameter and value as markdown text: the value is whatever the link said
    (cut short, should it be long)."""
    return f"{param} “{text.from_link(value)}”"


def _within_data(start: dt.date, end: dt.date, catalog: Catalog) -> tuple[dt.date, dt.date]:
    """A range cut to the days the store has sales for (the date widget refuses any other);
    a note says so. A range wholly outside them becomes the whole span."""
    first, last = catalog.first_date, catalog.last_date
    if first <= start and end <= last:
        return start, end
    span = f"{first.isoformat()} to {last.isoformat()}"
    if end < first or start > last:
        clamped = (first, last)
        how = f"lies outside the sales data ({span}), so the whole span is shown"
    else:
        clamped = (max(start, first), min(end, last))
        how = (
            f"runs outside the sales data ({span}), so it was cut to "
            f"{clamped[0].isoformat()} to {clamped[1].isoformat()}"
        )
    st.session_state["f_url_notes"] = [
        f"This link's range {start.isoformat()}_{end.isoformat()} {how}."
    ]
    return clamped


def _write_to_url() -> None:
    state = st.session_state
    # Keep parameters that pages own (e.g. the Markets drill-down), rewrite the filters'.
    params: dict[str, str | list[str]] = {
        key: st.query_params.get_all(key) for key in st.query_params if key not in URL_KEYS.values()
    }
    params["period"] = state["f_period"]
    if state["f_period"] == "custom" and len(state.get("f_range", ())) == 2:
        start, end = state["f_range"]
        params["range"] = f"{start.isoformat()}_{end.isoformat()}"
    for key in LIST_KEYS:
        if state.get(key):
            params[URL_KEYS[key]] = list(state[key])
    params["currency"] = state["f_currency"]
    params["basis"] = state["f_basis"]
    st.query_params.from_dict(params)


def sidebar_filters(catalog: Catalog) -> Filters:
    """Render the filter sidebar and return the filters it sets."""
    state = st.session_state
    if not state.get("f_seeded"):
        state["f_seeded"] = True
        problems = _seed_from_url(catalog)
        if problems:
            state["f_url_problems"] = problems
    state.setdefault("f_period", "last_quarter")
    state.setdefault("f_currency", "EUR")
    state.setdefault("f_basis", "reported")
    # The year to date, or what of it the store holds (the date widget refuses days outside).
    year_start = max(dt.date(catalog.last_date.year, 1, 1), catalog.first_date)
    state.setdefault("f_range", (year_start, catalog.last_date))

    with st.sidebar:
        st.header("Filters")
        access.scope_line(cache.current_user())
        if state.get("f_url_outside"):
            st.warning(
                "This link asked for data outside your scope, which is not shown: "
                + ", ".join(state["f_url_outside"])
            )
        if state.get("f_url_problems"):
            st.warning(
                "This link asked for values the data does not hold, so they were left out: "
                + ", ".join(state["f_url_problems"])
            )
        for note in state.get("f_url_notes", ()):
            st.warning(note)
        st.selectbox("Period", list(PERIOD_PRESETS), format_func=PERIOD_PRESETS.get, key="f_period")
        custom = None
        if state["f_period"] == "custom":
            # A range chosen before the store changed (an import undone) may lie outside it.
            first, last = catalog.first_date, catalog.last_date
            state["f_range"] = tuple(min(max(day, first), last) for day in state["f_range"])
            chosen = st.date_input(
                "From – to",
                min_value=catalog.first_date,
                max_value=catalog.last_date,
                key="f_range",
                format="YYYY-MM-DD",
            )
            if len(chosen) != 2:
                st.info("Pick an end date to complete the range.")
                st.stop()
            custom = tuple(chosen)
        period = resolve_period(state["f_period"], catalog.last_date, custom)
        comparison = comparison_period(state["f_period"], period)
        st.caption(f"{period.label}, compared with {comparison.label}")

        st.multiselect("Region", catalog.regions, key="f_regions", placeholder="All regions")
        country_choices = [
            code
            for code, _, region in catalog.countries
            if not state.get("f_regions") or region in state["f_regions"]
        ]
        state["f_countries"] = [c for c in state.get("f_countries", []) if c in country_choices]
        st.multiselect(
            "Country",
            country_choices,
            format_func=catalog.country_name,
            key="f_countries",
            placeholder="All countries",
        )
        st.multiselect(
            "Product line", catalog.product_lines, key="f_lines", placeholder="All product lines"
        )
        st.multiselect(
            "Channel",
            catalog.channels,
            format_func=str.capitalize,
            key="f_channels",
            placeholder="All channels",
        )
        st.selectbox("Reporting currency", catalog.currencies, key="f_currency")
        st.radio(
            "Currency basis", list(BASES), format_func=BASES.get, key="f_basis", horizontal=True
        )
        st.caption(
            "Reported: each order at its day's ECB rate. Constant currency: the period valued "
            "at the comparison period's average rates, so growth excludes currency moves."
        )
    _write_to_url()
    return Filters(
        period=period,
        comparison=comparison,
        regions=tuple(state.get("f_regions", ())),
        countries=tuple(state.get("f_countries", ())),
        product_lines=tuple(state.get("f_lines", ())),
        channels=tuple(state.get("f_channels", ())),
        currency=state["f_currency"],
        basis=state["f_basis"],
    )


def current() -> Filters:
    """The filters the sidebar set in this run (app.py renders it before the page runs)."""
    return st.session_state["filters"]


def for_quarter(quarter: Period) -> Filters:
    """The sidebar's filters with a page's own quarter as both period and comparison (the
    review picks its quarter and comparison itself)."""
    return dataclasses.replace(current(), period=quarter, comparison=quarter)


def drilled(region: str | None, country: str | None) -> Filters:
    """The sidebar's filters narrowed to a drilled-into region and country."""
    scope = current()
    if region:
        scope = dataclasses.replace(scope, regions=(region,))
    if country:
        scope = dataclasses.replace(scope, countries=(country,))
    return scope


def team_scope() -> Scope:
    """The sidebar's filters as the Team page's scope (regions, currency; its own quarter)."""
    return Scope.from_filters(current())
