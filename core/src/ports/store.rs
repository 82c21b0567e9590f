//! The store's ports: where accounts, customers, plans and their versions, subscriptions,
//! invoices, the platform's usage and the audit outbox live, as one trait per concern:
//! [`BillingState`] (the catalogue, subscriptions and invoices), [`UsageSource`] (the platform's
//! usage through predefined queries), [`AuditOutbox`] (the events, their shipping and the feed
//! in a stable order), [`WebhookEndpoints`] (the webhook endpoints and their delivery state), and
//! [`Store`], all four at once, which the engine holds as `Arc<dyn Store>`. Writing usage rows is
//! not part of the port: [`UsageFixtures`] is for tests, the scenario preview and demo data.
//!
//! Adapters: [`MemoryStore`] (tests and examples), SQLite (feature `sqlite`,
//! [`crate::sqlite::SqliteStore`]) and PostgreSQL (feature `postgres`,
//! [`crate::postgres::PostgresStore`]), each implementing every trait here; [`crate::connect()`]
//! opens one by URL. All pass the conformance suite of the `testkit` feature.
//!
//! # What every store guarantees
//! - **Atomic changes with their events.** Every write that takes `events` writes them to the
//!   audit outbox in the same transaction: a change never exists without its events, and a failed
//!   change leaves nothing (no invoice, no advanced period, no event).
//! - **Compare-and-set on subscriptions.** [`BillingState::commit`] writes a subscription's new
//!   state only over the revision it was computed from, and reports [`CommitOutcome::Stale`]
//!   otherwise. On PostgreSQL the row is locked (`SELECT ... FOR UPDATE`) for the check; on SQLite
//!   the transaction takes the write lock first (`BEGIN IMMEDIATE`) and waits when the database is
//!   busy.
//! - **One invoice per period.** At most one invoice of (account, subscription, period start) is
//!   not void, enforced by a partial unique index: a second one is
//!   [`CommitOutcome::InvoiceExists`] and nothing of that commit is written. A voided invoice
//!   stays, and its period may be billed again by an invoice with another id
//!   ([`crate::subscription::rebilled_invoice_id`]), voided and written in one commit.
//! - **Status over status.** A commit's invoice status changes ([`InvoiceStatusChange`]) are
//!   written only over the status they were computed from (otherwise [`CommitOutcome::Stale`]).
//! - **One currency per invoice.** Its lines and taxes are in the invoice's currency
//!   ([`check_invoice_currency`], which every store calls before it writes).
//! - **One answer per request key.** A write that carries an [`IdempotencyRecord`] writes it in
//!   the same transaction; a second record of the same (account, key) is refused (a unique key)
//!   and nothing of its write is kept.
//! - **Exact amounts.** Money is kept in integer minor units with its currency; rates as decimal
//!   text; instants to the microsecond.

use std::fmt;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::audit::AuditEvent;
use crate::credit_note::CreditNote;
use crate::error::Result;
use crate::invoice::IssuedInvoice;
use crate::plan::{Account, PlanVersion};
use crate::subscription::{Customer, Subscription};
use crate::usage::{PeriodUsage, Return, Shipment};
use crate::webhooks::WebhookEndpoint;

mod checks;
mod feed;
mod idempotency;
mod listing;
pub mod memory;
mod requests;
#[cfg(feature = "testkit")]
pub mod testkit;

pub use checks::check_invoice_currency;
pub(crate) use checks::*;
pub use feed::{FeedPage, FeedQuery, OutboxPosition};
pub use idempotency::IdempotencyRecord;
pub use listing::{ListKey, Order, Page};
pub use memory::MemoryStore;
pub use requests::{
    ClaimedPage, CommitOutcome, CreditNoteQuery, CustomerQuery, DueQuery, InvoiceQuery,
    InvoiceStatusChange, NewSubscription, PlanListQuery, PlanQuery, StoreStats, SubscriptionCommit,
    SubscriptionQuery, UsageRequest,
};

