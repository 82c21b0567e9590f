//! The settlement of a change on a period already billed, pure: what the period owes under the
//! changes before and after, charge by charge, and the difference as a credit (a decrease) or
//! increases for the next invoice (`billing-conventions.md`, "Settlement"). Since every earlier
//! change was settled the same way, what the period was billed net of its settlements is always
//! what it owed before this change, so the difference is all there is to settle.

use chrono::NaiveDate;

use crate::basis::{ChangeBasis, LineBasis, RecurringBasis};
use crate::calendar::Period;
use crate::changes::Increase;
use crate::credit_note::Credit;
use crate::error::Result;
use crate::invoice::{IssuedInvoice, LineItem};
use crate::money::Money;
use crate::pricing::{ChargeKind, PricingProgram};
use crate::subscription::Subscription;

/// What a change settles on the period it concerns.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Settlement {
    /// The decrease, for a credit note against the period's invoice.
    pub credit: Option<Credit>,
    /// The increases, for the subscription's next invoice.
    pub increases: Vec<Increase>,
}

/// How a change is told on the documents it makes.
#[derive(Debug, Clone)]
pub(crate) struct ChangeTold {
    /// `cancel`, `pause`, `resume`, `quantity`.
    pub reason: &'static str,
    /// In words ("Canceled from 2026-02-04").
    pub what: String,
    /// Its effective date: the credit note's issue date.
    pub effective: NaiveDate,
    /// Whether a decrease is credited (a cancellation with `credit_unused: false` is not).
    pub credit: bool,
}

/// Settles on `billed` (the invoice of period `whole`, of `days` anchored days, billed by
/// `program`) the change from `before` to `after`; `number` is the credit note's number if one
/// is made.
#[allow(clippy::too_many_arguments)]
pub(crate) fn settle_change(
    program: &PricingProgram,
    whole: &Period,
    days: u32,
    billed: &IssuedInvoice,
    before: &Subscription,
    after: &Subscription,
    told: &ChangeTold,
    number: u32,
) -> Result<Settlement> {
    let index = billed.invoice.period_index;
    let Some((start, end)) = changed_days(before, after, whole) else {
        return Ok(Settlement::default());
    };
    let served = |state: &Subscription| {
        state
            .changes
            .served(whole.start, whole.end, days, state.quantity)
    };
    let due_before = program.recurring_due(index, &served(before))?;
    let due_after = program.recurring_due(index, &served(after))?;
    let currency = program.currency;
    let sum = |lines: &[crate::pricing::PricedLine]| {
        Money::checked_sum(currency, lines.iter().map(|line| line.amount))
    };
    let mut credited = Vec::new();
    let mut settlement = Settlement::default();
    for (charge_index, charge) in program.recurring.iter().enumerate() {
        let owed = |due: &[(usize, Vec<crate::pricing::PricedLine>)]| -> Result<Money> {
            match due.iter().find(|(i, _)| *i == charge_index) {
                Some((_, lines)) => sum(lines),
                None => Ok(Money::zero(currency)),
            }
        };
        let difference = owed(&due_after)?.checked_sub(owed(&due_before)?)?;
        if difference.is_zero() {
            continue;
        }
        let bases = |due: &[(usize, Vec<crate::pricing::PricedLine>)]| -> Vec<RecurringBasis> {
            due.iter()
                .filter(|(i, _)| *i == charge_index)
                .flat_map(|(_, lines)| lines)
                .filter_map(|line| match &line.basis {
                    Some(LineBasis::Recurring(basis)) => Some(basis.clone()),
                    _ => None,
                })
                .collect()
        };
        let basis = ChangeBasis {
            change: told.what.clone(),
            charge: charge.description.clone(),
            period_index: index,
            period_start: whole.start,
            period_end: whole.end,
            before: bases(&due_before),
            after: bases(&due_after),
            netted: rust_decimal::Decimal::ZERO,
        };
        let description = format!(
            "{}: {} ({} {index}, {} to {})",
            told.what,
            charge.description,
            period_noun(program),
            whole.start,
            whole.end
        );
        if difference.is_negative() {
            credited.push(LineItem::new(
                description,
                ChargeKind::Recurring,
                difference.checked_neg()?,
                Some(LineBasis::Change(basis)),
            ));
        } else {
            settlement.increases.push(Increase {
                description,
                amount_minor: difference.minor(),
                service_start: start,
                service_end: end,
                basis: Some(basis),
            });
        }
    }
    if told.credit && !credited.is_empty() {
        settlement.credit = Some(Credit {
            number,
            issue_date: told.effective,
            reason: told.reason.to_owned(),
            lines: credited,
            service: (start, end),
        });
    }
    Ok(settlement)
}

