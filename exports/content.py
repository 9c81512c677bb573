"""The quarterly review's rows and labels that every export format shares, formatted for people.

Every file carries the quarter, the comparison, the currency, the filters, the data date
and the rate source (Review.stamp).
"""

from __future__ import annotations

import pandas as pd

from analytics import bridge, formatting, periods, review
from analytics.review import EFFECT_LABELS, Review

PRODUCT = "Sales Atlas"
GAIN, LOSS, TOTAL_COLOUR, MUTED = "1A7F37", "C73E1D", "1F4E79", "6B7785"

BRIDGE_NOTE = (
    "Items are product × country. Volume: the change in units at the base quarter's average "
    "price. Mix: what the items sold are worth at their own base prices, beyond that average. "
    "Price: current prices at base rates against base prices, for items with net units in "
    "both quarters. New business: items with no base sales, no base price (net returns) or "
    "net returns now, at base rates. FX: reported minus constant-currency revenue."
)


def file_stem(data: Review) -> str:
    return f"quarterly_review_{periods.quarter_key(data.quarter)}_{data.vs}_{data.currency}"


def bridge_labels(data: Review) -> dict[str, str]:
    return EFFECT_LABELS | {"base": data.base.label, "current": data.quarter.label}


def headline_rows(data: Review) -> list[tuple[str, str, str]]:
    """(metric, value, comparison) for the headline, formatted for people."""
    h, cur, p = data.headline, data.currency, data.pipeline
    base = data.base.label
    money = formatting.money

    def change(value, kind="money") -> str:
        return formatting.change(value, kind) or "–"

    rows = [
        ("Net revenue (reported)", money(h["revenue"], cur), f"{change(h['growth'])} vs {base}"),
        (
            "Net revenue at constant currency",
            money(h["revenue_cc"], cur),
            f"{change(h['growth_cc'])} vs {base}, at {base} average rates",
        ),
        (
            "FX effect on growth",
            change(h["fx_effect"], "percent"),
            f"{money(h['fx_amount'], cur)} of revenue",
        ),
        (
            "Gross margin",
            formatting.percent(h["margin_pct"]),
            f"{change(_minus(h['margin_pct'], h['margin_pct_base']), 'percent')} vs {base}",
        ),
        (
            "Revenue vs budget",
            change(h["vs_budget"]),
            h["budget_note"]
            or f"budget {money(h['budget'], cur)} (EUR budget at the quarter's plan rate)",
        ),
        (
            "Quota attainment",
            formatting.percent(h["attainment"]),
            f"{money(h['booked_eur'], 'EUR')} booked of {money(h['quota_eur'], 'EUR')} quota"
            + (f" ({h['quota_holder']}'s own)" if h.get("quota_holder") else ""),
        )
        if not h.get("quota_scope")
        else ("Quota (per rep)", money(h["quota_eur"], "EUR"), h["quota_scope"]),
    ]
    if data.filters.basis == "plan":  # constant currency has its own row already
        fig = review.figures(data)
        rows.insert(
            1,
            (
                f"Net revenue ({data.basis_label})",
                money(fig["revenue"], cur),
                f"{change(fig['growth'])} vs {data.vs_label}",
            ),
        )
    if p["snapshot_date"] is None:
        rows.append((f"{p['quarter']} pipeline", "–", "no pipeline snapshot"))
    else:
        for key, label in (
            ("commit", "commit"),
            ("best_case", "best case"),
            ("pipeline", "pipeline"),
        ):
            share = p.get(f"{key}_share")
            note = (
                f"{formatting.percent(share, 0)} of quota {money(p['quota'], cur)}"
                if share is not None and share == share
                else f"quota {money(p['quota'], cur)}"
            )
            rows.append((f"{p['quarter']} {label}", money(p[key], cur), note))
    return rows


def _minus(a, b):
    return None if a is None or b is None else a - b


BUDGET_TITLE = "Budget to actual: operating and FX"
BUDGET_REGIONS_TITLE = "Gap to budget by region: operating and FX"
# The basis of every budget figure: the budget and the operating part at plan rates, the
# FX part the rest of the way to reported revenue.
BUDGET_BASIS = "at plan rates + FX"


