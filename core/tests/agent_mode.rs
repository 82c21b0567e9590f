//! The agent modes on the in-memory store with a scripted model: every answer ends in a correct
//! invoice, a held invoice, or a clear failure that writes nothing, and the audit trail shows it.
//! (The same through the real HTTP protocol is in `tests/tests/agent_openai.rs`.)

use std::sync::Arc;

use ai_billing::audit::AuditAction;
use ai_billing::engine::{BillingMode, CreateSubscription, RunDue, SavePlan};
use ai_billing::model::{ModelAnswer, ScriptedModel};
use ai_billing::store::InvoiceQuery;
use ai_billing::usage::Shipment;
use ai_billing::{
    Account, Currency, Engine, Error, FixedClock, FixtureStore, IntervalUnit, InvoiceStatus,
    IssuedInvoice, MemoryStore, Plan, Store,
};
use chrono::{NaiveDate, TimeZone};
use chrono_tz::America::New_York;

mod support;
use support::{ACCOUNT, ai_plan, ny};

/// A payload for the period [start, end) (local New York midnights) with `lines`.
fn payload(
    start: (i32, u32, u32),
    end: (i32, u32, u32),
    currency: &str,
    lines: &[(&str, &str)],
) -> String {
    let midnight = |(y, m, d): (i32, u32, u32)| {
        New_York
            .with_ymd_and_hms(y, m, d, 0, 0, 0)
            .unwrap()
            .fixed_offset()
            .to_rfc3339()
    };
    let (start, end) = (midnight(start), midnight(end));
    let total: rust_decimal::Decimal = lines
        .iter()
        .map(|(_, a)| a.parse::<rust_decimal::Decimal>().unwrap())
        .sum();
    let items: Vec<String> = lines
        .iter()
        .map(|(d, a)| format!(r#"{{"description": "{d}", "amount": {a}}}"#))
        .collect();
    format!(
        r#"{{"subscription_updates": {{"current_period_start": "{start}", "current_period_end": "{end}"}},
            "invoice": {{"amount": {total}, "currency": "{currency}", "start_date": "{start}", "end_date": "{end}",
                        "line_items": [{}]}}}}"#,
        items.join(", ")
    )
}

fn json(text: String) -> Result<ModelAnswer, String> {
    Ok(ModelAnswer::Json(text))
}

struct Fixture {
    store: Arc<dyn FixtureStore>,
    clock: Arc<FixedClock>,
    model: Arc<ScriptedModel>,
    engine: Engine,
}

/// An account with a usage plan ($0.50 per delivery, in arrears) and a flat plan ($10 per month
/// for each seat, in advance), in `mode` with a scripted model.
async fn fixture(mode: BillingMode) -> Fixture {
    let (store, clock, setup) = support::setup(true).await;
    let model = Arc::new(ScriptedModel::default());
    for (id, prompt) in [
        ("usage", "$0.50 per delivery"),
        ("flat", "$10 per month for each seat"),
    ] {
        setup
            .save_plan(&SavePlan {
                account_id: ACCOUNT.into(),
                plan: ai_plan(id, prompt),
                actor: "admin".into(),
            })
            .await
            .unwrap();
    }
    let engine = setup
        .with_mode(
            mode,
            Some(model.clone() as Arc<dyn ai_billing::model::LanguageModel>),
        )
        .unwrap();
    Fixture {
        store,
        clock,
        model,
        engine,
    }
}

impl Fixture {
    /// A subscription on the usage plan from Jan 1 with 4 deliveries in January.
    async fn usage_subscription(&self) {
        self.engine
            .create_subscription(&CreateSubscription {
                account_id: ACCOUNT.into(),
                id: "sub_u".into(),
                customer_id: "cus_1".into(),
                plan_id: "usage".into(),
                quantity: 1,
                start_date: NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
                actor: "admin".into(),
                request_id: None,
            })
            .await
            .unwrap();
        let rows: Vec<Shipment> = (5..=8)
            .map(|d| Shipment {
                id: format!("ship-{d}-secret-note"),
                shipped_at: ny(2026, 1, d, 6),
                quantity: 1,
            })
            .collect();
        self.store
            .insert_shipments(ACCOUNT, "cus_1", &rows)
            .await
            .unwrap();
    }

