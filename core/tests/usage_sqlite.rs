//! The SQLite usage query against the pure reference [`ai_billing::usage::aggregate`], on real
//! SQLite databases (in memory and on disk).

use ai_billing::BillingState as _;
use ai_billing::Error;
use ai_billing::sqlite::SqliteStore;
use ai_billing::usage::{self, PeriodUsage, Return, Shipment, UsageQueryTemplate};
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;

/// A store at `url` with its tables.
async fn open(url: &str) -> SqliteStore {
    let db = SqliteStore::open(url).await.unwrap();
    db.migrate().await.unwrap();
    db
}

fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .unwrap()
        .with_timezone(&Utc)
}

fn unix(seconds: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(seconds, 0).unwrap()
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

/// Local midnight starting `date` in `tz`, as the billing calendar bounds a period.
fn midnight(tz: Tz, date: NaiveDate) -> DateTime<Utc> {
    tz.from_local_datetime(&date.and_hms_opt(0, 0, 0).unwrap())
        .earliest()
        .unwrap()
        .with_timezone(&Utc)
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn query() -> &'static UsageQueryTemplate {
    usage::find_query("shipments_by_weekday").unwrap()
}

const NEW_YORK: Tz = chrono_tz::America::New_York;

/// A small deterministic generator (xorshift64*), so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn between(&mut self, low: i64, high: i64) -> i64 {
        low + i64::try_from(self.below(u64::try_from(high - low).unwrap())).unwrap()
    }
}

