"""The sales process's vocabulary: the funnel's stages, forecast categories, deal statuses.

The funnel is the company's own: an opportunities import keeps its stage names, ordered by
the file's probability column where there is one (else as first seen), and an admin edits
names, order, status and probability on the Data page. It is stored in the table
funnel_stages (grain: one row per stage; position = its place in the funnel). A store
without that table or without rows (built before it existed, e.g. the demo) has the
default funnel below.
"""

from __future__ import annotations

import dataclasses
import math

import duckdb
import pandas as pd

from analytics import db, store
from analytics.errors import UserError

# The default funnel, in order; an open deal is in one of the open stages.
OPEN_STAGES = ("Prospecting", "Qualification", "Proposal", "Negotiation")
CLOSED_STAGES = ("Closed Won", "Closed Lost")
STAGES = OPEN_STAGES + CLOSED_STAGES

# Forecast categories; "omitted" deals count in no forecast level.
FORECAST_CATEGORIES = ("commit", "best case", "pipeline", "omitted")
# The cumulative forecast levels: best case includes commit, pipeline includes both.
FORECAST_LEVELS = ("commit", "best case", "pipeline")

STATUSES = ("open", "won", "lost")


class FunnelError(UserError):
    """A funnel that cannot be saved: the message says which stage and why."""


@dataclasses.dataclass(frozen=True)
class Stage:
    name: str
    status: str = "open"  # the status of a deal in this stage: open, won or lost
    probability: float | None = None  # 0..1, the company's chance of winning from here


DEFAULT_FUNNEL = (
    *(Stage(name) for name in OPEN_STAGES),
    Stage("Closed Won", "won", 1.0),
    Stage("Closed Lost", "lost", 0.0),
)


def _has_table(cur: duckdb.DuckDBPyConnection) -> bool:
    return bool(
        db.query_rows(
            cur,
            "SELECT count(*) FROM information_schema.tables "
            "WHERE table_schema = 'main' AND table_name = 'funnel_stages'",
        )[0][0]
    )


def stored(cur: duckdb.DuckDBPyConnection) -> tuple[Stage, ...]:
    """The stored funnel in order (empty when none is stored)."""
    if not _has_table(cur):
        return ()
    rows = db.query_rows(
        cur, "SELECT stage, status, probability FROM funnel_stages ORDER BY position, stage"
    )
    return tuple(
        Stage(name, status, None if p is None or math.isnan(p) else float(p))
        for name, status, p in rows
    )


def funnel(cur: duckdb.DuckDBPyConnection) -> tuple[Stage, ...]:
    """The company's funnel in order: the stored one, else the default."""
    return stored(cur) or DEFAULT_FUNNEL


def open_stages(cur: duckdb.DuckDBPyConnection) -> tuple[str, ...]:
    """The open stages in funnel order: the steps the Team and Forecast pages show."""
    return tuple(s.name for s in funnel(cur) if s.status == "open")


def merged(base: tuple[Stage, ...], new: list[Stage]) -> tuple[Stage, ...]:
    """`base` with the `new` stages (in the order first seen) put in: an open stage with a
    probability before the first open stage of a higher one, else after the last open stage;
    closed stages after every open one, won before lost. The base keeps its order, so an
    order edited on the Data page survives later imports."""
    out = list(base)
    for stage in new:
        if stage.status != "open":
            out.append(stage)
            continue
        opens = [i for i, s in enumerate(out) if s.status == "open"]
        higher = [
            i
            for i in opens
            if stage.probability is not None
            and out[i].probability is not None
            and out[i].probability > stage.probability
        ]
        where = higher[0] if higher else (opens[-1] + 1 if opens else 0)
        out.insert(where, stage)
    rank = {"open": 0, "won": 1, "lost": 2}
    return tuple(sorted(out, key=lambda s: rank[s.status]))  # stable: open order kept


