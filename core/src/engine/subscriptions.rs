//! Subscriptions: creating one (and billing its first invoice when its plan bills in advance and
//! it has started), changing its quantity, previewing its next invoice.

use chrono::NaiveDate;
use serde_json::json;

use crate::audit::{AuditAction, AuditEvent, SubjectKind, new_id};
use crate::changes::Effective;
use crate::error::{Error, Result};
use crate::invoice::{Invoice, IssuedInvoice};
use crate::pricing::InvoiceTiming;
use crate::store::NewSubscription;
use crate::subscription::{Subscription, SubscriptionStatus};

#[cfg(doc)]
use super::MAX_QUANTITY;
use super::cache::RunCache;
use super::changes::{Change, Proration};
use super::late::{self, Late};
use super::retries::{Keyed, Receipt, Replayable};
use super::step::{self, Renewal, Terms};
use super::{Engine, Quantity, api_actor, check_id, events};

/// A subscription to create.
#[derive(
    Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[serde(deny_unknown_fields)]
pub struct CreateSubscription {
    /// The account.
    pub account_id: String,
    /// The new subscription's id, unique in the account.
    pub id: String,
    /// The customer billed (must exist).
    pub customer_id: String,
    /// The plan (its latest version bills the first invoice).
    pub plan_id: String,
    /// Copies or seats, 1 to [`MAX_QUANTITY`] (1 when absent).
    // A number the engine makes a `Quantity`, so that a refusal names `subscription.quantity`
    // (the field it sets), whatever the shape of the caller's request.
    #[serde(default = "one")]
    pub quantity: u32,
    /// The local date the first period starts; may be in the past or the future.
    pub start_date: NaiveDate,
    /// Who creates it, for the audit trail (`api` when absent).
    #[serde(default = "api_actor")]
    pub actor: String,
    /// The caller's key for this request (the platform's Idempotency-Key): made again with the
    /// same key and body, it answers what it answered the first time and writes nothing new;
    /// with another body, it is `CONFLICT`. Without one, the subscription's id keys it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

/// A created subscription and its first invoice, if it was billed at creation.
#[derive(Debug, Clone, PartialEq, serde::Serialize, schemars::JsonSchema)]
pub struct CreatedSubscription {
    /// The subscription as stored.
    pub subscription: Subscription,
    /// The first invoice (`billing_reason: subscription_create`), for plans billed in advance
    /// whose start date has come.
    pub invoice: Option<IssuedInvoice>,
}

/// A quantity change.
#[derive(
    Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[serde(deny_unknown_fields)]
pub struct ChangeQuantity {
    /// The account.
    pub account_id: String,
    /// The subscription.
    pub subscription_id: String,
    /// The new quantity, 1 to [`MAX_QUANTITY`].
    // A number the engine makes a `Quantity`, so that a refusal names `subscription.quantity`
    // (the field it would change), whatever the shape of the caller's request.
    pub quantity: u32,
    /// `none` (the default): the new quantity applies from the next invoice issued; `prorate`:
    /// it holds from `effective`, and the days at each quantity are billed.
    #[serde(default)]
    pub proration: Proration,
    /// With `prorate`: when the new quantity takes effect (`immediately`, the default: the next
    /// local midnight; or a local date).
    #[serde(default = "immediately")]
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

fn immediately() -> Effective {
    Effective::Immediately
}

/// One copy, when a request names no quantity.
fn one() -> u32 {
    1
}

impl Engine {
    /// Creates a subscription. The plan decides when it is first billed: a plan billed in advance
    /// is invoiced now for its first period (`subscription_create`) if that period has started,
    /// or on its start date if it starts later; a plan billed in arrears is first invoiced at the
    /// end of its first period. The decision is in the audit trail (`timing_decided`).
    #[tracing::instrument(name = "create_subscription", skip_all, fields(account_id = %request.account_id, subscription_id = %request.id, plan_id = %request.plan_id, quantity = request.quantity, mode = self.mode.as_str(), actor = %request.actor))]
    pub async fn create_subscription(
        &self,
        request: &CreateSubscription,
    ) -> Result<CreatedSubscription> {
        let quantity = Quantity::new(request.quantity)?;
        check_id("subscription.id", &request.id)?;
        check_id("subscription.customer_id", &request.customer_id)?;
        crate::calendar::check_start_date("subscription.start_date", request.start_date)?;
        let keyed = Keyed::creation(
            &request.account_id,
            &request.id,
            request.request_id.as_deref(),
            request,
        )?;
        if let Some(answer) = self.replayed(Some(&keyed)).await? {
            return Ok(answer);
        }
        let account = self.account(&request.account_id).await?;
        let customer = self.customer(&account.id, &request.customer_id).await?;
        let plan = self.latest_plan(&account.id, &request.plan_id).await?;
        let now = self.clock.now();
        let correlation = new_id();
        let timing = plan.program.invoice_timing();

        let mut subscription = Subscription {
            account_id: account.id.clone(),
            id: request.id.clone(),
            customer_id: customer.id.clone(),
            plan_id: plan.plan_id().to_owned(),
            quantity,
            start_date: request.start_date,
            status: SubscriptionStatus::Active,
            current_period: 1,
            current_period_start: request.start_date,
            current_period_end: request.start_date,
            next_invoice_period: 1,
            next_invoice_at: None,
            changes: Default::default(),
            billed_usage: Default::default(),
            revision: 1,
            created_at: now,
            updated_at: now,
        };
        let terms =
            Terms::new(&subscription, account, customer, plan)?.with_lookback(self.lookback);
        let (first, _) = terms.period(1)?;
        step::position(&mut subscription, &terms.calendar, timing, &first, None);
        let start_at = terms.calendar.local_midnight(first.start).to_utc();
        let (account, plan) = (&terms.account, &terms.plan);
        let event = |action, kind, id: &str| {
            AuditEvent::new(now, &account.id, &request.actor, action, kind, id)
                .correlated(None, &correlation)
        };
        let mut events = vec![
            event(
                AuditAction::SubscriptionCreated,
                SubjectKind::Subscription,
                &request.id,
            )
            .with_data(json!({
                "customer_id": terms.customer.id,
                "plan_id": plan.plan_id(),
                "plan_version": plan.version,
                "quantity": quantity,
                "start_date": request.start_date,
            })),
        ];
        let bill_now = timing == InvoiceTiming::AtStart && start_at <= now;
        events.push(
            event(
                AuditAction::TimingDecided,
                SubjectKind::Subscription,
                &request.id,
            )
            .with_data(json!({
                "invoice_timing": timing,
                "first_invoice": if bill_now { "now" } else { "later" },
                "first_invoice_at": if bill_now { Some(now) } else { subscription.next_invoice_at },
                "plan_version": plan.version,
            })),
        );
        let mut invoice = None;
        if bill_now {
            let trail = self.trail(&request.actor, None, &correlation, now);
            let mut calls = Vec::new();
            let billed = match Renewal::plan(&terms, &subscription, now) {
                Ok(renewal) => match self.usage_of(&renewal).await {
                    Ok(usage) => {
                        let read = step::Read {
                            usage,
                            late: Late::none(&subscription),
                        };
                        self.bill_renewal(&terms, &renewal, read, &trail, &mut calls)
                            .await
                    }
                    Err(error) => Err(error),
                },
                Err(error) => Err(error),
            };
            let settled = match billed {
                Ok(settled) => settled,
                Err(error) => {
                    // Nothing of the subscription is written; the trail keeps the model's
                    // answers and why the first invoice failed.
                    let mut failed = events::model_events(&calls, &subscription, &trail);
                    failed.push(
                        event(
                            AuditAction::RenewalFailed,
                            SubjectKind::Subscription,
                            &request.id,
                        )
                        .with_data(json!({
                            "stage": "subscription_create",
                            "period": 1,
                            "error": error.to_string(),
                            "code": error.code().as_str(),
                        })),
                    );
                    self.store.append_events(&failed).await?;
                    return Err(error);
                }
            };
            events.extend(settled.events);
            subscription = settled.next;
            // Creation writes revision 1.
            subscription.revision = 1;
            invoice = Some(settled.invoice);
        }
        let created = CreatedSubscription {
            subscription,
            invoice,
        };
        let written = self
            .store
            .insert_subscription(&NewSubscription {
                subscription: created.subscription.clone(),
                invoice: created.invoice.clone(),
                events,
                idempotency: Some(keyed.record(&created.receipt(), now)?),
            })
            .await;
        match written {
            Ok(()) => Ok(created),
            // A twin that created it meanwhile answers.
            Err(error) => self.replayed_after(Some(&keyed), error).await,
        }
    }

