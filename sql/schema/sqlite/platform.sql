-- The platform's usage tables, as the embedded SQLite store keeps them.
--
-- Times are unix seconds (UTC). Ids are unique per account, so every key starts with account_id and
-- every read is scoped to one account and one customer. A return is not tied to its shipment by a
-- foreign key: the platform may record a return before (or without) its shipment, and the usage
-- query reports a return whose shipment is missing instead of dropping it.
--
-- Idempotent: applying it to a database that already has the tables changes nothing.

CREATE TABLE IF NOT EXISTS shipments (
    id          TEXT    NOT NULL,
    account_id  TEXT    NOT NULL,
    customer_id TEXT    NOT NULL,
    shipped_at  INTEGER NOT NULL, -- unix seconds, UTC
    quantity    INTEGER NOT NULL CHECK (quantity >= 1),
    PRIMARY KEY (account_id, id)
);

-- The usage query's scan: one customer's shipments in a time window.
CREATE INDEX IF NOT EXISTS shipments_by_customer_time
    ON shipments (account_id, customer_id, shipped_at);

CREATE TABLE IF NOT EXISTS returns (
    id          TEXT    NOT NULL,
    account_id  TEXT    NOT NULL,
    customer_id TEXT    NOT NULL,
    shipment_id TEXT    NOT NULL, -- shipments.id in the same account
    returned_at INTEGER NOT NULL, -- unix seconds, UTC
    quantity    INTEGER NOT NULL CHECK (quantity >= 1),
    PRIMARY KEY (account_id, id)
);

-- The usage query's scan: one customer's returns in a time window (their shipments are then found
-- through the shipments primary key).
CREATE INDEX IF NOT EXISTS returns_by_customer_time
    ON returns (account_id, customer_id, returned_at);
