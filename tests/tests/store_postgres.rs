//! The PostgreSQL store on a real server: the public conformance suite, each check on a database
//! of its own, and what only a real server can show (two pools racing, the server's time zone
//! database, migrations from two processes, rows corrupted behind the store's back).
//!
//! Needs a server at `AI_BILLING_TEST_POSTGRES` (default postgres://postgres@127.0.0.1:5432/postgres);
//! `scripts/services.sh` starts a throwaway one where none runs.

use std::sync::{Arc, Mutex};

use ai_billing::Quantity;
use ai_billing::postgres::PostgresStore;
use ai_billing::store::testkit;
use ai_billing::store::{CommitOutcome, SubscriptionCommit, UsageRequest};
use ai_billing::subscription::{Customer, Subscription, SubscriptionStatus};
use ai_billing::usage::{self, Return, SHIPMENTS_BY_WEEKDAY, Shipment};
use ai_billing::{Account, Error};
use ai_billing::{BillingState as _, FixtureStore, UsageFixtures as _, UsageSource as _};
use ai_billing_tests::pg::TestDatabase;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use chrono_tz::Tz;

/// A migrated store on a fresh database; the database is dropped with the returned guard.
async fn fresh_store(pool_size: u32) -> (PostgresStore, TestDatabase) {
    let database = TestDatabase::create().await;
    let store = PostgresStore::connect_with(database.url(), pool_size)
        .await
        .expect("connect to the test database");
    store.migrate().await.expect("migrate the test database");
    (store, database)
}

/// Runs one conformance check on a store over a database of its own.
async fn conform<F, Fut>(check: F)
where
    F: FnOnce(Arc<dyn FixtureStore>) -> Fut,
    Fut: Future<Output = ()>,
{
    let (store, database) = fresh_store(8).await;
    check(Arc::new(store.clone())).await;
    store.pool().close().await;
    database.drop_now().await;
}

macro_rules! conformance {
    ($($check:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread")]
            async fn $check() {
                conform(testkit::$check).await;
            }
        )*
    };
}

conformance!(
    check_migrate_twice,
    check_accounts_and_customers,
    check_missing_parents_are_not_found,
    check_plan_versions,
    check_insert_subscription,
    check_commit,
    check_concurrent_commits,
    check_due_subscriptions,
    check_invoices,
    check_invoice_currency,
    check_usage,
    check_usage_missing_shipment,
    check_usage_rows_are_all_or_nothing,
    check_outbox,
    check_outbox_is_all_or_nothing,
    check_stats,
    check_events_for,
    check_event_round_trip,
    check_rejected_events,
    check_list_plans,
    check_customers,
    check_usage_many,
    check_commit_claimed,
    check_subscription_changes,
    check_credit_notes,
    check_commit_claimed_credit_notes,
    check_invoice_corrections,
    check_idempotency_records,
    check_listings,
    check_feed,
    check_feed_while_writers_race,
    check_webhook_endpoints,
);

/// The whole suite through its one entry point, a fresh database per check, all dropped after.
#[tokio::test(flavor = "multi_thread")]
async fn postgres_store_passes_the_whole_conformance_suite() {
    let made: Arc<Mutex<Vec<(PostgresStore, TestDatabase)>>> = Arc::default();
    let keep = Arc::clone(&made);
    testkit::run_all(move || {
        let keep = Arc::clone(&keep);
        async move {
            // The checks run one after another, so the one before this has finished: closing
            // its connections now keeps one check's at a time open, whatever the number of
            // checks (else they pile up past the server's max_connections).
            let finished: Vec<PostgresStore> = keep
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .iter()
                .map(|(store, _)| store.clone())
                .collect();
            for store in finished {
                store.pool().close().await;
            }
            let database = TestDatabase::create().await;
            let store = PostgresStore::connect_with(database.url(), 8)
                .await
                .expect("connect to the test database");
            keep.lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .push((store.clone(), database));
            Arc::new(store) as Arc<dyn FixtureStore>
        }
    })
    .await;
    let made = std::mem::take(&mut *made.lock().unwrap_or_else(|p| p.into_inner()));
    for (store, database) in made {
        store.pool().close().await;
        database.drop_now().await;
    }
}

fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .unwrap()
        .with_timezone(&Utc)
}

fn date(text: &str) -> NaiveDate {
    text.parse().unwrap()
}

async fn account_and_customer(store: &PostgresStore, tz: Tz) {
    let account = Account {
        id: "acct".into(),
        abstracted: true,
        timezone: tz,
        tax_inclusive: false,
        locale: Default::default(),
    };
    store.put_account(&account, &[]).await.unwrap();
    let customer = Customer {
        account_id: "acct".into(),
        id: "cust".into(),
        tax_address: None,
        tax_exempt: false,
    };
    store.put_customer(&customer, &[]).await.unwrap();
}

fn subscription(revision: i64) -> Subscription {
    Subscription {
        account_id: "acct".into(),
        id: "sub".into(),
        customer_id: "cust".into(),
        plan_id: "plan".into(),
        quantity: Quantity::ONE,
        start_date: date("2026-01-01"),
        status: SubscriptionStatus::Active,
        current_period: 1,
        current_period_start: date("2026-01-01"),
        current_period_end: date("2026-02-01"),
        next_invoice_period: 1,
        next_invoice_at: Some(at("2026-01-01T05:00:00Z")),
        changes: Default::default(),
        billed_usage: Default::default(),
        revision,
        created_at: at("2026-01-01T00:00:00Z"),
        updated_at: at("2026-01-01T00:00:00Z"),
    }
}

/// Two pools (two processes, as far as the server can tell) commit over the same revision at
/// the same moment, round after round: exactly one wins each round, the other is told Stale, and
/// the stored revision moves by exactly one per round.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_pools_committing_over_one_revision_commit_once() {
    let (first, database) = fresh_store(4).await;
    let second = PostgresStore::connect_with(database.url(), 4)
        .await
        .unwrap();
    account_and_customer(&first, Tz::UTC).await;
    first
        .insert_subscription(&ai_billing::store::NewSubscription {
            subscription: subscription(1),
            invoice: None,
            events: Vec::new(),
            idempotency: None,
        })
        .await
        .unwrap();

    for round in 0..25_i64 {
        let expected = 1 + round;
        let change = |quantity: u32| SubscriptionCommit {
            expected_revision: expected,
            subscription: Subscription {
                quantity: Quantity::new(quantity).unwrap(),
                changes: Default::default(),
                billed_usage: Default::default(),
                revision: expected + 1,
                updated_at: at("2026-01-02T00:00:00Z") + Duration::seconds(round),
                ..subscription(expected + 1)
            },
            invoice: None,
            invoice_status: Vec::new(),
            credit_notes: Vec::new(),
            events: Vec::new(),
            idempotency: None,
        };
        let (a, b) = (change(2), change(3));
        let barrier = Arc::new(tokio::sync::Barrier::new(2));
        let (one, two) = (first.clone(), second.clone());
        let (ba, bb) = (Arc::clone(&barrier), Arc::clone(&barrier));
        let left = tokio::spawn(async move {
            ba.wait().await;
            one.commit(&a).await
        });
        let right = tokio::spawn(async move {
            bb.wait().await;
            two.commit(&b).await
        });
        let outcomes = [left.await.unwrap().unwrap(), right.await.unwrap().unwrap()];
        let committed = outcomes
            .iter()
            .filter(|outcome| **outcome == CommitOutcome::Committed)
            .count();
        assert_eq!(committed, 1, "round {round}: {outcomes:?}");
        // The loser found the revision moved on, or the row held at that moment (it never
        // waits on a pooled connection): either way it wrote nothing.
        assert!(
            outcomes.contains(&CommitOutcome::Stale) || outcomes.contains(&CommitOutcome::Busy),
            "round {round}: {outcomes:?}"
        );
        let stored = second.subscription("acct", "sub").await.unwrap().unwrap();
        assert_eq!(stored.revision, expected + 1, "round {round}");
        let winner = if outcomes[0] == CommitOutcome::Committed {
            2
        } else {
            3
        };
        assert_eq!(
            stored.quantity, winner,
            "round {round}: the winner's state is stored"
        );
    }
    first.pool().close().await;
    second.pool().close().await;
    database.drop_now().await;
}

