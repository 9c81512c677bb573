"""The one way a page shows a problem.

app.py runs every page inside `page()`: a `UserError` (a timeout, a missing rate, a locked
store, a rejected file…) shows its own message and ends the page; anything else is a bug,
shown as a plain "Something went wrong" with what to do, its traceback in the server log and
never on screen. A part of a page the rest can do without (a file check, a save) uses
`section()` instead, so the page goes on below the message. A page's st.fragment is made
with `fragment()`, because a fragment's own reruns run it without app.py around it.

Streamlit's st.stop(), st.rerun() and st.switch_page() work by raising its
ScriptControlException, a BaseException: they pass through both untouched.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import streamlit as st
from streamlit.runtime.scriptrunner_utils.exceptions import ScriptControlException

from analytics.errors import UserError
from ui import text

log = logging.getLogger("sales_atlas")

SOMETHING_WENT_WRONG = (
    "**Something went wrong while drawing this page.** Reload the page to try again; if it "
    "happens again, note what you chose on the page and send it to whoever runs Sales Atlas, "
    "with the server log, which records the details."
)


@contextmanager
def page() -> Iterator[None]:
    """Run a page: a UserError's message, or a plain error for a bug; the page ends there."""
    try:
        yield
    except ScriptControlException:
        raise
    except UserError as problem:
        st.error(text.md(problem))  # plain text: it may quote a file's values
    except Exception:
        log.exception("A page failed")
        st.error(SOMETHING_WENT_WRONG)


@dataclass
class Attempt:
    """What `section()` saw: the problem shown, or None."""

    problem: Exception | None = None

    @property
    def failed(self) -> bool:
        return self.problem is not None


@contextmanager
def section(*also: type[Exception], then: Callable[[], object] | None = None) -> Iterator[Attempt]:
    """Run part of a page: a UserError (or one of `also`, an analytics call's message-bearing
    ValueError) shows its message here, `then` draws a way on (e.g. an exit button) and the
    page continues after the block; `attempt.failed` says whether it did."""
    attempt = Attempt()
    try:
        yield attempt
    except ScriptControlException:
        raise
    except (UserError, *also) as problem:
        attempt.problem = problem
        st.error(text.md(problem))
        if then is not None:
            then()


def fragment(body: Callable[[], None]) -> Callable[[], None]:
    """`st.fragment(body)`, on the error path of `page()`: a widget inside reruns only the
    fragment, which app.py's `page()` does not wrap. A problem shows its message and ends
    the page (in a fragment's own rerun, the fragment) as it would without the fragment."""

    @st.fragment
    @functools.wraps(body)
    def run() -> None:
        failed = True
        with page():
            body()
            failed = False
        if failed:
            st.stop()

    return run
