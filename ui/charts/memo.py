"""Built figures kept for reuse, keyed on what they are built from.

A rerun that changes nothing a chart depends on (another widget, a fragment, a second
session on the same view) used to rebuild its Plotly figure: Plotly validates every property
it sets, which cost a sixth of the server's CPU per interaction (issue 17). The key is a
digest of the builder's arguments, frames included (their values, index, columns and dtypes),
so a figure can never be served for data it was not built from; the frames charts take are
aggregates of at most a few thousand rows, which hash in well under a millisecond.

The figures are shared between sessions and must not be changed in place: st.plotly_chart
only reads them (it serialises a copy), and a caller that restyles one copies it first
(`go.Figure(fig)`). Plain Python, no Streamlit, so the charts stay testable on their own.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable

import numpy as np
import pandas as pd
import plotly.graph_objects as go

# Every chart of a page for a few dozen views at once; each figure holds its aggregated
# frame's values, i.e. kilobytes to a few hundred kilobytes (the world map).
MAX_FIGURES = 256

_figures: OrderedDict[bytes, go.Figure] = OrderedDict()
_lock = threading.Lock()


class _Unhashable(TypeError):
    """An argument the digest does not know how to read: build without the cache."""


def _feed(digest, value) -> None:
    if value is None or isinstance(value, bool | int | float | str | bytes | dt.date):
        digest.update(f"{type(value).__name__}:{value!r};".encode())
    elif isinstance(value, pd.DataFrame):
        digest.update(f"frame{value.shape}".encode())
        _feed(digest, [str(c) for c in value.columns])
        _feed(digest, [str(t) for t in value.dtypes])
        digest.update(pd.util.hash_pandas_object(value, index=True).to_numpy().tobytes())
    elif isinstance(value, pd.Series):
        digest.update(f"series{len(value)}:{value.name!r}:{value.dtype};".encode())
        digest.update(pd.util.hash_pandas_object(value, index=True).to_numpy().tobytes())
    elif isinstance(value, np.ndarray):
        digest.update(f"array{value.shape}:{value.dtype};".encode())
        digest.update(np.ascontiguousarray(value).tobytes())
    elif isinstance(value, np.generic | pd.Timestamp):
        digest.update(f"{type(value).__name__}:{value!r};".encode())
    elif isinstance(value, dict):
        digest.update(b"{")
        for key, item in value.items():
            _feed(digest, key)
            _feed(digest, item)
        digest.update(b"}")
    elif isinstance(value, list | tuple):
        digest.update(f"{type(value).__name__}[".encode())
        for item in value:
            _feed(digest, item)
        digest.update(b"]")
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        digest.update(f"{type(value).__qualname__}(".encode())
        for field in dataclasses.fields(value):
            _feed(digest, getattr(value, field.name))
        digest.update(b")")
    else:
        raise _Unhashable(type(value).__name__)


def _key(builder: Callable, args: tuple, kwargs: dict) -> bytes:
    digest = hashlib.blake2b(digest_size=20)
    digest.update(f"{builder.__module__}.{builder.__qualname__};".encode())
    _feed(digest, args)
    _feed(digest, sorted(kwargs.items()))
    return digest.digest()


def cached(builder: Callable[..., go.Figure]) -> Callable[..., go.Figure]:
    """`builder`, answering from the figures already built for the same arguments."""

    @functools.wraps(builder)
    def build(*args, **kwargs) -> go.Figure:
        try:
            key = _key(builder, args, kwargs)
        except _Unhashable:
            return builder(*args, **kwargs)
        with _lock:
            figure = _figures.get(key)
            if figure is not None:
                _figures.move_to_end(key)
                return figure
        # Built outside the lock: two sessions may build the same figure once each, which
        # is cheaper than making every session wait for one build.
        figure = builder(*args, **kwargs)
        with _lock:
            _figures[key] = figure
            while len(_figures) > MAX_FIGURES:
                _figures.popitem(last=False)
        return figure

    build.uncached = builder
    return build


def clear() -> None:
    with _lock:
        _figures.clear()
