"""Access: the access file's checks, and a user's reach enforced on the cursor whatever the
filters ask for (figures by hand on the tiny fixture store; no out-of-scope row on the demo)."""

from __future__ import annotations

import datetime as dt

import duckdb
import pandas as pd
import pytest

from analytics import access, catalog, overview, periods, pricing, quality, review
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
"""


def test_a_good_file_lists_users_with_roles_and_reach():
    listed = access.parse(GOOD, REGIONS, COUNTRIES)
    assert (listed.source, listed.header) == ("header", "X-Forwarded-Email")
    anna = listed.user("anna@EXAMPLE.com")
    assert anna == access.User("anna@example.com", "viewer", access.Reach(("Western Europe",)))
    assert listed.user("bo@example.com").reach == access.Reach((), ("DE", "GB"))
    assert listed.user("cy@example.com").reach.everything
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
    ],
)
def test_a_bad_file_is_refused_with_the_reason(change, message):
    with pytest.raises(access.AccessFileError, match=message):
        access.parse(GOOD.replace(*change, 1), REGIONS, COUNTRIES)


def test_reach_key_round_trips():
    for reach in (access.Reach(), access.Reach(("A", "B"), ("DE",)), access.Reach((), ("US",))):
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
    for table in ("order_lines", "sales_daily", "orders_daily", "opportunities", "customers"):
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