impl Settlement {
    /// Nets this settlement with the increases still waiting for an invoice (`pending`) that
    /// concern the same `period`: a decrease first takes back those increases (they were never
    /// invoiced), and only what is left is credited. So a change followed by its reversal before
    /// the next invoice leaves no document at all, and a credit note never credits days that
    /// a waiting increase bills.
    pub(crate) fn net_with(&mut self, pending: &mut Vec<Increase>, period: &Period) {
        let Some(credit) = self.credit.as_mut() else {
            return;
        };
        let concerns = |increase: &Increase| {
            period.start <= increase.service_start && increase.service_start < period.end
        };
        let mut waiting: i64 = pending
            .iter()
            .filter(|increase| concerns(increase))
            .map(|increase| increase.amount_minor)
            .sum();
        if waiting <= 0 {
            return;
        }
        let credited: i64 = credit.lines.iter().map(|line| line.amount.minor()).sum();
        let Some(currency) = credit.lines.first().map(|line| line.amount.currency()) else {
            return;
        };
        let taken = waiting.min(credited);
        // Take `taken` off the waiting increases, the latest first.
        let mut left = taken;
        for increase in pending
            .iter_mut()
            .rev()
            .filter(|increase| concerns(increase))
        {
            let cut = left.min(increase.amount_minor);
            increase.take_off(cut, currency);
            left -= cut;
        }
        pending.retain(|increase| increase.amount_minor != 0);
        // And off the credit's lines, the first first.
        let mut left = taken;
        for line in credit.lines.iter_mut() {
            let cut = left.min(line.amount.minor());
            let mut basis = line.basis.take();
            if let Some(LineBasis::Change(change)) = basis.as_mut() {
                change.netted += Money::from_minor(cut, currency).to_major();
            }
            *line = LineItem::new(
                std::mem::take(&mut line.description),
                line.kind,
                Money::from_minor(line.amount.minor() - cut, currency),
                basis,
            );
            left -= cut;
        }
        credit.lines.retain(|line| !line.amount.is_zero());
        waiting -= taken;
        debug_assert!(waiting >= 0);
        if credit.lines.is_empty() {
            self.credit = None;
        }
    }
}

/// The first and the day after the last day of `period` whose state (served or not, and at
/// which quantity) differs between `before` and `after`; `None` when no day does.
fn changed_days(
    before: &Subscription,
    after: &Subscription,
    period: &Period,
) -> Option<(NaiveDate, NaiveDate)> {
    let state = |subscription: &Subscription, day: NaiveDate| {
        let changes = &subscription.changes;
        let ended = changes.end.is_some_and(|end| day >= end.on);
        (!ended && !changes.paused_on(day)).then(|| changes.quantity_on(day, subscription.quantity))
    };
    let mut first = None;
    let mut last = None;
    for day in period.start.iter_days().take_while(|day| *day < period.end) {
        if state(before, day) != state(after, day) {
            first.get_or_insert(day);
            last = Some(day);
        }
    }
    Some((first?, last?.succ_opt()?))
}

fn period_noun(program: &PricingProgram) -> &'static str {
    if program.interval.count == 1 {
        program.interval.unit.label()
    } else {
        "period"
    }
}
