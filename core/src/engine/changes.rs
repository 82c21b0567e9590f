//! Changes to a subscription: cancel (and withdraw a cancellation), pause and resume, and a
//! quantity change with proration (`billing-conventions.md`, "Subscription changes").
//!
//! Every change goes the same way ([`Engine::change`]): billing runs come first (whatever the
//! subscription owes up to now is issued, as a run would), then the change is made on the
//! subscription's state, the period already billed that it concerns is settled
//! ([`super::settlement`]: a credit note for a decrease, increases for the next invoice), and it
//! all is written in one commit over the revision it was computed from, with its audit events.
//! A run that bills the subscription in between makes the commit stale, and the change is made
//! again on the new state: a change races a run safely, and is applied exactly once.

use chrono::NaiveDate;
use serde_json::{Value, json};

use crate::audit::{AuditAction, AuditEvent, SubjectKind, new_id};
use crate::calendar::BillingCalendar;
use crate::changes::{Effective, Pause, PlanSwitch, Term};
use crate::credit_note::CreditNote;
use crate::error::{Error, Result};
use crate::invoice::IssuedInvoice;
use crate::plan::PlanVersion;
use crate::pricing::InvoiceTiming;
use crate::store::{CommitOutcome, CreditNoteQuery, InvoiceQuery, PlanQuery, SubscriptionCommit};
use crate::subscription::{InvoiceStatus, Subscription, SubscriptionStatus};

use super::retries::{Keyed, Receipt, Replayable};
use super::settlement::{ChangeTold, settle_change};
use super::step::{self, Terms};
use super::{Engine, MAX_ATTEMPTS, Quantity, api_actor, check_id, events, wait_busy};

/// A cancellation.
#[derive(
    Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[serde(deny_unknown_fields)]
