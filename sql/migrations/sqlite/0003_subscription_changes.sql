-- Subscription changes and credit notes (issue 18).

-- The changes in force on a subscription (its cancellation, pauses, quantity by date, increases
-- waiting for the next invoice, its credit note counter), as the JSON text of the core's
-- `Changes`. NULL when nothing has changed, which is almost every subscription: such a row is
-- written and read as before and nothing is parsed. Adding a nullable column rewrites no row.
ALTER TABLE subscriptions ADD COLUMN changes TEXT; -- JSON; NULL when empty

-- subscriptions.status may now be 'canceled' too (no CHECK lists statuses in SQLite: the reader
-- refuses unknown values). A canceled subscription is outside the partial index
-- `subscriptions_due` (status = 'active'), so no run ever finds it due.

-- Credit notes ----------------------------------------------------------------------------------

-- A decrease settled on a period already billed, as a document of its own against the invoice
-- that billed it (an issued invoice is never rewritten). Kept like invoices: the head here, its
-- lines, tax lines and reversed revenue in child tables, money in minor units of `currency`.
CREATE TABLE credit_notes (
    account_id           TEXT    NOT NULL,
    id                   TEXT    NOT NULL, -- 'cn_{subscription}_{number}'
    number               INTEGER NOT NULL CHECK (number >= 0), -- the subscription's, from 1
    subscription_id      TEXT    NOT NULL,
    customer_id          TEXT    NOT NULL,
    invoice_id           TEXT    NOT NULL, -- the invoice it credits
    invoice_period_start TEXT    NOT NULL, -- local date
    issue_date           TEXT    NOT NULL, -- local date
    reason               TEXT    NOT NULL, -- 'cancel' | 'pause' | 'quantity' | 'plan_change' | 'manual'
    currency             TEXT    NOT NULL, -- the invoice's; every amount of the note is in it
    subtotal             INTEGER NOT NULL, -- minor units
    tax                  INTEGER NOT NULL, -- minor units
    tax_inclusive        INTEGER NOT NULL CHECK (tax_inclusive IN (0, 1)),
    total                INTEGER NOT NULL, -- minor units
    created_at           INTEGER NOT NULL, -- unix microseconds
    PRIMARY KEY (account_id, id),
    FOREIGN KEY (account_id, invoice_id) REFERENCES invoices (account_id, id)
);

-- A subscription's numbers are never reused; the listing is ordered by (subscription, number).
CREATE UNIQUE INDEX credit_notes_by_number ON credit_notes (account_id, subscription_id, number);

CREATE TABLE credit_note_line_items (
    account_id     TEXT    NOT NULL,
    credit_note_id TEXT    NOT NULL,
    position       INTEGER NOT NULL CHECK (position >= 0),
    description    TEXT    NOT NULL,
    kind           TEXT    NOT NULL, -- 'recurring' | 'usage'
    amount         INTEGER NOT NULL, -- minor units, credited (positive)
    PRIMARY KEY (account_id, credit_note_id, position),
    FOREIGN KEY (account_id, credit_note_id) REFERENCES credit_notes (account_id, id)
        ON DELETE CASCADE
);

CREATE TABLE credit_note_tax_lines (
    account_id     TEXT    NOT NULL,
    credit_note_id TEXT    NOT NULL,
    position       INTEGER NOT NULL CHECK (position >= 0),
    name           TEXT    NOT NULL,
    rate           TEXT    NOT NULL, -- decimal fraction ('0.0825'), the invoice's rate
    amount         INTEGER NOT NULL, -- minor units
    PRIMARY KEY (account_id, credit_note_id, position),
    FOREIGN KEY (account_id, credit_note_id) REFERENCES credit_notes (account_id, id)
        ON DELETE CASCADE
);

-- The revenue taken back, per calendar month over the days the credit concerns.
CREATE TABLE credit_note_revenue (
    account_id     TEXT    NOT NULL,
    credit_note_id TEXT    NOT NULL,
    position       INTEGER NOT NULL CHECK (position >= 0),
    month          TEXT    NOT NULL, -- 'YYYY-MM'
    start_date     TEXT    NOT NULL, -- local date, first day in the month
    end_date       TEXT    NOT NULL, -- local date, the day after the last
    days           INTEGER NOT NULL CHECK (days >= 0),
    amount         INTEGER NOT NULL, -- minor units, reversed (positive)
    PRIMARY KEY (account_id, credit_note_id, position),
    FOREIGN KEY (account_id, credit_note_id) REFERENCES credit_notes (account_id, id)
        ON DELETE CASCADE
);
