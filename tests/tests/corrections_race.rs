//! Invoice corrections racing each other and a billing run, on SQLite and on PostgreSQL (issue
//! 19). A correction first issues what its subscription owes (as a run would) and is written over
//! the subscription's revision, its status changes over the status it read, so whoever comes
//! second works on the other's result:
//! - a void with re-billing while a run bills the same subscriptions bills each period exactly
//!   once (one invoice of a period is not void);
//! - two credit notes racing on one invoice never credit more than its total;
//! - a held invoice released twice at once is issued once (the second is a conflict).

use std::collections::BTreeMap;
use std::sync::Arc;

use ai_billing::BillingState as _;
use ai_billing::engine::{
    BillingMode, CreateSubscription, CreditInvoice, ReleaseInvoice, RunDue, SavePlan, VoidInvoice,
};
use ai_billing::model::{LanguageModel, ModelAnswer, ScriptedModel};
use ai_billing::postgres::PostgresStore;
use ai_billing::sqlite::SqliteStore;
use ai_billing::store::{CreditNoteQuery, InvoiceQuery};
use ai_billing::subscription::invoice_id;
use ai_billing::tax::FlatRate;
use ai_billing::usage::Shipment;
use ai_billing::{
    Account, BillingInterval, Currency, Customer, Engine, FixedClock, FixtureStore, IntervalUnit,
    InvoiceStatus, IssuedInvoice, Plan,
};
use ai_billing_tests::pg::TestDatabase;
use chrono::{DateTime, Days, NaiveDate, TimeZone, Utc};
use chrono_tz::America::New_York;
use rust_decimal::Decimal;

const ACCOUNT: &str = "acct_race";
const CUSTOMER: &str = "cus_race";
const SUBSCRIPTIONS: usize = 40;

/// When everything happens: after the January periods (and, in advance, February's) are due.
fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 2, 3, 15, 0, 0).unwrap()
}

fn jan(day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 1, day).unwrap()
}

/// An engine on `store` (8.25% tax, `mode` with a model answering `answers`) and the account, a
/// customer with a delivery every day, a plan billed in arrears (`hybrid`) and one in advance
/// (`copies`), and subscriptions `sub_000`.. from Jan 1 2026, even ones on `copies` when `mixed`.
async fn set_up(
    store: Arc<dyn FixtureStore>,
    mode: BillingMode,
    answers: usize,
    mixed: bool,
) -> Engine {
    let clock = Arc::new(FixedClock::new(now()));
    let model = Arc::new(ScriptedModel::default());
    for _ in 0..answers {
        model.push(Ok::<_, String>(ModelAnswer::Json(wrong_january_answer())));
    }
    let engine = Engine::new(store.clone())
        .with_clock(clock)
        .with_tax(Arc::new(
            FlatRate::new("Tax", Decimal::new(825, 4)).unwrap(),
        ))
        .with_mode(mode, Some(model as Arc<dyn LanguageModel>))
        .unwrap();
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
        ("copies", "$31 per month for each copy"),
        ("hybrid", "A $15 monthly base fee plus $0.50 per delivery"),
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
    let shipments: Vec<Shipment> = (0..90u64)
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
        let plan = if mixed && i.is_multiple_of(2) {
            "copies"
        } else {
            "hybrid"
        };
        engine
            .create_subscription(&CreateSubscription {
                account_id: ACCOUNT.into(),
                id: sub(i),
                customer_id: CUSTOMER.into(),
                plan_id: plan.into(),
                quantity: 1,
                start_date: jan(1),
                actor: "race".into(),
                request_id: None,
            })
            .await
            .unwrap();
    }
    engine
}

fn sub(i: usize) -> String {
    format!("sub_{i:03}")
}

/// A model's answer for January that passes validation but disagrees with the program (99.00):
/// the invoice is held.
fn wrong_january_answer() -> String {
    let midnight = |m: u32| {
        New_York
            .with_ymd_and_hms(2026, m, 1, 0, 0, 0)
            .unwrap()
            .fixed_offset()
            .to_rfc3339()
    };
    let (start, end) = (midnight(1), midnight(2));
    format!(
        r#"{{"subscription_updates": {{"current_period_start": "{start}", "current_period_end": "{end}"}},
            "invoice": {{"amount": 99.00, "currency": "USD", "start_date": "{start}", "end_date": "{end}",
                        "line_items": [{{"description": "Everything", "amount": 99.00}}]}}}}"#
    )
}