/// Migrating from two pools at once (two deploys starting together) applies the schema once and
/// both succeed; a third run later changes nothing.
#[tokio::test(flavor = "multi_thread")]
async fn two_pools_migrating_at_once_both_succeed() {
    let database = TestDatabase::create().await;
    let first = PostgresStore::connect_with(database.url(), 2)
        .await
        .unwrap();
    let second = PostgresStore::connect_with(database.url(), 2)
        .await
        .unwrap();
    let (a, b) = tokio::join!(first.migrate(), second.migrate());
    a.unwrap();
    b.unwrap();
    first.migrate().await.unwrap();
    assert_eq!(first.stats().await.unwrap(), Default::default());
    first.pool().close().await;
    second.pool().close().await;
    database.drop_now().await;
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

/// Shipments around both 2026 DST changes in New York (March 8, November 1), late evenings that
/// are the next UTC day, and returns of shipments from long before their window.
fn dst_rows() -> (Vec<Shipment>, Vec<Return>) {
    let shipments = vec![
        // Long before any window: returns in the windows count on these weekdays.
        shipment("old-mon", "2024-06-03T14:00:00Z", 7), // a Monday in New York
        shipment("old-sun-late", "2025-03-10T03:30:00Z", 2), // Sunday 23:30 EDT
        // Around the spring change: 2026-03-08 02:00 EST -> 03:00 EDT.
        shipment("s-sat-late", "2026-03-08T04:59:59Z", 1), // Saturday 23:59:59 EST
        shipment("s-sun-early", "2026-03-08T05:00:00Z", 2), // Sunday 00:00 EST
        shipment("s-sun-jump", "2026-03-08T07:00:00Z", 3), // Sunday 03:00 EDT
        shipment("s-sun-late", "2026-03-09T03:59:59Z", 4), // Sunday 23:59:59 EDT
        shipment("s-mon", "2026-03-09T04:00:00Z", 5),      // Monday 00:00 EDT
        // Around the autumn change: 2026-11-01 02:00 EDT -> 01:00 EST.
        shipment("f-sat-late", "2026-11-01T03:59:59Z", 1), // Saturday 23:59:59 EDT
        shipment("f-sun-first", "2026-11-01T05:30:00Z", 2), // Sunday 01:30 EDT
        shipment("f-sun-again", "2026-11-01T06:30:00Z", 3), // Sunday 01:30 EST
        shipment("f-sun-late", "2026-11-02T04:59:59Z", 4), // Sunday 23:59:59 EST
        shipment("f-mon", "2026-11-02T05:00:00Z", 5),      // Monday 00:00 EST
        // Plain winter days, Friday evening that is Saturday in UTC.
        shipment("w-fri-late", "2026-01-17T04:40:00Z", 6),
        shipment("w-wed", "2026-01-14T15:00:00Z", 1),
    ];
    let returns = vec![
        ret("r-old-mon", "old-mon", "2026-03-10T12:00:00Z", 3),
        ret("r-old-sun", "old-sun-late", "2026-11-03T12:00:00Z", 1),
        ret("r-spring", "s-sun-jump", "2026-03-20T12:00:00Z", 2),
        ret("r-autumn", "f-sun-again", "2026-11-15T12:00:00Z", 1),
        ret("r-winter", "w-fri-late", "2026-01-20T12:00:00Z", 6),
    ];
    (shipments, returns)
}

/// The store's usage (the PostgreSQL template with the server's tz database) equals
/// `usage::aggregate` over the same rows, in New York across both DST changes and in other zones.
#[tokio::test(flavor = "multi_thread")]
async fn usage_across_dst_equals_aggregate() {
    let (store, database) = fresh_store(4).await;
    let (shipments, returns) = dst_rows();
    store
        .insert_shipments("acct", "cust", &shipments)
        .await
        .unwrap();
    store
        .insert_returns("acct", "cust", &returns)
        .await
        .unwrap();
    // Another customer's and another account's rows never count.
    store
        .insert_shipments(
            "acct",
            "other",
            &[shipment("o1", "2026-03-08T12:00:00Z", 9)],
        )
        .await
        .unwrap();
    store
        .insert_shipments(
            "acct2",
            "cust",
            &[shipment("s-mon", "2026-03-09T12:00:00Z", 9)],
        )
        .await
        .unwrap();

    let zones: [Tz; 5] = [
        chrono_tz::America::New_York,
        Tz::UTC,
        chrono_tz::Asia::Kolkata,
        chrono_tz::Australia::Lord_Howe,
        chrono_tz::Pacific::Chatham,
    ];
    let windows = [
        ("2026-03-01T05:00:00Z", "2026-04-01T04:00:00Z"),
        ("2026-03-08T05:00:00Z", "2026-03-09T04:00:00Z"),
        ("2026-10-01T04:00:00Z", "2026-12-01T05:00:00Z"),
        ("2026-11-01T04:00:00Z", "2026-11-02T05:00:00Z"),
        ("2026-01-01T05:00:00Z", "2026-02-01T05:00:00Z"),
        ("2020-01-01T00:00:00Z", "2030-01-01T00:00:00Z"),
        ("2026-03-08T05:00:00Z", "2026-03-08T05:00:00Z"),
        (
            "2026-03-08T04:59:59.000001Z",
            "2026-03-08T05:00:00.0000001Z",
        ),
    ];
    for tz in zones {
        for (from, to) in windows {
            let (from, to) = (at(from), at(to));
            let expected = usage::aggregate(&shipments, &returns, from, to, tz).unwrap();
            let got = store
                .usage(&UsageRequest {
                    query: SHIPMENTS_BY_WEEKDAY.into(),
                    account_id: "acct".into(),
                    customer_id: "cust".into(),
                    from,
                    to,
                    tz,
                })
                .await
                .unwrap();
            assert_eq!(got, expected, "{tz} [{from}, {to})");
        }
    }
    // The spring window in New York, spelled out: Saturday 23:59:59 EST is a Saturday.
    let spring = store
        .usage(&UsageRequest {
            query: SHIPMENTS_BY_WEEKDAY.into(),
            account_id: "acct".into(),
            customer_id: "cust".into(),
            from: at("2026-03-01T05:00:00Z"),
            to: at("2026-04-01T04:00:00Z"),
            tz: chrono_tz::America::New_York,
        })
        .await
        .unwrap();
    assert_eq!(spring.shipments, [1, 0, 0, 0, 0, 1, 3]);
    assert_eq!(spring.units, [5, 0, 0, 0, 0, 1, 9]);
    assert_eq!(spring.returned_shipments, [1, 0, 0, 0, 0, 0, 1]);
    assert_eq!(spring.returned_units, [3, 0, 0, 0, 0, 0, 2]);

    // A return of a shipment that does not exist fails, naming the return.
    store
        .insert_returns(
            "acct",
            "cust",
            &[ret("r-ghost", "ghost", "2026-03-12T12:00:00Z", 1)],
        )
        .await
        .unwrap();
    let error = store
        .usage(&UsageRequest {
            query: SHIPMENTS_BY_WEEKDAY.into(),
            account_id: "acct".into(),
            customer_id: "cust".into(),
            from: at("2026-03-01T05:00:00Z"),
            to: at("2026-04-01T04:00:00Z"),
            tz: chrono_tz::America::New_York,
        })
        .await
        .unwrap_err();
    assert!(
        matches!(&error, Error::InvalidInput { reason, .. } if reason.contains("\"r-ghost\"") && reason.contains("\"ghost\"")),
        "{error:?}"
    );
    store.pool().close().await;
    database.drop_now().await;
}

/// Rows changed behind the store's back are reported as storage errors naming the column, never
/// a panic and never a silently repaired value.
#[tokio::test(flavor = "multi_thread")]
async fn corrupt_rows_are_storage_errors() {
    let (store, database) = fresh_store(2).await;
    account_and_customer(&store, Tz::UTC).await;
    store
        .insert_subscription(&ai_billing::store::NewSubscription {
            subscription: subscription(1),
            invoice: None,
            events: Vec::new(),
            idempotency: None,
        })
        .await
        .unwrap();
    sqlx::query("UPDATE accounts SET timezone = 'Mars/Olympus_Mons'")
        .execute(store.pool())
        .await
        .unwrap();
    let error = store.account("acct").await.unwrap_err();
    assert!(matches!(error, Error::Storage { .. }), "{error:?}");
    assert!(
        format!("{:?}", std::error::Error::source(&error)).contains("timezone"),
        "{error:?}"
    );
    // Within the column's constraints, but not a u32.
    sqlx::query("UPDATE subscriptions SET quantity = 5000000000")
        .execute(store.pool())
        .await
        .unwrap();
    let error = store.subscription("acct", "sub").await.unwrap_err();
    assert!(matches!(error, Error::Storage { .. }), "{error:?}");
    assert!(format!("{error:?}").contains("quantity"), "{error:?}");
    // Valid JSON, but not the changes of a subscription.
    sqlx::query("UPDATE subscriptions SET quantity = 1, changes = '{\"pauses\": 3}'")
        .execute(store.pool())
        .await
        .unwrap();
    let error = store.subscription("acct", "sub").await.unwrap_err();
    assert!(matches!(error, Error::Storage { .. }), "{error:?}");
    assert!(format!("{error:?}").contains("changes"), "{error:?}");
    store.pool().close().await;
    database.drop_now().await;
}

/// A URL that is not PostgreSQL's, and a pool of no connections, are refused before connecting.
#[tokio::test]
async fn bad_connection_settings_are_refused() {
    let error = PostgresStore::connect("sqlite::memory:").await.unwrap_err();
    assert!(matches!(error, Error::InvalidInput { .. }), "{error:?}");
    let error = PostgresStore::connect_with(&ai_billing_tests::pg::admin_url(), 0)
        .await
        .unwrap_err();
    assert!(matches!(error, Error::InvalidInput { .. }), "{error:?}");
}

/// Two pools (two worker processes) claim due subscriptions at once: a row one claim holds is
/// skipped by the other (never shared, never waited for), every due subscription is claimed by
/// one of them, and a claim dropped without a commit lets its rows go at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn claims_of_two_pools_never_share_a_subscription() {
    use ai_billing::store::{DueQuery, NewSubscription};
    let (first, database) = fresh_store(4).await;
    let second = PostgresStore::connect_with(database.url(), 4)
        .await
        .unwrap();
    account_and_customer(&first, Tz::UTC).await;
    for n in 0..10 {
        let mut sub = subscription(1);
        sub.id = format!("sub_{n:02}");
        first
            .insert_subscription(&NewSubscription {
                subscription: sub,
                invoice: None,
                events: Vec::new(),
                idempotency: None,
            })
            .await
            .unwrap();
    }
    let query = |after: Option<&str>| DueQuery {
        due_by: at("2026-02-01T00:00:00Z"),
        after: after.map(|id| ("acct".to_owned(), id.to_owned())),
        limit: 4,
    };
    let ids = |page: &ai_billing::store::ClaimedPage| -> Vec<String> {
        page.subscriptions.iter().map(|s| s.id.clone()).collect()
    };
    let a = first.claim_due(&query(None)).await.unwrap();
    let b = second.claim_due(&query(None)).await.unwrap();
    assert_eq!(ids(&a), ["sub_00", "sub_01", "sub_02", "sub_03"]);
    assert_eq!(ids(&b), ["sub_04", "sub_05", "sub_06", "sub_07"]);
    let c = second.claim_due(&query(Some("sub_07"))).await.unwrap();
    assert_eq!(ids(&c), ["sub_08", "sub_09"]);
    // Everything is held: a third claim finds nothing, and does not wait.
    let none = first.claim_due(&query(None)).await.unwrap();
    assert!(none.subscriptions.is_empty());
    // A dropped claim writes nothing and lets its rows go.
    drop(a);
    let mut again = Vec::new();
    for _ in 0..100 {
        again = ids(&first.claim_due(&query(None)).await.unwrap());
        if !again.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(again, ["sub_00", "sub_01", "sub_02", "sub_03"]);
    // A committed claim writes its renewals; the rows are free after it.
    let renewed: Vec<SubscriptionCommit> = b
        .subscriptions
        .iter()
        .map(|s| {
            let mut next = s.clone();
            next.revision += 1;
            next.next_invoice_period = 2;
            next.next_invoice_at = Some(at("2026-03-01T05:00:00Z"));
            SubscriptionCommit {
                expected_revision: s.revision,
                subscription: next,
                invoice: None,
                invoice_status: Vec::new(),
                credit_notes: Vec::new(),
                events: Vec::new(),
                idempotency: None,
            }
        })
        .collect();
    let outcomes = second.commit_claimed(b, &renewed).await.unwrap();
    assert!(
        outcomes
            .iter()
            .all(|o| matches!(o, Ok(CommitOutcome::Committed)))
    );
    drop(c);
    let mut left = Vec::new();
    for _ in 0..100 {
        left = ids(&first.claim_due(&query(Some("sub_03"))).await.unwrap());
        if left.len() == 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(
        left,
        ["sub_08", "sub_09"],
        "the renewed ones are no longer due"
    );
    first.pool().close().await;
    second.pool().close().await;
    database.drop_now().await;
}

/// What `changes` holds for `sub`, as text.
async fn stored_changes(store: &PostgresStore) -> Option<String> {
    sqlx::query_scalar("SELECT changes::text FROM subscriptions WHERE id = 'sub'")
        .fetch_one(store.pool())
        .await
        .unwrap()
}

/// A subscription nothing has changed keeps NULL in `changes` through `commit` and the page
/// path; one with changes keeps their JSON; clearing them stores NULL again.
#[tokio::test(flavor = "multi_thread")]
async fn a_subscription_nothing_changed_stores_no_changes() {
    let (store, database) = fresh_store(2).await;
    account_and_customer(&store, Tz::UTC).await;
    let sub = subscription(1);
    store
        .insert_subscription(&ai_billing::store::NewSubscription {
            subscription: sub.clone(),
            invoice: None,
            events: Vec::new(),
            idempotency: None,
        })
        .await
        .unwrap();
    assert_eq!(stored_changes(&store).await, None);
    let next = |state: &Subscription, changes: ai_billing::changes::Changes| SubscriptionCommit {
        expected_revision: state.revision,
        subscription: Subscription {
            changes,
            revision: state.revision + 1,
            ..state.clone()
        },
        invoice: None,
        invoice_status: Vec::new(),
        credit_notes: Vec::new(),
        events: Vec::new(),
        idempotency: None,
    };
    let plain = next(&sub, Default::default());
    let page = store
        .claim_due(&ai_billing::store::DueQuery {
            due_by: at("2030-01-01T00:00:00Z"),
            after: None,
            limit: 10,
        })
        .await
        .unwrap();
    let outcomes = store
        .commit_claimed(page, std::slice::from_ref(&plain))
        .await
        .unwrap();
    assert!(matches!(outcomes[..], [Ok(CommitOutcome::Committed)]));
    assert_eq!(
        stored_changes(&store).await,
        None,
        "the page path writes NULL"
    );

    let mut changes = ai_billing::changes::Changes::default();
    changes.cancel(date("2026-03-01"), true).unwrap();
    let canceled = next(&plain.subscription, changes.clone());
    assert_eq!(
        store.commit(&canceled).await.unwrap(),
        CommitOutcome::Committed
    );
    let text = stored_changes(&store).await.expect("the changes as JSON");
    assert_eq!(
        serde_json::from_str::<ai_billing::changes::Changes>(&text).unwrap(),
        changes,
        "{text}"
    );
    let cleared = next(&canceled.subscription, Default::default());
    assert_eq!(
        store.commit(&cleared).await.unwrap(),
        CommitOutcome::Committed
    );
    assert_eq!(stored_changes(&store).await, None);
    store.pool().close().await;
    database.drop_now().await;
}