    async fn run(&self) -> ai_billing::engine::RunReport {
        let now = ny(2026, 2, 1, 1);
        self.clock.set(now);
        self.engine
            .run_due(&RunDue {
                now: Some(now),
                progress: None,
            })
            .await
            .unwrap()
    }

    async fn invoices(&self) -> Vec<IssuedInvoice> {
        self.store
            .invoices(&InvoiceQuery {
                account_id: Some(ACCOUNT.into()),
                ..InvoiceQuery::default()
            })
            .await
            .unwrap()
    }

    async fn actions(&self, subject: &str) -> Vec<AuditAction> {
        self.store
            .events_for(ACCOUNT, subject)
            .await
            .unwrap()
            .iter()
            .map(|e| e.action)
            .collect()
    }
}

const JAN: (i32, u32, u32) = (2026, 1, 1);
const FEB: (i32, u32, u32) = (2026, 2, 1);

#[tokio::test]
async fn a_good_answer_is_issued_as_the_model_wrote_it() {
    let f = fixture(BillingMode::Agent).await;
    f.usage_subscription().await;
    f.model.push(json(payload(
        JAN,
        FEB,
        "USD",
        &[("Deliveries (4 x 0.50)", "2.00")],
    )));
    let report = f.run().await;
    assert_eq!((report.issued, report.held, report.failed), (1, 0, 0));
    let invoices = f.invoices().await;
    assert_eq!(invoices[0].status, InvoiceStatus::Open);
    assert_eq!(invoices[0].invoice.total.to_major().to_string(), "2.00");
    assert_eq!(
        invoices[0].invoice.line_items[0].description,
        "Deliveries (4 x 0.50)"
    );
    let actions = f.actions("sub_u").await;
    for action in [
        AuditAction::ModelCalled,
        AuditAction::CrossChecked,
        AuditAction::PayloadValidated,
        AuditAction::InvoiceIssued,
    ] {
        assert!(actions.contains(&action), "{action:?} in {actions:?}");
    }
    // Only the rule and numbers reached the model: no shipment row's text.
    let requests = f.model.requests();
    assert_eq!(requests.len(), 1);
    let sent: String = requests[0]
        .messages
        .iter()
        .map(|m| m.content.as_str())
        .collect();
    assert!(sent.contains("$0.50 per delivery"));
    assert!(sent.contains("\"monday\":1"), "{sent}");
    assert!(!sent.contains("secret-note"));
    assert!(!sent.contains("cus_1"));
}

#[tokio::test]
async fn a_malformed_answer_is_retried_with_its_problems() {
    let f = fixture(BillingMode::Agent).await;
    f.usage_subscription().await;
    f.model.push(json("{ not json".into()));
    f.model
        .push(json(payload(JAN, FEB, "USD", &[("Deliveries", "2.00")])));
    let report = f.run().await;
    assert_eq!((report.issued, report.failed), (1, 0));
    let requests = f.model.requests();
    assert_eq!(requests.len(), 2);
    let retry = &requests[1].messages.last().unwrap().content;
    assert!(retry.contains("not valid"), "{retry}");
}

#[tokio::test]
async fn payloads_that_stay_invalid_fail_the_renewal_and_write_nothing() {
    for bad in [
        // Line items that do not sum to the amount.
        payload(JAN, FEB, "USD", &[("Deliveries", "2.00")])
            .replace("\"amount\": 2.00,", "\"amount\": 3.00,"),
        // The wrong currency.
        payload(JAN, FEB, "EUR", &[("Deliveries", "2.00")]),
        // Dates outside the period.
        payload((2026, 1, 2), FEB, "USD", &[("Deliveries", "2.00")]),
    ] {
        let f = fixture(BillingMode::Agent).await;
        f.usage_subscription().await;
        for _ in 0..3 {
            f.model.push(json(bad.clone()));
        }
        let before = f.store.subscription(ACCOUNT, "sub_u").await.unwrap();
        let report = f.run().await;
        assert_eq!((report.issued, report.failed), (0, 1), "{bad}");
        assert!(f.invoices().await.is_empty());
        assert_eq!(
            f.store.subscription(ACCOUNT, "sub_u").await.unwrap(),
            before
        );
        assert_eq!(f.model.requests().len(), 3, "asked once and retried twice");
        let actions = f.actions("sub_u").await;
        assert_eq!(
            actions
                .iter()
                .filter(|a| **a == AuditAction::ModelCalled)
                .count(),
            3
        );
        assert!(actions.contains(&AuditAction::RenewalFailed));
        assert!(
            report.failures[0].2.contains("invalid agent payload"),
            "{:?}",
            report.failures
        );
    }
}

