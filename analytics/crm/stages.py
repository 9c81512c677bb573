"""The sales process's vocabulary: funnel stages, forecast categories, deal statuses."""

from __future__ import annotations

# The funnel, in order; an open deal is in one of these.
OPEN_STAGES = ("Prospecting", "Qualification", "Proposal", "Negotiation")
CLOSED_STAGES = ("Closed Won", "Closed Lost")
STAGES = OPEN_STAGES + CLOSED_STAGES

# Forecast categories; "omitted" deals count in no forecast level.
FORECAST_CATEGORIES = ("commit", "best case", "pipeline", "omitted")
# The cumulative forecast levels: best case includes commit, pipeline includes both.
FORECAST_LEVELS = ("commit", "best case", "pipeline")

STATUSES = ("open", "won", "lost")
