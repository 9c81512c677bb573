"""Long work that stops when its session ends or reruns: the callbacks analytics' loops call
between chunks (an import's lines, the Monte Carlo's blocks of paths).

analytics never imports streamlit, so its loops take a `progress(done, total)` callback.
Streamlit stops a script only at its next Streamlit call: its script runner checks for a
stop request (the tab closed: websocket_session_manager.disconnect_session calls the
session's request_script_stop) or a rerun request (the user changed a widget) whenever the
script sends an element (ScriptRunner._enqueue_forward_msg) or touches st.session_state
(SafeSessionState calls the runner's _maybe_handle_execution_control_request), and raises
StopException or RerunException there (streamlit 1.67,
runtime/scriptrunner/script_runner.py). The callbacks below make that call between chunks,
so the work stops within a chunk of the session ending, before anything is written.
"""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

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
