//! Events for the platform: the documented, versioned subset of the audit trail that the
//! platform's backend consumes (the pull feed and webhooks), in one place.
//!
//! The audit trail records everything (model calls, tax, revenue, usage reads); a platform needs
//! only what happened to its objects: an invoice issued, a subscription canceled. [`event_type`]
//! maps each [`AuditAction`] to the platform's [`EventType`], or to none for internal actions. It
//! is an exhaustive `match`: a new audit action does not compile until someone decides whether
//! the platform sees it. A [`PlatformEvent`] keeps its audit event's id, so the id is the
//! idempotency key of every delivery (a redelivered webhook or a re-read page carries the same
//! id). `docs/events.md` documents the types and their `data`.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{AuditAction, AuditEvent, SubjectKind};
use crate::error::{Error, Result};

/// The version of the platform events' shape: a new type or a new `data` key keeps it; a renamed
/// or removed one would make a new version.
pub const API_VERSION: &str = "2026-12-01";

/// What happened, as the platform names it (`invoice.issued`); the types of version
/// 2026-12-01 ([`API_VERSION`]).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
pub enum EventType {
    /// An invoice was issued (status `open`): charge it, send it.
    #[serde(rename = "invoice.issued")]
    InvoiceIssued,
    /// An invoice was held for review (the agent disagreed with the program); it is not sent.
    #[serde(rename = "invoice.held")]
    InvoiceHeld,
    /// A held invoice was released by a reviewer: it is issued as the program computed it
    /// (status `open`): charge it, send it.
    #[serde(rename = "invoice.released")]
    InvoiceReleased,
    /// An invoice was voided (status `void`), its revenue reversed; `data.rebilled_by` names the
    /// invoice that bills its period again (which has its own `invoice.issued`), if any.
    #[serde(rename = "invoice.voided")]
    InvoiceVoided,
    /// A credit note was issued against an invoice (a decrease settled on a billed period, a
    /// late return, or a manual credit).
    #[serde(rename = "credit_note.issued")]
    CreditNoteIssued,
    /// A subscription was created.
    #[serde(rename = "subscription.created")]
    SubscriptionCreated,
    /// A subscription's quantity changed.
    #[serde(rename = "subscription.quantity_changed")]
    SubscriptionQuantityChanged,
    /// A cancellation was made: the subscription ends on `data.ends_on` (it still bills until then).
    #[serde(rename = "subscription.cancel_scheduled")]
    SubscriptionCancelScheduled,
    /// A scheduled cancellation was withdrawn before it took effect.
    #[serde(rename = "subscription.cancel_withdrawn")]
    SubscriptionCancelWithdrawn,
    /// A subscription's end came: it is `canceled` and bills no more.
    #[serde(rename = "subscription.canceled")]
    SubscriptionCanceled,
    /// A pause (vacation hold) was set, from `data.from` until `data.until` (open when null).
    #[serde(rename = "subscription.paused")]
    SubscriptionPaused,
    /// A pause was ended early on `data.on`, or removed.
    #[serde(rename = "subscription.resumed")]
    SubscriptionResumed,
    /// A plan change was made: the new plan bills from `data.starts_on`.
    #[serde(rename = "subscription.plan_change_scheduled")]
    SubscriptionPlanChangeScheduled,
    /// A plan change took effect: the new plan bills from now on.
    #[serde(rename = "subscription.plan_changed")]
    SubscriptionPlanChanged,
}

impl EventType {
    /// Every type of version [`API_VERSION`], in the order documented.
    pub const ALL: [EventType; 14] = [
        EventType::InvoiceIssued,
        EventType::InvoiceHeld,
        EventType::InvoiceReleased,
        EventType::InvoiceVoided,
        EventType::CreditNoteIssued,
        EventType::SubscriptionCreated,
        EventType::SubscriptionQuantityChanged,
        EventType::SubscriptionCancelScheduled,
        EventType::SubscriptionCancelWithdrawn,
        EventType::SubscriptionCanceled,
        EventType::SubscriptionPaused,
        EventType::SubscriptionResumed,
        EventType::SubscriptionPlanChangeScheduled,
        EventType::SubscriptionPlanChanged,
    ];

