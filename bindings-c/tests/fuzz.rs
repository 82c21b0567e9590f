//! The C ABI's JSON entry points fuzzed as a C caller reaches them (issue 9): mutants of valid
//! scenarios, prompts and requests (`tests/src/mutate.rs`: byte flips, splices, huge numbers,
//! bytes that are not UTF-8) go in as NUL-terminated C strings. Every call must answer with a
//! result code that is not `AI_BILLING_PANIC` (a panic caught at the boundary is a crash found),
//! write its out-parameter only on success, and leave a last error on failure. Strings the
//! library returns are freed with `ai_billing_string_free`.
//!
//! `AI_BILLING_FUZZ_ITERATIONS` sets the mutants per target (default 1,000 here).

use std::ffi::{CStr, CString, c_char};
use std::ptr;

use ai_billing_c::*;

#[path = "../../tests/src/mutate.rs"]
#[allow(dead_code)]
mod mutate;

const ITERATIONS: u64 = 1_000;

/// `bytes` as a C string: what a C caller passes ends at the first NUL.
fn c_string(bytes: &[u8]) -> CString {
    let end = bytes.iter().position(|b| *b == 0).unwrap_or(bytes.len());
    CString::new(&bytes[..end]).expect("no NUL before the end")
}

/// Checks one call's outcome: no panic, the out-parameter written exactly on success (and
/// freed), a message on failure.
fn check(target: &str, result: ai_billing_result, out: *mut c_char) {
    assert_ne!(
        result,
        ai_billing_result::AI_BILLING_PANIC,
        "{target}: a panic reached the boundary"
    );
    if result == ai_billing_result::AI_BILLING_OK {
        assert!(!out.is_null(), "{target}: OK without an answer");
        // SAFETY: the library returned it and it is freed once, here.
        unsafe { ai_billing_string_free(out) };
    } else {
        assert!(out.is_null(), "{target}: an answer written on failure");
        // SAFETY: valid until this thread's next call into the library.
        let message = unsafe { CStr::from_ptr(ai_billing_last_error()) };
        assert!(
            !message.to_bytes().is_empty(),
            "{target}: a failure with no message"
        );
    }
}

fn scenarios() -> Vec<Vec<u8>> {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/scenarios");
    std::fs::read_dir(root)
        .unwrap()
        .flatten()
        .map(|entry| std::fs::read(entry.path()).unwrap())
        .collect()
}

#[test]
fn fuzz_c_preview() {
    let runs = mutate::run(
        "c_preview",
        11,
        mutate::iterations(ITERATIONS),
        &scenarios(),
        |input| {
            let scenario = c_string(input);
            let mut out = ptr::null_mut();
            // SAFETY: a valid C string and out-pointer, as the header requires.
            let result = unsafe { ai_billing_preview(scenario.as_ptr(), &mut out) };
            check("ai_billing_preview", result, out);
        },
    );
    eprintln!("fuzz c_preview: {runs} inputs, 0 crashes");
}

