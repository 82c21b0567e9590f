-- Events the audit sink rejected (a document OpenSearch refuses, for example one that violates
-- the index's mapping). A rejected event stays in the outbox with the sink's reason, so nothing
-- is lost, but leaves the pending scan, so one bad event cannot stop shipping. Putting it back to
-- pending clears both columns; shipping it clears them too.
ALTER TABLE audit_outbox ADD COLUMN rejected_at INTEGER; -- unix microseconds; NULL unless rejected
ALTER TABLE audit_outbox ADD COLUMN reject_reason TEXT;  -- the sink's reason; NULL unless rejected

-- What is left to ship is now neither shipped nor rejected.
DROP INDEX audit_outbox_pending;
CREATE INDEX audit_outbox_pending ON audit_outbox (seq)
    WHERE shipped_at IS NULL AND rejected_at IS NULL;
-- The rejected events, in write order: few, so the index stays small.
CREATE INDEX audit_outbox_rejected ON audit_outbox (seq) WHERE rejected_at IS NOT NULL;
