//! The request and answer types of the store's ports: what a call names, so fields can be added
//! without breaking callers.

use std::fmt;

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;

use crate::audit::AuditEvent;
use crate::credit_note::CreditNote;
use crate::error::{Error, Result};
use crate::invoice::IssuedInvoice;
use crate::subscription::{InvoiceStatus, Subscription, SubscriptionStatus};

use super::IdempotencyRecord;
use super::listing::Page;

#[cfg(doc)]
use crate::store::{AuditOutbox, BillingState};

/// A page of due subscriptions claimed by a billing run ([`BillingState::claim_due`]).
///
/// The claim lasts until the page is given to [`BillingState::commit_claimed`] or dropped.
pub struct ClaimedPage {
    /// The claimed subscriptions, in (account id, subscription id) order, as they are now.
    pub subscriptions: Vec<Subscription>,
    /// What holds the claim (a store's open transaction), when the store claims.
    hold: Option<Box<dyn std::any::Any + Send>>,
}

impl ClaimedPage {
    /// A page no claim holds: the default of stores that rely on compare-and-set alone.
    pub fn unlocked(subscriptions: Vec<Subscription>) -> Self {
        ClaimedPage {
            subscriptions,
            hold: None,
        }
    }

    /// A page whose claim `hold` keeps until it is committed or dropped.
    pub fn held(subscriptions: Vec<Subscription>, hold: Box<dyn std::any::Any + Send>) -> Self {
        ClaimedPage {
            subscriptions,
            hold: Some(hold),
        }
    }

    /// What holds the claim, for the store that made it.
    pub fn into_hold(self) -> Option<Box<dyn std::any::Any + Send>> {
        self.hold
    }
}

impl fmt::Debug for ClaimedPage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClaimedPage")
            .field("subscriptions", &self.subscriptions.len())
            .field("held", &self.hold.is_some())
            .finish()
    }
}

/// Which plan version to read.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PlanQuery {
    /// The account.
    pub account_id: String,
    /// The plan.
    pub plan_id: String,
    /// A version number, or `None` for the latest.
    #[serde(default)]
    pub version: Option<u32>,
}

/// Which plans to list: one account's, each at its latest version, for paging by plan id.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PlanListQuery {
    /// The account.
    pub account_id: String,
    /// Only plans whose id comes strictly after this one (the last id of the previous page).
    #[serde(default)]
    pub after: Option<String>,
    /// At most this many (all when `None`).
    #[serde(default)]
    pub limit: Option<u32>,
}

/// A subscription to create, with its first invoice when it is billed at creation.
#[derive(Debug, Clone, PartialEq)]
pub struct NewSubscription {
    /// The subscription, as it is after creation (and after its first invoice).
    pub subscription: Subscription,
    /// The first invoice, for plans billed in advance that start now.
    pub invoice: Option<IssuedInvoice>,
    /// The events of the creation.
    pub events: Vec<AuditEvent>,
    /// The record of the request, for a retry to find (a creation is always keyed).
    pub idempotency: Option<IdempotencyRecord>,
}

/// A change to a subscription, computed from the state at `expected_revision`.
#[derive(Debug, Clone, PartialEq)]
pub struct SubscriptionCommit {
    /// The revision the change was computed from.
    pub expected_revision: i64,
    /// The new state; its revision is `expected_revision + 1`.
    pub subscription: Subscription,
    /// The invoice the change issues, if any.
    pub invoice: Option<IssuedInvoice>,
    /// Invoices of the subscription whose status the change sets (a release, a void), each
    /// written only over the status it was computed from, and before `invoice`: a void frees
    /// its period for the invoice that bills it again in the same commit.
    pub invoice_status: Vec<InvoiceStatusChange>,
    /// The credit notes the change issues (a decrease settled on a period already billed).
    pub credit_notes: Vec<CreditNote>,
    /// The events of the change.
    pub events: Vec<AuditEvent>,
    /// The record of the request that made the change, when it came with a key.
    pub idempotency: Option<IdempotencyRecord>,
}

impl SubscriptionCommit {
    /// Checks that the new state's revision is `expected_revision + 1`, as [`BillingState::commit`]
    /// requires. Every adapter calls it before it touches its data, so a bad request is refused
    /// the same way (and with the same message) whatever the store.
    pub(crate) fn check_revision(&self) -> Result<()> {
        if self.expected_revision.checked_add(1) == Some(self.subscription.revision) {
            return Ok(());
        }
        Err(Error::invalid(
            "subscription.revision",
            format!(
                "the new state's revision is {} but the change was computed from revision {}",
                self.subscription.revision, self.expected_revision
            ),
        ))
    }
}

/// One invoice's status set by a commit ([`SubscriptionCommit::invoice_status`]): written only
/// when the invoice, of the commit's subscription, still has status `from`; otherwise nothing of
/// the commit is written and it is [`CommitOutcome::Stale`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvoiceStatusChange {
    /// The invoice.
    pub invoice_id: String,
    /// The status it was read with.
    pub from: InvoiceStatus,
    /// The status it gets.
    pub to: InvoiceStatus,
}

/// What [`BillingState::commit`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommitOutcome {
    /// Everything was written.
    Committed,
    /// The subscription is no longer at the expected revision (or no longer exists): nothing was
    /// written. Read it again and recompute.
    Stale,
    /// An invoice for the same period that is not void already exists: nothing was written.
    InvoiceExists,
    /// Another writer holds the subscription right now (a run's page being billed): nothing
    /// was written and nothing was waited for, so no connection is held while the other
    /// finishes. Read it again shortly and recompute.
    Busy,
}