/// Persistent state of the billing engine: the billing state, the usage source, the audit
/// outbox and the webhook endpoints together. Held as `Arc<dyn Store>`; every type that
/// implements the four is a `Store`.
pub trait Store: BillingState + UsageSource + AuditOutbox + WebhookEndpoints {}

impl<T: BillingState + UsageSource + AuditOutbox + WebhookEndpoints + ?Sized> Store for T {}

/// A [`Store`] that also takes usage rows ([`UsageFixtures`]): what tests, the scenario preview
/// and demo data open. Every type that implements both is one; it coerces to `Arc<dyn Store>`.
pub trait FixtureStore: Store + UsageFixtures {}

impl<T: Store + UsageFixtures + ?Sized> FixtureStore for T {}

/// The billing state: the catalogue (accounts, customers, plans and their versions), subscriptions
/// and their commits, and invoices. Every write that takes events writes them to the audit outbox
/// in the same transaction.
///
/// Reads of something that does not exist return `Ok(None)` (or an empty list); writes that name
/// something missing are [`crate::Error::NotFound`]; writes that would duplicate an id are
/// [`crate::Error::Conflict`] naming the id. Every read and write is scoped to one account.
#[async_trait]
pub trait BillingState: Send + Sync + fmt::Debug + 'static {
    /// Creates or upgrades the store's tables (the migrations of its dialect in
    /// `sql/migrations/`). Idempotent; safe to run from two processes at once.
    async fn migrate(&self) -> Result<()>;

    /// Creates or replaces an account, with its events.
    async fn put_account(&self, account: &Account, events: &[AuditEvent]) -> Result<()>;

    /// The account `id`.
    async fn account(&self, id: &str) -> Result<Option<Account>>;

    /// Creates or replaces a customer (its account must exist), with its events.
    async fn put_customer(&self, customer: &Customer, events: &[AuditEvent]) -> Result<()>;

    /// The customer `id` of `account_id`.
    async fn customer(&self, account_id: &str, id: &str) -> Result<Option<Customer>>;

    /// Several customers at once, each `(account id, customer id)` in the order given (`None` for
    /// one that does not exist). The default reads them one by one with [`BillingState::customer`];
    /// databases read them in one statement.
    async fn customers(&self, keys: &[(String, String)]) -> Result<Vec<Option<Customer>>> {
        let mut found = Vec::with_capacity(keys.len());
        for (account_id, id) in keys {
            found.push(self.customer(account_id, id).await?);
        }
        Ok(found)
    }

    /// Writes a plan version, with its events. `version.version` must be exactly one more than
    /// the plan's latest version (1 for a new plan); otherwise nothing is written and the result
    /// is `Ok(false)` (someone else saved a version first). Versions are never changed once
    /// written.
    async fn insert_plan_version(
        &self,
        version: &PlanVersion,
        events: &[AuditEvent],
    ) -> Result<bool>;

    /// A version of a plan: `query.version`, or the latest when it is `None`.
    async fn plan_version(&self, query: &PlanQuery) -> Result<Option<PlanVersion>>;

    /// The plans of `query.account_id`, each at its latest version, ordered by plan id in byte
    /// order (Rust's `str` order, `COLLATE "C"` in SQL), strictly after the plan id
    /// `query.after`, at most `query.limit` (all when `None`). An account with no plans, or one
    /// that does not exist, lists none. Page by passing the last plan id listed as `after`.
    async fn list_plans(&self, query: &PlanListQuery) -> Result<Vec<PlanVersion>>;

    /// Creates a subscription (revision as given, normally 1) and, in the same transaction, its
    /// first invoice if there is one, and the events. An existing subscription id, or an existing
    /// invoice for the same period, is [`crate::Error::Conflict`] and nothing is written; so is an
    /// event id already in the outbox. A first invoice with an amount in another currency than its
    /// own is [`crate::Error::CurrencyMismatch`]. Its idempotency record, if any, is written in
    /// the same transaction; a record whose (account, key) is taken is [`crate::Error::Conflict`]
    /// naming `request_id`, and nothing is written.
    async fn insert_subscription(&self, request: &NewSubscription) -> Result<()>;

    /// The record of the request made under `key` in `account_id` ([`IdempotencyRecord`]),
    /// written by [`BillingState::insert_subscription`] or [`BillingState::commit`].
    async fn idempotency_record(
        &self,
        account_id: &str,
        key: &str,
    ) -> Result<Option<IdempotencyRecord>>;

    /// The subscription `id` of `account_id`.
    async fn subscription(&self, account_id: &str, id: &str) -> Result<Option<Subscription>>;

    /// Replaces a subscription's state over `expected_revision` and, in the same transaction,
    /// writes the invoice (if any) and the events. The new state's `revision` must be
    /// `expected_revision + 1`. See [`CommitOutcome`] for what is written when. Its idempotency
    /// record, if any, is written with the rest; a record whose (account, key) is taken is
    /// [`crate::Error::Conflict`] naming `request_id`, and nothing is written.
    async fn commit(&self, request: &SubscriptionCommit) -> Result<CommitOutcome>;

    /// Active subscriptions whose `next_invoice_at` is at or before `query.due_by`, ordered by
    /// (account id, subscription id) in byte order (Rust's `str` order, `COLLATE "C"` in SQL),
    /// strictly after `query.after`, at most `query.limit`.
    async fn due_subscriptions(&self, query: &DueQuery) -> Result<Vec<Subscription>>;

    /// Claims a page of due subscriptions for a billing run to renew: the subscriptions
    /// [`BillingState::due_subscriptions`] lists for `query`, except those another run holds a claim on
    /// at this moment (which are skipped, not waited for). Renew them and end the claim with
    /// [`BillingState::commit_claimed`]; dropping the page ends it too, writing nothing.
    ///
    /// The default claims nothing (the page is the due list; [`BillingState::commit`]'s compare-and-set
    /// keeps two runs from billing a period twice). PostgreSQL locks the page's rows
    /// (`FOR UPDATE SKIP LOCKED`) until the claim ends, so runs in several processes share the
    /// due subscriptions without meeting.
    async fn claim_due(&self, query: &DueQuery) -> Result<ClaimedPage> {
        Ok(ClaimedPage::unlocked(self.due_subscriptions(query).await?))
    }

    /// Ends a claim from [`BillingState::claim_due`], committing `requests` (each a change to a
    /// subscription of the page, as [`BillingState::commit`] takes it; a subscription that owes several
    /// periods has one request per period, in order). Each request is written atomically on its
    /// own, exactly as if [`BillingState::commit`] were called for each in order, except that a
    /// request after one of the same subscription that was not written is not written either
    /// ([`CommitOutcome::Stale`]): its state was computed from the one before. Its outcome (or
    /// its own error) is in its place. The outer `Err` is the store failing: then some requests may
    /// be written (each whole, never a part of one) and the caller reads the subscriptions
    /// again. The default commits them one by one with [`BillingState::commit`].
    async fn commit_claimed(
        &self,
        page: ClaimedPage,
        requests: &[SubscriptionCommit],
    ) -> Result<Vec<Result<CommitOutcome>>> {
        drop(page);
        let mut outcomes = Vec::with_capacity(requests.len());
        // A later period of a subscription is written only over the state this call wrote for
        // the period before it (a matching revision written by someone else is another state).
        let mut broken = std::collections::HashSet::new();
        for request in requests {
            let key = (&request.subscription.account_id, &request.subscription.id);
            let outcome = if broken.contains(&key) {
                Ok(CommitOutcome::Stale)
            } else {
                self.commit(request).await
            };
            if !matches!(outcome, Ok(CommitOutcome::Committed)) {
                broken.insert(key);
            }
            outcomes.push(outcome);
        }
        Ok(outcomes)
    }

    /// Invoices, ordered by (account id, subscription id, period start, id), ids in byte order
    /// (a period billed again has its void invoices listed with it); with a page, that page by
    /// `(created_at, id)`.
    async fn invoices(&self, query: &InvoiceQuery) -> Result<Vec<IssuedInvoice>>;

    /// Credit notes, ordered by (subscription id, number); with a page, that page by
    /// `(created_at, id)`.
    async fn credit_notes(&self, query: &CreditNoteQuery) -> Result<Vec<CreditNote>>;

    /// A page of an account's subscriptions, by `(created_at, id)`.
    async fn list_subscriptions(&self, query: &SubscriptionQuery) -> Result<Vec<Subscription>>;

    /// A page of an account's customers, by id.
    async fn list_customers(&self, query: &CustomerQuery) -> Result<Vec<Customer>>;

    /// Counts of what the store holds.
    async fn stats(&self) -> Result<StoreStats>;

    /// Closes the store's connections, waiting for calls in flight; later calls fail. Stores
    /// without connections keep the default, which does nothing.
    async fn close(&self) -> Result<()> {
        Ok(())
    }
}

