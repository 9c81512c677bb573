"""Access: the access file's checks, and a user's reach enforced on the cursor whatever the
filters ask for (figures by hand on the tiny fixture store; no out-of-scope row on the demo)."""

from __future__ import annotations

import dataclasses
import datetime as dt

import duckdb
import pandas as pd
import pytest

from analytics import access, catalog, overview, periods, pricing, quality, review, rollups
from analytics.__main__ import main
from analytics.crm import attainment, deals
from analytics.crm.scope import Scope
from analytics.filters import Filters

D = dt.date
REGIONS = {"Western Europe", "Americas", "Northern Europe"}
COUNTRIES = {"DE", "CH", "US", "GB"}

GOOD = """
[identity]
source = "header"
header = "X-Forwarded-Email"

[[users]]
email = "Anna@Example.com"
role = "viewer"
regions = ["Western Europe"]

[[users]]
email = "bo@example.com"
role = "analyst"
countries = ["de", "GB"]

[[users]]
email = "cy@example.com"
role = "admin"

[[users]]
email = "dee@example.com"
role = "viewer"
regions = ["Americas"]
rep = "R1"
"""
REPS = {"R1", "R2"}


def test_a_good_file_lists_users_with_roles_and_reach():
    listed = access.parse(GOOD, REGIONS, COUNTRIES, "access", REPS)
    assert (listed.source, listed.header) == ("header", "X-Forwarded-Email")
    anna = listed.user("anna@EXAMPLE.com")
    assert anna == access.User("anna@example.com", "viewer", access.Reach(("Western Europe",)))
    assert listed.user("bo@example.com").reach == access.Reach((), ("DE", "GB"))
    assert listed.user("cy@example.com").reach.everything
    dee = listed.user("dee@example.com").reach
    assert dee == access.Reach(("Americas",), (), "R1") and not dee.everything
    assert dee.describe() == "Americas; own deals and quota only (rep R1)"
    assert listed.user("nobody@example.com") is None and listed.user(None) is None
    with pytest.raises(access.UnknownUser, match=r"nobody@example\.com"):
        listed.require("nobody@example.com")


def test_rights_follow_the_role_ladder():
    viewer, analyst, admin = (access.User("x@y.z", role) for role in access.ROLES)
    assert viewer.can("read") and not viewer.can("save_scenarios") and not viewer.can("import")
    assert analyst.can("save_scenarios") and not analyst.can("import")
    assert not analyst.can("fetch_rates") and not analyst.can("audit")
    assert all(admin.can(right) for right in access.RIGHTS)


@pytest.mark.parametrize(
    "change, message",
    [
        (('role = "viewer"', 'role = "boss"'), "unknown role 'boss'"),
        (('regions = ["Western Europe"]', 'regions = ["Westeros"]'), "unknown region.*Westeros"),
        (('countries = ["de", "GB"]', 'countries = ["DE", "XX"]'), "unknown country.*XX"),
        (('source = "header"', 'source = "ldap"'), 'source must be "header" or "oidc"'),
        (('email = "bo@example.com"', 'email = "anna@example.com"'), "listed twice"),
        (('regions = ["Western Europe"]', 'regions = "Western Europe"'), "must be a list"),
        (('role = "admin"', 'role = "admin"\nteam = "x"'), "unknown key.*team"),
        (("[[users]]", "[[users"), "not valid TOML"),
        (('rep = "R1"', 'rep = "R9"'), "rep 'R9' is not a rep_id of the store's reps table"),
        (('rep = "R1"', "rep = 1"), "rep 1 is not a rep_id"),
    ],
)
def test_a_bad_file_is_refused_with_the_reason(change, message):
    with pytest.raises(access.AccessFileError, match=message):
        access.parse(GOOD.replace(*change, 1), REGIONS, COUNTRIES, "access", REPS)


def test_reach_key_round_trips():
    for reach in (
        access.Reach(),
        access.Reach(("A", "B"), ("DE",)),
        access.Reach((), ("US",)),
        access.Reach((), (), "R0012"),
        access.Reach(("A",), (), "R1"),
    ):
        assert access.Reach.from_key(reach.key()) == reach


