//! Subscription changes racing a billing run, on SQLite and on PostgreSQL (issue 18): cancels,
//! pauses and plan changes made on many subscriptions while a run is billing them, compared with
//! the same changes made with no run in flight. A change first issues what its subscription owes
//! (as the run would) and is written over the revision it was computed from, so whoever comes
//! second works on the other's result: the invoices and credit notes must be identical.

use std::sync::Arc;

use ai_billing::BillingState as _;
use ai_billing::changes::Effective;
use ai_billing::engine::{
    CancelSubscription, ChangePlan, CreateSubscription, PauseSubscription, RunDue, SavePlan,
};
use ai_billing::postgres::PostgresStore;
use ai_billing::sqlite::SqliteStore;
use ai_billing::store::{CreditNoteQuery, InvoiceQuery};
use ai_billing::usage::Shipment;
use ai_billing::{
    Account, BillingInterval, Currency, Customer, Engine, FixedClock, FixtureStore, IntervalUnit,
    Plan,
};
use ai_billing_tests::pg::TestDatabase;
use chrono::{DateTime, Days, NaiveDate, TimeZone, Utc};
use chrono_tz::America::New_York;

const ACCOUNT: &str = "acct_race";
const CUSTOMER: &str = "cus_race";
const SUBSCRIPTIONS: usize = 150;

/// When the changes are made, and the run in flight bills up to.
fn made_at() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 2, 3, 15, 0, 0).unwrap()
}

/// When the last run bills up to.
fn horizon() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 5, 20, 15, 0, 0).unwrap()
}

/// The account, a customer with a delivery every day, three plans (in advance, in arrears, and
/// the one plan changes go to) and the subscriptions, created on the day the changes are made
/// (so every one owes periods that the run and the changes race to bill).
async fn set_up(store: Arc<dyn FixtureStore>) -> (Engine, Arc<FixedClock>) {
    let clock = Arc::new(FixedClock::new(made_at()));
    let engine = Engine::new(store.clone()).with_clock(clock.clone());
    engine
        .save_account(&Account::new(ACCOUNT, New_York), "race")
        .await
        .unwrap();
    engine
        .save_customer(&Customer::new(ACCOUNT, CUSTOMER), "race")
        .await
        .unwrap();
    let monthly = BillingInterval::new(IntervalUnit::Month, 1).unwrap();
    for (id, prompt) in [
        ("plan_copies", "$31 per month for each copy"),
        (
            "plan_hybrid",
            "A $15 monthly base fee plus $0.50 per delivery",
        ),
        (
            "plan_step",
            "Bill $20 for the first month and increase by $2 per month",
        ),
    ] {
        engine
            .save_plan(&SavePlan {
                account_id: ACCOUNT.into(),
                plan: Plan::ai(id, Currency::USD, monthly, prompt),
                actor: "race".into(),
            })
            .await
            .unwrap();
    }
    let first = NaiveDate::from_ymd_opt(2025, 12, 1).unwrap();
    let shipments: Vec<Shipment> = (0..200u64)
        .map(|day| Shipment {
            id: format!("shp_{day}"),
            shipped_at: Utc
                .from_utc_datetime(&(first + Days::new(day)).and_hms_opt(16, 0, 0).unwrap()),
            quantity: 1,
        })
        .collect();
    store
        .insert_shipments(ACCOUNT, CUSTOMER, &shipments)
        .await
        .unwrap();
    for i in 0..SUBSCRIPTIONS {
        let plan = if i.is_multiple_of(2) {
            "plan_copies"
        } else {
            "plan_hybrid"
        };
        engine
            .create_subscription(&CreateSubscription {
                account_id: ACCOUNT.into(),
                id: format!("sub_{i:03}"),
                customer_id: CUSTOMER.into(),
                plan_id: plan.into(),
                quantity: 1 + (i % 3) as u32,
                // Starts from Nov 2025 to Jan 2026: one to three periods owed.
                start_date: NaiveDate::from_ymd_opt(2025, 11, 1).unwrap()
                    + Days::new((i * 7 % 90) as u64),
                actor: "race".into(),
                request_id: None,
            })
            .await
            .unwrap();
    }
    (engine, clock)
}

/// Makes subscription `i`'s change: a cancel (immediately, or on a date), a pause, or a plan
/// change (immediately, or at the period end).
async fn change(engine: &Engine, i: usize) {
    let subscription_id = format!("sub_{i:03}");
    let account_id = ACCOUNT.to_owned();
    let actor = "race".to_owned();
    let date = |m, d| NaiveDate::from_ymd_opt(2026, m, d).unwrap();
    let result = match i % 5 {
        0 => engine
            .cancel_subscription(&CancelSubscription {
                account_id,
                subscription_id,
                effective: Effective::Immediately,
                credit_unused: true,
                actor,
                request_id: None,
            })
            .await
            .map(drop),
        1 => engine
            .cancel_subscription(&CancelSubscription {
                account_id,
                subscription_id,
                effective: Effective::On(date(2, 20)),
                credit_unused: i.is_multiple_of(2),
                actor,
                request_id: None,
            })
            .await
            .map(drop),
        2 => engine
            .pause_subscription(&PauseSubscription {
                account_id,
                subscription_id,
                from: date(2, 10),
                until: Some(date(3, 25)),
                actor,
                request_id: None,
            })
            .await
            .map(drop),
        3 => engine
            .change_plan(&ChangePlan {
                account_id,
                subscription_id,
                plan_id: "plan_step".into(),
                effective: Effective::Immediately,
                actor,
                request_id: None,
            })
            .await
            .map(drop),
        _ => engine
            .change_plan(&ChangePlan {
                account_id,
                subscription_id,
                plan_id: "plan_step".into(),
                effective: Effective::PeriodEnd,
                actor,
                request_id: None,
            })
            .await
            .map(drop),
    };
    result.unwrap_or_else(|error| panic!("change of sub_{i:03}: {error}"));
}