pub struct CancelSubscription {
    /// The account.
    pub account_id: String,
    /// The subscription.
    pub subscription_id: String,
    /// When service ends: `period_end` (the default), `immediately` (the next local midnight)
    /// or a local date.
    #[serde(default = "period_end")]
    pub effective: Effective,
    /// Whether the unserved days of a period already billed are credited (`true` when absent).
    #[serde(default = "yes")]
    pub credit_unused: bool,
    /// Who cancels, for the audit trail (`api` when absent).
    #[serde(default = "api_actor")]
    pub actor: String,
    /// The caller's key for this request (the platform's Idempotency-Key): made again with the
    /// same key and body, it answers what it answered the first time and writes nothing new;
    /// with another body, it is `CONFLICT`. Without one, a retry is a new request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

/// Withdrawing a cancellation that has not taken effect.
#[derive(
    Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[serde(deny_unknown_fields)]
pub struct WithdrawCancel {
    /// The account.
    pub account_id: String,
    /// The subscription.
    pub subscription_id: String,
    /// Who withdraws it, for the audit trail (`api` when absent).
    #[serde(default = "api_actor")]
    pub actor: String,
    /// The caller's key for this request (the platform's Idempotency-Key): made again with the
    /// same key and body, it answers what it answered the first time and writes nothing new;
    /// with another body, it is `CONFLICT`. Without one, a retry is a new request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

/// A pause (vacation hold).
#[derive(
    Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[serde(deny_unknown_fields)]
pub struct PauseSubscription {
    /// The account.
    pub account_id: String,
    /// The subscription.
    pub subscription_id: String,
    /// The first local day not served; not before the day the pause is made.
    pub from: NaiveDate,
    /// The first local day served again; open until a resume when absent.
    #[serde(default)]
    pub until: Option<NaiveDate>,
    /// Who pauses it, for the audit trail (`api` when absent).
    #[serde(default = "api_actor")]
    pub actor: String,
    /// The caller's key for this request (the platform's Idempotency-Key): made again with the
    /// same key and body, it answers what it answered the first time and writes nothing new;
    /// with another body, it is `CONFLICT`. Without one, a retry is a new request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

/// Ending a pause.
#[derive(
    Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[serde(deny_unknown_fields)]
pub struct ResumeSubscription {
    /// The account.
    pub account_id: String,
    /// The subscription.
    pub subscription_id: String,
    /// The first local day served again: it ends the pause that holds it (the pause's own
    /// first day removes the pause).
    pub on: NaiveDate,
    /// Who resumes it, for the audit trail (`api` when absent).
    #[serde(default = "api_actor")]
    pub actor: String,
    /// The caller's key for this request (the platform's Idempotency-Key): made again with the
    /// same key and body, it answers what it answered the first time and writes nothing new;
    /// with another body, it is `CONFLICT`. Without one, a retry is a new request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

/// A plan change.
#[derive(
    Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[serde(deny_unknown_fields)]
pub struct ChangePlan {
    /// The account.
    pub account_id: String,
    /// The subscription.
    pub subscription_id: String,
    /// The plan to bill by (saved; its latest version bills, in the same currency).
    pub plan_id: String,
    /// When the new plan starts: `period_end` (the default: it bills from the next period, its
    /// period 1), `immediately` or a local date (the old plan's billing ends there as an
    /// immediate cancellation's would).
    #[serde(default = "period_end")]
    pub effective: Effective,
    /// Who changes it, for the audit trail (`api` when absent).
    #[serde(default = "api_actor")]
    pub actor: String,
    /// The caller's key for this request (the platform's Idempotency-Key): made again with the
    /// same key and body, it answers what it answered the first time and writes nothing new;
    /// with another body, it is `CONFLICT`. Without one, a retry is a new request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

/// How a quantity change bills the period it falls in.
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    serde::Serialize,
    serde::Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Proration {
    /// The new quantity applies from the next invoice issued, with no renewal.
    #[default]
    None,
    /// The new quantity holds from the effective date; the days at each quantity are billed
    /// (a period already billed is settled).
    Prorate,
}

/// A subscription after a change, and the credit note the change issued.
#[derive(Debug, Clone, PartialEq, serde::Serialize, schemars::JsonSchema)]
pub struct ChangedSubscription {
    /// The subscription as stored.
    pub subscription: Subscription,
    /// The credit note of a decrease on a period already billed.
    pub credit_note: Option<CreditNote>,
}

fn period_end() -> Effective {
    Effective::PeriodEnd
}

fn yes() -> bool {
    true
}

/// One change, as [`Engine::change`] makes it.
#[derive(Debug, Clone)]
pub(crate) enum Change {
    Plan {
        plan: Box<PlanVersion>,
        effective: Effective,
    },
    Cancel {
        effective: Effective,
        credit_unused: bool,
    },
    WithdrawCancel,
    Pause(Pause),
    Resume(NaiveDate),
    Quantity {
        quantity: Quantity,
        proration: Proration,
        effective: Effective,
    },
}

/// What a change did to the state: how it is told on documents, its event and its data.
struct Made {
    told: ChangeTold,
    action: AuditAction,
    data: Value,
}

impl Engine {
    /// Cancels a subscription ([`CancelSubscription`]).
    #[tracing::instrument(name = "cancel_subscription", skip_all, fields(account_id = %request.account_id, subscription_id = %request.subscription_id, actor = %request.actor))]
    pub async fn cancel_subscription(
        &self,
        request: &CancelSubscription,
    ) -> Result<ChangedSubscription> {
        let keyed = Keyed::by_request_id(
            "cancel_subscription",
            &request.account_id,
            request.request_id.as_deref(),
            request,
        )?;
        let change = Change::Cancel {
            effective: request.effective,
            credit_unused: request.credit_unused,
        };
        self.change(
            &request.account_id,
            &request.subscription_id,
            &request.actor,
            change,
            keyed.as_ref(),
        )
        .await
    }

