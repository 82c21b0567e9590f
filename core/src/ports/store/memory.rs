//! [`MemoryStore`]: the [`Store`](crate::store::Store) kept in process memory, for tests, examples and scenarios.
//!
//! All state sits behind one [`std::sync::Mutex`], so every method is one atomic step: a write
//! either happens whole (with its events) or not at all, exactly as a database transaction. The
//! lock is never held across an `.await` (no method awaits while holding it). Orders are byte
//! orders of ids, as with `COLLATE "C"` in SQL.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Mutex, MutexGuard};

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};

mod webhooks;

use super::{
    AuditOutbox, BillingState, CommitOutcome, CreditNoteQuery, CustomerQuery, DueQuery, FeedPage,
    FeedQuery, IdempotencyRecord, InvoiceQuery, ListKey, NewSubscription, OutboxPosition,
    PlanListQuery, PlanQuery, StoreStats, SubscriptionCommit, SubscriptionQuery, UsageFixtures,
    UsageRequest, UsageSource, check_credit_note, check_event_batch, check_invoice_currency,
    check_plan_id, credit_note_exists, event_exists, invoice_exists, request_key_taken,
    subscription_exists, usage_row_exists,
};
use crate::audit::AuditEvent;
use crate::credit_note::CreditNote;
use crate::error::{Error, Result};
use crate::invoice::IssuedInvoice;
use crate::plan::{Account, PlanVersion};
use crate::subscription::{Customer, InvoiceStatus, Subscription, SubscriptionStatus};
use crate::usage::{self, PeriodUsage, Return, Shipment};

/// A [`Store`](crate::store::Store) in memory: the reference implementation of the store's contract, used by tests,
/// examples and previews that need no database. Nothing survives the process.
#[derive(Debug, Default)]
pub struct MemoryStore {
    state: Mutex<State>,
}

/// (account id, id): how every account-scoped thing is keyed.
type Key = (String, String);

/// (account, subscription, period start, id): the invoice listing's order.
type InvoiceKey = (String, String, NaiveDate, String);

/// Everything the store holds.
#[derive(Debug, Default)]
struct State {
    accounts: BTreeMap<String, Account>,
    customers: BTreeMap<Key, Customer>,
    /// (account, plan, version).
    plan_versions: BTreeMap<(String, String, u32), PlanVersion>,
    subscriptions: BTreeMap<Key, Subscription>,
    /// (account, subscription, period start, id): at most one of a period is not void.
    invoices: BTreeMap<InvoiceKey, IssuedInvoice>,
    /// (account, subscription, number).
    credit_notes: BTreeMap<(String, String, u32), CreditNote>,
    /// (account, shipment id) -> (customer, row).
    shipments: UsageRows<Shipment>,
    /// (account, return id) -> (customer, row).
    returns: UsageRows<Return>,
    /// The outbox, in the order events were written.
    outbox: Vec<OutboxEntry>,
    /// Event id -> position in `outbox`.
    event_index: HashMap<String, usize>,
    /// The records of keyed requests, by (account, key).
    idempotency: BTreeMap<Key, IdempotencyRecord>,
    /// The webhook endpoints, by id.
    webhooks: BTreeMap<String, crate::webhooks::WebhookEndpoint>,
}

/// One event in the outbox.
#[derive(Debug)]
struct OutboxEntry {
    event: AuditEvent,
    shipped_at: Option<DateTime<Utc>>,
    /// When and why the sink rejected it (never with `shipped_at`).
    rejected: Option<(DateTime<Utc>, String)>,
}

