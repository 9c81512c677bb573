"""What each kind of file holds: its fields (types, aliases), key, table and template.

A kind is one of the files the Data page accepts (orders, customers, …, rates). Its fields
say which columns are required and which header names map to them; TABLES, TABLE_COLUMNS
and KEYS say where and under which key its rows are stored.
"""

from __future__ import annotations

import csv
import dataclasses
import io


@dataclasses.dataclass(frozen=True)
class Field:
    name: str
    type: str  # text, int, number, date, country, currency, fraction, or an enum name
    required: bool = True
    aliases: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True)
class Kind:
    name: str
    label: str
    fields: tuple[Field, ...]
    key: tuple[str, ...]
    example: tuple[dict, ...]
    # Groups of fields of which the file needs at least one (the others are derived):
    # e.g. a unit price, a net price or a net value.
    one_of: tuple[tuple[str, ...], ...] = ()


F = Field
ORDER_FIELDS = (
    F(
        "order_id",
        "text",
        aliases=(
            "order",
            "order number",
            "order no",
            "sales order",
            "sales order number",
            "invoice number",
            "document number",
        ),
    ),
    F("order_date", "date", aliases=("date", "invoice date", "posting date", "order created")),
    F(
        "customer_id",
        "text",
        False,
        (
            "account id",
            "customer",
            "customer number",
            "account number",
            "company id",
            "sold to",
        ),
    ),
    F(
        "country",
        "country",
        False,
        (
            "country code",
            "billing country",
            "ship to country",
            "shipping country",
            "customer country",
        ),
    ),
    F(
        "currency",
        "currency",
        aliases=("currency code", "currency iso code", "curr", "deal currency"),
    ),
    F(
        "product_id",
        "text",
        aliases=("product code", "product", "sku", "item code", "material", "item number"),
    ),
    F("quantity", "int", aliases=("qty", "units", "quantity ordered", "order quantity")),
    # A price before discount; "net price" is after it (net_price), and a net value is the
    # line's amount after discount (net_amount): either gives the unit price.
    F("unit_price", "number", False, ("sales price", "price", "unit price local", "gross price")),
    F("net_price", "number", False, ("net price", "net unit price", "unit net price")),
    F("net_amount", "number", False, ("net value", "net amount", "line total", "net line amount")),
    F("line_no", "int", False, ("line", "line number", "item", "position", "line item")),
    F("customer_name", "text", False, ("account name", "company name", "company", "customer name")),
    F("segment", "segment", False, ("customer segment", "account type")),
    F("product_name", "text", False, ("product description", "item name", "description")),
    F("product_line", "text", False, ("product family", "family", "product group")),
    F("rep_id", "text", False, ("owner id", "sales rep id", "deal owner id", "salesperson id")),
    F(
        "rep_name",
        "text",
        False,
        ("owner name", "opportunity owner", "deal owner", "sales rep", "salesperson"),
    ),
    F("channel", "channel", False, ("sales channel",)),
    F("discount_pct", "fraction", False, ("discount", "discount percent", "discount rate")),
    # A line's discount as an amount in its currency (Shopify's "Lineitem discount").
    F("discount_amount", "number", False, ("discount amount", "line discount amount")),
    F("unit_cost_eur", "number", False, ("unit cost eur", "standard cost eur", "cost eur")),
    # A cost whose currency the file does not name in its header: it needs a cost_currency
    # column or option, else the file is asked about, never read as EUR.
    F("unit_cost", "number", False, ("unit cost", "cost", "standard cost", "cost price")),
    F("cost_currency", "currency", False, ("cost currency", "unit cost currency")),
)
ORDER_ONE_OF = (("customer_id", "customer_name"), ("unit_price", "net_price", "net_amount"))