def budget_title(data: Review) -> str:
    """The budget slide's title: what, the quarter, the currency and the basis."""
    return f"{BUDGET_TITLE} — {data.quarter.label} · {data.currency}, {BUDGET_BASIS}"


def budget_regions_title(data: Review) -> str:
    return f"{BUDGET_REGIONS_TITLE} — {data.quarter.label} · {data.currency}, {BUDGET_BASIS}"


def budget_bridge_labels(data: Review) -> dict[str, str]:
    return EFFECT_LABELS | {"base": f"Budget {data.quarter.label}", "current": "Actual"}


def _exact(value, currency: str, signed: bool = False) -> str:
    """Money to the cent (the deck's budget figures reconcile to the screen's exactly)."""
    if value is None or pd.isna(value):
        return "–"
    text = formatting.money(value, currency, cents=True)
    return "+" + text if signed and value > 0 and not formatting.is_zero(text) else text


def budget_region_table(data: Review) -> tuple[list[str], list[list[str]]]:
    """vs budget, per region and in total: budget, actual at plan rates, the operating and
    FX variance and their sum (reported − budget), to the cent; ([], []) for other
    comparisons or without a budget for the selection. A region with sales but no budget
    shows "–" for every budget figure."""
    if data.vs != "budget" or data.headline["budget_note"]:
        return [], []
    cur = data.currency
    header = [
        "Region",
        f"Budget ({cur})",
        f"Actual at plan rates ({cur})",
        f"Operating variance ({cur})",
        f"FX variance ({cur})",
        f"Reported − budget ({cur})",
    ]
    rows = [
        [
            r.region,
            _exact(r.budget, cur),
            _exact(r.revenue_plan, cur),
            _exact(r.variance_operating, cur, True),
            _exact(r.variance_fx, cur, True),
            _exact(r.variance, cur, True),
        ]
        for r in data.regions.itertuples()
    ]
    return header, rows


def budget_rows(data: Review) -> list[tuple[str, str, str]]:
    """vs budget: (step, amount, note) for the budget at plan rates, the variance split into
    operating and FX, and the budget bridge's effects, amounts exact; [] for other
    comparisons, one row saying why when there is no budget for the selection."""
    if data.vs != "budget":
        return []
    h, cur = data.headline, data.currency
    if h["budget_note"]:
        return [("Budget", "–", h["budget_note"])]

    def exact(value, signed=False) -> str:
        return _exact(value, cur, signed)

    rows = [
        ("Budget", exact(h["budget"]), "EUR budget at the quarter's plan rate"),
        (
            "Actual at plan rates",
            exact(h["revenue_plan"]),
            f"{formatting.change(h['vs_budget_operating'], 'money') or '–'} vs budget",
        ),
        ("Operating variance", exact(h["variance_operating"], True), "at plan rates − budget"),
        ("FX variance", exact(h["variance_fx"], True), "reported − at plan rates"),
        ("Reported − budget", exact(h["variance"], True), "operating + FX"),
    ]
    if data.budget_bridge is not None:
        for effect, amount in zip(
            data.budget_bridge["effect"], data.budget_bridge["amount"], strict=True
        ):
            if effect not in ("base", "current"):
                rows.append((f"Bridge: {EFFECT_LABELS[effect]}", exact(amount, True), ""))
    return rows


BUDGET_NOTE = bridge.BUDGET_BRIDGE_DEFINITION


def bridge_rows(data: Review) -> list[tuple[str, str]]:
    labels = bridge_labels(data)
    rows = []
    for effect, amount in zip(data.bridge["effect"], data.bridge["amount"], strict=True):
        text = formatting.money(amount, data.currency, compact=False)
        if effect not in ("base", "current") and amount > 0:
            text = "+" + text
        rows.append((labels[effect], text))
    return rows


