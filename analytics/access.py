"""Who may use the app, in which role, over which regions and countries.

The access file ($SALES_ATLAS_ACCESS, TOML) is an interface deployments rely on:

    [identity]
    source = "header"             # or "oidc" (Streamlit's st.login)
    header = "X-Forwarded-Email"  # for source = "header"

    [[users]]
    email = "anna@example.com"
    role = "viewer"               # viewer | analyst | admin
    regions = ["Western Europe"]  # optional; countries = ["DE", "AT"] also allowed
    rep = "R0012"                 # optional: a sales rep, who sees only their own deals and quota

A user's reach is the union of their regions' countries and their countries; no regions and
no countries means every country. The reach is enforced on the cursor (`restrict`): every
table that carries a country, or hangs off one that does, is shadowed by a temporary view
holding only the reach's rows, so every query run on that cursor — page, export or CLI —
sees nothing else, whatever filters it was given.

A user with `rep` (a rep_id of the reps table) is a sales rep. Reps must not see each other's
quota, so their cursor holds one rep — themselves: their own quota, deals, their snapshots and
activities. Sales (order lines, accounts, markets) still follow the regions and countries: the
revenue of a territory is not a colleague's secret. Every CRM figure — attainment, pipeline,
coverage, the leaderboard's and team's totals — is then the rep's own. Team roll-ups of quota
are not offered: in a small team the team's quota less one's own is a colleague's quota.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path

import duckdb

from analytics import db
from analytics.errors import UserError

ENV_VAR = "SALES_ATLAS_ACCESS"
SOURCES = ("header", "oidc")
DEFAULT_HEADER = "X-Forwarded-Email"
ROLES = ("viewer", "analyst", "admin")  # each role has every right of the ones before it

# right -> the least role that has it
RIGHTS = {
    "read": "viewer",
    "save_scenarios": "analyst",
    "import": "admin",
    "fetch_rates": "admin",
    "audit": "admin",
    "view_as": "admin",
    "settings": "admin",
}
RIGHT_REASONS = {
    "save_scenarios": "Saving and deleting scenarios is for analysts and admins.",
    "import": "Only admins (data owners) import data.",
    "fetch_rates": "Only admins (data owners) fetch exchange rates.",
    "audit": "Only admins see the import and audit log.",
    "view_as": "Only admins can view the app as another user.",
    "settings": "Only admins (data owners) change the store's settings.",
}


class AccessFileError(UserError):
    """The access file cannot be read or says something the app cannot apply."""


class UnknownUser(UserError):
    """An email the access file does not list."""


@dataclasses.dataclass(frozen=True)
class Reach:
    """The regions and countries a user may see, and the rep whose deals and quota they see
    (None: every rep's); all empty means everything."""

    regions: tuple[str, ...] = ()
    countries: tuple[str, ...] = ()
    rep: str | None = None

    @property
    def everything(self) -> bool:
        return not self.regions and not self.countries and self.rep is None

    @property
    def every_country(self) -> bool:
        return not self.regions and not self.countries

    def describe(self) -> str:
        places = "all regions and countries"
        if not self.every_country:
            places = " and ".join(
                ", ".join(part) for part in (self.regions, self.countries) if part
            )
        if self.rep is None:
            return places
        return f"{places}; own deals and quota only (rep {self.rep})"

    def key(self) -> str:
        """A stable text naming the reach, for cache keys."""
        if self.everything:
            return "all"
        key = "r=" + "|".join(self.regions) + ";c=" + "|".join(self.countries)
        return key if self.rep is None else f"{key};p={self.rep}"

    @classmethod
    def from_key(cls, key: str) -> Reach:
        if key == "all":
            return cls()
        parts = dict(part.split("=", 1) for part in key.split(";"))
        return cls(
            tuple(r for r in parts["r"].split("|") if r),
            tuple(c for c in parts["c"].split("|") if c),
            parts.get("p"),
        )


@dataclasses.dataclass(frozen=True)
class User:
    email: str
    role: str
    reach: Reach = Reach()

    def can(self, right: str) -> bool:
        return ROLES.index(self.role) >= ROLES.index(RIGHTS[right])

    def describe(self) -> str:
        return f"{self.email} ({self.role}; {self.reach.describe()})"


# Local single-user mode: no access file, one person at their own machine.
LOCAL_USER = User("local user", "admin")


@dataclasses.dataclass(frozen=True)
class AccessFile:
    source: str
    header: str
    users: Mapping[str, User]  # by lower-cased email

    def user(self, email: str | None) -> User | None:
        """The listed user with this email (case-insensitive), or None."""
        if not email:
            return None
        return self.users.get(email.strip().lower())

    def require(self, email: str) -> User:
        found = self.user(email)
        if found is None:
            raise UnknownUser(f"{email} is not listed in the access file.")
        return found


def _strings(entry: dict, key: str, where: str) -> tuple[str, ...]:
    value = entry.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise AccessFileError(f'{where}: {key} must be a list of names, e.g. {key} = ["…"].')
    return tuple(value)


def parse(
    text: str,
    known_regions: Iterable[str],
    known_countries: Iterable[str],
    name: str = "access",
    known_reps: Iterable[str] = (),
) -> AccessFile:
    """Read and check an access file's text against the store's regions, countries and
    reps."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as problem:
        raise AccessFileError(f"The access file {name} is not valid TOML: {problem}.") from problem
    identity = data.get("identity", {})
    source = identity.get("source", "header")
    if source not in SOURCES:
        raise AccessFileError(
            f'{name}: [identity] source must be "header" or "oidc", not {source!r}.'
        )
    header = identity.get("header", DEFAULT_HEADER)
    if not isinstance(header, str) or not header.strip():
        raise AccessFileError(f"{name}: [identity] header must name an HTTP header.")
    regions, countries, reps = set(known_regions), set(known_countries), set(known_reps)
    users: dict[str, User] = {}
    entries = data.get("users", [])
    if not isinstance(entries, list) or not entries:
        raise AccessFileError(f"{name}: list at least one user as [[users]] with email and role.")
    for number, entry in enumerate(entries, 1):
        where = f"{name}, user {number}"
        email = entry.get("email")
        if not isinstance(email, str) or "@" not in email:
            raise AccessFileError(f"{where}: email is missing or not an address.")
        where = f"{name}, user {email}"
        role = entry.get("role")
        if role not in ROLES:
            raise AccessFileError(f"{where}: unknown role {role!r}; use one of {', '.join(ROLES)}.")
        unknown = [k for k in entry if k not in ("email", "role", "regions", "countries", "rep")]
        if unknown:
            raise AccessFileError(f"{where}: unknown key(s) {', '.join(unknown)}.")
        user_regions = _strings(entry, "regions", where)
        user_countries = tuple(c.upper() for c in _strings(entry, "countries", where))
        bad = [r for r in user_regions if r not in regions]
        if bad:
            raise AccessFileError(
                f"{where}: unknown region(s) {', '.join(bad)}; the store has "
                f"{', '.join(sorted(regions))}."
            )
        bad = [c for c in user_countries if c not in countries]
        if bad:
            raise AccessFileError(
                f"{where}: unknown country code(s) {', '.join(bad)} (ISO 3166 alpha-2 codes "
                "of the store's countries table)."
            )
        user_rep = entry.get("rep")
        if user_rep is not None and (not isinstance(user_rep, str) or user_rep not in reps):
            raise AccessFileError(
                f"{where}: rep {user_rep!r} is not a rep_id of the store's reps table "
                '(e.g. rep = "R0012").'
            )
        key = email.strip().lower()
        if key in users:
            raise AccessFileError(f"{where}: listed twice.")
        users[key] = User(key, role, Reach(user_regions, user_countries, user_rep))
    return AccessFile(source, header, users)


def access_path() -> Path | None:
    value = os.environ.get(ENV_VAR)
    return Path(value) if value else None


def load(path: Path, cur: duckdb.DuckDBPyConnection) -> AccessFile:
    """Read the access file at `path`, checked against the store on `cur` (unrestricted)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as problem:
        raise AccessFileError(
            f"The access file {path} ({ENV_VAR}) cannot be read: {problem.strerror}."
        ) from problem
    rows = db.query_rows(cur, "SELECT country_code, region FROM countries")
    reps = [r for (r,) in db.query_rows(cur, "SELECT rep_id FROM reps")]
    return parse(text, {r for _, r in rows}, {c for c, _ in rows}, str(path), reps)


# --- enforcement --------------------------------------------------------------------------

# table -> the rows of it a reach's places hold, in terms of $countries (the reach's country
# codes) and of tables restricted before it (names resolve to the temporary views).
_BY_PLACE = {
    "countries": "country_code IN (SELECT unnest($countries))",
    "order_lines": "country_code IN (SELECT unnest($countries))",
    "order_lines_awaiting_rate": "country_code IN (SELECT unnest($countries))",
    "sales_daily": "country_code IN (SELECT unnest($countries))",
    "sales_monthly": "country_code IN (SELECT unnest($countries))",
    "orders_daily": "country_code IN (SELECT unnest($countries))",
    "orders_monthly": "country_code IN (SELECT unnest($countries))",
    "opportunities": "country_code IN (SELECT unnest($countries))",
    "customers": "country_code IN (SELECT unnest($countries))",
    "budgets": "country_code IN (SELECT unnest($countries))",
    "price_list": "country_code IN (SELECT unnest($countries))",
    "market_data": "country_code IN (SELECT unnest($countries))",
    # The monthly summaries (analytics/rollups.py) carry the figures of the lines: same rule.
    "account_monthly": "country_code IN (SELECT unnest($countries))",
    "account_orders_monthly": "country_code IN (SELECT unnest($countries))",
    "item_monthly": "country_code IN (SELECT unnest($countries))",
    "account_monthly_reported": "country_code IN (SELECT unnest($countries))",
    "item_monthly_reported": "country_code IN (SELECT unnest($countries))",
    "sales_monthly_reported": "country_code IN (SELECT unnest($countries))",
    "rep_monthly": "country_code IN (SELECT unnest($countries))",
    "key_lines": "country_code IN (SELECT unnest($countries))",
    "split_orders": "order_id IN (SELECT order_id FROM order_lines)",
    "opportunity_snapshots": "opportunity_id IN (SELECT opportunity_id FROM opportunities)",
    "activities": "customer_id IN (SELECT customer_id FROM customers)",
    "global_accounts": "global_account_id IN (SELECT global_account_id FROM customers)",
    # A rep is in reach if their region is, or if they hold deals there (order lines are not
    # scanned: that would cost a full pass of the fact table on every query).
    "reps": "list_contains($regions, region) OR rep_id IN (SELECT rep_id FROM opportunities)",
    "quotas": "rep_id IN (SELECT rep_id FROM reps)",
}

# A rep's reach: only their own deals and activities, and of the reps only themselves (so
# their own quota); applied after, and together with, the places' rule.
_BY_REP = {
    "opportunities": "rep_id = $rep",
    "activities": "rep_id = $rep",
    "reps": "rep_id = $rep",
}
_ORDER = ("countries", *(t for t in _BY_PLACE if t != "countries"))

# Tables with no country of their own, rebuilt for a reach from the restricted order lines
# (only the Data page's coverage reads currency_daily, so the scan is rare).
_DERIVED = {
    "currency_daily": "SELECT order_date, currency_code, count(*) AS line_count "
    "FROM order_lines GROUP BY ALL",
}


def reach_countries(cur: duckdb.DuckDBPyConnection, reach: Reach) -> list[str]:
    """The country codes a reach holds: its regions' countries and its own countries."""
    rows = db.query_rows(
        cur,
        "SELECT country_code FROM countries "
        "WHERE list_contains($regions, region) OR list_contains($countries, country_code) "
        "ORDER BY 1",
        {"regions": list(reach.regions), "countries": list(reach.countries)},
    )
    return [r[0] for r in rows]


def restrict(cur: duckdb.DuckDBPyConnection, reach: Reach) -> None:
    """Make every later query on `cur` see only the reach's rows.

    Each restricted table is shadowed by a temporary view of the same name (temporary
    objects are resolved before the database's own), which reads the stored table by its
    fully qualified name. Values are literals fixed here from the store's own country codes
    and the access file's region names and rep_id (checked against the store when the file
    was read), because a view cannot hold parameters.
    """
    if reach.everything:
        return
    catalog = db.query_rows(cur, "SELECT current_database()")[0][0]
    conditions: dict[str, list[str]] = {}
    if not reach.every_country:
        values = {
            "countries": _list_literal(reach_countries(cur, reach)),
            "regions": _list_literal(list(reach.regions)),
        }
        for table, condition in _BY_PLACE.items():
            for name, literal in values.items():
                condition = condition.replace(f"${name}", literal)
            conditions[table] = [condition]
    if reach.rep is not None:
        conditions.pop("reps", None)  # a rep is in their own reach whatever their region
        for table, condition in _BY_REP.items():
            condition = condition.replace("$rep", _text_literal(reach.rep))
            conditions.setdefault(table, []).append(condition)
        # The quota and snapshots follow the reps and deals just restricted.
        conditions.setdefault("quotas", [_BY_PLACE["quotas"]])
        conditions.setdefault("opportunity_snapshots", [_BY_PLACE["opportunity_snapshots"]])
    for table in sorted(conditions, key=_ORDER.index):
        where = " AND ".join(f"({c})" for c in conditions[table])
        db.execute(
            cur,
            f"CREATE OR REPLACE TEMP VIEW {db.identifier(table)} AS "
            f"SELECT * FROM {_quote(catalog)}.main.{db.identifier(table)} WHERE {where}",
        )
    if not reach.every_country:
        for table, select in _DERIVED.items():
            db.execute(cur, f"CREATE OR REPLACE TEMP VIEW {db.identifier(table)} AS {select}")
    if reach.rep is not None:
        db.execute(
            cur,
            "CREATE OR REPLACE TEMP VIEW own_rep AS SELECT rep_id, name FROM reps "
            f"WHERE rep_id = {_text_literal(reach.rep)}",
        )


def own_rep(cur: duckdb.DuckDBPyConnection) -> tuple[str, str] | None:
    """(rep_id, name) when `cur` is restricted to one rep's deals and quota, else None: the
    figures built on it say whose quota they show."""
    restricted = db.query_rows(
        cur,
        "SELECT count(*) FROM duckdb_views() WHERE temporary AND view_name = 'own_rep'",
    )[0][0]
    if not restricted:
        return None
    rows = db.query_rows(cur, "SELECT rep_id, name FROM own_rep")
    return (rows[0][0], rows[0][1]) if rows else None


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _text_literal(item: str) -> str:
    return "'" + item.replace("'", "''") + "'"


def _list_literal(items: list[str]) -> str:
    # Typed so that an empty list still compares with VARCHAR columns.
    return "[" + ", ".join(_text_literal(item) for item in items) + "]::VARCHAR[]"
