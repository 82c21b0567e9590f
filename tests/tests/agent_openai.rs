//! The agent modes through the real OpenAI adapter, over HTTP, against [`MockOpenAi`]: good
//! answers are issued with the model's lines, 429s and 500s are retried, a hang past the timeout
//! fails the renewal and writes nothing (a later run bills it), wrong amounts are held, one
//! request in ten failing over 200 renewals still bills every period exactly once, and the
//! compiled mode sends nothing. (The same scenarios with a scripted model, without HTTP, are in
//! `core/tests/agent_mode.rs`.)

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ai_billing::FixtureStore;
use ai_billing::engine::{BillingMode, CreateSubscription, RunDue, RunReport, SavePlan};
use ai_billing::model::LanguageModel;
use ai_billing::openai::{OpenAiConfig, OpenAiModel};
use ai_billing::store::InvoiceQuery;
use ai_billing::usage::Shipment;
use ai_billing::{
    Account, AuditAction, AuditEvent, BillingInterval, Currency, Customer, Engine, FixedClock,
    IntervalUnit, InvoiceStatus, IssuedInvoice, MemoryStore, Plan,
};
use ai_billing_tests::billing::ny;
use ai_billing_tests::openai_mock::{MOCK_MODEL, MockBehaviour, MockOpenAi};
use ai_billing_tests::sqlite::memory_store;
use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::America::New_York;

const ACCOUNT: &str = "acct_1";
const SEATS: &str = "$10 per month for each seat";
const DELIVERIES: &str = "$0.50 per delivery";

fn ms(millis: u64) -> Duration {
    Duration::from_millis(millis)
}

/// The adapter's configuration for `mock` as the tests use it: short backoff (but room for a
/// one-second `Retry-After`), a 5 s timeout.
fn config(mock: &MockOpenAi) -> OpenAiConfig {
    mock.config()
        .with_backoff(ms(10), Duration::from_secs(5))
        .with_timeout(Duration::from_secs(5))
}

fn model(config: OpenAiConfig) -> Arc<dyn LanguageModel> {
    Arc::new(OpenAiModel::new(config).expect("a valid OpenAI config"))
}

/// An account with a seat plan (in advance) and a delivery plan (in arrears), both AI plans read
/// by the offline interpreter, and a customer; the clock on Dec 31, 2025.
struct Fixture {
    store: Arc<dyn FixtureStore>,
    clock: Arc<FixedClock>,
    /// The compiled-mode engine the fixture was set up with.
    setup: Engine,
}

async fn fixture(store: Arc<dyn FixtureStore>) -> Fixture {
    let clock = Arc::new(FixedClock::new(ny(2025, 12, 31, 12)));
    let setup = Engine::new(store.clone()).with_clock(clock.clone());
    setup
        .save_account(&Account::new(ACCOUNT, New_York), "admin")
        .await
        .unwrap();
    setup
        .save_customer(&Customer::new(ACCOUNT, "cus_1"), "admin")
        .await
        .unwrap();
    let monthly = BillingInterval::new(IntervalUnit::Month, 1).unwrap();
    for (id, prompt) in [("seats", SEATS), ("deliveries", DELIVERIES)] {
        setup
            .save_plan(&SavePlan {
                account_id: ACCOUNT.into(),
                plan: Plan::ai(id, Currency::USD, monthly, prompt),
                actor: "admin".into(),
            })
            .await
            .unwrap();
    }
    Fixture {
        store,
        clock,
        setup,
    }
}

impl Fixture {
    /// The engine in `mode` with `model`, renewing up to `concurrency` subscriptions at once.
    fn engine(
        &self,
        mode: BillingMode,
        model: Arc<dyn LanguageModel>,
        concurrency: usize,
    ) -> Engine {
        self.setup
            .clone()
            .with_concurrency(concurrency)
            .with_mode(mode, Some(model))
            .unwrap()
    }

    /// A subscription starting Jan 1, 2026, created before its start: nothing is billed at
    /// creation, and the seat plan's first invoice is due on Jan 1.
    async fn subscribe(&self, id: &str, plan: &str, quantity: u32) {
        self.setup
            .create_subscription(&CreateSubscription {
                account_id: ACCOUNT.into(),
                id: id.into(),
                customer_id: "cus_1".into(),
                plan_id: plan.into(),
                quantity,
                start_date: NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
                actor: "admin".into(),
                request_id: None,
            })
            .await
            .unwrap();
    }

    /// Four deliveries in January (Monday to Thursday, Jan 5-8).
    async fn deliveries(&self) {
        let rows: Vec<Shipment> = (5..=8)
            .map(|d| Shipment {
                id: format!("ship-{d}"),
                shipped_at: ny(2026, 1, d, 6),
                quantity: 1,
            })
            .collect();
        self.store
            .insert_shipments(ACCOUNT, "cus_1", &rows)
            .await
            .unwrap();
    }

