-- Late usage (issue 19).

-- The periods a subscription was billed for recently, with the usage each was billed on, as the
-- JSON text of the core's `UsageHistory`: a renewal reads those periods again in the same batch
-- as its own and bills the difference. NULL for plans without usage charges.
ALTER TABLE subscriptions ADD COLUMN billed_usage TEXT; -- JSON; NULL when empty

-- The usage an invoice was billed on (its period's, per local weekday, and the periods billed
-- before whose late usage it settled), as the JSON text of the core's `InvoiceUsage`. NULL for
-- programs without usage charges.
ALTER TABLE invoices ADD COLUMN usage TEXT; -- JSON; NULL when empty
