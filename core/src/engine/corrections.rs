//! Invoice corrections (`billing-conventions.md`, "Invoice corrections"): releasing a held
//! invoice, voiding an invoice (and billing its period again from the current data), and manual
//! credit notes. Each is audited with who made it and why.
//!
//! Every correction goes as a change does ([`super::changes`]): billing runs come first (what the
//! subscription owes up to now is issued), then the correction is computed on the subscription's
//! state and its invoices, and written in one commit over the subscription's revision with its
//! audit events; the invoice statuses it sets are written only over the status they were read
//! with. A run or another correction that gets there first makes the commit stale, and the
//! correction is computed again on the new state: so a held invoice released twice at once is
//! released once (the second finds it open: [`Error::Conflict`]), two credit notes racing on one
//! invoice never credit more than it has left, and a period voided and billed again while a run
//! bills it has one invoice that is not void. A correction that fails writes nothing.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use crate::audit::{AuditAction, AuditEvent, SubjectKind, new_id};
use crate::credit_note::CreditNote;
use crate::error::{Error, Result};
use crate::invoice::IssuedInvoice;
use crate::revrec::RevenueEntry;
use crate::store::{
    CommitOutcome, CreditNoteQuery, InvoiceQuery, InvoiceStatusChange, SubscriptionCommit,
};
use crate::subscription::{InvoiceStatus, Subscription, invoice_subscription_id};

use super::retries::{Keyed, Receipt, Replayable};
use super::{Engine, MAX_ATTEMPTS, api_actor, check_id, events, wait_busy};

mod credit;
mod rebill;

use credit::{Chosen, manual_credit};

/// Releasing a held invoice: it is issued as the program computed it (a held invoice already
/// carries the program's lines). An invoice that is not held (released already, issued, or
/// void) is [`Error::Conflict`] naming its status: releasing twice issues it once.
#[derive(
    Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[serde(deny_unknown_fields)]