    /// The type as the platform spells it (`invoice.issued`).
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::InvoiceIssued => "invoice.issued",
            EventType::InvoiceHeld => "invoice.held",
            EventType::InvoiceReleased => "invoice.released",
            EventType::InvoiceVoided => "invoice.voided",
            EventType::CreditNoteIssued => "credit_note.issued",
            EventType::SubscriptionCreated => "subscription.created",
            EventType::SubscriptionQuantityChanged => "subscription.quantity_changed",
            EventType::SubscriptionCancelScheduled => "subscription.cancel_scheduled",
            EventType::SubscriptionCancelWithdrawn => "subscription.cancel_withdrawn",
            EventType::SubscriptionCanceled => "subscription.canceled",
            EventType::SubscriptionPaused => "subscription.paused",
            EventType::SubscriptionResumed => "subscription.resumed",
            EventType::SubscriptionPlanChangeScheduled => "subscription.plan_change_scheduled",
            EventType::SubscriptionPlanChanged => "subscription.plan_changed",
        }
    }

    /// The audit action this type is made from (the inverse of [`event_type`]).
    pub fn action(self) -> AuditAction {
        match self {
            EventType::InvoiceIssued => AuditAction::InvoiceIssued,
            EventType::InvoiceHeld => AuditAction::InvoiceHeld,
            EventType::InvoiceReleased => AuditAction::InvoiceReleased,
            EventType::InvoiceVoided => AuditAction::InvoiceVoided,
            EventType::CreditNoteIssued => AuditAction::CreditNoteIssued,
            EventType::SubscriptionCreated => AuditAction::SubscriptionCreated,
            EventType::SubscriptionQuantityChanged => AuditAction::QuantityChanged,
            EventType::SubscriptionCancelScheduled => AuditAction::CancelScheduled,
            EventType::SubscriptionCancelWithdrawn => AuditAction::CancelWithdrawn,
            EventType::SubscriptionCanceled => AuditAction::SubscriptionEnded,
            EventType::SubscriptionPaused => AuditAction::SubscriptionPaused,
            EventType::SubscriptionResumed => AuditAction::SubscriptionResumed,
            EventType::SubscriptionPlanChangeScheduled => AuditAction::PlanChangeScheduled,
            EventType::SubscriptionPlanChanged => AuditAction::PlanSwitched,
        }
    }

    /// The audit actions of `types` (every platform type when `types` is empty), for a store
    /// query.
    pub fn actions(types: &[EventType]) -> Vec<AuditAction> {
        let types = if types.is_empty() {
            &EventType::ALL[..]
        } else {
            types
        };
        let mut actions: Vec<AuditAction> = types.iter().map(|ty| ty.action()).collect();
        actions.sort_by_key(|action| action.as_str());
        actions.dedup();
        actions
    }

    /// Parses a list of type names (`invoice.issued`), naming `field` and the unknown one.
    pub fn parse_list(field: &str, names: &[String]) -> Result<Vec<EventType>> {
        names
            .iter()
            .map(|name| name.parse().map_err(|error: Error| rename(error, field)))
            .collect()
    }
}

/// `error` with its field renamed to `field`.
fn rename(error: Error, field: &str) -> Error {
    match error {
        Error::InvalidInput { reason, .. } => Error::invalid(field, reason),
        other => other,
    }
}

impl fmt::Display for EventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for EventType {
    type Err = Error;

    fn from_str(name: &str) -> Result<Self> {
        EventType::ALL
            .into_iter()
            .find(|ty| ty.as_str() == name)
            .ok_or_else(|| {
                let known: Vec<&str> = EventType::ALL.iter().map(|ty| ty.as_str()).collect();
                Error::invalid(
                    "type",
                    format!(
                        "{name:?} is not an event type; the types are {}",
                        known.join(", ")
                    ),
                )
            })
    }
}

/// The platform's type of an audit action, or `None` for an action the platform does not see
/// (the trail's internals: model calls, tax, revenue, usage reads, failures, catalogue edits).
///
/// Exhaustive on purpose: adding an [`AuditAction`] fails to compile here until it is decided.
pub fn event_type(action: AuditAction) -> Option<EventType> {
    match action {
        AuditAction::InvoiceIssued => Some(EventType::InvoiceIssued),
        AuditAction::InvoiceHeld => Some(EventType::InvoiceHeld),
        AuditAction::InvoiceReleased => Some(EventType::InvoiceReleased),
        AuditAction::InvoiceVoided => Some(EventType::InvoiceVoided),
        AuditAction::CreditNoteIssued => Some(EventType::CreditNoteIssued),
        AuditAction::SubscriptionCreated => Some(EventType::SubscriptionCreated),
        AuditAction::QuantityChanged => Some(EventType::SubscriptionQuantityChanged),
        AuditAction::CancelScheduled => Some(EventType::SubscriptionCancelScheduled),
        AuditAction::CancelWithdrawn => Some(EventType::SubscriptionCancelWithdrawn),
        AuditAction::SubscriptionEnded => Some(EventType::SubscriptionCanceled),
        AuditAction::SubscriptionPaused => Some(EventType::SubscriptionPaused),
        AuditAction::SubscriptionResumed => Some(EventType::SubscriptionResumed),
        AuditAction::PlanChangeScheduled => Some(EventType::SubscriptionPlanChangeScheduled),
        AuditAction::PlanSwitched => Some(EventType::SubscriptionPlanChanged),
        AuditAction::AccountSaved
        | AuditAction::CustomerSaved
        | AuditAction::PlanCreated
        | AuditAction::PlanChanged
        | AuditAction::PromptInterpreted
        | AuditAction::PromptRefused
        | AuditAction::TimingDecided
        | AuditAction::UsageQueried
        | AuditAction::ModelCalled
        | AuditAction::PayloadValidated
        | AuditAction::CrossChecked
        | AuditAction::TaxComputed
        | AuditAction::RevenueScheduled
        | AuditAction::RenewalFailed
        // The new invoice of a re-billing has its own invoice.issued, the void its invoice.voided.
        | AuditAction::InvoiceRebilled
        // Usage past the look-back is the billing team's to review (the audit trail), not an
        // object of the platform's.
        | AuditAction::LateUsageIgnored => None,
    }
}

