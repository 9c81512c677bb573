"""review.build at 10M (the Quarterly review's queries and arithmetic, no Streamlit), one
process per code version; prints min wall and min CPU (process time: DuckDB's threads
included) over R runs per setting."""

import os
import sys
import time

sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parent.parent))
from analytics import catalog, db, periods, review
from analytics.filters import Filters

path, repeats = sys.argv[1], int(sys.argv[2])
con = db.connect(path, read_only=True)
cat = catalog.load(con)
quarter = max(periods.full_quarters(cat.first_date, cat.last_date), key=lambda q: q.start)
settings = {
    "default (prior quarter, EUR)": ("prior_quarter", "EUR", "reported"),
    "vs budget, USD": ("budget", "USD", "reported"),
    "vs budget, USD, at plan rates": ("budget", "USD", "plan"),
    "vs last year, GBP": ("last_year", "GBP", "reported"),
}
for label, (vs, currency, basis) in settings.items():
    f = Filters(period=quarter, comparison=quarter, currency=currency, basis=basis)
    review.build(con.cursor(), quarter, vs, f)  # warm
    walls, cpus = [], []
    for _ in range(repeats):
        t, c = time.perf_counter(), time.process_time()
        review.build(con.cursor(), quarter, vs, f)
        walls.append((time.perf_counter() - t) * 1000)
        cpus.append((time.process_time() - c) * 1000)
    print(
        f"{label}: wall min {min(walls):.0f} ms, CPU min {min(cpus):.0f} ms; load {os.getloadavg()[0]:.1f}",
        flush=True,
    )