/// The platform's usage source: the predefined queries over its `shipments` and `returns` tables
/// (`sql/`), scoped to one customer of one account. A deployment may point it at the platform's own
/// database while the billing state lives elsewhere; it only reads.
#[async_trait]
pub trait UsageSource: Send + Sync + fmt::Debug + 'static {
    /// One customer's usage over a window, through a predefined usage query. Equal to
    /// [`crate::usage::aggregate`] over the customer's rows; a return in the window whose
    /// shipment does not exist is [`crate::Error::InvalidInput`] naming the return.
    async fn usage(&self, request: &UsageRequest) -> Result<PeriodUsage>;

    /// The usage of several windows, each as [`UsageSource::usage`] would give it, in the order given:
    /// a request that fails fails on its own (its `Err` in its place). The outer `Err` is the
    /// store failing for all of them. The default runs them one by one.
    async fn usage_many(&self, requests: &[UsageRequest]) -> Result<Vec<Result<PeriodUsage>>> {
        let mut found = Vec::with_capacity(requests.len());
        for request in requests {
            found.push(self.usage(request).await);
        }
        Ok(found)
    }
}

/// The audit outbox: events written with the changes they describe (through [`BillingState`]) or
/// on their own ([`AuditOutbox::append_events`]), and their shipping state (pending, shipped,
/// rejected) for [`crate::audit::ship_outbox`].
#[async_trait]
pub trait AuditOutbox: Send + Sync + fmt::Debug + 'static {
    /// Writes events on their own (a refused prompt, a failed renewal). Event ids are unique: a
    /// batch holding an id already in the outbox is [`crate::Error::Conflict`], one holding an id
    /// twice [`crate::Error::InvalidInput`], and neither writes any event.
    async fn append_events(&self, events: &[AuditEvent]) -> Result<()>;

    /// Events in the outbox neither shipped nor rejected, oldest first (in the order they were
    /// written, a batch in its own order; not by time or id), at most `limit`.
    async fn pending_events(&self, limit: u32) -> Result<Vec<AuditEvent>>;

    /// Marks events as shipped at `at`: pending events, and rejected ones too (the sink has them
    /// now, so they are no longer rejected). Unknown ids are ignored; marking twice changes
    /// nothing.
    async fn mark_shipped(&self, ids: &[String], at: DateTime<Utc>) -> Result<()>;

    /// Marks pending events as rejected by the sink at `at`, each `(id, reason)` with the sink's
    /// reason. A rejected event leaves [`AuditOutbox::pending_events`] (so shipping cannot get stuck
    /// on it) but stays in the outbox with its reason, listed by [`AuditOutbox::rejected_events`] until
    /// it is retried ([`AuditOutbox::retry_rejected`]) or shipped. Unknown ids, and events already
    /// shipped or rejected, are ignored (the first reason is kept). An id given twice in one call
    /// keeps its first reason.
    async fn mark_rejected(&self, rejected: &[(String, String)], at: DateTime<Utc>) -> Result<()>;

    /// Rejected events with their reasons, in the order they were written, at most `limit`.
    async fn rejected_events(&self, limit: u32) -> Result<Vec<(AuditEvent, String)>>;

    /// Puts rejected events back to pending (their reasons cleared), to ship them again once
    /// what made the sink refuse them is fixed. Unknown ids and events that are not rejected are
    /// ignored.
    async fn retry_rejected(&self, ids: &[String]) -> Result<()>;

    /// Every event of `account_id` about one subject (`subject_id`), or sharing a correlation id
    /// with one of those (so a subscription's trail holds its invoices' events), in the order
    /// written.
    async fn events_for(&self, account_id: &str, subject_id: &str) -> Result<Vec<AuditEvent>>;

    /// The events after `query.after` in the outbox's stable order ([`OutboxPosition`]) whose
    /// action is one of `query.actions` (and account `query.account_id`, when given), at most
    /// `query.limit`, shipped or not, with where the next page starts ([`FeedPage::end`]). An
    /// event appears at one position only, and never behind a position a page has passed: paging
    /// from [`OutboxPosition::START`] by `end` reads every matching event exactly once, while
    /// writers go on. The feed may lag the newest writes (on PostgreSQL, until every older
    /// transaction has ended); it never skips one.
    async fn feed(&self, query: &FeedQuery) -> Result<FeedPage>;
}

