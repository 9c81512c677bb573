"""The demo company: Nordwind Instruments, a fictional EUR-based maker of measuring instruments.

It sells five product lines in 64 countries through four channels, invoices in local
currency where the ECB publishes a rate (in EUR in other European markets, in USD through
distributors elsewhere), revises local price lists every January, and books costs in EUR,
so exchange-rate moves between revisions show up in EUR revenue and margin.

Deterministic: every value comes from numpy's PCG64 generator seeded with `seed` (never
DuckDB's random(), which is not reproducible under parallel execution), so the same seed
gives identical data. Arrays are generated in numpy and inserted in date order; string keys
are formed in SQL from integer codes, which keeps a 10M-line build to a few seconds.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from collections.abc import Callable
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from analytics import db, reference, rollups, store
from analytics.crm.stages import OPEN_STAGES as STAGES

COMPANY = "Nordwind Instruments (fictional)"
START = dt.date(2021, 1, 1)
END = dt.date(2026, 9, 30)
YEARS = tuple(range(START.year, END.year + 1))
PLAN_END = dt.date(2026, 12, 31)  # quotas and budgets run to the end of the current year

Progress = Callable[[float, str], None]

# Product lines: (name, categories, base price range in EUR, cost share of base price).
PRODUCT_LINES = (
    ("Sensors", ("Temperature probes", "Pressure transmitters", "Level sensors"), (60, 600), 0.42),
    ("Analyzers", ("Gas analyzers", "Liquid analyzers"), (1_500, 12_000), 0.55),
    ("Flow Control", ("Flow meters", "Control valves"), (400, 4_000), 0.58),
    ("Data Loggers", ("Portable loggers", "Wireless gateways"), (150, 1_500), 0.48),
    ("Calibration", ("Calibration kits", "Reference standards"), (300, 2_800), 0.50),
)
PRODUCTS_PER_CATEGORY = 8
MODEL_NAMES = ("Aria", "Borea", "Cirrus", "Delta", "Echo", "Fjord", "Gale", "Halo", "Iris", "Juno")

# Cumulative list-price increase in EUR terms per year (the inflation years show).
PRICE_INDEX = {2021: 1.0, 2022: 1.04, 2023: 1.11, 2024: 1.155, 2025: 1.19, 2026: 1.225}
COST_GROWTH = 0.035  # unit costs rise 3.5% a year

# Channel: (share of customers outside distributor markets, discount range, mean quantity,
# lines per order range). Small markets are served only by distributors and the web shop.
CHANNELS = ("key account", "distributor", "direct", "web")
CHANNEL_SHARE = np.array([0.05, 0.10, 0.55, 0.30])
DISCOUNT_RANGE = {
    "key account": (0.15, 0.25),
    "distributor": (0.30, 0.40),
    "direct": (0.03, 0.12),
    "web": (0.0, 0.05),
}
MEAN_QUANTITY = {"key account": 8.0, "distributor": 6.0, "direct": 2.5, "web": 0.5}
LINES_PER_ORDER = {"key account": (2, 9), "distributor": (2, 7), "direct": (1, 4), "web": (1, 2)}
ORDER_RATE = {"key account": 5.0, "distributor": 3.0, "direct": 1.2, "web": 0.8}

# Yearly growth by region: the company is established in Western Europe and expanding east
# and in Asia.
REGION_GROWTH = {
    reference.WE: 0.02,
    reference.NE: 0.035,
    reference.CEE: 0.09,
    reference.AM: 0.06,
    reference.AP: 0.11,
    reference.MEA: 0.05,
}
REGION_PRESENCE = {  # relative sales strength per unit of GDP
    reference.WE: 1.0,
    reference.NE: 1.2,
    reference.CEE: 0.9,
    reference.AM: 0.22,
    reference.AP: 0.16,
    reference.MEA: 0.25,
}
# Month-of-year seasonality (January slow, summer lull, year-end push).
SEASONALITY = np.array([0.80, 0.92, 1.10, 1.00, 1.00, 1.08, 0.82, 0.70, 1.05, 1.10, 1.15, 1.25])
RETURN_SHARE = 0.02

GLOBAL_ACCOUNTS = (
    "Helvion Chemicals",
    "Aurelia Pharma",
    "Baltram Energy",
    "Corvex Foods",
    "Dunmore Water",
    "Estrella Mining",
    "Falkner Automotive",
    "Granitek Steel",
    "Hydra Semiconductors",
    "Iberion Utilities",
    "Jansen Breweries",
    "Kestrel Paper",
)
NAME_PARTS = (
    (
        "Alpen",
        "Nord",
        "Sud",
        "West",
        "Ost",
        "Rhein",
        "Delta",
        "Prime",
        "Vista",
        "Terra",
        "Aqua",
        "Bio",
        "Chem",
        "Thermo",
        "Agro",
        "Petro",
        "Metro",
        "Hydro",
        "Electra",
        "Vario",
    ),
    (
        "tech",
        "lab",
        "werk",
        "flow",
        "chem",
        "tron",
        "gen",
        "core",
        "line",
        "plan",
        "mess",
        "tek",
        "dyn",
        "sys",
        "serv",
        "pro",
        "max",
        "data",
        "test",
        "form",
    ),
)
LEGAL_FORM = {
    "DE": "GmbH",
    "AT": "GmbH",
    "CH": "AG",
    "FR": "SAS",
    "IT": "S.p.A.",
    "ES": "S.L.",
    "PT": "Lda.",
    "NL": "B.V.",
    "BE": "NV",
    "SE": "AB",
    "NO": "AS",
    "DK": "A/S",
    "FI": "Oy",
    "PL": "Sp. z o.o.",
    "CZ": "s.r.o.",
    "SK": "s.r.o.",
    "HU": "Kft.",
    "RO": "S.R.L.",
    "US": "Inc.",
    "CA": "Inc.",
    "BR": "Ltda.",
    "MX": "S.A. de C.V.",
    "JP": "K.K.",
    "CN": "Co., Ltd.",
    "AU": "Pty Ltd",
    "IN": "Pvt. Ltd.",
}
FIRST_NAMES = (
    "Anna",
    "Lukas",
    "Sofia",
    "Mateo",
    "Emma",
    "Jonas",
    "Chloé",
    "Marco",
    "Ingrid",
    "Piotr",
    "Elena",
    "Kenji",
    "Priya",
    "Omar",
    "Lucía",
    "David",
    "Mei",
    "Tomás",
    "Sara",
    "Ahmed",
    "Julia",
    "Henrik",
    "Aisha",
    "Carlos",
)
LAST_NAMES = (
    "Becker",
    "Dubois",
    "Rossi",
    "García",
    "Nielsen",
    "Kowalski",
    "Novak",
    "Smith",
    "Tanaka",
    "Sharma",
    "Haddad",
    "Silva",
    "Lindqvist",
    "Müller",
    "Costa",
    "Chen",
    "Moreau",
    "Horvath",
    "Kaya",
    "Walsh",
    "Jensen",
    "Popescu",
    "Bauer",
    "Ortiz",
)

STAGE_FORECAST = ("pipeline", "pipeline", "best case", "commit")
ACTIVITY_TYPES = np.array(["call", "email", "meeting", "visit", "demo"])
ACTIVITY_WEIGHTS = np.array([0.34, 0.30, 0.16, 0.12, 0.08])


def build_database(
    path: str | Path, rows: int = 1_000_000, seed: int = 42, progress: Progress | None = None
) -> None:
    """Create a new store at `path` holding the demo company (refuses an existing store)."""
    path = Path(path)
    if path.exists() and path.stat().st_size > 0:
        raise ValueError(f"{path} already exists; the demo is only built into a new file.")
    con = db.connect(path)
    try:
        store.create_schema(con)
        _report(progress, 0.02, "Loading the ECB exchange-rate history…")
        store.init_reference_data(con)
        build(con, rows=rows, seed=seed, progress=progress)
        con.execute("CHECKPOINT")
    finally:
        con.close()


def build(
    con: duckdb.DuckDBPyConnection,
    rows: int = 1_000_000,
    seed: int = 42,
    progress: Progress | None = None,
) -> None:
    """Fill every company table of a store that has its schema, countries and rates."""
    if rows < 1_000:
        raise ValueError(f"The demo needs at least 1,000 order lines (asked for {rows:,}).")
    started = dt.datetime.now()
    rng = np.random.default_rng(seed)
    rates = _RateMatrix(con)
    con.execute("BEGIN TRANSACTION")
    try:
        _report(progress, 0.10, "Creating products, customers and sales teams…")
        world = _World(rng, rows)
        world.insert(con, rng)
        _report(progress, 0.15, "Writing local price lists…")
        prices = _PriceLists(world, rates)
        prices.insert(con)
        _report(progress, 0.25, f"Generating {rows:,} order lines…")
        _insert_order_lines(con, rng, world, prices, rates, rows)
        _report(progress, 0.65, "Building the daily rollups…")
        rollups.rebuild_sales_rollups(con)
        _report(progress, 0.80, "Setting quotas and budgets…")
        _insert_quotas_and_budgets(con, rng)
        _report(progress, 0.85, "Generating opportunities, snapshots and activities…")
        _insert_pipeline(con, rng, world, rates, rows)
        _insert_activities(con, rng, world, rows)
        _insert_market_data(con, rng, world)
        _log_build(con, rows, seed, started)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    _report(progress, 1.0, "Demo company ready")


def _report(progress: Progress | None, done: float, message: str) -> None:
    if progress is not None:
        progress(done, message)


def _insert_frame(
    con: duckdb.DuckDBPyConnection,
    table: str,
    frame: pd.DataFrame,
    select: str = "*",
    params: list | None = None,
) -> None:
    """Insert a generated frame into a contract table (the table name is allow-listed)."""
    name = f"demo_{uuid.uuid4().hex}"
    con.register(name, frame)
    try:
        db.execute(con, f"INSERT INTO {db.identifier(table)} SELECT {select} FROM {name}", params)
    finally:
        con.unregister(name)


class _RateMatrix:
    """Units per EUR for every calendar day of the demo and every currency it invoices in."""

    def __init__(self, con: duckdb.DuckDBPyConnection):
        self.first = START - dt.timedelta(days=40)  # December rates set January's price lists
        self.days = (END - self.first).days + 1
        frame = db.query(
            con,
            "SELECT rate_date, currency_code, units_per_eur FROM fx_daily "
            "WHERE rate_date BETWEEN ? AND ?",
            [self.first, END],
        )
        self.currencies = sorted(frame["currency_code"].unique())
        self.index = {c: i for i, c in enumerate(self.currencies)}
        self.values = np.full((self.days, len(self.currencies)), np.nan)
        day = (pd.to_datetime(frame["rate_date"]) - pd.Timestamp(self.first)).dt.days.to_numpy()
        col = frame["currency_code"].map(self.index).to_numpy()
        self.values[day, col] = frame["units_per_eur"].to_numpy()

    def day_index(self, date: dt.date) -> int:
        return (date - self.first).days

    def lookup(self, days_since_start: np.ndarray, currency_idx: np.ndarray) -> np.ndarray:
        """Rates for demo day numbers (0 = START); raises if any is missing."""
        values = self.values[days_since_start + (START - self.first).days, currency_idx]
        if np.isnan(values).any():
            raise RuntimeError("The ECB history lacks a rate the demo needs; rebuild the store.")
        return values

    def december_mean(self, currency: str, year: int) -> float:
        lo = self.day_index(dt.date(year - 1, 12, 1))
        hi = self.day_index(dt.date(year - 1, 12, 31))
        return float(np.nanmean(self.values[lo : hi + 1, self.index[currency]]))


class _World:
    """Products, countries, global accounts, reps and customers, as numpy arrays."""

    def __init__(self, rng: np.random.Generator, rows: int):
        self.countries = [c for c in reference.COUNTRIES]
        n_countries = len(self.countries)
        # Products
        lines, categories, names, base, cost_share = [], [], [], [], []
        for line_name, cats, (lo, hi), share in PRODUCT_LINES:
            for cat in cats:
                for k in range(PRODUCTS_PER_CATEGORY):
                    lines.append(line_name)
                    categories.append(cat)
                    names.append(f"{cat[:-1] if cat.endswith('s') else cat} {MODEL_NAMES[k]}")
                    base.append(lo * (hi / lo) ** ((k + rng.uniform(0, 1)) / PRODUCTS_PER_CATEGORY))
                    cost_share.append(share * rng.uniform(0.85, 1.15))
        self.product_line = np.array(lines)
        self.product_category = np.array(categories)
        self.product_name = np.array(names)
        self.base_price_eur = np.round(np.array(base), 0)
        self.cost_eur = np.round(self.base_price_eur * np.array(cost_share), 2)
        n_products = len(lines)
        # Cheap items sell in larger quantities; each product has its own popularity.
        self.quantity_factor = np.clip((400 / self.base_price_eur) ** 0.5, 0.15, 3.0)
        self.popularity = rng.lognormal(0, 0.6, n_products)

        # Countries: sales weight from GDP and the company's presence in the region.
        self.country_code = np.array([c.code for c in self.countries])
        self.region = np.array([c.region for c in self.countries])
        gdp = np.array([c.gdp_usd_bn for c in self.countries])
        presence = np.array([REGION_PRESENCE[c.region] for c in self.countries])
        self.country_weight = gdp**0.8 * presence * rng.lognormal(0, 0.35, n_countries)
        self.country_growth = np.array(
            [REGION_GROWTH[c.region] for c in self.countries]
        ) + rng.normal(0, 0.025, n_countries)
        self.price_factor = rng.uniform(0.92, 1.15, n_countries)  # local price positioning
        # Small markets (no ECB rate for the currency): distributors and web only.
        self.distributor_market = np.array(
            [c.currency not in _ECB_INVOICING and c.currency != "EUR" for c in self.countries]
        )

        # Reps: a head of sales, one manager per region, reps in proportion to the region.
        regions = list(REGION_GROWTH)
        region_weight = {r: self.country_weight[self.region == r].sum() for r in regions}
        total_weight = sum(region_weight.values())
        n_reps_total = int(np.clip(rows // 20_000, 30, 120))
        rep_rows = [("R0001", _person(rng), "Sales leadership", "Global", None)]
        self.reps_by_region: dict[str, list[int]] = {}
        for region in regions:
            manager = f"R{len(rep_rows) + 1:04d}"
            rep_rows.append((manager, _person(rng), f"{region} team", region, "R0001"))
            count = max(2, round(n_reps_total * region_weight[region] / total_weight))
            self.reps_by_region[region] = [len(rep_rows) - 1]
            for _ in range(count):
                rep_rows.append(
                    (f"R{len(rep_rows) + 1:04d}", _person(rng), f"{region} team", region, manager)
                )
                self.reps_by_region[region].append(len(rep_rows) - 1)
        self.reps = pd.DataFrame(
            rep_rows, columns=["rep_id", "name", "team", "region", "manager_id"]
        )

        # Customers, in proportion to each country's sales weight.
        n_customers = int(np.clip(rows // 250, 400, 40_000))
        country_p = self.country_weight / self.country_weight.sum()
        cust_country = np.sort(rng.choice(n_countries, n_customers, p=country_p))
        # Every country gets at least a distributor and a few customers.
        cust_country = np.concatenate([np.repeat(np.arange(n_countries), 3), cust_country])
        n_customers = len(cust_country)
        channel = rng.choice(4, n_customers, p=CHANNEL_SHARE)
        small = self.distributor_market[cust_country]
        channel[small] = np.where(rng.uniform(0, 1, small.sum()) < 0.75, 1, 3)
        channel[: n_countries * 3 : 3] = 1  # the first customer of each country: a distributor
        global_account = np.full(n_customers, -1)
        # Global key accounts: subsidiaries in 4 to 10 countries each, in larger markets.
        big = np.flatnonzero(~self.distributor_market)
        extra_country, extra_account = [], []
        for g in range(len(GLOBAL_ACCOUNTS)):
            k = rng.integers(4, 11)
            p = self.country_weight[big] / self.country_weight[big].sum()
            for country in rng.choice(big, k, replace=False, p=p):
                extra_country.append(country)
                extra_account.append(g)
        cust_country = np.concatenate([cust_country, extra_country])
        channel = np.concatenate([channel, np.zeros(len(extra_country), dtype=channel.dtype)])
        global_account = np.concatenate([global_account, extra_account])
        n_customers = len(cust_country)
        self.cust_country = cust_country
        self.cust_channel = channel
        self.cust_global = global_account
        # Order frequency: a heavy-tailed customer size, scaled by channel.
        rate = np.array([ORDER_RATE[CHANNELS[c]] for c in channel])
        self.cust_order_weight = rate * rng.lognormal(0, 0.75, n_customers)
        self.cust_order_weight[global_account >= 0] *= 2.0
        lo = np.array([DISCOUNT_RANGE[CHANNELS[c]][0] for c in channel])
        hi = np.array([DISCOUNT_RANGE[CHANNELS[c]][1] for c in channel])
        self.cust_discount = lo + (hi - lo) * rng.uniform(0, 1, n_customers)
        # Customers start and leave over time: a third are won during the years shown and
        # some leave. The largest tenth (and global accounts) stay throughout, so one
        # account cannot swing a country's year on its own.
        total_days = (END - START).days + 1
        steady = (global_account >= 0) | (
            self.cust_order_weight >= np.quantile(self.cust_order_weight, 0.9)
        )
        start_day = np.where(
            rng.uniform(0, 1, n_customers) < 0.35, rng.integers(0, total_days - 30, n_customers), 0
        )
        end_day = np.where(
            rng.uniform(0, 1, n_customers) < 0.12,
            start_day + rng.integers(180, total_days, n_customers),
            total_days - 1,
        )
        start_day[steady] = 0
        end_day[steady] = total_days - 1
        self.cust_start = start_day
        self.cust_end = np.minimum(end_day, total_days - 1)
        # The account owner: a rep of the customer's region; web shop orders are unassigned.
        owner = np.empty(n_customers, dtype=np.int64)
        for region, reps in self.reps_by_region.items():
            mask = self.region[cust_country] == region
            owner[mask] = rng.choice(np.array(reps[1:]), mask.sum())
        self.cust_rep = np.where(channel == 3, -1, owner)
        self.cust_rep_any = owner  # web customers still have an account manager for activities
        self.n_products = n_products
        self.n_customers = n_customers
        # Product preference differs by region (Asia buys more analyzers, and so on).
        self.region_line_affinity = {
            region: dict(
                zip(
                    [p[0] for p in PRODUCT_LINES],
                    rng.uniform(0.6, 1.5, len(PRODUCT_LINES)),
                    strict=True,
                )
            )
            for region in regions
        }

    def customer_names(self, rng: np.random.Generator) -> list[str]:
        first = rng.integers(0, len(NAME_PARTS[0]), self.n_customers)
        second = rng.integers(0, len(NAME_PARTS[1]), self.n_customers)
        names = []
        for i in range(self.n_customers):
            code = self.country_code[self.cust_country[i]]
            g = self.cust_global[i]
            if g >= 0:
                names.append(f"{GLOBAL_ACCOUNTS[g]} {self.countries[self.cust_country[i]].name}")
            elif self.cust_channel[i] == 3:
                names.append(f"Web customer {code}-{i + 1:05d}")
            else:
                base = NAME_PARTS[0][first[i]] + NAME_PARTS[1][second[i]]
                names.append(f"{base} {LEGAL_FORM.get(code, 'Ltd')}")
        return names

    def insert(self, con: duckdb.DuckDBPyConnection, rng: np.random.Generator) -> None:
        products = pd.DataFrame(
            {
                "product_id": [f"P{i + 1:03d}" for i in range(self.n_products)],
                "sku": [
                    f"NW-{self.product_line[i][:3].upper()}-{i + 1:04d}"
                    for i in range(self.n_products)
                ],
                "name": self.product_name,
                "product_line": self.product_line,
                "category": self.product_category,
            }
        )
        _insert_frame(con, "products", products)
        accounts = pd.DataFrame(
            {
                "global_account_id": [f"G{i + 1:02d}" for i in range(len(GLOBAL_ACCOUNTS))],
                "name": list(GLOBAL_ACCOUNTS),
            }
        )
        _insert_frame(con, "global_accounts", accounts)
        _insert_frame(con, "reps", self.reps)
        customers = pd.DataFrame(
            {
                "customer_id": customer_ids(self.n_customers),
                "name": self.customer_names(rng),
                "country_code": self.country_code[self.cust_country],
                "segment": np.array(CHANNELS)[self.cust_channel],
                "global_account_id": [
                    f"G{g + 1:02d}" if g >= 0 else None for g in self.cust_global
                ],
            }
        )
        _insert_frame(con, "customers", customers)


# Currencies the demo invoices in: those with ECB rates all through 2021–2026.
_ECB_INVOICING = {
    "AUD",
    "BRL",
    "CAD",
    "CHF",
    "CNY",
    "CZK",
    "DKK",
    "GBP",
    "HKD",
    "HUF",
    "IDR",
    "ILS",
    "INR",
    "ISK",
    "JPY",
    "KRW",
    "MXN",
    "MYR",
    "NOK",
    "NZD",
    "PHP",
    "PLN",
    "RON",
    "SEK",
    "SGD",
    "THB",
    "TRY",
    "USD",
    "ZAR",
}


def customer_ids(n: int) -> list[str]:
    return [f"C{i + 1:06d}" for i in range(n)]


def _person(rng: np.random.Generator) -> str:
    return (
        f"{FIRST_NAMES[rng.integers(len(FIRST_NAMES))]} {LAST_NAMES[rng.integers(len(LAST_NAMES))]}"
    )


def invoicing_currency(country: reference.Country, year: int) -> str:
    """The currency the demo invoices a country in during a year."""
    legacy = reference.LEGACY_CURRENCIES.get(country.code)
    if legacy and year <= legacy[1].year:
        return legacy[0]
    if country.currency == "EUR" or country.currency in _ECB_INVOICING:
        return country.currency
    # No ECB rate: European distributors are invoiced in EUR, all others in USD.
    return "EUR" if country.region in (reference.WE, reference.NE, reference.CEE) else "USD"


class _PriceLists:
    """Local list prices per product x country x year, revised every 1 January.

    The EUR base price times the country's positioning, converted at the previous
    December's average rate and rounded to three significant figures.
    """

    def __init__(self, world: _World, rates: _RateMatrix):
        n_years = len(YEARS)
        n_countries = len(world.countries)
        self.currency = np.empty((n_countries, n_years), dtype=np.int64)
        self.currency_names = rates.currencies
        factor = np.empty((n_countries, n_years))
        for ci, country in enumerate(world.countries):
            for yi, year in enumerate(YEARS):
                code = invoicing_currency(country, year)
                self.currency[ci, yi] = rates.index[code]
                factor[ci, yi] = (
                    world.price_factor[ci] * PRICE_INDEX[year] * rates.december_mean(code, year)
                )
        raw = world.base_price_eur[:, None, None] * factor[None, :, :]
        digits = 2 - np.floor(np.log10(raw))
        self.price = np.round(raw * 10.0**digits) / 10.0**digits  # [product, country, year]
        self.world = world

    def insert(self, con: duckdb.DuckDBPyConnection) -> None:
        n_products, n_countries, n_years = self.price.shape
        p, c, y = np.meshgrid(
            np.arange(n_products), np.arange(n_countries), np.arange(n_years), indexing="ij"
        )
        p, c, y = p.ravel(), c.ravel(), y.ravel()
        years = np.array(YEARS)[y]
        last = y == n_years - 1
        frame = pd.DataFrame(
            {
                "product_id": [f"P{i + 1:03d}" for i in p],
                "country_code": self.world.country_code[c],
                "valid_from": pd.to_datetime([f"{year}-01-01" for year in years]).date,
                "currency_code": np.array(self.currency_names)[self.currency[c, y]],
                "list_price_local": self.price[p, c, y],
                "valid_to": [
                    None if end else dt.date(year, 12, 31)
                    for year, end in zip(years, last, strict=True)
                ],
            }
        )
        _insert_frame(con, "price_list", frame)


def _day_weights(world: _World) -> np.ndarray:
    """Per-country cumulative distribution of order days: seasonality, weekdays, growth."""
    days = pd.date_range(START, END, freq="D")
    years_in = (np.arange(len(days)) / 365.25)[None, :]
    month = SEASONALITY[np.asarray(days.month) - 1]
    weekday = np.where(np.asarray(days.day_of_week) >= 5, 0.12, 1.0)
    # The last ten days of a quarter: the push to close.
    quarter_end = np.where(
        np.asarray((days + pd.Timedelta(days=10)).quarter != days.quarter), 1.3, 1.0
    )
    base = month * weekday * quarter_end
    weights = base[None, :] * (1 + world.country_growth[:, None]) ** years_in
    cdf = np.cumsum(weights, axis=1)
    return cdf / cdf[:, -1:]


def _insert_order_lines(
    con: duckdb.DuckDBPyConnection,
    rng: np.random.Generator,
    world: _World,
    prices: _PriceLists,
    rates: _RateMatrix,
    rows: int,
) -> None:
    # Orders: a customer, a day within the customer's active span, a number of lines.
    lines_lo = np.array([LINES_PER_ORDER[c][0] for c in CHANNELS])
    lines_hi = np.array([LINES_PER_ORDER[c][1] for c in CHANNELS])
    # A customer's orders are spread over its active span, so its share of orders is its
    # ordering rate times the (seasonal, growing) weight of that span.
    cdf = _day_weights(world)
    span_lo = np.where(world.cust_start > 0, cdf[world.cust_country, world.cust_start - 1], 0.0)
    span_hi = cdf[world.cust_country, world.cust_end]
    weight = world.cust_order_weight * (span_hi - span_lo)
    cust_p = weight / weight.sum()
    mean_lines = float((cust_p * (lines_lo + lines_hi)[world.cust_channel] / 2).sum())
    n_orders = int(rows / mean_lines * 1.1) + 100
    order_cust = rng.choice(world.n_customers, n_orders, p=cust_p)
    channel = world.cust_channel[order_cust]
    n_lines = rng.integers(lines_lo[channel], lines_hi[channel] + 1)
    total = np.cumsum(n_lines)
    while total[-1] < rows:  # the estimate fell short: add orders (rare)
        more = rng.choice(world.n_customers, n_orders // 10 + 10, p=cust_p)
        order_cust = np.concatenate([order_cust, more])
        ch = world.cust_channel[more]
        n_lines = np.concatenate([n_lines, rng.integers(lines_lo[ch], lines_hi[ch] + 1)])
        total = np.cumsum(n_lines)
    keep = int(np.searchsorted(total, rows)) + 1  # orders needed to reach `rows` lines
    order_cust, n_lines = order_cust[:keep], n_lines[:keep].copy()
    n_lines[-1] -= int(total[keep - 1] - rows)  # trim the last order to the exact count

    country = world.cust_country[order_cust]
    lo_cdf, hi_cdf = span_lo[order_cust], span_hi[order_cust]
    u = lo_cdf + rng.uniform(0, 1, len(order_cust)) * (hi_cdf - lo_cdf)
    order_day = np.empty(len(order_cust), dtype=np.int64)
    for ci in np.unique(country):
        mask = country == ci
        order_day[mask] = np.searchsorted(cdf[ci], u[mask])
    order_day = np.minimum(order_day, cdf.shape[1] - 1)
    # Number orders in date order, so order ids rise with dates.
    order = np.argsort(order_day, kind="stable")
    order_cust, order_day, n_lines = order_cust[order], order_day[order], n_lines[order]

    # Lines: repeat order attributes, pick products with regional preferences.
    line_order = np.repeat(np.arange(len(order_cust)), n_lines)
    starts = np.cumsum(n_lines) - n_lines
    line_no = np.arange(rows) - np.repeat(starts, n_lines) + 1
    cust = order_cust[line_order]
    day = order_day[line_order]
    country = world.cust_country[cust]
    channel = world.cust_channel[cust]
    product = np.empty(rows, dtype=np.int64)
    u = rng.uniform(0, 1, rows)
    for region, affinity in world.region_line_affinity.items():
        weights = world.popularity * np.array([affinity[line] for line in world.product_line])
        p_cdf = np.cumsum(weights) / weights.sum()
        mask = world.region[country] == region
        product[mask] = np.minimum(np.searchsorted(p_cdf, u[mask]), world.n_products - 1)

    mean_q = (
        np.array([MEAN_QUANTITY[c] for c in CHANNELS])[channel] * world.quantity_factor[product]
    )
    quantity = 1 + rng.poisson(mean_q)
    returns = rng.uniform(0, 1, rows) < RETURN_SHARE
    quantity[returns] = -np.maximum(1, quantity[returns] // 3)
    discount = (
        np.round(np.clip(world.cust_discount[cust] + rng.normal(0, 0.01, rows), 0, 0.45) * 200)
        / 200
    )
    discount[channel == 3] = np.round(world.cust_discount[cust][channel == 3] * 200) / 200

    start_ordinal = START.toordinal()
    year_idx = np.array(
        [dt.date.fromordinal(start_ordinal + int(d)).year - START.year for d in range(cdf.shape[1])]
    )[day]
    unit_price = prices.price[product, country, year_idx]
    currency = prices.currency[country, year_idx]
    net_local = quantity * unit_price * (1 - discount)
    net_eur = net_local / rates.lookup(day, currency)
    unit_cost = np.round(world.cost_eur[product] * (1 + COST_GROWTH) ** year_idx, 2)

    frame = pd.DataFrame(
        {
            "order_no": line_order + 1,
            "line_no": line_no.astype(np.int32),
            "day": day.astype(np.int32),
            "customer_id": pd.Categorical.from_codes(cust, customer_ids(world.n_customers)),
            "product_id": pd.Categorical.from_codes(
                product, [f"P{i + 1:03d}" for i in range(world.n_products)]
            ),
            "rep_id": pd.Categorical.from_codes(world.cust_rep[cust], list(world.reps["rep_id"])),
            "country_code": pd.Categorical.from_codes(country, list(world.country_code)),
            "channel": pd.Categorical.from_codes(channel, list(CHANNELS)),
            "currency_code": pd.Categorical.from_codes(currency, list(prices.currency_names)),
            "quantity": quantity.astype(np.int32),
            "unit_price_local": unit_price,
            "discount_pct": discount,
            "net_amount_local": net_local,
            "net_amount_eur": net_eur,
            "unit_cost_eur": unit_cost,
        }
    )
    # Lines arrive in date order (order numbers follow dates), which DuckDB keeps on insert.
    _insert_frame(
        con,
        "order_lines",
        frame,
        select=(
            "'SO' || lpad(order_no::VARCHAR, 9, '0'), line_no, ?::DATE + day, customer_id::VARCHAR, "
            "product_id::VARCHAR, rep_id::VARCHAR, country_code::VARCHAR, channel::VARCHAR, "
            "currency_code::VARCHAR, quantity, unit_price_local, discount_pct, net_amount_local, "
            "net_amount_eur, unit_cost_eur"
        ),
        params=[START],
    )


def _quarters(first: dt.date, last: dt.date) -> list[dt.date]:
    out, q = [], dt.date(first.year, 3 * ((first.month - 1) // 3) + 1, 1)
    while q <= last:
        out.append(q)
        q = dt.date(q.year + (q.month == 10), (q.month + 2) % 12 + 1, 1)
    return out


def _insert_quotas_and_budgets(con: duckdb.DuckDBPyConnection, rng: np.random.Generator) -> None:
    """Quotas per rep and budgets per country x product line, for every quarter to year end.

    Set the way companies do: last year's same quarter plus a growth target (with a spread
    between people and markets); the first year, which has no history, is planned on the
    year's own run rate. Amounts are rounded to thousands of EUR.
    """
    quarters = _quarters(START, PLAN_END)
    qframe = pd.DataFrame({"quarter_start": quarters})
    actual_rep = db.query(
        con,
        """
        SELECT rep_id, date_trunc('quarter', order_date)::DATE AS quarter_start,
               sum(net_amount_eur) AS revenue
        FROM order_lines WHERE rep_id IS NOT NULL GROUP BY ALL
        """,
    )
    reps = db.query(
        con, "SELECT rep_id FROM reps WHERE rep_id IN (SELECT DISTINCT rep_id FROM order_lines)"
    )
    quotas = _plan(reps.merge(qframe, how="cross"), actual_rep, ["rep_id"], "revenue", rng)
    quotas = quotas.rename(columns={"plan": "quota_eur"})[["rep_id", "quarter_start", "quota_eur"]]
    _insert_frame(con, "quotas", quotas)

    actual_cl = db.query(
        con,
        """
        SELECT country_code, product_line, date_trunc('quarter', order_date)::DATE AS quarter_start,
               sum(net_amount_eur) AS revenue
        FROM sales_daily GROUP BY ALL
        """,
    )
    keys = (
        actual_cl[["country_code", "product_line"]]
        .drop_duplicates()
        .sort_values(["country_code", "product_line"])
    )
    budgets = _plan(
        keys.merge(qframe, how="cross"), actual_cl, ["country_code", "product_line"], "revenue", rng
    )
    budgets = budgets.rename(columns={"plan": "budget_revenue_eur"})
    _insert_frame(
        con,
        "budgets",
        budgets[["country_code", "product_line", "quarter_start", "budget_revenue_eur"]],
    )


def _plan(
    grid: pd.DataFrame, actual: pd.DataFrame, keys: list[str], value: str, rng
) -> pd.DataFrame:
    grid = grid.sort_values([*keys, "quarter_start"]).reset_index(drop=True)
    grid["quarter_start"] = pd.to_datetime(grid["quarter_start"])
    actual = actual.assign(quarter_start=pd.to_datetime(actual["quarter_start"]))
    same = grid.merge(actual, on=[*keys, "quarter_start"], how="left")[value].fillna(0.0)
    prior = grid.assign(quarter_start=grid["quarter_start"] - pd.DateOffset(years=1)).merge(
        actual, on=[*keys, "quarter_start"], how="left"
    )[value]
    first_year = grid["quarter_start"].dt.year == START.year
    target = rng.uniform(1.08, 1.28, len(grid))
    base = np.where(first_year, same * rng.uniform(0.9, 1.1, len(grid)), prior.fillna(0.0) * target)
    grid["plan"] = np.maximum(np.round(base, -3), 0.0)
    grid["quarter_start"] = grid["quarter_start"].dt.date
    return grid


def _insert_pipeline(
    con, rng: np.random.Generator, world: _World, rates: _RateMatrix, rows: int
) -> None:
    """Opportunities and their weekly snapshots: deals that slip, grow, shrink, win and lose."""
    n = int(np.clip(rows // 40, 2_000, 50_000))
    eligible = np.flatnonzero(world.cust_channel != 3)
    weight = world.cust_order_weight[eligible]
    cust = rng.choice(eligible, n, p=weight / weight.sum())
    total_days = (END - START).days + 1
    created = rng.integers(0, total_days, n)
    cycle = rng.integers(30, 240, n)
    close = created + cycle  # the final close date (may lie after the data end: still open)
    # Most date changes are slips (first expected earlier, closing later); some deals are
    # pulled in (first expected later). One draw decides which, so the generator's sequence,
    # and with it every other demo figure, stays as it was.
    move = rng.uniform(0, 1, n)
    slipped, pulled = move < 0.35, (move >= 0.35) & (move < 0.45)
    shift = rng.integers(14, 91, n)
    first_close = np.where(slipped, close - shift, np.where(pulled, close + shift, close))
    first_close = np.maximum(first_close, created + 14)
    channel = world.cust_channel[cust]
    win_rate = np.array([0.45, 0.40, 0.30, 0.0])[channel]
    # Deal sizes are scaled so that expected won business matches booked revenue, which
    # keeps pipeline coverage (pipeline / quota) in a realistic 1-3x range at any --rows.
    size = np.array([4.0, 2.3, 1.0, 0.0])[channel] * rng.lognormal(0, 0.7, n)
    revenue = db.query_rows(con, "SELECT sum(net_amount_eur) FROM order_lines")[0][0]
    size = np.round(size * revenue / (size * win_rate).sum(), -2)
    changed = rng.uniform(0, 1, n) < 0.4
    first_amount_eur = np.where(changed, size * rng.uniform(0.7, 1.3, n), size)
    won = rng.uniform(0, 1, n) < win_rate
    closed = close <= total_days - 1
    lost_stage = rng.integers(0, 4, n)  # the furthest stage a lost deal reached

    country = world.cust_country[cust]
    years = np.array([dt.date.fromordinal(START.toordinal() + int(d)).year for d in created])
    currency = np.array(
        [
            rates.index[invoicing_currency(world.countries[c], y)]
            for c, y in zip(country, years, strict=True)
        ]
    )
    rate = rates.lookup(np.minimum(created, total_days - 1), currency)

    def stage_at(fraction: np.ndarray, idx: np.ndarray) -> np.ndarray:
        stage = np.minimum((fraction * 4).astype(np.int64), 3)
        lost = closed[idx] & ~won[idx]
        return np.where(lost, np.minimum(stage, lost_stage[idx]), stage)

    end_day = np.minimum(close, total_days - 1)
    data_end_fraction = np.clip((total_days - 1 - created) / cycle, 0, 0.999)
    open_stage = stage_at(data_end_fraction, np.arange(n))
    stage = np.where(
        closed, np.where(won, "Closed Won", "Closed Lost"), np.array(STAGES)[open_stage]
    )
    forecast = np.where(
        closed, np.where(won, "commit", "omitted"), np.array(STAGE_FORECAST)[open_stage]
    )
    status = np.where(closed, np.where(won, "won", "lost"), "open")
    start = pd.Timestamp(START)
    opp_ids = [f"OP{i + 1:06d}" for i in range(n)]
    opportunities = pd.DataFrame(
        {
            "opportunity_id": opp_ids,
            "customer_id": np.array(customer_ids(world.n_customers))[cust],
            "rep_id": world.reps["rep_id"].to_numpy()[world.cust_rep_any[cust]],
            "country_code": world.country_code[country],
            "currency_code": np.array(rates.currencies)[currency],
            "amount_local": np.round(size * rate, 0),
            "stage": stage,
            "forecast_category": forecast,
            "created_date": (start + pd.to_timedelta(created, unit="D")).date,
            "close_date": (start + pd.to_timedelta(close, unit="D")).date,
            "status": status,
        }
    )
    _insert_frame(con, "opportunities", opportunities)

    # Weekly snapshots (Mondays) from creation to close or the data end.
    first_monday = created + (7 - (START.weekday() + created) % 7) % 7
    weeks = np.maximum(0, (end_day - first_monday) // 7 + 1)
    idx = np.repeat(np.arange(n), weeks)
    offsets = np.arange(weeks.sum()) - np.repeat(np.cumsum(weeks) - weeks, weeks)
    snap_day = first_monday[idx] + 7 * offsets
    fraction = (snap_day - created[idx]) / cycle[idx]
    snap_stage = stage_at(fraction, idx)
    late = fraction > 0.55  # slips and amount changes happen past mid-life
    snapshots = pd.DataFrame(
        {
            "snapshot_date": (start + pd.to_timedelta(snap_day, unit="D")).date,
            "opportunity_id": np.array(opp_ids)[idx],
            "stage": np.array(STAGES)[snap_stage],
            "amount_local": np.round(
                np.where(late, size[idx], first_amount_eur[idx]) * rate[idx], 0
            ),
            "close_date": (
                start + pd.to_timedelta(np.where(late, close[idx], first_close[idx]), unit="D")
            ).date,
            "forecast_category": np.array(STAGE_FORECAST)[snap_stage],
        }
    )
    _insert_frame(con, "opportunity_snapshots", snapshots)


def _insert_activities(con, rng: np.random.Generator, world: _World, rows: int) -> None:
    n = int(np.clip(rows // 8, 5_000, 250_000))
    eligible = np.flatnonzero(world.cust_channel != 3)
    weight = world.cust_order_weight[eligible]
    cust = rng.choice(eligible, n, p=weight / weight.sum())
    total_days = (END - START).days + 1
    day = rng.integers(0, total_days, n)
    weekday = (START.weekday() + day) % 7
    day = day - np.where(weekday == 5, 1, 0) - np.where(weekday == 6, 2, 0)  # weekdays only
    order = np.argsort(day, kind="stable")
    cust, day = cust[order], day[order]
    frame = pd.DataFrame(
        {
            "activity_id": [f"A{i + 1:07d}" for i in range(n)],
            "rep_id": world.reps["rep_id"].to_numpy()[world.cust_rep_any[cust]],
            "customer_id": np.array(customer_ids(world.n_customers))[cust],
            "activity_date": (pd.Timestamp(START) + pd.to_timedelta(day, unit="D")).date,
            "type": rng.choice(ACTIVITY_TYPES, n, p=ACTIVITY_WEIGHTS),
        }
    )
    _insert_frame(con, "activities", frame)


def _insert_market_data(con, rng: np.random.Generator, world: _World) -> None:
    """Population, GDP and an illustrative addressable market per country and year.

    The addressable market is invented: each country gets a share of its market that the
    company holds (2 % to 35 %, lower where it is newer) and the market is the country's
    annualised revenue divided by that share, so penetration stays plausible at any --rows.
    A year without sales falls back to a share of GDP. Screens label it as illustrative.
    """
    revenue = {
        (code, year): eur
        for code, year, eur in db.query_rows(
            con,
            """
            SELECT country_code, year(order_date), sum(net_amount_eur)
            FROM sales_daily GROUP BY ALL
            """,
        )
    }
    presence = np.array([REGION_PRESENCE[c.region] for c in world.countries])
    share = np.clip(0.12 * presence * rng.lognormal(0, 0.5, len(world.countries)), 0.02, 0.35)
    months_in_last_year = END.month
    records = []
    for ci, country in enumerate(world.countries):
        for year in YEARS:
            t = year - 2021
            gdp = country.gdp_usd_bn * 1e9 * (1.04 + rng.normal(0, 0.01)) ** t
            annual = revenue.get((country.code, year), 0.0)
            if year == END.year:
                annual *= 12 / months_in_last_year
            drift = 1 + rng.normal(0, 0.05)  # estimates move from year to year
            market = annual / share[ci] * drift if annual > 0 else gdp * 0.92 * 5e-5
            records.append(
                (
                    country.code,
                    year,
                    round(country.population_m * 1e6 * 1.005**t),
                    round(gdp, -6),
                    round(market, -3),
                )
            )
    frame = pd.DataFrame(
        records,
        columns=["country_code", "year", "population", "gdp_usd", "addressable_market_eur"],
    )
    _insert_frame(con, "market_data", frame)


def _log_build(con, rows: int, seed: int, started: dt.datetime) -> None:
    label = f"Demo data: {COMPANY}, seed {seed}, {rows:,} lines"
    digest = hashlib.sha256(label.encode()).hexdigest()
    db.execute(
        con,
        """
        INSERT INTO import_log VALUES (?, 'demo', ?, ?, ?, ?, 0, 'loaded', ?, ?)
        """,
        [f"demo-{seed}-{rows}", label, digest, rows, rows, started, dt.datetime.now()],
    )
