//! What the agent modes cost against the compiled mode, through the real OpenAI adapter and a
//! local OpenAI-protocol server ([`MockOpenAi`]) that answers after 300 ms, like a hosted model:
//! 1,000 renewals of a "$10 per month for each seat" plan on an in-memory SQLite store, in each
//! mode and at several concurrencies, then a run where the server fails one request in ten.
//!
//! A benchmark, not a test: it prints what it measured and asserts no speed. Run it with
//!
//! ```text
//! cargo run --release -p ai-billing-tests --example agent_bench
//! ```
//!
//! Token counts are the mock's estimates (ceil(characters / 4) of the messages and the answer),
//! not OpenAI's tokenizer: good for comparing modes, not for predicting a bill to the token.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ai_billing::engine::{BillingMode, CreateSubscription, RunDue, RunReport, SavePlan};
use ai_billing::model::LanguageModel;
use ai_billing::openai::OpenAiModel;
use ai_billing::store::InvoiceQuery;
use ai_billing::{
    Account, BillingInterval, Currency, Customer, Engine, FixedClock, IntervalUnit, Plan, Store,
};
use ai_billing_tests::billing::ny;
use ai_billing_tests::openai_mock::{MockBehaviour, MockOpenAi, MockStats};
use ai_billing_tests::sqlite::memory_store;
use chrono::NaiveDate;
use chrono_tz::America::New_York;

/// Subscriptions, each owing exactly one period when the run starts: 1,000 renewals.
const SUBSCRIPTIONS: u32 = 1_000;
/// The mock model's answer time.
const LATENCY: Duration = Duration::from_millis(300);
/// Renewals (and model requests) in flight at once; the adapter's limit is raised to match.
const CONCURRENCIES: [usize; 3] = [8, 32, 64];
const ACCOUNT: &str = "acct_bench";
const MODES: [BillingMode; 3] = [
    BillingMode::Compiled,
    BillingMode::Agent,
    BillingMode::AgentChecked,
];

/// One measured run.
struct Row {
    mode: BillingMode,
    concurrency: usize,
    report: RunReport,
    served: MockStats,
    wall: Duration,
}

impl Row {
    fn renewals(&self) -> u64 {
        self.report.issued + self.report.held + self.report.failed
    }

    /// `value` per 1,000 renewals, in whole units (integer arithmetic).
    fn per_thousand(&self, value: u64) -> u64 {
        (value * 1_000).checked_div(self.renewals()).unwrap_or(0)
    }
}

/// A fresh in-memory SQLite store with one account, one customer, the seat plan, and
/// [`SUBSCRIPTIONS`] subscriptions created on Dec 31, 2025 to start on Jan 1, 2026: nothing is
/// billed at creation, and on Jan 1 each owes its first period.
async fn setup() -> (Arc<dyn Store>, Engine) {
    let store: Arc<dyn Store> = Arc::new(memory_store().await);
    let clock = Arc::new(FixedClock::new(ny(2025, 12, 31, 12)));
    let engine = Engine::new(store.clone()).with_clock(clock.clone());
    engine
        .save_account(&Account::new(ACCOUNT, New_York), "bench")
        .await
        .expect("save the account");
    engine
        .save_customer(&Customer::new(ACCOUNT, "cus_1"), "bench")
        .await
        .expect("save the customer");
    let monthly = BillingInterval::new(IntervalUnit::Month, 1).expect("a monthly interval");
    engine
        .save_plan(&SavePlan {
            account_id: ACCOUNT.into(),
            plan: Plan {
                nickname: "Seats".into(),
                ..Plan::ai(
                    "seats",
                    Currency::USD,
                    monthly,
                    "$10 per month for each seat",
                )
            },
            actor: "bench".into(),
        })
        .await
        .expect("save the plan");
    for i in 0..SUBSCRIPTIONS {
        engine
            .create_subscription(&CreateSubscription {
                account_id: ACCOUNT.into(),
                id: format!("sub_{i:04}"),
                customer_id: "cus_1".into(),
                plan_id: "seats".into(),
                quantity: 1 + i % 5,
                start_date: NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
                actor: "bench".into(),
                request_id: None,
            })
            .await
            .expect("create a subscription");
    }
    clock.set(ny(2026, 1, 1, 1));
    (store, engine)
}

/// The engine in `mode` renewing `concurrency` subscriptions at once, with an OpenAI adapter on
/// `mock` allowed as many requests in flight.
fn engine_for(base: &Engine, mock: &MockOpenAi, mode: BillingMode, concurrency: usize) -> Engine {
    let model: Arc<dyn LanguageModel> = Arc::new(
        OpenAiModel::new(mock.config().with_max_concurrency(concurrency))
            .expect("a valid OpenAI config"),
    );
    base.clone()
        .with_concurrency(concurrency)
        .with_mode(mode, Some(model))
        .expect("a model is given")
}

