//! The [`Store`] port: where accounts, customers, plans and their versions, subscriptions,
//! invoices, the platform's usage tables and the audit outbox live.
//!
//! Adapters: [`MemoryStore`] (tests and examples), SQLite (feature `sqlite`,
//! [`crate::sqlite::SqliteStore`]) and PostgreSQL (feature `postgres`,
//! [`crate::postgres::PostgresStore`]). All pass the conformance suite of the `testkit` feature.
//!
//! # What every store guarantees
//! - **Atomic changes with their events.** Every write that takes `events` writes them to the
//!   audit outbox in the same transaction: a change never exists without its events, and a failed
//!   change leaves nothing (no invoice, no advanced period, no event).
//! - **Compare-and-set on subscriptions.** [`Store::commit`] writes a subscription's new state
//!   only over the revision it was computed from, and reports [`CommitOutcome::Stale`] otherwise.
//!   On PostgreSQL the row is locked (`SELECT ... FOR UPDATE`) for the check; on SQLite the
//!   transaction takes the write lock first (`BEGIN IMMEDIATE`) and waits when the database is busy.
//! - **One invoice per period.** An invoice's identity is (account, subscription, period start),
//!   enforced by a unique index: a second invoice for the same period is
//!   [`CommitOutcome::InvoiceExists`] and nothing of that commit is written.
//! - **Exact amounts.** Money is kept in integer minor units with its currency; rates as decimal
//!   text; instants to the microsecond.

use std::fmt;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use crate::audit::AuditEvent;
use crate::error::{Error, Result};
use crate::invoice::IssuedInvoice;
use crate::plan::{Account, PlanVersion};
use crate::subscription::{Customer, Subscription};
use crate::usage::{PeriodUsage, Return, Shipment};

pub mod memory;
#[cfg(feature = "testkit")]
pub mod testkit;

pub use memory::MemoryStore;

/// Opens the store a URL names: `sqlite::memory:` or `sqlite://PATH` (feature `sqlite`),
/// `postgres://...` or `postgresql://...` (feature `postgres`). It is not migrated: call
/// [`Store::migrate`]. Any other URL, or one whose feature is off, is
/// [`crate::Error::InvalidInput`] on `database url`.
pub async fn connect(url: &str) -> Result<std::sync::Arc<dyn Store>> {
    let scheme = url.split(':').next().unwrap_or_default();
    match scheme {
        #[cfg(feature = "sqlite")]
        "sqlite" => Ok(std::sync::Arc::new(
            crate::sqlite::SqliteStore::open(url).await?,
        )),
        #[cfg(feature = "postgres")]
        "postgres" | "postgresql" => Ok(std::sync::Arc::new(
            crate::postgres::PostgresStore::connect(url).await?,
        )),
        _ => Err(crate::Error::invalid(
            "database url",
            format!(
                "{:?} is not a database this build can open: use sqlite://PATH, sqlite::memory:{}",
                scheme,
                if cfg!(feature = "postgres") {
                    " or postgres://USER@HOST:PORT/DATABASE"
                } else {
                    " (PostgreSQL needs the postgres feature)"
                }
            ),
        )),
    }
}

