"""Long work that stops when its session ends or reruns: the callbacks analytics' loops call
between chunks (an import's lines, checked and loaded).

analytics never imports streamlit, so its loops take a `progress(done, total)` callback.
Streamlit stops a script only at its next Streamlit call: its script runner checks for a
stop request (the tab closed: websocket_session_manager.disconnect_session calls the
session's request_script_stop) or a rerun request (the user changed a widget) whenever the
script sends an element (ScriptRunner._enqueue_forward_msg) or touches st.session_state
(SafeSessionState calls the runner's _maybe_handle_execution_control_request), and raises
StopException or RerunException there (streamlit 1.67,
runtime/scriptrunner/script_runner.py). The callbacks below make that call between chunks,
so the work stops within a chunk of the session ending, before anything is written.

A DuckDB query the script is waiting on makes no Streamlit call until it returns, so the
query gateway (analytics.db) polls `_stop_requested` from its deadline's watcher thread and
interrupts the statement when the session has ended or a rerun would stop the script: the
query raises db.QueryStopped, and the page's next Streamlit call (the error it would show)
is where the runner raises StopException / RerunException.
"""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx
from streamlit.runtime.scriptrunner_utils.script_requests import (
    ScriptRequestType,
    _fragment_run_should_not_preempt_script,
)

from analytics import db

_PROGRESS_KEY = "_work_progress"


def checkpoint(done: int, total: int) -> None:
    """For work inside a cached function, which may not draw elements (a cache hit would
    replay them into a container that no longer exists): a session-state write, a
    Streamlit call that sends nothing and raises when the session has ended or reruns."""
    st.session_state[_PROGRESS_KEY] = (done, total)


def progress_bar(what: str) -> Callable[[int, int], None]:
    """For work outside a cache: a progress bar updated after each chunk ("what": the noun
    counted, e.g. "lines"); each update is the Streamlit call where a session that ended
    stops."""
    bar = st.progress(0.0, text=f"0 {what}")

    def update(done: int, total: int) -> None:
        share = done / total if total else 1.0
        bar.progress(min(share, 1.0), text=f"{done:,} of {total:,} {what}")

    return update


def _stop_requested() -> Callable[[], bool] | None:
    """For the querying thread: a function true once its script run is asked to stop, or
    to rerun in a way that would stop it (as the runner's own yield check decides: a
    fragment's rerun requested during a full run waits for it); None outside a script run
    (the warm-up thread, the CLI), where only the deadline applies."""
    ctx = get_script_run_ctx(suppress_warning=True)
    if ctx is None:
        return None
    requests = ctx.script_requests

    def requested() -> bool:
        # Read without the requests' lock, as the runner's own fast path does: a request
        # seen one poll late costs STOP_POLL_S.
        state = requests._state
        if state == ScriptRequestType.STOP:
            return True
        if state == ScriptRequestType.RERUN:
            pending = requests._rerun_data
            return not _fragment_run_should_not_preempt_script(
                pending.fragment_id_queue, pending.is_fragment_scoped_rerun
            )
        return False

    return requested


# Set when the UI is imported (ui.cache imports this module): every query a page's script
# run makes through analytics.db then stops with its session.
db.stop_hook = _stop_requested
