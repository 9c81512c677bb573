"""The Quarterly review's charts (on screen and in the exported deck): bridge, movers, pipeline."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from ui.charts.common import GAIN, LOSS, MONEY_TICKS, TOTAL_COLOUR, amount_label, layout
from ui.text import plot, plot_column


def bridge_waterfall(
    bridge: pd.DataFrame,
    labels: dict[str, str],
    currency: str,
    title: str,
    y_title: str = "Net revenue",
    from_zero: bool = False,
) -> go.Figure:
    """The revenue bridge as a waterfall: base quarter, each effect, current quarter.

    `labels` names each effect (the two ends by their quarters). The axis is cut above zero
    when that keeps small effects visible, and then says so on the chart; `from_zero` keeps
    it whole (the meeting room, where a cut axis makes +14 % look threefold).
    """
    ends = {"base", "current"}
    fig = go.Figure(
        go.Waterfall(
            x=[plot(labels[e]) for e in bridge["effect"]],
            y=bridge["amount"],  # a "total" bar ignores its y and shows the running sum
            measure=[
                "absolute" if e == "base" else "total" if e == "current" else "relative"
                for e in bridge["effect"]
            ],
            text=[
                amount_label(v, signed=e not in ends)
                for e, v in zip(bridge["effect"], bridge["amount"], strict=True)
            ],
            textposition="outside",
            customdata=bridge[["effect"]],
            increasing={"marker": {"color": GAIN}},
            decreasing={"marker": {"color": LOSS}},
            totals={"marker": {"color": TOTAL_COLOUR}},
            connector={"line": {"color": "#8d99ae", "width": 1}},
            hovertemplate=f"%{{x}}: %{{y:,.0f}} {currency}<extra></extra>",
        )
    )
    fig.update_yaxes(
        title=f"{y_title} ({currency})",
        tickformat=MONEY_TICKS,
        gridcolor="#e5e5e5",
        range=_waterfall_range(bridge["amount"], from_zero),
    )
    fig.update_xaxes(title=None)
    fig.update_layout(showlegend=False)
    bottom = fig.layout.yaxis.range[0]
    if bottom > 0:
        fig.add_annotation(
            text=f"⚠ Axis cut: starts at {amount_label(bottom)} {currency}, not zero",
            xref="paper",
            yref="paper",
            x=1,
            y=1,
            xanchor="right",
            yanchor="bottom",  # above the plot, clear of the bars and the title on the left
            showarrow=False,
            font={"color": LOSS, "size": 12},
            bgcolor="rgba(255,255,255,0.85)",
        )
    return layout(fig, title, height=460)


def _waterfall_range(amounts: pd.Series, from_zero: bool = False) -> list[float]:
    """The y range of a waterfall whose last amount is the closing total.

    When every running total stays in the upper half of the tallest, the axis starts just
    below the smallest so that small effects stay visible (a revenue bridge); otherwise it
    starts at zero, since a cut axis would make a small closing bar look like nothing (a
    pipeline that mostly closed). Room is left for the labels outside the bars."""
    levels = [*amounts.cumsum().iloc[:-1], amounts.iloc[-1]]
    low, high = float(min(levels)), float(max(levels))
    zoom = low > 0.5 * high and not from_zero
    bottom = max(0.0, low - 0.25 * (high - low)) if zoom else min(0.0, low * 1.1)
    return [bottom, high + 0.1 * (high - bottom)]


def signed_bars(
    frame: pd.DataFrame, label: str, value: str, currency: str, title: str, hover: str = ""
) -> go.Figure:
    """Horizontal bars of a signed amount (gains green, losses red), largest gain on top.

    `hover` names a column shown on hover (e.g. the reason for a change).
    """
    rows = frame.sort_values(value, ascending=True)
    fig = go.Figure(
        go.Bar(
            x=rows[value],
            y=plot_column(rows[label]),
            orientation="h",
            marker={"color": [GAIN if v >= 0 else LOSS for v in rows[value]]},
            text=[amount_label(v, signed=True) for v in rows[value]],
            textposition="auto",
            customdata=plot_column(rows[hover]).to_frame() if hover else None,
            hovertemplate=f"%{{y}}: %{{x:,.0f}} {currency}"
            + ("<br>%{customdata[0]}" if hover else "")
            + "<extra></extra>",
        )
    )
    fig.update_xaxes(
        title=f"{currency}", tickformat=MONEY_TICKS, gridcolor="#e5e5e5", zerolinecolor="#444"
    )
    fig.update_yaxes(title=None, automargin=True)
    return layout(fig, title, height=max(300, 30 * len(rows) + 130))


def pipeline_bars(pipeline: dict, currency: str, title: str) -> go.Figure:
    """Next quarter's pipeline by forecast level (cumulative) against its quota."""
    levels = ["Commit", "Best case", "Pipeline"]
    values = [pipeline["commit"], pipeline["best_case"], pipeline["pipeline"]]
    fig = go.Figure(
        go.Bar(
            x=levels,
            y=values,
            marker={"color": ["#1f4e79", "#2e86ab", "#8ecae6"]},
            text=[amount_label(v, signed=True) for v in values],
            textposition="outside",
            hovertemplate=f"%{{x}}: %{{y:,.0f}} {currency}<extra></extra>",
        )
    )
    if pipeline.get("quota"):
        fig.add_hline(
            y=pipeline["quota"],
            line={"color": LOSS, "dash": "dash", "width": 2},
            annotation_text=f"Quota {amount_label(pipeline['quota'])}",
            annotation_position="top left",
        )
    top = max([v for v in values if v is not None] + [pipeline.get("quota") or 0])
    fig.update_yaxes(
        title=f"Open pipeline ({currency})",
        tickformat=MONEY_TICKS,
        gridcolor="#e5e5e5",
        range=[0, top * 1.15 or 1],
    )
    return layout(fig, title, height=380)


def budget_bridge_title(data) -> str:
    """The budget bridge chart's title: the quarter, the currency and the basis."""
    return (
        f"Budget to actual {data.quarter.label} — {data.currency}, budget and operating "
        "effects at plan rates, FX to reported"
    )


def review_figures(data) -> dict[str, go.Figure]:
    """The quarterly review's charts as the PDF embeds them (keys bridge, countries,
    budget_bridge vs budget and, when there is a pipeline snapshot, pipeline). `data` is an analytics.review.Review."""
    from analytics import review
    from exports import content

    period = f"{data.base.label} → {data.quarter.label}"
    movers = review.top_movers(data.country_movers)
    figures = {
        "bridge": bridge_waterfall(
            data.bridge,
            content.bridge_labels(data),
            data.currency,
            f"Revenue bridge {period} — {data.currency}, reported",
        ),
        "countries": signed_bars(
            movers.assign(label=movers["country"] + " · " + movers["reason"]),
            "label",
            "change",
            data.currency,
            f"Countries: largest gains and losses — {data.currency}, {period}",
        ),
    }
    if data.budget_bridge is not None:
        figures["budget_bridge"] = bridge_waterfall(
            data.budget_bridge,
            content.budget_bridge_labels(data),
            data.currency,
            budget_bridge_title(data),
        )
    if data.pipeline["snapshot_date"] is not None:
        figures["pipeline"] = pipeline_bars(
            data.pipeline,
            data.currency,
            f"Pipeline due in {data.pipeline['quarter']} vs quota — {data.currency}",
        )
    return figures
