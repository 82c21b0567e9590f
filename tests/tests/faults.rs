//! Fault injection (issue 9): a billing run over a [`FaultyStore`] that fails each store call of
//! a renewal in turn, before it reaches the database and after it succeeded (a lost ack), and
//! over a model that fails in every way the agent can meet. After each fault the store must hold
//! no partial invoice, no period advanced without its invoice, exactly one `invoice_issued`
//! event per invoice and no event twice; then a clean run must finish the work and leave exactly
//! what a run without faults leaves (the reference). The same for a subscription change (issue
//! 18): a cancellation whose store calls fail in turn leaves its end and its credit note written
//! together or not at all, and made again it ends as the one made without a fault.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use ai_billing::FixtureStore;
use ai_billing::changes::Effective;
use ai_billing::engine::{BillingMode, CancelSubscription, CreateSubscription, SavePlan};
use ai_billing::model::{LanguageModel, ModelAnswer, ScriptedModel};
use ai_billing::store::{CreditNoteQuery, InvoiceQuery};
use ai_billing::usage::Shipment;
use ai_billing::{
    Account, AuditAction, BillingInterval, Currency, Customer, Engine, FixedClock, IntervalUnit,
    MemoryStore, Plan,
};
use ai_billing_tests::billing::{ny, run_at};
use ai_billing_tests::faulty::{Fault, FaultyStore};
use ai_billing_tests::sqlite::memory_store;
use chrono::NaiveDate;
use chrono_tz::America::New_York;

/// What the run must leave, in a form two stores can be compared by: per subscription, its
/// next period and invoices (period, status, lines, total), and the count of each audit action
/// about billing.
type Outcome = BTreeMap<
    String,
    (
        u32,
        Vec<(u32, String, Vec<(String, i64)>, i64)>,
        BTreeMap<String, usize>,
    ),
>;

const SUBSCRIPTIONS: &[(&str, &str, u32)] = &[
    ("sub_seats", "seats", 3),
    ("sub_deliveries", "deliveries", 1),
    ("sub_hybrid", "hybrid", 2),
];

/// A store with one account, three AI plans (in advance, in arrears, hybrid), a subscription on
/// each from Jan 1, 2026, and deliveries through March. The clock is at Dec 31, 2025.
async fn set_up(store: Arc<dyn FixtureStore>) -> Arc<FixedClock> {
    let clock = Arc::new(FixedClock::new(ny(2025, 12, 31, 12)));
    let engine = Engine::new(store.clone()).with_clock(clock.clone());
    engine
        .save_account(&Account::new("acct", New_York), "admin")
        .await
        .unwrap();
    engine
        .save_customer(&Customer::new("acct", "cus"), "admin")
        .await
        .unwrap();
    let monthly = BillingInterval::new(IntervalUnit::Month, 1).unwrap();
    for (id, prompt) in [
        ("seats", "$10 per month for each seat"),
        ("deliveries", "$0.50 per delivery"),
        ("hybrid", "A $15 monthly base fee, plus $0.25 per delivery"),
    ] {
        engine
            .save_plan(&SavePlan {
                account_id: "acct".into(),
                plan: Plan::ai(id, Currency::USD, monthly, prompt),
                actor: "admin".into(),
            })
            .await
            .unwrap();
    }
    for (id, plan, quantity) in SUBSCRIPTIONS {
        engine
            .create_subscription(&CreateSubscription {
                account_id: "acct".into(),
                id: (*id).into(),
                customer_id: "cus".into(),
                plan_id: (*plan).into(),
                quantity: *quantity,
                start_date: NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
                actor: "admin".into(),
                request_id: None,
            })
            .await
            .unwrap();
    }
    let rows: Vec<Shipment> = (0..80)
        .map(|i| Shipment {
            id: format!("ship_{i}"),
            shipped_at: ny(2026, 1, 1, 9) + chrono::Duration::hours(i * 25),
            quantity: 1,
        })
        .collect();
    store.insert_shipments("acct", "cus", &rows).await.unwrap();
    clock
}

const RUN_AT: (i32, u32, u32) = (2026, 4, 2);

async fn run(
    engine: &Engine,
    clock: &FixedClock,
) -> ai_billing::Result<ai_billing::engine::RunReport> {
    run_at(engine, clock, ny(RUN_AT.0, RUN_AT.1, RUN_AT.2, 12)).await
}

