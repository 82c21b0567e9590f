-- Events for the platform (issue 20): the pull feed and webhooks, two consumers of the audit
-- outbox beside the OpenSearch shipper, each with a cursor of its own.
--
-- The feed pages the outbox by `seq`. SQLite writes one transaction at a time (every write takes
-- the write lock first, BEGIN IMMEDIATE), so `seq` (AUTOINCREMENT) grows in commit order: no event
-- can appear behind a position a reader has passed. No column is needed for it.

-- The feed of one account, in order.
CREATE INDEX audit_outbox_by_account ON audit_outbox (account_id, seq);

-- Webhook endpoints and their delivery state. One row per endpoint: where to post, how to sign,
-- which events, and how far deliveries have come (the cursor: every event at or before
-- (cursor_commit, cursor_seq) was delivered or is not for it), the consecutive failures and when
-- to try again (the stored backoff, so a restart resumes). Written by compare-and-set on
-- `revision`.
CREATE TABLE webhook_endpoints (
    id              TEXT    PRIMARY KEY,
    url             TEXT    NOT NULL,
    secret          TEXT    NOT NULL,           -- whsec_<base64>; never logged or listed
    event_types     TEXT    NOT NULL,           -- JSON array of type names; [] = every type
    account_id      TEXT,                       -- only this account's events; NULL = all
    enabled         INTEGER NOT NULL CHECK (enabled IN (0, 1)),
    created_at      INTEGER NOT NULL,           -- unix microseconds
    revision        INTEGER NOT NULL CHECK (revision >= 1),
    cursor_commit   INTEGER NOT NULL CHECK (cursor_commit >= 0),
    cursor_seq      INTEGER NOT NULL CHECK (cursor_seq >= 0),
    failures        INTEGER NOT NULL CHECK (failures >= 0), -- in a row
    next_attempt_at INTEGER,                    -- unix microseconds; NULL = at once
    last_error      TEXT,
    delivered       INTEGER NOT NULL CHECK (delivered >= 0),
    disabled_at     INTEGER                     -- unix microseconds
);
