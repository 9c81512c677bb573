"""Matching a file's header to a kind's fields: the user's mapping first, then names and
aliases (case- and space-blind), then the standard exports' column names (vendors.toml);
and, for the mapping step, a suggested column for every field from names and content.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import re
import tomllib
from pathlib import Path

from analytics.importer.kinds import Kind
from analytics.importer.report import FileRejected

HERE = Path(__file__).parent


def normalise(name: str) -> str:
    """'Order Date ' -> 'order_date'; 'Discount %' -> 'discount'."""
    return re.sub(r"[^0-9a-z]+", "_", name.strip().lower()).strip("_")


def header_signature(header: list[str]) -> str:
    """The same for two files with the same column names (in any case and spacing)."""
    names = "\x1f".join(normalise(h) for h in header)
    return hashlib.sha256(names.encode("utf-8")).hexdigest()[:16]


@functools.cache
def vendors() -> dict:
    with open(HERE / "vendors.toml", "rb") as file:
        return tomllib.load(file)


@functools.cache
def vocabulary() -> dict:
    with open(HERE / "vocabulary.toml", "rb") as file:
        return tomllib.load(file)


@dataclasses.dataclass
class Mapping:
    columns: dict[str, int]  # field -> column index
    ignored: list[str]
    sources: dict[str, str] = dataclasses.field(default_factory=dict)  # field -> how matched
    vendor: str | None = None  # the key (vendors.toml) of the standard export recognised

    def defaults(self, kind: str) -> dict:
        """What the recognised export implies for a kind: values of fields it does not carry
        (a Shopify order is a web-shop order) and the order-level fields it writes on an
        order's first line only (fill_down)."""
        if not self.vendor:
            return {}
        return vendors()[self.vendor].get("defaults", {}).get(kind, {})

    def label(self) -> str | None:
        return vendors()[self.vendor]["label"] if self.vendor else None


def _names(kind: Kind, vendor: str | None):
    """A field's header names with where each comes from: the field's own name and aliases
    (vendor None), one standard export's names (its key), or every export's ("*")."""

    def names_of(field) -> list[tuple[str, str]]:
        if vendor is None:
            return [(field.name, "name"), *((a, "name") for a in field.aliases)]
        systems = vendors().items() if vendor == "*" else [(vendor, vendors()[vendor])]
        return [
            (name, system["label"])
            for _, system in systems
            for name in system.get(kind.name, {}).get(field.name, [])
        ]

    return names_of


def _best_vendor(kind: Kind, names: dict[str, int]) -> str | None:
    scores = {}
    for key, system in vendors().items():
        found = {
            names[normalise(n)]
            for ns in system.get(kind.name, {}).values()
            for n in ns
            if normalise(n) in names
        }
        scores[key] = len(found)
    best = max(scores, key=scores.get, default=None)
    return best if best is not None and scores[best] >= 3 else None


def map_columns(kind: Kind, header: list[str], mapping: dict[str, str] | None = None) -> Mapping:
    """Match the file's columns to the kind's fields. `mapping` (field -> column name as in
    the header; "" = not in this file) overrides detection. Raises FileRejected when a
    mapping names an unknown field or column, or required columns are missing."""
    columns, sources, vendor = _match(kind, header, mapping or {})
    missing = [f.name for f in kind.fields if f.required and f.name not in columns]
    missing += [" or ".join(group) for group in kind.one_of if not any(g in columns for g in group)]
    if missing:
        raise FileRejected(
            f"Missing required column(s) for {kind.label.lower()}: {', '.join(missing)}. The file "
            f"has: {', '.join(h for h in header if h) or 'no named columns'}. Say which column "
            "holds each (the mapping step, or --mapping FILE), or download the template to see "
            "the expected layout."
        )
    used = set(columns.values())
    ignored = [h for i, h in enumerate(header) if i not in used and h.strip()]
    return Mapping(columns, ignored, sources, vendor)


# What a column's values look like, for suggestions: the share of non-empty values that
# read as each shape.
_SHAPES = {
    "date": r"^(\d{4}-\d{2}-\d{2}([ T].*)?|\d{1,2}[./]\d{1,2}[./]\d{4})$",
    "int": r"^[+-]?\d{1,3}([.,' ]?\d{3})*$",
    "number": r"^[+-]?(\d{1,3}([.,' ]\d{3})+|\d+)([.,]\d+)?$",
    "fraction": r"^\d+([.,]\d+)?\s*%$|^0[.,]\d+$",
    "code3": r"^[A-Za-z]{3}$",
}


