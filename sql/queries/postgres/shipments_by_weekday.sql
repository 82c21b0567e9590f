-- shipments_by_weekday: shipments, shipped units, returned shipments and returned units per local
-- day of week, for one customer of one account, over the UTC window [$3, $4).
--
-- Parameters (always bound, never spliced into the text):
--   $1  account_id   TEXT         every row read belongs to this account...
--   $2  customer_id  TEXT         ...and to this customer (shipments, returns, and returns' shipments)
--   $3  from         TIMESTAMPTZ  window start, inclusive
--   $4  to           TIMESTAMPTZ  window end, exclusive
--   $5  tz           TEXT         the account's IANA zone name (America/New_York)
--
-- Counting rules (billing-conventions.md, Usage), the same as the SQLite template:
--   a shipment counts when from <= shipped_at < to, on the local weekday of shipped_at;
--   a return counts when from <= returned_at < to, on the local weekday of ITS SHIPMENT's
--   shipped_at, which may lie long before the window.
-- PostgreSQL has the time zone database, so the local weekday is read directly:
-- ISODOW of (shipped_at AT TIME ZONE tz), minus 1, 0 = Monday. Unlike SQLite, no offsets are
-- passed and the query runs once. (The server's tz database is used: it must know the zone.)
-- A window return whose shipment does not exist for this customer is reported (and not counted):
-- the caller fails, naming the return.
--
-- Output: exactly 7 rows, one per local weekday, ordered by weekday, every column BIGINT or TEXT:
--   weekday              0 = Monday ... 6 = Sunday
--   shipments            window shipments (rows)
--   units                sum of their quantity
--   returned_shipments   window returns (rows), on their shipment's weekday
--   returned_units       sum of the returns' own quantity
-- and on every row, the same check of the call:
--   missing_returns      window returns whose shipment does not exist for this customer
--   missing_return_id    the smallest such return id (byte order), or NULL
--   missing_shipment_id  the shipment id that return points at, or NULL
WITH
window_shipments (shipped_at, quantity) AS (
    SELECT s.shipped_at, s.quantity
    FROM shipments AS s
    WHERE s.account_id = $1
      AND s.customer_id = $2
      AND s.shipped_at >= $3
      AND s.shipped_at < $4
),
window_returns (return_id, return_shipment_id, quantity, shipment_found, shipped_at) AS (
    SELECT r.id, r.shipment_id, r.quantity, s.id IS NOT NULL, s.shipped_at
    FROM returns AS r
    LEFT JOIN shipments AS s
        ON s.account_id = r.account_id
       AND s.customer_id = r.customer_id
       AND s.id = r.shipment_id
    WHERE r.account_id = $1
      AND r.customer_id = $2
      AND r.returned_at >= $3
      AND r.returned_at < $4
),
-- Every counted row with its shipment's instant; is_return: 0 = shipment, 1 = return.
located (is_return, quantity, shipped_at) AS (
    SELECT 0, quantity, shipped_at FROM window_shipments
    UNION ALL
    SELECT 1, quantity, shipped_at FROM window_returns WHERE shipment_found
),
per_weekday (weekday, shipments, units, returned_shipments, returned_units) AS (
    SELECT (EXTRACT(ISODOW FROM shipped_at AT TIME ZONE $5::text)::bigint - 1),
           SUM(1 - is_return)::bigint,
           SUM(CASE WHEN is_return = 0 THEN quantity ELSE 0 END)::bigint,
           SUM(is_return)::bigint,
           SUM(CASE WHEN is_return = 1 THEN quantity ELSE 0 END)::bigint
    FROM located
    GROUP BY 1
),
missing (return_id, return_shipment_id) AS (
    SELECT return_id, return_shipment_id FROM window_returns WHERE NOT shipment_found
),
checks (missing_returns, missing_return_id, missing_shipment_id) AS (
    SELECT (SELECT COUNT(*) FROM missing),
           (SELECT return_id FROM missing ORDER BY return_id COLLATE "C" LIMIT 1),
           (SELECT return_shipment_id FROM missing ORDER BY return_id COLLATE "C" LIMIT 1)
)
SELECT w.weekday::bigint                           AS weekday,
       COALESCE(p.shipments, 0)::bigint            AS shipments,
       COALESCE(p.units, 0)::bigint                AS units,
       COALESCE(p.returned_shipments, 0)::bigint   AS returned_shipments,
       COALESCE(p.returned_units, 0)::bigint       AS returned_units,
       c.missing_returns::bigint                   AS missing_returns,
       c.missing_return_id::text                   AS missing_return_id,
       c.missing_shipment_id::text                 AS missing_shipment_id
FROM generate_series(0, 6) AS w (weekday)
LEFT JOIN per_weekday AS p ON p.weekday = w.weekday
CROSS JOIN checks AS c
ORDER BY w.weekday;