/// Shipments and returns around `[from, to)`: dense near the window's edges, local midnights and
/// the zone's offset changes, some long before the window, and returns of all of them.
fn generate(
    rng: &mut Rng,
    tz: Tz,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> (Vec<Shipment>, Vec<Return>) {
    let (from, to) = (from.timestamp(), to.timestamp());
    let mut hot: Vec<i64> = vec![from, to];
    for segment in usage::window::offset_segments_unix(tz, from - 40 * 86_400, to + 40 * 86_400) {
        hot.push(segment.from);
    }
    let mut day = from - 3 * 86_400;
    while day < to + 3 * 86_400 {
        let local = unix(day).with_timezone(&tz).date_naive();
        hot.push(midnight(tz, local).timestamp());
        day += 86_400;
    }
    let mut shipments = Vec::new();
    for n in 0..900 {
        let shipped_at = match rng.below(10) {
            0..=3 => {
                hot[usize::try_from(rng.below(hot.len() as u64)).unwrap()]
                    + rng.between(-7_200, 7_200)
            }
            4..=7 => rng.between(from - 5 * 86_400, to + 5 * 86_400),
            8 => rng.between(from - 900 * 86_400, from - 400 * 86_400),
            _ => rng.between(from - 400 * 86_400, from),
        };
        let largest = if rng.below(4) == 0 { 40 } else { 3 };
        let quantity = u32::try_from(1 + rng.below(largest)).unwrap();
        shipments.push(Shipment {
            id: format!("s{n}"),
            shipped_at: unix(shipped_at),
            quantity,
        });
    }
    let mut returns = Vec::new();
    for n in 0..400 {
        let of = &shipments[usize::try_from(rng.below(shipments.len() as u64)).unwrap()];
        let earliest = of.shipped_at.timestamp().max(from - 10 * 86_400);
        let returned_at = rng.between(earliest, to + 10 * 86_400);
        let quantity = u32::try_from(1 + rng.below(u64::from(of.quantity))).unwrap();
        returns.push(Return {
            id: format!("r{n}"),
            shipment_id: of.id.clone(),
            returned_at: unix(returned_at),
            quantity,
        });
    }
    (shipments, returns)
}

#[tokio::test]
async fn sql_equals_the_reference_across_zones() {
    let cases: Vec<(Tz, NaiveDate, NaiveDate)> = vec![
        (NEW_YORK, date(2026, 3, 1), date(2026, 4, 1)),
        (NEW_YORK, date(2026, 10, 15), date(2026, 11, 15)),
        (NEW_YORK, date(2026, 3, 8), date(2026, 3, 9)),
        (NEW_YORK, date(1969, 12, 1), date(1970, 1, 1)),
        (
            chrono_tz::Europe::London,
            date(2026, 3, 1),
            date(2026, 4, 1),
        ),
        (
            chrono_tz::Europe::London,
            date(2026, 10, 1),
            date(2026, 11, 1),
        ),
        (
            chrono_tz::Asia::Kolkata,
            date(2026, 1, 31),
            date(2026, 2, 28),
        ),
        (
            chrono_tz::Australia::Lord_Howe,
            date(2026, 4, 1),
            date(2026, 5, 1),
        ),
        (
            chrono_tz::Australia::Lord_Howe,
            date(2026, 9, 20),
            date(2026, 10, 20),
        ),
        (Tz::UTC, date(2026, 2, 1), date(2026, 3, 1)),
        (Tz::UTC, date(1969, 12, 15), date(1970, 1, 15)),
    ];
    let db = open("sqlite::memory:").await;
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for (case, (tz, start, end)) in cases.into_iter().enumerate() {
        let (from, to) = (midnight(tz, start), midnight(tz, end));
        let (shipments, returns) = generate(&mut rng, tz, from, to);
        let account = format!("acct-{case}");
        db.insert_shipments(&account, "cust", &shipments)
            .await
            .unwrap();
        db.insert_returns(&account, "cust", &returns).await.unwrap();
        // The period itself, then windows that cut through days, and one in another zone.
        let windows = [
            (from, to, tz),
            (
                from + chrono::Duration::hours(5),
                to - chrono::Duration::minutes(7),
                tz,
            ),
            (from - chrono::Duration::days(30), from, tz),
            (from, to, chrono_tz::Asia::Kathmandu),
        ];
        for (from, to, tz) in windows {
            let expected = usage::aggregate(&shipments, &returns, from, to, tz).unwrap();
            let found = db
                .period_usage(query(), &account, "cust", from, to, tz)
                .await
                .unwrap();
            assert_eq!(found, expected, "{account} {tz} [{from}, {to})");
            assert!(
                expected.total_returned_shipments() > 0,
                "the case exercises returns"
            );
        }
    }
}

#[tokio::test]
async fn a_late_friday_evening_in_new_york_is_a_friday() {
    let db = open("sqlite::memory:").await;
    // Friday 2026-01-16 23:40 in New York is Saturday 04:40 UTC.
    let rows = [shipment("fri", "2026-01-17T04:40:00Z", 2)];
    db.insert_shipments("acct", "cust", &rows).await.unwrap();
    let (from, to) = (
        midnight(NEW_YORK, date(2026, 1, 1)),
        midnight(NEW_YORK, date(2026, 2, 1)),
    );
    let usage = db
        .period_usage(query(), "acct", "cust", from, to, NEW_YORK)
        .await
        .unwrap();
    assert_eq!(usage.shipments, [0, 0, 0, 0, 1, 0, 0]);
    assert_eq!(usage.units, [0, 0, 0, 0, 2, 0, 0]);
    let in_utc = db
        .period_usage(query(), "acct", "cust", from, to, Tz::UTC)
        .await
        .unwrap();
    assert_eq!(in_utc.shipments, [0, 0, 0, 0, 0, 1, 0]);
}

#[tokio::test]
async fn a_return_counts_on_the_weekday_of_a_shipment_months_or_years_earlier() {
    let db = open("sqlite::memory:").await;
    let shipments = [
        // Monday 2025-10-06, 10:00 in New York.
        shipment("months", "2025-10-06T14:00:00Z", 4),
        // Saturday 2023-07-01, 21:30 in New York (Sunday in UTC): beyond the first run's offsets.
        shipment("years", "2023-07-02T01:30:00Z", 3),
        shipment("in-window", "2026-01-07T15:00:00Z", 1),
    ];
    let returns = [
        ret("r-months", "months", "2026-01-15T15:00:00Z", 1),
        ret("r-years", "years", "2026-01-16T15:00:00Z", 3),
        ret("r-outside", "in-window", "2026-02-03T15:00:00Z", 1),
    ];
    db.insert_shipments("acct", "cust", &shipments)
        .await
        .unwrap();
    db.insert_returns("acct", "cust", &returns).await.unwrap();
    let (from, to) = (
        midnight(NEW_YORK, date(2026, 1, 1)),
        midnight(NEW_YORK, date(2026, 2, 1)),
    );
    let usage = db
        .period_usage(query(), "acct", "cust", from, to, NEW_YORK)
        .await
        .unwrap();
    assert_eq!(
        usage,
        PeriodUsage {
            shipments: [0, 0, 1, 0, 0, 0, 0],
            units: [0, 0, 1, 0, 0, 0, 0],
            returned_shipments: [1, 0, 0, 0, 0, 1, 0],
            returned_units: [1, 0, 0, 0, 0, 3, 0],
        }
    );
    assert_eq!(
        usage,
        usage::aggregate(&shipments, &returns, from, to, NEW_YORK).unwrap()
    );
}

#[tokio::test]
async fn a_return_of_a_missing_shipment_is_an_error_naming_it() {
    let db = open("sqlite::memory:").await;
    db.insert_shipments("acct", "cust", &[shipment("s1", "2026-01-05T12:00:00Z", 1)])
        .await
        .unwrap();
    db.insert_shipments(
        "acct",
        "other",
        &[shipment("theirs", "2026-01-05T12:00:00Z", 1)],
    )
    .await
    .unwrap();
    db.insert_returns(
        "acct",
        "cust",
        &[ret("r-ok", "s1", "2026-01-06T12:00:00Z", 1)],
    )
    .await
    .unwrap();
    db.insert_returns(
        "acct",
        "cust",
        &[ret("r-lost", "nowhere", "2026-01-07T12:00:00Z", 1)],
    )
    .await
    .unwrap();
    let (from, to) = (at("2026-01-01T00:00:00Z"), at("2026-02-01T00:00:00Z"));
    let err = db
        .period_usage(query(), "acct", "cust", from, to, Tz::UTC)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidInput { .. }), "{err:?}");
    assert!(
        err.to_string().contains("\"r-lost\"") && err.to_string().contains("\"nowhere\""),
        "{err}"
    );

    // Another customer's shipment is not this customer's: the return is refused the same way.
    db.insert_returns(
        "acct",
        "cust",
        &[ret("r-cross", "theirs", "2026-02-07T12:00:00Z", 1)],
    )
    .await
    .unwrap();
    let (from, to) = (at("2026-02-01T00:00:00Z"), at("2026-03-01T00:00:00Z"));
    let err = db
        .period_usage(query(), "acct", "cust", from, to, Tz::UTC)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("\"r-cross\""), "{err}");

    // Outside its window the lost return does not matter.
    let (from, to) = (at("2025-12-01T00:00:00Z"), at("2026-01-07T00:00:00Z"));
    let usage = db
        .period_usage(query(), "acct", "cust", from, to, Tz::UTC)
        .await
        .unwrap();
    assert_eq!(
        (usage.total_shipments(), usage.total_returned_shipments()),
        (1, 1)
    );
}

