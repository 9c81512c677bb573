"""The quarters a page offers, from the span of sales the store holds."""

from __future__ import annotations

import datetime as dt

from analytics import periods
from analytics.catalog import Catalog
from analytics.periods import Period


def full_quarters(catalog: Catalog) -> list[Period]:
    """Every whole calendar quarter between the first and the last day of sales."""
    return periods.full_quarters(catalog.first_date, catalog.last_date)


def this_and_next_quarter(day: dt.date) -> list[Period]:
    """The quarter `day` falls in and the one after it."""
    current = periods.quarter(day)
    return [current, periods.quarter(current.end + dt.timedelta(days=1))]