/// Checks the invariants that hold after any fault, and returns what the store holds.
async fn check(store: &Arc<dyn FixtureStore>, what: &str) -> Outcome {
    let events = store.pending_events(100_000).await.unwrap();
    let mut ids = HashSet::new();
    for event in &events {
        assert!(
            ids.insert(event.id.clone()),
            "{what}: event {} twice",
            event.id
        );
    }
    let mut outcome = Outcome::new();
    for (id, _, _) in SUBSCRIPTIONS {
        let subscription = store.subscription("acct", id).await.unwrap().unwrap();
        let invoices = store
            .invoices(&InvoiceQuery {
                account_id: Some("acct".into()),
                subscription_id: Some((*id).into()),
                ..InvoiceQuery::default()
            })
            .await
            .unwrap();
        // Periods contiguous from the first billed, and the next period is the one after the
        // last invoice: no period advanced without its invoice, none billed twice.
        let periods: Vec<u32> = invoices.iter().map(|i| i.invoice.period_index).collect();
        let first = periods
            .first()
            .copied()
            .unwrap_or(subscription.next_invoice_period);
        let expected: Vec<u32> = (first..first + periods.len() as u32).collect();
        assert_eq!(periods, expected, "{what}: {id}'s periods");
        assert_eq!(
            subscription.next_invoice_period,
            first + periods.len() as u32,
            "{what}: {id}'s next period without its invoice"
        );
        let trail = store.events_for("acct", id).await.unwrap();
        let mut actions = BTreeMap::new();
        for event in &trail {
            if matches!(
                event.action,
                AuditAction::InvoiceIssued | AuditAction::InvoiceHeld | AuditAction::TaxComputed
            ) {
                *actions.entry(format!("{:?}", event.action)).or_default() += 1;
            }
        }
        let mut billed = Vec::new();
        for invoice in &invoices {
            // No partial invoice: its lines, subtotal, tax and total agree.
            let lines: i64 = invoice
                .invoice
                .line_items
                .iter()
                .map(|l| l.amount.minor())
                .sum();
            assert_eq!(
                lines,
                invoice.invoice.subtotal.minor(),
                "{what}: {}",
                invoice.id
            );
            assert_eq!(
                invoice.invoice.subtotal.minor() + invoice.invoice.tax.minor(),
                invoice.invoice.total.minor(),
                "{what}: {}",
                invoice.id
            );
            // Exactly one issued (or held) event names it.
            let named = trail
                .iter()
                .filter(|e| {
                    matches!(
                        e.action,
                        AuditAction::InvoiceIssued | AuditAction::InvoiceHeld
                    ) && (e.subject_id == invoice.id || e.data.to_string().contains(&invoice.id))
                })
                .count();
            assert_eq!(named, 1, "{what}: events of {}", invoice.id);
            billed.push((
                invoice.invoice.period_index,
                format!("{:?}", invoice.status),
                invoice
                    .invoice
                    .line_items
                    .iter()
                    .map(|l| (l.description.clone(), l.amount.minor()))
                    .collect(),
                invoice.invoice.total.minor(),
            ));
        }
        outcome.insert(
            (*id).into(),
            (subscription.next_invoice_period, billed, actions),
        );
    }
    outcome
}

async fn reference() -> Outcome {
    let store: Arc<dyn FixtureStore> = Arc::new(memory_store().await);
    let clock = set_up(store.clone()).await;
    let engine = Engine::new(store.clone()).with_clock(clock.clone());
    let report = run(&engine, &clock).await.unwrap();
    assert_eq!(report.failed, 0);
    let outcome = check(&store, "reference").await;
    assert!(
        outcome.values().all(|(_, invoices, _)| invoices.len() >= 3),
        "{outcome:?}"
    );
    outcome
}