/// Every invoice and credit note the store holds, as comparable text.
async fn documents(store: &dyn FixtureStore) -> (Vec<String>, Vec<String>) {
    let invoices = store
        .invoices(&InvoiceQuery {
            account_id: Some(ACCOUNT.into()),
            subscription_id: None,
            limit: None,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_iter()
        .map(|i| {
            let lines: Vec<String> = i
                .invoice
                .line_items
                .iter()
                .map(|l| format!("{}={}", l.description, l.amount.to_major()))
                .collect();
            format!(
                "{} {} p{} {}..{} issued {} {} {} {} [{}]",
                i.id,
                i.plan_id,
                i.invoice.period_index,
                i.invoice.period_start,
                i.invoice.period_end,
                i.invoice.issue_date,
                i.invoice.subtotal.to_major(),
                i.invoice.tax.to_major(),
                i.invoice.total.to_major(),
                lines.join("; ")
            )
        })
        .collect();
    let notes = store
        .credit_notes(&CreditNoteQuery {
            account_id: ACCOUNT.into(),
            subscription_id: None,
            limit: None,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_iter()
        .map(|n| {
            format!(
                "{} #{} against {} issued {} {} {} [{}]",
                n.id,
                n.number,
                n.invoice_id,
                n.issue_date,
                n.subtotal.to_major(),
                n.total.to_major(),
                n.line_items
                    .iter()
                    .map(|l| format!("{}={}", l.description, l.amount.to_major()))
                    .collect::<Vec<_>>()
                    .join("; ")
            )
        })
        .collect();
    (invoices, notes)
}

/// Bills `store` with the changes made one by one and no run in flight (`racing` false), or
/// all at once while a run bills the same subscriptions (`racing` true); then a last run.
async fn bill(store: Arc<dyn FixtureStore>, racing: bool) -> (Vec<String>, Vec<String>) {
    let (engine, clock) = set_up(store.clone()).await;
    if racing {
        let run = {
            let engine = engine.clone();
            tokio::spawn(async move {
                engine
                    .run_due(&RunDue {
                        now: Some(made_at()),
                        progress: None,
                    })
                    .await
                    .unwrap()
            })
        };
        let changes: Vec<_> = (0..SUBSCRIPTIONS)
            .map(|i| {
                let engine = engine.clone();
                tokio::spawn(async move { change(&engine, i).await })
            })
            .collect();
        for task in changes {
            task.await.unwrap();
        }
        run.await.unwrap();
    } else {
        for i in 0..SUBSCRIPTIONS {
            change(&engine, i).await;
        }
    }
    clock.set(horizon());
    let last = engine
        .run_due(&RunDue {
            now: Some(horizon()),
            progress: None,
        })
        .await
        .unwrap();
    assert_eq!(last.failed, 0, "{:?}", last.failures);
    documents(store.as_ref()).await
}

fn assert_same(calm: (Vec<String>, Vec<String>), raced: (Vec<String>, Vec<String>)) {
    assert!(calm.0.len() > SUBSCRIPTIONS, "{} invoices", calm.0.len());
    assert!(!calm.1.is_empty(), "no credit notes");
    assert_eq!(calm.0.len(), raced.0.len(), "invoice counts");
    for (a, b) in calm.0.iter().zip(&raced.0) {
        assert_eq!(a, b);
    }
    assert_eq!(calm.1, raced.1, "credit notes");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn changes_racing_a_run_on_sqlite_bill_as_changes_made_alone() {
    let dir = tempfile::tempdir().unwrap();
    let open = |name: &str| {
        let url = format!("sqlite://{}", dir.path().join(name).display());
        async move {
            let store = SqliteStore::open(&url).await.unwrap();
            store.migrate().await.unwrap();
            Arc::new(store) as Arc<dyn FixtureStore>
        }
    };
    let calm = bill(open("calm.db").await, false).await;
    let raced = bill(open("raced.db").await, true).await;
    assert_same(calm, raced);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn changes_racing_a_run_on_postgres_bill_as_changes_made_alone() {
    let (calm_db, raced_db) = (TestDatabase::create().await, TestDatabase::create().await);
    let open = |url: String| async move {
        let store = PostgresStore::connect(&url).await.unwrap();
        store.migrate().await.unwrap();
        Arc::new(store) as Arc<dyn FixtureStore>
    };
    let calm = bill(open(calm_db.url().to_owned()).await, false).await;
    let raced = bill(open(raced_db.url().to_owned()).await, true).await;
    assert_same(calm, raced);
    calm_db.drop_now().await;
    raced_db.drop_now().await;
}