#[tokio::test]
async fn a_refusal_or_a_failed_call_writes_nothing() {
    for answer in [
        Ok(ModelAnswer::Refusal("I cannot bill this".into())),
        Err("connection reset".into()),
    ] {
        let f = fixture(BillingMode::Agent).await;
        f.usage_subscription().await;
        f.model.push(answer);
        let report = f.run().await;
        assert_eq!((report.issued, report.failed), (0, 1));
        assert!(f.invoices().await.is_empty());
        let trail = f.store.events_for(ACCOUNT, "sub_u").await.unwrap();
        let failed = trail
            .iter()
            .find(|e| e.action == AuditAction::RenewalFailed)
            .unwrap();
        assert_eq!(failed.data["code"], "MODEL");
    }
}

#[tokio::test]
async fn a_payload_that_disagrees_with_the_program_is_held_with_both_answers() {
    let f = fixture(BillingMode::Agent).await;
    f.usage_subscription().await;
    // 4 deliveries at 0.50 is 2.00; the model says 2.50.
    f.model
        .push(json(payload(JAN, FEB, "USD", &[("Deliveries", "2.50")])));
    let report = f.run().await;
    assert_eq!((report.issued, report.held, report.failed), (0, 1, 0));
    let invoices = f.invoices().await;
    assert_eq!(invoices[0].status, InvoiceStatus::Held);
    // The held invoice carries the program's amounts: releasing it bills what the rule says.
    assert_eq!(invoices[0].invoice.total.to_major().to_string(), "2.00");
    // And both answers, for its reviewer: the model's, and what differed from the program's.
    let review = invoices[0]
        .review
        .as_ref()
        .expect("a held invoice keeps its review");
    assert_eq!(review.model.amount.to_string(), "2.50");
    assert_eq!(review.model.line_items[0].description, "Deliveries");
    assert!(review.differences[0].contains("2.50"), "{review:?}");
    let trail = f.store.events_for(ACCOUNT, "sub_u").await.unwrap();
    let check = trail
        .iter()
        .find(|e| e.action == AuditAction::CrossChecked)
        .unwrap();
    assert_eq!(check.data["agrees"], false);
    assert_eq!(check.data["outcome"], "held");
    assert!(
        check.data["model_payload"]["invoice"]["amount"]
            .to_string()
            .contains("2.5")
    );
    assert!(trail.iter().any(|e| e.action == AuditAction::InvoiceHeld));
    // The period is done: the next run does not ask again.
    assert_eq!(f.run().await.held, 0);
}

#[tokio::test]
async fn agent_checked_holds_lines_that_differ_even_when_the_total_agrees() {
    let split = payload(
        JAN,
        FEB,
        "USD",
        &[("Weekday deliveries", "1.50"), ("Other", "0.50")],
    );
    let f = fixture(BillingMode::Agent).await;
    f.usage_subscription().await;
    f.model.push(json(split.clone()));
    assert_eq!(f.run().await.issued, 1, "agent mode checks the total");

    let f = fixture(BillingMode::AgentChecked).await;
    f.usage_subscription().await;
    f.model.push(json(split));
    assert_eq!(f.run().await.held, 1, "agent_checked checks every line");

    let f = fixture(BillingMode::AgentChecked).await;
    f.usage_subscription().await;
    f.model
        .push(json(payload(JAN, FEB, "USD", &[("Usage", "2.00")])));
    assert_eq!(f.run().await.issued, 1);
}

