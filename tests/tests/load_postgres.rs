//! Load on PostgreSQL (issue 9): for a bounded time, tasks create subscriptions, change their
//! quantities and run renewals, all at once, on one database through two engines (two
//! connection pools, as two processes would have). Then one last run catches up, and every
//! invariant is checked on what the database holds:
//!
//! - no operation hung (the whole test runs under a timeout: no deadlock) and no run failed a
//!   renewal;
//! - one invoice per (subscription, period), periods contiguous from 1, and the subscription's
//!   `next_invoice_period` right after its last invoice, with nothing left due;
//! - exactly one `invoice_issued` audit event per invoice, none for an invoice that is not there;
//! - each subscription's quantity is the last one set, and every invoice bills a quantity its
//!   subscription had.
//!
//! `AI_BILLING_LOAD_SECONDS` sets how long the load lasts (default 10).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ai_billing::engine::{ChangeQuantity, CreateSubscription, RunDue, SavePlan};
use ai_billing::postgres::PostgresStore;
use ai_billing::store::InvoiceQuery;
use ai_billing::usage::Shipment;
use ai_billing::{
    Account, BillingInterval, Currency, Customer, Engine, ErrorCode, FixedClock, IntervalUnit, Plan,
};
use ai_billing::{BillingState as _, UsageFixtures as _};
use ai_billing_tests::pg::TestDatabase;
use chrono::{DateTime, Days, NaiveDate, TimeZone, Utc};
use chrono_tz::America::New_York;

const ACCOUNT: &str = "acct_load";
const CUSTOMERS: usize = 8;
const CREATORS: usize = 3;
const CHANGERS: usize = 2;
const RUNNERS: usize = 2;
/// Plans billed in advance and in arrears, with a per-copy base fee so quantities matter.
const PLANS: [(&str, &str); 3] = [
    (
        "plan_step",
        "Bill $5 for the first month and increase by $1 per month",
    ),
    ("plan_seats", "$12 per month for each copy"),
    (
        "plan_hybrid",
        "$9 per month for each copy plus $0.50 per delivery",
    ),
];

fn load_seconds() -> u64 {
    std::env::var("AI_BILLING_LOAD_SECONDS")
        .ok()
        .and_then(|text| text.parse().ok())
        .unwrap_or(10)
}

/// The instant every run bills up to: mid-June 2026 in New York.
fn now() -> DateTime<Utc> {
    New_York
        .with_ymd_and_hms(2026, 6, 15, 12, 0, 0)
        .unwrap()
        .to_utc()
}

/// A small deterministic generator (no dependency, the same sequence on every run).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, below: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % below
    }
}

async fn engine_on(url: &str) -> (Engine, PostgresStore) {
    let store = PostgresStore::connect(url).await.unwrap();
    store.migrate().await.unwrap();
    let engine = Engine::new(Arc::new(store.clone())).with_clock(Arc::new(FixedClock::new(now())));
    (engine, store)
}

/// The account, its customers (with a delivery most days since January, written into `store`)
/// and the plans.
async fn set_up(engine: &Engine, store: &PostgresStore) {
    engine
        .save_account(&Account::new(ACCOUNT, New_York), "load")
        .await
        .unwrap();
    let monthly = BillingInterval::new(IntervalUnit::Month, 1).unwrap();
    for (id, prompt) in PLANS {
        engine
            .save_plan(&SavePlan {
                account_id: ACCOUNT.into(),
                plan: Plan::ai(id, Currency::USD, monthly, prompt),
                actor: "load".into(),
            })
            .await
            .unwrap();
    }
    let first = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
    for c in 0..CUSTOMERS {
        let customer = format!("cus_{c}");
        engine
            .save_customer(&Customer::new(ACCOUNT, &customer), "load")
            .await
            .unwrap();
        let shipments: Vec<Shipment> = (0..180u64)
            .filter(|day| !(day + c as u64).is_multiple_of(5))
            .map(|day| Shipment {
                id: format!("shp_{c}_{day}"),
                shipped_at: New_York
                    .from_local_datetime(&(first + Days::new(day)).and_hms_opt(6, 30, 0).unwrap())
                    .unwrap()
                    .to_utc(),
                quantity: 1,
            })
            .collect();
        store
            .insert_shipments(ACCOUNT, &customer, &shipments)
            .await
            .unwrap();
    }
}

