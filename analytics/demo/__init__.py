"""The demo company: Nordwind Instruments, a fictional EUR-based maker of measuring instruments.

It sells five product lines in 64 countries through four channels, invoices in local
currency where the ECB publishes a rate (in EUR in other European markets, in USD through
distributors elsewhere), revises local price lists every January, and books costs in EUR,
so exchange-rate moves between revisions show up in EUR revenue and margin.

Deterministic: every value comes from numpy's PCG64 generator seeded with `seed` (never
DuckDB's random(), which is not reproducible under parallel execution), so the same seed
gives identical data. Arrays are generated in numpy and inserted in date order; string keys
are formed in SQL from integer codes. Order lines are generated and inserted in chunks of
whole orders, so a build's memory stays bounded at any size (orders.py says how the chunks
keep every draw where the whole-frame generator made it).
build.build() draws from the one generator in a fixed order: generating a part in another
order, or drawing once more anywhere, changes every figure after it.

Where each part is made, in the order build.build() makes them:
- company.py   shared parameters: period, channels, regional growth, invoicing currency
- world.py     products, countries, global accounts, reps and customers
- rates.py     units per EUR for every demo day (from the store's ECB rates)
- prices.py    local price lists, revised every January
- orders.py    order lines: days, lines, products, quantities, discounts, returns
- plan.py      quotas, budgets, plan rates (the prior year's average) and market data
- pipeline.py  opportunities, weekly snapshots and activities
- build.py     build_database / build: the transactions, progress and the import_log row
- writing.py   a generated frame into a store table
"""

from analytics.demo.build import Progress, build, build_database
from analytics.demo.company import COMPANY, END, PLAN_END, START, YEARS, invoicing_currency
from analytics.demo.world import customer_ids

__all__ = [
    "COMPANY",
    "END",
    "PLAN_END",
    "START",
    "YEARS",
    "Progress",
    "build",
    "build_database",
    "customer_ids",
    "invoicing_currency",
]
