"""Sign-in through OpenID Connect, for real: st.login against a provider on 127.0.0.1.

The provider (tests/browser/oidc_provider.py, Authlib's server classes) issues RS256 id tokens from a
key generated here; the app is started with `streamlit run`, an access file with
source = "oidc" and a secrets file whose [auth] section points at the provider. Chromium clicks
"Sign in", types an email and password at the provider and comes back to the app.
"""

from __future__ import annotations

import csv
import io
import secrets
from pathlib import Path

import duckdb
import pytest
from conftest import (
    FIRST_PAINT_MS,
    download_text,
    external_requests,
    free_port,
    open_app,
    serve_app,
    wait_for_app_idle,
)
from oidc_provider import OpenIDProvider
from playwright.sync_api import expect

PASSWORDS = {"we@example.com": "we-password", "stranger@example.com": "stranger-password"}
ACCESS = """
[identity]
source = "oidc"

[[users]]
email = "we@example.com"
role = "viewer"
regions = ["Western Europe"]

[[users]]
email = "admin@example.com"
role = "admin"
"""


@pytest.fixture(scope="module")
def oidc_app(chromium_path, demo_db_path, tmp_path_factory):
    """(app URL, provider): the app signing in through the provider, for this module."""
    workdir = tmp_path_factory.mktemp("oidc_app")
    port = free_port()
    with OpenIDProvider(PASSWORDS) as provider:
        client_secret = secrets.token_urlsafe(24)
        redirect_uri = f"http://127.0.0.1:{port}/oauth2callback"
        provider.register_client("sales-atlas", client_secret, redirect_uri)
        (workdir / "access.toml").write_text(ACCESS)
        (workdir / "secrets.toml").write_text(
            "[auth]\n"
            f'redirect_uri = "{redirect_uri}"\n'
            f'cookie_secret = "{secrets.token_urlsafe(32)}"\n'
            'client_id = "sales-atlas"\n'
            f'client_secret = "{client_secret}"\n'
            f'server_metadata_url = "{provider.metadata_url}"\n'
        )
        env = {
            "SALES_ATLAS_ACCESS": str(workdir / "access.toml"),
            "SALES_ATLAS_STATE": str(workdir / "state.sqlite"),
        }
        args = ["--secrets.files", str(workdir / "secrets.toml")]
        with serve_app(workdir, demo_db_path, env, args, port) as base_url:
            yield base_url, provider


def _western_europe(db_path: Path) -> set[str]:
    with duckdb.connect(str(db_path), read_only=True) as con:
        rows = con.execute("SELECT name FROM countries WHERE region = 'Western Europe'").fetchall()
    return {name for (name,) in rows}


def _sign_in(page, base_url: str, email: str) -> None:
    open_app(page, base_url)
    expect(page.get_by_text("Sign in to see the figures.")).to_be_visible()
    _assert_no_figure(page)
    page.get_by_role("button", name="Sign in").click()
    # At the provider: its own form, on its own address.
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORDS[email])
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator('[data-testid="stMainBlockContainer"]')).to_be_visible(
        timeout=FIRST_PAINT_MS
    )
    wait_for_app_idle(page, timeout=FIRST_PAINT_MS)


def _assert_no_figure(page) -> None:
    for test_id in ("stMetric", "stDataFrame", "stPlotlyChart", "stDownloadButton"):
        expect(page.locator(f'[data-testid="{test_id}"]')).to_have_count(0)


def test_a_listed_user_signs_in_and_sees_only_their_scope(
    oidc_app, app_page, demo_db_path, screenshot_dir
):
    base_url, provider = oidc_app
    page = app_page
    _sign_in(page, base_url, "we@example.com")
    assert page.url.startswith(base_url)
    expect(
        page.get_by_text("Signed in as we@example.com · viewer · sees Western Europe")
    ).to_be_visible(timeout=FIRST_PAINT_MS)
    expect(page.locator('[data-testid="stMetric"]').first).to_be_visible()
    page.screenshot(path=str(screenshot_dir / "oidc_signed_in.png"), full_page=True)
    assert provider.sign_ins[-1] == "we@example.com"

    wait_for_app_idle(page)
    button = page.get_by_role("button", name="Download CSV").first
    _, text = download_text(page, button)
    shown = {row["Country"] for row in csv.DictReader(io.StringIO(text))}
    assert shown and shown <= _western_europe(demo_db_path)
    assert external_requests(page.requests_seen) == []
    assert page.page_errors == []


def test_a_user_the_file_does_not_list_sees_no_figure(oidc_app, app_page, screenshot_dir):
    base_url, provider = oidc_app
    page = app_page
    _sign_in(page, base_url, "stranger@example.com")
    expect(page.get_by_text("stranger@example.com has no access to Sales Atlas")).to_be_visible()
    _assert_no_figure(page)
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    page.screenshot(path=str(screenshot_dir / "oidc_no_access.png"), full_page=True)
    assert provider.sign_ins[-1] == "stranger@example.com"
    # Signing out forgets the provider's answer: the sign-in page again.
    wait_for_app_idle(page)
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_text("Sign in to see the figures.")).to_be_visible(timeout=FIRST_PAINT_MS)
    _assert_no_figure(page)
    assert external_requests(page.requests_seen) == []
