//! Fuzzing on the stable toolchain, a fixed budget in `cargo test` (issue 9): every parser that
//! takes outside input runs on mutants of a corpus of valid inputs (`ai_billing_tests::mutate`),
//! and must answer `Ok` or an error with a code, never panic. `AI_BILLING_FUZZ_ITERATIONS`
//! raises the budget (the README gives the long runs). Inputs that ever crashed go into
//! `tests/fuzz-regressions/<target>/` and are replayed first on every run.

use std::path::Path;

use ai_billing::agent::{AgentPayload, PayloadExpectations};
use ai_billing::api::{self, EngineOptions, InterpretOptions};
use ai_billing::engine::{
    CancelSubscription, ChangePlan, ChangeQuantity, CreateSubscription, PauseSubscription,
    ResumeSubscription, SavePlan, WithdrawCancel,
};
use ai_billing::interpreter::{PlanContext, interpret};
use ai_billing::scenario::Scenario;
use ai_billing::store::CreditNoteQuery;
use ai_billing::{BillingCalendar, BillingInterval, Currency, IntervalUnit};
use ai_billing_tests::mutate;

const ITERATIONS: u64 = 4000;

fn files(dir: &Path, ext: &str) -> Vec<Vec<u8>> {
    let mut found = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            let path = entry.path();
            if ext.is_empty() || path.extension().is_some_and(|e| e == ext) {
                found.push(std::fs::read(&path).unwrap());
            }
        }
    }
    found
}

fn root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

/// The seeds of `target`: `seeds`, and its regression inputs.
fn corpus(target: &str, seeds: Vec<Vec<u8>>) -> Vec<Vec<u8>> {
    let mut corpus = seeds;
    corpus.extend(files(
        &root().join("tests/fuzz-regressions").join(target),
        "",
    ));
    corpus
}

fn scenarios() -> Vec<Vec<u8>> {
    let mut seeds = files(&root().join("examples/scenarios"), "json");
    seeds.extend(files(&root().join("tests/scenarios/public"), "json"));
    assert!(seeds.len() > 5);
    seeds
}

fn prompts() -> Vec<Vec<u8>> {
    scenarios()
        .iter()
        .filter_map(|s| serde_json::from_slice::<serde_json::Value>(s).ok())
        .filter_map(|s| {
            s["plan"]["ai_prompt"]
                .as_str()
                .map(|p| p.as_bytes().to_vec())
        })
        .collect()
}

fn report(name: &str, runs: u64) {
    eprintln!("fuzz {name}: {runs} inputs, 0 crashes");
}

#[test]
fn fuzz_offline_interpreter() {
    let seeds = corpus("interpret", prompts());
    let monthly = BillingInterval::new(IntervalUnit::Month, 1).unwrap();
    let runs = mutate::run(
        "interpret",
        1,
        mutate::iterations(ITERATIONS),
        &seeds,
        |input| {
            let prompt = String::from_utf8_lossy(input);
            for currency in [Currency::USD, Currency::JPY] {
                let context = PlanContext {
                    currency,
                    interval: monthly,
                };
                if let Ok(program) = interpret(&prompt, &context) {
                    // A program the interpreter gives is one the rest of the system can read,
                    // and its reading is a prompt that reads back to the same program.
                    let reading = program.describe();
                    assert_eq!(
                        interpret(&reading, &context).ok().as_ref(),
                        Some(&program),
                        "{prompt:?} reads as {reading:?}, which does not read back"
                    );
                    let json = serde_json::to_string(&program).unwrap();
                    let _: ai_billing::pricing::PricingProgram =
                        serde_json::from_str(&json).unwrap();
                }
            }
        },
    );
    report("interpret", runs);
}

/// Found by `fuzz_offline_interpreter`: a numeral too long for a `Decimal` reached an
/// `unreachable!` in the lexer, so "Bill $99999999999999999999999999999 per month" panicked (the
/// CLI died, C got `AI_BILLING_PANIC`). The lexer now refuses the numeral, naming it; the input is
/// kept in `tests/fuzz-regressions/interpret/` and replayed by every fuzz run too.
#[test]
fn regression_a_numeral_beyond_decimal_is_refused_not_a_panic() {
    let monthly = BillingInterval::new(IntervalUnit::Month, 1).unwrap();
    let context = PlanContext {
        currency: Currency::USD,
        interval: monthly,
    };
    for input in files(&root().join("tests/fuzz-regressions/interpret"), "") {
        let prompt = String::from_utf8_lossy(&input);
        if prompt.contains("99999999999999999999999999999") {
            assert!(interpret(&prompt, &context).is_err());
        }
    }
    let error = interpret("Bill $99999999999999999999999999999 per month", &context).unwrap_err();
    assert_eq!(error.code(), ai_billing::ErrorCode::PromptNotUnderstood);
}