JANUARY = periods.Period(D(2024, 1, 1), D(2024, 1, 31), "Jan 2024")
DECEMBER = periods.Period(D(2023, 12, 1), D(2023, 12, 31), "Dec 2023")


def _revenue_by_country(cur, **chosen) -> dict[str, float]:
    filters = Filters(period=JANUARY, comparison=DECEMBER, **chosen)
    frame = overview.revenue_by_country(cur, filters)
    return dict(zip(frame["country_code"], frame["revenue"], strict=True))


@pytest.fixture
def scoped(fixture_con):
    def restricted(reach: access.Reach) -> duckdb.DuckDBPyConnection:
        cur = fixture_con.cursor()
        access.restrict(cur, reach)
        return cur

    return restricted


def test_the_reach_intersects_every_filter(fixture_con, scoped):
    # January by hand: DE 100 EUR (O4); GB 200/0.86 + 240/0.80; US 450/1.08 + 240/1.20.
    gb, us = 200 / 0.86 + 240 / 0.80, 450 / 1.08 + 240 / 1.20
    assert _revenue_by_country(fixture_con) == pytest.approx({"US": us, "GB": gb, "DE": 100.0})
    western = scoped(access.Reach(("Western Europe",)))
    assert _revenue_by_country(western) == pytest.approx({"DE": 100.0})
    # Filters asking for more, or for other places, never widen the reach.
    assert _revenue_by_country(western, regions=("Americas", "Western Europe")) == pytest.approx(
        {"DE": 100.0}
    )
    assert _revenue_by_country(western, countries=("US",)) == {}
    assert _revenue_by_country(western, regions=("Americas",)) == {}
    # Regions and countries together: the union of the two.
    both = scoped(access.Reach(("Western Europe",), ("GB",)))
    assert _revenue_by_country(both) == pytest.approx({"GB": gb, "DE": 100.0})
    assert _revenue_by_country(both, countries=("GB", "US")) == pytest.approx({"GB": gb})
    # The store's own description follows: the catalog offers only what the reach holds.
    assert [c for c, _, _ in catalog.load(both).countries] == ["DE", "GB"]
    assert catalog.load(both).regions == ("Northern Europe", "Western Europe")
    # Another cursor on the same connection is not restricted.
    assert len(_revenue_by_country(fixture_con.cursor())) == 3


def test_everything_leaves_the_cursor_as_it_was(fixture_con, scoped):
    assert _revenue_by_country(scoped(access.Reach())) == _revenue_by_country(fixture_con)


# Two reps on the tiny store: R1 Ann (Americas) books every line but O2 and O5 (GB), which
# are R2 Bob's (Northern Europe), as is a 100 EUR line on 29 Dec 2023. Quotas for Q1 2024: R1 1000, R2 2000 EUR. Deals: D1 (R1,
# US, open, 1090 USD, due March), D2 (R2, GB, open, 855 GBP, due March), D3 (R2, GB, won
# 9 Jan, 400 GBP). Activities: A1 R1 at C1, A2 R2 at C2.
Q1 = periods.Period(D(2024, 1, 1), D(2024, 3, 31), "Q1 2024")
R1_BOOKED = 450 / 1.08 + 300 / 1.20 - 60 / 1.20 + 100 + 109 / 1.09  # O1, O3/1, O3/2, O4, O6
R2_BOOKED = 200 / 0.86 + 240 / 0.80  # O2, O5


