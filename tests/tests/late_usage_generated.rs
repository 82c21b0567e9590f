//! Late usage over a generated data set (issue 19), on SQLite files: a random 2% of the shipment
//! rows reach the table only after the invoice of their period was issued. Billed with weekly
//! runs from January to September, every subscription's sum billed (invoices less credit notes)
//! equals, to the cent, what the same rows billed when every one was on time: a late row is
//! billed once, at the next renewal, within the look-back.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use ai_billing::engine::{CreateSubscription, RunDue, SavePlan};
use ai_billing::sqlite::SqliteStore;
use ai_billing::store::{CreditNoteQuery, InvoiceQuery};
use ai_billing::usage::{Return, Shipment};
use ai_billing::{
    Account, BillingInterval, BillingState as _, Currency, Customer, Engine, FixedClock,
    FixtureStore, IntervalUnit, Plan,
};
use chrono::{DateTime, Days, NaiveDate, TimeZone, Utc};
use chrono_tz::America::New_York;

const ACCOUNT: &str = "acct_late";
const SUBSCRIPTIONS: usize = 120;
/// One shipment row in fifty arrives late.
const LATE_PERCENT: u32 = 2;

/// Usage plans of every shape a late row can change: per delivery, weekday rates, a base fee, an
/// allowance, a cap, a minimum, tiers, per copy, returns not billed.
const PROMPTS: &[&str] = &[
    "$0.50 per delivery",
    "$0.75 per delivery Monday to Saturday and $2.50 per Sunday delivery",
    "A $15 monthly base fee plus $0.50 per delivery",
    "The first 10 deliveries each month are free, then $1 per delivery",
    "$1 per delivery, at most $12 a month",
    "$1 per delivery with a $10 monthly minimum",
    "$1 per delivery for the first 10 deliveries, then $0.50 per delivery",
    "$0.40 per copy delivered",
    "Charge $1 per shipment; returned shipments are not billed.",
];

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

/// The data set: every subscription's start and plan, its shipments and returns, and which
/// shipments arrive late. The same for a seed.
struct DataSet {
    subscriptions: Vec<(String, String, NaiveDate, u32)>,
    shipments: Vec<(String, Shipment)>,
    returns: Vec<(String, Return)>,
    late: HashSet<String>,
}

fn generate(seed: u64) -> DataSet {
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut data = DataSet {
        subscriptions: Vec::new(),
        shipments: Vec::new(),
        returns: Vec::new(),
        late: HashSet::new(),
    };
    let first = date(2026, 1, 1);
    for n in 0..SUBSCRIPTIONS {
        let customer = format!("cus_{n}");
        let plan = format!("plan_{}", n % PROMPTS.len());
        let start = first + Days::new(rng.u64(0..28));
        data.subscriptions
            .push((customer.clone(), plan, start, rng.u32(1..=3)));
        // Deliveries until the end of June, most days, one to three copies, at any hour.
        let mut day = start;
        let mut row = 0;
        while day < date(2026, 7, 1) {
            if rng.u32(0..10) < 8 {
                row += 1;
                let id = format!("shp_{n}_{row}");
                let shipped_at = New_York
                    .from_local_datetime(&day.and_hms_opt(rng.u32(3..24), 30, 0).unwrap())
                    .earliest()
                    .unwrap()
                    .to_utc();
                let late = rng.u32(0..100) < LATE_PERCENT;
                if late {
                    data.late.insert(id.clone());
                }
                // A return of a row not in the table yet is refused by the usage query: only
                // rows on time are returned here.
                if !late && rng.u32(0..100) < 3 {
                    data.returns.push((
                        customer.clone(),
                        Return {
                            id: format!("ret_{n}_{row}"),
                            shipment_id: id.clone(),
                            returned_at: shipped_at + chrono::Duration::days(2),
                            quantity: 1,
                        },
                    ));
                }
                data.shipments.push((
                    customer.clone(),
                    Shipment {
                        id,
                        shipped_at,
                        quantity: rng.u32(1..=3),
                    },
                ));
            }
            day = day + Days::new(1);
        }
    }
    data
}

