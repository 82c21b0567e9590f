-- The billing engine's tables on PostgreSQL, and the platform's usage tables it reads.
--
-- Conventions:
--   * Every key starts with account_id: every read and write is scoped to one account.
--   * Ids are TEXT COLLATE "C": ordering and comparisons are byte order, the order Rust's String
--     has, so paging (`due_subscriptions`) and "smallest id" rules agree with the other stores.
--   * Instants are timestamptz (microseconds); local dates are `date`.
--   * Money is BIGINT minor units with the invoice's currency code; never a float or numeric.
--   * Rates are TEXT holding the Decimal as written ("0.0825"): numeric would keep the value but
--     rust_decimal's scale only survives a round trip through its own text.
--   * Plans, programs and event data are `json` (not jsonb): json keeps the text exactly as
--     written (key order, decimal strings), so a version reads back equal to what was saved.

CREATE TABLE accounts (
    id             TEXT COLLATE "C" PRIMARY KEY,
    abstracted     BOOLEAN NOT NULL,
    timezone       TEXT    NOT NULL, -- IANA name
    tax_inclusive  BOOLEAN NOT NULL
);

CREATE TABLE customers (
    account_id           TEXT COLLATE "C" NOT NULL REFERENCES accounts (id),
    id                   TEXT COLLATE "C" NOT NULL,
    tax_country          TEXT,
    tax_region           TEXT,
    tax_postal_code      TEXT,
    tax_exempt           BOOLEAN NOT NULL,
    PRIMARY KEY (account_id, id),
    -- A region or postal code only ever comes with a country (TaxAddress).
    CHECK (tax_country IS NOT NULL OR (tax_region IS NULL AND tax_postal_code IS NULL))
);

-- Immutable versions: never updated once written.
CREATE TABLE plan_versions (
    account_id   TEXT COLLATE "C" NOT NULL REFERENCES accounts (id),
    plan_id      TEXT COLLATE "C" NOT NULL,
    version      BIGINT NOT NULL CHECK (version >= 1),
    plan         JSON   NOT NULL, -- the Plan as saved
    program      JSON   NOT NULL, -- the PricingProgram that bills it
    interpreter  TEXT,
    created_at   TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (account_id, plan_id, version)
);

CREATE TABLE subscriptions (
    account_id            TEXT COLLATE "C" NOT NULL,
    id                    TEXT COLLATE "C" NOT NULL,
    customer_id           TEXT COLLATE "C" NOT NULL,
    plan_id               TEXT COLLATE "C" NOT NULL,
    quantity              BIGINT NOT NULL CHECK (quantity >= 0),
    start_date            DATE   NOT NULL,
    status                TEXT   NOT NULL CHECK (status IN ('active', 'ended')),
    current_period        BIGINT NOT NULL CHECK (current_period >= 0),
    current_period_start  DATE   NOT NULL,
    current_period_end    DATE   NOT NULL,
    next_invoice_period   BIGINT NOT NULL CHECK (next_invoice_period >= 0),
    next_invoice_at       TIMESTAMPTZ,
    revision              BIGINT NOT NULL,
    created_at            TIMESTAMPTZ NOT NULL,
    updated_at            TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (account_id, id),
    FOREIGN KEY (account_id, customer_id) REFERENCES customers (account_id, id)
);

-- The billing run's scan: active subscriptions due by an instant, in (account, id) order after a
-- cursor. Keyed by (account, id) so each page is an ordered range scan from the cursor that stops
-- after `limit` rows (no sort of every due row per page); next_invoice_at is in the index, so the
-- due filter reads no table row. Partial, so ended subscriptions cost nothing.
CREATE INDEX subscriptions_due
    ON subscriptions (account_id, id) INCLUDE (next_invoice_at)
    WHERE status = 'active';

CREATE TABLE invoices (
    account_id       TEXT COLLATE "C" NOT NULL,
    id               TEXT COLLATE "C" NOT NULL,
    subscription_id  TEXT COLLATE "C" NOT NULL,
    customer_id      TEXT COLLATE "C" NOT NULL,
    plan_id          TEXT COLLATE "C" NOT NULL,
    plan_version     BIGINT  NOT NULL CHECK (plan_version >= 0),
    quantity         BIGINT  NOT NULL CHECK (quantity >= 0),
    billing_reason   TEXT    NOT NULL,
    status           TEXT    NOT NULL,
    created_at       TIMESTAMPTZ NOT NULL,
    period_index     BIGINT  NOT NULL CHECK (period_index >= 0),
    issue_date       DATE    NOT NULL,
    period_start     DATE    NOT NULL,
    period_end       DATE    NOT NULL,
    currency         TEXT    NOT NULL, -- ISO 4217 code; every amount of the invoice is in it
    subtotal_minor   BIGINT  NOT NULL,
    tax_minor        BIGINT  NOT NULL,
    tax_inclusive    BOOLEAN NOT NULL,
    total_minor      BIGINT  NOT NULL,
    PRIMARY KEY (account_id, id),
    FOREIGN KEY (account_id, subscription_id) REFERENCES subscriptions (account_id, id)
);

