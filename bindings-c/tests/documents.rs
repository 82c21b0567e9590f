//! Invoice and credit-note documents through the C ABI (issue 21): the HTML page itself as the
//! answer (not JSON), in the account's locale, with each line's explanation; an unknown invoice
//! is `AI_BILLING_NOT_FOUND` and a failed call never writes its out-parameter.
//!
//! The engine bills on the system clock, so the subscription starts 40 days before today (the
//! account is in UTC): a run bills its first two periods ($31 a month in advance).

use std::ffi::{CStr, CString, c_char};
use std::ptr;

use ai_billing_c::*;
use ai_billing_result::*;
use chrono::{Days, Utc};
use serde_json::{Value, json};

mod support;

use support::{last_error, last_error_code};

type EngineFn = unsafe extern "C" fn(
    *const ai_billing_engine,
    *const c_char,
    *mut *mut c_char,
) -> ai_billing_result;

fn sentinel() -> *mut c_char {
    ptr::dangling_mut::<c_char>()
}

/// An engine handle on an in-memory database, freed when the test ends.
struct Engine(*mut ai_billing_engine);

impl Engine {
    fn open() -> Self {
        let mut engine = ptr::null_mut();
        let options = c"{\"databaseUrl\":\"sqlite::memory:\"}";
        // SAFETY: a NUL-terminated string and a writable out-parameter.
        let result = unsafe { ai_billing_engine_open(options.as_ptr(), &mut engine) };
        assert_eq!(result, AI_BILLING_OK, "{}", last_error());
        Engine(engine)
    }

    /// The call's result and, on success, the string it answered.
    fn call(&self, operation: EngineFn, request: &Value) -> (ai_billing_result, Option<String>) {
        let request = CString::new(request.to_string()).unwrap();
        let mut out = sentinel();
        // SAFETY: a live handle, a NUL-terminated request and a writable out-parameter.
        let result = unsafe { operation(self.0, request.as_ptr(), &mut out) };
        if result != AI_BILLING_OK {
            assert_eq!(out, sentinel(), "an error wrote the out-parameter");
            return (result, None);
        }
        // SAFETY: a NUL-terminated string the library returned, freed once below.
        let text = unsafe { CStr::from_ptr(out) }.to_str().unwrap().to_owned();
        // SAFETY: returned by the library, not freed yet.
        unsafe { ai_billing_string_free(out) };
        (result, Some(text))
    }

    fn ok(&self, operation: EngineFn, request: Value) -> String {
        let (result, answer) = self.call(operation, &request);
        assert_eq!(result, AI_BILLING_OK, "{request}: {}", last_error());
        answer.unwrap()
    }

    fn json(&self, operation: EngineFn, request: Value) -> Value {
        serde_json::from_str(&self.ok(operation, request)).unwrap()
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        // SAFETY: the handle from `open`, freed once.
        unsafe { ai_billing_engine_free(self.0) };
    }
}

#[test]
fn documents_of_invoices_and_credit_notes_through_the_c_abi() {
    let engine = Engine::open();
    engine.ok(
        ai_billing_save_account,
        json!({"account": {"id": "acct", "abstracted": true, "timezone": "UTC",
            "locale": "fr-FR"}}),
    );
    engine.ok(
        ai_billing_save_customer,
        json!({"customer": {"account_id": "acct", "id": "cus"}}),
    );
    engine.ok(
        ai_billing_create_plan,
        json!({"account_id": "acct", "plan": {"id": "p31", "type": "ai", "currency": "EUR",
            "interval": "month", "ai_prompt": "€1234.50 per month"}}),
    );
    let start = Utc::now().date_naive() - Days::new(40);
    engine.ok(
        ai_billing_create_subscription,
        json!({"account_id": "acct", "id": "sub", "customer_id": "cus", "plan_id": "p31",
            "start_date": start}),
    );
    engine.ok(ai_billing_run_due, json!({}));
    let invoices = engine.json(
        ai_billing_list_invoices,
        json!({"account_id": "acct", "subscription_id": "sub"}),
    );
    let first = invoices["data"][0]["id"].as_str().unwrap().to_owned();

    // The page itself: the amounts as fr-FR writes euros, the line's explanation under it.
    let html = engine.ok(
        ai_billing_render_invoice,
        json!({"account_id": "acct", "invoice_id": first}),
    );
    assert!(html.starts_with("<!DOCTYPE html>"), "{html}");
    assert!(html.contains(&first), "the page names its invoice");
    assert!(html.contains("1\u{202f}234,50\u{a0}€"), "{html}");
    assert!(html.contains("Month 1: 1234.50"), "{html}");

    // A credit note's page.
    let note = engine.json(
        ai_billing_credit_invoice,
        json!({"account_id": "acct", "invoice_id": first, "amount": 500,
            "reason": "missed delivery"}),
    );
    let html = engine.ok(
        ai_billing_render_credit_note,
        json!({"account_id": "acct", "credit_note_id": note["id"]}),
    );
    assert!(html.starts_with("<!DOCTYPE html>"), "{html}");
    assert!(html.contains("Credit note"), "{html}");
    assert!(html.contains("5,00\u{a0}€"), "{html}");

    // Unknown documents, and a request that is not one: nothing written.
    let (result, _) = engine.call(
        ai_billing_render_invoice,
        &json!({"account_id": "acct", "invoice_id": "in_sub_19990101"}),
    );
    assert_eq!(result, AI_BILLING_NOT_FOUND, "{}", last_error());
    assert_eq!(last_error_code(), "NOT_FOUND");
    assert!(last_error().contains("in_sub_19990101"), "{}", last_error());
    let (result, _) = engine.call(
        ai_billing_render_credit_note,
        &json!({"account_id": "acct", "credit_note_id": "cn_sub_9"}),
    );
    assert_eq!(result, AI_BILLING_NOT_FOUND, "{}", last_error());
    let (result, _) = engine.call(ai_billing_render_invoice, &json!({"account_id": "acct"}));
    assert_eq!(result, AI_BILLING_INVALID_INPUT, "{}", last_error());
    assert!(last_error().contains("invoice_id"), "{}", last_error());
}