/// The webhook endpoints and their delivery state ([`crate::webhooks`]), kept with the outbox
/// they consume so a restart resumes where deliveries stood.
#[async_trait]
pub trait WebhookEndpoints: Send + Sync + fmt::Debug + 'static {
    /// Writes an endpoint. With `expected_revision` `None` it is new: an id already there is
    /// [`crate::Error::Conflict`]. Otherwise it replaces the endpoint only while that is at
    /// `expected_revision`, and answers whether it did (`false`: changed or removed meanwhile;
    /// nothing written). `endpoint.revision` must then be `expected_revision + 1`
    /// ([`crate::Error::InvalidInput`] otherwise).
    async fn put_webhook(
        &self,
        endpoint: &WebhookEndpoint,
        expected_revision: Option<u64>,
    ) -> Result<bool>;

    /// The endpoint `id`.
    async fn webhook(&self, id: &str) -> Result<Option<WebhookEndpoint>>;

    /// Every endpoint, by id in byte order.
    async fn webhooks(&self) -> Result<Vec<WebhookEndpoint>>;

    /// Removes the endpoint `id`; whether there was one.
    async fn delete_webhook(&self, id: &str) -> Result<bool>;
}

/// Usage rows written into the platform's tables: what tests, the scenario preview and the demo
/// data need, not the billing engine (which only reads usage through [`UsageSource`]). The SQLite,
/// PostgreSQL and memory stores implement it.
#[async_trait]
pub trait UsageFixtures: Send + Sync + fmt::Debug + 'static {
    /// Inserts shipments of one customer of one account, in one transaction. Each row is checked
    /// first (non-empty unique id, quantity at least 1, whole seconds); a bad row is
    /// [`crate::Error::InvalidInput`] and an id the account already has [`crate::Error::Conflict`],
    /// naming it, and nothing is inserted.
    async fn insert_shipments(
        &self,
        account_id: &str,
        customer_id: &str,
        rows: &[Shipment],
    ) -> Result<()>;

    /// Inserts returns of one customer of one account, checked like shipments (and a non-empty
    /// shipment id; the shipment need not exist yet).
    async fn insert_returns(
        &self,
        account_id: &str,
        customer_id: &str,
        rows: &[Return],
    ) -> Result<()>;
}
