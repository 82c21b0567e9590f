//! The library's operations as the bindings expose them: Node's `BillingEngine` and
//! `interpretPrompt`/`previewScenario`, and the C ABI's JSON functions.
//!
//! Each operation takes one request and gives one answer, both serde data in the platform's
//! shapes (plans, subscriptions and invoices as `DESIGN.md` spells them), with JSON Schemas
//! ([`crate::schema::api_schemas`]). So a binding only converts values and renders errors: the
//! setup (store, interpreter, model, tax, audit shipping), the defaults and the checks are here,
//! once, and Node, C and Rust callers get the same behaviour and the same error codes.

pub mod connect;
pub mod scenario;
pub mod schema;

mod billing_engine;
pub mod cursor;
mod json;
mod messages;
mod options;
mod prompt;
mod requests;
mod webhooks;

pub use billing_engine::{BillingEngine, MAX_PAGE};
pub use json::{MAX_REQUEST_BYTES, from_json, from_value, to_json};
pub use messages::{error_message, redact_url};
pub use options::{
    EngineOptions, InterpretOptions, OpenAiOptions, OpenSearchOptions, TaxOptions, language_model,
};
pub use prompt::{
    Interpretation, PreviewScenarioOptions, UsageQuery, interpret_prompt, usage_queries,
};
#[cfg(feature = "sqlite")]
pub use prompt::{preview_scenario, preview_scenario_documents};
pub use requests::{
    AccountRef, AuditShipping, CreditNotePage, CreditNoteRef, CustomerPage, InvoicePage,
    InvoiceRef, ListCreditNotes, ListCustomers, ListInvoices, ListSubscriptions, PlanPage,
    RunDueReport, RunDueRequest, SaveAccount, SaveCustomer, SubscriptionPage, SubscriptionRef,
};
pub use webhooks::{
    AddWebhook, AddedWebhook, DeliverFrom, DeliverRequest, WebhookInfo, WebhookList, WebhookRef,
};

pub use crate::audit::feed::{EventPage, EventsRequest, MAX_EVENTS_PAGE};
pub use crate::audit::platform::{EventType, PlatformEvent};
pub use crate::engine::DEFAULT_ACTOR;
pub use crate::webhooks::DeliverySummary;

#[cfg(all(test, feature = "sqlite"))]
mod tests {
    use rust_decimal::Decimal;
    use serde_json::json;

    use super::*;
    use crate::ErrorCode;
    use crate::engine::{BillingMode, CreateSubscription};
    use crate::llm_interpreter::InterpreterMode;
    use crate::pricing::InvoiceTiming;

    #[test]
    fn passwords_never_reach_messages() {
        assert_eq!(
            redact_url("postgres://billing:s3cret@db:5432/x"),
            "postgres://billing:***@db:5432/x"
        );
        assert_eq!(
            redact_url("postgres://billing@db/x"),
            "postgres://billing@db/x"
        );
        assert_eq!(redact_url("sqlite://a@b.db"), "sqlite://a@b.db");
        let options: EngineOptions = from_value(
            "options",
            json!({"databaseUrl": "postgres://u:pw@h/db", "openai": {"apiKey": "sk-secret"},
                   "opensearch": {"url": "http://o", "username": "u", "password": "hunter2"}}),
        )
        .unwrap();
        let shown = format!("{options:?}");
        for secret in ["pw@", "sk-secret", "hunter2"] {
            assert!(!shown.contains(secret), "{secret} in {shown}");
        }
    }

