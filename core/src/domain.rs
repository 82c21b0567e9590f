//! The pure domain: money, the billing calendar, plans and their pricing programs, the offline
//! interpreter, usage aggregation, the agent payload, tax, revenue recognition, invoices and
//! subscriptions. No I/O and no port: nothing here imports the engine, a port, an adapter or the
//! API (`core/tests/layers.rs` fails when something does). Each module is re-exported at the crate
//! root, so `ai_billing::money` and `crate::money` name the same module.

pub mod agent;
pub mod basis;
pub mod calendar;
pub mod changes;
pub mod chat;
pub mod clock;
pub mod credit_note;
pub mod document;
pub mod error;
pub mod interpreter;
pub mod invoice;
pub mod json;
pub mod late_usage;
pub mod locale;
pub mod money;
pub mod plan;
pub mod pricing;
pub mod proration;
pub mod revrec;
pub mod subscription;
pub mod tax;
pub mod usage;