    /// Runs `engine` at `now`.
    async fn run(&self, engine: &Engine, now: DateTime<Utc>) -> RunReport {
        self.clock.set(now);
        engine
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

    async fn trail(&self, subscription: &str) -> Vec<AuditEvent> {
        self.store.events_for(ACCOUNT, subscription).await.unwrap()
    }
}

fn of(events: &[AuditEvent], action: AuditAction) -> Vec<&AuditEvent> {
    events.iter().filter(|e| e.action == action).collect()
}

fn lines(invoice: &IssuedInvoice) -> Vec<(String, String)> {
    invoice
        .invoice
        .line_items
        .iter()
        .map(|l| (l.description.clone(), l.amount.to_major().to_string()))
        .collect()
}

#[tokio::test]
async fn good_answers_are_issued_with_the_models_lines() {
    for mode in [BillingMode::Agent, BillingMode::AgentChecked] {
        let mock = MockOpenAi::start_with(MockBehaviour::with_latency(ms(20))).await;
        let f = fixture(Arc::new(MemoryStore::default())).await;
        for (id, quantity) in [("sub_1", 1), ("sub_2", 2), ("sub_5", 5)] {
            f.subscribe(id, "seats", quantity).await;
        }
        f.subscribe("sub_d", "deliveries", 1).await;
        f.deliveries().await;
        let engine = f.engine(mode, model(config(&mock)), 4);

        // On Feb 1 the seat subscriptions owe January and February, the delivery one January.
        let report = f.run(&engine, ny(2026, 2, 1, 1)).await;
        assert_eq!((report.issued, report.held, report.failed), (7, 0, 0));
        let stats = mock.stats();
        assert_eq!((stats.requests, stats.completions), (7, 7), "{mode:?}");

        let invoices = f.invoices().await;
        assert_eq!(invoices.len(), 7);
        for invoice in &invoices {
            assert_eq!(invoice.status, InvoiceStatus::Open);
            let expected = match invoice.subscription_id.as_str() {
                "sub_1" => ("Seats", "10.00"),
                "sub_2" => ("Seats", "20.00"),
                "sub_5" => ("Seats", "50.00"),
                _ => ("Deliveries", "2.00"),
            };
            assert_eq!(
                lines(invoice),
                [(expected.0.to_owned(), expected.1.to_owned())],
                "{mode:?}"
            );
            assert_eq!(invoice.invoice.total.to_major().to_string(), expected.1);
        }

        // One model call per invoice in the trail, answered by the mock, with the tokens it
        // reported: the trail's totals are the server's.
        let mut prompt_tokens = 0;
        let mut completion_tokens = 0;
        for id in ["sub_1", "sub_2", "sub_5", "sub_d"] {
            let trail = f.trail(id).await;
            let calls = of(&trail, AuditAction::ModelCalled);
            let checks = of(&trail, AuditAction::CrossChecked);
            assert_eq!(calls.len(), checks.len());
            for call in calls {
                assert_eq!(call.data["answered_by"], MOCK_MODEL);
                assert_eq!(call.data["http_attempts"], 1);
                prompt_tokens += call.data["prompt_tokens"].as_u64().unwrap();
                completion_tokens += call.data["completion_tokens"].as_u64().unwrap();
            }
            assert!(checks.iter().all(|c| c.data["agrees"] == true));
        }
        assert_eq!(
            (prompt_tokens, completion_tokens),
            (stats.prompt_tokens, stats.completion_tokens)
        );
        assert!(stats.prompt_tokens > stats.completion_tokens);
    }
}

#[tokio::test]
async fn a_429_with_retry_after_is_waited_for_then_billed() {
    let mock = MockOpenAi::start_with(MockBehaviour {
        latency: ms(20),
        rate_limited_first: 1,
        retry_after: Duration::from_secs(1),
        ..MockBehaviour::default()
    })
    .await;
    let f = fixture(Arc::new(MemoryStore::default())).await;
    f.subscribe("sub_1", "seats", 3).await;
    let engine = f.engine(BillingMode::AgentChecked, model(config(&mock)), 4);

    let started = Instant::now();
    let report = f.run(&engine, ny(2026, 1, 1, 1)).await;
    assert_eq!((report.issued, report.failed), (1, 0));
    // The backoff alone would have been 10 ms: the server's Retry-After was honoured.
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    let stats = mock.stats();
    assert_eq!(
        (stats.requests, stats.rate_limited, stats.completions),
        (2, 1, 1)
    );
    let trail = f.trail("sub_1").await;
    let calls = of(&trail, AuditAction::ModelCalled);
    assert_eq!(calls.len(), 1, "one model call, two HTTP attempts");
    assert_eq!(calls[0].data["http_attempts"], 2);
    assert_eq!(
        lines(&f.invoices().await[0]),
        [("Seats".into(), "30.00".into())]
    );
}

#[tokio::test]
async fn server_errors_are_retried_then_billed() {
    let mock = MockOpenAi::start_with(MockBehaviour {
        latency: ms(20),
        server_errors_first: 2,
        ..MockBehaviour::default()
    })
    .await;
    let f = fixture(Arc::new(MemoryStore::default())).await;
    f.subscribe("sub_1", "seats", 1).await;
    let engine = f.engine(BillingMode::Agent, model(config(&mock)), 4);

    let report = f.run(&engine, ny(2026, 1, 1, 1)).await;
    assert_eq!((report.issued, report.failed), (1, 0));
    let stats = mock.stats();
    assert_eq!(
        (stats.requests, stats.server_errors, stats.completions),
        (3, 2, 1)
    );
    let trail = f.trail("sub_1").await;
    assert_eq!(
        of(&trail, AuditAction::ModelCalled)[0].data["http_attempts"],
        3
    );
    assert_eq!(f.invoices().await.len(), 1);
}

#[tokio::test]
async fn a_hang_past_the_timeout_fails_the_renewal_and_a_later_run_bills_it() {
    let mock = MockOpenAi::start_with(MockBehaviour::with_latency(Duration::from_secs(30))).await;
    let store = memory_store().await;
    let f = fixture(Arc::new(store)).await;
    f.subscribe("sub_1", "seats", 2).await;
    let engine = f.engine(
        BillingMode::AgentChecked,
        model(
            config(&mock)
                .with_timeout(Duration::from_secs(1))
                .with_max_retries(1),
        ),
        4,
    );
    let before = f.store.subscription(ACCOUNT, "sub_1").await.unwrap();

    let started = Instant::now();
    let report = f.run(&engine, ny(2026, 1, 1, 1)).await;
    assert_eq!((report.issued, report.held, report.failed), (0, 0, 1));
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "the timeout held"
    );
    assert_eq!(mock.stats().requests, 2, "one attempt and one retry");
    assert!(f.invoices().await.is_empty(), "nothing written");
    assert_eq!(
        f.store.subscription(ACCOUNT, "sub_1").await.unwrap(),
        before
    );
    let trail = f.trail("sub_1").await;
    let calls = of(&trail, AuditAction::ModelCalled);
    assert_eq!(calls.len(), 1);
    assert!(calls[0].data["answer"].is_null());
    assert!(calls[0].data["error"].is_string(), "{}", calls[0].data);
    let failed = of(&trail, AuditAction::RenewalFailed);
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].data["code"], "MODEL");
    assert!(of(&trail, AuditAction::InvoiceIssued).is_empty());

    // The server recovers: the next run bills the period it failed on.
    mock.set_behaviour(MockBehaviour::with_latency(ms(20)));
    let report = f.run(&engine, ny(2026, 1, 1, 2)).await;
    assert_eq!((report.issued, report.failed), (1, 0));
    let invoices = f.invoices().await;
    assert_eq!(invoices.len(), 1);
    assert_eq!(invoices[0].invoice.period_index, 1);
    assert_eq!(lines(&invoices[0]), [("Seats".into(), "20.00".into())]);
}