    /// Changes a subscription's quantity, with no renewal: from the next invoice issued
    /// (`proration: none`), or from its effective date with the days at each quantity billed
    /// (`prorate`; a period already billed is settled). Audited with who made it, when, and the
    /// old and new values.
    #[tracing::instrument(name = "change_quantity", skip_all, fields(account_id = %request.account_id, subscription_id = %request.subscription_id, quantity = request.quantity, actor = %request.actor))]
    pub async fn change_quantity(&self, request: &ChangeQuantity) -> Result<Subscription> {
        let quantity = Quantity::new(request.quantity)?;
        let keyed = Keyed::by_request_id(
            "update_subscription",
            &request.account_id,
            request.request_id.as_deref(),
            request,
        )?;
        if let Some(answer) = self.replayed(keyed.as_ref()).await? {
            return Ok(answer);
        }
        let current = self
            .subscription(&request.account_id, &request.subscription_id)
            .await?;
        if current.quantity == quantity && current.changes.quantities.is_empty() {
            return Ok(current);
        }
        let change = Change::Quantity {
            quantity,
            proration: request.proration,
            effective: request.effective,
        };
        Ok(self
            .change(
                &request.account_id,
                &request.subscription_id,
                &request.actor,
                change,
                keyed.as_ref(),
            )
            .await?
            .subscription)
    }