@pytest.fixture
def reps_con(fixture_con):
    c = fixture_con
    c.executemany(
        "INSERT INTO reps VALUES (?, ?, 'North', ?, NULL)",
        [("R1", "Ann", "Americas"), ("R2", "Bob", "Northern Europe")],
    )
    c.execute("UPDATE order_lines SET rep_id = 'R2' WHERE order_id IN ('O2', 'O5')")
    # A base quarter for the review: Bob's 100 EUR line on 29 Dec 2023.
    c.execute(
        "INSERT INTO order_lines VALUES ('O0', 1, DATE '2023-12-29', 'C3', 'P2', 'R2', 'DE', "
        "'web', 'EUR', 4, 25, 0, 100, 100, 10)"
    )
    rollups.rebuild_sales_rollups(c)
    c.executemany(
        "INSERT INTO quotas VALUES (?, DATE '2024-01-01', ?)", [("R1", 1000), ("R2", 2000)]
    )
    c.executemany(
        "INSERT INTO opportunities VALUES (?, ?, ?, ?, ?, ?, ?, ?, DATE '2023-12-01', ?, ?)",
        [
            ("D1", "C1", "R1", "US", "USD", 1090.0, "Proposal", "commit", D(2024, 3, 15), "open"),
            ("D2", "C2", "R2", "GB", "GBP", 855.0, "Proposal", "best case", D(2024, 3, 20), "open"),
            ("D3", "C2", "R2", "GB", "GBP", 400.0, "Closed", "commit", D(2024, 1, 9), "won"),
        ],
    )
    c.executemany(
        "INSERT INTO opportunity_snapshots VALUES (DATE '2024-01-05', ?, 'Proposal', ?, ?, ?)",
        [("D1", 1090.0, D(2024, 3, 15), "commit"), ("D2", 855.0, D(2024, 3, 20), "best case")],
    )
    c.executemany(
        "INSERT INTO activities VALUES (?, ?, ?, DATE '2024-01-10', 'call')",
        [("A1", "R1", "C1"), ("A2", "R2", "C2")],
    )
    return c


def test_a_rep_sees_only_their_own_quota_deals_and_activities(reps_con, scoped):
    everyone = attainment.attainment(reps_con, Q1, Scope(), basis="reported")
    assert dict(zip(everyone["rep_id"], everyone["attainment"], strict=True)) == pytest.approx(
        {"R1": R1_BOOKED / 1000, "R2": R2_BOOKED / 2000}
    )
    bob = scoped(access.Reach((), (), "R2"))
    board = attainment.attainment_view(bob, Q1, Scope(), basis="reported")
    mine = board["leaderboard"]
    assert mine["rep_id"].tolist() == ["R2"] and mine["name"].tolist() == ["Bob"]
    assert mine["quota_eur"].tolist() == [2000.0]
    assert mine["attainment"].tolist() == pytest.approx([R2_BOOKED / 2000])
    # The "team" totals are his own: no colleague's quota can be worked out from them.
    assert board["total"]["quota_eur"] == 2000.0 and board["total"]["reps"] == 1
    assert attainment.rollup(mine, "team")["quota_eur"].tolist() == [2000.0]
    # Crafted: a scope naming Ann's region finds nothing of hers.
    assert attainment.attainment(bob, Q1, Scope(regions=("Americas",)), "reported").empty
    for table, column in (
        ("reps", "rep_id"),
        ("quotas", "rep_id"),
        ("opportunities", "rep_id"),
        ("activities", "rep_id"),
    ):
        assert {r for (r,) in bob.execute(f"SELECT DISTINCT {column} FROM {table}").fetchall()} == {
            "R2"
        }, table
    snapshots = bob.execute("SELECT opportunity_id FROM opportunity_snapshots").fetchall()
    assert snapshots == [("D2",)]
    # Activity vs impact per rep: his row only, not Ann's revenue under a missing name.
    from analytics.crm import activity

    assert activity.activity_impact(reps_con, Q1, Scope(), "rep")["key"].tolist() == ["R1", "R2"]
    impact = activity.activity_impact(bob, Q1, Scope(), "rep")
    assert impact[["key", "name", "activities"]].values.tolist() == [["R2", "Bob", 1]]
    assert impact["revenue"].tolist() == pytest.approx([R2_BOOKED])
    # Sales are not a colleague's secret: the rep sees every line of his reach (everything).
    assert _revenue_by_country(bob) == _revenue_by_country(reps_con)
    assert access.own_rep(bob) == ("R2", "Bob") and access.own_rep(reps_con) is None