#[test]
fn fuzz_c_interpret() {
    let seeds: Vec<Vec<u8>> = [
        "Bill $5 for the first month and increase by $1 per month",
        "$0.75 per weekday delivery and $2.50 per Sunday delivery",
        "$12 per month for each copy plus $0.10 per copy delivered, returns credited",
        r#"{"currency": "EUR", "interval": "week", "intervalCount": 2}"#,
    ]
    .iter()
    .map(|s| s.as_bytes().to_vec())
    .collect();
    let options = c_string(br#"{"currency": "USD", "interval": "month"}"#);
    let runs = mutate::run(
        "c_interpret",
        12,
        mutate::iterations(ITERATIONS),
        &seeds,
        |input| {
            let text = c_string(input);
            // The mutant as the prompt, and as the options beside a fixed prompt.
            for (prompt, options) in [
                (text.as_ptr(), options.as_ptr()),
                (c"Bill $5 a month".as_ptr(), text.as_ptr()),
            ] {
                let mut out = ptr::null_mut();
                // SAFETY: valid C strings and out-pointer.
                let result = unsafe { ai_billing_interpret(prompt, options, &mut out) };
                check("ai_billing_interpret", result, out);
            }
        },
    );
    eprintln!("fuzz c_interpret: {runs} inputs, 0 crashes");
}

type EngineFn = unsafe extern "C" fn(
    *const ai_billing_engine,
    *const c_char,
    *mut *mut c_char,
) -> ai_billing_result;

#[test]
fn fuzz_c_engine_requests() {
    let mut engine = ptr::null_mut();
    // SAFETY: a valid C string and out-pointer.
    let opened = unsafe {
        ai_billing_engine_open(
            c"{\"databaseUrl\": \"sqlite::memory:\"}".as_ptr(),
            &mut engine,
        )
    };
    assert_eq!(opened, ai_billing_result::AI_BILLING_OK);
    let setup: [(EngineFn, &str); 3] = [
        (
            ai_billing_save_account,
            r#"{"account": {"id": "acct", "abstracted": true, "timezone": "America/New_York"}}"#,
        ),
        (
            ai_billing_save_customer,
            r#"{"customer": {"account_id": "acct", "id": "cus"}}"#,
        ),
        (
            ai_billing_create_plan,
            r#"{"account_id": "acct", "plan": {"id": "plan", "currency": "USD", "interval": "month", "type": "ai", "ai_prompt": "$0.50 per delivery"}}"#,
        ),
    ];
    for (call, request) in setup {
        let request = c_string(request.as_bytes());
        let mut out = ptr::null_mut();
        // SAFETY: a live handle, a valid C string and out-pointer.
        let result = unsafe { call(engine, request.as_ptr(), &mut out) };
        check("setup", result, out);
        assert_eq!(result, ai_billing_result::AI_BILLING_OK);
    }
    let targets: [(EngineFn, &str); 14] = [
        (
            ai_billing_create_plan,
            r#"{"account_id": "acct", "plan": {"id": "plan_2", "nickname": "Box", "amount": 1200, "currency": "USD", "interval": "month", "interval_count": 1, "type": "standard", "metadata": {"a": 1}}}"#,
        ),
        (
            ai_billing_create_subscription,
            r#"{"account_id": "acct", "id": "sub", "customer_id": "cus", "plan_id": "plan", "quantity": 2, "start_date": "2026-01-15"}"#,
        ),
        (
            ai_billing_update_subscription,
            r#"{"account_id": "acct", "subscription_id": "sub", "quantity": 3}"#,
        ),
        (ai_billing_run_due, r#"{"now": "2026-03-01T00:00:00Z"}"#),
        (
            ai_billing_list_invoices,
            r#"{"account_id": "acct", "subscription_id": "sub", "limit": 10}"#,
        ),
        (
            ai_billing_pause_subscription,
            r#"{"account_id": "acct", "subscription_id": "sub", "from": "2099-03-01", "until": "2099-03-08"}"#,
        ),
        (
            ai_billing_resume_subscription,
            r#"{"account_id": "acct", "subscription_id": "sub", "on": "2099-03-05"}"#,
        ),
        (
            ai_billing_change_plan,
            r#"{"account_id": "acct", "subscription_id": "sub", "plan_id": "plan_2", "effective": "period_end"}"#,
        ),
        (
            ai_billing_cancel_subscription,
            r#"{"account_id": "acct", "subscription_id": "sub", "effective": "immediately", "credit_unused": true}"#,
        ),
        (
            ai_billing_withdraw_cancel,
            r#"{"account_id": "acct", "subscription_id": "sub", "actor": "fuzz"}"#,
        ),
        (
            ai_billing_list_credit_notes,
            r#"{"account_id": "acct", "subscription_id": "sub", "limit": 10}"#,
        ),
        (
            ai_billing_release_invoice,
            r#"{"account_id": "acct", "invoice_id": "in_sub_20260101", "reason": "fuzz"}"#,
        ),
        (
            ai_billing_void_invoice,
            r#"{"account_id": "acct", "invoice_id": "in_sub_20260101", "rebill": true, "reason": "fuzz"}"#,
        ),
        (
            ai_billing_credit_invoice,
            r#"{"account_id": "acct", "invoice_id": "in_sub_20260101", "lines": [{"line": 1, "amount": 5}], "reason": "fuzz"}"#,
        ),
    ];
    let seeds: Vec<Vec<u8>> = targets
        .iter()
        .map(|(_, request)| request.as_bytes().to_vec())
        .collect();
    let runs = mutate::run(
        "c_engine",
        13,
        mutate::iterations(ITERATIONS),
        &seeds,
        |input| {
            let request = c_string(input);
            // Every operation gets every mutant: a plan's JSON as a run request too.
            for (call, _) in &targets {
                let mut out = ptr::null_mut();
                // SAFETY: a live handle, a valid C string and out-pointer.
                let result = unsafe { call(engine, request.as_ptr(), &mut out) };
                check("engine request", result, out);
            }
        },
    );
    // SAFETY: the handle from ai_billing_engine_open, freed once.
    unsafe { ai_billing_engine_free(engine) };
    eprintln!(
        "fuzz c_engine: {runs} inputs x {} operations, 0 crashes",
        targets.len()
    );
}