#[tokio::test]
async fn customers_and_accounts_never_see_each_others_rows() {
    let db = open("sqlite::memory:").await;
    // Same customer id in two accounts, same shipment and return ids everywhere.
    let scopes = [
        ("acct-a", "cust-1", 1u32),
        ("acct-a", "cust-2", 10),
        ("acct-b", "cust-1", 100),
    ];
    for (account, customer, quantity) in scopes {
        let id = if customer == "cust-2" {
            "s-cust2"
        } else {
            "s1"
        };
        db.insert_shipments(
            account,
            customer,
            &[shipment(id, "2026-01-05T12:00:00Z", quantity)],
        )
        .await
        .unwrap();
        let ret_id = if customer == "cust-2" {
            "r-cust2"
        } else {
            "r1"
        };
        db.insert_returns(
            account,
            customer,
            &[ret(ret_id, id, "2026-01-06T12:00:00Z", 1)],
        )
        .await
        .unwrap();
    }
    let (from, to) = (at("2026-01-01T00:00:00Z"), at("2026-02-01T00:00:00Z"));
    for (account, customer, quantity) in scopes {
        let usage = db
            .period_usage(query(), account, customer, from, to, Tz::UTC)
            .await
            .unwrap();
        assert_eq!(
            usage.shipments,
            [1, 0, 0, 0, 0, 0, 0],
            "{account}/{customer}"
        );
        assert_eq!(
            usage.units,
            [u64::from(quantity), 0, 0, 0, 0, 0, 0],
            "{account}/{customer}"
        );
        assert_eq!(
            usage.returned_shipments,
            [1, 0, 0, 0, 0, 0, 0],
            "{account}/{customer}"
        );
    }
    // A customer with no rows, and an account with no rows, see nothing.
    assert!(
        db.period_usage(query(), "acct-b", "cust-2", from, to, Tz::UTC)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        db.period_usage(query(), "acct-c", "cust-1", from, to, Tz::UTC)
            .await
            .unwrap()
            .is_empty()
    );
    // A return pointing at a shipment id of the same customer in another account is missing here.
    db.insert_returns(
        "acct-b",
        "cust-2",
        &[ret("r-x", "s1", "2026-01-06T12:00:00Z", 1)],
    )
    .await
    .unwrap();
    let err = db
        .period_usage(query(), "acct-b", "cust-2", from, to, Tz::UTC)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("\"r-x\""), "{err}");
}

