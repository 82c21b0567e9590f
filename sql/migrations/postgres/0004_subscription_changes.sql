-- Subscription changes and credit notes (issue 18).

-- The changes in force on a subscription (its cancellation, pauses, quantity by date, increases
-- waiting for the next invoice, its credit note counter), as the JSON of the core's `Changes`.
-- NULL when nothing has changed, which is almost every subscription: such a row is written and
-- read as before and nothing is parsed. A nullable column without a default rewrites no row.
ALTER TABLE subscriptions ADD COLUMN changes JSON;

-- A subscription canceled and past its end is 'canceled'. It is outside the partial index
-- `subscriptions_due` (status = 'active'), so no run ever finds it due.
ALTER TABLE subscriptions DROP CONSTRAINT subscriptions_status_check;
ALTER TABLE subscriptions ADD CONSTRAINT subscriptions_status_check
    CHECK (status IN ('active', 'ended', 'canceled'));

-- A decrease settled on a period already billed, as a document of its own against the invoice
-- that billed it (an issued invoice is never rewritten). Kept like invoices: the head here, its
-- lines, tax lines and reversed revenue in child tables, money in minor units of `currency`.
CREATE TABLE credit_notes (
    account_id            TEXT COLLATE "C" NOT NULL,
    id                    TEXT COLLATE "C" NOT NULL, -- 'cn_{subscription}_{number}'
    number                BIGINT  NOT NULL CHECK (number >= 0), -- the subscription's, from 1
    subscription_id       TEXT COLLATE "C" NOT NULL,
    customer_id           TEXT COLLATE "C" NOT NULL,
    invoice_id            TEXT COLLATE "C" NOT NULL, -- the invoice it credits
    invoice_period_start  DATE    NOT NULL,
    issue_date            DATE    NOT NULL,
    reason                TEXT    NOT NULL, -- 'cancel' | 'pause' | 'quantity' | 'plan_change' | 'manual'
    currency              TEXT    NOT NULL, -- the invoice's; every amount of the note is in it
    subtotal_minor        BIGINT  NOT NULL,
    tax_minor             BIGINT  NOT NULL,
    tax_inclusive         BOOLEAN NOT NULL,
    total_minor           BIGINT  NOT NULL,
    created_at            TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (account_id, id),
    FOREIGN KEY (account_id, invoice_id) REFERENCES invoices (account_id, id)
);

-- A subscription's numbers are never reused; the listing is ordered by (subscription, number).
CREATE UNIQUE INDEX credit_notes_by_number
    ON credit_notes (account_id, subscription_id, number);

CREATE TABLE credit_note_line_items (
    account_id      TEXT COLLATE "C" NOT NULL,
    credit_note_id  TEXT COLLATE "C" NOT NULL,
    position        INTEGER NOT NULL,
    description     TEXT    NOT NULL,
    kind            TEXT    NOT NULL CHECK (kind IN ('recurring', 'usage')),
    amount_minor    BIGINT  NOT NULL, -- credited (positive)
    PRIMARY KEY (account_id, credit_note_id, position),
    FOREIGN KEY (account_id, credit_note_id) REFERENCES credit_notes (account_id, id)
);

CREATE TABLE credit_note_tax_lines (
    account_id      TEXT COLLATE "C" NOT NULL,
    credit_note_id  TEXT COLLATE "C" NOT NULL,
    position        INTEGER NOT NULL,
    name            TEXT    NOT NULL,
    rate            TEXT    NOT NULL, -- the invoice's Decimal as written, scale included
    amount_minor    BIGINT  NOT NULL,
    PRIMARY KEY (account_id, credit_note_id, position),
    FOREIGN KEY (account_id, credit_note_id) REFERENCES credit_notes (account_id, id)
);

-- The revenue taken back, per calendar month over the days the credit concerns.
CREATE TABLE credit_note_revenue (
    account_id      TEXT COLLATE "C" NOT NULL,
    credit_note_id  TEXT COLLATE "C" NOT NULL,
    position        INTEGER NOT NULL,
    month           TEXT    NOT NULL, -- YYYY-MM
    start_date      DATE    NOT NULL,
    end_date        DATE    NOT NULL,
    days            BIGINT  NOT NULL CHECK (days >= 0),
    amount_minor    BIGINT  NOT NULL, -- reversed (positive)
    PRIMARY KEY (account_id, credit_note_id, position),
    FOREIGN KEY (account_id, credit_note_id) REFERENCES credit_notes (account_id, id)
);
