"""Text that came from outside the product, made safe to show: markdown and Plotly labels.

A value from a link, a file name, a CSV header or a stored name is data, not markup. Streamlit
renders markdown (links, images fetched from any host, LaTeX, code) in messages, captions,
headings and widget labels; Plotly renders its own HTML subset (<b>, <a href>, <br>) in every
label, tick and hover text. So every such value passes through `md` before it joins a
markdown string, and through `plot` before it becomes a chart label. Text the product writes
itself is left alone. No Streamlit here: the chart builders use it too.
"""

from __future__ import annotations

import html
import re

import pandas as pd

# Every character that can start or end markup, each made literal by a backslash (CommonMark
# allows one before any ASCII punctuation): links and images ([]()!), HTML and entities (<>&),
# LaTeX ($), code (`), emphasis, headings, lists, quotes and tables (*_#+-.|~>), GFM's bare-URL
# and e-mail links (: / @), Streamlit's `:red[...]` directives and `:material/...:` icons,
# which make the browser fetch a font. Commas, quotes and the like mean nothing and stay bare.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]<>()#+\-.!|~$&:/@])")
_LINE_BREAKS = re.compile(r"[\r\n\u2028\u2029\x0b\x0c\x85]+")
# GFM links bare URLs and e-mail addresses after the escapes are read (in the text itself), so
# a backslash does not stop them: a zero-width space after each ':', after "www" and before
# each '@' does (it also stops `:emoji:` shortcodes), and shows nothing.
_LINK_LITERALS = re.compile(r"(?i)(:|\bwww(?=\.)|(?=@))")
ZERO_WIDTH_SPACE = "\u200b"


def md(value: object) -> str:
    """`value` as markdown that shows exactly its characters, on one line."""
    plain = _LINE_BREAKS.sub(" ", str(value))
    unlinked = _LINK_LITERALS.sub(lambda m: m.group() + ZERO_WIDTH_SPACE, plain)
    return _MARKDOWN_SPECIAL.sub(r"\\\1", unlinked)


def shorten(value: object, limit: int = 80) -> str:
    """`value` cut to `limit` characters with '…': a link may carry a page of text."""
    shown = str(value)
    return shown if len(shown) <= limit else shown[: limit - 1] + "…"


def from_link(value: object) -> str:
    """A link's parameter value as markdown: shortened, then escaped."""
    return md(shorten(value))


def plot(value: object) -> str:
    """`value` as a Plotly label that shows exactly its characters: '<', '>' and '&' as
    entities (Plotly decodes them when it draws), and '%' too, so a name put into a
    hovertemplate cannot name a `%{field}` of its own."""
    return html.escape(str(value), quote=False).replace("%", "&#37;")


def plot_column(values: pd.Series) -> pd.Series:
    """A column of names as Plotly labels (missing values stay missing)."""
    return values.map(plot, na_action="ignore")
