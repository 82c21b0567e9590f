//! The SQLite store: the `Store` conformance suite on a file and in memory, and what only SQLite
//! has to get right: migrations run twice and by two processes at once, a file reopened keeps
//! everything, two processes committing over the same revision, `BEGIN IMMEDIATE` waiting for
//! another writer, and stored values the core could not have written refused on reading.

use std::error::Error as _;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ai_billing::Quantity;
use ai_billing::audit::{AuditAction, AuditEvent, SubjectKind};
use ai_billing::calendar::{BillingInterval, IntervalUnit};
use ai_billing::invoice::{Invoice, IssuedInvoice, LineItem};
use ai_billing::pricing::ChargeKind;
use ai_billing::revrec::RevenueEntry;
use ai_billing::sqlite::SqliteStore;
use ai_billing::store::testkit;
use ai_billing::store::{
    CommitOutcome, InvoiceQuery, NewSubscription, PlanQuery, SubscriptionCommit, UsageRequest,
};
use ai_billing::subscription::invoice_id;
use ai_billing::tax::TaxLine;
use ai_billing::usage::{Return, Shipment};
use ai_billing::{
    Account, BillingReason, Currency, Customer, Error, InvoiceStatus, Money, Plan, PlanType,
    PlanVersion, PricingProgram, Subscription, SubscriptionStatus,
};
use ai_billing::{AuditOutbox as _, BillingState as _, FixtureStore, UsageSource as _};
use ai_billing_tests::sqlite::{SqliteFile, file_store, memory_store, unmigrated_file_store};
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;

