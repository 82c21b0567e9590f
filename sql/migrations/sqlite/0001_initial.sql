-- The embedded SQLite store: the platform's usage tables and the billing engine's state.
--
-- Conventions (every table):
--   money      INTEGER minor units (cents), with the ISO 4217 code of its row in a `currency` column;
--   rates      TEXT decimals ('0.0825'), never REAL, so they read back exactly;
--   instants   INTEGER unix microseconds (UTC), except the platform's shipments and returns, which
--              keep unix seconds (the usage templates of sql/queries/sqlite/ read them so);
--   dates      TEXT 'YYYY-MM-DD', local to the account's time zone (they sort as text);
--   JSON       TEXT;
--   enums      TEXT as the core spells them ('active', 'subscription_cycle'). No CHECK lists the
--              allowed values: adding one would need a table rebuild in SQLite, so the reader
--              refuses unknown values instead.
-- Every key starts with account_id: every read and write is scoped to one account.

-- The platform's usage tables ------------------------------------------------------------------

-- A return is not tied to its shipment by a foreign key: the platform may record a return before
-- (or without) its shipment, and the usage query reports a return whose shipment is missing instead
-- of dropping it.
CREATE TABLE shipments (
    id          TEXT    NOT NULL,
    account_id  TEXT    NOT NULL,
    customer_id TEXT    NOT NULL,
    shipped_at  INTEGER NOT NULL, -- unix seconds, UTC
    quantity    INTEGER NOT NULL CHECK (quantity >= 1),
    PRIMARY KEY (account_id, id)
);

-- The usage query's scan: one customer's shipments in a time window.
CREATE INDEX shipments_by_customer_time ON shipments (account_id, customer_id, shipped_at);

CREATE TABLE returns (
    id          TEXT    NOT NULL,
    account_id  TEXT    NOT NULL,
    customer_id TEXT    NOT NULL,
    shipment_id TEXT    NOT NULL, -- shipments.id in the same account
    returned_at INTEGER NOT NULL, -- unix seconds, UTC
    quantity    INTEGER NOT NULL CHECK (quantity >= 1),
    PRIMARY KEY (account_id, id)
);

-- The usage query's scan: one customer's returns in a time window (their shipments are then found
-- through the shipments primary key).
CREATE INDEX returns_by_customer_time ON returns (account_id, customer_id, returned_at);

-- Accounts, customers, plans ---------------------------------------------------------------------

CREATE TABLE accounts (
    id            TEXT    NOT NULL PRIMARY KEY,
    abstracted    INTEGER NOT NULL CHECK (abstracted IN (0, 1)),
    timezone      TEXT    NOT NULL, -- IANA name
    tax_inclusive INTEGER NOT NULL CHECK (tax_inclusive IN (0, 1))
);

CREATE TABLE customers (
    account_id      TEXT    NOT NULL REFERENCES accounts (id),
    id              TEXT    NOT NULL,
    tax_country     TEXT,             -- ISO 3166-1 alpha-2; NULL when the customer has no address
    tax_region      TEXT,
    tax_postal_code TEXT,
    tax_exempt      INTEGER NOT NULL CHECK (tax_exempt IN (0, 1)),
    PRIMARY KEY (account_id, id)
);

-- Versions are immutable: a change to a plan is a new row with the next version.
CREATE TABLE plan_versions (
    account_id   TEXT    NOT NULL REFERENCES accounts (id),
    plan_id      TEXT    NOT NULL,
    version      INTEGER NOT NULL CHECK (version >= 1),
    plan_json    TEXT    NOT NULL, -- the plan as saved (platform shape)
    program_json TEXT    NOT NULL, -- the pricing program that bills it
    interpreter  TEXT,             -- which interpreter read an AI plan's prompt
    created_at   INTEGER NOT NULL, -- unix microseconds
    PRIMARY KEY (account_id, plan_id, version)
);

-- Subscriptions ----------------------------------------------------------------------------------

CREATE TABLE subscriptions (
    account_id           TEXT    NOT NULL,
    id                   TEXT    NOT NULL,
    customer_id          TEXT    NOT NULL,
    plan_id              TEXT    NOT NULL,
    quantity             INTEGER NOT NULL CHECK (quantity >= 1),
    start_date           TEXT    NOT NULL, -- local date
    status               TEXT    NOT NULL, -- 'active' | 'ended'
    current_period       INTEGER NOT NULL CHECK (current_period >= 0),
    current_period_start TEXT    NOT NULL, -- local date
    current_period_end   TEXT    NOT NULL, -- local date
    next_invoice_period  INTEGER NOT NULL CHECK (next_invoice_period >= 0),
    next_invoice_at      INTEGER,          -- unix microseconds; NULL once ended
    revision             INTEGER NOT NULL, -- compare-and-set: bumped by every change
    created_at           INTEGER NOT NULL, -- unix microseconds
    updated_at           INTEGER NOT NULL, -- unix microseconds
    PRIMARY KEY (account_id, id),
    FOREIGN KEY (account_id, customer_id) REFERENCES customers (account_id, id)
);

-- The due query: active subscriptions with next_invoice_at <= ?, ordered by (account_id, id) after
-- a cursor, in pages. This partial index is in exactly that order and carries next_invoice_at, so
-- a whole run (all its pages) is one pass over the active subscriptions' index entries, each page
-- starting where the last stopped, and a row is read only when it is due. An index led by
-- next_invoice_at would find the due rows directly but would have to re-sort them all for every
-- page, which costs more than the pass once a run has many pages.
CREATE INDEX subscriptions_due ON subscriptions (account_id, id, next_invoice_at)
    WHERE status = 'active' AND next_invoice_at IS NOT NULL;