impl OutboxEntry {
    /// Neither shipped nor rejected.
    fn is_pending(&self) -> bool {
        self.shipped_at.is_none() && self.rejected.is_none()
    }
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic elsewhere never leaves the state half-written (every write checks first, then
        // writes without failing), so a poisoned lock still guards consistent state.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl State {
    fn require_account(&self, account_id: &str) -> Result<()> {
        if self.accounts.contains_key(account_id) {
            Ok(())
        } else {
            Err(Error::not_found("account", account_id))
        }
    }

    fn require_customer(&self, account_id: &str, customer_id: &str) -> Result<()> {
        if self
            .customers
            .contains_key(&(account_id.to_owned(), customer_id.to_owned()))
        {
            Ok(())
        } else {
            Err(Error::not_found("customer", customer_id))
        }
    }

    /// Checks that `events` can be appended: ids non-empty and given once (as every store
    /// checks them), and not in the outbox yet.
    fn check_events(&self, events: &[AuditEvent]) -> Result<()> {
        check_event_batch(events)?;
        match events
            .iter()
            .find(|event| self.event_index.contains_key(&event.id))
        {
            Some(event) => Err(event_exists(&event.id)),
            None => Ok(()),
        }
    }

    /// Checks that a request's record can be written: its (account, key) is free.
    fn check_record(&self, record: Option<&IdempotencyRecord>) -> Result<()> {
        match record {
            Some(record)
                if self
                    .idempotency
                    .contains_key(&key(&record.account_id, &record.key)) =>
            {
                Err(request_key_taken(record))
            }
            _ => Ok(()),
        }
    }

    /// Writes a checked record; cannot fail.
    fn put_record(&mut self, record: Option<&IdempotencyRecord>) {
        if let Some(record) = record {
            self.idempotency
                .insert(key(&record.account_id, &record.key), record.clone());
        }
    }

    /// Appends checked events; cannot fail.
    fn push_events(&mut self, events: &[AuditEvent]) {
        for event in events {
            self.event_index.insert(event.id.clone(), self.outbox.len());
            self.outbox.push(OutboxEntry {
                event: event.clone(),
                shipped_at: None,
                rejected: None,
            });
        }
    }

    /// `invoice`, when its id is already stored, or an invoice of its period that is not void
    /// (or not voided by `voiding`, the ids the same commit voids).
    fn existing_invoice<'a>(
        &self,
        invoice: Option<&'a IssuedInvoice>,
        voiding: &[&str],
    ) -> Option<&'a IssuedInvoice> {
        invoice.filter(|invoice| {
            let (account_id, subscription_id, start, _) = State::invoice_key(invoice);
            let from = (
                account_id.clone(),
                subscription_id.clone(),
                start,
                String::new(),
            );
            let same_period = self
                .invoices
                .range(from..)
                .take_while(|((a, s, p, _), _)| {
                    *a == account_id && *s == subscription_id && *p == start
                })
                .any(|(_, stored)| {
                    stored.status != InvoiceStatus::Void && !voiding.contains(&stored.id.as_str())
                });
            same_period
                || self
                    .invoices
                    .values()
                    .any(|stored| stored.account_id == account_id && stored.id == invoice.id)
        })
    }

    /// The key of the invoice `id` of the subscription `key`, when it is stored with `status`.
    fn invoice_with_status(
        &self,
        key: &Key,
        id: &str,
        status: InvoiceStatus,
    ) -> Option<InvoiceKey> {
        self.invoices
            .iter()
            .find(|(_, stored)| {
                stored.account_id == key.0 && stored.subscription_id == key.1 && stored.id == id
            })
            .filter(|(_, stored)| stored.status == status)
            .map(|(invoice_key, _)| invoice_key.clone())
    }

    /// Writes a checked subscription change: the new state, its invoice and its events. Cannot
    /// fail, so a change is whole or absent.
    fn write_change(
        &mut self,
        sub_key: Key,
        subscription: &Subscription,
        invoice: Option<&IssuedInvoice>,
        credit_notes: &[CreditNote],
        events: &[AuditEvent],
    ) {
        self.subscriptions.insert(sub_key, subscription.clone());
        if let Some(invoice) = invoice {
            self.invoices
                .insert(State::invoice_key(invoice), invoice.clone());
        }
        for note in credit_notes {
            self.credit_notes
                .insert(State::credit_note_key(note), note.clone());
        }
        self.push_events(events);
    }

    fn credit_note_key(note: &CreditNote) -> (String, String, u32) {
        (
            note.account_id.clone(),
            note.subscription_id.clone(),
            note.number,
        )
    }

    /// Refuses credit notes that are already kept (or given twice), or whose invoice is not, or
    /// in another currency.
    fn check_credit_notes(&self, notes: &[CreditNote]) -> Result<()> {
        let mut given = std::collections::BTreeSet::new();
        for note in notes {
            let key = State::credit_note_key(note);
            if self.credit_notes.contains_key(&key) || !given.insert(key) {
                return Err(credit_note_exists(note));
            }
            let invoice = self.invoices.values().find(|invoice| {
                invoice.account_id == note.account_id && invoice.id == note.invoice_id
            });
            check_credit_note(note, invoice)?;
        }
        Ok(())
    }

    fn invoice_key(invoice: &IssuedInvoice) -> InvoiceKey {
        (
            invoice.account_id.clone(),
            invoice.subscription_id.clone(),
            invoice.invoice.period_start,
            invoice.id.clone(),
        )
    }

    fn latest_version(&self, account_id: &str, plan_id: &str) -> Option<&PlanVersion> {
        let from = (account_id.to_owned(), plan_id.to_owned(), 0);
        let to = (account_id.to_owned(), plan_id.to_owned(), u32::MAX);
        self.plan_versions
            .range(from..=to)
            .next_back()
            .map(|(_, version)| version)
    }

    /// The latest version of each plan of the account after the cursor, in plan id order: one
    /// walk over the account's versions, which the map keeps in (plan id, version) order.
    fn latest_versions(&self, query: &PlanListQuery) -> Vec<PlanVersion> {
        let limit = query.limit.map_or(usize::MAX, |limit| limit as usize);
        let after = query.after.as_deref();
        let from = (
            query.account_id.clone(),
            after.unwrap_or_default().to_owned(),
            0,
        );
        let mut latest: Vec<(&str, &PlanVersion)> = Vec::new();
        for ((account_id, plan_id, _), version) in self.plan_versions.range(from..) {
            if *account_id != query.account_id {
                break;
            }
            if after.is_some_and(|after| plan_id.as_str() <= after) {
                continue;
            }
            if let Some((last_id, last)) = latest.last_mut()
                && *last_id == plan_id.as_str()
            {
                *last = version;
            } else if latest.len() == limit {
                break;
            } else {
                latest.push((plan_id, version));
            }
        }
        latest
            .into_iter()
            .map(|(_, version)| version.clone())
            .collect()
    }
}