#[tokio::test]
async fn wrong_amounts_are_held_for_review() {
    let mock = MockOpenAi::start_with(MockBehaviour {
        latency: ms(20),
        wrong_amounts: true,
        ..MockBehaviour::default()
    })
    .await;
    let f = fixture(Arc::new(MemoryStore::default())).await;
    f.subscribe("sub_1", "seats", 1).await;
    f.subscribe("sub_d", "deliveries", 1).await;
    f.deliveries().await;
    let engine = f.engine(BillingMode::Agent, model(config(&mock)), 4);

    let report = f.run(&engine, ny(2026, 2, 1, 1)).await;
    assert_eq!((report.issued, report.held, report.failed), (0, 3, 0));
    for invoice in f.invoices().await {
        assert_eq!(invoice.status, InvoiceStatus::Held);
        // Held with the program's amounts, not the model's (which are 1.00 more).
        let expected = if invoice.subscription_id == "sub_d" {
            "2.00"
        } else {
            "10.00"
        };
        assert_eq!(invoice.invoice.total.to_major().to_string(), expected);
    }
    for id in ["sub_1", "sub_d"] {
        let trail = f.trail(id).await;
        let checks = of(&trail, AuditAction::CrossChecked);
        assert!(!checks.is_empty());
        for check in checks {
            assert_eq!(check.data["agrees"], false);
            assert_eq!(check.data["outcome"], "held");
            assert!(!check.data["differences"].as_array().unwrap().is_empty());
        }
        assert!(!of(&trail, AuditAction::InvoiceHeld).is_empty());
    }
}

