-- Invoices that explain themselves (issue 21): each line item keeps the structured basis of its
-- amount (the `LineBasis` of the library; NULL on lines written before), and each account the
-- locale its documents are written in.
ALTER TABLE invoice_line_items ADD COLUMN basis JSONB;
ALTER TABLE credit_note_line_items ADD COLUMN basis JSONB;
ALTER TABLE accounts ADD COLUMN locale TEXT NOT NULL DEFAULT 'en-US'; -- BCP 47 tag