def scorecard_table(data: Review) -> tuple[list[str], list[list[str]]]:
    cur = data.currency
    header = [
        "Region",
        f"Net revenue ({cur})",
        f"{data.base.label} ({cur})",
        "Growth",
        "Growth at CC",
        "FX (pp)",
        "Gross margin",
        "Budget",
        "vs budget",
        "Operating var.",
        "FX var.",
        "Attainment",
    ]
    rows = []
    for r in data.regions.itertuples():
        rows.append(
            [
                r.region,
                formatting.money(r.revenue, cur),
                formatting.money(r.revenue_base, cur),
                formatting.change(r.growth, "money") or "–",
                formatting.change(r.growth_cc, "money") or "–",
                "–" if pd.isna(r.fx_effect) else f"{r.fx_effect * 100:+.1f}",
                formatting.percent(r.margin_pct),
                formatting.money(r.budget, cur),
                formatting.change(r.vs_budget, "money") or "–",
                formatting.money(r.variance_operating, cur),
                formatting.money(r.variance_fx, cur),
                formatting.percent(r.attainment),
            ]
        )
    return header, rows


def movers_table(
    data: Review, kind: str, n: int = review.MOVERS_SHOWN
) -> tuple[list[str], list[list[str]]]:
    """The top gains and losses of countries or accounts, formatted."""
    cur = data.currency
    if kind == "countries":
        frame, name, where = review.top_movers(data.country_movers, n), "country", "region"
        header = ["Country", "Region"]
    else:
        frame, name, where = review.top_movers(data.account_movers, n), "customer", "country"
        header = ["Account", "Country"]
    header += [f"{data.base.label} ({cur})", f"{data.quarter.label} ({cur})", "Change", "Reason"]
    rows = [
        [
            str(row[name]),
            str(row[where]),
            formatting.money(row["r0"], cur),
            formatting.money(row["r1"], cur),
            ("+" if row["change"] > 0 else "") + formatting.money(row["change"], cur),
            str(row["reason"]),
        ]
        for _, row in frame.iterrows()
    ]
    return header, rows


def waterfall_parts(
    data: Review, effects: pd.DataFrame | None = None, labels: dict[str, str] | None = None
) -> list[tuple[str, float, float, str]]:
    """(label, low, high, colour) of each waterfall bar: the revenue bridge, or `effects`
    (the budget bridge) with their `labels`."""
    if effects is None:
        effects, labels = data.bridge, bridge_labels(data)
    parts, running = [], 0.0
    for effect, amount in zip(effects["effect"], effects["amount"], strict=True):
        if effect in ("base", "current"):
            parts.append((labels[effect], 0.0, amount, TOTAL_COLOUR))
            running = amount
        else:
            low, high = sorted((running, running + amount))
            parts.append((labels[effect], low, high, GAIN if amount >= 0 else LOSS))
            running += amount
    return parts


def forecast_landing_table(summary) -> tuple[list[str], list[list[str]]]:
    """The year-end landing per region and in total (a forecast Summary), for people."""
    cur, money = summary.shown.currency, formatting.money
    header = [
        "Region",
        f"Landing {summary.year}",
        "80 % interval",
        "95 % interval",
        "Budget",
        "vs budget",
    ]
    rows = [
        [
            r.group,
            money(r.landing, cur),
            f"{money(r.lo80, cur)} – {money(r.hi80, cur)}",
            f"{money(r.lo95, cur)} – {money(r.hi95, cur)}",
            money(r.budget, cur),
            formatting.change(r.versus_budget_pct, "money") or "–",
        ]
        for r in summary.landings.itertuples()
    ]
    return header, rows


def forecast_note(summary) -> str:
    """How the forecast and the landing were made, and their currency basis."""
    total = summary.landings.iloc[-1]
    return (
        f"All sales in reach, not the review's filters, as of {summary.shown.as_of:%d %b %Y}. "
        f"Landing = actual {int(total['months_actual'])} months of {summary.year} + the "
        f"forecast of the {int(total['months_forecast'])} left; intervals from the chosen "
        f"model's simulated paths. Total: {summary.method_note} {summary.shown.note()}"
    )