#[test]
fn fuzz_scenario_parser() {
    let seeds = corpus("scenario", scenarios());
    let runs = mutate::run(
        "scenario",
        2,
        mutate::iterations(ITERATIONS),
        &seeds,
        |input| {
            if let Ok(text) = std::str::from_utf8(input) {
                let _ = Scenario::from_json(text).map_err(|e| e.code());
            }
        },
    );
    report("scenario", runs);
}

#[test]
fn fuzz_api_requests() {
    let seeds: Vec<Vec<u8>> = [
        r#"{"account_id":"acct","plan":{"id":"p","type":"ai","currency":"USD","interval":"month","ai_prompt":"$5 per month","metadata":{"a":[1,2]}}}"#,
        r#"{"account_id":"acct","plan":{"id":"p","type":"standard","currency":"EUR","interval":"year","interval_count":2,"amount":1200}}"#,
        r#"{"account_id":"a","id":"s","customer_id":"c","plan_id":"p","quantity":3,"start_date":"2026-01-31"}"#,
        r#"{"account_id":"a","subscription_id":"s","quantity":100000,"actor":"me"}"#,
        r#"{"account_id":"a","subscription_id":"s","quantity":3,"proration":"prorate","effective":"2026-04-11"}"#,
        r#"{"account_id":"a","subscription_id":"s","effective":"immediately","credit_unused":false}"#,
        r#"{"account_id":"a","subscription_id":"s","from":"2026-03-01","until":"2026-03-08"}"#,
        r#"{"account_id":"a","subscription_id":"s","on":"2026-03-05"}"#,
        r#"{"account_id":"a","subscription_id":"s","plan_id":"p2","effective":"period_end"}"#,
        r#"{"account_id":"a","subscription_id":"s","limit":10}"#,
        r#"{"databaseUrl":"sqlite::memory:","interpreter":"auto","mode":"agent_checked","tax":{"rate":"0.0825"},"concurrency":4,"openai":{"apiKey":"k","timeoutMs":10}}"#,
        r#"{"currency":"JPY","interval":"week","intervalCount":2,"interpreter":"offline"}"#,
    ]
    .iter()
    .map(|s| s.as_bytes().to_vec())
    .collect();
    let seeds = corpus("api", seeds);
    let runs = mutate::run("api", 3, mutate::iterations(ITERATIONS), &seeds, |input| {
        if let Ok(text) = std::str::from_utf8(input) {
            let _ = api::from_json::<SavePlan>("request", text).map(|r| r.plan.validate());
            let _ = api::from_json::<CreateSubscription>("request", text);
            let _ = api::from_json::<ChangeQuantity>("request", text);
            let _ = api::from_json::<CancelSubscription>("request", text);
            let _ = api::from_json::<WithdrawCancel>("request", text);
            let _ = api::from_json::<PauseSubscription>("request", text);
            let _ = api::from_json::<ResumeSubscription>("request", text);
            let _ = api::from_json::<ChangePlan>("request", text);
            let _ = api::from_json::<CreditNoteQuery>("request", text);
            let _ = api::from_json::<EngineOptions>("options", text)
                .map(|o| o.tax.map(|t| t.calculator().is_ok()));
            let _ = api::from_json::<InterpretOptions>("options", text);
        }
    });
    report("api", runs);
}

#[test]
fn fuzz_agent_payload_parser() {
    let seeds: Vec<Vec<u8>> = [
        r#"{"subscription_updates":{"current_period_start":"2026-01-01T00:00:00-05:00","current_period_end":"2026-02-01T00:00:00-05:00"},"invoice":{"amount":10,"currency":"USD","start_date":"2026-01-01T00:00:00-05:00","end_date":"2026-02-01T00:00:00-05:00","line_items":[{"description":"Base charge","amount":5},{"description":"Usage (Shipment) charge","amount":5}]}}"#,
        r#"{"subscription_updates":{"current_period_start":"2026-01-01T00:00:00-05:00","current_period_end":"2026-02-01T00:00:00-05:00"},"invoice":{"amount":"10.50","currency":"JPY","start_date":"2026-01-01","end_date":"2026-02-01","line_items":[]}}"#,
    ]
    .iter()
    .map(|s| s.as_bytes().to_vec())
    .collect();
    let seeds = corpus("agent_payload", seeds);
    let calendar = BillingCalendar::new(
        chrono::NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
        BillingInterval::new(IntervalUnit::Month, 1).unwrap(),
        chrono_tz::America::New_York,
    )
    .unwrap();
    let period = calendar.period(1).unwrap();
    let expected = PayloadExpectations::for_period(&calendar, &period, Currency::USD);
    let runs = mutate::run(
        "agent_payload",
        4,
        mutate::iterations(ITERATIONS),
        &seeds,
        |input| {
            if let Ok(text) = std::str::from_utf8(input)
                && let Ok(payload) = AgentPayload::parse(text)
            {
                let _ = payload.validate(&expected);
            }
        },
    );
    report("agent_payload", runs);
}