def suggest_columns(
    kind: Kind,
    raw,
    countries: set[str],
    currencies: set[str],
    mapping: dict[str, str] | None = None,
) -> list[dict]:
    """For every field of the kind, the column the import would read it from and why: by
    name (its own, an alias, a standard export's) or, when no name matches, by content —
    dates, ISO country codes or names, currency codes, numbers. `countries` are the
    upper-cased codes and names the store knows, `currencies` its ISO 4217 codes. Content
    suggestions are only offered: the import reads a column by content only once the user
    has confirmed it in a mapping."""
    columns, sources, _ = _match(kind, raw.header, mapping or {})
    used = set(columns.values())
    sample = raw.rows.head(500)
    profiles = {}
    for index, name in enumerate(raw.header):
        if index in used or not name.strip() or index not in sample:
            continue
        values = sample[index].fillna("").astype(str).str.strip()
        values = values[values != ""]
        if values.empty:
            continue
        upper = values.str.upper()
        profiles[index] = {
            **{shape: values.str.match(p).mean() for shape, p in _SHAPES.items()},
            "country": upper.isin(countries).mean(),
            "currency": upper.str.replace(r"\s+", "", regex=True).isin(currencies).mean(),
        }
    out = []
    for f in kind.fields:
        if f.name in columns:
            basis = sources[f.name]
            basis = {"name": "its name", "mapping": "the mapping"}.get(
                basis, f"{basis} export column name"
            )
            out.append(_suggestion(f, raw.header[columns[f.name]], basis))
            continue
        shape = {"country": "country", "currency": "currency"}.get(f.type, f.type)
        best = max(
            (i for i in profiles if i not in used and profiles[i].get(shape, 0) >= 0.9),
            key=lambda i: profiles[i][shape],
            default=None,
        )
        if best is not None and f.type in ("date", "country", "currency", "int", "number"):
            used.add(best)
            what = {
                "date": "dates",
                "country": "country codes or names",
                "currency": "currency codes",
                "int": "whole numbers",
                "number": "amounts",
            }[f.type]
            out.append(_suggestion(f, raw.header[best], f"its values look like {what}"))
        else:
            out.append(_suggestion(f, None, "no column found"))
    return out


def _suggestion(field, column: str | None, basis: str) -> dict:
    return {"field": field.name, "required": field.required, "column": column, "basis": basis}


def _match(kind: Kind, header: list[str], mapping: dict[str, str]):
    """field -> column index; field -> how it was matched ("mapping", "name" or the
    standard export's label); and the key of the standard export recognised, if any."""
    fields = {f.name: f for f in kind.fields}
    unknown = sorted(set(mapping) - set(fields))
    if unknown:
        raise FileRejected(
            f"The mapping names {', '.join(unknown)}, which {kind.label.lower()} do not have; "
            f"the fields are {', '.join(fields)}."
        )
    position = {h.strip(): i for i, h in reversed(list(enumerate(header))) if h.strip()}
    columns, sources, used = {}, {}, set()
    for name, column in mapping.items():
        if not column:
            continue
        index = position.get(str(column).strip())
        if index is None:
            raise FileRejected(
                f"The mapping puts {name} in the column “{column}”, which the file does not "
                f"have; it has: {', '.join(h for h in header if h)}."
            )
        columns[name], sources[name] = index, "mapping"
        used.add(index)
    names = {normalise(h): i for i, h in reversed(list(enumerate(header))) if h.strip()}
    # The standard export whose column names the header holds most of (at least three) is
    # read by its own names first: "Item" is SAP's line number but NetSuite's product.
    vendor = _best_vendor(kind, names)
    passes = [_names(kind, vendor)] if vendor else []
    passes += [_names(kind, None), _names(kind, "*")]
    for names_of in passes:
        for f in kind.fields:
            if f.name in mapping or f.name in columns:
                continue
            for candidate, source in names_of(f):
                index = names.get(normalise(candidate))
                if index is not None and index not in used:
                    columns[f.name], sources[f.name] = index, source
                    used.add(index)
                    break
    return columns, sources, vendor


def read_mapping_file(path: Path) -> dict[str, str]:
    """A mapping file: TOML or JSON of field = "column" (a column of "" = not in the file)."""
    text = path.read_text(encoding="utf-8")
    try:
        data = json.loads(text) if text.lstrip().startswith("{") else tomllib.loads(text)
    except (json.JSONDecodeError, tomllib.TOMLDecodeError) as problem:
        raise ValueError(f"neither TOML nor JSON ({problem})") from problem
    if not all(isinstance(v, str) for v in data.values()):
        raise ValueError('every entry must be field = "column name"')
    return dict(data)