-- One invoice per period: the idempotency guarantee of billing runs.
CREATE UNIQUE INDEX invoices_one_per_period
    ON invoices (account_id, subscription_id, period_start);

CREATE TABLE invoice_line_items (
    account_id    TEXT COLLATE "C" NOT NULL,
    invoice_id    TEXT COLLATE "C" NOT NULL,
    position      INTEGER NOT NULL,
    description   TEXT    NOT NULL,
    kind          TEXT    NOT NULL CHECK (kind IN ('recurring', 'usage')),
    amount_minor  BIGINT  NOT NULL,
    PRIMARY KEY (account_id, invoice_id, position),
    FOREIGN KEY (account_id, invoice_id) REFERENCES invoices (account_id, id)
);

CREATE TABLE invoice_tax_lines (
    account_id    TEXT COLLATE "C" NOT NULL,
    invoice_id    TEXT COLLATE "C" NOT NULL,
    position      INTEGER NOT NULL,
    name          TEXT    NOT NULL,
    rate          TEXT    NOT NULL, -- the Decimal as written, scale included ("0.0825")
    amount_minor  BIGINT  NOT NULL,
    PRIMARY KEY (account_id, invoice_id, position),
    FOREIGN KEY (account_id, invoice_id) REFERENCES invoices (account_id, id)
);

CREATE TABLE revenue_schedule (
    account_id    TEXT COLLATE "C" NOT NULL,
    invoice_id    TEXT COLLATE "C" NOT NULL,
    position      INTEGER NOT NULL,
    month         TEXT    NOT NULL, -- YYYY-MM
    start_date    DATE    NOT NULL,
    end_date      DATE    NOT NULL,
    days          BIGINT  NOT NULL CHECK (days >= 0),
    amount_minor  BIGINT  NOT NULL,
    PRIMARY KEY (account_id, invoice_id, position),
    FOREIGN KEY (account_id, invoice_id) REFERENCES invoices (account_id, id)
);

-- Events written with the changes they describe, shipped later. seq gives the write order.
CREATE TABLE audit_outbox (
    seq             BIGSERIAL PRIMARY KEY,
    id              TEXT COLLATE "C" NOT NULL UNIQUE,
    time            TIMESTAMPTZ NOT NULL,
    account_id      TEXT COLLATE "C" NOT NULL,
    actor           TEXT NOT NULL,
    action          TEXT NOT NULL,
    subject_kind    TEXT NOT NULL,
    subject_id      TEXT COLLATE "C" NOT NULL,
    run_id          TEXT,
    correlation_id  TEXT COLLATE "C",
    data            JSON NOT NULL,
    shipped_at      TIMESTAMPTZ
);

-- The shipper's scan: unshipped events in write order.
CREATE INDEX audit_outbox_pending ON audit_outbox (seq) WHERE shipped_at IS NULL;
-- events_for: by subject, and by correlation.
CREATE INDEX audit_outbox_subject ON audit_outbox (account_id, subject_id, seq);
CREATE INDEX audit_outbox_correlation ON audit_outbox (account_id, correlation_id, seq)
    WHERE correlation_id IS NOT NULL;

-- The platform's usage tables. A return is not tied to its shipment by a foreign key: the
-- platform may record a return before (or without) its shipment, and the usage query reports a
-- return whose shipment is missing instead of dropping it.
CREATE TABLE shipments (
    account_id   TEXT COLLATE "C" NOT NULL,
    id           TEXT COLLATE "C" NOT NULL,
    customer_id  TEXT COLLATE "C" NOT NULL,
    shipped_at   TIMESTAMPTZ NOT NULL,
    quantity     BIGINT NOT NULL CHECK (quantity >= 1), -- u32 in the domain
    PRIMARY KEY (account_id, id)
);

-- The usage query's scan: one customer's shipments in a time window.
CREATE INDEX shipments_by_customer_time ON shipments (account_id, customer_id, shipped_at);

CREATE TABLE returns (
    account_id   TEXT COLLATE "C" NOT NULL,
    id           TEXT COLLATE "C" NOT NULL,
    customer_id  TEXT COLLATE "C" NOT NULL,
    shipment_id  TEXT COLLATE "C" NOT NULL, -- shipments.id in the same account
    returned_at  TIMESTAMPTZ NOT NULL,
    quantity     BIGINT NOT NULL CHECK (quantity >= 1), -- u32 in the domain
    PRIMARY KEY (account_id, id)
);

-- The usage query's scan: one customer's returns in a time window (their shipments are then
-- found through the shipments primary key).
CREATE INDEX returns_by_customer_time ON returns (account_id, customer_id, returned_at);