fn key(account_id: &str, id: &str) -> Key {
    (account_id.to_owned(), id.to_owned())
}

/// The platform's rows of one kind: (account, row id) -> (customer, row).
type UsageRows<T> = BTreeMap<Key, (String, T)>;

/// What tells one platform table (shipments or returns) from the other when rows are inserted:
/// the logic, all or nothing with the first existing id named, is the same for both.
struct UsageTable<T> {
    /// The table, as the error's field names it (`shipments`).
    table: &'static str,
    /// One row, as the error names it (`shipment`).
    what: &'static str,
    /// A row's id.
    id: fn(&T) -> &str,
}

const SHIPMENTS: UsageTable<Shipment> = UsageTable {
    table: "shipments",
    what: "shipment",
    id: |row| row.id.as_str(),
};

const RETURNS: UsageTable<Return> = UsageTable {
    table: "returns",
    what: "return",
    id: |row| row.id.as_str(),
};

impl<T: Clone> UsageTable<T> {
    /// Inserts checked rows of one customer: none when the account already has one of the ids.
    fn insert(
        &self,
        stored: &mut UsageRows<T>,
        account_id: &str,
        customer_id: &str,
        rows: &[T],
    ) -> Result<()> {
        if let Some(row) = rows
            .iter()
            .find(|row| stored.contains_key(&key(account_id, (self.id)(row))))
        {
            return Err(usage_row_exists(
                self.table,
                self.what,
                (self.id)(row),
                account_id,
            ));
        }
        for row in rows {
            stored.insert(
                key(account_id, (self.id)(row)),
                (customer_id.to_owned(), row.clone()),
            );
        }
        Ok(())
    }
}

/// The rows for which `mine` holds (given the row's key and customer), in key order.
fn rows_of<T: Clone>(stored: &UsageRows<T>, mine: impl Fn(&Key, &str) -> bool) -> Vec<T> {
    stored
        .iter()
        .filter(|(row_key, (customer, _))| mine(row_key, customer))
        .map(|(_, (_, row))| row.clone())
        .collect()
}

#[async_trait]
impl BillingState for MemoryStore {
    async fn migrate(&self) -> Result<()> {
        Ok(())
    }

    async fn put_account(&self, account: &Account, events: &[AuditEvent]) -> Result<()> {
        let mut state = self.lock();
        state.check_events(events)?;
        state.accounts.insert(account.id.clone(), account.clone());
        state.push_events(events);
        Ok(())
    }

    async fn account(&self, id: &str) -> Result<Option<Account>> {
        Ok(self.lock().accounts.get(id).cloned())
    }

    async fn put_customer(&self, customer: &Customer, events: &[AuditEvent]) -> Result<()> {
        let mut state = self.lock();
        state.require_account(&customer.account_id)?;
        state.check_events(events)?;
        state
            .customers
            .insert(key(&customer.account_id, &customer.id), customer.clone());
        state.push_events(events);
        Ok(())
    }

