//! The audit trail: one [`AuditEvent`] per action, input, model answer and result.
//!
//! Events are written to the store's outbox in the same transaction as the change they describe
//! (so no change exists without its event) and shipped later by an [`AuditSink`]. An event's id is
//! made once, when the event is made, so shipping it twice can never make two documents.
//!
//! The schema is stable: fields may be added, never renamed or removed. Amounts in `data` are
//! decimal strings in major units with the event's `currency`, as on invoices.

use std::fmt;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::Result;

pub mod feed;
pub mod platform;
pub mod ship;

pub use ship::{ShipOptions, ShipSummary, ship_outbox};

/// What happened. Serialised in `snake_case` (`invoice_issued`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum AuditAction {
    /// An account was created or its settings changed.
    AccountSaved,
    /// A customer's tax details were created or changed.
    CustomerSaved,
    /// A plan was created (version 1).
    PlanCreated,
    /// A plan was changed (a new version).
    PlanChanged,
    /// A plan prompt was interpreted into a pricing program.
    PromptInterpreted,
    /// A plan prompt was refused; nothing was saved.
    PromptRefused,
    /// A subscription was created.
    SubscriptionCreated,
    /// The agent decided when the subscription's first invoice is issued.
    TimingDecided,
    /// A subscription's quantity changed.
    QuantityChanged,
    /// A period's usage was read through the plan's usage query.
    UsageQueried,
    /// A language model was called.
    ModelCalled,
    /// An agent payload was validated against the period and the program.
    PayloadValidated,
    /// A model's payload was cross-checked against the program.
    CrossChecked,
    /// Tax was computed on an invoice's subtotal.
    TaxComputed,
    /// An invoice's revenue was scheduled over its service period.
    RevenueScheduled,
    /// An invoice was issued.
    InvoiceIssued,
    /// An invoice was held for review and not sent.
    InvoiceHeld,
    /// A renewal failed; the subscription was left as it was.
    RenewalFailed,
    /// A subscription was canceled (the end is scheduled on its effective date).
    CancelScheduled,
    /// A cancellation was withdrawn before it took effect.
    CancelWithdrawn,
    /// A subscription's end came: it is canceled and bills no more.
    SubscriptionEnded,
    /// A pause (vacation hold) was scheduled.
    SubscriptionPaused,
    /// A pause was ended early, or removed.
    SubscriptionResumed,
    /// A credit note was issued against an invoice.
    CreditNoteIssued,
    /// A subscription's plan change was scheduled.
    PlanChangeScheduled,
    /// A subscription's plan change took effect: the new plan bills from then on.
    PlanSwitched,
    /// Usage of a period past the late-usage look-back changed after it was billed: reported,
    /// never billed.
    LateUsageIgnored,
    /// A held invoice was released: issued as the program computed it.
    InvoiceReleased,
    /// An invoice was voided and its revenue reversed.
    InvoiceVoided,
    /// A voided invoice's period was billed again by a new invoice.
    InvoiceRebilled,
}

impl AuditAction {
    /// The action as it is stored and shipped (`invoice_issued`).
    pub fn as_str(&self) -> &'static str {
        match self {
            AuditAction::AccountSaved => "account_saved",
            AuditAction::CustomerSaved => "customer_saved",
            AuditAction::PlanCreated => "plan_created",
            AuditAction::PlanChanged => "plan_changed",
            AuditAction::PromptInterpreted => "prompt_interpreted",
            AuditAction::PromptRefused => "prompt_refused",
            AuditAction::SubscriptionCreated => "subscription_created",
            AuditAction::TimingDecided => "timing_decided",
            AuditAction::QuantityChanged => "quantity_changed",
            AuditAction::UsageQueried => "usage_queried",
            AuditAction::ModelCalled => "model_called",
            AuditAction::PayloadValidated => "payload_validated",
            AuditAction::CrossChecked => "cross_checked",
            AuditAction::TaxComputed => "tax_computed",
            AuditAction::RevenueScheduled => "revenue_scheduled",
            AuditAction::InvoiceIssued => "invoice_issued",
            AuditAction::InvoiceHeld => "invoice_held",
            AuditAction::RenewalFailed => "renewal_failed",
            AuditAction::CancelScheduled => "cancel_scheduled",
            AuditAction::CancelWithdrawn => "cancel_withdrawn",
            AuditAction::SubscriptionEnded => "subscription_ended",
            AuditAction::SubscriptionPaused => "subscription_paused",
            AuditAction::SubscriptionResumed => "subscription_resumed",
            AuditAction::CreditNoteIssued => "credit_note_issued",
            AuditAction::PlanChangeScheduled => "plan_change_scheduled",
            AuditAction::PlanSwitched => "plan_switched",
            AuditAction::LateUsageIgnored => "late_usage_ignored",
            AuditAction::InvoiceReleased => "invoice_released",
            AuditAction::InvoiceVoided => "invoice_voided",
            AuditAction::InvoiceRebilled => "invoice_rebilled",
        }
    }
}

