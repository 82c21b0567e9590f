-- shipments_by_weekday: shipments, shipped units, returned shipments and returned units per local
-- day of week, for one customer of one account, over the UTC window [?3, ?4).
--
-- Parameters (always bound, never spliced into the text):
--   ?1  account_id   TEXT     every row read belongs to this account...
--   ?2  customer_id  TEXT     ...and to this customer (shipments, returns, and returns' shipments)
--   ?3  from         INTEGER  window start, unix seconds UTC, inclusive
--   ?4  to           INTEGER  window end, unix seconds UTC, exclusive
--   ?5  segments     TEXT     JSON array of [from_unix, to_unix, offset_seconds]: the account zone's
--                             UTC offset is offset_seconds at every instant of [from_unix, to_unix).
--                             Segments must not overlap and must cover at least [?3, ?4).
--
-- Counting rules (billing-conventions.md, Usage):
--   a shipment counts when from <= shipped_at < to, on the local weekday of shipped_at;
--   a return counts when from <= returned_at < to, on the local weekday of ITS SHIPMENT's
--   shipped_at, which may lie long before the window.
-- Local weekday of an instant t with offset o: (floor((t + o) / 86400) + 3) mod 7, 0 = Monday
-- (1970-01-01 was a Thursday); floor and mod are written to be right before 1970 too, since
-- SQLite's / and % truncate toward zero.
--
-- Design for the returns' weekdays. SQLite has no time zone database, so the caller computes the
-- offsets; but it cannot know how far back the shipments of the window's returns go without reading
-- the rows. Rather than a second statement to find that bound first, the query checks its own
-- input: it reports the rows whose shipped_at no segment covers (and leaves them out of the
-- counts). The caller passes segments for the window plus a lookback that covers the usual returns;
-- when `uncovered` is not 0 it runs the query again with segments that also cover
-- [uncovered_from, uncovered_to]. So one run in the usual case, at most two, exact in every zone.
-- A window return whose shipment does not exist for this customer is reported too (and not
-- counted): the caller fails, naming the return.
--
-- Output: exactly 7 rows, one per local weekday, ordered by weekday:
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
--   missing_return_id    the smallest such return id, or NULL
--   missing_shipment_id  the shipment id that return points at, or NULL
WITH
segments (seg_from, seg_to, utc_offset) AS (
    SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]'), json_extract(value, '$[2]')
    FROM json_each(?5)
),
window_shipments (shipped_at, quantity, utc_offset) AS MATERIALIZED (
    SELECT s.shipped_at, s.quantity, g.utc_offset
    FROM shipments AS s
    LEFT JOIN segments AS g ON s.shipped_at >= g.seg_from AND s.shipped_at < g.seg_to
    WHERE s.account_id = ?1
      AND s.customer_id = ?2
      AND s.shipped_at >= ?3
      AND s.shipped_at < ?4
),
window_returns (return_id, return_shipment_id, quantity, shipment_found, shipped_at, utc_offset)
AS MATERIALIZED (
    SELECT r.id, r.shipment_id, r.quantity, s.id IS NOT NULL, s.shipped_at, g.utc_offset
    FROM returns AS r
    LEFT JOIN shipments AS s
        ON s.account_id = r.account_id
       AND s.customer_id = r.customer_id
       AND s.id = r.shipment_id
    LEFT JOIN segments AS g ON s.shipped_at >= g.seg_from AND s.shipped_at < g.seg_to
    WHERE r.account_id = ?1
      AND r.customer_id = ?2
      AND r.returned_at >= ?3
      AND r.returned_at < ?4
),
-- Every counted row in local seconds since the epoch; is_return: 0 = shipment, 1 = return.
located (is_return, quantity, local_seconds) AS (
    SELECT 0, quantity, shipped_at + utc_offset FROM window_shipments WHERE utc_offset IS NOT NULL
    UNION ALL
    SELECT 1, quantity, shipped_at + utc_offset FROM window_returns WHERE utc_offset IS NOT NULL
),
local_days (is_return, quantity, local_day) AS (
    SELECT is_return, quantity,
           (local_seconds - ((local_seconds % 86400) + 86400) % 86400) / 86400
    FROM located
),
per_weekday (weekday, shipments, units, returned_shipments, returned_units) AS (
    SELECT ((local_day + 3) % 7 + 7) % 7,
           SUM(1 - is_return),
           SUM(CASE WHEN is_return = 0 THEN quantity ELSE 0 END),
           SUM(is_return),
           SUM(CASE WHEN is_return = 1 THEN quantity ELSE 0 END)
    FROM local_days
    GROUP BY 1
),
uncovered (shipped_at) AS (
    SELECT shipped_at FROM window_shipments WHERE utc_offset IS NULL
    UNION ALL
    SELECT shipped_at FROM window_returns WHERE shipment_found AND utc_offset IS NULL
),
missing (return_id, return_shipment_id) AS (
    SELECT return_id, return_shipment_id FROM window_returns WHERE NOT shipment_found
),
checks (uncovered, uncovered_from, uncovered_to, missing_returns, missing_return_id,
        missing_shipment_id) AS (
    SELECT (SELECT COUNT(*) FROM uncovered),
           (SELECT MIN(shipped_at) FROM uncovered),
           (SELECT MAX(shipped_at) FROM uncovered),
           (SELECT COUNT(*) FROM missing),
           (SELECT return_id FROM missing ORDER BY return_id LIMIT 1),
           (SELECT return_shipment_id FROM missing ORDER BY return_id LIMIT 1)
),
weekdays (weekday) AS (
    VALUES (0), (1), (2), (3), (4), (5), (6)
)
SELECT w.weekday                          AS weekday,
       COALESCE(p.shipments, 0)           AS shipments,
       COALESCE(p.units, 0)               AS units,
       COALESCE(p.returned_shipments, 0)  AS returned_shipments,
       COALESCE(p.returned_units, 0)      AS returned_units,
       c.uncovered                        AS uncovered,
       c.uncovered_from                   AS uncovered_from,
       c.uncovered_to                     AS uncovered_to,
       c.missing_returns                  AS missing_returns,
       c.missing_return_id                AS missing_return_id,
       c.missing_shipment_id              AS missing_shipment_id
FROM weekdays AS w
LEFT JOIN per_weekday AS p ON p.weekday = w.weekday
CROSS JOIN checks AS c
ORDER BY w.weekday;