def test_a_reps_pipeline_and_review_are_their_own(reps_con, scoped):
    bob = scoped(access.Reach((), (), "R2"))
    everything = deals.pipeline_view(reps_con, Scope())
    own = deals.pipeline_view(bob, Scope())
    for name, frame in own.items():
        if isinstance(frame, pd.DataFrame) and "rep_id" in frame.columns:
            assert set(frame["rep_id"]) <= {"R2"}, name
    assert everything.keys() == own.keys()
    # Bob's quarter: 855 GBP open (D2) against his own 2000 EUR quota, 400 GBP won.
    from analytics.crm import pipeline

    rolled = pipeline.rollup(bob, Q1, D(2024, 1, 5), Scope())
    assert rolled["deals"] == 1
    assert rolled["quota"] == pytest.approx(2000.0)
    filters = Filters(period=Q1, comparison=Q1)
    built = review.build(bob, Q1, "prior_quarter", filters)
    assert built.headline["quota_holder"] == "Bob (R2)"
    assert built.headline["quota_eur"] == pytest.approx(2000.0)
    assert built.headline["booked_eur"] == pytest.approx(R2_BOOKED)
    assert review.build(reps_con, Q1, "prior_quarter", filters).headline["quota_holder"] is None


def test_a_rep_with_a_region_sees_their_own_deals_there_only(reps_con, scoped):
    ann = scoped(access.Reach(("Americas",), (), "R1"))
    assert set(_revenue_by_country(ann)) == {"US"}
    assert ann.execute("SELECT opportunity_id FROM opportunities").fetchall() == [("D1",)]
    assert ann.execute("SELECT rep_id, quota_eur FROM quotas").fetchall() == [("R1", 1000.0)]
    # Bob outside his region still sees himself, but none of his (GB) deals.
    bob = scoped(access.Reach(("Americas",), (), "R2"))
    assert bob.execute("SELECT rep_id FROM reps").fetchall() == [("R2",)]
    assert bob.execute("SELECT count(*) FROM opportunities").fetchall() == [(0,)]


WESTERN = access.Reach(("Western Europe",))


@pytest.fixture(scope="module")
def demo_western(demo_db_path):
    con = duckdb.connect(str(demo_db_path), read_only=True)
    inside = {
        r[0]
        for r in con.execute(
            "SELECT country_code FROM countries WHERE region = 'Western Europe'"
        ).fetchall()
    }
    cur = con.cursor()
    access.restrict(cur, WESTERN)
    yield cur, inside
    con.close()


def test_no_table_holds_a_row_outside_the_reach(demo_western):
    cur, inside = demo_western
    for table in (
        "order_lines",
        "sales_daily",
        "orders_daily",
        "opportunities",
        "customers",
        "account_monthly_reported",  # the summary currencies' rows: a reach's countries only
        "item_monthly_reported",
        "sales_monthly_reported",
        "orders_monthly",
    ):
        seen = {r[0] for r in cur.execute(f"SELECT DISTINCT country_code FROM {table}").fetchall()}
        assert seen and seen <= inside, table
    assert {r[0] for r in cur.execute("SELECT DISTINCT region FROM reps").fetchall()} == {
        "Western Europe"
    }
    outside = cur.execute(
        "SELECT count(*) FROM quotas WHERE rep_id NOT IN (SELECT rep_id FROM reps)"
    ).fetchall()
    assert outside == [(0,)]