pub struct ReleaseInvoice {
    /// The account.
    pub account_id: String,
    /// The held invoice.
    pub invoice_id: String,
    /// Who releases it, for the audit trail (`api` when absent).
    #[serde(default = "api_actor")]
    pub actor: String,
    /// Why, for the audit trail (required).
    pub reason: String,
    /// The caller's key for this request (the platform's Idempotency-Key): made again with the
    /// same key and body, it answers what it answered the first time and writes nothing new;
    /// with another body, it is `CONFLICT`. Without one, a retry is a new request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

/// Voiding a held or open invoice: it becomes `void` and its revenue schedule is reversed. With
/// `rebill`, the same commit bills its period again from the current data (a new invoice, a new
/// id). An invoice with credit notes against it is [`Error::Conflict`] naming them.
#[derive(
    Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[serde(deny_unknown_fields)]
pub struct VoidInvoice {
    /// The account.
    pub account_id: String,
    /// The invoice.
    pub invoice_id: String,
    /// Whether its period is billed again from the current data (`false` when absent); only
    /// the period billed last can be.
    #[serde(default)]
    pub rebill: bool,
    /// Who voids it, for the audit trail (`api` when absent).
    #[serde(default = "api_actor")]
    pub actor: String,
    /// Why, for the audit trail (required).
    pub reason: String,
    /// The caller's key for this request (the platform's Idempotency-Key): made again with the
    /// same key and body, it answers what it answered the first time and writes nothing new;
    /// with another body, it is `CONFLICT`. Without one, a retry is a new request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

/// A manual credit note on an open invoice: chosen `lines`, or an `amount` spread over the lines
/// by what each has left (exactly one of the two). Never more than is left to credit: the
/// invoice's subtotal (and total) less every credit note against it, each line likewise. Tax at
/// the invoice's rates; the revenue of the credited share reversed over the days it concerns.
#[derive(
    Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[serde(deny_unknown_fields)]
pub struct CreditInvoice {
    /// The account.
    pub account_id: String,
    /// The open invoice.
    pub invoice_id: String,
    /// The lines credited, each all it has left or an amount of it.
    #[serde(default)]
    pub lines: Vec<CreditLine>,
    /// An amount to credit over the invoice's lines, in minor units (cents), before tax.
    #[serde(default)]
    pub amount: Option<i64>,
    /// Who credits it, for the audit trail (`api` when absent).
    #[serde(default = "api_actor")]
    pub actor: String,
    /// Why, for the audit trail (required).
    pub reason: String,
    /// The caller's key for this request (the platform's Idempotency-Key): made again with the
    /// same key and body, it answers what it answered the first time and writes nothing new;
    /// with another body, it is `CONFLICT`. Without one, a retry is a new request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

/// One line credited.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[serde(deny_unknown_fields)]
pub struct CreditLine {
    /// The line's number on the invoice, from 1.
    pub line: u32,
    /// How much of it, in minor units (cents), before tax; all it has left when absent.
    #[serde(default)]
    pub amount: Option<i64>,
}

/// A voided invoice, the revenue its void reversed, and the invoice that bills its period again.
#[derive(Debug, Clone, PartialEq, serde::Serialize, schemars::JsonSchema)]
pub struct VoidedInvoice {
    /// The invoice, now void.
    pub invoice: IssuedInvoice,
    /// The revenue taken back, per calendar month (positive amounts: what is reversed): its
    /// whole schedule, entry by entry, so the reversal sums to it to the cent.
    pub revenue_reversed: Vec<RevenueEntry>,
    /// The invoice that bills its period again, when asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rebilled: Option<IssuedInvoice>,
}

/// What a correction read: the subscription, its invoices, the invoice corrected and the credit
/// notes against it.
struct Found {
    subscription: Subscription,
    invoices: Vec<IssuedInvoice>,
    invoice: IssuedInvoice,
    notes: Vec<CreditNote>,
}

/// What a correction writes, and what it answers.
struct Made<T> {
    next: Subscription,
    status: Vec<InvoiceStatusChange>,
    invoice: Option<IssuedInvoice>,
    credit_note: Option<CreditNote>,
    events: Vec<AuditEvent>,
    answer: T,
}

/// One correction, computed on what was read at `now`.
#[derive(Debug, Clone, Copy)]
enum Correction<'a> {
    Release,
    Void { rebill: bool },
    Credit(Chosen<'a>),
}

/// The shared part of a correction request.
struct Asked<'a> {
    account_id: &'a str,
    invoice_id: &'a str,
    actor: &'a str,
    reason: &'a str,
}

/// What a correction answers, by kind.
enum Answer {
    Released(Box<IssuedInvoice>),
    Voided(Box<VoidedInvoice>),
    Credited(Box<CreditNote>),
}

impl Answer {
    /// What a keyed correction's record keeps of its answer.
    fn receipt(&self) -> Receipt {
        match self {
            Answer::Released(invoice) => invoice.receipt(),
            Answer::Voided(voided) => voided.receipt(),
            Answer::Credited(note) => note.receipt(),
        }
    }
}

impl Engine {
    /// Releases a held invoice ([`ReleaseInvoice`]).
    #[tracing::instrument(name = "release_invoice", skip_all, fields(account_id = %request.account_id, invoice_id = %request.invoice_id, actor = %request.actor))]
    pub async fn release_invoice(&self, request: &ReleaseInvoice) -> Result<IssuedInvoice> {
        let keyed = Keyed::by_request_id(
            "release_invoice",
            &request.account_id,
            request.request_id.as_deref(),
            request,
        )?;
        let asked = Asked {
            account_id: &request.account_id,
            invoice_id: &request.invoice_id,
            actor: &request.actor,
            reason: &request.reason,
        };
        match self
            .correct(&asked, Correction::Release, keyed.as_ref())
            .await?
        {
            Answer::Released(invoice) => Ok(*invoice),
            _ => Err(Error::overflow("the answer of a release")),
        }
    }

    /// Voids an invoice, and bills its period again when asked ([`VoidInvoice`]).
    #[tracing::instrument(name = "void_invoice", skip_all, fields(account_id = %request.account_id, invoice_id = %request.invoice_id, actor = %request.actor, rebill = request.rebill))]
    pub async fn void_invoice(&self, request: &VoidInvoice) -> Result<VoidedInvoice> {
        let keyed = Keyed::by_request_id(
            "void_invoice",
            &request.account_id,
            request.request_id.as_deref(),
            request,
        )?;
        let asked = Asked {
            account_id: &request.account_id,
            invoice_id: &request.invoice_id,
            actor: &request.actor,
            reason: &request.reason,
        };
        let correction = Correction::Void {
            rebill: request.rebill,
        };
        match self.correct(&asked, correction, keyed.as_ref()).await? {
            Answer::Voided(voided) => Ok(*voided),
            _ => Err(Error::overflow("the answer of a void")),
        }
    }

