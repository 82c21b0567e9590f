-- Invoice corrections (issue 19): release and void, re-billing a voided period, and what a held
-- invoice shows its reviewer. (0004 is left to the late-usage migration.)

-- invoices.status may now be 'void' too (no CHECK lists statuses in SQLite: the reader refuses
-- unknown values).

-- The lines of an invoice that settle other periods, with the days each concerns: what a
-- re-billing carries over unchanged. JSON of the core's `SettledSpan` list; NULL when none,
-- which is almost every invoice (adding a nullable column rewrites no row).
ALTER TABLE invoices ADD COLUMN settled TEXT; -- JSON; NULL when none

-- A held invoice's review: the model's answer and what differed from the program's (the
-- invoice's own lines). JSON of the core's `InvoiceReview`; NULL for every other invoice.
ALTER TABLE invoices ADD COLUMN review TEXT; -- JSON; NULL unless held by a cross-check

-- At most one invoice of a period is not void: a voided period can be billed again by an
-- invoice with a new id. The listing, ordered by (account, subscription, period start, id),
-- takes the full index below, which the partial one cannot serve.
DROP INDEX invoices_one_per_period;
CREATE UNIQUE INDEX invoices_one_per_period
    ON invoices (account_id, subscription_id, period_start) WHERE status <> 'void';
CREATE INDEX invoices_by_period ON invoices (account_id, subscription_id, period_start, id);
