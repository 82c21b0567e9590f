//! Audit events of the engine's operations: what a model was asked and answered, and what one
//! billed invoice went through (usage read, payload cross-checked and validated, tax, revenue,
//! issued or held). Pure builders: the caller writes them with the change they describe.

use chrono::{DateTime, Utc};
use serde_json::json;

use crate::agent::AgentPayload;
use crate::audit::{AuditAction, AuditEvent, SubjectKind};
use crate::credit_note::CreditNote;
use crate::error::Error;
use crate::invoice::IssuedInvoice;
use crate::model::ModelResponse;
use crate::store::UsageRequest;
use crate::subscription::{InvoiceStatus, Subscription};
use crate::usage::PeriodUsage;

use super::BillingMode;
use super::agent::{AgentCall, CrossCheck};

/// Who, in which run and operation, when, and how payloads were written: what every event of
/// one operation shares.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Trail<'a> {
    pub actor: &'a str,
    pub run_id: Option<&'a str>,
    pub correlation: &'a str,
    pub now: DateTime<Utc>,
    /// The engine's billing mode.
    pub mode: BillingMode,
    /// The language model's name, in the agent modes.
    pub model: Option<&'a str>,
}

impl Trail<'_> {
    fn event(
        &self,
        account_id: &str,
        action: AuditAction,
        kind: SubjectKind,
        id: &str,
    ) -> AuditEvent {
        AuditEvent::new(self.now, account_id, self.actor, action, kind, id)
            .correlated(self.run_id, self.correlation)
    }
}

/// One `model_called` event per call of an agent exchange: the answer, tokens, latency,
/// attempts and why it was not accepted. Requests hold only the rule and numbers; no secret
/// ever reaches them.
pub(crate) fn model_events(
    calls: &[AgentCall],
    subscription: &Subscription,
    trail: &Trail<'_>,
) -> Vec<AuditEvent> {
    calls
        .iter()
        .map(|call| {
            let response = call.response.as_ref();
            trail
                .event(
                    &subscription.account_id,
                    AuditAction::ModelCalled,
                    SubjectKind::Subscription,
                    &subscription.id,
                )
                .with_data(json!({
                    "purpose": "agent_payload",
                    "mode": trail.mode.as_str(),
                    "model": trail.model,
                    "period": subscription.next_invoice_period,
                    "attempt": call.attempt,
                    "answer": response.map(|r| &r.answer),
                    "answered_by": response.map(|r| &r.model),
                    "prompt_tokens": response.map(|r| r.usage.prompt_tokens),
                    "completion_tokens": response.map(|r| r.usage.completion_tokens),
                    "http_attempts": response.map(|r| r.attempts),
                    "latency_ms": response.map(|r| r.latency_ms),
                    "problems": call.problems,
                    "error": call.error,
                }))
        })
        .collect()
}

/// One `model_called` event per answer a model gave while `interpreter` read a plan prompt.
pub(crate) fn interpretation_events(
    calls: &[ModelResponse],
    interpreter: &str,
    account_id: &str,
    plan_id: &str,
    trail: &Trail<'_>,
) -> Vec<AuditEvent> {
    calls
        .iter()
        .enumerate()
        .map(|(i, response)| {
            trail
                .event(
                    account_id,
                    AuditAction::ModelCalled,
                    SubjectKind::Plan,
                    plan_id,
                )
                .with_data(json!({
                    "purpose": "interpret_prompt",
                    "interpreter": interpreter,
                    "attempt": i + 1,
                    "answer": response.answer,
                    "answered_by": response.model,
                    "prompt_tokens": response.usage.prompt_tokens,
                    "completion_tokens": response.usage.completion_tokens,
                    "http_attempts": response.attempts,
                    "latency_ms": response.latency_ms,
                }))
        })
        .collect()
}