    /// Issues a manual credit note on an open invoice ([`CreditInvoice`]).
    #[tracing::instrument(name = "credit_invoice", skip_all, fields(account_id = %request.account_id, invoice_id = %request.invoice_id, actor = %request.actor))]
    pub async fn credit_invoice(&self, request: &CreditInvoice) -> Result<CreditNote> {
        let keyed = Keyed::by_request_id(
            "credit_invoice",
            &request.account_id,
            request.request_id.as_deref(),
            request,
        )?;
        let chosen = match (request.lines.as_slice(), request.amount) {
            ([], Some(amount)) => Chosen::Amount(amount),
            (lines @ [_, ..], None) => Chosen::Lines(lines),
            ([], None) => {
                return Err(Error::invalid(
                    "credit",
                    "give the lines to credit or an amount",
                ));
            }
            (_, Some(_)) => {
                return Err(Error::invalid(
                    "credit",
                    "give the lines to credit or an amount, not both",
                ));
            }
        };
        let asked = Asked {
            account_id: &request.account_id,
            invoice_id: &request.invoice_id,
            actor: &request.actor,
            reason: &request.reason,
        };
        match self
            .correct(&asked, Correction::Credit(chosen), keyed.as_ref())
            .await?
        {
            Answer::Credited(note) => Ok(*note),
            _ => Err(Error::overflow("the answer of a credit")),
        }
    }

    /// Makes `correction` of an invoice now: issues what its subscription owes up to now,
    /// computes the correction on what is stored, and writes it over the subscription's
    /// revision (again on the new state when another writer got there first).
    async fn correct(
        &self,
        asked: &Asked<'_>,
        correction: Correction<'_>,
        keyed: Option<&Keyed>,
    ) -> Result<Answer> {
        match self.correct_keyed(asked, correction, keyed).await {
            Ok(answer) => Ok(answer),
            // A twin that made it meanwhile answers (its key refused this write, or its
            // correction made this one impossible: a release finding the invoice open).
            Err(error) => match self.replayed_answer(correction, keyed).await? {
                Some(answer) => Ok(answer),
                None => Err(error),
            },
        }
    }

    /// The answer of the request made earlier under `keyed`'s key, as [`Engine::replayed`]
    /// gives it, for the kind of `correction`.
    async fn replayed_answer(
        &self,
        correction: Correction<'_>,
        keyed: Option<&Keyed>,
    ) -> Result<Option<Answer>> {
        Ok(match correction {
            Correction::Release => self
                .replayed(keyed)
                .await?
                .map(|invoice| Answer::Released(Box::new(invoice))),
            Correction::Void { .. } => self
                .replayed(keyed)
                .await?
                .map(|voided| Answer::Voided(Box::new(voided))),
            Correction::Credit(_) => self
                .replayed(keyed)
                .await?
                .map(|note| Answer::Credited(Box::new(note))),
        })
    }

    /// [`Engine::correct`], each attempt first looking for the request's record.
    async fn correct_keyed(
        &self,
        asked: &Asked<'_>,
        correction: Correction<'_>,
        keyed: Option<&Keyed>,
    ) -> Result<Answer> {
        check_id("account.id", asked.account_id)?;
        check_id("invoice.id", asked.invoice_id)?;
        check_id("actor", asked.actor)?;
        if asked.reason.trim().is_empty() {
            return Err(Error::invalid(
                "reason",
                "say why, for the audit trail: it must not be empty",
            ));
        }
        let subscription_id = invoice_subscription_id(asked.invoice_id)
            .ok_or_else(|| Error::not_found("invoice", asked.invoice_id))?;
        let since = std::time::Instant::now();
        let mut attempts = 0;
        let mut busy = 0;
        while attempts < MAX_ATTEMPTS {
            if let Some(answer) = self.replayed_answer(correction, keyed).await? {
                return Ok(answer);
            }
            let now = self.clock.now();
            let found = self.find(asked, subscription_id, now).await?;
            let expected_revision = found.subscription.revision;
            let made = self.make(asked, &found, correction, now).await?;
            let idempotency = keyed
                .map(|keyed| keyed.record(&made.answer.receipt(), now))
                .transpose()?;
            let outcome = self
                .store
                .commit(&SubscriptionCommit {
                    expected_revision,
                    subscription: made.next,
                    invoice: made.invoice,
                    invoice_status: made.status,
                    credit_notes: made.credit_note.into_iter().collect(),
                    events: made.events,
                    idempotency,
                })
                .await?;
            match outcome {
                CommitOutcome::Committed => return Ok(made.answer),
                // A run's page holds it: wait for the page, which is no conflict.
                CommitOutcome::Busy if wait_busy(since, busy).await => busy += 1,
                _ => attempts += 1,
            }
        }
        Err(Error::Contended {
            what: "subscription",
            id: subscription_id.to_owned(),
        })
    }