impl fmt::Display for AuditAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What an event is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SubjectKind {
    /// An account.
    Account,
    /// A customer of an account.
    Customer,
    /// A plan (any version).
    Plan,
    /// A subscription.
    Subscription,
    /// An invoice.
    Invoice,
    /// A credit note.
    CreditNote,
}

/// One entry of the audit trail.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEvent {
    /// Unique and made once (a UUIDv7, so ids sort by time): the document id in OpenSearch.
    pub id: String,
    /// When it happened.
    pub time: DateTime<Utc>,
    /// The account it belongs to.
    pub account_id: String,
    /// Who did it: a user id given by the caller, or `system` for billing runs.
    pub actor: String,
    /// What happened.
    pub action: AuditAction,
    /// The kind of thing it is about.
    pub subject_kind: SubjectKind,
    /// The id of the thing it is about.
    pub subject_id: String,
    /// The billing run it is part of, if any: one id for a whole `run_due`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_id: Option<String>,
    /// Ties the events of one operation together: one id per subscription creation, quantity
    /// change or renewal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub correlation_id: Option<String>,
    /// The action's inputs and results (the prompt and program version, usage sums, quantity,
    /// amounts, the error of a failure); its keys depend on the action.
    #[serde(default)]
    pub data: serde_json::Value,
}

impl AuditEvent {
    /// A new event with a fresh id, `data` empty.
    pub fn new(
        time: DateTime<Utc>,
        account_id: impl Into<String>,
        actor: impl Into<String>,
        action: AuditAction,
        subject_kind: SubjectKind,
        subject_id: impl Into<String>,
    ) -> Self {
        AuditEvent {
            id: new_id(),
            time,
            account_id: account_id.into(),
            actor: actor.into(),
            action,
            subject_kind,
            subject_id: subject_id.into(),
            run_id: None,
            correlation_id: None,
            data: serde_json::Value::Object(serde_json::Map::new()),
        }
    }

    /// The event with `data`.
    pub fn with_data(mut self, data: serde_json::Value) -> Self {
        self.data = data;
        self
    }

    /// The event in run `run_id` (if any) and operation `correlation_id`.
    pub fn correlated(mut self, run_id: Option<&str>, correlation_id: &str) -> Self {
        self.run_id = run_id.map(str::to_owned);
        self.correlation_id = Some(correlation_id.to_owned());
        self
    }
}

/// A fresh, time-ordered unique id (UUIDv7), for events, runs and correlations.
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// Where the outbox's events are shipped (OpenSearch, or memory in tests). Held as
/// `Arc<dyn AuditSink>`.
#[async_trait]
pub trait AuditSink: Send + Sync + fmt::Debug + 'static {
    /// Ships `events`, each under its id, and says which were stored. Shipping an event that is
    /// already there must not make a second copy.
    async fn ship(&self, events: &[AuditEvent]) -> Result<ShipReport>;
}

/// What a sink did with a batch.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ShipReport {
    /// The ids now stored by the sink (including those it already had).
    pub shipped: Vec<String>,
    /// The ids it refused, each with the reason; they stay in the outbox.
    pub rejected: Vec<(String, String)>,
}

/// A sink that keeps events in memory, by id: tests and local runs.
#[derive(Debug, Default)]
pub struct MemoryAuditSink {
    events: std::sync::Mutex<std::collections::BTreeMap<String, AuditEvent>>,
}

impl MemoryAuditSink {
    /// Every event shipped so far, by id.
    pub fn events(&self) -> Vec<AuditEvent> {
        self.events
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .values()
            .cloned()
            .collect()
    }
}

#[async_trait]
impl AuditSink for MemoryAuditSink {
    async fn ship(&self, events: &[AuditEvent]) -> Result<ShipReport> {
        let mut stored = self
            .events
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let mut report = ShipReport::default();
        for event in events {
            stored.insert(event.id.clone(), event.clone());
            report.shipped.push(event.id.clone());
        }
        Ok(report)
    }
}
