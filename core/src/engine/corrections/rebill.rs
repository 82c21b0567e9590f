//! Billing a voided invoice's period again from the current data, as a renewal would price it
//! now: the period's own plan version, its served days and quantity as the subscription's
//! changes have them, the usage the tables hold now, the customer's tax now; the lines of the
//! voided invoice that settle other periods are carried over unchanged.
//!
//! Only the period billed last is billed again: the changes that concern earlier periods are
//! pruned from the subscription as later periods are billed, so an earlier period could not be
//! priced as it was served. Voiding one needs no re-billing.

use chrono::{DateTime, Utc};

use crate::calendar::Period;
use crate::error::{Error, Result};
use crate::invoice::IssuedInvoice;
use crate::late_usage::InvoiceUsage;
use crate::money::Money;
use crate::pricing::PricedLine;
use crate::store::UsageRequest;
use crate::subscription::{BillingReason, InvoiceStatus, Subscription, rebilled_invoice_id};
use crate::usage::PeriodUsage;

use super::super::Engine;
use super::super::period::{SettledLine, price_served};
use super::super::step::{self, Terms};

/// The invoice that bills a voided invoice's period again, and the usage it was priced on.
#[derive(Debug, Clone)]
pub(super) struct Rebilled {
    pub invoice: IssuedInvoice,
    pub usage: Option<(UsageRequest, PeriodUsage)>,
}

impl Engine {
    /// The invoice billing `voided`'s period again for `subscription` (whose invoices are
    /// `invoices`), written at `now`. A period before the one billed last, or one whose plan term
    /// changed since, is [`Error::Conflict`].
    pub(super) async fn rebill(
        &self,
        subscription: &Subscription,
        voided: &IssuedInvoice,
        invoices: &[IssuedInvoice],
        now: DateTime<Utc>,
    ) -> Result<Rebilled> {
        let start = voided.invoice.period_start;
        if let Some(later) = invoices
            .iter()
            .find(|other| other.status != InvoiceStatus::Void && other.invoice.period_start > start)
        {
            return Err(Error::conflict(
                "invoice.rebill",
                format!(
                    "invoice {} bills a later period (from {}): only the period billed last is \
                     billed again; void {} without re-billing instead",
                    later.id, later.invoice.period_start, voided.id
                ),
            ));
        }
        let account_id = &subscription.account_id;
        let plan = self
            .plan_version(account_id, &voided.plan_id, voided.plan_version)
            .await?;
        let account = self.account(account_id).await?;
        let customer = self.customer(account_id, &subscription.customer_id).await?;
        let terms = Terms::new(subscription, account, customer, plan)?;
        let period = Period {
            index: voided.invoice.period_index,
            start,
            end: voided.invoice.period_end,
        };
        let served = if voided.billing_reason == BillingReason::SubscriptionEnd {
            // A settlement at the end bills only the lines it carries.
            None
        } else {
            let (whole, days) = terms.period(period.index)?;
            if whole.start != start || period.end > whole.end {
                return Err(Error::conflict(
                    "invoice.rebill",
                    format!(
                        "the subscription's plan term changed since invoice {} was issued: its \
                         period ({start} to {}) is not billed again",
                        voided.id, period.end
                    ),
                ));
            }
            Some(
                subscription
                    .changes
                    .served(start, period.end, days, subscription.quantity),
            )
        };
        let currency = terms.plan.program.currency;
        let settled = voided
            .settled
            .iter()
            .filter_map(|span| {
                let line = voided.invoice.line_items.get(span.position as usize)?;
                Some(SettledLine {
                    line: PricedLine {
                        description: line.description.clone(),
                        kind: line.kind,
                        amount: Money::from_minor(line.amount.minor(), currency),
                        basis: line.basis.clone(),
                    },
                    start: span.start,
                    end: span.end,
                })
            })
            .collect();
        let usage = match served
            .as_ref()
            .and_then(|_| step::usage_request(&terms, subscription, &period))
        {
            Some(request) => {
                let usage = self.store.usage(&request).await?;
                Some((request, usage))
            }
            None => None,
        };
        let priced = price_served(
            &terms.plan.program,
            &terms.calendar,
            &period,
            served.as_ref(),
            settled,
            usage
                .as_ref()
                .map_or(&PeriodUsage::default(), |(_, usage)| usage),
        )?;
        let request = priced
            .tax_request()
            .with_address(terms.customer.tax_address.clone())
            .with_exempt(terms.customer.tax_exempt)
            .with_inclusive(terms.account.tax_inclusive);
        let taxed = self.tax.compute(&request).await?;
        let voided_before = invoices
            .iter()
            .filter(|other| {
                other.status == InvoiceStatus::Void && other.invoice.period_start == start
            })
            .count();
        let invoice = IssuedInvoice {
            id: rebilled_invoice_id(
                &subscription.id,
                start,
                u32::try_from(voided_before).unwrap_or(u32::MAX),
            ),
            account_id: account_id.clone(),
            subscription_id: subscription.id.clone(),
            customer_id: subscription.customer_id.clone(),
            plan_id: voided.plan_id.clone(),
            plan_version: voided.plan_version,
            quantity: served
                .as_ref()
                .and_then(|served| served.segments.last())
                .map_or(voided.quantity, |segment| segment.quantity.get()),
            billing_reason: voided.billing_reason,
            status: InvoiceStatus::Open,
            created_at: now,
            settled: priced.settled_spans(),
            review: None,
            // Its own period's usage as read now; the late usage of earlier periods that the
            // voided invoice settled is carried over with its lines.
            usage: InvoiceUsage {
                period: usage.as_ref().map(|(_, usage)| *usage),
                late: voided.usage.late.clone(),
            },
            invoice: priced.finish(taxed)?,
        };
        Ok(Rebilled { invoice, usage })
    }
}