/// What the tasks did, for the checks at the end.
#[derive(Default)]
struct Ledger {
    /// Every subscription created, by id: the quantities it was given, in order.
    quantities: Mutex<BTreeMap<String, Vec<u32>>>,
    operations: AtomicU64,
    contended: AtomicU64,
    runs: AtomicU64,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_creates_quantity_changes_and_runs_keep_every_invariant() {
    let database = TestDatabase::create().await;
    let (first, store) = engine_on(database.url()).await;
    let engines = [first, engine_on(database.url()).await.0];
    set_up(&engines[0], &store).await;
    let ledger = Arc::new(Ledger::default());
    let stop = Arc::new(AtomicBool::new(false));
    let seconds = load_seconds();
    let mut tasks = Vec::new();

    for creator in 0..CREATORS {
        let (engine, ledger, stop) = (engines[creator % 2].clone(), ledger.clone(), stop.clone());
        tasks.push(tokio::spawn(async move {
            let mut random = Lcg(creator as u64 + 1);
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) {
                let id = format!("sub_{creator}_{n}");
                n += 1;
                let quantity = 1 + random.next(5) as u32;
                let start =
                    NaiveDate::from_ymd_opt(2026, 1, 1).unwrap() + Days::new(random.next(150));
                ledger
                    .quantities
                    .lock()
                    .unwrap()
                    .insert(id.clone(), vec![quantity]);
                engine
                    .create_subscription(&CreateSubscription {
                        account_id: ACCOUNT.into(),
                        id,
                        customer_id: format!("cus_{}", random.next(CUSTOMERS as u64)),
                        plan_id: PLANS[random.next(PLANS.len() as u64) as usize].0.into(),
                        quantity,
                        start_date: start,
                        actor: format!("creator_{creator}"),
                        request_id: None,
                    })
                    .await
                    .unwrap();
                ledger.operations.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }

    for changer in 0..CHANGERS {
        let (engine, ledger, stop) = (engines[changer % 2].clone(), ledger.clone(), stop.clone());
        tasks.push(tokio::spawn(async move {
            let mut random = Lcg(100 + changer as u64);
            while !stop.load(Ordering::Relaxed) {
                // Each changer owns the subscriptions of one parity, so "the last quantity set"
                // is well defined for every subscription.
                let owned: Vec<String> = ledger
                    .quantities
                    .lock()
                    .unwrap()
                    .keys()
                    .filter(|id| id.len() % CHANGERS == changer)
                    .cloned()
                    .collect();
                if owned.is_empty() {
                    tokio::time::sleep(Duration::from_millis(5)).await;
                    continue;
                }
                let id = owned[random.next(owned.len() as u64) as usize].clone();
                let quantity = 1 + random.next(100) as u32;
                let changed = engine
                    .change_quantity(&ChangeQuantity {
                        account_id: ACCOUNT.into(),
                        subscription_id: id.clone(),
                        quantity,
                        proration: Default::default(),
                        effective: ai_billing::changes::Effective::Immediately,
                        actor: format!("changer_{changer}"),
                        request_id: None,
                    })
                    .await;
                match changed {
                    Ok(_) => ledger
                        .quantities
                        .lock()
                        .unwrap()
                        .get_mut(&id)
                        .unwrap()
                        .push(quantity),
                    // The creation is still in flight (the ledger is written first).
                    Err(error) if error.code() == ErrorCode::NotFound => {}
                    Err(error) if error.code() == ErrorCode::Contended => {
                        ledger.contended.fetch_add(1, Ordering::Relaxed);
                    }
                    Err(error) => panic!("change_quantity {id}: {error}"),
                }
                ledger.operations.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }

    for runner in 0..RUNNERS {
        let (engine, ledger, stop) = (engines[runner % 2].clone(), ledger.clone(), stop.clone());
        tasks.push(tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                let report = engine
                    .run_due(&RunDue {
                        now: Some(now()),
                        progress: None,
                    })
                    .await
                    .unwrap();
                assert_eq!(report.failed, 0, "{:?}", report.failures);
                ledger.runs.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }

    tokio::time::sleep(Duration::from_secs(seconds)).await;
    stop.store(true, Ordering::Relaxed);
    // Every task ends within a minute of the stop: nothing is stuck on a lock.
    let finished = tokio::time::timeout(Duration::from_secs(60), async {
        for task in tasks {
            task.await.unwrap();
        }
    })
    .await;
    assert!(
        finished.is_ok(),
        "a task did not finish: a deadlock or a hang"
    );

    let last = engines[0]
        .run_due(&RunDue {
            now: Some(now()),
            progress: None,
        })
        .await
        .unwrap();
    assert_eq!(last.failed, 0, "{:?}", last.failures);

    let quantities = ledger.quantities.lock().unwrap().clone();
    let invoices = check_invariants(&store, &quantities).await;
    eprintln!(
        "load: {seconds} s, {} operations ({} subscriptions, {} runs, {} quantity changes contended), {invoices} invoices, invariants held",
        ledger.operations.load(Ordering::Relaxed),
        quantities.len(),
        ledger.runs.load(Ordering::Relaxed),
        ledger.contended.load(Ordering::Relaxed),
    );
    for engine in &engines {
        engine.store().close().await.unwrap();
    }
    database.drop_now().await;
}

/// Checks every invariant; the number of invoices checked.
async fn check_invariants(store: &PostgresStore, quantities: &BTreeMap<String, Vec<u32>>) -> usize {
    // The invoice_issued events per invoice, in one statement (the store's API reads them one
    // subject at a time).
    let issued_events: Vec<(String, i64)> = sqlx::query_as(
        "SELECT subject_id, COUNT(*) FROM audit_outbox \
         WHERE account_id = $1 AND action = 'invoice_issued' GROUP BY subject_id",
    )
    .bind(ACCOUNT)
    .fetch_all(store.pool())
    .await
    .unwrap();
    let mut issued_events: HashMap<String, i64> = issued_events.into_iter().collect();
    let invoices = store
        .invoices(&InvoiceQuery {
            account_id: Some(ACCOUNT.into()),
            subscription_id: None,
            limit: None,
            ..Default::default()
        })
        .await
        .unwrap();
    let mut periods: HashMap<&str, Vec<u32>> = HashMap::new();
    let mut keys = BTreeSet::new();
    for invoice in &invoices {
        assert!(
            keys.insert((
                invoice.subscription_id.clone(),
                invoice.invoice.period_start
            )),
            "two invoices for {} from {}",
            invoice.subscription_id,
            invoice.invoice.period_start
        );
        periods
            .entry(&invoice.subscription_id)
            .or_default()
            .push(invoice.invoice.period_index);
        let given = &quantities[&invoice.subscription_id];
        assert!(
            given.contains(&invoice.quantity),
            "{} billed quantity {} it never had ({given:?})",
            invoice.id,
            invoice.quantity
        );
        let issued = issued_events.remove(&invoice.id).unwrap_or_default();
        assert_eq!(
            issued, 1,
            "{} has {issued} invoice_issued events",
            invoice.id
        );
    }
    for (id, given) in quantities {
        let subscription = store
            .subscription(ACCOUNT, id)
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("{id} was created but is not stored"));
        assert_eq!(
            Some(&subscription.quantity.get()),
            given.last(),
            "{id}: the last quantity set"
        );
        let mut billed = periods.remove(id.as_str()).unwrap_or_default();
        billed.sort_unstable();
        let expected: Vec<u32> = (1..=billed.len() as u32).collect();
        assert_eq!(billed, expected, "{id}: periods billed are not contiguous");
        assert_eq!(
            subscription.next_invoice_period,
            billed.len() as u32 + 1,
            "{id}: next_invoice_period after {} invoices",
            billed.len()
        );
        let due = subscription.next_invoice_at.expect("active subscriptions");
        assert!(due > now(), "{id} is still due at {due} after the last run");
    }
    assert!(
        issued_events.is_empty(),
        "invoice_issued events without their invoice: {:?}",
        issued_events.keys()
    );
    assert!(
        periods.is_empty(),
        "invoices of unknown subscriptions: {:?}",
        periods.keys()
    );
    invoices.len()
}