/// Persistent state of the billing engine. Held as `Arc<dyn Store>`.
///
/// Reads of something that does not exist return `Ok(None)` (or an empty list); writes that name
/// something missing are [`crate::Error::NotFound`]; writes that would duplicate an id are
/// [`crate::Error::InvalidInput`] naming the id. Every read and write is scoped to one account.
#[async_trait]
pub trait Store: Send + Sync + fmt::Debug + 'static {
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
    /// invoice for the same period, is [`crate::Error::InvalidInput`] and nothing is written.
    async fn insert_subscription(&self, request: &NewSubscription) -> Result<()>;

    /// The subscription `id` of `account_id`.
    async fn subscription(&self, account_id: &str, id: &str) -> Result<Option<Subscription>>;

    /// Replaces a subscription's state over `expected_revision` and, in the same transaction,
    /// writes the invoice (if any) and the events. The new state's `revision` must be
    /// `expected_revision + 1`. See [`CommitOutcome`] for what is written when.
    async fn commit(&self, request: &SubscriptionCommit) -> Result<CommitOutcome>;

    /// Writes events on their own (a refused prompt, a failed renewal). Event ids are unique: a
    /// batch holding an id already in the outbox (or twice) is an error and writes no event.
    async fn append_events(&self, events: &[AuditEvent]) -> Result<()>;

    /// Active subscriptions whose `next_invoice_at` is at or before `query.due_by`, ordered by
    /// (account id, subscription id) in byte order (Rust's `str` order, `COLLATE "C"` in SQL),
    /// strictly after `query.after`, at most `query.limit`.
    async fn due_subscriptions(&self, query: &DueQuery) -> Result<Vec<Subscription>>;

    /// Invoices, ordered by (account id, subscription id, period start), ids in byte order.
    async fn invoices(&self, query: &InvoiceQuery) -> Result<Vec<IssuedInvoice>>;

    /// Inserts shipments of one customer of one account, in one transaction. Each row is checked
    /// first (non-empty unique id, quantity at least 1, whole seconds); a bad row or an existing id
    /// is [`crate::Error::InvalidInput`] naming it, and nothing is inserted.
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

    /// One customer's usage over a window, through a predefined usage query. Equal to
    /// [`crate::usage::aggregate`] over the customer's rows; a return in the window whose
    /// shipment does not exist is [`crate::Error::InvalidInput`] naming the return.
    async fn usage(&self, request: &UsageRequest) -> Result<PeriodUsage>;

    /// Events in the outbox neither shipped nor rejected, oldest first (in the order they were
    /// written, a batch in its own order; not by time or id), at most `limit`.
    async fn pending_events(&self, limit: u32) -> Result<Vec<AuditEvent>>;

    /// Marks events as shipped at `at`: pending events, and rejected ones too (the sink has them
    /// now, so they are no longer rejected). Unknown ids are ignored; marking twice changes
    /// nothing.
    async fn mark_shipped(&self, ids: &[String], at: DateTime<Utc>) -> Result<()>;

    /// Marks pending events as rejected by the sink at `at`, each `(id, reason)` with the sink's
    /// reason. A rejected event leaves [`Store::pending_events`] (so shipping cannot get stuck
    /// on it) but stays in the outbox with its reason, listed by [`Store::rejected_events`] until
    /// it is retried ([`Store::retry_rejected`]) or shipped. Unknown ids, and events already
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

    /// Counts of what the store holds.
    async fn stats(&self) -> Result<StoreStats>;

    /// Several customers at once, each `(account id, customer id)` in the order given (`None` for
    /// one that does not exist). The default reads them one by one with [`Store::customer`];
    /// databases read them in one statement.
    async fn customers(&self, keys: &[(String, String)]) -> Result<Vec<Option<Customer>>> {
        let mut found = Vec::with_capacity(keys.len());
        for (account_id, id) in keys {
            found.push(self.customer(account_id, id).await?);
        }
        Ok(found)
    }

    /// The usage of several windows, each as [`Store::usage`] would give it, in the order given:
    /// a request that fails fails on its own (its `Err` in its place). The outer `Err` is the
    /// store failing for all of them. The default runs them one by one.
    async fn usage_many(&self, requests: &[UsageRequest]) -> Result<Vec<Result<PeriodUsage>>> {
        let mut found = Vec::with_capacity(requests.len());
        for request in requests {
            found.push(self.usage(request).await);
        }
        Ok(found)
    }

    /// Claims a page of due subscriptions for a billing run to renew: the subscriptions
    /// [`Store::due_subscriptions`] lists for `query`, except those another run holds a claim on
    /// at this moment (which are skipped, not waited for). Renew them and end the claim with
    /// [`Store::commit_claimed`]; dropping the page ends it too, writing nothing.
    ///
    /// The default claims nothing (the page is the due list; [`Store::commit`]'s compare-and-set
    /// keeps two runs from billing a period twice). PostgreSQL locks the page's rows
    /// (`FOR UPDATE SKIP LOCKED`) until the claim ends, so runs in several processes share the
    /// due subscriptions without meeting.
    async fn claim_due(&self, query: &DueQuery) -> Result<ClaimedPage> {
        Ok(ClaimedPage::unlocked(self.due_subscriptions(query).await?))
    }

    /// Ends a claim from [`Store::claim_due`], committing `requests` (each a change to a
    /// subscription of the page, as [`Store::commit`] takes it; a subscription that owes several
    /// periods has one request per period, in order). Each request is written atomically on its
    /// own, exactly as if [`Store::commit`] were called for each in order, except that a
    /// request after one of the same subscription that was not written is not written either
    /// ([`CommitOutcome::Stale`]): its state was computed from the one before. Its outcome (or
    /// its own error) is in its place. The outer `Err` is the store failing: then some requests may
    /// be written (each whole, never a part of one) and the caller reads the subscriptions
    /// again. The default commits them one by one with [`Store::commit`].
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

    /// Closes the store's connections, waiting for calls in flight; later calls fail. Stores
    /// without connections keep the default, which does nothing.
    async fn close(&self) -> Result<()> {
        Ok(())
    }
}

