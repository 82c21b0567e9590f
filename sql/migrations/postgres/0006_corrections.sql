-- Invoice corrections (issue 19): release and void, re-billing a voided period, and what a held
-- invoice shows its reviewer. (0005 is left to the late-usage migration.)

-- invoices.status may now be 'void' too (no CHECK lists statuses: the reader refuses unknown
-- values).

-- The lines of an invoice that settle other periods, with the days each concerns: what a
-- re-billing carries over unchanged. JSON text of the core's `SettledSpan` list; NULL when
-- none, which is almost every invoice (adding a nullable column rewrites no row).
ALTER TABLE invoices ADD COLUMN settled TEXT;

-- A held invoice's review: the model's answer and what differed from the program's (the
-- invoice's own lines). JSON text of the core's `InvoiceReview`; NULL for every other invoice.
ALTER TABLE invoices ADD COLUMN review TEXT;

-- At most one invoice of a period is not void: a voided period can be billed again by an
-- invoice with a new id. Keyed by subscription first as before (0003 says why). `ON CONFLICT DO
-- NOTHING` with no target, as the writes use it, is checked against a partial index too. The
-- listing by (account, subscription, period start, id) takes the full index below.
DROP INDEX invoices_one_per_period;
CREATE UNIQUE INDEX invoices_one_per_period
    ON invoices (subscription_id, account_id, period_start) WHERE status <> 'void';
CREATE INDEX invoices_by_period ON invoices (subscription_id, account_id, period_start, id);
