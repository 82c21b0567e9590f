//! The MySQL/MariaDB usage template on a real server: `sql/queries/mysql/shipments_by_weekday.sql`
//! over the tables of `sql/schema/mysql/platform.sql` gives what `usage::aggregate` gives, in
//! several zones, across DST changes, for returns of shipments from long before the window (which
//! take the template's second run), before 1970, and it reports a return whose shipment is missing.
//!
//! Core has no MySQL store; this test runs the template the way a MySQL adapter would, with the
//! same offset segments the SQLite store passes. Needs a server at `AI_BILLING_TEST_MYSQL`
//! (default mysql://root@127.0.0.1:3306/mysql); `scripts/services.sh` starts a throwaway one.

use ai_billing::usage::window::offset_segments_unix;
use ai_billing::usage::{self, PeriodUsage, Return, SHIPMENTS_BY_WEEKDAY, Shipment, find_query};
use ai_billing_tests::mysql::TestDatabase;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use sqlx::mysql::{MySqlPool, MySqlPoolOptions, MySqlRow};
use sqlx::{Executor, Row};

const SCHEMA: &str = include_str!("../../sql/schema/mysql/platform.sql");

/// How far before the window the first run gives offsets for, as on SQLite.
const LOOKBACK_SECONDS: i64 = 400 * 86_400;

/// What one usage read gave.
#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    Usage(PeriodUsage),
    /// A window return whose shipment is missing: (return id, shipment id).
    Missing(String, String),
}

fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .unwrap()
        .with_timezone(&Utc)
}

fn shipment(id: &str, shipped_at: &str, quantity: u32) -> Shipment {
    Shipment {
        id: id.into(),
        shipped_at: at(shipped_at),
        quantity,
    }
}

fn ret(id: &str, shipment_id: &str, returned_at: &str, quantity: u32) -> Return {
    Return {
        id: id.into(),
        shipment_id: shipment_id.into(),
        returned_at: at(returned_at),
        quantity,
    }
}

fn ceil_seconds(at: DateTime<Utc>) -> i64 {
    at.timestamp() + i64::from(at.timestamp_subsec_nanos() > 0)
}

fn segments_json(tz: Tz, from: i64, to: i64) -> String {
    let parts: Vec<String> = offset_segments_unix(tz, from, to)
        .iter()
        .map(|s| format!("[{},{},{}]", s.from, s.to, s.offset_seconds))
        .collect();
    format!("[{}]", parts.join(","))
}

async fn setup() -> (TestDatabase, MySqlPool) {
    let database = TestDatabase::create().await;
    let pool = MySqlPoolOptions::new()
        .max_connections(2)
        .connect(database.url())
        .await
        .expect("connect to the test database");
    for statement in SCHEMA
        .split(';')
        .map(|part| {
            part.lines()
                .filter(|line| !line.trim_start().starts_with("--"))
                .collect::<Vec<_>>()
                .join("\n")
        })
        .filter(|statement| !statement.trim().is_empty())
    {
        pool.execute(sqlx::AssertSqlSafe(statement))
            .await
            .expect("create the platform tables");
    }
    (database, pool)
}

async fn insert(
    pool: &MySqlPool,
    account: &str,
    customer: &str,
    shipments: &[Shipment],
    returns: &[Return],
) {
    for row in shipments {
        sqlx::query("INSERT INTO shipments (account_id, id, customer_id, shipped_at, quantity) VALUES (?, ?, ?, ?, ?)")
            .bind(account)
            .bind(&row.id)
            .bind(customer)
            .bind(row.shipped_at.timestamp())
            .bind(i64::from(row.quantity))
            .execute(pool)
            .await
            .unwrap();
    }
    for row in returns {
        sqlx::query("INSERT INTO returns (account_id, id, customer_id, shipment_id, returned_at, quantity) VALUES (?, ?, ?, ?, ?, ?)")
            .bind(account)
            .bind(&row.id)
            .bind(customer)
            .bind(&row.shipment_id)
            .bind(row.returned_at.timestamp())
            .bind(i64::from(row.quantity))
            .execute(pool)
            .await
            .unwrap();
    }
}

