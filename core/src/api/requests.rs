//! The requests and answers of the [`BillingEngine`](super::BillingEngine) operations that the
//! engine's own types do not already spell (accounts, customers, pages, runs, audit shipping).

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::engine::{DEFAULT_ACTOR, RunReport};
use crate::plan::{Account, PlanVersion};
use crate::subscription::Customer;

/// One account.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AccountRef {
    /// The account.
    pub account_id: String,
}

/// An account to create or update.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SaveAccount {
    /// The account.
    pub account: Account,
    /// Who saves it (default `api`).
    #[serde(default = "default_actor")]
    pub actor: String,
}

/// A customer to create or update.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SaveCustomer {
    /// The customer.
    pub customer: Customer,
    /// Who saves it (default `api`).
    #[serde(default = "default_actor")]
    pub actor: String,
}

/// One subscription of an account.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SubscriptionRef {
    /// The account.
    pub account_id: String,
    /// The subscription.
    pub subscription_id: String,
}

/// A page of plans, in plan id order, each at its latest version.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct PlanPage {
    /// The plans.
    pub plans: Vec<PlanVersion>,
    /// Pass as `after` for the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_after: Option<String>,
}

/// Which invoices to list: one account's, optionally one subscription's, oldest first.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListInvoices {
    /// The account.
    pub account_id: String,
    /// Only this subscription's.
    #[serde(default)]
    pub subscription_id: Option<String>,
    /// At most this many.
    #[serde(default)]
    pub limit: Option<u32>,
}

/// A billing run: everything due at or before `now`.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RunDueRequest {
    /// Bill what is due at or before this instant (RFC 3339); the current time when absent.
    #[serde(default)]
    pub now: Option<DateTime<Utc>>,
}

/// What a billing run did, and what reached OpenSearch.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct RunDueReport {
    /// The renewals.
    #[serde(flatten)]
    pub run: RunReport,
    /// The audit shipping after the run, when the engine ships to OpenSearch.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub audit: Option<AuditShipping>,
}

/// What shipping the audit trail after a run did. Events that did not go stay in the outbox
/// for the next run (or `ai-billing audit ship`); shipping never fails a run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct AuditShipping {
    /// Events stored by OpenSearch.
    pub shipped: u64,
    /// Events OpenSearch refused (kept with the reason).
    pub rejected: u64,
    /// Events still waiting.
    pub pending: u64,
    /// Why shipping stopped early, if it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

fn default_actor() -> String {
    DEFAULT_ACTOR.to_owned()
}
