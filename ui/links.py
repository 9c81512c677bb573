"""A page's own link parameters (a view, a quarter, a section): a value the page cannot use
is named on screen, as text, instead of being dropped without a word."""

from __future__ import annotations

import streamlit as st

from ui import text


def not_a_choice(param: str, asked: str | None, shown: str) -> None:
    """Say that the link's `param` = `asked` is not a choice here and `shown` is shown instead
    (`asked` None: the link's value was used, or there was none). Once a session: only the
    first reading is the link's, later ones read back what the page wrote."""
    seen = st.session_state.setdefault("_links_checked", set())
    if param in seen:
        return
    seen.add(param)
    if asked:
        st.warning(
            f"This link's {param} “{text.from_link(asked)}” is not a choice here; "
            f"showing {text.md(shown)}."
        )