def test_page_entry_points_find_nothing_outside_the_reach(demo_western):
    cur, inside = demo_western
    store = catalog.load(cur)
    quarter = max(periods.full_quarters(store.first_date, store.last_date), key=lambda q: q.start)
    filters = Filters(period=quarter, comparison=quarter, regions=("Americas",))
    assert overview.revenue_by_country(cur, filters).empty  # a crafted filter: nothing
    filters = Filters(period=quarter, comparison=quarter)
    assert set(overview.revenue_by_country(cur, filters)["country_code"]) <= inside
    everyone = Scope()
    reps = attainment.attainment_view(cur, quarter, everyone)
    rep_ids = {r[0] for r in cur.execute("SELECT rep_id FROM reps").fetchall()}
    for frame in reps.values():
        if hasattr(frame, "columns") and "rep_id" in frame.columns:
            assert set(frame["rep_id"]) <= rep_ids
    pipeline = deals.pipeline_view(cur, everyone)
    for frame in pipeline.values():
        if hasattr(frame, "columns") and "country_code" in frame.columns:
            assert set(frame["country_code"]) <= inside
    scenario = pricing.Scenario(
        countries=("DE", "US", "JP"), baseline_start=quarter.start, baseline_end=quarter.end
    )
    results, _ = pricing.run(cur, scenario)
    assert set(results["country_code"]) == {"DE"}
    assert (
        quality.coverage(cur)["lines"]
        == cur.execute("SELECT count(*) FROM order_lines").fetchall()[0][0]
    )
    # The monthly summaries behind top accounts and the bridge are restricted like the lines.
    from analytics import markets

    top = markets.top_accounts(cur, filters, 1000)
    customers = cur.execute(
        "SELECT customer_id FROM main.customers WHERE list_contains(?, country_code)",
        [sorted(inside)],
    ).fetchall()
    assert not top.empty and set(top["customer_id"]) <= {c for (c,) in customers}
    months = cur.execute("SELECT DISTINCT country_code FROM item_monthly").fetchall()
    assert {c for (c,) in months} <= inside
    built = review.build(cur, quarter, "last_year", filters)
    frames = [v for v in vars(built).values() if isinstance(v, pd.DataFrame)]
    assert frames
    for frame in frames:
        if "country_code" in frame.columns:
            assert set(frame["country_code"]) <= inside
        if "region" in frame.columns:
            assert set(frame["region"]) <= {"Western Europe", "Total", review.TOTAL}


def test_report_is_built_within_the_users_scope(demo_db_path, tmp_path, monkeypatch):
    with duckdb.connect(str(demo_db_path), read_only=True) as con:
        store = catalog.load(con)
    quarter = max(periods.full_quarters(store.first_date, store.last_date), key=lambda q: q.start)
    key = f"{quarter.start.year}-Q{(quarter.start.month + 2) // 3}"
    access_file = tmp_path / "access.toml"
    access_file.write_text(
        '[identity]\nsource = "header"\n\n[[users]]\nemail = "we@example.com"\n'
        'role = "viewer"\nregions = ["Western Europe"]\n'
    )
    monkeypatch.setenv(access.ENV_VAR, str(access_file))
    monkeypatch.setenv("SALES_ATLAS_STATE", str(tmp_path / "state.sqlite"))

    def report(*user):
        out = tmp_path / "review.html"
        args = ["report", "--db", str(demo_db_path), "--quarter", key, "--compare"]
        args += ["prior_year", "--format", "html", "--out", str(out), *user]
        return main(args), out

    assert report("--user", "nobody@example.com")[0] == 2
    assert report()[0] == 2  # with an access file, --user is required
    status, out = report("--user", "we@example.com")
    assert status == 0
    text = out.read_text(encoding="utf-8")
    assert "Western Europe" in text
    for region in ("Americas", "Asia Pacific", "Middle East", "Northern Europe"):
        assert region not in text, region


# --- every entry point a page, export or CLI uses, swept for anything outside the reach ---

ME = "R0005"  # a Western Europe rep with a quota in the demo store


def _everything_in(value, seen=None):
    """Every DataFrame and string inside a result (dicts, dataclasses, lists, tuples); not
    the filters a result carries back, which are the caller's own (crafted) request."""
    seen = set() if seen is None else seen
    if id(value) in seen or isinstance(value, Filters | Scope):
        return
    seen.add(id(value))
    if isinstance(value, pd.DataFrame):
        yield value
    elif isinstance(value, pd.Series):
        yield value.to_frame()
    elif isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _everything_in(key, seen)
            yield from _everything_in(item, seen)
    elif isinstance(value, list | tuple | set):
        for item in value:
            yield from _everything_in(item, seen)
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for field in dataclasses.fields(value):
            yield from _everything_in(getattr(value, field.name), seen)