/// Runs the template as an adapter would: segments over the window plus the lookback, and once
/// more over what the first run reports uncovered. Returns the outcome and the number of runs.
async fn mysql_usage(
    pool: &MySqlPool,
    account: &str,
    customer: &str,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    tz: Tz,
) -> (Outcome, u32) {
    let template = find_query(SHIPMENTS_BY_WEEKDAY).unwrap();
    let (from_s, to_s) = (ceil_seconds(from), ceil_seconds(to));
    let mut cover = (from_s - LOOKBACK_SECONDS, to_s);
    for run in 1..=2 {
        let rows = sqlx::query(template.mysql)
            .bind(account)
            .bind(customer)
            .bind(from_s)
            .bind(to_s)
            .bind(segments_json(tz, cover.0, cover.1))
            .fetch_all(pool)
            .await
            .unwrap_or_else(|error| panic!("running the MySQL template: {error}"));
        assert_eq!(rows.len(), 7, "seven weekday rows");
        let first = &rows[0];
        let missing: i64 = first.get("missing_returns");
        if missing > 0 {
            return (
                Outcome::Missing(
                    first.get("missing_return_id"),
                    first.get("missing_shipment_id"),
                ),
                run,
            );
        }
        let uncovered: i64 = first.get("uncovered");
        if uncovered == 0 {
            return (Outcome::Usage(read(&rows)), run);
        }
        assert_eq!(run, 1, "the second run must cover every row");
        let low: i64 = first.get("uncovered_from");
        let high: i64 = first.get("uncovered_to");
        cover = (cover.0.min(low), cover.1.max(high + 1));
    }
    unreachable!("the loop returns by its second run")
}

fn read(rows: &[MySqlRow]) -> PeriodUsage {
    let mut usage = PeriodUsage::default();
    for (index, row) in rows.iter().enumerate() {
        let weekday: i64 = row.get("weekday");
        assert_eq!(weekday, index as i64, "rows in weekday order");
        let count = |column: &str| u64::try_from(row.get::<i64, _>(column)).unwrap();
        let day = index;
        usage.shipments[day] = count("shipments");
        usage.units[day] = count("units");
        usage.returned_shipments[day] = count("returned_shipments");
        usage.returned_units[day] = count("returned_units");
    }
    usage
}

/// Shipments around both 2026 DST changes in New York, late evenings that are the next UTC day,
/// shipments from long before the windows (one before 1970) and their returns.
fn rows() -> (Vec<Shipment>, Vec<Return>) {
    let shipments = vec![
        shipment("pre-1970", "1969-12-31T23:00:00Z", 3),
        shipment("old-mon", "2024-06-03T14:00:00Z", 7),
        shipment("old-sun-late", "2025-03-10T03:30:00Z", 2),
        shipment("s-sat-late", "2026-03-08T04:59:59Z", 1),
        shipment("s-sun-early", "2026-03-08T05:00:00Z", 2),
        shipment("s-sun-jump", "2026-03-08T07:00:00Z", 3),
        shipment("s-sun-late", "2026-03-09T03:59:59Z", 4),
        shipment("s-mon", "2026-03-09T04:00:00Z", 5),
        shipment("f-sat-late", "2026-11-01T03:59:59Z", 1),
        shipment("f-sun-first", "2026-11-01T05:30:00Z", 2),
        shipment("f-sun-again", "2026-11-01T06:30:00Z", 3),
        shipment("f-sun-late", "2026-11-02T04:59:59Z", 4),
        shipment("f-mon", "2026-11-02T05:00:00Z", 5),
        shipment("w-fri-late", "2026-01-17T04:40:00Z", 6),
        shipment("w-wed", "2026-01-14T15:00:00Z", 1),
    ];
    let returns = vec![
        ret("r-pre-1970", "pre-1970", "2026-03-11T12:00:00Z", 1),
        ret("r-old-mon", "old-mon", "2026-03-10T12:00:00Z", 3),
        ret("r-old-sun", "old-sun-late", "2026-11-03T12:00:00Z", 1),
        ret("r-spring", "s-sun-jump", "2026-03-20T12:00:00Z", 2),
        ret("r-autumn", "f-sun-again", "2026-11-15T12:00:00Z", 1),
        ret("r-winter", "w-fri-late", "2026-01-20T12:00:00Z", 6),
    ];
    (shipments, returns)
}

const ZONES: [Tz; 6] = [
    chrono_tz::America::New_York,
    Tz::UTC,
    chrono_tz::Asia::Kolkata,
    chrono_tz::Australia::Lord_Howe,
    chrono_tz::Pacific::Chatham,
    chrono_tz::America::Sao_Paulo,
];

