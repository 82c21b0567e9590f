-- Safe retries (issue 20): the record of each request made under an idempotency key (the
-- caller's request_id, or a subscription's id for its creation), written in the same
-- transaction as the request's own writes. A retry with the same body answers the stored
-- answer; one with another body is a conflict. The primary key refuses a second record, so of
-- two identical requests racing only one is applied (the second waits on the first's key, then
-- fails on it, and reads its record).
CREATE TABLE idempotency_keys (
    account_id   TEXT COLLATE "C" NOT NULL,
    key          TEXT COLLATE "C" NOT NULL,
    operation    TEXT NOT NULL,              -- create_subscription, cancel_subscription, ...
    request_hash TEXT NOT NULL,              -- SHA-256 of the canonical request JSON, hex
    answer       JSONB NOT NULL,             -- what the request answered
    created_at   TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (account_id, key)
);
