-- Events for the platform (issue 20): the pull feed and webhooks, two consumers of the audit
-- outbox beside the OpenSearch shipper, each with a cursor of its own.
--
-- A cursor pages the outbox in a stable order: no event may ever appear behind a position a
-- reader has passed. `seq` alone cannot give that here: writers run side by side, so a
-- transaction that took seq 10 can commit before the one that took seq 9, and a reader that
-- passed 10 would never see 9. So each event also records the id of the transaction that wrote it
-- (`xact`, the 64-bit xid8 as a number), the order is (xact, seq), and a reader only reads events
-- whose transaction is older than every transaction still running (below its snapshot's xmin):
-- that set is final, nothing can join it. A long transaction holds the feed back until it ends;
-- it never makes it skip. Rows written before this migration all get its own id, in seq order.
ALTER TABLE audit_outbox
    ADD COLUMN xact BIGINT NOT NULL DEFAULT (pg_current_xact_id()::text::bigint);

-- The feed, in order; and the feed of one account.
CREATE INDEX audit_outbox_feed ON audit_outbox (xact, seq);
CREATE INDEX audit_outbox_feed_by_account ON audit_outbox (account_id, xact, seq);

-- Webhook endpoints and their delivery state. One row per endpoint: where to post, how to sign,
-- which events, and how far deliveries have come (the cursor: every event at or before
-- (cursor_commit, cursor_seq) was delivered or is not for it), the consecutive failures and when
-- to try again (the stored backoff, so a restart resumes). Written by compare-and-set on
-- `revision`.
CREATE TABLE webhook_endpoints (
    id              TEXT COLLATE "C" PRIMARY KEY,
    url             TEXT NOT NULL,
    secret          TEXT NOT NULL,             -- whsec_<base64>; never logged or listed
    event_types     TEXT NOT NULL,             -- JSON array of type names; [] = every type
    account_id      TEXT COLLATE "C",          -- only this account's events; NULL = all
    enabled         BOOLEAN NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL,
    revision        BIGINT NOT NULL CHECK (revision >= 1),
    cursor_commit   BIGINT NOT NULL CHECK (cursor_commit >= 0),
    cursor_seq      BIGINT NOT NULL CHECK (cursor_seq >= 0),
    failures        BIGINT NOT NULL CHECK (failures >= 0), -- in a row
    next_attempt_at TIMESTAMPTZ,               -- NULL = at once
    last_error      TEXT,
    delivered       BIGINT NOT NULL CHECK (delivered >= 0),
    disabled_at     TIMESTAMPTZ
);