    #[test]
    fn requests_over_the_size_limit_are_refused_unread() {
        let padding = "x".repeat(MAX_REQUEST_BYTES);
        let text = format!(r#"{{"account_id": "{padding}", "subscription_id": "s"}}"#);
        let error = from_json::<SubscriptionRef>("request", &text).unwrap_err();
        assert_eq!(error.code(), ErrorCode::InvalidInput);
        assert!(error.to_string().contains("at most 1048576"), "{error}");
        let error = from_value::<SubscriptionRef>(
            "request",
            json!({"account_id": padding, "subscription_id": "s"}),
        )
        .unwrap_err();
        assert!(
            error
                .to_string()
                .contains("invalid request: is over 1048576 bytes"),
            "{error}"
        );
        // Just under the limit is read as usual.
        let id = "x".repeat(MAX_REQUEST_BYTES - 64);
        let ok: SubscriptionRef =
            from_value("request", json!({"account_id": id, "subscription_id": "s"})).unwrap();
        assert_eq!(ok.subscription_id, "s");
    }

    #[test]
    fn bad_json_names_the_field_that_is_wrong() {
        let error = from_json::<CreateSubscription>(
            "request",
            r#"{"account_id": "a", "id": "s", "customer_id": "c", "plan_id": "p", "quantity": -1, "start_date": "2026-01-01"}"#,
        )
        .unwrap_err();
        assert_eq!(error.code(), ErrorCode::InvalidInput);
        assert!(error.to_string().contains("request.quantity"), "{error}");
        let error = from_json::<EngineOptions>("options", r#"{"databaseUrl": "x", "colour": 1}"#)
            .unwrap_err();
        assert!(error.to_string().contains("colour"), "{error}");
        let error = from_json::<RunDueRequest>("request", "{} {}").unwrap_err();
        assert!(error.to_string().contains("trailing"), "{error}");
        let error = from_value::<SubscriptionRef>("request", json!("text")).unwrap_err();
        assert_eq!(error.code(), ErrorCode::InvalidInput);
    }

    #[tokio::test]
    async fn a_prompt_is_understood_or_refused_never_an_error() {
        let options = InterpretOptions::default();
        let understood = interpret_prompt(
            "Bill $5 for the first month and increase by $1 per month",
            &options,
        )
        .await
        .unwrap();
        let Interpretation::Understood {
            invoice_timing,
            interpreter,
            reading,
            ..
        } = understood
        else {
            panic!("refused: {understood:?}");
        };
        assert_eq!(invoice_timing, InvoiceTiming::AtStart);
        assert_eq!(interpreter, "offline");
        assert!(!reading.is_empty());
        let refused = interpret_prompt("Charge whatever seems fair", &options)
            .await
            .unwrap();
        assert!(
            matches!(refused, Interpretation::Refused { .. }),
            "{refused:?}"
        );
        let blank = interpret_prompt("  ", &options).await.unwrap_err();
        assert_eq!(blank.code(), ErrorCode::InvalidInput);
        let keyless = InterpretOptions {
            interpreter: InterpreterMode::Llm,
            ..InterpretOptions::default()
        };
        if std::env::var_os("OPENAI_API_KEY").is_none() {
            let error = interpret_prompt("Bill $5 a month", &keyless)
                .await
                .unwrap_err();
            assert_eq!(error.code(), ErrorCode::InvalidInput, "{error}");
        }
    }

    #[tokio::test]
    async fn an_engine_bills_through_the_api_and_refuses_once_closed() {
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
        let request = |value: serde_json::Value| value;
        engine
            .save_account(&from_value("r", request(json!({"account": {"id": "acct", "abstracted": true, "timezone": "America/New_York"}}))).unwrap())
            .await
            .unwrap();
        engine
            .save_customer(
                &from_value(
                    "r",
                    json!({"customer": {"account_id": "acct", "id": "cus"}}),
                )
                .unwrap(),
            )
            .await
            .unwrap();
        let plan = engine
            .create_plan(
                &from_value(
                    "r",
                    json!({"account_id": "acct", "plan": {
                "id": "plan_step", "currency": "USD", "interval": "month", "type": "ai",
                "ai_prompt": "Bill $5 for the first month and increase by $1 per month"}}),
                )
                .unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(plan.version, 1);
        let account = engine
            .get_account(&from_value("r", json!({"account_id": "acct"})).unwrap())
            .await
            .unwrap();
        assert!(account.abstracted);
        let queries = usage_queries();
        assert_eq!(queries[0].name, "shipments_by_weekday");
        assert_eq!(queries[0].dialects, ["sqlite", "postgres", "mysql"]);
        assert!(queries[0].default);
        let created = engine
            .create_subscription(
                &from_value(
                    "r",
                    json!({"account_id": "acct", "id": "sub",
                "customer_id": "cus", "plan_id": "plan_step", "start_date": "2026-01-10"}),
                )
                .unwrap(),
            )
            .await
            .unwrap();
        // Created on a past start date: nothing is billed until a run catches up.
        assert_eq!(created.subscription.quantity, 1);
        let report = engine
            .run_due(&from_value("r", json!({"now": "2026-03-15T12:00:00Z"})).unwrap())
            .await
            .unwrap();
        assert_eq!(report.audit, None);
        let invoices = engine
            .list_invoices(&from_value("r", json!({"account_id": "acct"})).unwrap())
            .await
            .unwrap()
            .data;
        let totals: Vec<String> = invoices
            .iter()
            .map(|i| i.invoice.total.to_string())
            .collect();
        assert_eq!(
            invoices.len() as u64,
            report.run.issued + created.invoice.iter().count() as u64
        );
        assert_eq!(totals, ["5.41 USD", "6.50 USD", "7.58 USD"]);
        let page = engine
            .list_plans(&from_value("r", json!({"account_id": "acct", "limit": 1})).unwrap())
            .await
            .unwrap();
        assert_eq!(page.next_after.as_deref(), Some("plan_step"));
        let missing = engine
            .get_plan(&from_value("r", json!({"account_id": "acct", "plan_id": "nope"})).unwrap())
            .await
            .unwrap_err();
        assert_eq!(missing.code(), ErrorCode::NotFound);
        engine.close().await.unwrap();
        engine.close().await.unwrap();
        let closed = engine
            .get_subscription(
                &from_value("r", json!({"account_id": "acct", "subscription_id": "sub"})).unwrap(),
            )
            .await
            .unwrap_err();
        assert_eq!(closed.code(), ErrorCode::Closed);
        assert_eq!(error_message(&closed), "the engine is closed");
    }
}
