"""Who is using the app: the sign-in gate, the scope line in the sidebar, and role checks.

Without $SALES_ATLAS_ACCESS the app is in local single-user mode and says so. With it,
identity comes from a trusted proxy's header or from Streamlit's st.login (OIDC), and a
request nobody vouches for, or from someone the file does not list, gets a page saying so
and nothing else: the gate stops the script before any figure is computed.
"""

from __future__ import annotations

import dataclasses

import streamlit as st

from analytics import access
from ui import cache, text

LOCAL_MODE = "no sign-in: everyone who can open this address sees everything"


@st.cache_resource(max_entries=2)
def _access_file(path: str, mtime_ns: int, store: str) -> access.AccessFile:
    """The parsed access file; re-read when it or the store changes."""
    with cache.unrestricted_cursor() as cur:
        return access.load(access.access_path(), cur)


def access_file() -> access.AccessFile | None:
    path = access.access_path()
    if path is None:
        return None
    mtime = path.stat().st_mtime_ns if path.exists() else 0
    return _access_file(str(path), mtime, cache.store_version())


def identity(listed: access.AccessFile) -> str | None:
    """The email this request carries: the proxy's header, or the OIDC sign-in's."""
    if listed.source == "header":
        return st.context.headers.get(listed.header)
    if st.user.is_logged_in:
        return st.user.get("email")
    return None


def _refuse(listed: access.AccessFile, email: str | None) -> None:
    st.title("Sales Atlas")
    if email is None and listed.source == "oidc":
        st.info("Sign in to see the figures.")
        st.button("Sign in", type="primary", key="a_login", on_click=st.login)
    elif email is None:
        st.error(
            f"This request carries no identity: the app expects a sign-in proxy to set the "
            f"{listed.header} header. Open it through your organisation's address."
        )
    else:
        st.error(
            f"{text.md(email)} has no access to Sales Atlas. Ask an administrator to add you to the "
            "access file."
        )
        if listed.source == "oidc":
            st.button("Sign out", key="a_logout", on_click=st.logout)
    st.stop()


def gate() -> access.User:
    """The user this session acts as; stops the run with a sign-in / no-access page when
    there is none. Must run before anything reads the store for a page."""
    listed = access_file()
    if listed is None:
        st.session_state[cache.USER_KEY] = access.LOCAL_USER
        with st.sidebar:
            st.caption(LOCAL_MODE)
        return access.LOCAL_USER
    email = identity(listed)
    signed_in = listed.user(email)
    if signed_in is None:
        st.session_state.pop(cache.USER_KEY, None)
        _refuse(listed, email)
    if st.session_state.get("a_signed_in") != signed_in.email:
        st.session_state["a_signed_in"] = signed_in.email
        st.session_state[cache.USER_KEY] = signed_in
        cache.audit("sign-in", listed.source)
    user = _view_as(listed, signed_in)
    st.session_state[cache.USER_KEY] = user
    return user


def _view_as(listed: access.AccessFile, signed_in: access.User) -> access.User:
    """An admin may look at the app as any listed user sees it."""
    if not signed_in.can("view_as"):
        return signed_in
    others = [email for email in sorted(listed.users) if email != signed_in.email]
    with st.sidebar:
        chosen = st.selectbox(
            "View as",
            ["", *others],
            format_func=lambda e: e or "myself",
            key="a_view_as",
            help="See every page with that user's role and scope.",
        )
    if not chosen:
        return signed_in
    if st.session_state.get("a_viewing") != chosen:
        st.session_state["a_viewing"] = chosen
        cache.audit("view as", chosen)
    user = listed.users[chosen]
    # Still the admin's name in the audit log: the admin acts, with the other's rights.
    return dataclasses.replace(user, email=f"{signed_in.email} as {user.email}")


def scope_line(user: access.User) -> None:
    """The scope, stated next to the filters."""
    if access.access_path() is None:
        return
    st.caption(
        f"Signed in as {text.md(user.email)} · {user.role} · sees {text.md(user.reach.describe())}"
    )


def can(right: str) -> bool:
    return cache.current_user().can(right)


def refusal(right: str) -> str:
    """Why the current user cannot do this."""
    return access.RIGHT_REASONS[right]