/// Bills `data` on a new SQLite file with weekly runs to the end of September, the late rows
/// (`with_late`) each inserted after the first run that issued the invoice of its period; each
/// subscription's sum billed, in cents: invoices less credit notes.
async fn bill(data: &DataSet, with_late: bool) -> (BTreeMap<String, i64>, usize) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("late.db").display());
    let store = Arc::new(SqliteStore::open(&url).await.unwrap());
    store.migrate().await.unwrap();
    let fixtures: Arc<dyn FixtureStore> = store.clone();
    let clock = Arc::new(FixedClock::new(
        Utc.with_ymd_and_hms(2025, 12, 31, 12, 0, 0).unwrap(),
    ));
    let engine = Engine::new(fixtures.clone()).with_clock(clock.clone());
    engine
        .save_account(&Account::new(ACCOUNT, New_York), "test")
        .await
        .unwrap();
    let monthly = BillingInterval::new(IntervalUnit::Month, 1).unwrap();
    for (index, prompt) in PROMPTS.iter().enumerate() {
        engine
            .save_plan(&SavePlan {
                account_id: ACCOUNT.into(),
                plan: Plan::ai(format!("plan_{index}"), Currency::USD, monthly, *prompt),
                actor: "test".into(),
            })
            .await
            .unwrap();
    }
    for (n, (customer, plan, start, quantity)) in data.subscriptions.iter().enumerate() {
        engine
            .save_customer(&Customer::new(ACCOUNT, customer), "test")
            .await
            .unwrap();
        engine
            .create_subscription(&CreateSubscription {
                account_id: ACCOUNT.into(),
                id: format!("sub_{n}"),
                customer_id: customer.clone(),
                plan_id: plan.clone(),
                quantity: *quantity,
                start_date: *start,
                actor: "test".into(),
                request_id: None,
            })
            .await
            .unwrap();
    }
    // Every row on time, but the late ones.
    let mut by_customer: BTreeMap<&str, Vec<Shipment>> = BTreeMap::new();
    let mut waiting: Vec<(usize, &str, &Shipment)> = Vec::new();
    for (customer, shipment) in &data.shipments {
        if with_late && data.late.contains(&shipment.id) {
            let n: usize = customer.trim_start_matches("cus_").parse().unwrap();
            waiting.push((n, customer, shipment));
        } else {
            by_customer
                .entry(customer)
                .or_default()
                .push(shipment.clone());
        }
    }
    for (customer, rows) in &by_customer {
        fixtures
            .insert_shipments(ACCOUNT, customer, rows)
            .await
            .unwrap();
    }
    for (customer, ret) in &data.returns {
        fixtures
            .insert_returns(ACCOUNT, customer, std::slice::from_ref(ret))
            .await
            .unwrap();
    }
    // Weekly runs; after each, the late rows whose period has been invoiced reach the table.
    let mut now: DateTime<Utc> = Utc.with_ymd_and_hms(2026, 1, 2, 17, 0, 0).unwrap();
    let end = Utc.with_ymd_and_hms(2026, 9, 30, 17, 0, 0).unwrap();
    let mut inserted_late = 0;
    while now <= end {
        clock.set(now);
        let report = engine
            .run_due(&RunDue {
                now: Some(now),
                progress: None,
            })
            .await
            .unwrap();
        assert_eq!(report.failed, 0, "{:?}", report.failures);
        let mut still = Vec::new();
        for (n, customer, shipment) in waiting {
            let invoiced = store
                .invoices(&InvoiceQuery {
                    account_id: Some(ACCOUNT.into()),
                    subscription_id: Some(format!("sub_{n}")),
                    limit: None,
                    ..Default::default()
                })
                .await
                .unwrap()
                .iter()
                .any(|invoice| {
                    let start = New_York
                        .from_local_datetime(
                            &invoice.invoice.period_start.and_hms_opt(0, 0, 0).unwrap(),
                        )
                        .earliest()
                        .unwrap()
                        .to_utc();
                    let end = New_York
                        .from_local_datetime(
                            &invoice.invoice.period_end.and_hms_opt(0, 0, 0).unwrap(),
                        )
                        .earliest()
                        .unwrap()
                        .to_utc();
                    start <= shipment.shipped_at && shipment.shipped_at < end
                });
            if invoiced {
                fixtures
                    .insert_shipments(ACCOUNT, customer, std::slice::from_ref(shipment))
                    .await
                    .unwrap();
                inserted_late += 1;
            } else {
                still.push((n, customer, shipment));
            }
        }
        waiting = still;
        now += chrono::Duration::days(7);
    }
    assert!(
        waiting.is_empty(),
        "{} late rows never inserted",
        waiting.len()
    );
    if with_late {
        assert_eq!(inserted_late, data.late.len());
    }

    let mut billed: BTreeMap<String, i64> = BTreeMap::new();
    let mut late_lines = 0;
    let mut explained_lines = 0;
    for invoice in store
        .invoices(&InvoiceQuery {
            account_id: Some(ACCOUNT.into()),
            subscription_id: None,
            limit: None,
            ..Default::default()
        })
        .await
        .unwrap()
    {
        late_lines += invoice.usage.late.len();
        for line in &invoice.invoice.line_items {
            explained_lines += usize::from(explained(&invoice.id, invoice.invoice.currency, line));
        }
        *billed.entry(invoice.subscription_id).or_default() += invoice.invoice.subtotal.minor();
    }
    for note in store
        .credit_notes(&CreditNoteQuery {
            account_id: ACCOUNT.into(),
            subscription_id: None,
            limit: None,
            ..Default::default()
        })
        .await
        .unwrap()
    {
        for line in &note.line_items {
            explained_lines += usize::from(explained(&note.id, note.currency, line));
        }
        *billed.entry(note.subscription_id).or_default() -= note.subtotal.minor();
    }
    // Issue 21: every late-usage line (on an invoice or a credit note) explains its amount.
    assert!(
        late_lines == 0 || explained_lines > 0,
        "no late-usage line for {late_lines} periods settled"
    );
    (billed, late_lines)
}