async fn run(engine: &Engine) {
    let report = engine
        .run_due(&RunDue {
            now: Some(now()),
            progress: None,
        })
        .await
        .unwrap();
    assert_eq!(report.failed, 0, "{:?}", report.failures);
}

async fn invoices(store: &dyn FixtureStore) -> Vec<IssuedInvoice> {
    store
        .invoices(&InvoiceQuery {
            account_id: Some(ACCOUNT.into()),
            subscription_id: None,
            limit: None,
            ..Default::default()
        })
        .await
        .unwrap()
}

/// Voids the invoice of the period billed last of each subscription, re-billing it, while a run
/// bills them all: each period ends with exactly one invoice that is not void, the re-billed one
/// for the same amounts (the data did not change).
async fn void_and_rebill_racing_a_run(store: Arc<dyn FixtureStore>) {
    let engine = set_up(store.clone(), BillingMode::Compiled, 0, true).await;
    let runner = {
        let engine = engine.clone();
        tokio::spawn(async move { run(&engine).await })
    };
    let voids: Vec<_> = (0..SUBSCRIPTIONS)
        .map(|i| {
            let engine = engine.clone();
            // In advance the period billed last is February's; in arrears, January's.
            let start = if i.is_multiple_of(2) {
                NaiveDate::from_ymd_opt(2026, 2, 1).unwrap()
            } else {
                jan(1)
            };
            tokio::spawn(async move {
                engine
                    .void_invoice(&VoidInvoice {
                        account_id: ACCOUNT.into(),
                        invoice_id: invoice_id(&sub(i), start),
                        rebill: true,
                        actor: "race".into(),
                        reason: "re-billed in a race".into(),
                        request_id: None,
                    })
                    .await
                    .unwrap_or_else(|error| panic!("void of {}: {error}", sub(i)))
            })
        })
        .collect();
    let mut voided = Vec::new();
    for task in voids {
        voided.push(task.await.unwrap());
    }
    runner.await.unwrap();
    run(&engine).await;

    let stored = invoices(store.as_ref()).await;
    let mut by_period: BTreeMap<(String, NaiveDate), Vec<&IssuedInvoice>> = BTreeMap::new();
    for invoice in &stored {
        by_period
            .entry((
                invoice.subscription_id.clone(),
                invoice.invoice.period_start,
            ))
            .or_default()
            .push(invoice);
    }
    // In advance: January and February; in arrears: January.
    assert_eq!(by_period.len(), SUBSCRIPTIONS / 2 * 3);
    for ((subscription, start), invoices) in &by_period {
        let open: Vec<_> = invoices
            .iter()
            .filter(|i| i.status != InvoiceStatus::Void)
            .collect();
        assert_eq!(
            open.len(),
            1,
            "{subscription} {start}: one invoice is not void, got {:?}",
            invoices
                .iter()
                .map(|i| (&i.id, i.status))
                .collect::<Vec<_>>()
        );
    }
    for done in &voided {
        let rebilled = done.rebilled.as_ref().expect("re-billed");
        assert_eq!(rebilled.id, format!("{}_r1", done.invoice.id));
        assert_eq!(rebilled.invoice.total, done.invoice.invoice.total);
        assert_eq!(rebilled.invoice.line_items, done.invoice.invoice.line_items);
        let stored_void = stored.iter().find(|i| i.id == done.invoice.id).unwrap();
        assert_eq!(stored_void.status, InvoiceStatus::Void);
    }
    assert_eq!(
        stored.len(),
        SUBSCRIPTIONS / 2 * 3 + SUBSCRIPTIONS,
        "every period billed once, and once more for each void"
    );
}

