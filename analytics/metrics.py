"""The metric definitions: one place for each figure's name, label, format and meaning.

Pages, tables and exports refer to metrics by name. `sql` is the aggregate over a converted
sales source with columns revenue, known_revenue (the revenue of the lines whose unit cost is
known), cost (of those lines) and units, and it is the SQL that runs:
`select_list` binds it to a source's columns (e.g. revenue_constant) and a period flag.
Metrics without `sql` have their own query. A figure computed from sums already fetched
uses the function of the same name below (gross_margin_pct, growth), built on `ratio`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Metric:
    name: str
    label: str
    kind: str  # "money", "percent", "count"
    description: str
    sql: str | None = None


METRICS: dict[str, Metric] = {
    m.name: m
    for m in (
        Metric(
            "net_revenue",
            "Net revenue",
            "money",
            "Sum over order lines of quantity x unit price x (1 - discount), returns negative, "
            "converted to the reporting currency.",
            "sum(revenue)",
        ),
        Metric(
            "gross_margin",
            "Gross margin",
            "money",
            "Net revenue of the lines with a known unit cost minus their cost (quantity x "
            "standard unit cost). A line without a cost has no margin, rather than 100 %.",
            "sum(known_revenue) - sum(cost)",
        ),
        Metric(
            "gross_margin_pct",
            "Gross margin %",
            "percent",
            "Gross margin as a share of the net revenue of the lines with a known unit cost.",
            "(sum(known_revenue) - sum(cost)) / nullif(sum(known_revenue), 0)",
        ),
        Metric(
            "margin_coverage",
            "Margin coverage",
            "percent",
            "Share of net revenue from lines with a known unit cost: the revenue the margin "
            "figures cover.",
            "sum(known_revenue) / nullif(sum(revenue), 0)",
        ),
        Metric("units", "Units", "count", "Units sold net of returns.", "sum(units)"),
        Metric("orders", "Orders", "count", "Distinct orders with at least one matching line."),
        Metric(
            "active_customers",
            "Active customers",
            "count",
            "Distinct customers with at least one matching order line in the period.",
        ),
        Metric(
            "growth",
            "Growth",
            "percent",
            "Net revenue vs the comparison period: current / comparison - 1. At constant "
            "currency the current period is valued at the comparison period's average rates.",
        ),
        Metric(
            "share", "Share of total", "percent", "Net revenue as a share of the filtered total."
        ),
    )
}

KPI_ROW = ("net_revenue", "gross_margin_pct", "units", "orders", "active_customers")


def metric(name: str) -> Metric:
    """Look a metric up by name, with an error that lists the known ones."""
    try:
        return METRICS[name]
    except KeyError:
        raise KeyError(f"Unknown metric {name!r}; known: {', '.join(METRICS)}") from None


# --- the same definitions over sums already fetched -------------------------------------------


def ratio(numerator, denominator):
    """numerator / denominator, NaN where the denominator is 0 or missing.

    Works on scalars (returns a float), on pandas Series (returns a Series) and on numpy
    arrays (returns an array: no index to align, so a few rows cost microseconds rather than
    pandas' fraction of a millisecond per operation); the one safe division every figure
    uses, so a zero base shows as "no value", never inf or 0.
    """
    if isinstance(denominator, np.ndarray):
        denominator = denominator.astype("float64")
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(denominator != 0, numerator / denominator, np.nan)
    if isinstance(denominator, pd.Series):
        denominator = denominator.astype("float64")
        return numerator / denominator.where(denominator != 0)
    if denominator is None or pd.isna(denominator) or float(denominator) == 0:
        if isinstance(numerator, pd.Series):
            return pd.Series(np.nan, index=numerator.index, dtype="float64")
        return np.nan
    if isinstance(numerator, pd.Series):
        return numerator / float(denominator)
    return np.nan if numerator is None else float(numerator) / float(denominator)


def gross_margin_pct(known_revenue, cost):
    """Gross margin as a share of the revenue with a known cost: (known - cost) / known."""
    return ratio(known_revenue - cost, known_revenue)


def margin_coverage(known_revenue, revenue):
    """Share of revenue whose cost is known (what the margin figures cover)."""
    return ratio(known_revenue, revenue)


def growth(current, prior):
    """Relative change: current / prior - 1 (NaN without a prior value)."""
    return ratio(current, prior) - 1


def forecast_accuracy(forecast, actual):
    """The standard forecast accuracy 1 - |forecast - actual| / actual: 100 % when the call
    was exact, lower the further off in either direction (negative when it was off by more
    than the actual); NaN without an actual. Not won / commit, which is commit conversion."""
    return 1 - ratio(abs(forecast - actual), actual)


# --- the definitions as SQL ------------------------------------------------------------------

_SOURCE_COLUMNS = ("revenue", "known_revenue", "cost", "units")
_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]*$")
_AGGREGATE = re.compile(r"sum\((revenue|known_revenue|cost|units)\)")


def expression(name: str, columns: dict[str, str] | None = None, where: str | None = None) -> str:
    """The metric's SQL with its source columns renamed by `columns` (e.g. {"revenue":
    "revenue_constant"}) and each aggregate restricted by the boolean column `where`.

    known_revenue follows revenue unless named: the sources call the known-cost twin of a
    revenue column known_<that column> (revenue_reported -> known_revenue_reported)."""
    sql = metric(name).sql
    if sql is None:
        raise ValueError(f"Metric {name!r} has no SQL over the sales source; it has its own query.")
    given = columns or {}
    columns = {c: c for c in _SOURCE_COLUMNS} | given
    if "known_revenue" not in given and "revenue" in given:
        columns["known_revenue"] = "known_" + given["revenue"]
    for column in [*columns.values(), *([where] if where else [])]:
        if not _IDENTIFIER.match(column):
            raise ValueError(f"Not a column name: {column!r}")
    clause = f" FILTER (WHERE {where})" if where else ""
    return _AGGREGATE.sub(lambda m: f"sum({columns[m.group(1)]}){clause}", sql)


def select_list(
    names: Iterable[str | tuple[str, str]],
    columns: dict[str, str] | None = None,
    where: str | None = None,
    suffix: str = "",
) -> str:
    """`expression AS alias{suffix}` for each metric, comma-separated, for a SELECT.

    An item is a metric name (the alias is the name) or a (metric name, alias) pair."""
    parts = []
    for item in names:
        name, alias = (item, item) if isinstance(item, str) else item
        if not _IDENTIFIER.match(alias + suffix):
            raise ValueError(f"Not a column name: {alias + suffix!r}")
        parts.append(f"{expression(name, columns, where)} AS {alias}{suffix}")
    return ", ".join(parts)
