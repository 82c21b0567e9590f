//! The changes to a subscription through the C ABI (issue 18, billing-conventions.md
//! "Subscription changes"): cancel, withdraw, pause, resume, quantity with proration, plan
//! change, and the credit notes they issue, with the result codes C sees.
//!
//! The engine bills on the system clock, so the subscriptions start 19 days before today (the
//! account is in UTC): a cancellation made now takes effect tomorrow, the period's 21st day, as
//! in the conventions' worked example ($31 a month, canceled on day 20: 11.00 credited, tax 0.91
//! at 8.25% when the period has 31 days). The amounts are computed by the conventions' rule for
//! the period's actual length.

use std::ptr;

use ai_billing_c::*;
use ai_billing_result::*;
use chrono::{Months, NaiveDate, Utc};
use serde_json::{Value, json};

mod support;

use support::{Engine, EngineFn, last_error, last_error_code, sentinel};

impl Engine {
    /// The call's result code, checking that it failed with `code` and a message naming `what`.
    fn fails(&self, operation: EngineFn, request: Value, code: ai_billing_result, what: &str) {
        let (result, _) = self.call(operation, &request);
        assert_eq!(result, code, "{request}: {}", last_error());
        assert!(last_error().contains(what), "{}", last_error());
    }
}

/// round(n / d), half away from zero, for non-negative integers.
fn round_div(n: i64, d: i64) -> i64 {
    (2 * n + d) / (2 * d)
}

/// Cents as a decimal string.
fn money(cents: i64) -> String {
    format!("{}.{:02}", cents / 100, cents % 100)
}

/// The settlement of a period billed `billed` cents in advance, `served` of its `days` days
/// served: the credit (billed - due) and its tax at 8.25%.
fn credit(billed: i64, served: i64, days: i64) -> (i64, i64) {
    let credit = billed - round_div(billed * served, days);
    (credit, round_div(credit * 825, 10_000))
}

/// An account in UTC, a customer, "$31 per month" and a plan in EUR, and `subscriptions` to the
/// first started 19 days ago (their first period billed at once). Gives today and the start.
fn set_up(engine: &Engine, subscriptions: &[&str]) -> (NaiveDate, NaiveDate) {
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
    engine.ok(
        ai_billing_create_plan,
        json!({"account_id": "acct", "plan": {"id": "p_eur", "type": "standard",
            "currency": "EUR", "interval": "month", "amount": 3100}}),
    );
    let today = Utc::now().date_naive();
    let start = today - chrono::Days::new(19);
    for id in subscriptions {
        let created = engine.ok(
            ai_billing_create_subscription,
            json!({"account_id": "acct", "id": id, "customer_id": "cus", "plan_id": "p31",
                "start_date": start.to_string()}),
        );
        assert_eq!(created["invoice"]["subtotal"], "31.00", "{created}");
    }
    (today, start)
}

fn period_days(start: NaiveDate) -> i64 {
    (start.checked_add_months(Months::new(1)).unwrap() - start).num_days()
}

#[test]
fn a_cancel_immediately_credits_the_unserved_days_and_the_note_is_listed() {
    let engine =
        Engine::open(c"{\"databaseUrl\":\"sqlite::memory:\",\"tax\":{\"rate\":\"0.0825\"}}");
    let (today, start) = set_up(&engine, &["sub"]);
    let changed = engine.ok(
        ai_billing_cancel_subscription,
        json!({"account_id": "acct", "subscription_id": "sub", "effective": "immediately",
            "actor": "c-test"}),
    );
    let tomorrow = today.succ_opt().unwrap();
    let (subtotal, tax) = credit(3100, 20, period_days(start));
    let note = &changed["credit_note"];
    assert_eq!(note["reason"], "cancel", "{note}");
    assert_eq!(note["issue_date"], tomorrow.to_string());
    assert_eq!(note["invoice_period_start"], start.to_string());
    assert_eq!(note["subtotal"], money(subtotal));
    assert_eq!(note["tax"], money(tax));
    assert_eq!(note["total"], money(subtotal + tax));
    if period_days(start) == 31 {
        assert_eq!(
            (note["subtotal"].as_str(), note["tax"].as_str()),
            (Some("11.00"), Some("0.91"))
        );
    }
    assert_eq!(
        changed["subscription"]["changes"]["end"]["on"],
        tomorrow.to_string()
    );

    let notes = engine.ok(
        ai_billing_list_credit_notes,
        json!({"account_id": "acct", "subscription_id": "sub"}),
    );
    assert_eq!(notes, json!({"data": [note], "next_cursor": null}));
    // Worked numbers of the conventions, by the same rule.
    assert_eq!(credit(3100, 20, 31), (1100, 91));
}

