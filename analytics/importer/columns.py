"""Matching a file's header to a kind's fields (names and aliases, case- and space-blind)."""

from __future__ import annotations

import dataclasses
import re

from analytics.importer.kinds import Kind
from analytics.importer.report import FileRejected


def normalise(name: str) -> str:
    """'Order Date ' -> 'order_date'; 'Discount %' -> 'discount'."""
    return re.sub(r"[^0-9a-z]+", "_", name.strip().lower()).strip("_")


@dataclasses.dataclass
class Mapping:
    columns: dict[str, int]  # field -> column index
    ignored: list[str]


def map_columns(kind: Kind, header: list[str]) -> Mapping:
    """Match the file's columns to the kind's fields (names and aliases, case- and
    space-insensitive). Raises FileRejected when required columns are missing."""
    names = {normalise(h): i for i, h in reversed(list(enumerate(header))) if h.strip()}
    columns, used = {}, set()
    for f in kind.fields:
        for candidate in (f.name, *f.aliases):
            index = names.get(normalise(candidate))
            if index is not None and index not in used:
                columns[f.name] = index
                used.add(index)
                break
    missing = [f.name for f in kind.fields if f.required and f.name not in columns]
    if missing:
        raise FileRejected(
            f"Missing required column(s) for {kind.label.lower()}: {', '.join(missing)}. The file "
            f"has: {', '.join(h for h in header if h) or 'no named columns'}. Download the "
            "template to see the expected layout."
        )
    ignored = [h for i, h in enumerate(header) if i not in used and h.strip()]
    return Mapping(columns, ignored)