-- Invoices ---------------------------------------------------------------------------------------

CREATE TABLE invoices (
    account_id      TEXT    NOT NULL,
    id              TEXT    NOT NULL, -- derived from the subscription and the period start
    subscription_id TEXT    NOT NULL,
    customer_id     TEXT    NOT NULL,
    plan_id         TEXT    NOT NULL,
    plan_version    INTEGER NOT NULL CHECK (plan_version >= 1),
    quantity        INTEGER NOT NULL CHECK (quantity >= 1),
    billing_reason  TEXT    NOT NULL, -- 'subscription_create' | 'subscription_cycle'
    status          TEXT    NOT NULL, -- 'open' | 'held'
    period_index    INTEGER NOT NULL CHECK (period_index >= 1),
    issue_date      TEXT    NOT NULL, -- local date
    period_start    TEXT    NOT NULL, -- local date
    period_end      TEXT    NOT NULL, -- local date
    currency        TEXT    NOT NULL, -- ISO 4217 code; every amount of the invoice is in it
    subtotal        INTEGER NOT NULL, -- minor units
    tax             INTEGER NOT NULL, -- minor units
    tax_inclusive   INTEGER NOT NULL CHECK (tax_inclusive IN (0, 1)),
    total           INTEGER NOT NULL, -- minor units
    created_at      INTEGER NOT NULL, -- unix microseconds
    PRIMARY KEY (account_id, id),
    FOREIGN KEY (account_id, subscription_id) REFERENCES subscriptions (account_id, id)
);

-- The idempotency guarantee: one invoice per subscription period. It also serves the invoice
-- listing, which is ordered by (account_id, subscription_id, period_start).
CREATE UNIQUE INDEX invoices_one_per_period ON invoices (account_id, subscription_id, period_start);

CREATE TABLE invoice_line_items (
    account_id  TEXT    NOT NULL,
    invoice_id  TEXT    NOT NULL,
    position    INTEGER NOT NULL CHECK (position >= 0),
    description TEXT    NOT NULL,
    kind        TEXT    NOT NULL, -- 'recurring' | 'usage'
    amount      INTEGER NOT NULL, -- minor units, in the invoice's currency
    PRIMARY KEY (account_id, invoice_id, position),
    FOREIGN KEY (account_id, invoice_id) REFERENCES invoices (account_id, id) ON DELETE CASCADE
);

CREATE TABLE invoice_tax_lines (
    account_id TEXT    NOT NULL,
    invoice_id TEXT    NOT NULL,
    position   INTEGER NOT NULL CHECK (position >= 0),
    name       TEXT    NOT NULL,
    rate       TEXT    NOT NULL, -- decimal fraction ('0.0825')
    amount     INTEGER NOT NULL, -- minor units, in the invoice's currency
    PRIMARY KEY (account_id, invoice_id, position),
    FOREIGN KEY (account_id, invoice_id) REFERENCES invoices (account_id, id) ON DELETE CASCADE
);

CREATE TABLE revenue_schedule (
    account_id  TEXT    NOT NULL,
    invoice_id  TEXT    NOT NULL,
    position    INTEGER NOT NULL CHECK (position >= 0),
    month       TEXT    NOT NULL, -- 'YYYY-MM'
    start_date  TEXT    NOT NULL, -- local date, first service day in the month
    end_date    TEXT    NOT NULL, -- local date, the day after the last
    days        INTEGER NOT NULL CHECK (days >= 0),
    amount      INTEGER NOT NULL, -- minor units, in the invoice's currency
    PRIMARY KEY (account_id, invoice_id, position),
    FOREIGN KEY (account_id, invoice_id) REFERENCES invoices (account_id, id) ON DELETE CASCADE
);

-- The audit outbox -------------------------------------------------------------------------------

-- Written in the same transaction as the change each event describes; shipped later. `seq` keeps
-- insertion order (AUTOINCREMENT: never reused, even after rows are deleted).
CREATE TABLE audit_outbox (
    seq            INTEGER PRIMARY KEY AUTOINCREMENT,
    id             TEXT    NOT NULL UNIQUE, -- the event's UUIDv7, its document id once shipped
    time           INTEGER NOT NULL,        -- unix microseconds
    account_id     TEXT    NOT NULL,
    actor          TEXT    NOT NULL,
    action         TEXT    NOT NULL,
    subject_kind   TEXT    NOT NULL,
    subject_id     TEXT    NOT NULL,
    run_id         TEXT,
    correlation_id TEXT,
    data           TEXT    NOT NULL,        -- JSON
    shipped_at     INTEGER                  -- unix microseconds; NULL until shipped
);

-- What is left to ship, in order: only unshipped rows are in it, so it stays small.
CREATE INDEX audit_outbox_pending ON audit_outbox (seq) WHERE shipped_at IS NULL;
-- An account's events about one subject...
CREATE INDEX audit_outbox_by_subject ON audit_outbox (account_id, subject_id, seq);
-- ...and those correlated with them.
CREATE INDEX audit_outbox_by_correlation ON audit_outbox (account_id, correlation_id, seq)
    WHERE correlation_id IS NOT NULL;
