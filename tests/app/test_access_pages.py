"""AppTest per role: the sign-in gate, the scope on every page, and what each role may do.

AppTest cannot send HTTP headers, so the one function that reads the proxy's header
(ui.access.identity) is replaced by one returning the test's email; everything after it —
the access file, the gate, the restricted cursor — runs as in production.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from streamlit.testing.v1 import AppTest

from tests.ui.test_markup import as_shown
from ui import access as ui_access

ROOT = Path(__file__).resolve().parents[2]
PAGES = sorted(p.name for p in (ROOT / "views").glob("*.py"))

ACCESS = """
[identity]
source = "header"
header = "X-Forwarded-Email"

[[users]]
email = "we@example.com"
role = "viewer"
regions = ["Western Europe"]

[[users]]
email = "analyst@example.com"
role = "analyst"
countries = ["DE"]

[[users]]
email = "admin@example.com"
role = "admin"

[[users]]
email = "rep@example.com"
role = "viewer"
regions = ["Western Europe"]
rep = "R0005"
"""


@pytest.fixture
def signed_in(demo_db_path, tmp_path, monkeypatch):
    """Open the app as `email` (None: a request without the header)."""
    access_file = tmp_path / "access.toml"
    access_file.write_text(ACCESS)
    monkeypatch.setenv("SALES_ATLAS_DB", str(demo_db_path))
    monkeypatch.setenv("SALES_ATLAS_ACCESS", str(access_file))
    monkeypatch.setenv("SALES_ATLAS_STATE", str(tmp_path / "state.sqlite"))

    def open_as(email: str | None, page: str | None = None, **params) -> AppTest:
        monkeypatch.setattr(ui_access, "identity", lambda listed: email)
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
        for key, value in params.items():
            at.query_params[key] = value
        at.run()
        if page:
            at.switch_page(f"views/{page}").run()
        return at

    return open_as


def _region_countries(db_path: Path, region: str) -> set[str]:
    with duckdb.connect(str(db_path), read_only=True) as con:
        rows = con.execute("SELECT name FROM countries WHERE region = ?", [region]).fetchall()
    return {r[0] for r in rows}


def _shows_nothing(at: AppTest) -> None:
    assert not at.metric and not at.dataframe and not at.get("plotly_chart")
    assert not at.get("download_button")


def test_local_mode_says_so(demo_db_path, monkeypatch):
    monkeypatch.setenv("SALES_ATLAS_DB", str(demo_db_path))
    monkeypatch.delenv("SALES_ATLAS_ACCESS", raising=False)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    assert "no sign-in: everyone who can open this address sees everything" in [
        c.value for c in at.sidebar.caption
    ]


@pytest.mark.parametrize("email", [None, "stranger@example.com"])
@pytest.mark.parametrize("page", PAGES)
def test_no_identity_or_unlisted_sees_no_figure(signed_in, email, page):
    at = signed_in(email, page)
    assert not at.exception
    _shows_nothing(at)
    message = at.error[0].value
    assert ("no identity" in message) if email is None else ("has no access" in message)


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders_for_a_scoped_viewer(signed_in, page):
    at = signed_in("we@example.com", page)
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    assert any(
        "we@example.com · viewer · sees Western Europe" in as_shown(c.value)
        for c in at.sidebar.caption
    )


def test_overview_shows_only_the_viewers_region(signed_in, demo_db_path):
    at = signed_in("we@example.com")
    shown = set(at.dataframe[0].value["Country"])
    assert shown and shown <= _region_countries(demo_db_path, "Western Europe")
    assert at.sidebar.multiselect(key="f_regions").options == ["Western Europe"]


def test_a_link_to_another_region_shows_nothing_of_it(signed_in, demo_db_path):
    at = signed_in("we@example.com", region="Americas", country="US")
    warnings = [w.value for w in at.sidebar.warning]
    assert any("outside your scope" in w and "Americas" in w and "US" in w for w in warnings)
    shown = set(at.dataframe[0].value["Country"]) if at.dataframe else set()
    assert not shown & _region_countries(demo_db_path, "Americas")


def test_a_viewer_cannot_upload_fetch_or_save(signed_in):
    data = signed_in("we@example.com", "data.py")
    assert not data.get("file_uploader")
    assert "d_fetch" not in [b.key for b in data.button]
    captions = [c.value for c in data.caption]
    assert "Only admins (data owners) import data." in captions
    assert not [s for s in data.subheader if s.value in ("Import history", "Audit log")]
    lab = signed_in("we@example.com", "pricing.py")
    assert "p_save" not in [b.key for b in lab.button]
    assert "Saving and deleting scenarios is for analysts and admins." in [
        c.value for c in lab.caption
    ]


def test_an_analyst_saves_a_scenario_into_the_state_store(signed_in, tmp_path):
    lab = signed_in("analyst@example.com", "pricing.py")
    assert lab.multiselect(key="p_markets").options == ["Germany"]
    lab.multiselect(key="p_markets").set_value(["DE"]).run()
    lab.text_input(key="p_save_name").input("Euro steady").run()
    lab.button(key="p_save").click().run()
    assert not lab.exception
    assert "Saved “Euro steady”." in [s.value for s in lab.success]
    from analytics import state

    con = state.connect(tmp_path / "state.sqlite")
    assert list(state.saved_scenarios(con)["created_by"]) == ["analyst@example.com"]
    actions = list(zip(*[state.audit_log(con)[c] for c in ("email", "action")], strict=True))
    assert ("analyst@example.com", "scenario save") in actions
    assert ("analyst@example.com", "sign-in") in actions
    data = signed_in("analyst@example.com", "data.py")
    assert not data.get("file_uploader")


def test_an_admin_imports_and_sees_the_audit_log(signed_in):
    data = signed_in("admin@example.com", "data.py")
    assert data.get("file_uploader")
    assert "d_fetch" in [b.key for b in data.button]
    assert "Audit log" in [s.value for s in data.subheader]


def test_an_admin_views_as_a_scoped_user(signed_in, demo_db_path):
    at = signed_in("admin@example.com")
    assert len(set(at.dataframe[0].value["Country"])) > 15
    at.sidebar.selectbox(key="a_view_as").select("we@example.com").run()
    shown = set(at.dataframe[0].value["Country"])
    assert shown <= _region_countries(demo_db_path, "Western Europe")


def _rep_names(db_path: Path) -> dict[str, str]:
    with duckdb.connect(str(db_path), read_only=True) as con:
        return dict(con.execute("SELECT rep_id, name FROM reps").fetchall())


@pytest.mark.parametrize(
    "view", ["Attainment", "Rep view", "Activity vs impact", "Pipeline changes", "Forecast"]
)
def test_a_rep_sees_only_their_own_quota_and_deals(signed_in, demo_db_path, view):
    names = _rep_names(demo_db_path)
    own = names["R0005"]
    # A crafted link naming a colleague of the same team (R0003) changes nothing.
    at = signed_in("rep@example.com", "team.py", t_view=view, t_rep="R0003")
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert any(
        "own deals and quota only (rep R0005)" in as_shown(c.value) for c in at.sidebar.caption
    )
    shown = set()
    for frame in at.dataframe:
        if "Rep" in frame.value.columns:
            shown |= set(frame.value["Rep"])
    assert shown <= {own}, shown
    if view in ("Attainment", "Activity vs impact"):
        assert shown == {own}
    if view == "Attainment":
        assert "Reps at or above quota" in [m.label for m in at.metric]
        assert next(m for m in at.metric if m.label == "Reps at or above quota").value.endswith(
            " of 1"
        )
    if view == "Rep view":
        box = next(b for b in at.selectbox if b.key == "t_rep")
        assert box.options == [f"{own} · Western Europe team"] and box.value == "R0005"


def test_a_reps_review_names_whose_quota_it_is(signed_in, demo_db_path):
    at = signed_in("rep@example.com", "review.py")
    assert not at.exception and not at.error
    own = _rep_names(demo_db_path)["R0005"]
    attainment = next(m for m in at.metric if m.label == "Attainment")
    assert f"quota by {own} (R0005), your own" in attainment.help
