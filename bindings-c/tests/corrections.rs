//! Invoice corrections through the C ABI (issue 19, billing-conventions.md "Invoice
//! corrections"): void and re-bill, manual credit notes, and the result codes C sees for a
//! release of an open invoice, more than is left to credit, a credited invoice voided, an
//! unknown invoice and a missing reason. A failed call never writes its out-parameter.
//!
//! The engine bills on the system clock, so the subscription starts 40 days before today (the
//! account is in UTC): a run bills its first two periods ($31 a month in advance, 8.25% tax).

use ai_billing_c::*;
use ai_billing_result::*;
use chrono::{Days, Utc};
use serde_json::{Value, json};

mod support;

use support::{Engine, EngineFn, last_error, last_error_code};

impl Engine {
    fn fails(&self, operation: EngineFn, request: Value, code: ai_billing_result, what: &str) {
        let (result, _) = self.call(operation, &request);
        assert_eq!(result, code, "{request}: {}", last_error());
        assert!(last_error().contains(what), "{}", last_error());
    }
}

/// The sum of decimal strings with two decimals, in cents.
fn cents(amounts: &[Value]) -> i64 {
    amounts
        .iter()
        .map(|amount| {
            amount
                .as_str()
                .unwrap()
                .replace('.', "")
                .parse::<i64>()
                .unwrap()
        })
        .sum()
}

#[test]
fn void_rebill_and_credit_through_the_c_abi() {
    let engine =
        Engine::open(c"{\"databaseUrl\":\"sqlite::memory:\",\"tax\":{\"rate\":\"0.0825\"}}");
    engine.ok(
        ai_billing_save_account,
        json!({"account": {"id": "acct", "abstracted": true, "timezone": "UTC"}}),
    );
    engine.ok(
        ai_billing_save_customer,
        json!({"customer": {"account_id": "acct", "id": "cus"}}),
    );
    engine.ok(
        ai_billing_create_plan,
        json!({"account_id": "acct", "plan": {"id": "p31", "type": "ai", "currency": "USD",
            "interval": "month", "ai_prompt": "$31 per month"}}),
    );
    let start = Utc::now().date_naive() - Days::new(40);
    engine.ok(
        ai_billing_create_subscription,
        json!({"account_id": "acct", "id": "sub", "customer_id": "cus", "plan_id": "p31",
            "start_date": start}),
    );
    engine.ok(ai_billing_run_due, json!({}));
    let invoices = engine.ok(
        ai_billing_list_invoices,
        json!({"account_id": "acct", "subscription_id": "sub"}),
    );
    let invoices = invoices["data"].as_array().unwrap();
    assert_eq!(invoices.len(), 2);
    let (first, last) = (invoices[0]["id"].clone(), invoices[1]["id"].clone());

    // Void the period billed last, billed again: a new id, the same amounts.
    let voided = engine.ok(
        ai_billing_void_invoice,
        json!({"account_id": "acct", "invoice_id": last, "rebill": true, "actor": "c-test",
            "reason": "issued on wrong data"}),
    );
    assert_eq!(voided["invoice"]["status"], "void");
    let reversed: Vec<Value> = voided["revenue_reversed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| entry["amount"].clone())
        .collect();
    assert_eq!(cents(&reversed), 3100);
    let rebilled = &voided["rebilled"];
    assert_eq!(
        rebilled["id"],
        format!("{}_r1", last.as_str().unwrap()).as_str()
    );
    assert_eq!(
        [&rebilled["subtotal"], &rebilled["tax"], &rebilled["total"]],
        ["31.00", "2.56", "33.56"]
    );

    // A credit by amount (5.00, tax 0.41); more than is left is refused.
    let note = engine.ok(
        ai_billing_credit_invoice,
        json!({"account_id": "acct", "invoice_id": rebilled["id"], "amount": 500,
            "reason": "a missed delivery"}),
    );
    assert_eq!(note["id"], "cn_sub_1");
    assert_eq!(
        [&note["subtotal"], &note["tax"], &note["total"]],
        ["5.00", "0.41", "5.41"]
    );
    engine.fails(
        ai_billing_credit_invoice,
        json!({"account_id": "acct", "invoice_id": rebilled["id"],
            "lines": [{"line": 1, "amount": 2601}], "reason": "x"}),
        AI_BILLING_INVALID_INPUT,
        "26.00 left",
    );
    assert_eq!(last_error_code(), "INVALID_INPUT");

    // The refusals: each with its code, and nothing written.
    engine.fails(
        ai_billing_void_invoice,
        json!({"account_id": "acct", "invoice_id": rebilled["id"], "reason": "x"}),
        AI_BILLING_CONFLICT,
        "cn_sub_1",
    );
    engine.fails(
        ai_billing_release_invoice,
        json!({"account_id": "acct", "invoice_id": first, "reason": "x"}),
        AI_BILLING_CONFLICT,
        "is open",
    );
    engine.fails(
        ai_billing_void_invoice,
        json!({"account_id": "acct", "invoice_id": "in_sub_19990101", "reason": "x"}),
        AI_BILLING_NOT_FOUND,
        "in_sub_19990101",
    );
    engine.fails(
        ai_billing_void_invoice,
        json!({"account_id": "acct", "invoice_id": first}),
        AI_BILLING_INVALID_INPUT,
        "reason",
    );
    let listed = engine.ok(
        ai_billing_list_invoices,
        json!({"account_id": "acct", "subscription_id": "sub"}),
    );
    assert_eq!(
        listed["data"].as_array().unwrap().len(),
        3,
        "the refusals wrote nothing"
    );
}
