"""Screen parts of the Pricing lab: the scenario builder, results, margin at risk, the price
corridor and saved scenarios. Inputs are plain widgets keyed p_*, so a saved scenario can
be loaded back into them."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from analytics import formatting, pricing
from analytics.catalog import Catalog
from analytics.filters import Filters
from analytics.fx import RateUnavailable
from analytics.periods import Period, add_months
from ui import access, cache, charts, components, text

DEFAULT_MARKETS = ("US", "GB", "CH", "JP", "CN", "TR")
MODES = ("By hand", "Replay an episode")
CUSTOM_EPISODE = "custom"
CHART_CONFIG = {"displaylogo": False}
LOOKBACKS = {365: "1 year", 730: "2 years", 1826: "5 years"}
HORIZONS = (30, 90, 180, 250)


def _pct(value, digits=1, sign=True) -> str:
    if value is None or pd.isna(value):
        return "–"
    return f"{value * 100:+.{digits}f}%" if sign else f"{value * 100:.{digits}f}%"


# --- building the scenario ------------------------------------------------------------------


def builder(catalog: Catalog, version: str, currency: str) -> pricing.Scenario | None:
    """The scenario the inputs describe; None (with a message on screen) when it cannot run."""
    state = st.session_state
    codes = [code for code, _, _ in catalog.countries]
    # A user scoped to markets none of the defaults is in starts on their own (up to six).
    state.setdefault("p_markets", [c for c in DEFAULT_MARKETS if c in codes] or codes[:6])
    # A loaded scenario may name markets outside this user's scope: they are not offered.
    outside = [c for c in state["p_markets"] if c not in codes]
    if outside:
        state["p_markets"] = [c for c in state["p_markets"] if c in codes]
        st.warning(
            "Markets outside your scope were left out: " + ", ".join(map(text.md, outside)) + "."
        )
    last = catalog.last_date
    state.setdefault("p_range", (add_months(last, -12) + dt.timedelta(days=1), last))
    reference = cache.pricing_reference(version)

    st.subheader("1 · Markets, products and baseline")
    left, right = st.columns([3, 2])
    left.multiselect(
        "Markets",
        codes,
        format_func=catalog.country_name,
        key="p_markets",
        placeholder="Choose one or more markets",
    )
    right.date_input(
        "Baseline: actual sales from – to",
        min_value=catalog.first_date,
        max_value=last,
        key="p_range",
        format="YYYY-MM-DD",
    )
    left, right = st.columns(2)
    left.multiselect(
        "Product lines", catalog.product_lines, key="p_lines", placeholder="All product lines"
    )
    products = reference["products"]
    names = dict(
        zip(products["product_id"], products["product_id"] + " · " + products["name"], strict=True)
    )
    right.multiselect(
        "Or single products",
        list(names),
        format_func=names.get,
        key="p_products",
        placeholder="All products of those lines",
    )
    if len(state["p_range"]) != 2:
        st.info("Pick the baseline's end date to complete the range.")
        return None
    start, end = state["p_range"]
    markets = tuple(state["p_markets"])
    if not markets:
        st.error("Select at least one market: the lab needs sales to work from.")
        return None

    probe = pricing.Scenario(
        countries=markets,
        baseline_start=start,
        baseline_end=end,
        product_lines=tuple(state.get("p_lines", ())),
        products=tuple(state.get("p_products", ())),
        currency=currency,
    )
    try:
        results, _ = cache.pricing_run(version, probe.to_json())
    except (ValueError, RateUnavailable) as problem:
        st.error(text.md(problem))
        return None
    currencies = sorted(set(results["currency_code"]) - {"EUR"})
    if currency != "EUR" and currency not in currencies:
        currencies.append(currency)  # the reporting currency can move too

    st.subheader("2 · Exchange-rate shock")
    mode = st.radio("Shock", MODES, horizontal=True, key="p_mode", label_visibility="collapsed")
    if mode == MODES[0]:
        shocks, episode = _hand_shocks(currencies), None
    else:
        shocks, episode = _episode_shocks(version, reference["episodes"], currencies, catalog)
    if shocks is None:
        return None

    st.subheader("3 · Pricing response and costs")
    for key, default in (
        ("p_pt", pricing.DEFAULT_PASS_THROUGH * 100),
        ("p_el", pricing.DEFAULT_ELASTICITY),
        ("p_cost", 0.0),
        ("p_target", pricing.DEFAULT_TARGET_MARGIN * 100),
    ):
        state.setdefault(key, default)
    cols = st.columns(4)
    cols[0].number_input(
        "Pass-through, all markets (%)",
        step=10.0,
        key="p_pt",
        help="How much of the currency move goes into "
        "local prices: 0 % keeps local prices, 100 % keeps the EUR price.",
    )
    cols[1].number_input(
        "Price elasticity, all markets",
        step=0.1,
        key="p_el",
        help="Constant elasticity e: units = baseline units × (scenario price ÷ baseline "
        "price)^e. e is the % change in units per 1 % change in price only for small moves; "
        "larger ones compound (e = -1.5: +20 % in price, -23.9 % in units; -20 % in price, "
        "+39.8 % in units). Default -1.5 (industrial B2B goods); 0 = demand does not react.",
    )
    cols[2].number_input(
        "Cost change in EUR (%)",
        step=1.0,
        key="p_cost",
        help="Costs are in EUR: change them here, e.g. for cost inflation.",
    )
    cols[3].number_input("Target gross margin (%)", step=1.0, key="p_target")
    pass_through, elasticity = _per_market(results, catalog)
    _model(state["p_el"])
    hedge_ratio, hedge_rate = _hedges(results, currencies)

    return pricing.Scenario(
        countries=markets,
        baseline_start=start,
        baseline_end=end,
        product_lines=probe.product_lines,
        products=probe.products,
        currency=currency,
        shocks=shocks,
        pass_through=pass_through,
        elasticity=elasticity,
        cost_change=state["p_cost"] / 100,
        target_margin=state["p_target"] / 100,
        episode=episode,
        hedge_ratio=hedge_ratio,
        hedge_rate=hedge_rate,
    )


def _hedges(results: pd.DataFrame, currencies: list[str]) -> tuple[dict, dict]:
    """Hedge ratio and hedged rate per currency (none by default; the rate defaults to the
    plan rate of the baseline's year)."""
    state = st.session_state
    plan = dict(zip(results["currency_code"], results["plan_rate"], strict=True))
    ratios, rates = {}, {}
    hedgeable = [c for c in currencies if c in plan]
    with st.expander("Hedges (per currency)"):
        st.caption(
            "Share of each currency's revenue sold forward, and the rate it was sold at (units "
            "per EUR; empty = the plan rate). Prices and units still follow the market rate; "
            "only the unhedged share converts at it."
        )
        for code in hedgeable:
            left, mid, right = st.columns([1, 1, 1])
            left.markdown(f"**{code}**")
            state.setdefault(f"p_hedge_{code}", 0.0)
            state.setdefault(f"p_hedge_rate_{code}", None)
            ratio = mid.number_input(
                "Hedged (%)", min_value=0.0, max_value=100.0, step=10.0, key=f"p_hedge_{code}"
            )
            planned = plan[code]
            rate = right.number_input(
                "Hedged rate (per EUR)",
                min_value=0.0,
                step=0.01,
                format="%.4f",
                key=f"p_hedge_rate_{code}",
                placeholder=f"plan {planned:.4f}" if planned == planned else "no plan rate",
            )
            if ratio:
                ratios[code] = ratio / 100
            if rate:
                rates[code] = rate
    return ratios, rates


def _model(elasticity: float) -> None:
    """The model's equations, and what the all-markets elasticity does to a price move (the
    power law, not a straight line, so a large move is not e times the price change)."""
    st.latex(
        r"S_1 = \frac{S_0}{1 + s} \qquad "
        r"P_1 = P_0 \left(1 + k \left(\frac{S_1}{S_0} - 1\right)\right) \qquad "
        r"Q_1 = Q_0 \left(\frac{P_1}{P_0}\right)^{e} \qquad "
        r"M = Q_1 \left(\frac{P_1}{S_1} - C_0 (1 + g)\right)"
    )
    if elasticity == 0:
        example = "With e = 0 units do not respond to price."
    else:
        rise = pricing.units_change(0.20, elasticity)
        fall = pricing.units_change(-0.20, elasticity)
        example = (
            f"With e = {elasticity:g}, a local price 20 % higher changes units by "
            f"{_pct(rise)} and one 20 % lower by {_pct(fall)} (a straight line would say "
            f"{_pct(0.2 * elasticity)} and {_pct(-0.2 * elasticity)})."
        )
    st.caption(
        "S: units of the currency per EUR (S0 today's spot), s: the shock to the "
        "currency's value, k: pass-through, P: average local net price, Q: net units, "
        "e: price elasticity (constant: the same % response at every price), C0: unit "
        "cost in EUR, g: the cost change, M: gross margin in EUR (then converted to the "
        "reporting currency). " + example
    )


def _hand_shocks(currencies: list[str]) -> dict[str, float]:
    st.caption(
        "Change of each currency's value against the EUR: -10 % means it buys 10 % fewer "
        "euros (the EUR rate rises by 11.1 %)."
    )
    shocks = {}
    for i in range(0, len(currencies), 6):
        for column, code in zip(st.columns(6), currencies[i : i + 6], strict=False):
            key = f"p_shock_{code}"
            st.session_state.setdefault(key, 0.0)
            shocks[code] = column.number_input(f"{code} (%)", step=5.0, key=key) / 100
    return shocks


def _episode_shocks(version, episodes, currencies, catalog) -> tuple[dict | None, tuple | None]:
    options = [*episodes, CUSTOM_EPISODE]
    labels = {key: episode.label for key, episode in episodes.items()} | {
        CUSTOM_EPISODE: "Custom dates…"
    }
    choice = st.selectbox(
        "Episode from the stored ECB history", options, format_func=labels.get, key="p_episode"
    )
    if choice == CUSTOM_EPISODE:
        st.session_state.setdefault("p_episode_range", (dt.date(2022, 1, 3), dt.date(2022, 9, 28)))
        chosen = st.date_input(
            "From – to",
            key="p_episode_range",
            format="YYYY-MM-DD",
            max_value=catalog.rates.last_date,
        )
        if len(chosen) != 2:
            st.info("Pick the episode's end date.")
            return None, None
        start, end = chosen
    else:
        start, end = episodes[choice].start, episodes[choice].end
    shocks = cache.pricing_episode_shocks(version, tuple(currencies), start, end)
    missing = [c for c in currencies if c not in shocks]
    if missing:
        st.warning(
            f"No stored rates for {', '.join(missing)} around {start:%d %b %Y} – {end:%d %b %Y}, "
            "so the episode cannot replay them: their shock is 0 %. Set shocks by hand instead "
            "if that matters."
        )
    st.caption(
        f"Replaying {start:%d %b %Y} → {end:%d %b %Y}: "
        + ", ".join(f"{code} {_pct(shocks.get(code, 0.0))}" for code in currencies)
    )
    return {code: shocks.get(code, 0.0) for code in currencies}, (start, end)


def _per_market(results: pd.DataFrame, catalog: Catalog) -> tuple[dict, dict]:
    """Pass-through and elasticity per market: the all-markets values unless overridden."""
    state = st.session_state
    pass_through, elasticity = {}, {}
    with st.expander("Per market (overrides the values above)"):
        for row in results.itertuples():
            code = row.country_code
            left, mid, right = st.columns([2, 1, 1])
            left.markdown(f"**{text.md(catalog.country_name(code))}** · {row.currency_code}")
            state.setdefault(f"p_pt_{code}", None)
            state.setdefault(f"p_el_{code}", None)
            override_pt = mid.number_input(
                "Pass-through (%)", step=10.0, key=f"p_pt_{code}", placeholder=f"{state['p_pt']:g}"
            )
            override_el = right.number_input(
                "Elasticity", step=0.1, key=f"p_el_{code}", placeholder=f"{state['p_el']:g}"
            )
            pass_through[code] = (state["p_pt"] if override_pt is None else override_pt) / 100
            elasticity[code] = state["p_el"] if override_el is None else override_el
    return pass_through, elasticity


def load_into_widgets(scenario: pricing.Scenario) -> None:
    """Put a saved scenario into the inputs (a button callback: runs before the widgets)."""
    state = st.session_state
    state["p_markets"] = list(scenario.countries)
    state["p_range"] = (scenario.baseline_start, scenario.baseline_end)
    state["p_lines"] = list(scenario.product_lines)
    state["p_products"] = list(scenario.products)
    state["p_mode"] = MODES[0]
    for code, shock in scenario.shocks.items():
        state[f"p_shock_{code}"] = shock * 100
    state["p_pt"] = pricing.DEFAULT_PASS_THROUGH * 100
    state["p_el"] = pricing.DEFAULT_ELASTICITY
    for code in scenario.countries:
        state[f"p_pt_{code}"] = scenario.pass_through.get(code, pricing.DEFAULT_PASS_THROUGH) * 100
        state[f"p_el_{code}"] = scenario.elasticity.get(code, pricing.DEFAULT_ELASTICITY)
    state["p_cost"] = scenario.cost_change * 100
    state["p_target"] = scenario.target_margin * 100
    # A scenario saved before hedges has none: every currency unhedged.
    for key in [k for k in state if k.startswith("p_hedge_")]:
        state[key] = None if key.startswith("p_hedge_rate_") else 0.0
    for code, ratio in scenario.hedge_ratio.items():
        state[f"p_hedge_{code}"] = ratio * 100
    for code, rate in scenario.hedge_rate.items():
        state[f"p_hedge_rate_{code}"] = rate


# --- results --------------------------------------------------------------------------------


def awaiting_rate(scenario: pricing.Scenario, currency: str) -> None:
    """The baseline's order lines left out until their rates arrive (the scenario's markets
    and baseline window, not the sidebar's)."""
    window = Period(scenario.baseline_start, scenario.baseline_end, "the baseline")
    held = components.awaiting_note(
        Filters(window, window, countries=tuple(scenario.countries), currency=currency)
    )
    if held:
        st.warning(held)


def results_section(results: pd.DataFrame, totals: dict, scenario: pricing.Scenario, catalog):
    cur = scenario.currency
    cols = st.columns(4)
    cols[0].metric(
        f"Revenue ({cur})",
        formatting.money(totals["revenue_1"], cur),
        **components.delta(formatting.change(totals["revenue_change"], "money")),
        delta_description="vs baseline at spot",
        border=True,
    )
    cols[1].metric(
        f"Gross margin ({cur})",
        formatting.money(totals["margin_1"], cur),
        **components.delta(formatting.signed_money(totals["margin_change"], cur)),
        delta_description="vs baseline at spot",
        help=components.margin_coverage_note(totals.get("margin_coverage")),
        border=True,
    )
    cols[2].metric(
        "Gross margin %",
        formatting.percent(totals["margin_pct_1"]),
        **components.delta(formatting.change(totals["margin_pct_change"], "percent")),
        help=components.margin_coverage_note(totals.get("margin_coverage")),
        border=True,
    )
    year, missing = totals["plan_year"], totals["plan_missing"]
    cols[3].metric(
        f"FX effect vs plan ({cur})",
        formatting.signed_money(totals["fx_vs_plan"], cur) if not missing else "No plan rate",
        border=True,
        help=f"Scenario gross margin minus the same units and prices at {year} plan rates "
        f"({formatting.money(totals['margin_plan'], cur)}): only the unhedged share moves "
        "it when hedged at the plan rate."
        if not missing
        else f"No {year} plan rate for {', '.join(missing)}: import plan rates on the Data "
        "page (python -m analytics import plan_rates FILE) to measure against plan.",
    )
    if totals.get("no_units"):
        st.warning(
            "Left out, because their baseline has no net units (returns outweigh sales): "
            + ", ".join(text.md(catalog.country_name(c)) for c in totals["no_units"])
        )
    st.plotly_chart(
        charts.margin_bars(
            results, cur, f"Gross margin per market — {cur}, baseline at spot vs scenario"
        ),
        config=CHART_CONFIG,
        key="p_margin_bars",
    )
    table = pd.DataFrame(
        {
            "Market": results["country"],
            "Currency": results["currency_code"],
            "Spot (per EUR)": results["spot"],
            "Spot rate from": results["spot_label"],
            "Shock": results["shock"],
            "Scenario rate": results["rate"],
            "Avg local price, baseline": results["price_local_0"],
            "Avg local price, scenario": results["price_local_1"],
            "Local price change": results["price_change"],
            "Units, baseline": results["units_0"],
            "Units, scenario": results["units_1"],
            f"Revenue, scenario ({cur})": results["revenue_1"],
            f"Margin, baseline ({cur})": results["margin_0"],
            f"Margin, scenario ({cur})": results["margin_1"],
            f"Margin change ({cur})": results["margin_change"],
            "Margin %, scenario": results["margin_pct_1"],
            "Hedged": results["hedge_ratio"],
            "Hedged rate": results["hedge_rate"],
            f"Plan rate {scenario.plan_year}": results["plan_rate"],
            f"Margin at plan rates ({cur})": results["margin_plan"],
            f"FX effect vs plan ({cur})": results["fx_vs_plan"],
            "Break-even rate": results["break_even_rate"],
            "Break-even move": results["break_even_move"],
            f"Rate at {scenario.target_margin:.0%} margin": results["target_rate"],
            f"Move to {scenario.target_margin:.0%} margin": results["target_move"],
            "Pass-through to hold margin": results["pass_through_to_hold"],
        }
    )
    money = st.column_config.NumberColumn(format="localized")
    percent = st.column_config.NumberColumn(format="percent")
    rate = st.column_config.NumberColumn(format="%.4f")
    money_columns = [c for c in table.columns if c.endswith(f"({cur})") or c.startswith("Units")]
    config = dict.fromkeys(money_columns, money)
    config |= {
        c: percent
        for c in (
            "Shock",
            "Local price change",
            "Margin %, scenario",
            "Hedged",
            "Break-even move",
            f"Move to {scenario.target_margin:.0%} margin",
            "Pass-through to hold margin",
        )
    }
    config |= {
        c: st.column_config.NumberColumn(format="%.2f")
        for c in ("Avg local price, baseline", "Avg local price, scenario")
    }
    config |= {
        c: rate
        for c in (
            "Spot (per EUR)",
            "Scenario rate",
            "Hedged rate",
            f"Plan rate {scenario.plan_year}",
            "Break-even rate",
            f"Rate at {scenario.target_margin:.0%} margin",
        )
    }
    # On screen money and units in whole units, prices to the cent; the downloads exact.
    shown = table.round(
        dict.fromkeys(money_columns, 0)
        | dict.fromkeys(("Avg local price, baseline", "Avg local price, scenario"), 2)
    )
    components.table_with_downloads(
        shown, config, "pricing_scenario", "p_results", export_frame=table
    )
    st.caption(
        "Baseline: the period's units at its average local net prices, valued at today's spot "
        f"rate. Hedged: the share of the revenue converted at the hedged rate; margin at plan "
        f"rates: the scenario's units and prices at {scenario.plan_year} plan rates. "
        "Break-even rate (unhedged): where the market's gross margin reaches zero (move: the "
        "currency's change in value from spot; empty when it never does, e.g. with full "
        "pass-through). Below 100 % pass-through the margin falls as the currency weakens; "
        "above 100 % local prices overshoot, so it falls as the currency strengthens and the "
        "break-even move is a gain in value. Pass-through to hold margin: the share of the move passed into local "
        "prices that keeps the baseline gross margin in EUR once demand responds (empty when "
        "no move needs offsetting or none up to 200 % does). Rates: "
        + "; ".join(
            sorted(
                {
                    f"{c} {s:.4f} ({lbl})"
                    for c, s, lbl in zip(
                        results["currency_code"],
                        results["spot"],
                        results["spot_label"],
                        strict=True,
                    )
                }
            )
        )
    )


# --- margin at risk -------------------------------------------------------------------------


def margin_at_risk_section(version: str, scenario: pricing.Scenario) -> None:
    cols = st.columns(4)
    lookback = cols[0].selectbox(
        "History to estimate from",
        list(LOOKBACKS),
        index=1,
        format_func=LOOKBACKS.get,
        key="p_lookback",
    )
    horizon = cols[1].selectbox("Horizon (trading days)", HORIZONS, index=1, key="p_horizon")
    st.session_state.setdefault("p_paths", pricing.DEFAULT_PATHS)
    st.session_state.setdefault("p_seed", 1)
    paths = cols[2].number_input(
        "Paths", min_value=1_000, max_value=50_000, step=1_000, key="p_paths"
    )
    seed = cols[3].number_input(
        "Seed", min_value=0, step=1, key="p_seed", help="The same seed gives the same result."
    )
    if not st.toggle(
        "Simulate",
        key="p_mc",
        help="Draws each path's rates at the horizon directly: under the model (independent "
        "normal daily moves) they are exactly normal in log with the daily covariance × days.",
    ):
        st.caption(
            "Simulates correlated daily moves of the scenario's currencies, estimated "
            "from the stored ECB history, and the gross margin they leave."
        )
        return
    result = cache.pricing_margin_at_risk(
        version, scenario.to_json(), int(lookback), int(horizon), int(paths), int(seed)
    )
    cur = scenario.currency
    cols = st.columns(4)
    cols[0].metric(f"Scenario margin ({cur})", formatting.money(result.expected, cur), border=True)
    cols[1].metric(
        "Margin at risk, 95 %",
        formatting.money(result.var_95, cur),
        border=True,
        help="Scenario margin minus the 5th percentile of simulated margins.",
    )
    cols[2].metric(
        "Expected shortfall, 95 %",
        formatting.money(result.es_95, cur),
        border=True,
        help="Scenario margin minus the average of the worst 5 % of paths.",
    )
    planned = result.plan == result.plan
    cols[3].metric(
        "Margin at risk vs plan, 95 %",
        formatting.money(result.var_95_plan, cur) if planned else "No plan rate",
        border=True,
        help=f"Margin at {scenario.plan_year} plan rates "
        f"({formatting.money(result.plan, cur)}) minus the 5th percentile of simulated margins."
        if planned
        else f"Needs a {scenario.plan_year} plan rate for every currency.",
    )
    if scenario.hedge_ratio:
        st.caption(
            "Hedged shares convert at their hedged rate on every path, so only the unhedged "
            "share is at risk: "
            + ", ".join(f"{c} {_pct(h, 0, sign=False)}" for c, h in scenario.hedge_ratio.items())
            + " hedged."
        )
    left, right = st.columns(2)
    with left:
        st.plotly_chart(
            charts.margin_histogram(
                result.margins,
                result.expected,
                result.var_95,
                cur,
                f"Gross margin in {horizon} trading days — {cur}, {int(paths):,} paths",
            ),
            config=CHART_CONFIG,
            key="p_histogram",
        )
    with right:
        if result.fan.empty:
            components.empty_state("No currency to simulate", "Every market sells in EUR.")
        else:
            codes = sorted(result.fan["currency_code"].unique())
            code = st.selectbox("Currency", codes, key="p_fan_currency")
            st.plotly_chart(
                charts.rate_fan(
                    result.fan, code, f"{code} per EUR, simulated — next {horizon} trading days"
                ),
                config=CHART_CONFIG,
                key="p_fan",
            )
    vol = result.volatility
    st.caption(
        f"Volatility from {LOOKBACKS[int(lookback)]} of ECB daily rates (daily / annualised): "
        + ", ".join(f"{c} {v:.2%} / {v * pricing.TRADING_DAYS**0.5:.1%}" for c, v in vol.items())
        + f". Zero drift; seed {int(seed)}. {int(paths):,} paths × {len(vol)} currencies at "
        f"{int(horizon)} days, drawn at the horizon directly (the sum of {int(horizon)} "
        "independent normal daily moves is normal with their covariance × days)."
    )


# --- price corridor -------------------------------------------------------------------------


def corridor_section(version: str, currency: str, as_of: dt.date) -> None:
    products = cache.pricing_reference(version)["products"]
    names = dict(
        zip(products["product_id"], products["product_id"] + " · " + products["name"], strict=True)
    )
    left, right = st.columns([3, 2])
    product = left.selectbox("Product", list(names), format_func=names.get, key="p_corr_product")
    threshold = right.slider("Flag gaps above (%)", 5, 50, 15, step=1, key="p_corr_threshold")
    prices = cache.pricing_list_prices(version, product, as_of)
    if prices.empty:
        components.empty_state(
            "No list prices", f"{names[product]} has no list price valid on {as_of:%d %b %Y}."
        )
        return
    frame, flags, (low, high) = cache.pricing_corridor(version, product, as_of, currency, threshold)
    outside = set(frame.loc[frame["change"].abs() > 1e-9, "country"])
    st.plotly_chart(
        charts.price_corridor_chart(
            frame,
            low,
            high,
            outside,
            currency,
            f"{names[product]}: list prices in {currency} at spot, "
            f"{as_of:%d %b %Y} (red: outside the corridor)",
        ),
        config=CHART_CONFIG,
        key="p_corridor",
    )
    sym = formatting.money
    if flags.empty:
        st.success(f"No two countries differ by more than {threshold} %.")
    else:
        st.markdown(
            f"**{len(flags)} country pairs** differ by more than {threshold} % (parallel-import "
            f"risk). The corridor {sym(low, currency, compact=False)} – "
            f"{sym(high, currency, compact=False)} removes every flag."
        )
    left, right = st.columns(2)
    with left:
        table = pd.DataFrame(
            {
                "Country A": flags["country_a"],
                "Country B": flags["country_b"],
                f"Price A ({currency})": flags["price_a"],
                f"Price B ({currency})": flags["price_b"],
                "Gap": flags["gap"],
            }
        )
        components.table_with_downloads(
            table.round({f"Price A ({currency})": 2, f"Price B ({currency})": 2}),
            {"Gap": st.column_config.NumberColumn(format="percent")},
            f"price_gaps_{product}",
            "p_gaps",
            export_frame=table,
        )
    with right:
        moves = frame[frame["change"].abs() > 1e-9]
        table = pd.DataFrame(
            {
                "Country": moves["country"],
                "Currency": moves["currency_code"],
                "List price": moves["list_price_local"],
                "Corridor price": moves["corridor_price_local"],
                "Change": moves["change"],
            }
        )
        components.table_with_downloads(
            table.round({"List price": 2, "Corridor price": 2}),
            {"Change": st.column_config.NumberColumn(format="percent")},
            f"price_corridor_{product}",
            "p_moves",
            export_frame=table,
        )
    st.caption(
        "Prices from the price list valid on the rate date, converted at each currency's "
        "latest stored rate. Gap = higher / lower price - 1. The corridor is centred on "
        "the median price."
    )


# --- saved scenarios ------------------------------------------------------------------------


def saved_section(version: str, scenario: pricing.Scenario | None) -> None:
    saved = cache.saved_scenarios()
    may_save = access.can("save_scenarios")
    left, right = st.columns(2)
    with left:
        if may_save:
            name = st.text_input(
                "Name", key="p_save_name", placeholder="e.g. Dollar -10 %, half passed on"
            )
            if st.button("Save scenario", key="p_save", disabled=scenario is None):
                try:
                    with cache.state_store() as con:
                        pricing.save_scenario(con, name, scenario, cache.current_user().email)
                    st.session_state["p_notice"] = f"Saved “{text.md(name.strip())}”."
                    st.rerun()
                except ValueError as problem:
                    st.error(text.md(problem))
        else:
            st.caption(access.refusal("save_scenarios"))
        if st.session_state.get("p_notice"):
            st.success(st.session_state.pop("p_notice"))
    with right:
        if saved.empty:
            st.caption("No saved scenarios yet.")
            return
        labels = dict(zip(saved["scenario_id"], saved["name"], strict=True))
        chosen = st.selectbox(
            "Saved scenarios", list(labels), format_func=labels.get, key="p_saved"
        )
        load, delete = st.columns(2)
        load.button(
            "Load into the builder",
            key="p_load",
            on_click=load_into_widgets,
            args=(cache.saved_scenario(chosen),),
            width="stretch",
        )
        if may_save and delete.button("Delete", key="p_delete", width="stretch"):
            with cache.state_store() as con:
                pricing.delete_scenario(con, chosen, cache.current_user().email)
            st.session_state["p_notice"] = f"Deleted “{text.md(labels[chosen])}”."
            st.rerun()

    st.markdown("**Compare side by side**")
    compared = st.multiselect(
        "Scenarios",
        list(labels),
        format_func=labels.get,
        key="p_compare",
        placeholder="Choose two or more saved scenarios",
    )
    if len(compared) < 2:
        st.caption("Choose at least two to compare.")
        return
    rows = []
    for scenario_id in compared:
        chosen_scenario = cache.saved_scenario(scenario_id)
        try:
            _, totals = cache.pricing_run(version, chosen_scenario.to_json())
        except (ValueError, RateUnavailable) as problem:
            st.warning(
                f"“{text.md(labels[scenario_id])}” cannot be computed any more: " + text.md(problem)
            )
            continue
        rows.append(
            {
                "Scenario": labels[scenario_id],
                "Currency": chosen_scenario.currency,
                "Markets": ", ".join(chosen_scenario.countries),
                "Shocks": ", ".join(
                    f"{c} {_pct(s, 0)}" for c, s in chosen_scenario.shocks.items() if s
                )
                or "none",
                "Revenue, baseline": totals["revenue_0"],
                "Revenue, scenario": totals["revenue_1"],
                "Margin, baseline": totals["margin_0"],
                "Margin, scenario": totals["margin_1"],
                "Margin change": totals["margin_change"],
                "Margin %, scenario": totals["margin_pct_1"],
            }
        )
    table = pd.DataFrame(rows)
    money = st.column_config.NumberColumn(format="localized")
    amounts = [c for c in table.columns if c.startswith(("Revenue", "Margin,", "Margin ch"))]
    config = dict.fromkeys(amounts, money)
    config["Margin %, scenario"] = st.column_config.NumberColumn(format="percent")
    components.table_with_downloads(
        table.round(dict.fromkeys(amounts, 0)),
        config,
        "pricing_comparison",
        "p_comparison",
        export_frame=table,
    )
    st.caption("Amounts in each scenario's own reporting currency.")
