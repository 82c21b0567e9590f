//! Documents of stored invoices and credit notes through the API facade on SQLite: the
//! account's locale writes them, a voided invoice says VOID, and a missing account, invoice or
//! credit note is NOT_FOUND naming it.

use ai_billing::ErrorCode;
use ai_billing::api::{BillingEngine, EngineOptions, TaxOptions, from_value};
use ai_billing::engine::BillingMode;
use ai_billing::llm_interpreter::InterpreterMode;
use rust_decimal::Decimal;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

fn request<T: DeserializeOwned>(value: Value) -> T {
    from_value("request", value).unwrap()
}

/// An engine on a fresh SQLite database with a German account (8.25% tax), a step-up plan in
/// euros and a subscription billed for three months.
async fn engine() -> BillingEngine {
    let engine = BillingEngine::open(&EngineOptions {
        database_url: "sqlite::memory:".into(),
        interpreter: InterpreterMode::Offline,
        mode: BillingMode::Compiled,
        openai: None,
        opensearch: None,
        tax: Some(TaxOptions {
            rate: Some(Decimal::new(825, 4)),
            rules: None,
        }),
        concurrency: None,
        late_usage_lookback: None,
    })
    .await
    .unwrap();
    engine
        .save_account(&request(
            json!({"account": {"id": "acct", "abstracted": true,
            "timezone": "Europe/Berlin", "locale": "de-DE"}}),
        ))
        .await
        .unwrap();
    engine
        .save_customer(&request(
            json!({"customer": {"account_id": "acct", "id": "cus"}}),
        ))
        .await
        .unwrap();
    engine
        .create_plan(&request(json!({"account_id": "acct", "plan": {
            "id": "plan", "currency": "EUR", "interval": "month", "type": "ai",
            "ai_prompt": "Bill €1000 for the first month and increase by €250 per month"}})))
        .await
        .unwrap();
    engine
        .create_subscription(&request(json!({"account_id": "acct", "id": "sub",
            "customer_id": "cus", "plan_id": "plan", "start_date": "2026-01-10"})))
        .await
        .unwrap();
    engine
        .run_due(&request(json!({"now": "2026-03-15T12:00:00Z"})))
        .await
        .unwrap();
    engine
}

#[tokio::test]
async fn an_invoice_and_a_credit_note_are_rendered_in_the_accounts_locale() {
    let engine = engine().await;
    let html = engine
        .render_invoice(&request(
            json!({"account_id": "acct", "invoice_id": "in_sub_20260210"}),
        ))
        .await
        .unwrap();
    for text in [
        "<html lang=\"en\">",
        "in_sub_20260210",
        "cus",
        "10.02.2026",
        "09.03.2026",
        "1.250,00\u{a0}€",
        "103,13\u{a0}€",
        "1.353,13\u{a0}€",
        "Februar 2026",
        "März 2026",
    ] {
        assert!(html.contains(text), "{text:?} missing from\n{html}");
    }
    assert!(!html.contains("VOID"));

    let note = engine
        .credit_invoice(&request(
            json!({"account_id": "acct", "invoice_id": "in_sub_20260210",
            "amount": 10000, "reason": "goodwill <b>gesture</b>"}),
        ))
        .await
        .unwrap();
    let html = engine
        .render_credit_note(&request(
            json!({"account_id": "acct", "credit_note_id": note.id}),
        ))
        .await
        .unwrap();
    for text in [
        "Credit note",
        note.id.as_str(),
        "in_sub_20260210",
        "Manual credit",
        "100,00\u{a0}€",
        "8,25\u{a0}€",
        "108,25\u{a0}€",
        "Revenue reversed",
    ] {
        assert!(html.contains(text), "{text:?} missing from\n{html}");
    }

    engine
        .void_invoice(&request(
            json!({"account_id": "acct", "invoice_id": "in_sub_20260310",
            "reason": "wrong rate"}),
        ))
        .await
        .unwrap();
    let void = engine
        .render_invoice(&request(
            json!({"account_id": "acct", "invoice_id": "in_sub_20260310"}),
        ))
        .await
        .unwrap();
    assert!(void.contains("VOID"), "{void}");
}

#[tokio::test]
async fn what_is_missing_is_not_found_by_name() {
    let engine = engine().await;
    let cases = [
        (
            engine
                .render_invoice(&request(
                    json!({"account_id": "nope", "invoice_id": "in_sub_20260210"}),
                ))
                .await,
            "account",
        ),
        (
            engine
                .render_invoice(&request(
                    json!({"account_id": "acct", "invoice_id": "in_sub_20990101"}),
                ))
                .await,
            "in_sub_20990101",
        ),
        (
            engine
                .render_invoice(&request(
                    json!({"account_id": "acct", "invoice_id": "bogus"}),
                ))
                .await,
            "bogus",
        ),
        (
            engine
                .render_credit_note(&request(
                    json!({"account_id": "acct", "credit_note_id": "cn_sub_7"}),
                ))
                .await,
            "cn_sub_7",
        ),
    ];
    for (result, named) in cases {
        let error = result.unwrap_err();
        assert_eq!(error.code(), ErrorCode::NotFound, "{error}");
        assert!(error.to_string().contains(named), "{error}");
    }
}