/// The events of one billed invoice: usage read, payload cross-checked and validated, tax,
/// revenue, issued (or held).
pub(crate) fn billing_events(
    issued: &IssuedInvoice,
    usage: Option<&(UsageRequest, PeriodUsage)>,
    cross_check: Option<&(AgentPayload, CrossCheck)>,
    trail: &Trail<'_>,
) -> Vec<AuditEvent> {
    let invoice = &issued.invoice;
    let currency = invoice.currency.code();
    let mode = trail.mode.as_str();
    let subscription = |action| {
        trail.event(
            &issued.account_id,
            action,
            SubjectKind::Subscription,
            &issued.subscription_id,
        )
    };
    let mut events = Vec::with_capacity(6);
    if let Some((request, usage)) = usage {
        events.push(subscription(AuditAction::UsageQueried).with_data(json!({
            "query": request.query,
            "customer_id": request.customer_id,
            "from": request.from,
            "to": request.to,
            "timezone": request.tz.name(),
            "period": invoice.period_index,
            "usage": usage,
        })));
    }
    // Each line as the API gives it: description, kind, amount, and its basis and explanation.
    let lines = &invoice.line_items;
    if let Some((payload, check)) = cross_check {
        events.push(subscription(AuditAction::CrossChecked).with_data(json!({
            "mode": mode,
            "period": invoice.period_index,
            "agrees": check.agrees,
            "differences": check.differences,
            "model_payload": payload,
            "invoice_lines": lines,
            "outcome": if check.agrees { "issued" } else { "held" },
        })));
    }
    events.push(
        subscription(AuditAction::PayloadValidated).with_data(json!({
            "mode": mode,
            "period": invoice.period_index,
            "plan_version": issued.plan_version,
            "quantity": issued.quantity,
            "currency": currency,
            "line_items": lines,
            "valid": true,
        })),
    );
    events.push(subscription(AuditAction::TaxComputed).with_data(json!({
        "currency": currency,
        "subtotal": invoice.subtotal.to_major().to_string(),
        "inclusive": invoice.tax_inclusive,
        "tax_lines": invoice.tax_lines,
        "tax": invoice.tax.to_major().to_string(),
    })));
    events.push(
        subscription(AuditAction::RevenueScheduled).with_data(json!({
            "currency": currency,
            "schedule": invoice.revenue_schedule,
        })),
    );
    let action = match issued.status {
        InvoiceStatus::Open => AuditAction::InvoiceIssued,
        InvoiceStatus::Held => AuditAction::InvoiceHeld,
        // Never written void; told as what it is.
        InvoiceStatus::Void => AuditAction::InvoiceVoided,
    };
    events.push(
        trail
            .event(&issued.account_id, action, SubjectKind::Invoice, &issued.id)
            .with_data(json!({
                "subscription_id": issued.subscription_id,
                "billing_reason": issued.billing_reason,
                "status": issued.status,
                "period": invoice.period_index,
                "period_start": invoice.period_start,
                "period_end": invoice.period_end,
                "currency": currency,
                "subtotal": invoice.subtotal.to_major().to_string(),
                "tax": invoice.tax.to_major().to_string(),
                "total": invoice.total.to_major().to_string(),
            })),
    );
    events
}

/// The `renewal_failed` event of a renewal of `subscription` that failed with `error`.
pub(crate) fn renewal_failed(
    subscription: &Subscription,
    error: &Error,
    trail: &Trail<'_>,
) -> AuditEvent {
    trail
        .event(
            &subscription.account_id,
            AuditAction::RenewalFailed,
            SubjectKind::Subscription,
            &subscription.id,
        )
        .with_data(json!({
            "period": subscription.next_invoice_period,
            "quantity": subscription.quantity,
            "revision": subscription.revision,
            "error": error.to_string(),
            "code": error.code().as_str(),
        }))
}

/// The `subscription_ended` event of a subscription whose end came: canceled from `end`.
pub(crate) fn ended_event(
    state: &Subscription,
    end: chrono::NaiveDate,
    trail: &Trail<'_>,
) -> AuditEvent {
    trail
        .event(
            &state.account_id,
            AuditAction::SubscriptionEnded,
            SubjectKind::Subscription,
            &state.id,
        )
        .with_data(json!({ "status": "canceled", "ended_on": end }))
}

/// The `credit_note_issued` event of a credit note: what it credits, its amounts and why.
pub(crate) fn credit_note_event(note: &CreditNote, trail: &Trail<'_>) -> AuditEvent {
    trail
        .event(
            &note.account_id,
            AuditAction::CreditNoteIssued,
            SubjectKind::CreditNote,
            &note.id,
        )
        .with_data(json!({
            "subscription_id": note.subscription_id,
            "invoice_id": note.invoice_id,
            "invoice_period_start": note.invoice_period_start,
            "issue_date": note.issue_date,
            "reason": note.reason,
            "currency": note.currency.code(),
            "subtotal": note.subtotal.to_major().to_string(),
            "tax": note.tax.to_major().to_string(),
            "total": note.total.to_major().to_string(),
            // Each line with its basis and explanation, as the API gives it.
            "lines": note.line_items,
        }))
}

/// The `late_usage_ignored` event of a period past the look-back whose usage changed after it
/// was billed: what it was billed on, what the tables hold now, and what changed.
pub(crate) fn late_usage_ignored(
    state: &Subscription,
    ignored: &crate::late_usage::Reread,
    lookback: u32,
    trail: &Trail<'_>,
) -> AuditEvent {
    trail
        .event(
            &state.account_id,
            AuditAction::LateUsageIgnored,
            SubjectKind::Subscription,
            &state.id,
        )
        .with_data(json!({
            "invoice_id": ignored.invoice_id,
            "period": ignored.period,
            "period_start": ignored.start,
            "period_end": ignored.end,
            "lookback": lookback,
            "changed": ignored.counts(),
            "billed": ignored.billed,
            "now": ignored.now,
        }))
}

/// The `plan_switched` event of a plan change taking effect: from `state`'s plan to `next`'s.
pub(crate) fn switched_event(
    state: &Subscription,
    next: &Subscription,
    trail: &Trail<'_>,
) -> AuditEvent {
    trail
        .event(
            &state.account_id,
            AuditAction::PlanSwitched,
            SubjectKind::Subscription,
            &state.id,
        )
        .with_data(json!({
            "old_plan_id": state.plan_id,
            "new_plan_id": next.plan_id,
            "starts_on": next.current_period_start,
            "first_invoice_at": next.next_invoice_at,
        }))
}
