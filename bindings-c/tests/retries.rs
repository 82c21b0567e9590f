//! Safe retries through the C ABI (issue 20): `ai_billing_create_subscription` and a change sent
//! again with the same key and body answer what they first answered and write nothing new; the
//! same key with another body is `AI_BILLING_CONFLICT` naming the key, which a caller tells from
//! a bad request (`AI_BILLING_INVALID_INPUT`).

use ai_billing_c::*;
use ai_billing_result::*;
use chrono::Utc;
use serde_json::{Value, json};

mod support;

use support::{Engine, EngineFn, last_error, last_error_code};

impl Engine {
    /// Checks that the call fails with `code` and a message naming each of `what`.
    fn fails(&self, operation: EngineFn, request: Value, code: ai_billing_result, what: &[&str]) {
        let (result, _) = self.call(operation, &request);
        assert_eq!(result, code, "{request}: {}", last_error());
        if code == AI_BILLING_CONFLICT {
            assert_eq!(
                last_error_code(),
                "CONFLICT",
                "the code a caller branches on"
            );
        }
        for what in what {
            assert!(last_error().contains(what), "{}", last_error());
        }
    }

    /// How many invoices and credit notes the account has: what a retry must not add to.
    fn written(&self) -> (usize, usize) {
        let invoices = self.ok(ai_billing_list_invoices, json!({"account_id": "acct"}));
        let notes = self.ok(ai_billing_list_credit_notes, json!({"account_id": "acct"}));
        (
            invoices["data"].as_array().unwrap().len(),
            notes["data"].as_array().unwrap().len(),
        )
    }
}

/// An account in UTC, a customer and a plan of $31 a month billed in advance.
fn set_up() -> Engine {
    let engine = Engine::open(c"{\"databaseUrl\":\"sqlite::memory:\"}");
    engine.ok(
        ai_billing_save_account,
        json!({"account": {"id": "acct", "abstracted": true, "timezone": "UTC"}}),
    );
    engine.ok(
        ai_billing_save_customer,
        json!({"customer": {"account_id": "acct", "id": "cus"}}),
    );
    let plan = json!({"account_id": "acct", "plan": {"id": "p31", "type": "ai",
        "currency": "USD", "interval": "month", "ai_prompt": "$31 per month"}});
    let saved = engine.ok(ai_billing_create_plan, plan.clone());
    assert_eq!(
        engine.ok(ai_billing_create_plan, plan),
        saved,
        "the same plan saved again answers the same version"
    );
    engine
}

fn create(id: &str) -> Value {
    json!({"account_id": "acct", "id": id, "customer_id": "cus", "plan_id": "p31",
        "start_date": Utc::now().date_naive().to_string()})
}

#[test]
fn a_creation_sent_again_answers_the_first_answer() {
    let engine = set_up();
    let created = engine.ok(ai_billing_create_subscription, create("sub"));
    assert!(
        created["invoice"].is_object(),
        "billed in advance: {created}"
    );
    let before = engine.written();
    assert_eq!(
        engine.ok(ai_billing_create_subscription, create("sub")),
        created
    );
    assert_eq!(engine.written(), before, "nothing new written");

    let mut other = create("sub");
    other["quantity"] = json!(2);
    engine.fails(
        ai_billing_create_subscription,
        other,
        AI_BILLING_CONFLICT,
        &["sub", "differed"],
    );

    let mut keyed = create("sub_2");
    keyed["request_id"] = json!("create-2");
    let second = engine.ok(ai_billing_create_subscription, keyed.clone());
    assert_eq!(
        engine.ok(ai_billing_create_subscription, keyed.clone()),
        second
    );
    keyed["id"] = json!("sub_3");
    engine.fails(
        ai_billing_create_subscription,
        keyed,
        AI_BILLING_CONFLICT,
        &["create-2", "differed"],
    );
}

#[test]
fn a_change_sent_again_with_its_request_id_answers_the_first_answer() {
    let engine = set_up();
    engine.ok(ai_billing_create_subscription, create("sub"));
    let cancel = json!({"account_id": "acct", "subscription_id": "sub",
        "effective": "immediately", "request_id": "cancel-1"});
    let canceled = engine.ok(ai_billing_cancel_subscription, cancel.clone());
    let before = engine.written();
    assert_eq!(
        engine.ok(ai_billing_cancel_subscription, cancel.clone()),
        canceled
    );
    assert_eq!(engine.written(), before, "no second credit note");

    let mut other = cancel.clone();
    other["credit_unused"] = json!(false);
    engine.fails(
        ai_billing_cancel_subscription,
        other,
        AI_BILLING_CONFLICT,
        &["cancel-1", "differed"],
    );
    let mut empty = cancel;
    empty["request_id"] = json!("");
    engine.fails(
        ai_billing_cancel_subscription,
        empty,
        AI_BILLING_INVALID_INPUT,
        &["request_id"],
    );
}
