//! Node.js bindings of ai-billing: the npm package `@pelcro/ai-billing`.
//!
//! Thin wrappers over [`ai_billing::api`], which holds every operation, default and check:
//!
//! - `interpretPrompt(prompt, options?)`: what a plan prompt says ([`interpreter`]).
//! - `previewScenario(scenario, options?)`: a scenario billed as `ai-billing preview --json`
//!   does, with the HTML documents of its invoices and credit notes when asked ([`scenario`]).
//! - `usageQueries()`: the predefined usage queries a plan can name ([`usage`]).
//! - `BillingEngine`: plans, customers, subscriptions and billing runs on SQLite or PostgreSQL
//!   ([`engine`]), and the platform's events on it: the pull feed and webhooks ([`events`]).
//! - `noop()`: nothing, to measure the cost of one call across the boundary.
//!
//! Requests and answers cross as JSON values in the platform's shapes ([`value`]); every failure
//! is a JavaScript `Error` whose `code` is the core's stable code ([`error`]). Every call that
//! does I/O returns a Promise and runs on napi's tokio runtime ([`promise`]).

#![warn(missing_docs)]

pub mod engine;
pub mod error;
pub mod events;
pub mod interpreter;
pub mod promise;
pub mod scenario;
pub mod usage;
pub mod value;

use napi_derive::napi;

/// Does nothing: the cost of one synchronous call from JavaScript into the addon and back, for
/// the boundary benchmark (`bench/interpret.js`).
#[napi]
pub fn noop() {}
