-- The platform's usage tables on MySQL 8 / MariaDB 10.6+, as the MySQL usage templates read them.
--
-- Times are unix seconds (UTC) in BIGINT, as on SQLite: MySQL's TIMESTAMP converts through the
-- session time zone and ends in 2038, and DATETIME holds no zone at all. Ids use the binary
-- collation, so equality is exact and ordering is byte order (the order Rust's String has).
-- A return is not tied to its shipment by a foreign key: the platform may record a return before
-- (or without) its shipment, and the usage query reports a return whose shipment is missing.

CREATE TABLE IF NOT EXISTS shipments (
    account_id   VARCHAR(191) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    id           VARCHAR(191) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    customer_id  VARCHAR(191) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    shipped_at   BIGINT NOT NULL, -- unix seconds, UTC
    quantity     BIGINT NOT NULL CHECK (quantity >= 1),
    PRIMARY KEY (account_id, id),
    -- The usage query's scan: one customer's shipments in a time window.
    KEY shipments_by_customer_time (account_id, customer_id, shipped_at)
);

CREATE TABLE IF NOT EXISTS returns (
    account_id   VARCHAR(191) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    id           VARCHAR(191) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    customer_id  VARCHAR(191) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    shipment_id  VARCHAR(191) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    returned_at  BIGINT NOT NULL, -- unix seconds, UTC
    quantity     BIGINT NOT NULL CHECK (quantity >= 1),
    PRIMARY KEY (account_id, id),
    -- One customer's returns in a time window (their shipments through the primary key).
    KEY returns_by_customer_time (account_id, customer_id, returned_at)
);