#[tokio::test]
async fn a_file_database_opened_twice_keeps_its_rows() {
    let dir = std::env::temp_dir().join(format!(
        "ai-billing-usage-{}-{}",
        std::process::id(),
        Utc::now().timestamp_nanos_opt().unwrap_or_default()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let url = format!("sqlite://{}", dir.join("usage.db").display());
    let (from, to) = (at("2026-01-01T00:00:00Z"), at("2026-02-01T00:00:00Z"));
    {
        let db = open(&url).await;
        db.insert_shipments("acct", "cust", &[shipment("s1", "2026-01-05T12:00:00Z", 5)])
            .await
            .unwrap();
        db.insert_returns(
            "acct",
            "cust",
            &[ret("r1", "s1", "2026-01-09T12:00:00Z", 2)],
        )
        .await
        .unwrap();
    }
    let db = open(&url).await;
    let usage = db
        .period_usage(query(), "acct", "cust", from, to, Tz::UTC)
        .await
        .unwrap();
    assert_eq!(usage.units, [5, 0, 0, 0, 0, 0, 0]);
    assert_eq!(usage.returned_units, [2, 0, 0, 0, 0, 0, 0]);
    // The ids are taken: inserting them again is refused, naming the id.
    let err = db
        .insert_shipments("acct", "cust", &[shipment("s1", "2026-01-06T12:00:00Z", 1)])
        .await
        .unwrap_err();
    assert!(err.to_string().contains("\"s1\""), "{err}");
    drop(db);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn batches_are_all_or_nothing_and_bad_windows_are_refused() {
    let db = open("sqlite::memory:").await;
    db.insert_shipments("acct", "cust", &[shipment("s1", "2026-01-05T12:00:00Z", 1)])
        .await
        .unwrap();
    // The second row collides in the database: the first of the batch must not stay.
    let batch = [
        shipment("s2", "2026-01-06T12:00:00Z", 1),
        shipment("s1", "2026-01-07T12:00:00Z", 1),
    ];
    assert!(matches!(
        db.insert_shipments("acct", "cust", &batch).await,
        Err(Error::Conflict { .. })
    ));
    let (from, to) = (at("2026-01-01T00:00:00Z"), at("2026-02-01T00:00:00Z"));
    let usage = db
        .period_usage(query(), "acct", "cust", from, to, Tz::UTC)
        .await
        .unwrap();
    assert_eq!(usage.total_shipments(), 1);
    // A return with quantity 0 is refused, naming it.
    let err = db
        .insert_returns(
            "acct",
            "cust",
            &[ret("r0", "s1", "2026-01-06T12:00:00Z", 0)],
        )
        .await
        .unwrap_err();
    assert!(err.to_string().contains("\"r0\""), "{err}");
    // Reversed and empty windows.
    assert!(matches!(
        db.period_usage(query(), "acct", "cust", to, from, Tz::UTC)
            .await,
        Err(Error::InvalidInput { .. })
    ));
    assert!(
        db.period_usage(query(), "acct", "cust", from, from, Tz::UTC)
            .await
            .unwrap()
            .is_empty()
    );
}
