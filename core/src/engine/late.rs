//! Late usage at a renewal (`billing-conventions.md`, "Late usage"): which periods billed before
//! it are read again, in the same batched usage call as its own period, and what their
//! difference settles: an increase is a line on the renewal's invoice (its revenue spread over
//! the period it is for), a decrease a credit note against that period's invoice, issued on the
//! renewal's date; a difference past the look-back is reported, never billed.
//!
//! Only the first period a batch bills for a subscription reads the periods before it: the
//! periods after it in the same batch are read at the same instant, so nothing can have arrived
//! late for them since.

use std::collections::HashMap;

use crate::basis::LineBasis;
use crate::credit_note::{Credit, CreditNote};
use crate::error::{Error, Result};
use crate::invoice::{IssuedInvoice, LineItem};
use crate::late_usage::{LateUsage, LookBack, Reread};
use crate::money::Money;
use crate::pricing::{ChargeKind, PricedLine, PricingProgram};
use crate::store::{InvoiceQuery, UsageRequest};
use crate::subscription::Subscription;
use crate::usage::PeriodUsage;

use super::Engine;
use super::cache::RunCache;
use super::period::SettledLine;
use super::step::{Renewal, Terms};

pub(super) mod settlement;
pub(crate) use settlement::{Late, LateRead};

/// The periods `state` billed before that a renewal reads again with a look-back of `lookback`.
pub(crate) fn reads(terms: &Terms, state: &Subscription, lookback: u32) -> Vec<LateRead> {
    state
        .billed_usage
        .to_read(lookback)
        .into_iter()
        .map(|(index, look)| {
            let billed = &state.billed_usage.0[index];
            LateRead {
                index,
                look,
                request: UsageRequest {
                    query: billed.query.clone(),
                    account_id: state.account_id.clone(),
                    customer_id: state.customer_id.clone(),
                    from: billed.from,
                    to: billed.to,
                    tz: terms.account.timezone,
                },
            }
        })
        .collect()
}

impl Engine {
    /// What the late usage read for `renewal` settles, `now` being the usage the tables hold for
    /// each of its reads (in order): each difference priced by the program version that billed
    /// its period; a decrease credited against that period's invoice on `issue_date`.
    pub(crate) async fn settle_late(
        &self,
        renewal: &Renewal,
        now: &[PeriodUsage],
        issue_date: chrono::NaiveDate,
        cache: &RunCache,
    ) -> Result<Late> {
        let state = &renewal.state;
        let mut late = Late::none(state);
        if renewal.late_reads.is_empty() {
            return Ok(late);
        }
        if now.len() != renewal.late_reads.len() {
            return Err(Error::overflow("the late usage of a renewal"));
        }
        let mut programs: HashMap<(String, u32), PricingProgram> = HashMap::new();
        let mut decreases = Vec::new();
        for (read, usage) in renewal.late_reads.iter().zip(now) {
            let Some(billed) = state.billed_usage.0.get(read.index) else {
                return Err(Error::overflow("the usage history of a renewal"));
            };
            if read.look == LookBack::Report {
                late.ignored.extend(Reread::of(billed, usage));
                continue;
            }
            let key = (billed.plan_id.clone(), billed.plan_version);
            if !programs.contains_key(&key) {
                let version = self
                    .cached_plan_version(cache, &state.account_id, &key.0, key.1)
                    .await?;
                programs.insert(key.clone(), version.program);
            }
            let program = &programs[&key];
            let Some(difference) = LateUsage::settle(program, billed, usage)? else {
                continue;
            };
            late.history.0[read.index].usage = *usage;
            late.settled.push(difference.read.clone());
            if difference.amount.is_negative() {
                decreases.push(difference);
            } else if !difference.amount.is_zero() {
                late.lines.push(SettledLine {
                    line: PricedLine {
                        description: difference.description(),
                        kind: ChargeKind::Usage,
                        amount: difference.amount,
                        basis: Some(LineBasis::LateUsage(difference.basis.clone())),
                    },
                    start: difference.read.start,
                    end: difference.read.end,
                });
            }
        }
        if !decreases.is_empty() {
            late.credit_notes = self
                .late_credit_notes(renewal, &decreases, issue_date)
                .await?;
        }
        Ok(late)
    }

    /// The credit notes of late decreases (late returns), each against the invoice of its
    /// period, numbered after the subscription's credit notes so far.
    async fn late_credit_notes(
        &self,
        renewal: &Renewal,
        decreases: &[LateUsage],
        issue_date: chrono::NaiveDate,
    ) -> Result<Vec<CreditNote>> {
        let state = &renewal.state;
        let invoices: HashMap<String, IssuedInvoice> = self
            .store
            .invoices(&InvoiceQuery {
                account_id: Some(state.account_id.clone()),
                subscription_id: Some(state.id.clone()),
                limit: None,
                ..Default::default()
            })
            .await?
            .into_iter()
            .map(|invoice| (invoice.id.clone(), invoice))
            .collect();
        let mut notes = Vec::with_capacity(decreases.len());
        for (offset, decrease) in (1u32..).zip(decreases) {
            let invoice = invoices
                .get(&decrease.read.invoice_id)
                .ok_or_else(|| Error::not_found("invoice", decrease.read.invoice_id.clone()))?;
            let amount = Money::zero(decrease.amount.currency()).checked_sub(decrease.amount)?;
            let credit = Credit {
                number: state.changes.credit_notes + offset,
                issue_date,
                reason: "late_usage".to_owned(),
                lines: vec![LineItem::new(
                    decrease.description(),
                    ChargeKind::Usage,
                    amount,
                    Some(LineBasis::LateUsage(decrease.basis.clone())),
                )],
                service: (decrease.read.start, decrease.read.end),
            };
            notes.push(CreditNote::against(invoice, credit, renewal.written_at)?);
        }
        Ok(notes)
    }
}