/// Which subscriptions are due.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueQuery {
    /// Due when `next_invoice_at <= due_by`.
    pub due_by: DateTime<Utc>,
    /// Only after this (account id, subscription id), for paging.
    pub after: Option<(String, String)>,
    /// At most this many.
    pub limit: u32,
}

/// Which invoices to list: without a `page`, in (account, subscription, period start) order;
/// with one, that page in the order they were written.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct InvoiceQuery {
    /// Only this account's.
    pub account_id: Option<String>,
    /// Only this subscription's (with `account_id`).
    pub subscription_id: Option<String>,
    /// At most this many (all when `None`); a page has its own limit.
    pub limit: Option<u32>,
    /// Only this customer's.
    pub customer_id: Option<String>,
    /// Only those in this status.
    pub status: Option<InvoiceStatus>,
    /// Only those issued on or after this local date...
    pub issued_from: Option<NaiveDate>,
    /// ...and on or before this one.
    pub issued_to: Option<NaiveDate>,
    /// One page of them, by `(created_at, id)`.
    pub page: Option<Page>,
}

/// Which credit notes to list: an account's, or one subscription's, in (subscription id, number)
/// order.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreditNoteQuery {
    /// The account.
    pub account_id: String,
    /// Only this subscription's.
    #[serde(default)]
    pub subscription_id: Option<String>,
    /// At most this many (all when `None`).
    #[serde(default)]
    pub limit: Option<u32>,
    /// Only this customer's.
    #[serde(default)]
    pub customer_id: Option<String>,
    /// Only those crediting this invoice.
    #[serde(default)]
    pub invoice_id: Option<String>,
    /// Only those issued on or after this local date...
    #[serde(default)]
    pub issued_from: Option<NaiveDate>,
    /// ...and on or before this one.
    #[serde(default)]
    pub issued_to: Option<NaiveDate>,
    /// One page of them, by `(created_at, id)`, instead of (subscription, number) order.
    #[serde(skip)]
    #[schemars(skip)]
    pub page: Option<Page>,
}

/// A page of an account's subscriptions, by `(created_at, id)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscriptionQuery {
    /// The account.
    pub account_id: String,
    /// Only those in this status.
    pub status: Option<SubscriptionStatus>,
    /// Only those on this plan.
    pub plan_id: Option<String>,
    /// Only this customer's.
    pub customer_id: Option<String>,
    /// The page.
    pub page: Page,
}

/// A page of an account's customers, by id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerQuery {
    /// The account.
    pub account_id: String,
    /// The page (its keys are ids alone: [`super::ListKey::id_only`]).
    pub page: Page,
}

/// One customer's usage window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageRequest {
    /// The predefined query's name (`shipments_by_weekday`).
    pub query: String,
    /// The account.
    pub account_id: String,
    /// The customer.
    pub customer_id: String,
    /// The window's start, inclusive.
    pub from: DateTime<Utc>,
    /// The window's end, exclusive.
    pub to: DateTime<Utc>,
    /// The zone whose local weekdays count.
    pub tz: Tz,
}

/// Counts of what a store holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct StoreStats {
    /// Subscriptions, all accounts.
    pub subscriptions: u64,
    /// Invoices, all accounts.
    pub invoices: u64,
    /// Events in the outbox, shipped or not.
    pub audit_events: u64,
    /// Events neither shipped nor rejected: what [`AuditOutbox::pending_events`] lists.
    pub audit_pending: u64,
    /// Events the sink rejected, kept in the outbox with their reasons
    /// ([`AuditOutbox::rejected_events`]).
    pub audit_rejected: u64,
}

/// Whether `value` passes a filter that may be absent.
fn passes<T: PartialEq + ?Sized>(filter: Option<&T>, value: &T) -> bool {
    filter.is_none_or(|wanted| wanted == value)
}

/// Whether `date` falls in `[from, to]`, each bound optional.
fn within(from: Option<NaiveDate>, to: Option<NaiveDate>, date: NaiveDate) -> bool {
    from.is_none_or(|from| date >= from) && to.is_none_or(|to| date <= to)
}

impl InvoiceQuery {
    /// Whether `invoice` passes every filter of the query (the stores that filter in memory).
    pub fn matches(&self, invoice: &IssuedInvoice) -> bool {
        passes(self.account_id.as_deref(), invoice.account_id.as_str())
            && passes(
                self.subscription_id.as_deref(),
                invoice.subscription_id.as_str(),
            )
            && passes(self.customer_id.as_deref(), invoice.customer_id.as_str())
            && passes(self.status.as_ref(), &invoice.status)
            && within(self.issued_from, self.issued_to, invoice.invoice.issue_date)
    }
}

impl CreditNoteQuery {
    /// Whether `note` passes every filter of the query (the stores that filter in memory).
    pub fn matches(&self, note: &CreditNote) -> bool {
        note.account_id == self.account_id
            && passes(
                self.subscription_id.as_deref(),
                note.subscription_id.as_str(),
            )
            && passes(self.customer_id.as_deref(), note.customer_id.as_str())
            && passes(self.invoice_id.as_deref(), note.invoice_id.as_str())
            && within(self.issued_from, self.issued_to, note.issue_date)
    }
}

impl SubscriptionQuery {
    /// Whether `subscription` passes every filter of the query.
    pub fn matches(&self, subscription: &Subscription) -> bool {
        subscription.account_id == self.account_id
            && passes(self.status.as_ref(), &subscription.status)
            && passes(self.plan_id.as_deref(), subscription.plan_id.as_str())
            && passes(
                self.customer_id.as_deref(),
                subscription.customer_id.as_str(),
            )
    }
}