def _entry_points(cur, rep_id: str):
    """(name, result) of every analytics call the pages, exports and CLI make, on `cur`, with
    filters and arguments that ask for more than the reach (crafted links do the same)."""
    from analytics import markets
    from analytics.crm import activity, changes, forecast, rep
    from analytics.crm import scope as crm_scope
    from analytics.forecast import batch, landing, projection
    from analytics.forecast import figures as fc_figures

    store = catalog.load(cur)
    quarter = max(periods.full_quarters(store.first_date, store.last_date), key=lambda q: q.start)
    previous = periods.quarter(periods.add_months(quarter.start, -3))
    wide = Filters(period=quarter, comparison=previous)
    crafted = Filters(
        period=quarter,
        comparison=previous,
        regions=("Americas", "Western Europe"),
        countries=("US", "DE", "JP"),
    )
    every_code = [c for (c,) in cur.execute("SELECT country_code FROM main.countries").fetchall()]
    calls = {}
    for label, filters in (("wide", wide), ("crafted", crafted)):
        calls[f"overview.kpis {label}"] = lambda f=filters: overview.kpis(cur, f)
        calls[f"overview.monthly {label}"] = lambda f=filters: overview.monthly_revenue_by_region(
            cur, f
        )
        calls[f"overview.countries {label}"] = lambda f=filters: overview.revenue_by_country(cur, f)
        calls[f"markets.scorecards {label}"] = lambda f=filters: markets.scorecards(cur, f)
        calls[f"markets.mix {label}"] = lambda f=filters: [
            markets.mix(cur, f, by) for by in ("region", "country")
        ]
        calls[f"markets.top_accounts {label}"] = lambda f=filters: markets.top_accounts(
            cur, f, 1000
        )
        calls[f"markets.global_accounts {label}"] = lambda f=filters: markets.global_accounts(
            cur, f
        )
        calls[f"markets.products_sold {label}"] = lambda f=filters: markets.products_sold(cur, f)
        calls[f"review.build {label}"] = lambda f=filters: review.build(
            cur, quarter, "last_year", f
        )
        scope = Scope.from_filters(filters)
        calls[f"crm.reps {label}"] = lambda s=scope: crm_scope.reps(cur, s)
        calls[f"crm.attainment {label}"] = lambda s=scope: attainment.attainment_view(
            cur, quarter, s
        )
        calls[f"crm.pipeline {label}"] = lambda s=scope: deals.pipeline_view(cur, s)
        calls[f"crm.activity {label}"] = lambda s=scope: [
            activity.activity_impact(cur, quarter, s, by) for by in ("rep", "account")
        ]
    sold = markets.products_sold(cur, wide)
    product = sold["product_id"].iloc[0]
    calls["markets.price_position"] = lambda: markets.price_position(cur, wide, product)
    scenario = pricing.Scenario(
        countries=tuple(every_code), baseline_start=quarter.start, baseline_end=quarter.end
    )
    results, _ = pricing.run(cur, scenario)
    currencies = sorted(set(results["currency_code"]) | {"EUR"})
    spots = pricing.spot_rates(cur, currencies)
    returns = pricing.log_returns(cur, currencies, store.last_date, 250)
    prices = pricing.list_prices(cur, product, store.last_date)
    calls["pricing.run"] = lambda: results
    calls["pricing.products"] = lambda: pricing.products(cur)
    calls["pricing.list_prices"] = lambda: prices
    calls["pricing.price_corridor"] = lambda: pricing.price_corridor(prices, spots, "EUR")
    calls["pricing.margin_at_risk"] = lambda: pricing.margin_at_risk(
        results, scenario, spots, returns, 90, 500
    )
    calls["quality"] = lambda: [
        quality.coverage(cur),
        quality.orphans(cur),
        quality.unconverted_lines(cur),
    ]
    in_progress = crm_scope.quarter_in_progress(cur)
    snapshots = crm_scope.snapshot_dates(cur)
    calls["crm.forecast_view"] = lambda: forecast.forecast_view(cur, in_progress, Scope())
    calls["crm.pipeline_changes"] = lambda: changes.pipeline_changes(
        cur, snapshots[-5], snapshots[-1], in_progress, Scope()
    )
    # The Rep view asked for every rep of the store, as a crafted t_rep link would.
    every_rep = [r for (r,) in cur.execute("SELECT rep_id FROM main.reps").fetchall()]
    calls["crm.rep_view"] = lambda: [rep.rep_view(cur, in_progress, Scope(), r) for r in every_rep]
    calls["forecast.projection"] = lambda: projection.project(cur, snapshots[-1], Scope())
    forecasts = batch.forecast_store(
        cur, store.last_date, levels=("total", "region", "country"), repetitions=50
    )
    calls["forecast.store"] = lambda: [(s.history.level, s.history.group) for s in forecasts.series]
    calls["forecast.landing"] = lambda: [
        landing.year_end_landing(cur, forecasts, level) for level in ("region", "country")
    ]
    calls["forecast.track_record"] = lambda: fc_figures.track_record(
        forecasts.series[-1], 6, fc_figures.shown_in(cur, "EUR", store.last_date)
    )
    return {name: call() for name, call in calls.items()}