#[tokio::test(flavor = "multi_thread")]
async fn a_file_store_passes_the_conformance_suite() {
    // Every check gets its own file; the folders live until the suite is done.
    let files: Arc<Mutex<Vec<SqliteFile>>> = Arc::default();
    testkit::run_all(|| {
        let files = files.clone();
        async move {
            let file = unmigrated_file_store().await;
            let store = file.shared();
            files.lock().unwrap().push(file);
            store
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_in_memory_store_passes_the_conformance_suite() {
    testkit::run_all(|| async {
        let store = SqliteStore::open("sqlite::memory:").await.unwrap();
        Arc::new(store) as Arc<dyn FixtureStore>
    })
    .await;
}

// ---------------------------------------------------------------------------------------------
// Fixtures
// ---------------------------------------------------------------------------------------------

const ACCOUNT: &str = "acct_1";

fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .unwrap()
        .with_timezone(&Utc)
}

fn date(year: i32, month: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(year, month, day).unwrap()
}

fn event(subject_kind: SubjectKind, subject_id: &str, correlation: Option<&str>) -> AuditEvent {
    let event = AuditEvent::new(
        at("2026-01-15T05:00:00.123456Z"),
        ACCOUNT,
        "tester",
        AuditAction::AccountSaved,
        subject_kind,
        subject_id,
    )
    .with_data(serde_json::json!({ "amount": "12.34", "note": "ü" }));
    match correlation {
        Some(correlation) => event.correlated(Some("run_1"), correlation),
        None => event,
    }
}

fn plan_version() -> PlanVersion {
    let program = PricingProgram::new(
        Currency::USD,
        BillingInterval {
            unit: IntervalUnit::Month,
            count: 1,
        },
    );
    PlanVersion {
        account_id: ACCOUNT.into(),
        plan: Plan {
            id: Some("plan_1".into()),
            product_id: None,
            nickname: "Flat".into(),
            amount: 500,
            currency: Currency::USD,
            interval: IntervalUnit::Month,
            interval_count: 1,
            auto_renew: true,
            metadata: serde_json::Map::new(),
            plan_type: PlanType::Standard,
            ai_prompt: None,
            usage_query: None,
            program: None,
        },
        version: 1,
        program,
        interpreter: None,
        created_at: at("2026-01-01T00:00:00.000001Z"),
    }
}

fn subscription(id: &str) -> Subscription {
    Subscription {
        account_id: ACCOUNT.into(),
        id: id.into(),
        customer_id: "cus_1".into(),
        plan_id: "plan_1".into(),
        quantity: Quantity::new(2).unwrap(),
        start_date: date(2026, 1, 15),
        status: SubscriptionStatus::Active,
        current_period: 1,
        current_period_start: date(2026, 1, 15),
        current_period_end: date(2026, 2, 15),
        next_invoice_period: 1,
        next_invoice_at: Some(at("2026-01-15T05:00:00Z")),
        changes: Default::default(),
        billed_usage: Default::default(),
        revision: 1,
        created_at: at("2026-01-15T05:00:00.654321Z"),
        updated_at: at("2026-01-15T05:00:00.654321Z"),
    }
}

/// An invoice of `subscription` for the month from `period_start`, with amounts far beyond what
/// a float holds exactly and a rate with a trailing zero.
fn invoice(subscription: &Subscription, period_start: NaiveDate) -> IssuedInvoice {
    let usd = Currency::USD;
    let period_end = period_start
        .checked_add_months(chrono::Months::new(1))
        .unwrap();
    let subtotal = Money::from_minor(9_007_199_254_740_993, usd);
    let tax = Money::from_minor(743_093_938_516_132, usd);
    let total = subtotal.checked_add(tax).unwrap();
    IssuedInvoice {
        id: invoice_id(&subscription.id, period_start),
        account_id: subscription.account_id.clone(),
        subscription_id: subscription.id.clone(),
        customer_id: subscription.customer_id.clone(),
        plan_id: subscription.plan_id.clone(),
        plan_version: 1,
        quantity: subscription.quantity.get(),
        billing_reason: BillingReason::SubscriptionCycle,
        status: InvoiceStatus::Open,
        created_at: at("2026-01-15T05:00:00.999999Z"),
        usage: Default::default(),
        settled: Vec::new(),
        review: None,
        invoice: Invoice {
            period_index: subscription.next_invoice_period.max(1),
            issue_date: period_start,
            period_start,
            period_end,
            currency: usd,
            line_items: vec![LineItem::new(
                "Base charge",
                ChargeKind::Recurring,
                subtotal,
                None,
            )],
            subtotal,
            tax_lines: vec![TaxLine {
                name: "Sales tax".into(),
                rate: Decimal::new(82_500, 6),
                amount: tax,
            }],
            tax,
            tax_inclusive: false,
            total,
            revenue_schedule: vec![RevenueEntry {
                month: period_start.format("%Y-%m").to_string(),
                start: period_start,
                end: period_end,
                days: u32::try_from((period_end - period_start).num_days()).unwrap(),
                amount: subtotal,
            }],
        },
    }
}

/// The account, customer `cus_1`, plan `plan_1` and subscription `sub_1` (at revision 1).
async fn setup(store: &SqliteStore) -> Subscription {
    let account = Account {
        id: ACCOUNT.into(),
        abstracted: true,
        timezone: chrono_tz::America::New_York,
        tax_inclusive: false,
        locale: Default::default(),
    };
    store
        .put_account(&account, &[event(SubjectKind::Account, ACCOUNT, None)])
        .await
        .unwrap();
    let customer = Customer {
        account_id: ACCOUNT.into(),
        id: "cus_1".into(),
        tax_address: None,
        tax_exempt: true,
    };
    store
        .put_customer(&customer, &[event(SubjectKind::Customer, "cus_1", None)])
        .await
        .unwrap();
    assert!(
        store
            .insert_plan_version(&plan_version(), &[event(SubjectKind::Plan, "plan_1", None)])
            .await
            .unwrap()
    );
    let sub = subscription("sub_1");
    store
        .insert_subscription(&NewSubscription {
            subscription: sub.clone(),
            invoice: None,
            events: vec![event(SubjectKind::Subscription, "sub_1", Some("c_1"))],
            idempotency: None,
        })
        .await
        .unwrap();
    sub
}

/// The state after `sub` that bills the period starting `period_start`.
fn renewal(sub: &Subscription, period_start: NaiveDate, tag: &str) -> SubscriptionCommit {
    let mut next = sub.clone();
    next.revision += 1;
    next.next_invoice_period += 1;
    next.updated_at += chrono::Duration::microseconds(1);
    SubscriptionCommit {
        expected_revision: sub.revision,
        invoice: Some(invoice(sub, period_start)),
        invoice_status: Vec::new(),
        credit_notes: Vec::new(),
        events: vec![event(SubjectKind::Invoice, tag, Some(tag))],
        subscription: next,
        idempotency: None,
    }
}

fn all_invoices() -> InvoiceQuery {
    InvoiceQuery::default()
}

/// The whole cause chain of an error, as text.
fn chain(error: &Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

// ---------------------------------------------------------------------------------------------
// Migrations
// ---------------------------------------------------------------------------------------------

/// The migration files, which are all embedded.
fn migration_files() -> i64 {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../sql/migrations/sqlite");
    std::fs::read_dir(dir)
        .unwrap()
        .filter(|entry| {
            entry
                .as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .ends_with(".sql")
        })
        .count() as i64
}

async fn applied(store: &SqliteStore) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM _sqlx_migrations WHERE success")
        .fetch_one(store.pool())
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn migrations_are_idempotent() {
    let file = file_store().await;
    setup(&file.store).await;
    file.store.migrate().await.unwrap();
    file.store.migrate().await.unwrap();
    let other = file.reopen().await;
    other.migrate().await.unwrap();
    assert_eq!(applied(&file.store).await, migration_files());
    // Nothing was dropped or recreated.
    assert_eq!(other.stats().await.unwrap().subscriptions, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn two_processes_create_and_migrate_a_new_file_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("new.db").display());
    let (a, b) = tokio::join!(SqliteStore::open(&url), SqliteStore::open(&url));
    let (a, b) = (a.unwrap(), b.unwrap());
    let (ma, mb) = tokio::join!(
        tokio::spawn({
            let a = a.clone();
            async move { a.migrate().await }
        }),
        tokio::spawn({
            let b = b.clone();
            async move { b.migrate().await }
        }),
    );
    ma.unwrap().unwrap();
    mb.unwrap().unwrap();
    assert_eq!(applied(&a).await, migration_files());
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(b.pool())
        .await
        .unwrap();
    assert_eq!(mode, "wal");
    setup(&b).await;
    assert_eq!(a.stats().await.unwrap().subscriptions, 1);
}

// ---------------------------------------------------------------------------------------------
// Files
// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread")]
async fn a_reopened_file_keeps_everything() {
    let file = file_store().await;
    let sub = setup(&file.store).await;
    assert_eq!(
        file.store
            .commit(&renewal(&sub, date(2026, 1, 15), "first"))
            .await
            .unwrap(),
        CommitOutcome::Committed
    );
    let shipments = [Shipment {
        id: "s1".into(),
        shipped_at: at("2026-01-16T15:00:00Z"),
        quantity: 4,
    }];
    let returns = [Return {
        id: "r1".into(),
        shipment_id: "s1".into(),
        returned_at: at("2026-01-20T15:00:00Z"),
        quantity: 1,
    }];
    file.store
        .insert_shipments(ACCOUNT, "cus_1", &shipments)
        .await
        .unwrap();
    file.store
        .insert_returns(ACCOUNT, "cus_1", &returns)
        .await
        .unwrap();
    let request = UsageRequest {
        query: "shipments_by_weekday".into(),
        account_id: ACCOUNT.into(),
        customer_id: "cus_1".into(),
        from: at("2026-01-01T00:00:00Z"),
        to: at("2026-02-01T00:00:00Z"),
        tz: chrono_tz::America::New_York,
    };
    let before = (
        file.store.account(ACCOUNT).await.unwrap(),
        file.store.customer(ACCOUNT, "cus_1").await.unwrap(),
        file.store
            .plan_version(&PlanQuery {
                account_id: ACCOUNT.into(),
                plan_id: "plan_1".into(),
                version: None,
            })
            .await
            .unwrap(),
        file.store.subscription(ACCOUNT, "sub_1").await.unwrap(),
        file.store.invoices(&all_invoices()).await.unwrap(),
        file.store.pending_events(100).await.unwrap(),
        file.store.usage(&request).await.unwrap(),
    );
    assert!(before.0.is_some() && before.2.is_some() && before.4.len() == 1);
    file.store.pool().close().await;

    let store = file.reopen().await;
    store.migrate().await.unwrap();
    let after = (
        store.account(ACCOUNT).await.unwrap(),
        store.customer(ACCOUNT, "cus_1").await.unwrap(),
        store
            .plan_version(&PlanQuery {
                account_id: ACCOUNT.into(),
                plan_id: "plan_1".into(),
                version: Some(1),
            })
            .await
            .unwrap(),
        store.subscription(ACCOUNT, "sub_1").await.unwrap(),
        store.invoices(&all_invoices()).await.unwrap(),
        store.pending_events(100).await.unwrap(),
        store.usage(&request).await.unwrap(),
    );
    assert_eq!(before, after);
    assert_eq!(after.6.units.iter().sum::<u64>(), 4);
    assert_eq!(after.6.returned_units.iter().sum::<u64>(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn money_and_rates_are_stored_exactly() {
    let file = file_store().await;
    let sub = setup(&file.store).await;
    let commit = renewal(&sub, date(2026, 1, 15), "first");
    file.store.commit(&commit).await.unwrap();
    let (subtotal_type, rate, rate_type): (String, String, String) = sqlx::query_as(
        "SELECT typeof(i.subtotal), t.rate, typeof(t.rate) FROM invoices AS i \
         JOIN invoice_tax_lines AS t ON t.account_id = i.account_id AND t.invoice_id = i.id",
    )
    .fetch_one(file.store.pool())
    .await
    .unwrap();
    assert_eq!(
        (subtotal_type.as_str(), rate.as_str(), rate_type.as_str()),
        ("integer", "0.082500", "text")
    );
    let stored = file.store.invoices(&all_invoices()).await.unwrap();
    assert_eq!(stored, vec![commit.invoice.unwrap()]);
}

// ---------------------------------------------------------------------------------------------
// Two processes
// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread")]
async fn two_processes_commit_over_the_same_revision() {
    let file = file_store().await;
    let mut sub = setup(&file.store).await;
    let a = Arc::new(file.reopen().await);
    let b = Arc::new(file.reopen().await);
    let rounds: u32 = 12;
    let mut start = date(2026, 1, 15);
    for round in 0..rounds {
        let left = renewal(&sub, start, &format!("a{round}"));
        let right = renewal(&sub, start, &format!("b{round}"));
        let (x, y) = tokio::join!(
            tokio::spawn({
                let a = a.clone();
                async move { a.commit(&left).await }
            }),
            tokio::spawn({
                let b = b.clone();
                async move { b.commit(&right).await }
            }),
        );
        let mut outcomes = [x.unwrap().unwrap(), y.unwrap().unwrap()];
        outcomes.sort_by_key(|outcome| *outcome != CommitOutcome::Committed);
        assert_eq!(
            outcomes,
            [CommitOutcome::Committed, CommitOutcome::Stale],
            "round {round}"
        );
        sub = file
            .store
            .subscription(ACCOUNT, "sub_1")
            .await
            .unwrap()
            .unwrap();
        start = start.checked_add_months(chrono::Months::new(1)).unwrap();
    }
    assert_eq!(sub.revision, 1 + i64::from(rounds));
    let invoices = file.store.invoices(&all_invoices()).await.unwrap();
    assert_eq!(invoices.len(), rounds as usize);
    // One winner's event per round, plus the five of the setup.
    let stats = file.store.stats().await.unwrap();
    assert_eq!(stats.audit_events, 4 + u64::from(rounds));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_writer_waits_for_another_process_holding_the_write_lock() {
    let file = file_store().await;
    setup(&file.store).await;
    let other = file.reopen().await;
    // Another process takes the write lock and holds it for a while.
    let mut held = other.pool().begin_with("BEGIN IMMEDIATE").await.unwrap();
    sqlx::query("UPDATE accounts SET abstracted = 0")
        .execute(&mut *held)
        .await
        .unwrap();
    let started = Instant::now();
    let writer = tokio::spawn({
        let store = file.store.clone();
        async move {
            store
                .append_events(&[event(SubjectKind::Account, ACCOUNT, None)])
                .await
        }
    });
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert!(!writer.is_finished(), "the writer must wait for the lock");
    held.commit().await.unwrap();
    writer
        .await
        .unwrap()
        .expect("the writer gets the lock once it is free");
    assert!(started.elapsed() >= Duration::from_millis(400));
    let account = file.store.account(ACCOUNT).await.unwrap().unwrap();
    assert!(!account.abstracted, "the other process's write is kept");
    assert_eq!(file.store.stats().await.unwrap().audit_events, 5);
}

// ---------------------------------------------------------------------------------------------
// All or nothing
// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread")]
async fn a_commit_that_fails_late_leaves_nothing() {
    let store = memory_store().await;
    let sub = setup(&store).await;
    let mut commit = renewal(&sub, date(2026, 1, 15), "first");
    // The invoice is written before the events; an event already in the outbox fails the
    // commit after it.
    let existing = store.pending_events(1).await.unwrap().remove(0);
    commit.events.push(existing.clone());
    let error = store.commit(&commit).await.unwrap_err();
    assert!(
        matches!(&error, Error::Conflict { what, reason }
            if what == "events.id" && reason.contains(&existing.id)),
        "{error:?}"
    );
    assert_eq!(
        store.subscription(ACCOUNT, "sub_1").await.unwrap(),
        Some(sub)
    );
    assert!(store.invoices(&all_invoices()).await.unwrap().is_empty());
    for table in [
        "invoice_line_items",
        "invoice_tax_lines",
        "revenue_schedule",
    ] {
        let rows: i64 =
            sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM {table}")))
                .fetch_one(store.pool())
                .await
                .unwrap();
        assert_eq!(rows, 0, "{table}");
    }
    assert_eq!(store.stats().await.unwrap().audit_events, 4);
}

// ---------------------------------------------------------------------------------------------
// Corrupt rows
// ---------------------------------------------------------------------------------------------

async fn execute(store: &SqliteStore, sql: &'static str) {
    sqlx::query(sql).execute(store.pool()).await.unwrap();
}

fn expect_corrupt<T: std::fmt::Debug>(result: ai_billing::Result<T>, mentions: &str) {
    match result {
        Err(error @ Error::Storage { .. }) => {
            let text = chain(&error);
            assert!(
                text.contains(mentions),
                "{text:?} should mention {mentions:?}"
            );
        }
        other => panic!("expected a storage error mentioning {mentions:?}, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn values_the_core_could_not_have_written_are_refused() {
    // In memory: one connection, so the pragma below holds for every statement.
    let store = memory_store().await;
    let sub = setup(&store).await;
    store
        .commit(&renewal(&sub, date(2026, 1, 15), "first"))
        .await
        .unwrap();

    execute(&store, "UPDATE subscriptions SET status = 'paused'").await;
    expect_corrupt(store.subscription(ACCOUNT, "sub_1").await, "\"paused\"");
    let due = ai_billing::store::DueQuery {
        due_by: at("2030-01-01T00:00:00Z"),
        after: None,
        limit: 10,
    };
    // A paused subscription is not active, so it is not due either.
    assert!(store.due_subscriptions(&due).await.unwrap().is_empty());

    execute(&store, "PRAGMA ignore_check_constraints = ON").await;
    execute(
        &store,
        "UPDATE subscriptions SET status = 'active', quantity = -2",
    )
    .await;
    expect_corrupt(store.subscription(ACCOUNT, "sub_1").await, "-2");
    expect_corrupt(store.due_subscriptions(&due).await, "quantity");
    execute(
        &store,
        "UPDATE subscriptions SET quantity = 2, start_date = '2026-13-01'",
    )
    .await;
    expect_corrupt(store.subscription(ACCOUNT, "sub_1").await, "2026-13-01");
    execute(
        &store,
        "UPDATE subscriptions SET start_date = '2026-01-15', changes = '{\"pauses\": 3}'",
    )
    .await;
    expect_corrupt(store.subscription(ACCOUNT, "sub_1").await, "changes");
    execute(&store, "UPDATE subscriptions SET changes = NULL").await;

    execute(&store, "UPDATE invoices SET currency = 'ZZZ'").await;
    expect_corrupt(store.invoices(&all_invoices()).await, "ZZZ");
    execute(&store, "UPDATE invoices SET currency = 'USD'").await;
    execute(
        &store,
        "UPDATE invoice_tax_lines SET rate = 'eight percent'",
    )
    .await;
    expect_corrupt(store.invoices(&all_invoices()).await, "eight percent");
    execute(&store, "UPDATE invoice_tax_lines SET rate = '0.0825'").await;
    execute(&store, "UPDATE invoice_line_items SET kind = 'bonus'").await;
    expect_corrupt(store.invoices(&all_invoices()).await, "bonus");
    execute(&store, "UPDATE invoice_line_items SET kind = 'recurring'").await;
    execute(&store, "UPDATE invoices SET quantity = -1").await;
    expect_corrupt(store.invoices(&all_invoices()).await, "-1");

    execute(
        &store,
        "UPDATE audit_outbox SET action = 'exploded' WHERE seq = 2",
    )
    .await;
    expect_corrupt(store.pending_events(10).await, "exploded");
    execute(
        &store,
        "UPDATE audit_outbox SET action = 'account_saved', data = '{oops'",
    )
    .await;
    expect_corrupt(
        store.events_for(ACCOUNT, ACCOUNT).await,
        "audit_outbox.data",
    );

    execute(&store, "UPDATE accounts SET timezone = 'Mars/Olympus'").await;
    expect_corrupt(store.account(ACCOUNT).await, "Mars/Olympus");
    execute(&store, "UPDATE plan_versions SET program_json = '[]'").await;
    expect_corrupt(
        store
            .plan_version(&PlanQuery {
                account_id: ACCOUNT.into(),
                plan_id: "plan_1".into(),
                version: None,
            })
            .await,
        "plan_versions.program_json",
    );
}

// ---------------------------------------------------------------------------------------------
// Subscription changes
// ---------------------------------------------------------------------------------------------

/// What `changes` holds for `sub_1`: its SQLite type and text.
async fn stored_changes(store: &SqliteStore) -> (String, Option<String>) {
    sqlx::query_as("SELECT typeof(changes), changes FROM subscriptions WHERE id = 'sub_1'")
        .fetch_one(store.pool())
        .await
        .unwrap()
}

/// A subscription nothing has changed keeps NULL in `changes` through every write (so the
/// billing run neither writes nor parses anything for it); one with changes keeps their JSON,
/// and clearing them stores NULL again.
#[tokio::test(flavor = "multi_thread")]
async fn a_subscription_nothing_changed_stores_no_changes() {
    let store = memory_store().await;
    let sub = setup(&store).await;
    assert_eq!(stored_changes(&store).await, ("null".into(), None));
    let first = renewal(&sub, date(2026, 1, 15), "first");
    assert_eq!(
        store.commit(&first).await.unwrap(),
        CommitOutcome::Committed
    );
    assert_eq!(stored_changes(&store).await, ("null".into(), None));
    let second = renewal(&first.subscription, date(2026, 2, 15), "second");
    let page = store
        .claim_due(&ai_billing::store::DueQuery {
            due_by: at("2030-01-01T00:00:00Z"),
            after: None,
            limit: 10,
        })
        .await
        .unwrap();
    let outcomes = store
        .commit_claimed(page, std::slice::from_ref(&second))
        .await
        .unwrap();
    assert!(matches!(outcomes[..], [Ok(CommitOutcome::Committed)]));
    assert_eq!(
        stored_changes(&store).await,
        ("null".into(), None),
        "the page path writes NULL too"
    );

    let mut paused = second.subscription.clone();
    paused.revision += 1;
    paused
        .changes
        .pause(
            ai_billing::changes::Pause {
                from: date(2026, 3, 1),
                until: Some(date(2026, 3, 8)),
            },
            date(2026, 2, 20),
        )
        .unwrap();
    let pause = SubscriptionCommit {
        expected_revision: second.subscription.revision,
        subscription: paused.clone(),
        invoice: None,
        invoice_status: Vec::new(),
        credit_notes: Vec::new(),
        events: Vec::new(),
        idempotency: None,
    };
    assert_eq!(
        store.commit(&pause).await.unwrap(),
        CommitOutcome::Committed
    );
    let (kind, text) = stored_changes(&store).await;
    assert_eq!(kind, "text");
    let text = text.unwrap();
    assert_eq!(
        serde_json::from_str::<ai_billing::changes::Changes>(&text).unwrap(),
        paused.changes,
        "the changes as JSON: {text}"
    );
    assert_eq!(
        store.subscription(ACCOUNT, "sub_1").await.unwrap(),
        Some(paused.clone())
    );

    let mut resumed = paused.clone();
    resumed.revision += 1;
    resumed.changes = Default::default();
    let resume = SubscriptionCommit {
        expected_revision: paused.revision,
        subscription: resumed,
        invoice: None,
        invoice_status: Vec::new(),
        credit_notes: Vec::new(),
        events: Vec::new(),
        idempotency: None,
    };
    assert_eq!(
        store.commit(&resume).await.unwrap(),
        CommitOutcome::Committed
    );
    assert_eq!(stored_changes(&store).await, ("null".into(), None));
}