    /// Withdraws a cancellation before it takes effect ([`WithdrawCancel`]).
    #[tracing::instrument(name = "withdraw_cancel", skip_all, fields(account_id = %request.account_id, subscription_id = %request.subscription_id, actor = %request.actor))]
    pub async fn withdraw_cancel(&self, request: &WithdrawCancel) -> Result<ChangedSubscription> {
        let keyed = Keyed::by_request_id(
            "withdraw_cancel",
            &request.account_id,
            request.request_id.as_deref(),
            request,
        )?;
        self.change(
            &request.account_id,
            &request.subscription_id,
            &request.actor,
            Change::WithdrawCancel,
            keyed.as_ref(),
        )
        .await
    }

    /// Pauses a subscription ([`PauseSubscription`]); a pause overlapping another is
    /// [`Error::Conflict`].
    #[tracing::instrument(name = "pause_subscription", skip_all, fields(account_id = %request.account_id, subscription_id = %request.subscription_id, actor = %request.actor))]
    pub async fn pause_subscription(
        &self,
        request: &PauseSubscription,
    ) -> Result<ChangedSubscription> {
        let keyed = Keyed::by_request_id(
            "pause_subscription",
            &request.account_id,
            request.request_id.as_deref(),
            request,
        )?;
        let pause = Pause {
            from: request.from,
            until: request.until,
        };
        self.change(
            &request.account_id,
            &request.subscription_id,
            &request.actor,
            Change::Pause(pause),
            keyed.as_ref(),
        )
        .await
    }

    /// Ends a pause ([`ResumeSubscription`]).
    #[tracing::instrument(name = "resume_subscription", skip_all, fields(account_id = %request.account_id, subscription_id = %request.subscription_id, actor = %request.actor))]
    pub async fn resume_subscription(
        &self,
        request: &ResumeSubscription,
    ) -> Result<ChangedSubscription> {
        let keyed = Keyed::by_request_id(
            "resume_subscription",
            &request.account_id,
            request.request_id.as_deref(),
            request,
        )?;
        self.change(
            &request.account_id,
            &request.subscription_id,
            &request.actor,
            Change::Resume(request.on),
            keyed.as_ref(),
        )
        .await
    }

    /// Changes a subscription's plan ([`ChangePlan`]); a plan in another currency is invalid
    /// input.
    #[tracing::instrument(name = "change_plan", skip_all, fields(account_id = %request.account_id, subscription_id = %request.subscription_id, plan_id = %request.plan_id, actor = %request.actor))]
    pub async fn change_plan(&self, request: &ChangePlan) -> Result<ChangedSubscription> {
        let keyed = Keyed::by_request_id(
            "change_plan",
            &request.account_id,
            request.request_id.as_deref(),
            request,
        )?;
        check_id("plan.id", &request.plan_id)?;
        let plan = self
            .latest_plan(&request.account_id, &request.plan_id)
            .await?;
        let change = Change::Plan {
            plan: Box::new(plan),
            effective: request.effective,
        };
        self.change(
            &request.account_id,
            &request.subscription_id,
            &request.actor,
            change,
            keyed.as_ref(),
        )
        .await
    }

    /// The credit notes of an account, or of one subscription.
    pub async fn credit_notes(&self, query: &CreditNoteQuery) -> Result<Vec<CreditNote>> {
        self.store.credit_notes(query).await
    }

    /// Makes `change` on a subscription now: issues what it owes up to now, changes its state,
    /// settles the period already billed that the change concerns, and writes it all over the
    /// revision it was computed from (again on the new state when a run got there first).
    pub(crate) async fn change(
        &self,
        account_id: &str,
        subscription_id: &str,
        actor: &str,
        change: Change,
        keyed: Option<&Keyed>,
    ) -> Result<ChangedSubscription> {
        match self
            .change_keyed(account_id, subscription_id, actor, change, keyed)
            .await
        {
            Ok(changed) => Ok(changed),
            // A twin that made it meanwhile answers (its key refused this write, or its change
            // made this one impossible).
            Err(error) => self.replayed_after(keyed, error).await,
        }
    }