/// Two credit notes of 20.00 race on each January invoice (30.50 + tax): one is written, the
/// other finds only 10.50 left and is refused; no invoice is ever credited more than its total.
async fn two_credits_racing_on_one_invoice(store: Arc<dyn FixtureStore>) {
    let engine = set_up(store.clone(), BillingMode::Compiled, 0, false).await;
    run(&engine).await;
    let credits: Vec<_> = (0..SUBSCRIPTIONS * 2)
        .map(|k| {
            let engine = engine.clone();
            tokio::spawn(async move {
                engine
                    .credit_invoice(&CreditInvoice {
                        account_id: ACCOUNT.into(),
                        invoice_id: invoice_id(&sub(k / 2), jan(1)),
                        lines: Vec::new(),
                        amount: Some(2000),
                        actor: format!("agent_{}", k % 2),
                        reason: "a complaint, twice".into(),
                        request_id: None,
                    })
                    .await
            })
        })
        .collect();
    let mut written = 0;
    for task in credits {
        match task.await.unwrap() {
            Ok(_) => written += 1,
            Err(error) => assert_eq!(error.code().as_str(), "INVALID_INPUT", "{error}"),
        }
    }
    assert_eq!(written, SUBSCRIPTIONS, "one credit of each pair is written");
    let notes = store
        .credit_notes(&CreditNoteQuery {
            account_id: ACCOUNT.into(),
            subscription_id: None,
            limit: None,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(notes.len(), SUBSCRIPTIONS);
    for invoice in invoices(store.as_ref()).await {
        assert_eq!(invoice.invoice.subtotal.to_major().to_string(), "30.50");
        let credited: i64 = notes
            .iter()
            .filter(|n| n.invoice_id == invoice.id)
            .map(|n| n.total.minor())
            .sum();
        assert_eq!(credited, 2165, "{}: 20.00 + round(1.65)", invoice.id);
        assert!(credited <= invoice.invoice.total.minor());
    }
}

/// Every January invoice is held (the model disagrees); two releases of each race: one issues
/// it, the other is a conflict naming its status, and it is released once.
async fn two_releases_racing_on_one_held_invoice(store: Arc<dyn FixtureStore>) {
    let engine = set_up(store.clone(), BillingMode::Agent, SUBSCRIPTIONS, false).await;
    run(&engine).await;
    let held = invoices(store.as_ref()).await;
    assert_eq!(held.len(), SUBSCRIPTIONS);
    assert!(
        held.iter()
            .all(|i| i.status == InvoiceStatus::Held && i.review.is_some())
    );
    let releases: Vec<_> = (0..SUBSCRIPTIONS * 2)
        .map(|k| {
            let engine = engine.clone();
            tokio::spawn(async move {
                engine
                    .release_invoice(&ReleaseInvoice {
                        account_id: ACCOUNT.into(),
                        invoice_id: invoice_id(&sub(k / 2), jan(1)),
                        actor: format!("reviewer_{}", k % 2),
                        reason: "checked".into(),
                        request_id: None,
                    })
                    .await
            })
        })
        .collect();
    let mut released = 0;
    for task in releases {
        match task.await.unwrap() {
            Ok(invoice) => {
                assert_eq!(invoice.status, InvoiceStatus::Open);
                released += 1;
            }
            Err(error) => {
                assert_eq!(error.code().as_str(), "CONFLICT", "{error}");
                assert!(error.to_string().contains("is open"), "{error}");
            }
        }
    }
    assert_eq!(
        released, SUBSCRIPTIONS,
        "each held invoice is released once"
    );
    for invoice in invoices(store.as_ref()).await {
        assert_eq!(invoice.status, InvoiceStatus::Open);
        let events = store.events_for(ACCOUNT, &invoice.id).await.unwrap();
        let releases = events
            .iter()
            .filter(|e| e.action == ai_billing::AuditAction::InvoiceReleased)
            .count();
        assert_eq!(releases, 1, "{}: one invoice_released event", invoice.id);
    }
}

async fn sqlite(dir: &tempfile::TempDir, name: &str) -> Arc<dyn FixtureStore> {
    let url = format!("sqlite://{}", dir.path().join(name).display());
    let store = SqliteStore::open(&url).await.unwrap();
    store.migrate().await.unwrap();
    Arc::new(store) as Arc<dyn FixtureStore>
}

async fn postgres(database: &TestDatabase) -> Arc<dyn FixtureStore> {
    let store = PostgresStore::connect(database.url()).await.unwrap();
    store.migrate().await.unwrap();
    Arc::new(store) as Arc<dyn FixtureStore>
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn corrections_race_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    void_and_rebill_racing_a_run(sqlite(&dir, "void.db").await).await;
    two_credits_racing_on_one_invoice(sqlite(&dir, "credit.db").await).await;
    two_releases_racing_on_one_held_invoice(sqlite(&dir, "release.db").await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn corrections_race_on_postgres() {
    let databases = [
        TestDatabase::create().await,
        TestDatabase::create().await,
        TestDatabase::create().await,
    ];
    void_and_rebill_racing_a_run(postgres(&databases[0]).await).await;
    two_credits_racing_on_one_invoice(postgres(&databases[1]).await).await;
    two_releases_racing_on_one_held_invoice(postgres(&databases[2]).await).await;
    for database in databases {
        database.drop_now().await;
    }
}