/// Checks that `line` of `document` has a basis whose arithmetic gives its amount (issue 21);
/// whether it settles late usage.
fn explained(document: &str, currency: Currency, line: &ai_billing::LineItem) -> bool {
    let basis = line
        .basis
        .as_ref()
        .unwrap_or_else(|| panic!("{document}: {:?} has no basis", line.description));
    assert_eq!(
        basis.recompute(currency).unwrap(),
        line.amount,
        "{document}: {:?}\n{basis:#?}",
        line.description
    );
    matches!(basis, ai_billing::basis::LineBasis::LateUsage(_))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn late_rows_within_the_lookback_bill_what_on_time_rows_bill_to_the_cent() {
    let data = generate(19);
    assert!(
        data.late.len() * 100 >= data.shipments.len(),
        "{} late of {}",
        data.late.len(),
        data.shipments.len()
    );
    let (on_time, none_late) = bill(&data, false).await;
    let (late, settled) = bill(&data, true).await;
    eprintln!(
        "{} shipments, {} late; {} periods settled late usage",
        data.shipments.len(),
        data.late.len(),
        settled
    );
    assert_eq!(none_late, 0);
    assert!(settled > 0);
    assert_eq!(on_time.len(), SUBSCRIPTIONS);
    let differ: Vec<_> = on_time
        .iter()
        .filter(|(sub, cents)| late.get(*sub) != Some(cents))
        .map(|(sub, cents)| (sub, cents, late.get(sub)))
        .collect();
    assert!(differ.is_empty(), "billed differently: {differ:?}");
    let total: i64 = on_time.values().sum();
    assert!(total > 0);
}