const WINDOWS: [(&str, &str); 8] = [
    ("2026-03-01T05:00:00Z", "2026-04-01T04:00:00Z"),
    ("2026-03-08T05:00:00Z", "2026-03-09T04:00:00Z"),
    ("2026-10-01T04:00:00Z", "2026-12-01T05:00:00Z"),
    ("2026-11-01T04:00:00Z", "2026-11-02T05:00:00Z"),
    ("2026-01-01T05:00:00Z", "2026-02-01T05:00:00Z"),
    ("1960-01-01T00:00:00Z", "2030-01-01T00:00:00Z"),
    ("2026-03-08T05:00:00Z", "2026-03-08T05:00:00Z"),
    ("2026-03-08T04:59:58.5Z", "2026-03-08T05:00:00.5Z"),
];

#[tokio::test(flavor = "multi_thread")]
async fn mysql_template_equals_aggregate_in_every_zone() {
    let (database, pool) = setup().await;
    let (shipments, returns) = rows();
    insert(&pool, "acct", "cust", &shipments, &returns).await;
    // Another customer's and another account's rows never count.
    insert(
        &pool,
        "acct",
        "other",
        &[shipment("o1", "2026-03-08T12:00:00Z", 9)],
        &[],
    )
    .await;
    insert(
        &pool,
        "acct2",
        "cust",
        &[shipment("s-mon", "2026-03-09T12:00:00Z", 9)],
        &[],
    )
    .await;

    let mut second_runs = 0;
    for tz in ZONES {
        for (from, to) in WINDOWS {
            let (from, to) = (at(from), at(to));
            let expected = usage::aggregate(&shipments, &returns, from, to, tz).unwrap();
            let (got, runs) = mysql_usage(&pool, "acct", "cust", from, to, tz).await;
            assert_eq!(got, Outcome::Usage(expected), "{tz} [{from}, {to})");
            second_runs += u32::from(runs == 2);
        }
    }
    assert!(
        second_runs > 0,
        "returns of old shipments take the second run"
    );

    // Spelled out for New York in March: Saturday 23:59:59 EST is a Saturday, the old Monday
    // shipment's return counts on Monday, the pre-1970 one (Wednesday 18:00 EST) on Wednesday.
    let (spring, runs) = mysql_usage(
        &pool,
        "acct",
        "cust",
        at("2026-03-01T05:00:00Z"),
        at("2026-04-01T04:00:00Z"),
        chrono_tz::America::New_York,
    )
    .await;
    assert_eq!(runs, 2, "the 1969 shipment is outside the lookback");
    let Outcome::Usage(spring) = spring else {
        panic!("{spring:?}");
    };
    assert_eq!(spring.shipments, [1, 0, 0, 0, 0, 1, 3]);
    assert_eq!(spring.units, [5, 0, 0, 0, 0, 1, 9]);
    assert_eq!(spring.returned_shipments, [1, 0, 1, 0, 0, 0, 1]);
    assert_eq!(spring.returned_units, [3, 0, 1, 0, 0, 0, 2]);

    pool.close().await;
    database.drop_now().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn mysql_template_reports_a_missing_shipment() {
    let (database, pool) = setup().await;
    let (shipments, mut returns) = rows();
    returns.push(ret("r-ghost-b", "ghost", "2026-03-12T12:00:00Z", 1));
    returns.push(ret("r-ghost-a", "phantom", "2026-03-13T12:00:00Z", 1));
    insert(&pool, "acct", "cust", &shipments, &returns).await;
    let (from, to) = (at("2026-03-01T05:00:00Z"), at("2026-04-01T04:00:00Z"));
    let tz = chrono_tz::America::New_York;
    let (got, _) = mysql_usage(&pool, "acct", "cust", from, to, tz).await;
    assert_eq!(got, Outcome::Missing("r-ghost-a".into(), "phantom".into()));
    // aggregate names the same return.
    let error = usage::aggregate(&shipments, &returns, from, to, tz).unwrap_err();
    assert!(error.to_string().contains("\"r-ghost-a\""), "{error}");
    // Outside the window it does not matter.
    let (later, _) = mysql_usage(
        &pool,
        "acct",
        "cust",
        at("2026-10-01T04:00:00Z"),
        to.with_timezone(&Utc) + chrono::Duration::days(300),
        tz,
    )
    .await;
    let expected = usage::aggregate(
        &shipments,
        &returns,
        at("2026-10-01T04:00:00Z"),
        to + chrono::Duration::days(300),
        tz,
    )
    .unwrap();
    assert_eq!(later, Outcome::Usage(expected));
    pool.close().await;
    database.drop_now().await;
}
