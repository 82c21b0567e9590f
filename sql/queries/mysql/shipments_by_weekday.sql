-- shipments_by_weekday: shipments, shipped units, returned shipments and returned units per local
-- day of week, for one customer of one account, over the UTC window [from, to).
-- For MySQL 8.0.4+ and MariaDB 10.6+ (JSON_TABLE), on the tables of sql/schema/mysql/platform.sql.
--
-- Parameters (always bound, never spliced into the text). MySQL placeholders are positional `?`
-- without numbers, so each is used exactly once, in this order, in the `params` row below:
--   1  account_id   TEXT    every row read belongs to this account...
--   2  customer_id  TEXT    ...and to this customer (shipments, returns, and returns' shipments)
--   3  from         BIGINT  window start, unix seconds UTC, inclusive
--   4  to           BIGINT  window end, unix seconds UTC, exclusive
--   5  segments     TEXT    JSON array of [from_unix, to_unix, offset_seconds]: the account zone's
--                           UTC offset is offset_seconds at every instant of [from_unix, to_unix).
--                           Segments must not overlap and must cover at least [from, to).
--
-- Counting rules (billing-conventions.md, Usage), the same as every dialect:
--   a shipment counts when from <= shipped_at < to, on the local weekday of shipped_at;
--   a return counts when from <= returned_at < to, on the local weekday of ITS SHIPMENT's
--   shipped_at, which may lie long before the window.
-- Local weekday of an instant t with offset o: (floor((t + o) / 86400) + 3) mod 7, 0 = Monday
-- (1970-01-01 was a Thursday). Written in integer arithmetic only: MySQL's `/` rounds its decimal
-- result to a few digits (86399/86400 would become 1.0000), DIV truncates toward zero and MOD
-- keeps the sign of the dividend, so floor and mod are spelled out to be right before 1970 too.
--
-- Design for the returns' weekdays, as on SQLite. MySQL and MariaDB servers often have no time
-- zone tables loaded (CONVERT_TZ then returns NULL), so the caller computes the offsets; it cannot
-- know how far back the shipments of the window's returns go without reading the rows, so the
-- query checks its own input: it reports the rows whose shipped_at no segment covers (and leaves
-- them out of the counts). The caller passes segments for the window plus a lookback that covers
-- the usual returns; when `uncovered` is not 0 it runs the query again with segments that also
-- cover [uncovered_from, uncovered_to]. One run in the usual case, at most two, exact in every
-- zone. A window return whose shipment does not exist for this customer is reported too (and not
-- counted): the caller fails, naming the return.
--
-- Output: exactly 7 rows, one per local weekday, ordered by weekday, every count a signed BIGINT:
--   weekday              0 = Monday ... 6 = Sunday
--   shipments            window shipments (rows)
--   units                sum of their quantity
--   returned_shipments   window returns (rows), on their shipment's weekday
--   returned_units       sum of the returns' own quantity
-- and on every row, the same check of the call:
--   uncovered            window shipments and shipments of window returns that no segment covers
--   uncovered_from       the earliest such shipped_at, or NULL
--   uncovered_to         the latest such shipped_at, or NULL
--   missing_returns      window returns whose shipment does not exist for this customer
--   missing_return_id    the smallest such return id (byte order), or NULL
--   missing_shipment_id  the shipment id that return points at, or NULL
WITH
params AS (
    SELECT CAST(? AS CHAR CHARACTER SET utf8mb4) COLLATE utf8mb4_bin AS account_id,
           CAST(? AS CHAR CHARACTER SET utf8mb4) COLLATE utf8mb4_bin AS customer_id,
           CAST(? AS SIGNED)                                        AS from_s,
           CAST(? AS SIGNED)                                        AS to_s,
           CAST(? AS CHAR CHARACTER SET utf8mb4)                    AS segments
),
segments AS (
    SELECT g.seg_from, g.seg_to, g.utc_offset
    FROM params AS p,
         JSON_TABLE(p.segments, '$[*]' COLUMNS (
             seg_from   BIGINT PATH '$[0]',
             seg_to     BIGINT PATH '$[1]',
             utc_offset BIGINT PATH '$[2]'
         )) AS g
),
window_shipments AS (
    SELECT s.shipped_at, s.quantity, g.utc_offset
    FROM params AS p
    JOIN shipments AS s
        ON s.account_id = p.account_id
       AND s.customer_id = p.customer_id
       AND s.shipped_at >= p.from_s
       AND s.shipped_at < p.to_s
    LEFT JOIN segments AS g ON s.shipped_at >= g.seg_from AND s.shipped_at < g.seg_to
),
window_returns AS (
    SELECT r.id AS return_id, r.shipment_id AS return_shipment_id, r.quantity,
           s.id IS NOT NULL AS shipment_found, s.shipped_at, g.utc_offset
    FROM params AS p
    JOIN returns AS r
        ON r.account_id = p.account_id
       AND r.customer_id = p.customer_id
       AND r.returned_at >= p.from_s
       AND r.returned_at < p.to_s
    LEFT JOIN shipments AS s
        ON s.account_id = r.account_id
       AND s.customer_id = r.customer_id
       AND s.id = r.shipment_id
    LEFT JOIN segments AS g ON s.shipped_at >= g.seg_from AND s.shipped_at < g.seg_to
),
-- Every counted row in local seconds since the epoch; is_return: 0 = shipment, 1 = return.
located AS (
    SELECT 0 AS is_return, quantity, shipped_at + utc_offset AS local_seconds
    FROM window_shipments WHERE utc_offset IS NOT NULL
    UNION ALL
    SELECT 1, quantity, shipped_at + utc_offset
    FROM window_returns WHERE utc_offset IS NOT NULL
),
local_days AS (
    SELECT is_return, quantity,
           (local_seconds - (((local_seconds MOD 86400) + 86400) MOD 86400)) DIV 86400 AS local_day
    FROM located
),
per_weekday AS (
    SELECT (((local_day + 3) MOD 7) + 7) MOD 7 AS weekday,
           SUM(1 - is_return) AS shipments,
           SUM(CASE WHEN is_return = 0 THEN quantity ELSE 0 END) AS units,
           SUM(is_return) AS returned_shipments,
           SUM(CASE WHEN is_return = 1 THEN quantity ELSE 0 END) AS returned_units
    FROM local_days
    GROUP BY 1
),
uncovered AS (
    SELECT shipped_at FROM window_shipments WHERE utc_offset IS NULL
    UNION ALL
    SELECT shipped_at FROM window_returns WHERE shipment_found AND utc_offset IS NULL
),
missing AS (
    SELECT return_id, return_shipment_id FROM window_returns WHERE NOT shipment_found
),
checks AS (
    SELECT (SELECT COUNT(*) FROM uncovered) AS uncovered,
           (SELECT MIN(shipped_at) FROM uncovered) AS uncovered_from,
           (SELECT MAX(shipped_at) FROM uncovered) AS uncovered_to,
           (SELECT COUNT(*) FROM missing) AS missing_returns,
           (SELECT return_id FROM missing ORDER BY return_id LIMIT 1) AS missing_return_id,
           (SELECT return_shipment_id FROM missing ORDER BY return_id LIMIT 1)
               AS missing_shipment_id
),
weekdays AS (
    SELECT 0 AS weekday UNION ALL SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3
    UNION ALL SELECT 4 UNION ALL SELECT 5 UNION ALL SELECT 6
)
SELECT CAST(w.weekday AS SIGNED)                          AS weekday,
       CAST(COALESCE(p.shipments, 0) AS SIGNED)           AS shipments,
       CAST(COALESCE(p.units, 0) AS SIGNED)               AS units,
       CAST(COALESCE(p.returned_shipments, 0) AS SIGNED)  AS returned_shipments,
       CAST(COALESCE(p.returned_units, 0) AS SIGNED)      AS returned_units,
       CAST(c.uncovered AS SIGNED)                        AS uncovered,
       CAST(c.uncovered_from AS SIGNED)                   AS uncovered_from,
       CAST(c.uncovered_to AS SIGNED)                     AS uncovered_to,
       CAST(c.missing_returns AS SIGNED)                  AS missing_returns,
       c.missing_return_id                                AS missing_return_id,
       c.missing_shipment_id                              AS missing_shipment_id
FROM weekdays AS w
LEFT JOIN per_weekday AS p ON p.weekday = w.weekday
CROSS JOIN checks AS c
ORDER BY w.weekday;
