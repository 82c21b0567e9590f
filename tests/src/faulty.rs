//! [`FaultyStore`]: a [`Store`] that delegates every method to another and fails one call on
//! purpose: the Nth call of one method, either **before** it reaches the inner store (nothing
//! written) or **after** the inner store did it (a lost acknowledgement: the write happened, the
//! caller is told it failed). It counts every call, so a clean run tells which faults to try.
//!
//! Every method of the trait is delegated, the ones with default implementations included
//! (`customers`, `usage_many`, `claim_due`, `commit_claimed`, `close`): a wrapper that let a
//! default run would hide the inner store's own implementation.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use ai_billing::audit::AuditEvent;
use ai_billing::store::{
    AuditOutbox, BillingState, ClaimedPage, CommitOutcome, DueQuery, FeedPage, FeedQuery,
    FixtureStore, IdempotencyRecord, InvoiceQuery, NewSubscription, PlanListQuery, PlanQuery,
    StoreStats, SubscriptionCommit, UsageFixtures, UsageRequest, UsageSource, WebhookEndpoints,
};
use ai_billing::subscription::{Customer, Subscription};
use ai_billing::usage::{PeriodUsage, Return, Shipment};
use ai_billing::webhooks::WebhookEndpoint;
use ai_billing::{Account, Error, IssuedInvoice, PlanVersion, Result};
use async_trait::async_trait;
use chrono::{DateTime, Utc};

/// Which call fails, and when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    /// The method (`"commit"`, `"claim_due"`, ...).
    pub method: &'static str,
    /// The call that fails, counted from 1 since the fault was set.
    pub nth: u64,
    /// `true`: the inner store does the call, then the caller gets an error (a lost ack).
    pub after: bool,
}

#[derive(Debug, Default)]
struct State {
    fault: Option<Fault>,
    calls: BTreeMap<&'static str, u64>,
    injected: u64,
}

/// A store that fails one chosen call (see the module's documentation).
#[derive(Debug, Clone)]
pub struct FaultyStore {
    inner: Arc<dyn FixtureStore>,
    state: Arc<Mutex<State>>,
}

impl FaultyStore {
    /// A wrapper of `inner` with no fault set.
    pub fn new(inner: Arc<dyn FixtureStore>) -> Self {
        FaultyStore {
            inner,
            state: Arc::default(),
        }
    }

    /// Sets (or clears) the fault and restarts the call counts.
    pub fn set_fault(&self, fault: Option<Fault>) {
        let mut state = self.state.lock().unwrap();
        state.fault = fault;
        state.calls.clear();
    }

    /// Calls per method since the fault was last set.
    pub fn calls(&self) -> BTreeMap<&'static str, u64> {
        self.state.lock().unwrap().calls.clone()
    }

    /// How many faults were injected.
    pub fn injected(&self) -> u64 {
        self.state.lock().unwrap().injected
    }

    /// Counts a call of `method`; `Some(after)` when this is the call that fails.
    fn count(&self, method: &'static str) -> Option<bool> {
        let mut state = self.state.lock().unwrap();
        let n = {
            let n = state.calls.entry(method).or_default();
            *n += 1;
            *n
        };
        match &state.fault {
            Some(fault) if fault.method == method && fault.nth == n => {
                let after = fault.after;
                state.injected += 1;
                Some(after)
            }
            _ => None,
        }
    }

    async fn gate<T, F>(&self, method: &'static str, call: F) -> Result<T>
    where
        F: Future<Output = Result<T>>,
    {
        match self.count(method) {
            None => call.await,
            Some(false) => Err(injected(method, "before the call")),
            Some(true) => {
                let _ = call.await;
                Err(injected(
                    method,
                    "after the call succeeded (a lost acknowledgement)",
                ))
            }
        }
    }
}

fn injected(method: &str, when: &str) -> Error {
    Error::Storage {
        action: format!("{method} (an injected fault)"),
        source: format!("injected fault {when}").into(),
    }
}

#[async_trait]
impl BillingState for FaultyStore {
    async fn migrate(&self) -> Result<()> {
        self.gate("migrate", self.inner.migrate()).await
    }

    async fn put_account(&self, account: &Account, events: &[AuditEvent]) -> Result<()> {
        self.gate("put_account", self.inner.put_account(account, events))
            .await
    }

    async fn account(&self, id: &str) -> Result<Option<Account>> {
        self.gate("account", self.inner.account(id)).await
    }

    async fn put_customer(&self, customer: &Customer, events: &[AuditEvent]) -> Result<()> {
        self.gate("put_customer", self.inner.put_customer(customer, events))
            .await
    }

    async fn customer(&self, account_id: &str, id: &str) -> Result<Option<Customer>> {
        self.gate("customer", self.inner.customer(account_id, id))
            .await
    }

    async fn insert_plan_version(
        &self,
        version: &PlanVersion,
        events: &[AuditEvent],
    ) -> Result<bool> {
        self.gate(
            "insert_plan_version",
            self.inner.insert_plan_version(version, events),
        )
        .await
    }

    async fn plan_version(&self, query: &PlanQuery) -> Result<Option<PlanVersion>> {
        self.gate("plan_version", self.inner.plan_version(query))
            .await
    }

    async fn list_plans(&self, query: &PlanListQuery) -> Result<Vec<PlanVersion>> {
        self.gate("list_plans", self.inner.list_plans(query)).await
    }

    async fn insert_subscription(&self, request: &NewSubscription) -> Result<()> {
        self.gate(
            "insert_subscription",
            self.inner.insert_subscription(request),
        )
        .await
    }

    async fn idempotency_record(
        &self,
        account_id: &str,
        key: &str,
    ) -> Result<Option<IdempotencyRecord>> {
        self.gate(
            "idempotency_record",
            self.inner.idempotency_record(account_id, key),
        )
        .await
    }