#[tokio::test]
async fn the_agent_bills_the_first_invoice_at_creation_and_a_failure_creates_nothing() {
    let f = fixture(BillingMode::Agent).await;
    f.clock.set(ny(2026, 1, 1, 9));
    // 3 seats at 10.00.
    f.model
        .push(json(payload(JAN, FEB, "USD", &[("Seats", "30.00")])));
    let created = f
        .engine
        .create_subscription(&CreateSubscription {
            account_id: ACCOUNT.into(),
            id: "sub_f".into(),
            customer_id: "cus_1".into(),
            plan_id: "flat".into(),
            quantity: 3,
            start_date: NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
            actor: "admin".into(),
            request_id: None,
        })
        .await
        .unwrap();
    assert_eq!(
        created
            .invoice
            .unwrap()
            .invoice
            .total
            .to_major()
            .to_string(),
        "30.00"
    );

    f.model.push(Ok(ModelAnswer::Refusal("no".into())));
    let err = f
        .engine
        .create_subscription(&CreateSubscription {
            account_id: ACCOUNT.into(),
            id: "sub_g".into(),
            customer_id: "cus_1".into(),
            plan_id: "flat".into(),
            quantity: 1,
            start_date: NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
            actor: "admin".into(),
            request_id: None,
        })
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Model { .. }), "{err}");
    assert!(
        f.store
            .subscription(ACCOUNT, "sub_g")
            .await
            .unwrap()
            .is_none()
    );
    let actions = f.actions("sub_g").await;
    assert!(actions.contains(&AuditAction::ModelCalled), "{actions:?}");
    assert!(actions.contains(&AuditAction::RenewalFailed), "{actions:?}");
}

#[tokio::test]
async fn compiled_mode_never_calls_the_model_and_agent_modes_need_one() {
    let f = fixture(BillingMode::Compiled).await;
    f.usage_subscription().await;
    assert_eq!(f.run().await.issued, 1);
    assert!(f.model.requests().is_empty());

    let err = Engine::new(Arc::new(MemoryStore::default()))
        .with_mode(BillingMode::Agent, None)
        .unwrap_err();
    assert!(
        matches!(&err, Error::InvalidInput { field, .. } if field == "OPENAI_API_KEY"),
        "{err}"
    );
}

#[tokio::test]
async fn a_prompt_read_by_the_model_is_audited_with_its_calls() {
    use ai_billing::llm_interpreter::{InterpreterMode, interpreter_for};
    let store: Arc<dyn Store> = Arc::new(MemoryStore::default());
    let model = Arc::new(ScriptedModel::default());
    let engine = Engine::new(store.clone()).with_interpreter(
        interpreter_for(
            InterpreterMode::Auto,
            Some(model.clone() as Arc<dyn ai_billing::model::LanguageModel>),
        )
        .unwrap(),
    );
    engine
        .save_account(&Account::new(ACCOUNT, New_York), "admin")
        .await
        .unwrap();
    // The offline interpreter refuses this wording; the model reads it.
    let program = ai_billing::interpreter::interpret(
        "$9 monthly for each seat",
        &ai_billing::interpreter::PlanContext {
            currency: Currency::USD,
            interval: ai_billing::BillingInterval::new(IntervalUnit::Month, 1).unwrap(),
        },
    )
    .unwrap();
    model.push(json(serde_json::to_string(&program).unwrap()));
    let plan = |prompt: &str| Plan {
        nickname: "Seats".into(),
        ..ai_plan("seats", prompt)
    };
    let saved = engine
        .save_plan(&SavePlan {
            account_id: ACCOUNT.into(),
            plan: plan("Seats cost the catalogue price of our Team tier every month."),
            actor: "admin".into(),
        })
        .await
        .unwrap();
    assert!(saved.interpreter.unwrap().starts_with("auto("));
    let trail = store.events_for(ACCOUNT, "seats").await.unwrap();
    let called: Vec<_> = trail
        .iter()
        .filter(|e| e.action == AuditAction::ModelCalled)
        .collect();
    assert_eq!(called.len(), 1, "{trail:?}");
    assert_eq!(called[0].data["purpose"], "interpret_prompt");
    assert!(trail.iter().any(|e| e.action == AuditAction::PlanCreated));
    assert_eq!(
        called[0].correlation_id,
        trail
            .iter()
            .find(|e| e.action == AuditAction::PlanCreated)
            .unwrap()
            .correlation_id
    );

    // A refusal is audited with the model's answer too.
    model.push(Ok(ModelAnswer::Refusal("not a price".into())));
    let err = engine
        .save_plan(&SavePlan {
            account_id: ACCOUNT.into(),
            plan: plan("Whatever the customer feels like paying."),
            actor: "admin".into(),
        })
        .await
        .unwrap_err();
    assert!(matches!(err, Error::PromptNotUnderstood { .. }), "{err}");
    let trail = store.events_for(ACCOUNT, "seats").await.unwrap();
    assert_eq!(
        trail
            .iter()
            .filter(|e| e.action == AuditAction::ModelCalled)
            .count(),
        2
    );
    assert!(trail.iter().any(|e| e.action == AuditAction::PromptRefused));
}