#[test]
fn changes_give_stable_result_codes_and_leave_the_out_parameter_alone() {
    let engine =
        Engine::open(c"{\"databaseUrl\":\"sqlite::memory:\",\"tax\":{\"rate\":\"0.0825\"}}");
    let (today, _) = set_up(&engine, &["sub"]);
    let day = |n: i64| (today + chrono::Duration::days(n)).to_string();
    let sub = |extra: Value| {
        let mut request = json!({"account_id": "acct", "subscription_id": "sub"});
        request
            .as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        request
    };

    engine.fails(
        ai_billing_cancel_subscription,
        sub(json!({"effective": day(-1)})),
        AI_BILLING_INVALID_INPUT,
        "cancel.effective",
    );
    assert_eq!(last_error_code(), "INVALID_INPUT");
    engine.fails(
        ai_billing_cancel_subscription,
        sub(json!({"effective": "soon"})),
        AI_BILLING_INVALID_INPUT,
        "request.effective",
    );
    engine.fails(
        ai_billing_change_plan,
        sub(json!({"plan_id": "p_eur", "effective": "immediately"})),
        AI_BILLING_INVALID_INPUT,
        "plan.currency",
    );
    engine.fails(
        ai_billing_withdraw_cancel,
        sub(json!({})),
        AI_BILLING_INVALID_INPUT,
        "no cancellation",
    );
    engine.fails(
        ai_billing_pause_subscription,
        json!({"account_id": "acct", "subscription_id": "nope", "from": day(1)}),
        AI_BILLING_NOT_FOUND,
        "nope",
    );

    let paused = engine.ok(
        ai_billing_pause_subscription,
        sub(json!({"from": day(3), "until": day(6)})),
    );
    assert_eq!(paused["credit_note"]["reason"], "pause", "{paused}");
    engine.fails(
        ai_billing_pause_subscription,
        sub(json!({"from": day(5), "until": day(8)})),
        AI_BILLING_CONFLICT,
        "overlap",
    );
    assert_eq!(last_error_code(), "CONFLICT");
    let resumed = engine.ok(ai_billing_resume_subscription, sub(json!({"on": day(4)})));
    assert_eq!(
        resumed["subscription"]["changes"]["pauses"],
        json!([{"from": day(3), "until": day(4)}])
    );
    let updated = engine.ok(
        ai_billing_update_subscription,
        sub(json!({"quantity": 2, "proration": "prorate", "effective": day(1)})),
    );
    assert_eq!(updated["quantity"], 2);
    engine.ok(ai_billing_change_plan, sub(json!({"plan_id": "p31"})));
    let canceled = engine.ok(
        ai_billing_cancel_subscription,
        sub(json!({"effective": day(2), "credit_unused": false})),
    );
    assert_eq!(canceled["credit_note"], Value::Null);
    let withdrawn = engine.ok(ai_billing_withdraw_cancel, sub(json!({"actor": "c-test"})));
    assert_eq!(withdrawn["subscription"]["status"], "active");
    let notes = engine.ok(ai_billing_list_credit_notes, json!({"account_id": "acct"}));
    assert_eq!(notes["data"].as_array().unwrap().len(), 1, "{notes}");

    // NULL arguments and a closed engine, as for every engine call.
    let mut out = sentinel();
    // SAFETY: NULL is refused before any work.
    let result = unsafe { ai_billing_list_credit_notes(engine.0, ptr::null(), &mut out) };
    assert_eq!((result, out), (AI_BILLING_NULL_ARGUMENT, sentinel()));
    // SAFETY: a live handle.
    assert_eq!(unsafe { ai_billing_engine_close(engine.0) }, AI_BILLING_OK);
    engine.fails(
        ai_billing_cancel_subscription,
        sub(json!({})),
        AI_BILLING_CLOSED,
        "closed",
    );
}
