-- The speed of the data: the usage a billing run reads, as one bare SQL aggregate, with nothing
-- of billing around it (no pricing, no tax, no invoice, no audit trail, no write).
--
--   sqlite3 DB < sql/bench/bare_aggregate.sqlite.sql
--
-- Run it on a database made by `ai-billing generate` before `ai-billing run --until 2026-02-28`
-- bills it (the benchmark of BENCHMARKS.md, "Performance and scale"). For every active
-- subscription on a plan with usage charges (billed in arrears), every period the run will bill
-- (from the subscription's next period, each ending at a local midnight at or before the run's
-- `until`), it counts shipments, shipped units, returns and returned units per local day of
-- week of the shipment: the same windows, the same rows and the same weekdays as the usage query
-- of each renewal (sql/queries/sqlite/shipments_by_weekday.sql), for all renewals at once.
--
-- Two things are fixed here rather than bound, so the file runs as it is:
--   * `until` (the params CTE): the end of 2026-02-28 UTC, as the benchmark's `--until`;
--   * the zones' UTC offsets (zone_offsets): SQLite has no time zone database, and the engine
--     computes offsets in Rust. The table covers the three zones `ai-billing generate` uses,
--     2025 to 2027.
-- Periods are monthly (every generated plan is), anchored on the start date and clamped to the
-- month's last day (Jan 31 -> Feb 28 -> Mar 31), as billing-conventions.md says.
--
-- Output: one row: windows, (window, weekday) groups, shipments, units, returns, returned units.
WITH RECURSIVE
params (until) AS (
    SELECT unixepoch('2026-02-28 23:59:59')
),
zone_offsets (timezone, seg_from, seg_to, utc_offset) AS (
    VALUES
    ('America/New_York', unixepoch('2025-01-01'), unixepoch('2025-03-09 07:00:00'), -18000),
    ('America/New_York', unixepoch('2025-03-09 07:00:00'), unixepoch('2025-11-02 06:00:00'), -14400),
    ('America/New_York', unixepoch('2025-11-02 06:00:00'), unixepoch('2026-03-08 07:00:00'), -18000),
    ('America/New_York', unixepoch('2026-03-08 07:00:00'), unixepoch('2026-11-01 06:00:00'), -14400),
    ('America/New_York', unixepoch('2026-11-01 06:00:00'), unixepoch('2027-03-14 07:00:00'), -18000),
    ('America/New_York', unixepoch('2027-03-14 07:00:00'), unixepoch('2027-11-07 06:00:00'), -14400),
    ('America/New_York', unixepoch('2027-11-07 06:00:00'), unixepoch('2028-01-01'), -18000),
    ('America/Los_Angeles', unixepoch('2025-01-01'), unixepoch('2025-03-09 10:00:00'), -28800),
    ('America/Los_Angeles', unixepoch('2025-03-09 10:00:00'), unixepoch('2025-11-02 09:00:00'), -25200),
    ('America/Los_Angeles', unixepoch('2025-11-02 09:00:00'), unixepoch('2026-03-08 10:00:00'), -28800),
    ('America/Los_Angeles', unixepoch('2026-03-08 10:00:00'), unixepoch('2026-11-01 09:00:00'), -25200),
    ('America/Los_Angeles', unixepoch('2026-11-01 09:00:00'), unixepoch('2027-03-14 10:00:00'), -28800),
    ('America/Los_Angeles', unixepoch('2027-03-14 10:00:00'), unixepoch('2027-11-07 09:00:00'), -25200),
    ('America/Los_Angeles', unixepoch('2027-11-07 09:00:00'), unixepoch('2028-01-01'), -28800),
    ('Europe/Paris', unixepoch('2025-01-01'), unixepoch('2025-03-30 01:00:00'), 3600),
    ('Europe/Paris', unixepoch('2025-03-30 01:00:00'), unixepoch('2025-10-26 01:00:00'), 7200),
    ('Europe/Paris', unixepoch('2025-10-26 01:00:00'), unixepoch('2026-03-29 01:00:00'), 3600),
    ('Europe/Paris', unixepoch('2026-03-29 01:00:00'), unixepoch('2026-10-25 01:00:00'), 7200),
    ('Europe/Paris', unixepoch('2026-10-25 01:00:00'), unixepoch('2027-03-28 01:00:00'), 3600),
    ('Europe/Paris', unixepoch('2027-03-28 01:00:00'), unixepoch('2027-10-31 01:00:00'), 7200),
    ('Europe/Paris', unixepoch('2027-10-31 01:00:00'), unixepoch('2028-01-01'), 3600)
),
-- The latest version of each plan that has usage charges, with its interval in months.
usage_plans (account_id, plan_id, months) AS (
    SELECT v.account_id, v.plan_id, json_extract(v.program_json, '$.interval.count')
    FROM plan_versions AS v
    WHERE json_array_length(v.program_json, '$.usage') > 0
      AND json_extract(v.program_json, '$.interval.unit') = 'month'
      AND v.version = (SELECT MAX(version) FROM plan_versions AS p
                       WHERE p.account_id = v.account_id AND p.plan_id = v.plan_id)
),
subs (account_id, customer_id, timezone, start_date, months, period) AS (
    SELECT s.account_id, s.customer_id, a.timezone, s.start_date, u.months, s.next_invoice_period
    FROM subscriptions AS s
    JOIN usage_plans AS u ON u.account_id = s.account_id AND u.plan_id = s.plan_id
    JOIN accounts AS a ON a.id = s.account_id
    WHERE s.status = 'active' AND s.next_invoice_at IS NOT NULL
),
-- The local date `n` intervals after a start, clamped to the month's last day.
periods (account_id, customer_id, timezone, start_date, months, period, period_start, period_end) AS (
    SELECT account_id, customer_id, timezone, start_date, months, period,
           min(date(start_date, 'start of month', '+' || ((period - 1) * months) || ' months',
                    '+' || (CAST(strftime('%d', start_date) AS INTEGER) - 1) || ' days'),
               date(start_date, 'start of month', '+' || ((period - 1) * months + 1) || ' months',
                    '-1 day')),
           min(date(start_date, 'start of month', '+' || (period * months) || ' months',
                    '+' || (CAST(strftime('%d', start_date) AS INTEGER) - 1) || ' days'),
               date(start_date, 'start of month', '+' || (period * months + 1) || ' months',
                    '-1 day'))
    FROM subs
    UNION ALL
    SELECT account_id, customer_id, timezone, start_date, months, period + 1, period_end,
           min(date(start_date, 'start of month', '+' || ((period + 1) * months) || ' months',
                    '+' || (CAST(strftime('%d', start_date) AS INTEGER) - 1) || ' days'),
               date(start_date, 'start of month', '+' || ((period + 1) * months + 1) || ' months',
                    '-1 day'))
    FROM periods
    WHERE period < 1000
      AND (SELECT unixepoch(period_end) - z.utc_offset FROM zone_offsets AS z
           WHERE z.timezone = periods.timezone
             AND unixepoch(period_end) - z.utc_offset >= z.seg_from
             AND unixepoch(period_end) - z.utc_offset < z.seg_to) <= (SELECT until FROM params)
),
-- Each billed period as a UTC window: local midnights of its start and end dates.
windows (window_id, account_id, customer_id, timezone, from_utc, to_utc) AS MATERIALIZED (
    SELECT row_number() OVER (), p.account_id, p.customer_id, p.timezone,
           unixepoch(p.period_start) - zs.utc_offset, unixepoch(p.period_end) - ze.utc_offset
    FROM periods AS p
    JOIN zone_offsets AS zs ON zs.timezone = p.timezone
     AND unixepoch(p.period_start) - zs.utc_offset >= zs.seg_from
     AND unixepoch(p.period_start) - zs.utc_offset < zs.seg_to
    JOIN zone_offsets AS ze ON ze.timezone = p.timezone
     AND unixepoch(p.period_end) - ze.utc_offset >= ze.seg_from
     AND unixepoch(p.period_end) - ze.utc_offset < ze.seg_to
    WHERE unixepoch(p.period_end) - ze.utc_offset <= (SELECT until FROM params)
),
-- Every counted row with the instant whose local weekday counts: a shipment's own, a return's
-- shipment's.
counted (window_id, timezone, is_return, quantity, shipped_at) AS (
    SELECT w.window_id, w.timezone, 0, s.quantity, s.shipped_at
    FROM windows AS w
    JOIN shipments AS s
      ON s.account_id = w.account_id AND s.customer_id = w.customer_id
     AND s.shipped_at >= w.from_utc AND s.shipped_at < w.to_utc
    UNION ALL
    SELECT w.window_id, w.timezone, 1, r.quantity, s.shipped_at
    FROM windows AS w
    JOIN returns AS r
      ON r.account_id = w.account_id AND r.customer_id = w.customer_id
     AND r.returned_at >= w.from_utc AND r.returned_at < w.to_utc
    JOIN shipments AS s
      ON s.account_id = r.account_id AND s.customer_id = r.customer_id AND s.id = r.shipment_id
),
per_weekday (window_id, weekday, shipments, units, returns, returned_units) AS (
    SELECT c.window_id,
           (((c.shipped_at + z.utc_offset) / 86400) + 3) % 7,
           SUM(1 - c.is_return),
           SUM(CASE WHEN c.is_return = 0 THEN c.quantity ELSE 0 END),
           SUM(c.is_return),
           SUM(CASE WHEN c.is_return = 1 THEN c.quantity ELSE 0 END)
    FROM counted AS c
    JOIN zone_offsets AS z
      ON z.timezone = c.timezone AND c.shipped_at >= z.seg_from AND c.shipped_at < z.seg_to
    GROUP BY 1, 2
)
SELECT (SELECT COUNT(*) FROM windows) AS windows,
       COUNT(*)                       AS weekday_groups,
       SUM(shipments)                 AS shipments,
       SUM(units)                     AS units,
       SUM(returns)                   AS returns,
       SUM(returned_units)            AS returned_units
FROM per_weekday;