    /// [`Engine::change`], each attempt first looking for the request's record (an earlier
    /// request, or a twin that committed while this one was computed, answers).
    async fn change_keyed(
        &self,
        account_id: &str,
        subscription_id: &str,
        actor: &str,
        change: Change,
        keyed: Option<&Keyed>,
    ) -> Result<ChangedSubscription> {
        let since = std::time::Instant::now();
        let mut attempts = 0;
        let mut busy = 0;
        while attempts < MAX_ATTEMPTS {
            if let Some(answer) = self.replayed(keyed).await? {
                return Ok(answer);
            }
            let now = self.clock.now();
            // Billing runs come first.
            self.renew_subscription(account_id, subscription_id, now)
                .await?;
            let current = self.subscription(account_id, subscription_id).await?;
            if current.status != SubscriptionStatus::Active {
                return Err(Error::invalid(
                    "subscription.status",
                    format!(
                        "subscription {subscription_id:?} is {}: it can no longer be changed",
                        current.status.as_str()
                    ),
                ));
            }
            let account = self.account(account_id).await?;
            let customer = self.customer(account_id, &current.customer_id).await?;
            let plan = self.latest_plan(account_id, &current.plan_id).await?;
            let terms = Terms::new(&current, account, customer, plan)?;
            let today = now.with_timezone(&terms.account.timezone).date_naive();

            let mut next = current.clone();
            let made = make(&terms, &mut next, change.clone(), today)?;
            if next == current {
                // Nothing to change (a quantity already in force): nothing is written. A keyed
                // twin that committed between this attempt's look-up and its read of the
                // subscription (its change is what made this one nothing) answers instead.
                if let Some(answer) = self.replayed(keyed).await? {
                    return Ok(answer);
                }
                return Ok(ChangedSubscription {
                    subscription: current,
                    credit_note: None,
                });
            }
            // The period billed in advance that the change may concern, and where the
            // subscription stands now.
            let timing = terms.plan.program.invoice_timing();
            let billed_index = match timing {
                InvoiceTiming::AtStart => current.next_invoice_period.checked_sub(1),
                InvoiceTiming::AtRenewal => None,
            }
            .filter(|index| *index >= 1);
            let (owed, _) = terms.period(current.next_invoice_period)?;
            let billed = billed_index.map(|index| terms.period(index)).transpose()?;
            let billed_clipped = billed.and_then(|(period, _)| next.changes.clip(&period));
            step::position(
                &mut next,
                &terms.calendar,
                timing,
                &owed,
                billed_clipped.as_ref(),
            );

            let mut credit_note = None;
            if let Some((period, days)) = billed
                && let Some(invoice) = self.invoice_of(&current, period.start).await?
            {
                let program = if invoice.plan_version == terms.plan.version {
                    terms.plan.program.clone()
                } else {
                    self.plan_version(account_id, &invoice.plan_id, invoice.plan_version)
                        .await?
                        .program
                };
                let number = current.changes.credit_notes + 1;
                let mut settlement = settle_change(
                    &program, &period, days, &invoice, &current, &next, &made.told, number,
                )?;
                settlement.net_with(&mut next.changes.increases, &period);
                next.changes.increases.extend(settlement.increases);
                if let Some(credit) = settlement.credit {
                    next.changes.credit_notes = number;
                    credit_note = Some(CreditNote::against(&invoice, credit, now)?);
                }
            }
            next.revision = current.revision + 1;
            next.updated_at = now;

            let correlation = new_id();
            let trail = self.trail(actor, None, &correlation, now);
            let mut data = made.data;
            data["effective"] = json!(made.told.effective);
            data["next_invoice_at"] = json!(next.next_invoice_at);
            let mut audit = vec![
                AuditEvent::new(
                    now,
                    account_id,
                    actor,
                    made.action,
                    SubjectKind::Subscription,
                    subscription_id,
                )
                .correlated(None, &correlation)
                .with_data(data),
            ];
            audit.extend(
                credit_note
                    .iter()
                    .map(|note| events::credit_note_event(note, &trail)),
            );
            let changed = ChangedSubscription {
                subscription: next,
                credit_note,
            };
            let idempotency = keyed
                .map(|keyed| keyed.record(&changed.receipt(), now))
                .transpose()?;
            let outcome = self
                .store
                .commit(&SubscriptionCommit {
                    expected_revision: current.revision,
                    subscription: changed.subscription.clone(),
                    invoice: None,
                    invoice_status: Vec::new(),
                    credit_notes: changed.credit_note.iter().cloned().collect(),
                    events: audit,
                    idempotency,
                })
                .await?;
            match outcome {
                CommitOutcome::Committed => return Ok(changed),
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

    /// The invoice that billed the period starting on `start` of `subscription`, if one was
    /// issued (a void one does not count: its period was billed again, or is billed by none).
    async fn invoice_of(
        &self,
        subscription: &Subscription,
        start: NaiveDate,
    ) -> Result<Option<IssuedInvoice>> {
        let invoices = self
            .store
            .invoices(&InvoiceQuery {
                account_id: Some(subscription.account_id.clone()),
                subscription_id: Some(subscription.id.clone()),
                limit: None,
                ..Default::default()
            })
            .await?;
        Ok(invoices.into_iter().rev().find(|invoice| {
            invoice.invoice.period_start == start && invoice.status != InvoiceStatus::Void
        }))
    }

    pub(super) async fn plan_version(
        &self,
        account_id: &str,
        plan_id: &str,
        version: u32,
    ) -> Result<crate::plan::PlanVersion> {
        self.store
            .plan_version(&PlanQuery {
                account_id: account_id.to_owned(),
                plan_id: plan_id.to_owned(),
                version: Some(version),
            })
            .await?
            .ok_or_else(|| Error::not_found("plan", format!("{plan_id} v{version}")))
    }
}

/// The term of `plan` when it starts on `on` after the plan of `terms`: the current anchor kept
/// when the interval (unit and count) is the same, its period 1 the part of the anchored period
/// from `on`; otherwise anchored on `on`. Another currency is invalid input.
fn plan_switch(terms: &Terms, plan: &PlanVersion, on: NaiveDate) -> Result<PlanSwitch> {
    let (old, new) = (&terms.plan.program, &plan.program);
    if new.currency != old.currency {
        return Err(Error::invalid(
            "plan.currency",
            format!(
                "plan {:?} bills in {}, the subscription in {}: a plan change keeps the currency",
                plan.plan_id(),
                new.currency.code(),
                old.currency.code()
            ),
        ));
    }
    let tz = terms.account.timezone;
    let (term, first) = if new.interval == old.interval {
        let calendar = BillingCalendar::new(terms.term.anchor, new.interval, tz)?;
        let holding = calendar.period_containing(on)?.ok_or_else(|| {
            Error::invalid(
                "plan.effective",
                format!("{on} is before the subscription's start"),
            )
        })?;
        let term = Term {
            anchor: terms.term.anchor,
            offset: holding.index - 1,
            starts_on: on,
        };
        (term, holding)
    } else {
        let calendar = BillingCalendar::new(on, new.interval, tz)?;
        (Term::from_start(on), calendar.period(1)?)
    };
    let first_due = match new.invoice_timing() {
        InvoiceTiming::AtStart => on,
        InvoiceTiming::AtRenewal => first.end,
    };
    Ok(PlanSwitch {
        plan_id: plan.plan_id().to_owned(),
        term,
        first_period_end: first.end,
        first_due,
    })
}

/// Makes `change` on `next` (the subscription's state, read on local date `today`): the pure
/// half of a change, with its checks.
fn make(terms: &Terms, next: &mut Subscription, change: Change, today: NaiveDate) -> Result<Made> {
    // The end of the period the subscription is in: the one billed last when it bills in
    // advance, the one it owes when it bills in arrears (as the calendar has it, whatever a
    // cancellation cut).
    let current = match terms.plan.program.invoice_timing() {
        InvoiceTiming::AtStart => next.next_invoice_period.saturating_sub(1).max(1),
        InvoiceTiming::AtRenewal => next.next_invoice_period,
    };
    let period_end = terms.period(current)?.0.end;
    let told = |reason, what: String, effective, credit| ChangeTold {
        reason,
        what,
        effective,
        credit,
    };
    Ok(match change {
        Change::Plan { plan, effective } => {
            let on = effective.resolve("plan.effective", today, period_end)?;
            let switch = plan_switch(terms, &plan, on)?;
            let data = json!({
                "old_plan_id": next.plan_id,
                "new_plan_id": plan.plan_id(),
                "new_plan_version": plan.version,
                "starts_on": on,
                "requested": effective,
                "anchor": switch.term.anchor,
                "first_period_end": switch.first_period_end,
            });
            next.changes.switch_plan(on, switch)?;
            Made {
                told: told(
                    "plan_change",
                    format!("Plan changed to {} from {on}", plan.plan_id()),
                    on,
                    true,
                ),
                action: AuditAction::PlanChangeScheduled,
                data,
            }
        }
        Change::Cancel {
            effective,
            credit_unused,
        } => {
            let on = effective.resolve("cancel.effective", today, period_end)?;
            next.changes.cancel(on, credit_unused)?;
            Made {
                told: told("cancel", format!("Canceled from {on}"), on, credit_unused),
                action: AuditAction::CancelScheduled,
                data: json!({ "ends_on": on, "requested": effective, "credit_unused": credit_unused }),
            }
        }
        Change::WithdrawCancel => {
            let ends_on = next.changes.end.map(|end| end.on);
            next.changes.withdraw_cancel(today)?;
            let on = ends_on.unwrap_or(today);
            Made {
                told: told(
                    "cancel",
                    format!("Cancellation from {on} withdrawn"),
                    on,
                    true,
                ),
                action: AuditAction::CancelWithdrawn,
                data: json!({ "ends_on": ends_on }),
            }
        }
        Change::Pause(pause) => {
            next.changes.pause(pause, today)?;
            let until = pause
                .until
                .map_or("further notice".to_owned(), |until| until.to_string());
            Made {
                told: told(
                    "pause",
                    format!("Paused from {} until {until}", pause.from),
                    pause.from,
                    true,
                ),
                action: AuditAction::SubscriptionPaused,
                data: json!({ "from": pause.from, "until": pause.until }),
            }
        }
        Change::Resume(on) => {
            let ended = next.changes.resume(on, today)?;
            Made {
                told: told("resume", format!("Resumed on {on}"), on, true),
                action: AuditAction::SubscriptionResumed,
                data: json!({ "on": on, "pause_from": ended.from, "pause_until": ended.until }),
            }
        }
        Change::Quantity {
            quantity,
            proration,
            effective,
        } => {
            let old = next.quantity;
            let from = match proration {
                // From the next invoice issued: the period owed next.
                Proration::None => terms.period(next.next_invoice_period)?.0.start,
                Proration::Prorate => effective.resolve("quantity.effective", today, period_end)?,
            };
            next.changes.set_quantity(from, quantity, old);
            next.quantity = quantity;
            Made {
                told: told(
                    "quantity",
                    format!("Quantity {old} -> {quantity} from {from}"),
                    from,
                    true,
                ),
                action: AuditAction::QuantityChanged,
                data: json!({
                    "old_quantity": old,
                    "new_quantity": quantity,
                    "proration": proration,
                    "effective_from": from,
                    "effective_from_period": next.next_invoice_period,
                }),
            }
        }
    })
}

impl Replayable for ChangedSubscription {
    fn receipt(&self) -> Receipt {
        let receipt = Receipt::default().with_subscription(&self.subscription);
        match &self.credit_note {
            Some(note) => receipt.with_note(note),
            None => receipt,
        }
    }

    async fn replay(engine: &Engine, account_id: &str, mut receipt: Receipt) -> Result<Self> {
        let subscription = receipt.subscription()?;
        let credit_note = match receipt.credit_notes.first() {
            Some(found) => Some(engine.note_answered(account_id, found).await?),
            None => None,
        };
        Ok(ChangedSubscription {
            subscription,
            credit_note,
        })
    }
}