    /// The next invoice of a subscription, as it would be issued now (with the usage recorded so
    /// far for a plan billed in arrears), without writing anything.
    #[tracing::instrument(name = "preview_next", skip(self))]
    pub async fn preview_next(&self, account_id: &str, subscription_id: &str) -> Result<Invoice> {
        let subscription = self.subscription(account_id, subscription_id).await?;
        if subscription.status != SubscriptionStatus::Active {
            return Err(Error::invalid(
                "subscription.status",
                format!(
                    "subscription {subscription_id:?} is {} and owes no more invoices",
                    subscription.status.as_str()
                ),
            ));
        }
        let account = self.account(account_id).await?;
        let customer = self.customer(account_id, &subscription.customer_id).await?;
        let plan = self.latest_plan(account_id, &subscription.plan_id).await?;
        let terms =
            Terms::new(&subscription, account, customer, plan)?.with_lookback(self.lookback);
        let now = self.clock.now();
        let mut renewal = Renewal::plan(&terms, &subscription, now)?;
        if !renewal.issues_invoice() {
            // Its end comes before another period: canceled then, or on its new plan.
            let (what, on) = match &subscription.changes.switch {
                Some(switch) => (
                    format!("moves to plan {:?}", switch.plan_id),
                    switch.term.starts_on,
                ),
                None => ("is canceled".to_owned(), renewal.period.end),
            };
            return Err(Error::invalid(
                "subscription.status",
                format!(
                    "subscription {subscription_id:?} {what} from {on}: no invoice of its current plan is due"
                ),
            ));
        }
        let trail = self.trail(super::SYSTEM_ACTOR, None, "", now);
        let usage = self.usage_of(&renewal).await?;
        // The late usage the next renewal would settle, as it would read it.
        renewal.late_reads = late::reads(&terms, &renewal.state, terms.lookback);
        let requests: Vec<_> = renewal
            .late_reads
            .iter()
            .map(|read| read.request.clone())
            .collect();
        let late_usage = self
            .store
            .usage_many(&requests)
            .await?
            .into_iter()
            .collect::<Result<Vec<_>>>()?;
        let read = self
            .read(&terms, &renewal, usage, &late_usage, &RunCache::default())
            .await?;
        let settled = self
            .bill_renewal(&terms, &renewal, read, &trail, &mut Vec::new())
            .await?;
        Ok(settled.invoice.invoice)
    }
}

impl Replayable for CreatedSubscription {
    fn receipt(&self) -> Receipt {
        let receipt = Receipt::default().with_subscription(&self.subscription);
        match &self.invoice {
            Some(invoice) => receipt.with_invoice(invoice),
            None => receipt,
        }
    }

    async fn replay(engine: &Engine, account_id: &str, mut receipt: Receipt) -> Result<Self> {
        let subscription = receipt.subscription()?;
        let invoice = match receipt.invoices.first() {
            Some(found) => Some(engine.invoice_answered(account_id, found).await?),
            None => None,
        };
        Ok(CreatedSubscription {
            subscription,
            invoice,
        })
    }
}