#[tokio::test]
async fn malformed_json_is_asked_again_with_its_problems_then_billed() {
    let mock = MockOpenAi::start_with(MockBehaviour {
        latency: ms(20),
        malformed_first: true,
        ..MockBehaviour::default()
    })
    .await;
    let f = fixture(Arc::new(MemoryStore::default())).await;
    f.subscribe("sub_1", "seats", 4).await;
    let engine = f.engine(BillingMode::AgentChecked, model(config(&mock)), 4);

    let report = f.run(&engine, ny(2026, 1, 1, 1)).await;
    assert_eq!((report.issued, report.failed), (1, 0));
    let stats = mock.stats();
    assert_eq!((stats.requests, stats.malformed), (2, 1));
    let trail = f.trail("sub_1").await;
    let calls = of(&trail, AuditAction::ModelCalled);
    assert_eq!(calls.len(), 2);
    assert!(!calls[0].data["problems"].as_array().unwrap().is_empty());
    assert!(calls[1].data["problems"].as_array().unwrap().is_empty());
    assert_eq!(
        lines(&f.invoices().await[0]),
        [("Seats".into(), "40.00".into())]
    );
}

#[tokio::test]
async fn one_request_in_ten_failing_still_bills_every_period_exactly_once() {
    const SUBSCRIPTIONS: u32 = 200;
    let mock = MockOpenAi::start_with(MockBehaviour {
        latency: ms(20),
        fail_every: Some(10),
        ..MockBehaviour::default()
    })
    .await;
    let f = fixture(Arc::new(memory_store().await)).await;
    for i in 0..SUBSCRIPTIONS {
        f.subscribe(&format!("sub_{i:03}"), "seats", 1 + i % 3)
            .await;
    }
    let engine = f.engine(
        BillingMode::AgentChecked,
        model(config(&mock).with_max_concurrency(16)),
        16,
    );

    let report = f.run(&engine, ny(2026, 1, 1, 1)).await;
    assert_eq!(
        (report.issued, report.held, report.failed),
        (u64::from(SUBSCRIPTIONS), 0, 0),
        "{:?}",
        report.failures
    );
    let invoices = f.invoices().await;
    assert_eq!(invoices.len(), SUBSCRIPTIONS as usize);
    let unique: HashSet<_> = invoices
        .iter()
        .map(|i| (i.subscription_id.clone(), i.invoice.period_start))
        .collect();
    assert_eq!(unique.len(), invoices.len(), "no period billed twice");
    for invoice in &invoices {
        let quantity: u32 = invoice.quantity;
        assert_eq!(
            invoice.invoice.total.minor(),
            i64::from(quantity) * 1000,
            "{}",
            invoice.subscription_id
        );
    }

    // Every renewal got exactly one good answer; the failures were retried by the adapter.
    let stats = mock.stats();
    assert_eq!(stats.completions, u64::from(SUBSCRIPTIONS));
    assert!(
        stats.server_errors >= u64::from(SUBSCRIPTIONS) / 10,
        "{stats:?}"
    );
    assert_eq!(stats.requests, stats.completions + stats.server_errors);
    let mut attempts = 0;
    let mut retried = 0;
    for i in 0..SUBSCRIPTIONS {
        for call in of(
            &f.trail(&format!("sub_{i:03}")).await,
            AuditAction::ModelCalled,
        ) {
            let n = call.data["http_attempts"].as_u64().unwrap();
            attempts += n;
            retried += u64::from(n > 1);
        }
    }
    assert_eq!(
        attempts, stats.requests,
        "the trail accounts for every request"
    );
    assert!(retried > 0);

    // A second run finds nothing due and asks nothing.
    let report = f.run(&engine, ny(2026, 1, 1, 2)).await;
    assert_eq!((report.subscriptions, report.issued), (0, 0));
    assert_eq!(mock.stats().requests, stats.requests);
}

#[tokio::test]
async fn compiled_mode_sends_nothing_to_the_server() {
    let mock = MockOpenAi::start().await;
    let f = fixture(Arc::new(memory_store().await)).await;
    for i in 0..5 {
        f.subscribe(&format!("sub_{i}"), "seats", 1).await;
    }
    f.subscribe("sub_d", "deliveries", 1).await;
    f.deliveries().await;
    // The model is configured, but the compiled mode never calls it.
    let engine = f.engine(BillingMode::Compiled, model(config(&mock)), 4);
    let report = f.run(&engine, ny(2026, 2, 1, 1)).await;
    assert_eq!((report.issued, report.held, report.failed), (11, 0, 0));
    assert_eq!(mock.stats().requests, 0);
    let trail = f.trail("sub_0").await;
    assert!(of(&trail, AuditAction::ModelCalled).is_empty());
    assert!(of(&trail, AuditAction::CrossChecked).is_empty());
}