/// A fresh store: SQLite (its own page-at-a-time `claim_due`/`commit_claimed`/`usage_many`) or
/// the in-memory store (the trait's defaults: one `commit` and one `usage` per renewal).
async fn fresh(kind: &str) -> Arc<dyn FixtureStore> {
    match kind {
        "sqlite" => Arc::new(memory_store().await),
        _ => Arc::new(MemoryStore::default()),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn every_store_call_of_a_renewal_failing_before_or_after_loses_nothing() {
    let reference = reference().await;
    let mut tried = 0;
    for kind in ["sqlite", "memory"] {
        tried += store_faults(kind, &reference).await;
    }
    eprintln!("store faults injected and survived: {tried}");
    assert!(tried >= 30, "{tried}");
}

async fn store_faults(kind: &str, reference: &Outcome) -> u64 {
    // The calls a clean run makes, per method.
    let inner = fresh(kind).await;
    let clock = set_up(inner.clone()).await;
    let faulty = FaultyStore::new(inner);
    let engine = Engine::new(Arc::new(faulty.clone())).with_clock(clock.clone());
    faulty.set_fault(None);
    run(&engine, &clock).await.unwrap();
    let calls = faulty.calls();
    assert!(calls.values().sum::<u64>() > 5, "{calls:?}");

    let mut tried = 0;
    for (method, count) in &calls {
        for nth in 1..=*count {
            for after in [false, true] {
                let inner = fresh(kind).await;
                let clock = set_up(inner.clone()).await;
                let faulty = FaultyStore::new(inner.clone());
                let engine = Engine::new(Arc::new(faulty.clone())).with_clock(clock.clone());
                faulty.set_fault(Some(Fault { method, nth, after }));
                let what = format!(
                    "{method} #{nth} failing {}",
                    if after { "after" } else { "before" }
                );
                let _ = run(&engine, &clock).await;
                assert_eq!(faulty.injected(), 1, "{what}");
                check(&inner, &what).await;
                // The next run, with no fault, finishes the work.
                faulty.set_fault(None);
                let report = run(&engine, &clock).await.unwrap();
                assert_eq!(report.failed, 0, "{what}: {report:?}");
                assert_eq!(&check(&inner, &what).await, reference, "{what}");
                tried += 1;
            }
        }
    }
    eprintln!("{kind}: {tried} store faults injected and survived ({calls:?})");
    tried
}

#[tokio::test(flavor = "multi_thread")]
async fn every_way_a_model_fails_leaves_nothing_partial_and_the_next_run_finishes() {
    let reference = reference().await;
    let payload_of_nothing = r#"{"subscription_updates": {}, "invoice": {}}"#;
    let faults: Vec<(&str, Vec<Result<ModelAnswer, String>>)> = vec![
        (
            "timeout",
            vec![Err("the model did not answer within 30 s".into())],
        ),
        (
            "429 after retries",
            vec![Err("HTTP 429 Too Many Requests".into())],
        ),
        (
            "500 after retries",
            vec![Err("HTTP 500 Internal Server Error".into())],
        ),
        (
            "malformed JSON",
            vec![Ok(ModelAnswer::Json("{\"invoice\": [".into())); 3],
        ),
        (
            "schema-invalid",
            vec![Ok(ModelAnswer::Json(payload_of_nothing.into())); 3],
        ),
        (
            "refusal",
            vec![Ok(ModelAnswer::Refusal(
                "I cannot bill this customer.".into(),
            ))],
        ),
        (
            "not JSON at all",
            vec![Ok(ModelAnswer::Json("Sure! Here is the invoice.".into())); 3],
        ),
    ];
    let mut tried = 0;
    for (what, answers) in faults {
        let store: Arc<dyn FixtureStore> = Arc::new(memory_store().await);
        let clock = set_up(store.clone()).await;
        // Each answer repeated so every renewal of the run meets the fault.
        let script: Vec<_> = std::iter::repeat_n(answers, 64).flatten().collect();
        let model: Arc<dyn LanguageModel> = Arc::new(ScriptedModel::new(script));
        let agent = Engine::new(store.clone())
            .with_clock(clock.clone())
            .with_mode(BillingMode::Agent, Some(model))
            .unwrap();
        let report = run(&agent, &clock).await.unwrap();
        assert!(report.failed > 0, "{what}: {report:?}");
        assert_eq!(report.issued, 0, "{what}: {report:?}");
        let failed = check(&store, what).await;
        assert!(
            failed.values().all(|(_, invoices, _)| invoices.is_empty()),
            "{what}: {failed:?}"
        );
        // The next run (compiled mode: the program bills) finishes the work.
        let engine = Engine::new(store.clone()).with_clock(clock.clone());
        let report = run(&engine, &clock).await.unwrap();
        assert_eq!(report.failed, 0, "{what}: {report:?}");
        assert_eq!(check(&store, what).await, reference, "{what}");
        tried += 1;
    }
    eprintln!("model faults injected and survived: {tried}");
}

/// What a cancellation of `sub_seats` leaves: its end, status and next period, its invoices
/// (period, total) and credit notes (number, invoice, subtotal, tax).
type Canceled = (
    Option<NaiveDate>,
    String,
    u32,
    Vec<(u32, i64)>,
    Vec<(u32, String, i64, i64)>,
);

/// Cancels `sub_seats` (3 seats at $10, billed in advance from Jan 1) immediately on Feb 10: the
/// cancellation first issues the Feb 1 invoice, then credits Feb 11-28.
async fn cancel_seats(
    engine: &Engine,
    clock: &FixedClock,
) -> ai_billing::Result<ai_billing::engine::ChangedSubscription> {
    clock.set(ny(2026, 2, 10, 12));
    engine
        .cancel_subscription(&CancelSubscription {
            account_id: "acct".into(),
            subscription_id: "sub_seats".into(),
            effective: Effective::Immediately,
            credit_unused: true,
            actor: "admin".into(),
            request_id: None,
        })
        .await
}

/// Checks that a cancellation is whole or absent (its end with its credit note and one
/// `credit_note_issued` event each), and returns what the store holds of `sub_seats`.
async fn canceled(store: &Arc<dyn FixtureStore>, what: &str) -> Canceled {
    let subscription = store
        .subscription("acct", "sub_seats")
        .await
        .unwrap()
        .unwrap();
    let notes = store
        .credit_notes(&CreditNoteQuery {
            account_id: "acct".into(),
            subscription_id: Some("sub_seats".into()),
            limit: None,
            ..Default::default()
        })
        .await
        .unwrap();
    let end = subscription.changes.end.map(|end| end.on);
    assert_eq!(
        end.is_some(),
        !notes.is_empty(),
        "{what}: the end without its credit note, or the reverse: {end:?}, {notes:?}"
    );
    assert!(notes.len() <= 1, "{what}: {notes:?}");
    let events = store.pending_events(100_000).await.unwrap();
    for note in &notes {
        let issued = events
            .iter()
            .filter(|e| e.action == AuditAction::CreditNoteIssued && e.subject_id == note.id)
            .count();
        assert_eq!(issued, 1, "{what}: events of {}", note.id);
    }
    let invoices = store
        .invoices(&InvoiceQuery {
            account_id: Some("acct".into()),
            subscription_id: Some("sub_seats".into()),
            ..InvoiceQuery::default()
        })
        .await
        .unwrap();
    (
        end,
        subscription.status.as_str().to_owned(),
        subscription.next_invoice_period,
        invoices
            .iter()
            .map(|i| (i.invoice.period_index, i.invoice.total.minor()))
            .collect(),
        notes
            .iter()
            .map(|n| {
                (
                    n.number,
                    n.invoice_id.clone(),
                    n.subtotal.minor(),
                    n.tax.minor(),
                )
            })
            .collect(),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn every_store_call_of_a_cancellation_failing_leaves_it_whole_or_absent() {
    // The reference: the cancellation made with no fault, then a run to April.
    let store = fresh("sqlite").await;
    let clock = set_up(store.clone()).await;
    let engine = Engine::new(store.clone()).with_clock(clock.clone());
    let made = cancel_seats(&engine, &clock).await.unwrap();
    assert!(made.credit_note.is_some());
    run(&engine, &clock).await.unwrap();
    let reference = canceled(&store, "reference").await;
    // Feb 1 billed 30.00; Feb 11-28 (18 of 28 days) credited: 30.00 - round(30 x 10/28) = 19.29.
    assert_eq!(reference.1, "canceled");
    assert_eq!(reference.3, [(1, 3000), (2, 3000)]);
    assert_eq!(reference.4[0].2, 1929);

    let mut tried = 0;
    for kind in ["sqlite", "memory"] {
        let inner = fresh(kind).await;
        let clock = set_up(inner.clone()).await;
        let faulty = FaultyStore::new(inner);
        let engine = Engine::new(Arc::new(faulty.clone())).with_clock(clock.clone());
        faulty.set_fault(None);
        cancel_seats(&engine, &clock).await.unwrap();
        let calls = faulty.calls();
        assert!(calls.contains_key("commit"), "{calls:?}");
        for (method, count) in &calls {
            for nth in 1..=*count {
                for after in [false, true] {
                    let inner = fresh(kind).await;
                    let clock = set_up(inner.clone()).await;
                    let faulty = FaultyStore::new(inner.clone());
                    let engine = Engine::new(Arc::new(faulty.clone())).with_clock(clock.clone());
                    faulty.set_fault(Some(Fault { method, nth, after }));
                    let what = format!(
                        "{kind}: cancel with {method} #{nth} failing {}",
                        if after { "after" } else { "before" }
                    );
                    let _ = cancel_seats(&engine, &clock).await;
                    assert_eq!(faulty.injected(), 1, "{what}");
                    canceled(&inner, &what).await;
                    // Made again with no fault (as a caller retries), then billed: the same.
                    faulty.set_fault(None);
                    cancel_seats(&engine, &clock)
                        .await
                        .unwrap_or_else(|e| panic!("{what}: the retry failed: {e}"));
                    let report = run(&engine, &clock).await.unwrap();
                    assert_eq!(report.failed, 0, "{what}: {report:?}");
                    assert_eq!(canceled(&inner, &what).await, reference, "{what}");
                    tried += 1;
                }
            }
        }
    }
    eprintln!("cancellation faults injected and survived: {tried}");
    assert!(tried >= 10, "{tried}");
}
