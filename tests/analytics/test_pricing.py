"""Pricing lab on the hand-made fixture: every figure worked out on paper.

Baseline 4–9 Jan 2024 (conftest.py lines O1–O5):
    US / USD: 10 + 5 - 1 = 14 units, 450 + 300 - 60 = 690 USD, cost 200 + 100 - 10 = 290 EUR
    GB / GBP:  2 + 3     =  5 units, 200 + 240     = 440 GBP, cost  60 +  90      = 150 EUR
    DE / EUR:  4 units, 100 EUR, cost 40 EUR
Spot rates (latest stored): USD 1.09, GBP 0.855 (1 Feb 2024).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from statistics import NormalDist

import numpy as np
import pandas as pd
import pytest

from analytics import fx, pricing, state

D = dt.date
S_USD, S_GBP = 1.09, 0.855
P0_US, C_US = 690 / 14, 290 / 14


def scenario(**changes) -> pricing.Scenario:
    base = pricing.Scenario(
        countries=("US", "GB", "DE"),
        baseline_start=D(2024, 1, 4),
        baseline_end=D(2024, 1, 9),
        pass_through={"US": 0.0, "GB": 0.0, "DE": 0.0},
        elasticity={"US": 0.0, "GB": 0.0, "DE": 0.0},
    )
    return dataclasses.replace(base, **changes)


def market(results: pd.DataFrame, country: str) -> pd.Series:
    return results.set_index("country_code").loc[country]


def test_baseline_by_hand(fixture_con):
    frame = pricing.baseline(fixture_con, scenario()).set_index("country_code")
    assert frame.loc["US", ["units", "revenue_local", "cost_eur"]].tolist() == [14, 690, 290]
    assert frame.loc["GB", ["units", "revenue_local", "cost_eur"]].tolist() == [5, 440, 150]
    assert frame.loc["DE", "currency_code"] == "EUR"
    only_sensors = pricing.baseline(fixture_con, scenario(product_lines=("Sensors",)))
    assert only_sensors.set_index("country_code").loc["US", "units"] == 15  # the P2 return is out


def test_no_shock_gives_back_the_baseline_at_spot(fixture_con):
    results, totals = pricing.run(fixture_con, scenario())
    us = market(results, "US")
    assert us["revenue_0"] == pytest.approx(690 / S_USD)
    assert us["margin_0"] == pytest.approx(690 / S_USD - 290)
    assert us["revenue_1"] == pytest.approx(us["revenue_0"])
    assert totals["margin_change"] == pytest.approx(0)
    assert totals["revenue_0"] == pytest.approx(690 / S_USD + 440 / S_GBP + 100)


def test_pass_through_zero_keeps_local_prices(fixture_con):
    results, _ = pricing.run(fixture_con, scenario(shocks={"USD": -0.10}))
    us = market(results, "US")
    rate = S_USD / 0.9
    assert us["rate"] == pytest.approx(rate)
    assert us["price_change"] == 0 and us["units_1"] == 14
    assert us["revenue_1"] == pytest.approx(690 / rate)
    assert us["margin_1"] == pytest.approx(690 / rate - 290)
    assert market(results, "GB")["margin_change"] == pytest.approx(0)  # GBP did not move


def test_full_pass_through_keeps_the_eur_price_and_margin(fixture_con):
    shocked = scenario(shocks={"USD": -0.10}, pass_through={"US": 1.0})
    us = market(pricing.run(fixture_con, shocked)[0], "US")
    assert us["price_change"] == pytest.approx(1 / 0.9 - 1)  # +11.1 % in USD
    assert us["revenue_1"] == pytest.approx(690 / S_USD)
    assert us["margin_1"] == pytest.approx(us["margin_0"])
    assert np.isnan(us["break_even_rate"])  # the margin never reaches zero


def test_elasticity_moves_units(fixture_con):
    shocked = scenario(shocks={"USD": -0.10}, pass_through={"US": 1.0}, elasticity={"US": -2.0})
    us = market(pricing.run(fixture_con, shocked)[0], "US")
    assert us["units_1"] == pytest.approx(14 * (1 / 0.9) ** -2.0)
    assert us["margin_1"] == pytest.approx(14 * 0.81 * (P0_US / S_USD - C_US))


def test_constant_elasticity_is_a_power_law_not_a_line(fixture_con):
    # 1.2 ^ -1.5 = 0.76073, 0.8 ^ -1.5 = 1.39754 (a line would give -30 % and +30 %).
    assert pricing.units_change(0.20, -1.5) == pytest.approx(-0.23927, abs=1e-5)
    assert pricing.units_change(-0.20, -1.5) == pytest.approx(0.39754, abs=1e-5)
    assert pricing.units_change(0.20, 0.0) == 0
    # The scenario follows it: USD -20 % at 50 % pass-through raises the price by
    # 0.5 x (1 / 0.8 - 1) = 12.5 %, so units are 14 x 1.125 ^ -1.5 = 14 x 0.83805 = 11.7327 (not 14 x 0.8125).
    shocked = scenario(shocks={"USD": -0.20}, pass_through={"US": 0.5}, elasticity={"US": -1.5})
    us = market(pricing.run(fixture_con, shocked)[0], "US")
    assert us["price_change"] == pytest.approx(0.125)
    assert us["units_1"] == pytest.approx(14 * 1.125**-1.5)
    assert us["units_1"] == pytest.approx(11.7327, abs=1e-4)


def test_break_even_rates_by_hand_and_at_the_rate_the_margin_is_zero(fixture_con):
    results, _ = pricing.run(fixture_con, scenario(target_margin=0.30))
    us = market(results, "US")
    assert us["break_even_rate"] == pytest.approx(690 / 290)  # P0 / C when k = 0
    assert us["break_even_move"] == pytest.approx(S_USD / (690 / 290) - 1)
    assert us["target_rate"] == pytest.approx(690 / 290 * 0.7)
    # A scenario at each reported rate gives zero margin, and the target margin.
    for k in (0.0, 0.2):
        base = scenario(pass_through={"US": k}, elasticity={"US": -1.2}, target_margin=0.3)
        row = market(pricing.run(fixture_con, base)[0], "US")
        at_zero = dataclasses.replace(base, shocks={"USD": S_USD / row["break_even_rate"] - 1})
        assert market(pricing.run(fixture_con, at_zero)[0], "US")["margin_1"] == pytest.approx(
            0, abs=1e-9
        )
        at_target = dataclasses.replace(base, shocks={"USD": S_USD / row["target_rate"] - 1})
        assert market(pricing.run(fixture_con, at_target)[0], "US")["margin_pct_1"] == (
            pytest.approx(0.30)
        )


def test_break_even_above_full_pass_through_by_hand(fixture_con):
    # k = 1.5: local prices overshoot the move, so the margin falls as the dollar gains.
    # S* = (k - 1) P0 S0 / (k P0 - C S0) with P0 = 690 / 14, C = 290 / 14:
    #    = 0.5 x 690 x 1.09 / (1.5 x 690 - 290 x 1.09) = 376.05 / 718.9 = 0.52309;
    # at 30 % margin P0 becomes 0.7 P0: 263.235 / (724.5 - 316.1) = 263.235 / 408.4 = 0.64455.
    base = scenario(pass_through={"US": 1.5}, elasticity={"US": -1.5}, target_margin=0.30)
    us = market(pricing.run(fixture_con, base)[0], "US")
    assert us["break_even_rate"] == pytest.approx(376.05 / 718.9)
    assert us["break_even_rate"] == pytest.approx(0.52309, abs=1e-5)
    assert us["break_even_move"] == pytest.approx(S_USD / (376.05 / 718.9) - 1)  # +108.4 %
    assert us["target_rate"] == pytest.approx(263.235 / 408.4)
    at_zero = dataclasses.replace(base, shocks={"USD": S_USD / us["break_even_rate"] - 1})
    assert market(pricing.run(fixture_con, at_zero)[0], "US")["margin_1"] == pytest.approx(
        0, abs=1e-9
    )
    at_target = dataclasses.replace(base, shocks={"USD": S_USD / us["target_rate"] - 1})
    assert market(pricing.run(fixture_con, at_target)[0], "US")["margin_pct_1"] == (
        pytest.approx(0.30)
    )
    # A dollar a little stronger than S* loses money, a little weaker makes some.
    for move, sign in ((1.01, -1), (0.99, 1)):
        shocked = dataclasses.replace(
            base, shocks={"USD": S_USD / us["break_even_rate"] * move - 1}
        )
        assert np.sign(market(pricing.run(fixture_con, shocked)[0], "US")["margin_1"]) == sign
    # Costs above k P0 / S0 (the EUR price the overshoot tends to): no rate breaks even.
    costly = dataclasses.replace(base, cost_change=2.5)  # C1 = 72.5 > 1.5 x 49.29 / 1.09
    assert np.isnan(market(pricing.run(fixture_con, costly)[0], "US")["break_even_rate"])


def test_pass_through_needed_to_hold_the_margin(fixture_con):
    shocked = scenario(shocks={"USD": -0.10})
    assert market(pricing.run(fixture_con, shocked)[0], "US")["pass_through_to_hold"] == (
        pytest.approx(1.0, abs=1e-6)  # no demand response: restore the EUR price exactly
    )
    with_demand = scenario(shocks={"USD": -0.10}, elasticity={"US": -0.5})
    row = market(pricing.run(fixture_con, with_demand)[0], "US")
    k = row["pass_through_to_hold"]
    held = dataclasses.replace(with_demand, pass_through={"US": k})
    assert market(pricing.run(fixture_con, held)[0], "US")["margin_1"] == pytest.approx(
        row["margin_0"], rel=1e-6
    )
    assert np.isnan(market(pricing.run(fixture_con, scenario())[0], "US")["pass_through_to_hold"])


def _plan_2024(con) -> None:
    con.executemany(
        "INSERT INTO plan_rates (year, quarter, currency_code, units_per_eur) VALUES (?, NULL, ?, ?)",
        [(2024, "USD", 1.10), (2024, "GBP", 0.85)],
    )


def test_hedged_margin_against_the_plan_rate_by_hand(fixture_con):
    _plan_2024(fixture_con)
    # USD -10 %: S1 = 1.09 / 0.9 = 1.21111; 60 % of the 690 USD hedged at 1.05, no price
    # response. Revenue 690 x (0.6 / 1.05 + 0.4 / 1.21111) = 690 x 0.901703 = 622.18 EUR,
    # margin 622.18 - 290 = 332.18. At the 2024 plan rate 1.10: 690 / 1.10 - 290 = 337.27, so
    # the FX effect vs plan is 690 x (0.6 (1/1.05 - 1/1.10) + 0.4 (1/1.21111 - 1/1.10)) = -5.10.
    hedged = scenario(shocks={"USD": -0.10}, hedge_ratio={"USD": 0.6}, hedge_rate={"USD": 1.05})
    results, totals = pricing.run(fixture_con, hedged)
    us = market(results, "US")
    s1 = S_USD / 0.9
    assert us["plan_rate"] == 1.10 and us["hedge_rate"] == 1.05 and us["hedge_ratio"] == 0.6
    assert us["revenue_1"] == pytest.approx(690 * (0.6 / 1.05 + 0.4 / s1))
    assert us["revenue_1"] == pytest.approx(622.18, abs=0.01)
    assert us["margin_1"] == pytest.approx(332.18, abs=0.01)
    assert us["margin_plan"] == pytest.approx(690 / 1.10 - 290)
    assert us["fx_vs_plan"] == pytest.approx(-5.10, abs=0.01)
    assert us["fx_vs_plan"] == pytest.approx(
        690 * (0.6 * (1 / 1.05 - 1 / 1.10) + 0.4 * (1 / s1 - 1 / 1.10))
    )
    # GB and DE did not move: at spot GB's margin differs from plan by 440 (1/0.855 - 1/0.85).
    assert market(results, "GB")["fx_vs_plan"] == pytest.approx(440 * (1 / S_GBP - 1 / 0.85))
    assert market(results, "DE")["fx_vs_plan"] == pytest.approx(0)
    assert totals["plan_year"] == 2024 and totals["plan_missing"] == []
    assert totals["fx_vs_plan"] == pytest.approx(results["fx_vs_plan"].sum())

    # Fully hedged at the plan rate (the default hedged rate): the shock cannot touch it.
    at_plan = scenario(shocks={"USD": -0.25}, hedge_ratio={"USD": 1.0})
    us = market(pricing.run(fixture_con, at_plan)[0], "US")
    assert us["hedge_rate"] == 1.10
    assert us["fx_vs_plan"] == pytest.approx(0, abs=1e-9)
    assert us["margin_1"] == pytest.approx(690 / 1.10 - 290)


def test_hedge_needs_a_rate_and_plan_figures_need_plan_rates(fixture_con):
    results, totals = pricing.run(fixture_con, scenario())  # no plan rates stored
    assert totals["plan_missing"] == ["GBP", "USD"] and np.isnan(totals["fx_vs_plan"])
    assert results["margin_1"].notna().all()  # the scenario itself still runs
    with pytest.raises(ValueError, match="No plan rate for USD in 2024 to hedge at"):
        pricing.run(fixture_con, scenario(hedge_ratio={"USD": 0.5}))
    assert "The USD hedge ratio must be between 0 % and 100 %." in (
        scenario(hedge_ratio={"USD": 1.5}).problems()
    )


def test_a_scenario_saved_before_hedges_loads_unhedged():
    saved = scenario(shocks={"USD": -0.1})
    data = json.loads(saved.to_json())
    del data["hedge_ratio"], data["hedge_rate"]
    loaded = pricing.Scenario.from_json(json.dumps(data))
    assert loaded.hedge_ratio == {} and loaded.hedge_rate == {}
    assert loaded == saved


def test_margin_at_risk_on_the_unhedged_share_and_against_plan(fixture_con):
    _plan_2024(fixture_con)
    returns = pricing.log_returns(fixture_con, ["USD", "GBP"], D(2024, 2, 1), 60)
    spots = pricing.spot_rates(fixture_con, ["USD", "GBP", "EUR"])
    open_book = scenario()
    results, _ = pricing.run(fixture_con, open_book)
    unhedged = pricing.margin_at_risk(results, open_book, spots, returns, 20, 5000)
    assert unhedged.var_95 > 0
    # Plan margin: 690 / 1.10 - 290 + 440 / 0.85 - 150 + 100 - 40; shortfall vs plan = plan
    # minus the same 5th percentile.
    plan = 690 / 1.10 - 290 + 440 / 0.85 - 150 + 60
    assert unhedged.plan == pytest.approx(plan)
    assert unhedged.var_95_plan == pytest.approx(plan - np.percentile(unhedged.margins, 5))
    # Everything hedged (no price response): every path gives the scenario's margin.
    closed = scenario(hedge_ratio={"USD": 1.0, "GBP": 1.0})
    results, _ = pricing.run(fixture_con, closed)
    covered = pricing.margin_at_risk(results, closed, spots, returns, 20, 5000)
    assert covered.var_95 == pytest.approx(0, abs=1e-6)
    assert covered.margins == pytest.approx(np.full(5000, plan))
    # Half hedged: half the risk (margins are linear in 1 / S without a price response).
    half = scenario(hedge_ratio={"USD": 0.5, "GBP": 0.5})
    results, _ = pricing.run(fixture_con, half)
    halved = pricing.margin_at_risk(results, half, spots, returns, 20, 5000)
    assert halved.var_95 < unhedged.var_95


def test_reporting_currency_and_its_own_shock(fixture_con):
    in_usd = scenario(currency="USD", shocks={"USD": -0.10})
    results, totals = pricing.run(fixture_con, in_usd)
    de = market(results, "DE")
    assert de["revenue_0"] == pytest.approx(100 * S_USD)
    assert de["revenue_1"] == pytest.approx(100 * S_USD / 0.9)  # EUR sales are worth more USD
    us = market(results, "US")
    assert us["revenue_1"] == pytest.approx(690)  # USD sales in USD, local price unchanged
    assert totals["margin_1"] == pytest.approx(results["margin_1"].sum())


def test_bad_inputs_are_explained():
    problems = scenario(countries=(), shocks={"USD": -1.0}, pass_through={"US": 3.0}).problems()
    text = " ".join(problems)
    assert "Select at least one market" in text
    assert "USD shock of -100%" in text
    assert "Pass-through for US" in text
    assert scenario(elasticity={"US": 0.5}).problems()[0].startswith("Elasticity for US")
    with pytest.raises(ValueError, match="Select at least one market"):
        pricing.run(None, scenario(countries=()))


def test_nothing_sold_is_a_clear_message(fixture_con):
    empty = scenario(baseline_start=D(2023, 1, 1), baseline_end=D(2023, 1, 31))
    with pytest.raises(ValueError, match="sold nothing"):
        pricing.run(fixture_con, empty)


def test_spot_rate_says_where_it_came_from(fixture_con):
    spots = pricing.spot_rates(fixture_con, ["USD", "EUR"])
    assert spots["USD"].rate == S_USD and spots["USD"].date == D(2024, 2, 1)
    assert spots["USD"].label == "stored ECB history of 01 Feb 2024"
    fx.insert_rates(fixture_con, [(D(2024, 2, 2), "USD", 1.07)], fx.LIVE_SOURCE)
    assert pricing.spot_rates(fixture_con, ["USD"])["USD"].label == "live fetch of 02 Feb 2024"
    with pytest.raises(fx.RateUnavailable, match="XYZ"):
        pricing.spot_rates(fixture_con, ["XYZ"])


def test_episode_replays_the_stored_history(fixture_con):
    shocks = pricing.episode_shocks(
        fixture_con, ["USD", "GBP", "EUR"], D(2024, 1, 4), D(2024, 1, 9)
    )
    assert shocks["USD"] == pytest.approx(1.08 / 1.00 - 1)
    assert shocks["GBP"] == pytest.approx(0.85 / 0.80 - 1)
    assert shocks["EUR"] == 0


# --- price corridor -------------------------------------------------------------------------


def test_corridor_flags_and_the_corridor_that_removes_them(fixture_con):
    fixture_con.execute(
        "INSERT INTO price_list VALUES ('P1', 'DE', DATE '2024-01-01', 'EUR', 100, NULL), "
        "('P1', 'US', DATE '2024-01-01', 'USD', 130.8, NULL), "  # 120 EUR at 1.09
        "('P1', 'GB', DATE '2024-01-01', 'GBP', 85.5, NULL), "  # 100 EUR at 0.855
        "('P1', 'GB', DATE '2023-01-01', 'GBP', 50, DATE '2023-12-31')"  # no longer valid
    )
    prices = pricing.list_prices(fixture_con, "P1", D(2024, 2, 1))
    spots = pricing.spot_rates(fixture_con, ["EUR", "USD", "GBP"])
    frame, flags, (low, high) = pricing.price_corridor(prices, spots, "EUR", 0.15)
    assert frame.set_index("country_code")["price"].to_dict() == pytest.approx(
        {"DE": 100.0, "GB": 100.0, "US": 120.0}
    )
    assert list(flags["gap"]) == pytest.approx([0.20, 0.20])
    assert {frozenset(p) for p in zip(flags["country_a"], flags["country_b"], strict=True)} == {
        frozenset({"Germany", "United States"}),
        frozenset({"United Kingdom", "United States"}),
    }
    assert (low, high) == (pytest.approx(100 / 1.15**0.5), pytest.approx(100 * 1.15**0.5))
    us = frame.set_index("country_code").loc["US"]
    assert us["corridor_price"] == pytest.approx(high)
    assert us["corridor_price_local"] == pytest.approx(130.8 * high / 120)
    # Moved into the corridor, no pair is flagged any more.
    moved = prices.assign(list_price_local=frame["corridor_price_local"].to_numpy())
    assert pricing.price_corridor(moved, spots, "EUR", 0.15)[1].empty
    with pytest.raises(ValueError, match="threshold"):
        pricing.price_corridor(prices, spots, "EUR", 0)


# --- margin at risk -------------------------------------------------------------------------


def test_volatility_is_the_sample_std_of_log_returns(fixture_con):
    returns = pricing.log_returns(fixture_con, ["USD", "GBP"], D(2024, 2, 1), 60)
    usd = [1.105, 1.08, 1.10, 1.20, 1.00, 1.09]
    expected = np.std(np.diff(np.log(usd)), ddof=1)
    assert pricing.volatility(returns)["USD"] == pytest.approx(expected)
    assert list(returns.columns) == ["GBP", "USD"]


def test_monte_carlo_with_zero_volatility_is_the_scenario(fixture_con):
    chosen = scenario(shocks={"USD": -0.1}, pass_through={"US": 0.5}, elasticity={"US": -1.0})
    results, _ = pricing.run(fixture_con, chosen)
    spots = pricing.spot_rates(fixture_con, ["USD", "GBP", "EUR"])
    flat = pd.DataFrame({"GBP": [0.0] * 30, "USD": [0.0] * 30})
    mar = pricing.margin_at_risk(results, chosen, spots, flat, horizon_days=20, paths=500)
    assert mar.margins == pytest.approx(np.full(500, results["margin_1"].sum()))
    assert mar.var_95 == pytest.approx(0, abs=1e-6) and mar.es_95 == pytest.approx(0, abs=1e-6)


def test_horizon_rates_of_one_currency_are_the_lognormal_of_sqrt_h_sigma():
    """Daily log-returns +1 %, -1 %, ... (100 days): mean 0, sample sd 0.01 x sqrt(100 / 99).
    After h days the log-change is N(0, h sigma^2), so the multiplier's q-quantile is
    exp(z_q sigma sqrt(h)); the sample quantile of N draws is off by at most a few standard
    errors, sd = sqrt(q (1 - q) / N) / density at the quantile (here in log terms)."""
    returns = pd.DataFrame({"USD": [0.01, -0.01] * 50})
    sigma = 0.01 * np.sqrt(100 / 99)
    days, paths = 90, 100_000
    multipliers = pricing.horizon_multipliers(returns, days, paths, seed=3)
    assert multipliers.shape == (paths, 1)
    logs = np.log(multipliers[:, 0])
    spread = sigma * np.sqrt(days)
    for q in (0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99):
        z = NormalDist().inv_cdf(q)
        density = NormalDist(0, spread).pdf(z * spread)
        error = np.sqrt(q * (1 - q) / paths) / density
        assert abs(np.quantile(logs, q) - z * spread) < 5 * error, q
    # The fan's exact band on the horizon day is the same quantile (spot 1.09, no shock).
    spots = {"USD": pricing.Spot(S_USD, None, "test"), "EUR": pricing.Spot(1.0, None, "EUR")}
    fan = pricing._fan(returns, scenario(), spots, days)
    last = fan[fan["day"] == days].iloc[0]
    assert last["p95"] == pytest.approx(S_USD * np.exp(NormalDist().inv_cdf(0.95) * spread))
    assert last["p95"] == pytest.approx(S_USD * np.quantile(multipliers, 0.95), rel=0.01)


def test_horizon_rates_of_two_currencies_have_h_times_the_daily_covariance():
    """Two correlated currencies (300 days drawn once: sd 0.6 % and 1 %, correlation 0.7):
    the log multipliers' sample covariance is h x the history's (np.cov), entry by entry within
    five standard errors of a sample covariance, sqrt((S_ii S_jj + S_ij^2) / N) with S = h Sigma."""
    history = np.random.default_rng(11).multivariate_normal(
        [0, 0], [[0.006**2, 0.7 * 0.006 * 0.01], [0.7 * 0.006 * 0.01, 0.01**2]], 300
    )
    returns = pd.DataFrame(history, columns=["GBP", "USD"])
    days, paths = 60, 100_000
    logs = np.log(pricing.horizon_multipliers(returns, days, paths, seed=5))
    target = days * np.cov(history, rowvar=False, ddof=1)
    sample = np.cov(logs, rowvar=False, ddof=1)
    error = np.sqrt((np.outer(np.diag(target), np.diag(target)) + target**2) / paths)
    assert (np.abs(sample - target) < 5 * error).all()
    assert target[0, 1] > 20 * error[0, 1]  # the correlation is there to be found
    assert np.abs(logs.mean(axis=0)).max() < 5 * np.sqrt(np.diag(target) / paths).max()


def test_monte_carlo_is_reproducible_for_a_seed(fixture_con):
    returns = pricing.log_returns(fixture_con, ["USD", "GBP"], D(2024, 2, 1), 60)
    first = pricing.horizon_multipliers(returns, 10, paths=5_000, seed=7)
    assert np.array_equal(first, pricing.horizon_multipliers(returns, 10, paths=5_000, seed=7))
    assert not np.array_equal(first, pricing.horizon_multipliers(returns, 10, 5_000, seed=8))
    chosen = scenario(shocks={"USD": -0.1})
    results, _ = pricing.run(fixture_con, chosen)
    spots = pricing.spot_rates(fixture_con, ["USD", "GBP", "EUR"])
    runs = [pricing.margin_at_risk(results, chosen, spots, returns, 10, 5_000, 7) for _ in "ab"]
    assert np.array_equal(runs[0].margins, runs[1].margins)
    assert runs[0].var_95 == runs[1].var_95 and runs[0].es_95 == runs[1].es_95


def test_margin_at_risk_values_each_path_at_its_horizon_rate(fixture_con):
    """US only, no price response, nothing hedged: a path's margin is 690 USD at the path's
    rate, S_USD / 0.9 x its multiplier, less 290 EUR; VaR and ES by their definitions."""
    returns = pricing.log_returns(fixture_con, ["USD", "GBP"], D(2024, 2, 1), 60)
    chosen = scenario(countries=("US",), shocks={"USD": -0.1})
    results, _ = pricing.run(fixture_con, chosen)
    spots = pricing.spot_rates(fixture_con, ["USD", "EUR"])
    usd = returns[["USD"]]
    mar = pricing.margin_at_risk(results, chosen, spots, usd, 20, 4_000, seed=2)
    rates = S_USD / 0.9 * pricing.horizon_multipliers(usd, 20, 4_000, seed=2)[:, 0]
    by_hand = 690 / rates - 290
    assert mar.margins == pytest.approx(by_hand, rel=1e-12)
    assert mar.expected == pytest.approx(690 / (S_USD / 0.9) - 290)
    cutoff = np.percentile(by_hand, 5)
    assert mar.var_95 == pytest.approx(mar.expected - cutoff)
    assert mar.es_95 == pytest.approx(mar.expected - by_hand[by_hand <= cutoff].mean())
    assert mar.es_95 >= mar.var_95 > 0
    assert set(mar.fan["currency_code"]) == {"USD"}


def test_margin_at_risk_memory_does_not_grow_with_the_horizon(fixture_con):
    """Only the horizon's rates are drawn: at 40,000 paths x 250 days x 2 currencies a copy
    of every day's rates would be 80 MB in float32; the run holds a few arrays of one value
    per path and currency (640 KB each)."""
    import tracemalloc

    returns = pricing.log_returns(fixture_con, ["USD", "GBP"], D(2024, 2, 1), 60)
    chosen = scenario(shocks={"USD": -0.05})
    results, _ = pricing.run(fixture_con, chosen)
    spots = pricing.spot_rates(fixture_con, ["USD", "GBP", "EUR"])
    paths, days = 40_000, 250
    tracemalloc.start()
    mar = pricing.margin_at_risk(results, chosen, spots, returns, days, paths, seed=2)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 10 * paths * 2 * 8  # 6.4 MB
    assert len(mar.margins) == paths


# --- saved scenarios ------------------------------------------------------------------------


def test_save_reload_and_delete(tmp_path):
    con = state.connect(tmp_path / "state.sqlite")
    chosen = scenario(shocks={"USD": -0.1}, episode=(D(2024, 1, 4), D(2024, 1, 9)))
    scenario_id = pricing.save_scenario(con, "  Dollar down  ", chosen, "ana@example.com")
    assert pricing.load_scenario(con, scenario_id) == chosen
    saved = pricing.saved_scenarios(con)
    assert list(saved["name"]) == ["Dollar down"] and list(saved["created_by"]) == [
        "ana@example.com"
    ]
    # Saving under the same name replaces it.
    again = pricing.save_scenario(con, "Dollar down", scenario(), "bo@example.com")
    assert again == scenario_id and len(pricing.saved_scenarios(con)) == 1
    pricing.delete_scenario(con, scenario_id, "bo@example.com")
    assert pricing.saved_scenarios(con).empty
    with pytest.raises(KeyError, match="deleted"):
        pricing.load_scenario(con, scenario_id)
    with pytest.raises(ValueError, match="name"):
        pricing.save_scenario(con, "   ", chosen, "ana@example.com")
    # Every change is in the audit log, with who made it, newest first.
    log = state.audit_log(con)
    assert list(zip(log["email"], log["action"], log["detail"], strict=True)) == [
        ("bo@example.com", "scenario delete", "Dollar down"),
        ("bo@example.com", "scenario save", "Dollar down"),
        ("ana@example.com", "scenario save", "Dollar down"),
    ]
