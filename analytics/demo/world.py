"""Who the demo company sells what to: products, countries, global accounts, reps and
customers (with their channel, discount, ordering rate, active span and account owner).
"""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd

from analytics import reference
from analytics.demo.company import (
    CHANNEL_SHARE,
    CHANNELS,
    DISCOUNT_RANGE,
    ECB_INVOICING,
    END,
    ORDER_RATE,
    REGION_GROWTH,
    REGION_PRESENCE,
    START,
)
from analytics.demo.writing import insert_frame

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


class World:
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
            [c.currency not in ECB_INVOICING and c.currency != "EUR" for c in self.countries]
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
        insert_frame(con, "products", products)
        accounts = pd.DataFrame(
            {
                "global_account_id": [f"G{i + 1:02d}" for i in range(len(GLOBAL_ACCOUNTS))],
                "name": list(GLOBAL_ACCOUNTS),
            }
        )
        insert_frame(con, "global_accounts", accounts)
        insert_frame(con, "reps", self.reps)
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
        insert_frame(con, "customers", customers)


def customer_ids(n: int) -> list[str]:
    return [f"C{i + 1:06d}" for i in range(n)]


def _person(rng: np.random.Generator) -> str:
    return (
        f"{FIRST_NAMES[rng.integers(len(FIRST_NAMES))]} {LAST_NAMES[rng.integers(len(LAST_NAMES))]}"
    )