@pytest.mark.parametrize("rep_id", [None, ME], ids=["regional viewer", "rep"])
def test_every_entry_point_finds_nothing_outside_the_reach(demo_db_path, rep_id):
    con = duckdb.connect(str(demo_db_path), read_only=True)
    try:
        cur = con.cursor()
        access.restrict(cur, access.Reach(("Western Europe",), (), rep_id))
        countries = con.execute("SELECT country_code, name, region FROM countries").fetchall()
        inside = {c for c, _, r in countries if r == "Western Europe"}
        customers = con.execute("SELECT customer_id, name, country_code FROM customers").fetchall()
        reps = con.execute("SELECT rep_id, name, region FROM reps").fetchall()
        held = {r for r, _, region in reps if region == "Western Europe"}
        held |= {r for (r,) in cur.execute("SELECT DISTINCT rep_id FROM opportunities").fetchall()}
        if rep_id is not None:
            held = {rep_id}
        out = {
            "country_code": {c for c, _, _ in countries if c not in inside},
            "customer_id": {c for c, _, country in customers if country not in inside},
            "rep_id": {r for r, _, _ in reps if r not in held},
        }
        # Names a result must not hold anywhere: countries, regions, accounts, reps outside.
        forbidden = (
            {n for c, n, _ in countries if c not in inside}
            | {r for _, _, r in countries if r != "Western Europe"}
            | (
                {n for _, n, c in customers if c not in inside}
                - {n for _, n, c in customers if c in inside}
            )
            | ({n for r, n, _ in reps if r not in held} - {n for r, n, _ in reps if r in held})
        )
        results = _entry_points(cur, rep_id)
        assert len(results) == 40
        for name, result in results.items():
            for item in _everything_in(result):
                if isinstance(item, str):
                    assert item not in forbidden, (name, item)
                    continue
                for column, outside in out.items():
                    if column in item.columns:
                        leaked = set(item[column].dropna()) & outside
                        assert not leaked, (name, column, sorted(leaked)[:5])
                text = item.select_dtypes(include=["object", "string"])
                for column in text.columns:
                    leaked = set(text[column].dropna().astype(str)) & forbidden
                    assert not leaked, (name, column, sorted(leaked)[:5])
        # The sweep is not empty: the reach's own figures are there.
        assert set(results["overview.countries wide"]["country_code"]) <= inside
        assert not results["overview.countries wide"].empty
        if rep_id is not None:
            board = results["crm.attainment wide"]["leaderboard"]
            assert board["rep_id"].tolist() == [rep_id]
    finally:
        con.close()