async fn run_due(engine: &Engine) -> RunReport {
    engine
        .run_due(&RunDue {
            now: Some(ny(2026, 1, 1, 1)),
            progress: None,
        })
        .await
        .expect("the run")
}

/// Sets up a fresh store and runs `mode` at `concurrency` on it.
async fn measure(mock: &MockOpenAi, mode: BillingMode, concurrency: usize) -> Row {
    let (_store, base) = setup().await;
    let engine = engine_for(&base, mock, mode, concurrency);
    let before = mock.stats();
    let started = Instant::now();
    let report = run_due(&engine).await;
    let wall = started.elapsed();
    Row {
        mode,
        concurrency,
        report,
        served: mock.stats() - before,
        wall,
    }
}

fn print_table(rows: &[Row]) {
    println!(
        "{:<14} {:>5} {:>8} {:>11} {:>14} {:>16} {:>18} {:>9} {:>20}",
        "mode",
        "conc",
        "renewals",
        "model calls",
        "calls / 1k ren",
        "prompt tok / 1k",
        "completion tok / 1k",
        "wall (s)",
        "issued/held/failed"
    );
    for row in rows {
        println!(
            "{:<14} {:>5} {:>8} {:>11} {:>14} {:>16} {:>18} {:>9.2} {:>20}",
            row.mode.as_str(),
            row.concurrency,
            row.renewals(),
            row.served.requests,
            row.per_thousand(row.served.requests),
            row.per_thousand(row.served.prompt_tokens),
            row.per_thousand(row.served.completion_tokens),
            row.wall.as_secs_f64(),
            format!(
                "{}/{}/{}",
                row.report.issued, row.report.held, row.report.failed
            ),
        );
    }
}

#[tokio::main]
async fn main() {
    let mock = MockOpenAi::start_with(MockBehaviour::with_latency(LATENCY)).await;
    println!(
        "{SUBSCRIPTIONS} renewals per run (a \"$10 per month for each seat\" plan, in-memory SQLite), \
         mock model latency {} ms\n",
        LATENCY.as_millis()
    );

    let mut rows = Vec::new();
    for mode in MODES {
        for concurrency in CONCURRENCIES {
            rows.push(measure(&mock, mode, concurrency).await);
        }
    }
    print_table(&rows);

    // The best concurrency: the shortest total wall time of the two agent modes.
    let best = CONCURRENCIES
        .iter()
        .copied()
        .min_by_key(|c| {
            rows.iter()
                .filter(|r| r.mode.uses_model() && r.concurrency == *c)
                .map(|r| r.wall)
                .sum::<Duration>()
        })
        .expect("at least one concurrency");
    println!(
        "\nbest concurrency: {best} (each renewal waits {} ms on the model, so throughput is about \
         concurrency / latency until the store or the server is the bottleneck)",
        LATENCY.as_millis()
    );

    // One request in ten fails with 500: the adapter retries, every period is billed once.
    mock.set_behaviour(MockBehaviour {
        latency: LATENCY,
        fail_every: Some(10),
        ..MockBehaviour::default()
    });
    let (store, base) = setup().await;
    let engine = engine_for(&base, &mock, BillingMode::AgentChecked, best);
    let before = mock.stats();
    let started = Instant::now();
    let report = run_due(&engine).await;
    let wall = started.elapsed();
    let served = mock.stats() - before;
    let invoices = store
        .invoices(&InvoiceQuery {
            account_id: Some(ACCOUNT.into()),
            ..InvoiceQuery::default()
        })
        .await
        .expect("list the invoices");
    let unique: HashSet<_> = invoices
        .iter()
        .map(|i| (i.subscription_id.clone(), i.invoice.period_start))
        .collect();
    let again = run_due(&engine).await;
    println!(
        "\nagent_checked at concurrency {best}, server failing one request in ten (HTTP 500):\n  \
         issued {} / held {} / failed {} in {:.2} s; {} requests, {} answered 500 and retried\n  \
         invoices stored: {}, distinct (subscription, period start): {} -> {}\n  \
         a second run: {} due, {} issued",
        report.issued,
        report.held,
        report.failed,
        wall.as_secs_f64(),
        served.requests,
        served.server_errors,
        invoices.len(),
        unique.len(),
        if unique.len() == invoices.len() && invoices.len() == SUBSCRIPTIONS as usize {
            "no duplicate invoice, none missing"
        } else {
            "DUPLICATE OR MISSING INVOICES"
        },
        again.subscriptions,
        again.issued,
    );
}