KINDS: dict[str, Kind] = {
    k.name: k
    for k in (
        Kind(
            "orders",
            "Order lines",
            ORDER_FIELDS,
            ("order_id", "line_no"),
            one_of=ORDER_ONE_OF,
            example=(
                {
                    "order_id": "SO-1001",
                    "order_date": "2026-03-02",
                    "customer_id": "ACME-DE",
                    "country": "DE",
                    "currency": "EUR",
                    "product_id": "P-100",
                    "quantity": "5",
                    "unit_price": "120.00",
                    "line_no": "1",
                    "customer_name": "Acme GmbH",
                    "segment": "direct",
                    "product_name": "Flow sensor",
                    "product_line": "Sensors",
                    "rep_id": "R-7",
                    "rep_name": "Anna Berg",
                    "channel": "direct",
                    "discount_pct": "0.05",
                    "unit_cost_eur": "61.50",
                },
                {
                    "order_id": "SO-1002",
                    "order_date": "2026-03-03",
                    "customer_id": "BETA-US",
                    "country": "United States",
                    "currency": "USD",
                    "product_id": "P-100",
                    "quantity": "-1",
                    "unit_price": "135.00",
                    "line_no": "1",
                    "customer_name": "Beta Inc",
                    "segment": "distributor",
                    "product_name": "",
                    "product_line": "",
                    "rep_id": "",
                    "rep_name": "",
                    "channel": "distributor",
                    "discount_pct": "10%",
                    "unit_cost_eur": "",
                },
            ),
        ),
        Kind(
            "customers",
            "Customers",
            (
                F("customer_id", "text", aliases=("account id", "customer number")),
                F("name", "text", aliases=("account name", "customer name", "company name")),
                F("country", "country", aliases=("country code", "billing country")),
                F("segment", "segment", aliases=("customer segment", "account type")),
                F("global_account_id", "text", False, ("global account", "parent account id")),
            ),
            ("customer_id",),
            (
                {
                    "customer_id": "ACME-DE",
                    "name": "Acme GmbH",
                    "country": "DE",
                    "segment": "key account",
                    "global_account_id": "ACME",
                },
            ),
        ),
        Kind(
            "products",
            "Products",
            (
                F("product_id", "text", aliases=("product code", "sku", "item code")),
                F("name", "text", aliases=("product name", "description")),
                F("product_line", "text", aliases=("product family", "family", "product group")),
                F("sku", "text", False),
                F("category", "text", False),
            ),
            ("product_id",),
            (
                {
                    "product_id": "P-100",
                    "name": "Flow sensor",
                    "product_line": "Sensors",
                    "sku": "FS-100",
                    "category": "Flow",
                },
            ),
        ),
        Kind(
            "reps",
            "Sales reps",
            (
                F("rep_id", "text", aliases=("owner id", "user id", "employee id")),
                F("name", "text", aliases=("full name", "owner name")),
                F("team", "text"),
                F("region", "text"),
                F("manager_id", "text", False, ("manager",)),
            ),
            ("rep_id",),
            (
                {
                    "rep_id": "R-7",
                    "name": "Anna Berg",
                    "team": "DACH",
                    "region": "Western Europe",
                    "manager_id": "R-1",
                },
            ),
        ),
        Kind(
            "quotas",
            "Quotas",
            (
                F("rep_id", "text", aliases=("owner id",)),
                F("quarter_start", "date", aliases=("quarter", "period start")),
                F("quota_eur", "number", aliases=("quota", "quota amount")),
            ),
            ("rep_id", "quarter_start"),
            ({"rep_id": "R-7", "quarter_start": "2026-04-01", "quota_eur": "450000"},),
        ),
        Kind(
            "budgets",
            "Budgets",
            (
                F("country", "country"),
                F("product_line", "text"),
                F("quarter_start", "date", aliases=("quarter", "period start")),
                F("budget_revenue_eur", "number", aliases=("budget", "budget eur")),
            ),
            ("country", "product_line", "quarter_start"),
            (
                {
                    "country": "DE",
                    "product_line": "Sensors",
                    "quarter_start": "2026-04-01",
                    "budget_revenue_eur": "1250000",
                },
            ),
        ),
        Kind(
            "opportunities",
            "Opportunities",
            (
                F("opportunity_id", "text", aliases=("opportunity", "deal id", "record id")),
                F("customer_id", "text", False, ("account id",)),
                F("customer_name", "text", False, ("account name", "customer name", "company")),
                F("rep_id", "text", False, ("owner id", "deal owner id")),
                F("rep_name", "text", False, ("opportunity owner", "owner name", "deal owner")),
                F("country", "country", aliases=("billing country", "account country")),
                F(
                    "currency",
                    "currency",
                    aliases=("currency iso code", "deal currency", "opportunity currency"),
                ),
                F("amount_local", "number", aliases=("amount", "deal amount")),
                F("stage", "stage", aliases=("deal stage", "stage name")),
                F(
                    "forecast_category",
                    "forecast",
                    False,
                    ("forecast", "forecast category name"),
                ),
                F("created_date", "date", aliases=("create date", "created")),
                F("close_date", "date", aliases=("expected close date",)),
                # Derived from the stage when absent: Closed Won is won, Closed Lost lost.
                F("status", "status", False),
                # Orders the company's own stages in its funnel (stored per stage).
                F(
                    "probability",
                    "percent",
                    False,
                    ("probability (%)", "win probability", "deal probability"),
                ),
                F(
                    "snapshot_date",
                    "date",
                    False,
                    ("as of", "as of date", "report date", "snapshot"),
                ),
            ),
            ("opportunity_id",),
            one_of=(("customer_id", "customer_name"), ("rep_id", "rep_name")),
            example=(
                {
                    "opportunity_id": "OP-1",
                    "customer_id": "ACME-DE",
                    "rep_id": "R-7",
                    "country": "DE",
                    "currency": "EUR",
                    "amount_local": "80000",
                    "stage": "Proposal",
                    "forecast_category": "best case",
                    "created_date": "2026-02-01",
                    "close_date": "2026-05-15",
                    "status": "open",
                    "snapshot_date": "2026-03-06",
                },
            ),
        ),
        Kind(
            "activities",
            "Activities",
            (
                F("activity_id", "text", False, ("activity id", "task id", "event id")),
                F("rep_id", "text", False, ("owner id", "assigned id", "user id")),
                F("rep_name", "text", False, ("assigned", "assigned to", "owner", "owner name")),
                F("customer_id", "text", False, ("account id", "company id")),
                F("customer_name", "text", False, ("account name", "company", "company name")),
                F("activity_date", "date", aliases=("date", "activity date", "due date")),
                F("type", "activity", aliases=("activity type", "task type", "task/event type")),
                F("country", "country", False, ("billing country", "account country")),
            ),
            ("activity_id",),
            one_of=(("customer_id", "customer_name"), ("rep_id", "rep_name")),
            example=(
                {
                    "activity_id": "A-1",
                    "rep_id": "R-7",
                    "customer_id": "ACME-DE",
                    "activity_date": "2026-03-02",
                    "type": "meeting",
                },
            ),
        ),
        Kind(
            "price_lists",
            "Price lists",
            (
                F("product_id", "text", aliases=("product code", "sku")),
                F("country", "country"),
                F("valid_from", "date", aliases=("start date", "from")),
                F("currency", "currency"),
                F("list_price_local", "number", aliases=("list price", "price")),
                F("valid_to", "date", False, ("end date", "to")),
            ),
            ("product_id", "country", "valid_from"),
            (
                {
                    "product_id": "P-100",
                    "country": "DE",
                    "valid_from": "2026-01-01",
                    "currency": "EUR",
                    "list_price_local": "129.00",
                    "valid_to": "",
                },
            ),
        ),
        Kind(
            "product_costs",
            "Product costs",
            (
                F(
                    "product_id",
                    "text",
                    aliases=("product code", "product", "sku", "item code", "material"),
                ),
                F(
                    "standard_cost",
                    "number",
                    aliases=("standard cost", "unit cost", "cost", "standard price"),
                ),
                F("valid_from", "date", aliases=("valid from", "from", "start date")),
                # Stated in the file or for the whole file (--cost-currency); never assumed.
                F("currency", "currency", False, ("currency code", "cost currency")),
            ),
            ("product_id", "valid_from"),
            (
                {
                    "product_id": "P-100",
                    "standard_cost": "41.50",
                    "valid_from": "2026-01-01",
                    "currency": "EUR",
                },
            ),
        ),
        Kind(
            "market_data",
            "Market data",
            (
                F("country", "country"),
                F("year", "int"),
                F("population", "int"),
                F("gdp_usd", "number", aliases=("gdp",)),
                F(
                    "addressable_market_eur",
                    "number",
                    aliases=("addressable market", "market size eur"),
                ),
            ),
            ("country", "year"),
            (
                {
                    "country": "DE",
                    "year": "2026",
                    "population": "83200000",
                    "gdp_usd": "4260000000000",
                    "addressable_market_eur": "310000000",
                },
            ),
        ),
        Kind(
            "rates",
            "Exchange rates",
            (
                F("rate_date", "date", aliases=("date", "time period")),
                F("currency", "currency", aliases=("currency code",)),
                F("units_per_eur", "number", aliases=("rate", "obs value", "value")),
            ),
            ("rate_date", "currency"),
            ({"rate_date": "2026-11-02", "currency": "USD", "units_per_eur": "1.0857"},),
        ),
        Kind(
            "plan_rates",
            "Plan rates",
            (
                F("year", "int", aliases=("plan year", "fiscal year", "budget year")),
                F("currency", "currency", aliases=("currency code",)),
                F("units_per_eur", "number", aliases=("plan rate", "budget rate", "rate")),
                # Empty or absent: the rate is the whole year's.
                F("quarter", "int", False, ("plan quarter", "fiscal quarter")),
            ),
            ("year", "quarter", "currency"),
            (
                {"year": "2026", "currency": "USD", "units_per_eur": "1.0824", "quarter": ""},
                {"year": "2026", "currency": "USD", "units_per_eur": "1.10", "quarter": "4"},
            ),
        ),
    )
}
TABLES = {
    "customers": "customers",
    "products": "products",
    "reps": "reps",
    "quotas": "quotas",
    "budgets": "budgets",
    "opportunities": "opportunities",
    "price_lists": "price_list",
    "product_costs": "product_costs",
    "market_data": "market_data",
    "activities": "activities",
    "plan_rates": "plan_rates",
}