    /// The subscription of the invoice `asked` names (after billing runs came first), its
    /// invoices, the invoice and the credit notes against it.
    async fn find(
        &self,
        asked: &Asked<'_>,
        subscription_id: &str,
        now: DateTime<Utc>,
    ) -> Result<Found> {
        let missing = || Error::not_found("invoice", asked.invoice_id);
        let subscription = match self
            .store
            .subscription(asked.account_id, subscription_id)
            .await?
        {
            Some(subscription) => subscription,
            None => return Err(missing()),
        };
        // Billing runs come first.
        self.renew_subscription(asked.account_id, subscription_id, now)
            .await?;
        let subscription = self
            .store
            .subscription(asked.account_id, subscription_id)
            .await?
            .unwrap_or(subscription);
        let invoices = self
            .store
            .invoices(&InvoiceQuery {
                account_id: Some(asked.account_id.to_owned()),
                subscription_id: Some(subscription_id.to_owned()),
                limit: None,
                ..Default::default()
            })
            .await?;
        let invoice = invoices
            .iter()
            .find(|invoice| invoice.id == asked.invoice_id)
            .cloned()
            .ok_or_else(missing)?;
        let notes = self
            .store
            .credit_notes(&CreditNoteQuery {
                account_id: asked.account_id.to_owned(),
                subscription_id: Some(subscription_id.to_owned()),
                limit: None,
                ..Default::default()
            })
            .await?
            .into_iter()
            .filter(|note| note.invoice_id == invoice.id)
            .collect();
        Ok(Found {
            subscription,
            invoices,
            invoice,
            notes,
        })
    }