    async fn customer(&self, account_id: &str, id: &str) -> Result<Option<Customer>> {
        Ok(self.lock().customers.get(&key(account_id, id)).cloned())
    }

    async fn insert_plan_version(
        &self,
        version: &PlanVersion,
        events: &[AuditEvent],
    ) -> Result<bool> {
        let mut state = self.lock();
        state.require_account(&version.account_id)?;
        let plan_id = version.plan_id();
        check_plan_id(plan_id)?;
        let latest = state
            .latest_version(&version.account_id, plan_id)
            .map_or(0, |latest| latest.version);
        if latest.checked_add(1) != Some(version.version) {
            return Ok(false);
        }
        state.check_events(events)?;
        state.plan_versions.insert(
            (
                version.account_id.clone(),
                plan_id.to_owned(),
                version.version,
            ),
            version.clone(),
        );
        state.push_events(events);
        Ok(true)
    }

    async fn plan_version(&self, query: &PlanQuery) -> Result<Option<PlanVersion>> {
        let state = self.lock();
        let found = match query.version {
            Some(number) => {
                state
                    .plan_versions
                    .get(&(query.account_id.clone(), query.plan_id.clone(), number))
            }
            None => state.latest_version(&query.account_id, &query.plan_id),
        };
        Ok(found.cloned())
    }

    async fn list_plans(&self, query: &PlanListQuery) -> Result<Vec<PlanVersion>> {
        Ok(self.lock().latest_versions(query))
    }

    async fn insert_subscription(&self, request: &NewSubscription) -> Result<()> {
        let mut state = self.lock();
        let subscription = &request.subscription;
        state.require_account(&subscription.account_id)?;
        state.require_customer(&subscription.account_id, &subscription.customer_id)?;
        let sub_key = key(&subscription.account_id, &subscription.id);
        if state.subscriptions.contains_key(&sub_key) {
            return Err(subscription_exists(subscription));
        }
        if let Some(issued) = &request.invoice {
            check_invoice_currency(&issued.invoice)?;
        }
        if let Some(invoice) = state.existing_invoice(request.invoice.as_ref(), &[]) {
            return Err(invoice_exists(invoice));
        }
        state.check_events(&request.events)?;
        state.check_record(request.idempotency.as_ref())?;
        state.write_change(
            sub_key,
            subscription,
            request.invoice.as_ref(),
            &[],
            &request.events,
        );
        state.put_record(request.idempotency.as_ref());
        Ok(())
    }

    async fn idempotency_record(
        &self,
        account_id: &str,
        key_: &str,
    ) -> Result<Option<IdempotencyRecord>> {
        Ok(self.lock().idempotency.get(&key(account_id, key_)).cloned())
    }

    async fn subscription(&self, account_id: &str, id: &str) -> Result<Option<Subscription>> {
        Ok(self.lock().subscriptions.get(&key(account_id, id)).cloned())
    }

    async fn commit(&self, request: &SubscriptionCommit) -> Result<CommitOutcome> {
        request.check_revision()?;
        let subscription = &request.subscription;
        let mut state = self.lock();
        let sub_key = key(&subscription.account_id, &subscription.id);
        match state.subscriptions.get(&sub_key) {
            Some(stored) if stored.revision == request.expected_revision => {}
            _ => return Ok(CommitOutcome::Stale),
        }
        if let Some(issued) = &request.invoice {
            check_invoice_currency(&issued.invoice)?;
        }
        // Each status change over the status it was computed from, or nothing is written.
        let mut statuses = Vec::with_capacity(request.invoice_status.len());
        for change in &request.invoice_status {
            match state.invoice_with_status(&sub_key, &change.invoice_id, change.from) {
                Some(invoice_key) => statuses.push((invoice_key, change.to)),
                None => return Ok(CommitOutcome::Stale),
            }
        }
        let voiding: Vec<&str> = request
            .invoice_status
            .iter()
            .filter(|change| change.to == InvoiceStatus::Void)
            .map(|change| change.invoice_id.as_str())
            .collect();
        if state
            .existing_invoice(request.invoice.as_ref(), &voiding)
            .is_some()
        {
            return Ok(CommitOutcome::InvoiceExists);
        }
        state.check_events(&request.events)?;
        state.check_credit_notes(&request.credit_notes)?;
        state.check_record(request.idempotency.as_ref())?;
        for (invoice_key, status) in statuses {
            if let Some(stored) = state.invoices.get_mut(&invoice_key) {
                stored.status = status;
            }
        }
        state.write_change(
            sub_key,
            subscription,
            request.invoice.as_ref(),
            &request.credit_notes,
            &request.events,
        );
        state.put_record(request.idempotency.as_ref());
        Ok(CommitOutcome::Committed)
    }