def template_csv(kind: str) -> bytes:
    """A template with every column of a kind and example rows."""
    spec = KINDS[kind]
    out = io.StringIO()
    # The example's columns: alternatives a file may bring instead (a net value for a price,
    # a rep's name for an id) are left out so the template has one way to say each thing.
    columns = [f.name for f in spec.fields if f.name in spec.example[0]]
    writer = csv.DictWriter(out, columns, lineterminator="\n")
    writer.writeheader()
    for row in spec.example:
        writer.writerow(row)
    return out.getvalue().encode("utf-8")


TABLE_COLUMNS = {
    "customers": ["customer_id", "name", "country_code", "segment", "global_account_id"],
    "products": ["product_id", "sku", "name", "product_line", "category"],
    "reps": ["rep_id", "name", "team", "region", "manager_id"],
    "quotas": ["rep_id", "quarter_start", "quota_eur"],
    "budgets": ["country_code", "product_line", "quarter_start", "budget_revenue_eur"],
    "opportunities": [
        "opportunity_id",
        "customer_id",
        "rep_id",
        "country_code",
        "currency_code",
        "amount_local",
        "stage",
        "forecast_category",
        "created_date",
        "close_date",
        "status",
    ],
    "price_lists": [
        "product_id",
        "country_code",
        "valid_from",
        "currency_code",
        "list_price_local",
        "valid_to",
    ],
    "product_costs": ["product_id", "valid_from", "currency_code", "standard_cost"],
    "market_data": ["country_code", "year", "population", "gdp_usd", "addressable_market_eur"],
    "activities": ["activity_id", "rep_id", "customer_id", "activity_date", "type"],
    "plan_rates": ["year", "quarter", "currency_code", "units_per_eur"],
}
KEYS = {
    "orders": ["order_id", "line_no"],
    "rates": ["rate_date", "currency_code"],
    "customers": ["customer_id"],
    "products": ["product_id"],
    "reps": ["rep_id"],
    "quotas": ["rep_id", "quarter_start"],
    "budgets": ["country_code", "product_line", "quarter_start"],
    "opportunities": ["opportunity_id"],
    "price_lists": ["product_id", "country_code", "valid_from"],
    "product_costs": ["product_id", "valid_from"],
    "market_data": ["country_code", "year"],
    "activities": ["activity_id"],
    # quarter NULL (the whole year) is part of the key: compared IS NOT DISTINCT FROM.
    "plan_rates": ["year", "quarter", "currency_code"],
}


def table_of(kind: str) -> str:
    return {"orders": "order_lines", "rates": "fx_rates"}.get(kind) or TABLES[kind]
