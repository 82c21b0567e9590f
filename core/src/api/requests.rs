//! The requests and answers of the [`BillingEngine`](super::BillingEngine) operations that the
//! engine's own types do not already spell (accounts, customers, pages, runs, audit shipping).

use chrono::{DateTime, NaiveDate, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::credit_note::CreditNote;
use crate::engine::{DEFAULT_ACTOR, RunReport};
use crate::invoice::IssuedInvoice;
use crate::plan::{Account, PlanVersion};
use crate::store::Order;
use crate::subscription::{Customer, InvoiceStatus, Subscription, SubscriptionStatus};

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

/// One invoice of an account.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct InvoiceRef {
    /// The account.
    pub account_id: String,
    /// The invoice.
    pub invoice_id: String,
}

/// One credit note of an account.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreditNoteRef {
    /// The account.
    pub account_id: String,
    /// The credit note.
    pub credit_note_id: String,
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

/// A page of an account's invoices, oldest (or newest) first, by the filters given.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListInvoices {
    /// The account.
    pub account_id: String,
    /// Only this subscription's.
    #[serde(default)]
    pub subscription_id: Option<String>,
    /// Only this customer's.
    #[serde(default)]
    pub customer_id: Option<String>,
    /// Only those in this status.
    #[serde(default)]
    pub status: Option<InvoiceStatus>,
    /// Only those issued on or after this local date (YYYY-MM-DD)...
    #[serde(default)]
    pub issued_from: Option<NaiveDate>,
    /// ...and on or before this one.
    #[serde(default)]
    pub issued_to: Option<NaiveDate>,
    /// `asc` (oldest first, the default) or `desc`.
    #[serde(default)]
    pub order: Option<Order>,
    /// At most this many (1 to 500; 100 when absent).
    #[serde(default)]
    pub limit: Option<u32>,
    /// `next_cursor` of the page before.
    #[serde(default)]
    pub cursor: Option<String>,
}

/// A page of an account's credit notes, oldest (or newest) first, by the filters given.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListCreditNotes {
    /// The account.
    pub account_id: String,
    /// Only this subscription's.
    #[serde(default)]
    pub subscription_id: Option<String>,
    /// Only this customer's.
    #[serde(default)]
    pub customer_id: Option<String>,
    /// Only those crediting this invoice.
    #[serde(default)]
    pub invoice_id: Option<String>,
    /// Only those issued on or after this local date (YYYY-MM-DD)...
    #[serde(default)]
    pub issued_from: Option<NaiveDate>,
    /// ...and on or before this one.
    #[serde(default)]
    pub issued_to: Option<NaiveDate>,
    /// `asc` (oldest first, the default) or `desc`.
    #[serde(default)]
    pub order: Option<Order>,
    /// At most this many (1 to 500; 100 when absent).
    #[serde(default)]
    pub limit: Option<u32>,
    /// `next_cursor` of the page before.
    #[serde(default)]
    pub cursor: Option<String>,
}

/// A page of an account's subscriptions, oldest (or newest) first, by the filters given.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListSubscriptions {
    /// The account.
    pub account_id: String,
    /// Only those in this status.
    #[serde(default)]
    pub status: Option<SubscriptionStatus>,
    /// Only those on this plan.
    #[serde(default)]
    pub plan_id: Option<String>,
    /// Only this customer's.
    #[serde(default)]
    pub customer_id: Option<String>,
    /// `asc` (oldest first, the default) or `desc`.
    #[serde(default)]
    pub order: Option<Order>,
    /// At most this many (1 to 500; 100 when absent).
    #[serde(default)]
    pub limit: Option<u32>,
    /// `next_cursor` of the page before.
    #[serde(default)]
    pub cursor: Option<String>,
}

/// A page of an account's customers, by id.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListCustomers {
    /// The account.
    pub account_id: String,
    /// `asc` (the default) or `desc`, by id.
    #[serde(default)]
    pub order: Option<Order>,
    /// At most this many (1 to 500; 100 when absent).
    #[serde(default)]
    pub limit: Option<u32>,
    /// `next_cursor` of the page before.
    #[serde(default)]
    pub cursor: Option<String>,
}

/// A page of invoices.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct InvoicePage {
    /// The invoices, in the order asked.
    pub data: Vec<IssuedInvoice>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// A page of credit notes.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct CreditNotePage {
    /// The credit notes, in the order asked.
    pub data: Vec<CreditNote>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// A page of subscriptions.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct SubscriptionPage {
    /// The subscriptions, in the order asked.
    pub data: Vec<Subscription>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// A page of customers.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct CustomerPage {
    /// The customers, by id.
    pub data: Vec<Customer>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
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