/// One event as the platform receives it: a feed item and a webhook's body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PlatformEvent {
    /// The audit event's id (a UUIDv7): the same on every read and every delivery, so the
    /// platform deduplicates by it (it is the webhook's `webhook-id`).
    pub id: String,
    /// What happened.
    #[serde(rename = "type")]
    pub event_type: EventType,
    /// The shape's version, [`API_VERSION`].
    pub api_version: String,
    /// When it happened.
    pub created_at: DateTime<Utc>,
    /// The account it belongs to.
    pub account_id: String,
    /// What it is about: `object` (`invoice`, `credit_note`, `subscription`) and `id`, then the
    /// audit event's own keys for that type (amounts as decimal strings in major units with
    /// their `currency`, dates as ISO 8601).
    pub data: serde_json::Value,
}

impl PlatformEvent {
    /// The platform's view of `event`, or `None` when the platform does not see its action.
    pub fn from_audit(event: &AuditEvent) -> Option<PlatformEvent> {
        let event_type = event_type(event.action)?;
        let mut data = serde_json::Map::new();
        data.insert("object".into(), object_name(event.subject_kind).into());
        data.insert("id".into(), event.subject_id.clone().into());
        if let serde_json::Value::Object(fields) = &event.data {
            for (key, value) in fields {
                if key != "object" && key != "id" {
                    data.insert(key.clone(), value.clone());
                }
            }
        }
        Some(PlatformEvent {
            id: event.id.clone(),
            event_type,
            api_version: API_VERSION.to_owned(),
            created_at: event.time,
            account_id: event.account_id.clone(),
            data: serde_json::Value::Object(data),
        })
    }
}

/// The object kind as the platform names it.
fn object_name(kind: SubjectKind) -> &'static str {
    match kind {
        SubjectKind::Account => "account",
        SubjectKind::Customer => "customer",
        SubjectKind::Plan => "plan",
        SubjectKind::Subscription => "subscription",
        SubjectKind::Invoice => "invoice",
        SubjectKind::CreditNote => "credit_note",
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use serde_json::json;

    use super::*;

    #[test]
    fn every_type_round_trips_through_its_action_and_name() {
        for ty in EventType::ALL {
            assert_eq!(event_type(ty.action()), Some(ty));
            assert_eq!(ty.as_str().parse::<EventType>().unwrap(), ty);
            assert_eq!(serde_json::to_value(ty).unwrap(), json!(ty.as_str()));
        }
        assert_eq!(event_type(AuditAction::ModelCalled), None);
        assert_eq!(EventType::actions(&[]).len(), EventType::ALL.len());
        let error = "invoice.paid".parse::<EventType>().unwrap_err();
        assert!(error.to_string().contains("invoice.issued"), "{error}");
        let error = EventType::parse_list("types", &["nope".into()]).unwrap_err();
        assert!(error.to_string().starts_with("invalid types:"), "{error}");
    }

    #[test]
    fn an_audit_event_becomes_a_platform_event_with_its_id() {
        let time = Utc.with_ymd_and_hms(2026, 1, 15, 5, 0, 0).unwrap();
        let audit = AuditEvent::new(
            time,
            "acct",
            "system",
            AuditAction::InvoiceIssued,
            SubjectKind::Invoice,
            "in_1",
        )
        .with_data(json!({"total": "10.83", "currency": "USD"}));
        let event = PlatformEvent::from_audit(&audit).unwrap();
        assert_eq!(event.id, audit.id);
        assert_eq!(event.event_type, EventType::InvoiceIssued);
        assert_eq!(
            event.data,
            json!({"object": "invoice", "id": "in_1", "total": "10.83", "currency": "USD"})
        );
        let internal = AuditEvent::new(
            time,
            "acct",
            "system",
            AuditAction::TaxComputed,
            SubjectKind::Subscription,
            "sub",
        );
        assert_eq!(PlatformEvent::from_audit(&internal), None);
    }
}