    /// Computes `correction` on what was `found`, at `now`.
    async fn make(
        &self,
        asked: &Asked<'_>,
        found: &Found,
        correction: Correction<'_>,
        now: DateTime<Utc>,
    ) -> Result<Made<Answer>> {
        let invoice = &found.invoice;
        let mut next = found.subscription.clone();
        next.revision += 1;
        next.updated_at = now;
        let correlation = new_id();
        let trail = self.trail(asked.actor, None, &correlation, now);
        let event = |action, subject: &IssuedInvoice, data: Value| {
            let mut data = data;
            data["subscription_id"] = json!(subject.subscription_id);
            data["why"] = json!(asked.reason);
            AuditEvent::new(
                now,
                asked.account_id,
                asked.actor,
                action,
                SubjectKind::Invoice,
                &subject.id,
            )
            .correlated(None, &correlation)
            .with_data(data)
        };
        let status_is = |allowed: &[InvoiceStatus], doing: &str| -> Result<()> {
            if allowed.contains(&invoice.status) {
                return Ok(());
            }
            Err(Error::conflict(
                "invoice.status",
                format!(
                    "invoice {} is {}: {doing}",
                    invoice.id,
                    invoice.status.as_str()
                ),
            ))
        };
        match correction {
            Correction::Release => {
                status_is(
                    &[InvoiceStatus::Held],
                    "only a held invoice is released (it was released or issued already)",
                )?;
                let released = IssuedInvoice {
                    status: InvoiceStatus::Open,
                    ..invoice.clone()
                };
                let data = json!({
                    "status": "open",
                    "period": invoice.invoice.period_index,
                    "currency": invoice.invoice.currency.code(),
                    "total": invoice.invoice.total.to_major().to_string(),
                });
                Ok(Made {
                    next,
                    status: vec![change(invoice, InvoiceStatus::Open)],
                    invoice: None,
                    credit_note: None,
                    events: vec![event(AuditAction::InvoiceReleased, invoice, data)],
                    answer: Answer::Released(Box::new(released)),
                })
            }
            Correction::Void { rebill } => {
                status_is(
                    &[InvoiceStatus::Held, InvoiceStatus::Open],
                    "it is void already",
                )?;
                if !found.notes.is_empty() {
                    let ids: Vec<&str> = found.notes.iter().map(|note| note.id.as_str()).collect();
                    return Err(Error::conflict(
                        "invoice.credit_notes",
                        format!(
                            "invoice {} has credit notes against it ({}): voiding it would \
                             credit them twice",
                            invoice.id,
                            ids.join(", ")
                        ),
                    ));
                }
                let rebilled = if rebill {
                    Some(
                        self.rebill(&found.subscription, invoice, &found.invoices, now)
                            .await?,
                    )
                } else {
                    None
                };
                let reversed = invoice.invoice.revenue_schedule.clone();
                let mut events = vec![event(
                    AuditAction::InvoiceVoided,
                    invoice,
                    json!({
                        "status": "void",
                        "was": invoice.status,
                        "period": invoice.invoice.period_index,
                        "currency": invoice.invoice.currency.code(),
                        "total": invoice.invoice.total.to_major().to_string(),
                        "revenue_reversed": reversed,
                        "rebilled_by": rebilled.as_ref().map(|r| &r.invoice.id),
                    }),
                )];
                if let Some(rebilled) = &rebilled {
                    let issued = &rebilled.invoice;
                    events.extend(events::billing_events(
                        issued,
                        rebilled.usage.as_ref(),
                        None,
                        &trail,
                    ));
                    events.push(event(
                        AuditAction::InvoiceRebilled,
                        issued,
                        json!({
                            "voided_invoice_id": invoice.id,
                            "period": issued.invoice.period_index,
                            "currency": issued.invoice.currency.code(),
                            "was_total": invoice.invoice.total.to_major().to_string(),
                            "total": issued.invoice.total.to_major().to_string(),
                        }),
                    ));
                    // The increases still waiting for an invoice that concern this period are
                    // in the new invoice's own lines now: they are not billed twice.
                    let (start, end) = (issued.invoice.period_start, issued.invoice.period_end);
                    next.changes.increases.retain(|increase| {
                        !(start <= increase.service_start && increase.service_start < end)
                    });
                }
                next.billed_usage.after_void(
                    &invoice.id,
                    rebilled.as_ref().map(|r| {
                        (
                            r.invoice.id.as_str(),
                            r.usage.as_ref().map(|(_, usage)| usage),
                        )
                    }),
                );
                let answer = VoidedInvoice {
                    invoice: IssuedInvoice {
                        status: InvoiceStatus::Void,
                        ..invoice.clone()
                    },
                    revenue_reversed: reversed,
                    rebilled: rebilled.as_ref().map(|r| r.invoice.clone()),
                };
                Ok(Made {
                    next,
                    status: vec![change(invoice, InvoiceStatus::Void)],
                    invoice: rebilled.map(|r| r.invoice),
                    credit_note: None,
                    events,
                    answer: Answer::Voided(Box::new(answer)),
                })
            }
            Correction::Credit(chosen) => {
                status_is(
                    &[InvoiceStatus::Open],
                    "only an open invoice is credited (release or void a held one)",
                )?;
                let account = self.account(asked.account_id).await?;
                let today = now.with_timezone(&account.timezone).date_naive();
                let number = found.subscription.changes.credit_notes + 1;
                let note = manual_credit(invoice, &found.notes, chosen, number, today, now)?;
                next.changes.credit_notes = number;
                let mut issued = events::credit_note_event(&note, &trail);
                issued.data["why"] = json!(asked.reason);
                Ok(Made {
                    next,
                    status: Vec::new(),
                    invoice: None,
                    credit_note: Some(note.clone()),
                    events: vec![issued],
                    answer: Answer::Credited(Box::new(note)),
                })
            }
        }
    }
}

/// `invoice`'s status set to `to`, over the status it was read with.
fn change(invoice: &IssuedInvoice, to: InvoiceStatus) -> InvoiceStatusChange {
    InvoiceStatusChange {
        invoice_id: invoice.id.clone(),
        from: invoice.status,
        to,
    }
}

impl Replayable for VoidedInvoice {
    fn receipt(&self) -> Receipt {
        let receipt = Receipt::default().with_invoice(&self.invoice);
        match &self.rebilled {
            Some(rebilled) => receipt.with_invoice(rebilled),
            None => receipt,
        }
    }

    async fn replay(engine: &Engine, account_id: &str, receipt: Receipt) -> Result<Self> {
        let Some(voided) = receipt.invoices.first() else {
            return Err(receipt.unreadable());
        };
        let invoice = engine.invoice_answered(account_id, voided).await?;
        let rebilled = match receipt.invoices.get(1) {
            Some(found) => Some(engine.invoice_answered(account_id, found).await?),
            None => None,
        };
        Ok(VoidedInvoice {
            // A void reverses the invoice's whole schedule.
            revenue_reversed: invoice.invoice.revenue_schedule.clone(),
            invoice,
            rebilled,
        })
    }
}
