//! The JSON schemas of the API: the objects the npm package ships ([`object_schemas`]) and every
//! request and answer of [`crate::api`] ([`api_definitions`], turned into TypeScript by
//! [`typescript`]), and the platform's OpenAPI document built on them ([`openapi`]). The strict
//! schemas a model answers in live with the model port ([`crate::model::schemas`]) and the strict
//! rewrite in the JSON leaf ([`crate::json::strict`]); both are re-exported here.

use schemars::generate::SchemaSettings;
use serde_json::{Map, Value};

use crate::agent::AgentPayload;
use crate::json::{plain_descriptions, schema_for};

pub use crate::json::strict::{strict_problems, to_strict};
pub use crate::model::schemas::{
    PAYLOAD_SCHEMA_NAME, PROGRAM_SCHEMA_NAME, payload_schema, program_schema,
};

pub mod openapi;
pub mod typescript;

/// The JSON Schema files the npm package ships for the platform's SDK build, by file stem: the
/// plan, subscription, invoice and agent payload objects as they cross the API (JSON Schema
/// 2020-12, each with its `$defs`).
pub fn object_schemas() -> Vec<(&'static str, Value)> {
    vec![
        ("plan", schema_for::<crate::plan::Plan>()),
        (
            "subscription",
            schema_for::<crate::subscription::Subscription>(),
        ),
        ("invoice", schema_for::<crate::invoice::IssuedInvoice>()),
        ("agent-payload", schema_for::<AgentPayload>()),
    ]
}

/// Every shape of [`crate::api`] (requests, answers and what they hold), as one set of named
/// JSON Schema definitions: what [`typescript::declarations`] turns into the npm package's types.
pub fn api_definitions() -> Map<String, Value> {
    use crate::api;
    let mut generator = SchemaSettings::draft2020_12()
        .for_deserialize()
        .into_generator();
    macro_rules! roots {
        ($($t:ty),* $(,)?) => { $( generator.subschema_for::<$t>(); )* };
    }
    roots!(
        api::EngineOptions,
        api::InterpretOptions,
        api::Interpretation,
        crate::scenario::Scenario,
        crate::scenario::PreviewReport,
        api::SaveAccount,
        api::AccountRef,
        api::UsageQuery,
        api::SaveCustomer,
        crate::engine::SavePlan,
        crate::plan::PlanVersion,
        crate::store::PlanQuery,
        crate::store::PlanListQuery,
        api::PlanPage,
        crate::engine::CreateSubscription,
        crate::engine::CreatedSubscription,
        api::SubscriptionRef,
        api::InvoiceRef,
        api::CreditNoteRef,
        crate::scenario::DocumentedPreview,
        api::PreviewScenarioOptions,
        crate::engine::ChangeQuantity,
        crate::engine::CancelSubscription,
        crate::engine::WithdrawCancel,
        crate::engine::PauseSubscription,
        crate::engine::ResumeSubscription,
        crate::engine::ChangePlan,
        crate::engine::ChangedSubscription,
        crate::store::CreditNoteQuery,
        crate::engine::ReleaseInvoice,
        crate::engine::VoidInvoice,
        crate::engine::VoidedInvoice,
        crate::engine::CreditInvoice,
        crate::credit_note::CreditNote,
        crate::invoice::Invoice,
        api::RunDueRequest,
        api::RunDueReport,
        api::ListInvoices,
        api::InvoicePage,
        api::ListCreditNotes,
        api::CreditNotePage,
        api::ListSubscriptions,
        api::SubscriptionPage,
        api::ListCustomers,
        api::CustomerPage,
        crate::invoice::IssuedInvoice,
        AgentPayload,
        crate::audit::feed::EventsRequest,
        crate::audit::feed::EventPage,
        crate::audit::platform::PlatformEvent,
        api::AddWebhook,
        api::AddedWebhook,
        api::WebhookRef,
        api::WebhookInfo,
        api::WebhookList,
        api::DeliverRequest,
        crate::webhooks::DeliverySummary,
    );
    let mut definitions = generator.take_definitions(true);
    definitions.values_mut().for_each(plain_descriptions);
    definitions.sort_keys();
    definitions
}
