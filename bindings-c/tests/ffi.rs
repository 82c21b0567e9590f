//! The C ABI called as C calls it: result codes, out-parameters left alone on error, the last
//! error per thread, ownership of returned strings, and the engine handle's life.

use std::ffi::{CStr, CString, c_char};
use std::ptr;

use ai_billing_c::*;
use ai_billing_result::*;
use serde_json::Value;

mod support;

use support::{last_error, last_error_code};

/// What a pointer out-parameter holds before a call: any call that fails must leave it so.
fn sentinel<T>() -> *mut T {
    ptr::dangling_mut::<T>()
}

/// Takes a string the library returned, parses it, and frees it.
fn take_json(out: *mut c_char) -> Value {
    assert!(!out.is_null());
    // SAFETY: `out` is a NUL-terminated string the library returned, not freed yet.
    let text = unsafe { CStr::from_ptr(out) }.to_str().unwrap().to_owned();
    // SAFETY: returned by the library, freed once.
    unsafe { ai_billing_string_free(out) };
    serde_json::from_str(&text).unwrap()
}

fn newspaper() -> CString {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../examples/scenarios/newspaper.json"
    );
    CString::new(std::fs::read(path).unwrap()).unwrap()
}

#[test]
fn preview_bills_the_newspaper_scenario() {
    let scenario = newspaper();
    let mut out: *mut c_char = ptr::null_mut();
    // SAFETY: a NUL-terminated scenario and a writable out-parameter.
    let result = unsafe { ai_billing_preview(scenario.as_ptr(), &mut out) };
    assert_eq!(result, AI_BILLING_OK, "{}", last_error());
    assert_eq!(last_error(), "");
    assert_eq!(last_error_code(), "");
    let report = take_json(out);
    let totals: Vec<&str> = report["invoices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|invoice| invoice["total"].as_str().unwrap())
        .collect();
    assert_eq!(totals.len(), 3);
    let cents: i64 = totals
        .iter()
        .map(|t| t.replace('.', "").parse::<i64>().unwrap())
        .sum();
    assert_eq!(cents, 8985, "{totals:?}");
}

#[test]
fn preview_refuses_null_arguments_and_leaves_the_out_parameter_alone() {
    let scenario = newspaper();
    let mut out = sentinel::<c_char>();
    // SAFETY: NULL is allowed and must be refused; `out` is writable.
    let result = unsafe { ai_billing_preview(ptr::null(), &mut out) };
    assert_eq!(result, AI_BILLING_NULL_ARGUMENT);
    assert_eq!(out, sentinel());
    assert_eq!(last_error(), "scenario_json is NULL");
    assert_eq!(last_error_code(), "NULL_ARGUMENT");

    // SAFETY: a NULL out-parameter must be refused before any work.
    let result = unsafe { ai_billing_preview(scenario.as_ptr(), ptr::null_mut()) };
    assert_eq!(result, AI_BILLING_NULL_ARGUMENT);
    assert_eq!(last_error(), "out_json is NULL");
}

#[test]
fn input_that_is_not_utf8_names_the_byte_offset() {
    let bytes = CString::new(b"{\"a\xff\xfe\"}".to_vec()).unwrap();
    let mut out = sentinel::<c_char>();
    // SAFETY: a NUL-terminated (if not UTF-8) string and a writable out-parameter.
    let result = unsafe { ai_billing_preview(bytes.as_ptr(), &mut out) };
    assert_eq!(result, AI_BILLING_INVALID_INPUT);
    assert_eq!(out, sentinel());
    let message = last_error();
    assert!(message.contains("scenario_json"), "{message}");
    assert!(message.contains("not UTF-8"), "{message}");
    assert!(message.contains("offset 3"), "{message}");
    assert_eq!(last_error_code(), "INVALID_INPUT");
}

#[test]
fn malformed_json_is_invalid_input_and_a_success_clears_the_error() {
    let mut out = sentinel::<c_char>();
    // SAFETY: NUL-terminated literals and a writable out-parameter.
    let result = unsafe { ai_billing_preview(c"{\"account\": ".as_ptr(), &mut out) };
    assert_eq!(result, AI_BILLING_INVALID_INPUT);
    assert_eq!(out, sentinel());
    assert!(!last_error().is_empty());

    // SAFETY: as above.
    let result = unsafe { ai_billing_interpret(c"$9 monthly".as_ptr(), ptr::null(), &mut out) };
    assert_eq!(result, AI_BILLING_OK);
    assert_eq!(last_error(), "");
    take_json(out);
}

#[test]
fn interpret_answers_understood_or_refused() {
    let mut out: *mut c_char = ptr::null_mut();
    let prompt = c"Bill $5 for the first month and increase by $1 per month";
    // SAFETY: NUL-terminated strings and a writable out-parameter.
    let result = unsafe {
        ai_billing_interpret(
            prompt.as_ptr(),
            c"{\"currency\":\"USD\",\"intervalCount\":1}".as_ptr(),
            &mut out,
        )
    };
    assert_eq!(result, AI_BILLING_OK, "{}", last_error());
    let answer = take_json(out);
    assert_eq!(answer["outcome"], "understood");
    assert_eq!(answer["invoice_timing"], "at_start");

    // A refusal is an answer, not an error.
    // SAFETY: as above.
    let result = unsafe {
        ai_billing_interpret(
            c"Charge whatever seems fair".as_ptr(),
            ptr::null(),
            &mut out,
        )
    };
    assert_eq!(result, AI_BILLING_OK);
    let answer = take_json(out);
    assert_eq!(answer["outcome"], "refused");
    assert!(answer["reason"].as_str().is_some_and(|r| !r.is_empty()));

    let mut out = sentinel::<c_char>();
    // SAFETY: as above.
    let result = unsafe {
        ai_billing_interpret(
            prompt.as_ptr(),
            c"{\"currency\":\"USX\"}".as_ptr(),
            &mut out,
        )
    };
    assert_eq!(result, AI_BILLING_INVALID_INPUT);
    assert_eq!(out, sentinel());
    assert!(
        last_error().contains("options.currency"),
        "{}",
        last_error()
    );

    // SAFETY: NULL prompt must be refused.
    let result = unsafe { ai_billing_interpret(ptr::null(), ptr::null(), &mut out) };
    assert_eq!(result, AI_BILLING_NULL_ARGUMENT);
    assert_eq!(last_error(), "prompt is NULL");
}

#[test]
fn a_model_error_never_shows_the_api_key() {
    let options = c"{\"interpreter\":\"openai\",\"openai\":{\"apiKey\":\"sk-test-SECRET-1234\",\"baseUrl\":\"http://127.0.0.1:9/v1\",\"model\":\"m\",\"maxRetries\":0,\"timeoutMs\":2000}}";
    let mut out = sentinel::<c_char>();
    // SAFETY: NUL-terminated strings and a writable out-parameter.
    let result =
        unsafe { ai_billing_interpret(c"$9 monthly".as_ptr(), options.as_ptr(), &mut out) };
    assert_eq!(result, AI_BILLING_MODEL, "{}", last_error());
    assert_eq!(out, sentinel());
    assert!(!last_error().contains("SECRET"), "{}", last_error());
}

#[test]
fn the_last_error_belongs_to_the_thread() {
    let mut out = sentinel::<c_char>();
    // SAFETY: NULL is refused; `out` is writable.
    let result = unsafe { ai_billing_preview(ptr::null(), &mut out) };
    assert_eq!(result, AI_BILLING_NULL_ARGUMENT);
    let other = std::thread::spawn(|| (last_error(), last_error_code()))
        .join()
        .unwrap();
    assert_eq!(other, (String::new(), String::new()));
    assert_eq!(last_error(), "scenario_json is NULL");
}

#[test]
fn freeing_null_is_a_no_op_and_does_not_touch_the_last_error() {
    let mut out = sentinel::<c_char>();
    // SAFETY: NULL is refused; `out` is writable.
    unsafe { ai_billing_preview(ptr::null(), &mut out) };
    // SAFETY: NULL is documented as a no-op for both.
    unsafe {
        ai_billing_string_free(ptr::null_mut());
        ai_billing_engine_free(ptr::null_mut());
    }
    assert_eq!(last_error_code(), "NULL_ARGUMENT");
    // SAFETY: a static string.
    let version = unsafe { CStr::from_ptr(ai_billing_version()) };
    assert_eq!(version.to_str().unwrap(), env!("CARGO_PKG_VERSION"));
}

/// An engine handle, freed when the test ends (even a failing one).
struct Engine(*mut ai_billing_engine);

impl Engine {
    fn open(options: &str) -> Self {
        let options = CString::new(options).unwrap();
        let mut engine = ptr::null_mut();
        // SAFETY: a NUL-terminated string and a writable out-parameter.
        let result = unsafe { ai_billing_engine_open(options.as_ptr(), &mut engine) };
        assert_eq!(result, AI_BILLING_OK, "{}", last_error());
        Engine(engine)
    }

    /// Calls `operation` with `request`: its result, and its answer when it succeeded.
    fn call(
        &self,
        operation: unsafe extern "C" fn(
            *const ai_billing_engine,
            *const c_char,
            *mut *mut c_char,
        ) -> ai_billing_result,
        request: &str,
    ) -> (ai_billing_result, Option<Value>) {
        let request = CString::new(request).unwrap();
        let mut out = sentinel::<c_char>();
        // SAFETY: a live handle, a NUL-terminated request and a writable out-parameter.
        let result = unsafe { operation(self.0, request.as_ptr(), &mut out) };
        if result == AI_BILLING_OK {
            (result, Some(take_json(out)))
        } else {
            assert_eq!(out, sentinel(), "an error wrote the out-parameter");
            (result, None)
        }
    }

    fn ok(
        &self,
        operation: unsafe extern "C" fn(
            *const ai_billing_engine,
            *const c_char,
            *mut *mut c_char,
        ) -> ai_billing_result,
        request: &str,
    ) -> Value {
        let (result, answer) = self.call(operation, request);
        assert_eq!(result, AI_BILLING_OK, "{request}: {}", last_error());
        answer.unwrap()
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        // SAFETY: the handle from `open`, freed once.
        unsafe { ai_billing_engine_free(self.0) };
    }
}

#[test]
fn an_engine_bills_a_subscription_and_refuses_calls_once_closed() {
    let engine = Engine::open(r#"{"databaseUrl":"sqlite::memory:"}"#);
    engine.ok(
        ai_billing_save_account,
        r#"{"account":{"id":"acct_1","abstracted":true,"timezone":"UTC"}}"#,
    );
    engine.ok(
        ai_billing_save_account,
        r#"{"account":{"id":"acct_std","abstracted":false,"timezone":"UTC"}}"#,
    );
    engine.ok(
        ai_billing_save_customer,
        r#"{"customer":{"account_id":"acct_1","id":"cus_1"}}"#,
    );
    let plan = r#"{"id":"p1","type":"ai","currency":"USD","interval":"month","ai_prompt":"Bill $5 for the first month and increase by $1 per month"}"#;
    engine.ok(
        ai_billing_create_plan,
        &format!(r#"{{"account_id":"acct_1","plan":{plan},"actor":"admin"}}"#),
    );

    // The core's error codes reach C as result codes.
    let refused = r#"{"account_id":"acct_1","plan":{"id":"p2","type":"ai","currency":"USD","interval":"month","ai_prompt":"Charge whatever seems fair"}}"#;
    assert_eq!(
        engine.call(ai_billing_create_plan, refused).0,
        AI_BILLING_PROMPT_NOT_UNDERSTOOD
    );
    assert_eq!(last_error_code(), "PROMPT_NOT_UNDERSTOOD");
    assert!(last_error().contains("not understood"), "{}", last_error());
    assert_eq!(
        engine
            .call(
                ai_billing_create_plan,
                &format!(r#"{{"account_id":"acct_std","plan":{plan}}}"#)
            )
            .0,
        AI_BILLING_PLAN_NOT_AVAILABLE
    );
    assert_eq!(
        engine
            .call(
                ai_billing_get_plan,
                r#"{"account_id":"acct_1","plan_id":"nope"}"#
            )
            .0,
        AI_BILLING_NOT_FOUND
    );
    let (result, _) = engine.call(ai_billing_save_customer, r#"{"customer":{"id":7}}"#);
    assert_eq!(result, AI_BILLING_INVALID_INPUT);
    assert!(
        last_error().contains("request.customer"),
        "{}",
        last_error()
    );

    let plan = engine.ok(
        ai_billing_get_plan,
        r#"{"account_id":"acct_1","plan_id":"p1"}"#,
    );
    assert_eq!(plan["version"], 1, "{plan}");
    let page = engine.ok(ai_billing_list_plans, r#"{"account_id":"acct_1"}"#);
    assert_eq!(page["plans"].as_array().unwrap().len(), 1);

    let created = engine.ok(
        ai_billing_create_subscription,
        r#"{"account_id":"acct_1","id":"sub_1","customer_id":"cus_1","plan_id":"p1","start_date":"2026-01-15"}"#,
    );
    assert_eq!(created["invoice"]["total"], "5.00", "{created}");
    let report = engine.ok(ai_billing_run_due, r#"{"now":"2026-03-15T12:00:00Z"}"#);
    assert_eq!(
        (report["issued"].as_u64(), report["failed"].as_u64()),
        (Some(2), Some(0))
    );
    let next = engine.ok(
        ai_billing_preview_next_invoice,
        r#"{"account_id":"acct_1","subscription_id":"sub_1"}"#,
    );
    assert_eq!(next["total"], "8.00", "{next}");
    let updated = engine.ok(
        ai_billing_update_subscription,
        r#"{"account_id":"acct_1","subscription_id":"sub_1","quantity":2}"#,
    );
    assert_eq!(updated["quantity"], 2);
    let subscription = engine.ok(
        ai_billing_get_subscription,
        r#"{"account_id":"acct_1","subscription_id":"sub_1"}"#,
    );
    assert_eq!(subscription["quantity"], 2);
    // The run billed periods 2 and 3; the change, made now, first issued every period due up to
    // now (billing runs come first), at the quantity before it: $5, $6, $7, ... at 1 copy.
    let invoices = engine.ok(ai_billing_list_invoices, r#"{"account_id":"acct_1"}"#);
    let invoices = invoices["data"].as_array().unwrap();
    assert!(invoices.len() >= 3, "{invoices:?}");
    for (i, invoice) in invoices.iter().enumerate() {
        assert_eq!(invoice["total"], format!("{}.00", 5 + i), "{invoice}");
        assert_eq!(invoice["quantity"], 1, "{invoice}");
    }
    let next = engine.ok(
        ai_billing_preview_next_invoice,
        r#"{"account_id":"acct_1","subscription_id":"sub_1"}"#,
    );
    assert_eq!(next["total"], format!("{}.00", 2 * (5 + invoices.len())));
    // Listings answer pages: a full page carries the cursor of the next, the last one null.
    let first = engine.ok(
        ai_billing_list_subscriptions,
        r#"{"account_id":"acct_1","status":"active","limit":1}"#,
    );
    assert_eq!(first["data"][0]["id"], "sub_1", "{first}");
    let cursor = first["next_cursor"]
        .as_str()
        .expect("a full page has a next cursor");
    let rest = engine.ok(
        ai_billing_list_subscriptions,
        &format!(r#"{{"account_id":"acct_1","status":"active","limit":1,"cursor":"{cursor}"}}"#),
    );
    assert_eq!(rest, serde_json::json!({"data": [], "next_cursor": null}));
    let customers = engine.ok(ai_billing_list_customers, r#"{"account_id":"acct_1"}"#);
    assert_eq!(customers["data"][0]["id"], "cus_1", "{customers}");
    assert_eq!(customers["next_cursor"], Value::Null);
    let (result, _) = engine.call(
        ai_billing_list_invoices,
        r#"{"account_id":"acct_1","cursor":"nonsense"}"#,
    );
    assert_eq!(result, AI_BILLING_INVALID_INPUT);
    assert!(last_error().contains("cursor"), "{}", last_error());

    // SAFETY: a live handle.
    assert_eq!(unsafe { ai_billing_engine_close(engine.0) }, AI_BILLING_OK);
    let (result, _) = engine.call(ai_billing_list_invoices, r#"{"account_id":"acct_1"}"#);
    assert_eq!(result, AI_BILLING_CLOSED);
    assert_eq!(last_error_code(), "CLOSED");
    // Closed comes first, even before a malformed request is read.
    assert_eq!(
        engine.call(ai_billing_run_due, "not json").0,
        AI_BILLING_CLOSED
    );
    // SAFETY: closing twice is harmless.
    assert_eq!(unsafe { ai_billing_engine_close(engine.0) }, AI_BILLING_OK);
}

#[test]
fn engine_arguments_are_checked_before_any_work() {
    let mut engine = sentinel::<ai_billing_engine>();
    // SAFETY: NUL-terminated strings and a writable out-parameter.
    let result =
        unsafe { ai_billing_engine_open(c"{\"databaseUrl\":\"mysql://x\"}".as_ptr(), &mut engine) };
    assert_eq!(result, AI_BILLING_INVALID_INPUT);
    assert_eq!(engine, sentinel());
    // SAFETY: as above.
    let result = unsafe { ai_billing_engine_open(c"{\"database\":\"x\"}".as_ptr(), &mut engine) };
    assert_eq!(result, AI_BILLING_INVALID_INPUT);
    assert!(last_error().contains("options"), "{}", last_error());
    // SAFETY: NULLs are refused.
    let result = unsafe { ai_billing_engine_open(ptr::null(), &mut engine) };
    assert_eq!(result, AI_BILLING_NULL_ARGUMENT);
    // SAFETY: as above.
    let result = unsafe {
        ai_billing_engine_open(
            c"{\"databaseUrl\":\"sqlite::memory:\"}".as_ptr(),
            ptr::null_mut(),
        )
    };
    assert_eq!(result, AI_BILLING_NULL_ARGUMENT);
    assert_eq!(last_error(), "out_engine is NULL");
    // SAFETY: as above.
    assert_eq!(
        unsafe { ai_billing_engine_close(ptr::null_mut()) },
        AI_BILLING_NULL_ARGUMENT
    );

    let mut out = sentinel::<c_char>();
    // SAFETY: as above.
    let result = unsafe {
        ai_billing_list_invoices(ptr::null(), c"{\"account_id\":\"a\"}".as_ptr(), &mut out)
    };
    assert_eq!(result, AI_BILLING_NULL_ARGUMENT);
    assert_eq!(last_error(), "engine is NULL");

    let engine = Engine::open(r#"{"databaseUrl":"sqlite::memory:"}"#);
    // SAFETY: a live handle; NULL request and NULL out are refused.
    let result = unsafe { ai_billing_run_due(engine.0, ptr::null(), &mut out) };
    assert_eq!(result, AI_BILLING_NULL_ARGUMENT);
    // SAFETY: as above.
    let result = unsafe { ai_billing_run_due(engine.0, c"{}".as_ptr(), ptr::null_mut()) };
    assert_eq!(result, AI_BILLING_NULL_ARGUMENT);
    assert_eq!(out, sentinel());
}

#[test]
fn a_handle_freed_without_close_is_closed_first() {
    let dir = std::env::temp_dir().join(format!("ai-billing-c-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let url = format!("sqlite://{}/billing.db", dir.display());
    {
        let engine = Engine::open(&format!(r#"{{"databaseUrl":"{url}"}}"#));
        engine.ok(
            ai_billing_save_account,
            r#"{"account":{"id":"acct_1","abstracted":true,"timezone":"UTC"}}"#,
        );
    }
    // Reopened: what the first handle wrote was kept.
    let engine = Engine::open(&format!(r#"{{"databaseUrl":"{url}"}}"#));
    engine.ok(
        ai_billing_save_customer,
        r#"{"customer":{"account_id":"acct_1","id":"cus_1"}}"#,
    );
    drop(engine);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn one_handle_serves_several_threads_at_once() {
    let engine = Engine::open(r#"{"databaseUrl":"sqlite::memory:"}"#);
    engine.ok(
        ai_billing_save_account,
        r#"{"account":{"id":"acct_1","abstracted":true,"timezone":"UTC"}}"#,
    );
    // The handle's address crosses threads as an integer: the header documents the handle as
    // usable from several threads at once, and `ai_billing_engine` is `Send + Sync`.
    let address = engine.0 as usize;
    let threads: Vec<_> = (0..4)
        .map(|t| {
            std::thread::spawn(move || {
                let handle = address as *const ai_billing_engine;
                for i in 0..10 {
                    let request = CString::new(format!(
                        r#"{{"customer":{{"account_id":"acct_1","id":"cus_{t}_{i}"}}}}"#
                    ))
                    .unwrap();
                    let mut out = ptr::null_mut();
                    // SAFETY: the handle outlives the threads (joined below).
                    let result =
                        unsafe { ai_billing_save_customer(handle, request.as_ptr(), &mut out) };
                    assert_eq!(result, AI_BILLING_OK, "{}", last_error());
                    take_json(out);
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
    let (result, _) = engine.call(
        ai_billing_get_subscription,
        r#"{"account_id":"acct_1","subscription_id":"none"}"#,
    );
    assert_eq!(result, AI_BILLING_NOT_FOUND);
}