def write(con: duckdb.DuckDBPyConnection, stages: tuple[Stage, ...]) -> None:
    """Replace the stored funnel (inside the caller's transaction). A store made before the
    table existed gets it here too (the app's upgrade creates it; a CLI import may come first)."""
    db.execute(con, store._table_definition("funnel_stages"))
    db.execute(con, "DELETE FROM funnel_stages")
    frame = pd.DataFrame(
        {
            "stage": [s.name for s in stages],
            "position": range(len(stages)),
            "status": [s.status for s in stages],
            "probability": pd.array([s.probability for s in stages], dtype="Float64"),
        }
    )
    con.register("funnel_rows", frame)
    try:
        db.execute(con, "INSERT INTO funnel_stages SELECT * FROM funnel_rows")
    finally:
        con.unregister("funnel_rows")


def check(stages: tuple[Stage, ...], used: dict[str, int]) -> None:
    """Raise FunnelError unless every stage has a name of its own (case-blind), a status and
    a probability from 0 to 100 %, one stage at least is open, and every stage a stored deal
    is in (`used`: stage -> deals in it) is kept."""
    names = [s.name.strip() for s in stages]
    if any(not n for n in names):
        raise FunnelError("Every stage needs a name.")
    seen: dict[str, str] = {}
    for name in names:
        if name.lower() in seen:
            raise FunnelError(f"Two stages are called “{name}”; give each its own name.")
        seen[name.lower()] = name
    for s in stages:
        if s.status not in STATUSES:
            raise FunnelError(f"{s.name}: the status must be one of {', '.join(STATUSES)}.")
        if s.probability is not None and not 0 <= s.probability <= 1:
            raise FunnelError(f"{s.name}: the probability must be from 0 % to 100 %.")
    if not any(s.status == "open" for s in stages):
        raise FunnelError("The funnel needs at least one open stage.")
    missing = sorted(set(used) - set(names))
    if missing:
        raise FunnelError(
            f"Stored deals are in {', '.join(missing)}: keep those stages (rename them to "
            "change their name)."
        )


def used_stages(cur: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Stage -> how many stored deals (now or in a weekly snapshot) are in it."""
    rows = db.query_rows(
        cur,
        """
        SELECT stage, count(DISTINCT opportunity_id) FROM (
            SELECT stage, opportunity_id FROM opportunities
            UNION ALL SELECT stage, opportunity_id FROM opportunity_snapshots
        ) GROUP BY stage
        """,
    )
    return {stage: int(n) for stage, n in rows}


def save(
    con: duckdb.DuckDBPyConnection,
    stages: tuple[Stage, ...],
    renamed: dict[str, str] | None = None,
) -> dict[str, int]:
    """Store an edited funnel in one transaction. `renamed` (old name -> new) renames the
    stage on every stored deal and snapshot too; a stage whose status changed gives that
    status to the deals in it now (a won stage's deals are won and counted as commit, a lost
    stage's lost and omitted). Returns how many deals were renamed and re-statused."""
    stages = tuple(dataclasses.replace(s, name=s.name.strip()) for s in stages)
    renamed = {old: new.strip() for old, new in (renamed or {}).items() if old != new.strip()}
    used = used_stages(con)
    after = {renamed.get(stage, stage): n for stage, n in used.items()}
    check(stages, after)
    counts = {"renamed": 0, "restatused": 0}
    with db.transaction(con):
        for old, new in renamed.items():
            counts["renamed"] += used.get(old, 0)
            for table in ("opportunities", "opportunity_snapshots"):
                db.execute(
                    con,
                    f"UPDATE {db.identifier(table)} SET stage = $new WHERE stage = $old",
                    {"new": new, "old": old},
                )
        for s in stages:
            if s.status == "open":
                continue  # an open stage may hold deals marked won or lost in the CRM
            category = "commit" if s.status == "won" else "omitted"
            changed = db.query_rows(
                con,
                "SELECT count(*) FROM opportunities WHERE stage = $stage AND status <> $status",
                {"stage": s.name, "status": s.status},
            )[0][0]
            if changed:
                counts["restatused"] += int(changed)
                db.execute(
                    con,
                    "UPDATE opportunities SET status = $status, forecast_category = $category "
                    "WHERE stage = $stage AND status <> $status",
                    {"stage": s.name, "status": s.status, "category": category},
                )
        write(con, stages)
    return counts
