//! Safe retries racing (issue 20), on SQLite and on PostgreSQL: identical requests sent at once
//! (a client that retried before its first attempt answered) are applied once, and every one of
//! them answers what that one did. The second writer finds the key taken (or the change made),
//! reads the first's record and answers from it.

use std::sync::Arc;

use ai_billing::BillingState as _;
use ai_billing::audit::AuditAction;
use ai_billing::changes::Effective;
use ai_billing::engine::{CancelSubscription, CreateSubscription, CreditInvoice, SavePlan};
use ai_billing::postgres::PostgresStore;
use ai_billing::sqlite::SqliteStore;
use ai_billing::store::CreditNoteQuery;
use ai_billing::{
    Account, BillingInterval, Currency, Customer, Engine, FixedClock, FixtureStore, IntervalUnit,
    Plan,
};
use ai_billing_tests::pg::TestDatabase;
use chrono::{NaiveDate, TimeZone, Utc};
use chrono_tz::America::New_York;

const ACCOUNT: &str = "acct_retry";
const CUSTOMER: &str = "cus_retry";
/// How many identical requests race.
const TWINS: usize = 8;

/// An engine on `store` at Jan 10 2026, with the account, a customer and a plan billed in
/// advance.
async fn set_up(store: Arc<dyn FixtureStore>) -> Arc<Engine> {
    let clock = Arc::new(FixedClock::new(
        Utc.with_ymd_and_hms(2026, 1, 10, 15, 0, 0).unwrap(),
    ));
    let engine = Engine::new(store).with_clock(clock);
    engine
        .save_account(&Account::new(ACCOUNT, New_York), "retry")
        .await
        .unwrap();
    engine
        .save_customer(&Customer::new(ACCOUNT, CUSTOMER), "retry")
        .await
        .unwrap();
    let monthly = BillingInterval::new(IntervalUnit::Month, 1).unwrap();
    engine
        .save_plan(&SavePlan {
            account_id: ACCOUNT.into(),
            plan: Plan::ai(
                "copies",
                Currency::USD,
                monthly,
                "$31 per month for each copy",
            ),
            actor: "retry".into(),
        })
        .await
        .unwrap();
    Arc::new(engine)
}

fn create(id: &str, request_id: Option<&str>) -> CreateSubscription {
    CreateSubscription {
        account_id: ACCOUNT.into(),
        id: id.into(),
        customer_id: CUSTOMER.into(),
        plan_id: "copies".into(),
        quantity: 2,
        start_date: NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
        actor: "retry".into(),
        request_id: request_id.map(Into::into),
    }
}

/// Runs `TWINS` copies of `call` at once; every one must succeed with the same answer.
async fn race<T, F, Fut>(call: F) -> T
where
    T: PartialEq + std::fmt::Debug + Send + 'static,
    F: Fn() -> Fut,
    Fut: Future<Output = ai_billing::Result<T>> + Send + 'static,
{
    let tasks: Vec<_> = (0..TWINS).map(|_| tokio::spawn(call())).collect();
    let mut answers = Vec::new();
    for task in tasks {
        answers.push(task.await.unwrap().expect("every twin answers"));
    }
    let first = answers.remove(0);
    for answer in &answers {
        assert_eq!(answer, &first, "every twin answers the same");
    }
    first
}

/// How many events of `action` about `subject` the outbox holds.
async fn events(store: &Arc<dyn FixtureStore>, subject: &str, action: AuditAction) -> usize {
    store
        .events_for(ACCOUNT, subject)
        .await
        .unwrap()
        .iter()
        .filter(|event| event.action == action && event.subject_id == subject)
        .count()
}

async fn identical_requests_racing_apply_once(store: Arc<dyn FixtureStore>) {
    let engine = set_up(store.clone()).await;

    // Creations, keyed by the subscription id, then by a request_id.
    for (id, request_id) in [("sub_a", None), ("sub_b", Some("create-b"))] {
        let created = race(|| {
            let engine = Arc::clone(&engine);
            async move { engine.create_subscription(&create(id, request_id)).await }
        })
        .await;
        assert!(created.invoice.is_some(), "{id}: billed in advance");
        assert_eq!(
            events(&store, id, AuditAction::SubscriptionCreated).await,
            1,
            "{id}: created once"
        );
        let invoices = store
            .invoices(&ai_billing::store::InvoiceQuery {
                account_id: Some(ACCOUNT.into()),
                subscription_id: Some(id.into()),
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(invoices.len(), 1, "{id}: one first invoice");
    }

    // A cancellation that credits the unserved days.
    let canceled = race(|| {
        let engine = Arc::clone(&engine);
        async move {
            engine
                .cancel_subscription(&CancelSubscription {
                    account_id: ACCOUNT.into(),
                    subscription_id: "sub_a".into(),
                    effective: Effective::Immediately,
                    credit_unused: true,
                    actor: "retry".into(),
                    request_id: Some("cancel-a".into()),
                })
                .await
        }
    })
    .await;
    assert!(canceled.credit_note.is_some());
    assert_eq!(
        events(&store, "sub_a", AuditAction::CancelScheduled).await,
        1,
        "canceled once"
    );
    let notes = |subscription: &'static str| {
        let store = Arc::clone(&store);
        async move {
            store
                .credit_notes(&CreditNoteQuery {
                    account_id: ACCOUNT.into(),
                    subscription_id: Some(subscription.into()),
                    ..Default::default()
                })
                .await
                .unwrap()
        }
    };
    assert_eq!(notes("sub_a").await.len(), 1, "one credit note");

    // A manual credit note.
    let invoice_id =
        ai_billing::subscription::invoice_id("sub_b", NaiveDate::from_ymd_opt(2026, 1, 1).unwrap());
    let note = race(|| {
        let engine = Arc::clone(&engine);
        let invoice_id = invoice_id.clone();
        async move {
            engine
                .credit_invoice(&CreditInvoice {
                    account_id: ACCOUNT.into(),
                    invoice_id,
                    lines: Vec::new(),
                    amount: Some(500),
                    actor: "retry".into(),
                    reason: "a late delivery".into(),
                    request_id: Some("credit-b".into()),
                })
                .await
        }
    })
    .await;
    assert_eq!(notes("sub_b").await, vec![note], "credited once");
}

async fn sqlite(dir: &tempfile::TempDir, name: &str) -> Arc<dyn FixtureStore> {
    let url = format!("sqlite://{}", dir.path().join(name).display());
    let store = SqliteStore::open(&url).await.unwrap();
    store.migrate().await.unwrap();
    Arc::new(store) as Arc<dyn FixtureStore>
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn identical_requests_racing_apply_once_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    identical_requests_racing_apply_once(sqlite(&dir, "retry.db").await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn identical_requests_racing_apply_once_on_postgres() {
    let database = TestDatabase::create().await;
    let store = PostgresStore::connect(database.url()).await.unwrap();
    store.migrate().await.unwrap();
    identical_requests_racing_apply_once(Arc::new(store)).await;
    database.drop_now().await;
}