    async fn subscription(&self, account_id: &str, id: &str) -> Result<Option<Subscription>> {
        self.gate("subscription", self.inner.subscription(account_id, id))
            .await
    }

    async fn commit(&self, request: &SubscriptionCommit) -> Result<CommitOutcome> {
        self.gate("commit", self.inner.commit(request)).await
    }

    async fn due_subscriptions(&self, query: &DueQuery) -> Result<Vec<Subscription>> {
        self.gate("due_subscriptions", self.inner.due_subscriptions(query))
            .await
    }

    async fn invoices(&self, query: &InvoiceQuery) -> Result<Vec<IssuedInvoice>> {
        self.gate("invoices", self.inner.invoices(query)).await
    }

    async fn credit_notes(
        &self,
        query: &ai_billing::store::CreditNoteQuery,
    ) -> Result<Vec<ai_billing::credit_note::CreditNote>> {
        self.gate("credit_notes", self.inner.credit_notes(query))
            .await
    }

    async fn list_subscriptions(
        &self,
        query: &ai_billing::store::SubscriptionQuery,
    ) -> Result<Vec<Subscription>> {
        self.gate("list_subscriptions", self.inner.list_subscriptions(query))
            .await
    }

    async fn list_customers(
        &self,
        query: &ai_billing::store::CustomerQuery,
    ) -> Result<Vec<Customer>> {
        self.gate("list_customers", self.inner.list_customers(query))
            .await
    }

    async fn stats(&self) -> Result<StoreStats> {
        self.gate("stats", self.inner.stats()).await
    }

    async fn customers(&self, keys: &[(String, String)]) -> Result<Vec<Option<Customer>>> {
        self.gate("customers", self.inner.customers(keys)).await
    }

    async fn claim_due(&self, query: &DueQuery) -> Result<ClaimedPage> {
        self.gate("claim_due", self.inner.claim_due(query)).await
    }

    async fn commit_claimed(
        &self,
        page: ClaimedPage,
        requests: &[SubscriptionCommit],
    ) -> Result<Vec<Result<CommitOutcome>>> {
        self.gate("commit_claimed", self.inner.commit_claimed(page, requests))
            .await
    }

    async fn close(&self) -> Result<()> {
        self.gate("close", self.inner.close()).await
    }
}

#[async_trait]
impl UsageSource for FaultyStore {
    async fn usage(&self, request: &UsageRequest) -> Result<PeriodUsage> {
        self.gate("usage", self.inner.usage(request)).await
    }

    async fn usage_many(&self, requests: &[UsageRequest]) -> Result<Vec<Result<PeriodUsage>>> {
        self.gate("usage_many", self.inner.usage_many(requests))
            .await
    }
}

#[async_trait]
impl AuditOutbox for FaultyStore {
    async fn append_events(&self, events: &[AuditEvent]) -> Result<()> {
        self.gate("append_events", self.inner.append_events(events))
            .await
    }

    async fn pending_events(&self, limit: u32) -> Result<Vec<AuditEvent>> {
        self.gate("pending_events", self.inner.pending_events(limit))
            .await
    }

    async fn mark_shipped(&self, ids: &[String], at: DateTime<Utc>) -> Result<()> {
        self.gate("mark_shipped", self.inner.mark_shipped(ids, at))
            .await
    }

    async fn mark_rejected(&self, rejected: &[(String, String)], at: DateTime<Utc>) -> Result<()> {
        self.gate("mark_rejected", self.inner.mark_rejected(rejected, at))
            .await
    }

    async fn rejected_events(&self, limit: u32) -> Result<Vec<(AuditEvent, String)>> {
        self.gate("rejected_events", self.inner.rejected_events(limit))
            .await
    }

    async fn retry_rejected(&self, ids: &[String]) -> Result<()> {
        self.gate("retry_rejected", self.inner.retry_rejected(ids))
            .await
    }

    async fn events_for(&self, account_id: &str, subject_id: &str) -> Result<Vec<AuditEvent>> {
        self.gate("events_for", self.inner.events_for(account_id, subject_id))
            .await
    }

    async fn feed(&self, query: &FeedQuery) -> Result<FeedPage> {
        self.gate("feed", self.inner.feed(query)).await
    }
}

#[async_trait]
impl WebhookEndpoints for FaultyStore {
    async fn put_webhook(
        &self,
        endpoint: &WebhookEndpoint,
        expected_revision: Option<u64>,
    ) -> Result<bool> {
        self.gate(
            "put_webhook",
            self.inner.put_webhook(endpoint, expected_revision),
        )
        .await
    }

    async fn webhook(&self, id: &str) -> Result<Option<WebhookEndpoint>> {
        self.gate("webhook", self.inner.webhook(id)).await
    }

    async fn webhooks(&self) -> Result<Vec<WebhookEndpoint>> {
        self.gate("webhooks", self.inner.webhooks()).await
    }

    async fn delete_webhook(&self, id: &str) -> Result<bool> {
        self.gate("delete_webhook", self.inner.delete_webhook(id))
            .await
    }
}

#[async_trait]
impl UsageFixtures for FaultyStore {
    async fn insert_shipments(
        &self,
        account_id: &str,
        customer_id: &str,
        rows: &[Shipment],
    ) -> Result<()> {
        self.gate(
            "insert_shipments",
            self.inner.insert_shipments(account_id, customer_id, rows),
        )
        .await
    }

    async fn insert_returns(
        &self,
        account_id: &str,
        customer_id: &str,
        rows: &[Return],
    ) -> Result<()> {
        self.gate(
            "insert_returns",
            self.inner.insert_returns(account_id, customer_id, rows),
        )
        .await
    }
}
