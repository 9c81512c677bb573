"""Plotly figures as static images for print: a print layout, and PNGs drawn by kaleido's Chromium.

Plotly renders images through a Chromium browser (kaleido), so an image export is refused
with a clear message (ExportUnavailable) when no Chromium is installed.
"""

from __future__ import annotations

import os
import shutil
import threading
import warnings
from pathlib import Path

import plotly.graph_objects as go

from analytics.errors import UserError

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "chrome")
# Streamlit makes its own template the process-wide default, and it lacks the automargin of
# Plotly's: the screen's tight margins then cut tick labels to "M" and put the axis titles
# over them. Print figures name their template and grow their margins to fit the labels.
PRINT_TEMPLATE = "plotly"
PRINT_MARGIN = {"l": 70, "r": 30, "t": 70, "b": 50}
IMAGE_WIDTH, IMAGE_HEIGHT = 1100, 520  # CSS pixels, drawn at twice that resolution

_KALEIDO_LOCK = threading.Lock()


class ExportUnavailable(UserError):
    """An export cannot be made on this machine; the message says why and what to do."""


def chromium_path() -> str | None:
    """The Chromium that Plotly's image export will use, if one is installed."""
    configured = os.environ.get("BROWSER_PATH")
    if configured and Path(configured).exists():
        return configured
    return next((found for name in CHROMIUM_NAMES if (found := shutil.which(name))), None)


def unavailable_reason() -> str | None:
    """Why images (and so the PDF) cannot be made here, or None when they can."""
    if chromium_path() is None:
        return (
            "The PDF embeds the charts as images, which Plotly draws with a Chromium browser, "
            "and none is installed on this machine. Install Debian's `chromium` package (or set "
            "BROWSER_PATH to a Chromium), or use the PPTX or HTML export, which need none."
        )
    return None


def print_figure(fig: go.Figure) -> go.Figure:
    """A copy of a screen figure laid out for a static image: every axis sized to its labels."""
    printed = go.Figure(fig)
    printed.update_layout(template=PRINT_TEMPLATE, margin=PRINT_MARGIN)
    printed.update_xaxes(automargin=True, title_standoff=12)
    printed.update_yaxes(automargin=True, title_standoff=12)
    return printed


def chart_images(
    figures: dict, width: int = IMAGE_WIDTH, height: int = IMAGE_HEIGHT
) -> dict[str, bytes]:
    """PNG bytes of each Plotly figure in its print layout, drawn in one browser session."""
    import kaleido
    import plotly.io as pio

    reason = unavailable_reason()
    if reason:
        raise ExportUnavailable(reason)
    os.environ.setdefault("BROWSER_PATH", chromium_path())
    with _KALEIDO_LOCK:
        kaleido.start_sync_server(silence_warnings=True)
        try:
            with warnings.catch_warnings():
                # Plotly warns that its per-call browser options are unused with a server.
                warnings.filterwarnings("ignore", "The kopts argument", UserWarning)
                return {
                    name: pio.to_image(
                        print_figure(fig), format="png", width=width, height=height, scale=2
                    )
                    for name, fig in figures.items()
                }
        finally:
            kaleido.stop_sync_server(silence_warnings=True)