    async fn due_subscriptions(&self, query: &DueQuery) -> Result<Vec<Subscription>> {
        let state = self.lock();
        let due = state
            .subscriptions
            .iter()
            .filter(|(key, _)| query.after.as_ref().is_none_or(|after| *key > after))
            .map(|(_, subscription)| subscription)
            .filter(|subscription| {
                subscription.status == SubscriptionStatus::Active
                    && subscription
                        .next_invoice_at
                        .is_some_and(|at| at <= query.due_by)
            })
            .take(query.limit as usize)
            .cloned()
            .collect();
        Ok(due)
    }

    async fn credit_notes(&self, query: &CreditNoteQuery) -> Result<Vec<CreditNote>> {
        let state = self.lock();
        let found = state
            .credit_notes
            .values()
            .filter(|note| query.matches(note));
        if let Some(page) = &query.page {
            return Ok(page.select(found.cloned(), |note| ListKey {
                at: note.created_at,
                id: note.id.clone(),
            }));
        }
        let limit = query.limit.map_or(usize::MAX, |limit| limit as usize);
        Ok(found.take(limit).cloned().collect())
    }

    async fn invoices(&self, query: &InvoiceQuery) -> Result<Vec<IssuedInvoice>> {
        let state = self.lock();
        let found = state
            .invoices
            .values()
            .filter(|invoice| query.matches(invoice));
        if let Some(page) = &query.page {
            return Ok(page.select(found.cloned(), |invoice| ListKey {
                at: invoice.created_at,
                id: invoice.id.clone(),
            }));
        }
        let limit = query.limit.map_or(usize::MAX, |limit| limit as usize);
        Ok(found.take(limit).cloned().collect())
    }

    async fn list_subscriptions(&self, query: &SubscriptionQuery) -> Result<Vec<Subscription>> {
        let state = self.lock();
        let found = state
            .subscriptions
            .values()
            .filter(|subscription| query.matches(subscription))
            .cloned();
        Ok(query.page.select(found, |subscription| ListKey {
            at: subscription.created_at,
            id: subscription.id.clone(),
        }))
    }

    async fn list_customers(&self, query: &CustomerQuery) -> Result<Vec<Customer>> {
        let state = self.lock();
        let found = state
            .customers
            .values()
            .filter(|customer| customer.account_id == query.account_id)
            .cloned();
        Ok(query
            .page
            .select(found, |customer| ListKey::id_only(customer.id.clone())))
    }

    async fn stats(&self) -> Result<StoreStats> {
        let state = self.lock();
        let pending = state
            .outbox
            .iter()
            .filter(|entry| entry.is_pending())
            .count();
        let rejected = state
            .outbox
            .iter()
            .filter(|entry| entry.rejected.is_some())
            .count();
        Ok(StoreStats {
            subscriptions: state.subscriptions.len() as u64,
            invoices: state.invoices.len() as u64,
            audit_events: state.outbox.len() as u64,
            audit_pending: pending as u64,
            audit_rejected: rejected as u64,
        })
    }
}

#[async_trait]
impl UsageSource for MemoryStore {
    async fn usage(&self, request: &UsageRequest) -> Result<PeriodUsage> {
        usage::find_query(&request.query)?;
        usage::check_scope(&request.account_id, &request.customer_id)?;
        let (shipments, returns) = {
            let state = self.lock();
            let mine = |row_key: &Key, customer: &str| {
                row_key.0 == request.account_id && customer == request.customer_id
            };
            (
                rows_of(&state.shipments, mine),
                rows_of(&state.returns, mine),
            )
        };
        usage::aggregate(&shipments, &returns, request.from, request.to, request.tz)
    }
}

#[async_trait]
impl AuditOutbox for MemoryStore {
    async fn append_events(&self, events: &[AuditEvent]) -> Result<()> {
        let mut state = self.lock();
        state.check_events(events)?;
        state.push_events(events);
        Ok(())
    }

    async fn pending_events(&self, limit: u32) -> Result<Vec<AuditEvent>> {
        let state = self.lock();
        Ok(state
            .outbox
            .iter()
            .filter(|entry| entry.is_pending())
            .take(limit as usize)
            .map(|entry| entry.event.clone())
            .collect())
    }

