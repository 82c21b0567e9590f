//! # ai-billing
//!
//! Billing admins write a plan's billing logic in plain language; this crate turns it into a typed,
//! versioned [`PricingProgram`] and bills every subscription on the plan by that program: the first
//! invoice at the right moment, usage from the shipments table, tax on the final amount, a
//! time-based revenue schedule.
//!
//! The model proposes; deterministic code decides what is billed. The offline [`interpreter`] is a
//! real front end for billing language that refuses what it does not understand.
//!
//! ## Features
//! - `sqlite` (default): the embedded SQLite database through sqlx, the predefined usage queries of
//!   `sql/`, and [`scenario::preview`].
//! - `postgres`: the PostgreSQL [`Store`] (`postgres::PostgresStore`) with its embedded migrations
//!   (`sql/migrations/postgres/`), for production and scale.
//! - `openai`: the OpenAI adapter of the [`model::LanguageModel`] port (`openai::OpenAiModel`):
//!   chat completions with strict structured output, retries with backoff, a concurrency limit,
//!   on OpenAI or any OpenAI-compatible server.
//! - `opensearch`: the OpenSearch [`AuditSink`] (`opensearch::OpenSearchSink`), shipped to by
//!   [`audit::ship_outbox`]: bulk `create` by event id, per-item outcomes, an index template.
//!
//! - `webhooks`: the HTTP sender of webhooks (`webhook_http::HttpWebhookSender`), pumped by
//!   [`webhooks::deliver_webhooks`]: the platform's events posted by the Standard Webhooks
//!   convention.
//!
//! [`api`] is the library as the Node and C bindings expose it: one request in, one answer out,
//! in the platform's shapes, with JSON Schemas for each ([`schema::api_schemas`]).
//! - `testkit`: the public conformance suite every [`Store`] backend runs (`store::testkit`).
//!
//! ```
//! use ai_billing::{interpreter, calendar::{BillingInterval, IntervalUnit}, money::Currency};
//!
//! let context = interpreter::PlanContext {
//!     currency: Currency::parse("USD").unwrap(),
//!     interval: BillingInterval { unit: IntervalUnit::Month, count: 1 },
//! };
//! let program = interpreter::interpret("Bill $5 for the first month and increase by $1 per month", &context).unwrap();
//! assert_eq!(program.invoice_timing(), ai_billing::pricing::InvoiceTiming::AtStart);
//! assert!(interpreter::interpret("Charge whatever seems fair", &context).is_err());
//! ```
#![warn(missing_docs)]

// The layers, lowest first; each imports only itself and the layers before it in this list
// (docs/architecture.md; core/tests/layers.rs fails on an import that runs upwards).
pub mod adapters;
pub mod api;
pub mod domain;
pub mod engine;
pub mod ports;

#[cfg(feature = "openai")]
pub use adapters::openai;
#[cfg(feature = "opensearch")]
pub use adapters::opensearch;
#[cfg(feature = "postgres")]
pub use adapters::postgres;
#[cfg(feature = "sqlite")]
pub use adapters::sqlite;
#[cfg(feature = "webhooks")]
pub use adapters::webhook_http;
pub use api::{connect, scenario, schema};
pub use domain::{
    agent, basis, calendar, changes, chat, clock, credit_note, document, error, interpreter,
    invoice, json, late_usage, locale, money, plan, pricing, proration, revrec, subscription, tax,
    usage,
};
pub use ports::{audit, backoff, llm_interpreter, model, store, webhooks};

pub use audit::{AuditAction, AuditEvent, AuditSink};
pub use calendar::{BillingCalendar, BillingInterval, IntervalUnit, Period};
pub use clock::{Clock, FixedClock, SystemClock};
pub use connect::{connect, connect_with_fixtures};
pub use engine::Engine;
pub use error::{Error, ErrorCode, Result};
pub use interpreter::{Interpreter, OfflineInterpreter};
pub use invoice::{Invoice, IssuedInvoice, LineItem};
pub use money::{Currency, Money};
pub use plan::{Account, Plan, PlanType, PlanVersion};
pub use pricing::{InvoiceTiming, PricingProgram};
pub use store::{
    AuditOutbox, BillingState, FixtureStore, MemoryStore, Store, UsageFixtures, UsageSource,
    WebhookEndpoints,
};
pub use subscription::{
    BillingReason, Customer, InvoiceStatus, Quantity, Subscription, SubscriptionStatus,
};
pub use tax::{TaxCalculator, TaxRequest, TaxResult};
pub use usage::PeriodUsage;
