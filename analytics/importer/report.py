"""What an import tells the user: the Report (and its dict/JSON form), or FileRejected.

A Report counts every row read as loaded or rejected and lists each rejection with its
line, column, value and reason; FileRejected is raised when the whole file cannot be used.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math

import numpy as np
import pandas as pd

from analytics.errors import UserError


class FileRejected(UserError, ValueError):
    """The whole file cannot be read or used; the message says why and what to do."""


class ImportAmbiguous(FileRejected):
    """The file can be read only once the user says how (e.g. its date format)."""


@dataclasses.dataclass
class Report:
    kind: str
    file_name: str
    rows_read: int = 0
    rows_loaded: int = 0
    rows_rejected: int = 0
    status: str = "rejected"
    message: str = ""
    detected: dict = dataclasses.field(default_factory=dict)
    ignored_columns: list[str] = dataclasses.field(default_factory=list)
    created: dict = dataclasses.field(default_factory=dict)
    unchanged: int = 0
    updated: int = 0
    snapshot: dict = dataclasses.field(default_factory=dict)  # opportunities: day and open deals
    rejected: list[dict] = dataclasses.field(default_factory=list)
    skipped: list[dict] = dataclasses.field(default_factory=list)  # footer lines: line, text
    columns: dict = dataclasses.field(default_factory=dict)  # field -> the file's column
    header_signature: str = ""  # the same for files with the same column names
    mapping_name: str | None = None  # the saved mapping applied, if any
    # Orders: the lines kept awaiting an exchange rate ({"lines": n, "currencies": [...]}).
    awaiting_rate: dict = dataclasses.field(default_factory=dict)
    new_stages: list[str] = dataclasses.field(default_factory=list)  # added to the funnel
    import_id: str | None = None  # in import_log; `python -m analytics import-undo ID`

    def to_dict(self) -> dict:
        """Plain JSON values: a missing number is None (null), never NaN."""
        return _plain(dataclasses.asdict(self))

    def rejected_frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.rejected, columns=["line", "column", "value", "reason"])


def _plain(value):
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, dt.date):
        return value.isoformat()
    return value