/// A page of due subscriptions claimed by a billing run ([`Store::claim_due`]).
///
/// The claim lasts until the page is given to [`Store::commit_claimed`] or dropped.
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
    /// The events of the change.
    pub events: Vec<AuditEvent>,
}

impl SubscriptionCommit {
    /// Checks that the new state's revision is `expected_revision + 1`, as [`Store::commit`]
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

/// What [`Store::commit`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommitOutcome {
    /// Everything was written.
    Committed,
    /// The subscription is no longer at the expected revision (or no longer exists): nothing was
    /// written. Read it again and recompute.
    Stale,
    /// An invoice for the same period already exists: nothing was written.
    InvoiceExists,
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

/// Which invoices to list.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct InvoiceQuery {
    /// Only this account's.
    pub account_id: Option<String>,
    /// Only this subscription's (with `account_id`).
    pub subscription_id: Option<String>,
    /// At most this many (all when `None`).
    pub limit: Option<u32>,
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
    /// Events neither shipped nor rejected: what [`Store::pending_events`] lists.
    pub audit_pending: u64,
    /// Events the sink rejected, kept in the outbox with their reasons
    /// ([`Store::rejected_events`]).
    pub audit_rejected: u64,
}

// What every adapter checks and reports alike. The rules of the contract above live here once,
// so the adapters cannot drift apart in what they accept or in how they name a refusal; how each
// backend finds the fact (a map lookup, a unique key, a `RETURNING` list) stays in the adapter.

/// Checks a batch of events before any of it is written: every id non-empty and given once.
/// Whether an id is already in the outbox is left to the adapter, which finds it in its own way.
pub(crate) fn check_event_batch<'a>(
    events: impl IntoIterator<Item = &'a AuditEvent>,
) -> Result<()> {
    let mut seen = std::collections::HashSet::new();
    for event in events {
        if event.id.is_empty() {
            return Err(Error::invalid("events.id", "an event has an empty id"));
        }
        if !seen.insert(event.id.as_str()) {
            return Err(Error::invalid(
                "events.id",
                format!("event {:?} is given twice", event.id),
            ));
        }
    }
    Ok(())
}

/// The refusal of an event whose id is already in the outbox.
pub(crate) fn event_exists(id: &str) -> Error {
    Error::invalid(
        "events.id",
        format!("event {id:?} is already in the outbox"),
    )
}

/// Checks that a plan version to store has a plan id (its key in every store).
pub(crate) fn check_plan_id(plan_id: &str) -> Result<()> {
    if plan_id.is_empty() {
        return Err(Error::invalid("plan.id", "a stored plan needs an id"));
    }
    Ok(())
}

/// The refusal of [`Store::insert_subscription`] when the account already has the id.
pub(crate) fn subscription_exists(subscription: &Subscription) -> Error {
    Error::invalid(
        "subscription.id",
        format!(
            "subscription {:?} already exists in account {:?}",
            subscription.id, subscription.account_id
        ),
    )
}

/// The refusal of [`Store::insert_subscription`] when the first invoice's period already has one.
pub(crate) fn invoice_exists(invoice: &IssuedInvoice) -> Error {
    Error::invalid(
        "invoice",
        format!(
            "an invoice of subscription {:?} for the period starting {} already exists",
            invoice.subscription_id, invoice.invoice.period_start
        ),
    )
}

/// The refusal of a platform row (`what` is `shipment` or `return`, in `table`) whose id the
/// account already has.
pub(crate) fn usage_row_exists(table: &str, what: &str, id: &str, account_id: &str) -> Error {
    Error::invalid(
        format!("{table}.id"),
        format!("{what} {id:?} already exists in account {account_id:?}"),
    )
}

/// Checks a usage window before a database runs a template over it: `from` not after `to`
/// (as [`crate::usage::aggregate`] checks it for the in-memory rows).
#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub(crate) fn check_usage_window(from: DateTime<Utc>, to: DateTime<Utc>) -> Result<()> {
    if from > to {
        return Err(Error::invalid(
            "usage window",
            format!("starts at {from} after it ends at {to}"),
        ));
    }
    Ok(())
}

/// A customer's tax address from its three nullable columns, as both databases store it: no
/// address when all three are NULL, and a region or postal code without a country is not an
/// address the core writes (the `Err` says what is wrong, for the adapter's corruption error).
#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub(crate) fn stored_tax_address(
    country: Option<String>,
    region: Option<String>,
    postal_code: Option<String>,
) -> Result<Option<crate::tax::TaxAddress>, &'static str> {
    match country {
        Some(country) => Ok(Some(crate::tax::TaxAddress {
            country,
            region,
            postal_code,
        })),
        None if region.is_none() && postal_code.is_none() => Ok(None),
        None => Err("NULL while the address has a region or postal code"),
    }
}
