-- The speed of the data on PostgreSQL: the usage a billing run reads, as one bare SQL aggregate,
-- with nothing of billing around it (no pricing, no tax, no invoice, no audit trail, no write).
--
--   psql -h 127.0.0.1 -U postgres -d DB -f sql/bench/bare_aggregate.postgres.sql
--
-- Run it on a database made by `ai-billing generate` before `ai-billing run --until 2026-02-28`
-- bills it (the benchmark of BENCHMARKS.md, "Performance and scale"). For every active
-- subscription on a plan with usage charges (billed in arrears), every period the run will bill
-- (from the subscription's next period, each ending at a local midnight at or before the run's
-- `until`, fixed below), it counts shipments, shipped units, returns and returned units per local
-- day of week of the shipment: the windows, rows and weekdays of each renewal's usage query
-- (sql/queries/postgres/shipments_by_weekday.sql), for all renewals at once. Periods are monthly
-- (every generated plan is), anchored on the start date; `date + interval` clamps to the month's
-- last day (Jan 31 -> Feb 28 -> Mar 31), as billing-conventions.md says.
--
-- Output: one row: windows, (window, weekday) groups, shipments, units, returns, returned units.
WITH RECURSIVE
params (until) AS (
    SELECT timestamptz '2026-02-28 23:59:59.999999+00'
),
usage_plans (account_id, plan_id, months) AS (
    SELECT v.account_id, v.plan_id, (v.program -> 'interval' ->> 'count')::int
    FROM plan_versions AS v
    WHERE json_array_length(COALESCE(v.program -> 'usage', '[]'::json)) > 0
      AND v.program -> 'interval' ->> 'unit' = 'month'
      AND v.version = (SELECT max(version) FROM plan_versions AS p
                       WHERE p.account_id = v.account_id AND p.plan_id = v.plan_id)
),
periods (account_id, customer_id, timezone, start_date, months, period, period_start, period_end) AS (
    SELECT s.account_id, s.customer_id, a.timezone, s.start_date, u.months, s.next_invoice_period,
           (s.start_date + make_interval(months => ((s.next_invoice_period - 1) * u.months)::int))::date,
           (s.start_date + make_interval(months => (s.next_invoice_period * u.months)::int))::date
    FROM subscriptions AS s
    JOIN usage_plans AS u ON u.account_id = s.account_id AND u.plan_id = s.plan_id
    JOIN accounts AS a ON a.id = s.account_id
    WHERE s.status = 'active' AND s.next_invoice_at IS NOT NULL
    UNION ALL
    SELECT account_id, customer_id, timezone, start_date, months, period + 1, period_end,
           (start_date + make_interval(months => ((period + 1) * months)::int))::date
    FROM periods
    WHERE period < 1000
      AND (period_end::timestamp AT TIME ZONE timezone) <= (SELECT until FROM params)
),
windows (window_id, account_id, customer_id, timezone, from_at, to_at) AS MATERIALIZED (
    SELECT row_number() OVER (), account_id, customer_id, timezone,
           period_start::timestamp AT TIME ZONE timezone,
           period_end::timestamp AT TIME ZONE timezone
    FROM periods
    WHERE (period_end::timestamp AT TIME ZONE timezone) <= (SELECT until FROM params)
),
counted (window_id, timezone, is_return, quantity, shipped_at) AS (
    SELECT w.window_id, w.timezone, 0, s.quantity, s.shipped_at
    FROM windows AS w
    JOIN shipments AS s
      ON s.account_id = w.account_id AND s.customer_id = w.customer_id
     AND s.shipped_at >= w.from_at AND s.shipped_at < w.to_at
    UNION ALL
    SELECT w.window_id, w.timezone, 1, r.quantity, s.shipped_at
    FROM windows AS w
    JOIN returns AS r
      ON r.account_id = w.account_id AND r.customer_id = w.customer_id
     AND r.returned_at >= w.from_at AND r.returned_at < w.to_at
    JOIN shipments AS s
      ON s.account_id = r.account_id AND s.customer_id = r.customer_id AND s.id = r.shipment_id
),
per_weekday (window_id, weekday, shipments, units, returns, returned_units) AS (
    SELECT window_id,
           EXTRACT(ISODOW FROM shipped_at AT TIME ZONE timezone)::int - 1,
           SUM(1 - is_return),
           SUM(CASE WHEN is_return = 0 THEN quantity ELSE 0 END),
           SUM(is_return),
           SUM(CASE WHEN is_return = 1 THEN quantity ELSE 0 END)
    FROM counted
    GROUP BY 1, 2
)
SELECT (SELECT count(*) FROM windows) AS windows,
       count(*)                       AS weekday_groups,
       sum(shipments)                 AS shipments,
       sum(units)                     AS units,
       sum(returns)                   AS returns,
       sum(returned_units)            AS returned_units
FROM per_weekday;
