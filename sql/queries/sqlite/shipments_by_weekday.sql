-- shipments_by_weekday: shipments, shipped units, returned shipments and returned units per local
-- day of week, for each of a list of windows: one customer of one account over a UTC window.
--
-- Parameters (always bound, never spliced into the text):
--   ?1  windows   TEXT  JSON array of [account_id, customer_id, from, to, zone]: every row read for
--                       a window belongs to its account and customer (shipments, returns, and
--                       returns' shipments); from and to are unix seconds UTC, the window is
--                       [from, to); zone is the integer naming that window's segments in ?2.
--   ?2  segments  TEXT  JSON array of [zone, from_unix, to_unix, offset_seconds]: the zone's UTC
--                       offset is offset_seconds at every instant of [from_unix, to_unix). The
--                       segments of a zone must not overlap and must cover at least its windows.
-- One window is an array of one; a billing run reads a whole page of windows in one statement.
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
-- input: it reports, per window, the rows whose shipped_at no segment of its zone covers (and
-- leaves them out of the counts). The caller passes segments for the windows plus a lookback that
-- covers the usual returns; a window whose `uncovered` is not 0 is read again with segments that
-- also cover [uncovered_from, uncovered_to]. So one run in the usual case, exact in every zone.
-- A window return whose shipment does not exist for the window's customer is reported too (and not
-- counted): the caller fails that window, naming the return.
--
-- Output: one row per window, ordered by `ord`, its 0-based place in ?1:
--   ord                  the window
--   weekdays             JSON array of [weekday, shipments, units, returned_shipments,
--                        returned_units], one entry per local weekday with any row counted (0 =
--                        Monday ... 6 = Sunday; a weekday missing from it counted nothing):
--                        shipments are window shipments (rows), units the sum of their quantity,
--                        returned_shipments window returns (rows) on their shipment's weekday,
--                        returned_units the sum of the returns' own quantity
--   uncovered            window shipments and shipments of window returns that no segment covers
--   uncovered_from       the earliest such shipped_at, or NULL
--   uncovered_to         the latest such shipped_at, or NULL
--   missing_returns      window returns whose shipment does not exist for this customer
--   missing_return_id    the smallest such return id, or NULL
--   missing_shipment_id  the shipment id that return points at, or NULL
--
-- Plan: the windows drive every join (CROSS JOIN fixes that order in SQLite), each reading its
-- customer's rows through the (account_id, customer_id, time) indexes.
WITH
windows (ord, account_id, customer_id, from_s, to_s, zone) AS MATERIALIZED (
    SELECT key, value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4
    FROM jsonb_each(?1)
),
segments (zone, seg_from, seg_to, utc_offset) AS MATERIALIZED (
    SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3
    FROM jsonb_each(?2)
),
window_shipments (ord, shipped_at, quantity, utc_offset) AS MATERIALIZED (
    SELECT w.ord, s.shipped_at, s.quantity, g.utc_offset
    FROM windows AS w
    CROSS JOIN shipments AS s
        ON s.account_id = w.account_id
       AND s.customer_id = w.customer_id
       AND s.shipped_at >= w.from_s
       AND s.shipped_at < w.to_s
    LEFT JOIN segments AS g
        ON g.zone = w.zone AND s.shipped_at >= g.seg_from AND s.shipped_at < g.seg_to
),
window_returns (ord, return_id, return_shipment_id, quantity, shipment_found, shipped_at,
                utc_offset) AS MATERIALIZED (
    SELECT w.ord, r.id, r.shipment_id, r.quantity, s.id IS NOT NULL, s.shipped_at, g.utc_offset
    FROM windows AS w
    CROSS JOIN returns AS r
        ON r.account_id = w.account_id
       AND r.customer_id = w.customer_id
       AND r.returned_at >= w.from_s
       AND r.returned_at < w.to_s
    LEFT JOIN shipments AS s
        ON s.account_id = r.account_id
       AND s.customer_id = r.customer_id
       AND s.id = r.shipment_id
    LEFT JOIN segments AS g
        ON g.zone = w.zone AND s.shipped_at >= g.seg_from AND s.shipped_at < g.seg_to
),
-- Every counted row in local seconds since the epoch; is_return: 0 = shipment, 1 = return.
located (ord, is_return, quantity, local_seconds) AS (
    SELECT ord, 0, quantity, shipped_at + utc_offset
    FROM window_shipments WHERE utc_offset IS NOT NULL
    UNION ALL
    SELECT ord, 1, quantity, shipped_at + utc_offset
    FROM window_returns WHERE utc_offset IS NOT NULL
),
local_days (ord, is_return, quantity, local_day) AS (
    SELECT ord, is_return, quantity,
           (local_seconds - ((local_seconds % 86400) + 86400) % 86400) / 86400
    FROM located
),
per_weekday (ord, weekday, shipments, units, returned_shipments, returned_units) AS (
    SELECT ord,
           ((local_day + 3) % 7 + 7) % 7,
           SUM(1 - is_return),
           SUM(CASE WHEN is_return = 0 THEN quantity ELSE 0 END),
           SUM(is_return),
           SUM(CASE WHEN is_return = 1 THEN quantity ELSE 0 END)
    FROM local_days
    GROUP BY 1, 2
),
per_window (ord, weekdays) AS (
    SELECT ord,
           json_group_array(json_array(weekday, shipments, units, returned_shipments,
                                       returned_units))
    FROM per_weekday
    GROUP BY ord
),
uncovered (ord, shipped_at) AS (
    SELECT ord, shipped_at FROM window_shipments WHERE utc_offset IS NULL
    UNION ALL
    SELECT ord, shipped_at FROM window_returns WHERE shipment_found AND utc_offset IS NULL
),
uncovered_per_window (ord, uncovered, uncovered_from, uncovered_to) AS (
    SELECT ord, COUNT(*), MIN(shipped_at), MAX(shipped_at) FROM uncovered GROUP BY ord
),
-- With exactly one min() in the query, SQLite takes the bare column return_shipment_id from the
-- row holding the minimum: the shipment of the smallest missing return.
missing_per_window (ord, missing_returns, missing_return_id, missing_shipment_id) AS (
    SELECT ord, COUNT(*), MIN(return_id), return_shipment_id
    FROM window_returns
    WHERE NOT shipment_found
    GROUP BY ord
)
SELECT w.ord                            AS ord,
       COALESCE(p.weekdays, '[]')       AS weekdays,
       COALESCE(c.uncovered, 0)         AS uncovered,
       c.uncovered_from                 AS uncovered_from,
       c.uncovered_to                   AS uncovered_to,
       COALESCE(m.missing_returns, 0)   AS missing_returns,
       m.missing_return_id              AS missing_return_id,
       m.missing_shipment_id            AS missing_shipment_id
FROM windows AS w
LEFT JOIN per_window AS p ON p.ord = w.ord
LEFT JOIN uncovered_per_window AS c ON c.ord = w.ord
LEFT JOIN missing_per_window AS m ON m.ord = w.ord
ORDER BY w.ord;