    async fn mark_shipped(&self, ids: &[String], at: DateTime<Utc>) -> Result<()> {
        let mut state = self.lock();
        for id in ids {
            if let Some(&position) = state.event_index.get(id) {
                let entry = &mut state.outbox[position];
                if entry.shipped_at.is_none() {
                    entry.shipped_at = Some(at);
                    entry.rejected = None;
                }
            }
        }
        Ok(())
    }

    async fn mark_rejected(&self, rejected: &[(String, String)], at: DateTime<Utc>) -> Result<()> {
        let mut state = self.lock();
        for (id, reason) in rejected {
            if let Some(&position) = state.event_index.get(id) {
                let entry = &mut state.outbox[position];
                if entry.is_pending() {
                    entry.rejected = Some((at, reason.clone()));
                }
            }
        }
        Ok(())
    }

    async fn rejected_events(&self, limit: u32) -> Result<Vec<(AuditEvent, String)>> {
        let state = self.lock();
        Ok(state
            .outbox
            .iter()
            .filter_map(|entry| {
                let (_, reason) = entry.rejected.as_ref()?;
                Some((entry.event.clone(), reason.clone()))
            })
            .take(limit as usize)
            .collect())
    }

    async fn retry_rejected(&self, ids: &[String]) -> Result<()> {
        let mut state = self.lock();
        for id in ids {
            if let Some(&position) = state.event_index.get(id) {
                state.outbox[position].rejected = None;
            }
        }
        Ok(())
    }

    async fn events_for(&self, account_id: &str, subject_id: &str) -> Result<Vec<AuditEvent>> {
        let state = self.lock();
        let in_account = || {
            state
                .outbox
                .iter()
                .map(|entry| &entry.event)
                .filter(|event| event.account_id == account_id)
        };
        let correlations: HashSet<&str> = in_account()
            .filter(|event| event.subject_id == subject_id)
            .filter_map(|event| event.correlation_id.as_deref())
            .collect();
        Ok(in_account()
            .filter(|event| {
                event.subject_id == subject_id
                    || event
                        .correlation_id
                        .as_deref()
                        .is_some_and(|correlation| correlations.contains(correlation))
            })
            .cloned()
            .collect())
    }

    async fn feed(&self, query: &FeedQuery) -> Result<FeedPage> {
        // One writer at a time: the write order is the commit order. An event's position is
        // (0, its index + 1), so START (0, 0) is before them all.
        let state = self.lock();
        let position = |index: usize| OutboxPosition {
            commit: 0,
            seq: index as i64 + 1,
        };
        let start = usize::try_from(query.after.seq)
            .unwrap_or(0)
            .min(state.outbox.len());
        let events: Vec<(OutboxPosition, AuditEvent)> = state.outbox[start..]
            .iter()
            .enumerate()
            .filter(|(_, entry)| {
                query.actions.contains(&entry.event.action)
                    && query
                        .account_id
                        .as_ref()
                        .is_none_or(|account| *account == entry.event.account_id)
            })
            .take(query.limit as usize)
            .map(|(offset, entry)| (position(start + offset), entry.event.clone()))
            .collect();
        let end = match events.last() {
            Some((last, _)) if events.len() == query.limit as usize => *last,
            _ => match state.outbox.len() {
                0 => query.after,
                written => query.after.max(position(written - 1)),
            },
        };
        Ok(FeedPage { events, end })
    }
}

#[async_trait]
impl UsageFixtures for MemoryStore {
    async fn insert_shipments(
        &self,
        account_id: &str,
        customer_id: &str,
        rows: &[Shipment],
    ) -> Result<()> {
        usage::check_shipments(account_id, customer_id, rows)?;
        SHIPMENTS.insert(&mut self.lock().shipments, account_id, customer_id, rows)
    }

    async fn insert_returns(
        &self,
        account_id: &str,
        customer_id: &str,
        rows: &[Return],
    ) -> Result<()> {
        usage::check_returns(account_id, customer_id, rows)?;
        RETURNS.insert(&mut self.lock().returns, account_id, customer_id, rows)
    }
}
#[cfg(all(test, feature = "testkit"))]
mod tests {
    use std::sync::Arc;

    use super::*;

    #[tokio::test(flavor = "multi_thread")]
    async fn memory_store_passes_the_conformance_suite() {
        super::super::testkit::run_all(|| async {
            Arc::new(MemoryStore::new()) as Arc<dyn crate::store::FixtureStore>
        })
        .await;
    }
}
