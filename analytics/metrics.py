"""The metric definitions: one place for each figure's name, label, format and meaning.

Pages, tables and exports refer to metrics by name. `sql` is the aggregate over a converted
sales source (columns revenue, cost, units); metrics without it have their own query.
"""

from __future__ import annotations

from dataclasses import dataclass


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
            "Net revenue minus cost (quantity x standard unit cost).",
            "sum(revenue) - sum(cost)",
        ),
        Metric(
            "gross_margin_pct",
            "Gross margin %",
            "percent",
            "Gross margin as a share of net revenue.",
            "(sum(revenue) - sum(cost)) / nullif(sum(revenue), 0)",
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
