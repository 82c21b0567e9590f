//! Invoice and credit-note documents through the C ABI (issue 21): the HTML page itself as the
//! answer (not JSON), in the account's locale, with each line's explanation; an unknown invoice
//! is `AI_BILLING_NOT_FOUND` and a failed call never writes its out-parameter.
//!
//! The engine bills on the system clock, so the subscription starts 40 days before today (the
//! account is in UTC): a run bills its first two periods ($31 a month in advance).

use ai_billing_c::*;
use ai_billing_result::*;
use chrono::{Days, Utc};
use serde_json::{Value, json};

mod support;

use support::{Engine, EngineFn, last_error, last_error_code};

impl Engine {
    /// The HTML a document call answers, which must succeed.
    fn html(&self, operation: EngineFn, request: Value) -> String {
        let (result, answer) = self.call_text(operation, &request);
        assert_eq!(result, AI_BILLING_OK, "{request}: {}", last_error());
        answer.unwrap()
    }
}

#[test]
fn documents_of_invoices_and_credit_notes_through_the_c_abi() {
    let engine = Engine::open(c"{\"databaseUrl\":\"sqlite::memory:\"}");
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
    let invoices = engine.ok(
        ai_billing_list_invoices,
        json!({"account_id": "acct", "subscription_id": "sub"}),
    );
    let first = invoices["data"][0]["id"].as_str().unwrap().to_owned();

    // The page itself: the amounts as fr-FR writes euros, the line's explanation under it.
    let html = engine.html(
        ai_billing_render_invoice,
        json!({"account_id": "acct", "invoice_id": first}),
    );
    assert!(html.starts_with("<!DOCTYPE html>"), "{html}");
    assert!(html.contains(&first), "the page names its invoice");
    assert!(html.contains("1\u{202f}234,50\u{a0}€"), "{html}");
    assert!(html.contains("Month 1: 1234.50"), "{html}");

    // A credit note's page.
    let note = engine.ok(
        ai_billing_credit_invoice,
        json!({"account_id": "acct", "invoice_id": first, "amount": 500,
            "reason": "missed delivery"}),
    );
    let html = engine.html(
        ai_billing_render_credit_note,
        json!({"account_id": "acct", "credit_note_id": note["id"]}),
    );
    assert!(html.starts_with("<!DOCTYPE html>"), "{html}");
    assert!(html.contains("Credit note"), "{html}");
    assert!(html.contains("5,00\u{a0}€"), "{html}");

    // Unknown documents, and a request that is not one: nothing written.
    let (result, _) = engine.call_text(
        ai_billing_render_invoice,
        &json!({"account_id": "acct", "invoice_id": "in_sub_19990101"}),
    );
    assert_eq!(result, AI_BILLING_NOT_FOUND, "{}", last_error());
    assert_eq!(last_error_code(), "NOT_FOUND");
    assert!(last_error().contains("in_sub_19990101"), "{}", last_error());
    let (result, _) = engine.call_text(
        ai_billing_render_credit_note,
        &json!({"account_id": "acct", "credit_note_id": "cn_sub_9"}),
    );
    assert_eq!(result, AI_BILLING_NOT_FOUND, "{}", last_error());
    let (result, _) = engine.call_text(ai_billing_render_invoice, &json!({"account_id": "acct"}));
    assert_eq!(result, AI_BILLING_INVALID_INPUT, "{}", last_error());
    assert!(last_error().contains("invoice_id"), "{}", last_error());
}
