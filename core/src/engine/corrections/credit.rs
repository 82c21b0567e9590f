//! A manual credit note, pure: what is left to credit on an invoice (its subtotal less every
//! credit note against it, and each line likewise), the credited lines (chosen, or an amount
//! spread over what each line has left by largest remainder), and the note with its tax at the
//! invoice's rates ([`CreditNote::against`]). The credit that takes what is left takes the tax
//! that is left too, so an invoice credited in parts is credited exactly its total.

use chrono::{DateTime, NaiveDate, Utc};

use crate::basis::{CreditBasis, Credited, LineBasis};
use crate::credit_note::{Credit, CreditNote};
use crate::error::{Error, Result};
use crate::invoice::{IssuedInvoice, LineItem};
use crate::money::Money;
use crate::revrec;

use super::CreditLine;

/// What the credit takes: some lines, or an amount over all of them.
#[derive(Debug, Clone, Copy)]
pub(super) enum Chosen<'a> {
    Lines(&'a [CreditLine]),
    Amount(i64),
}

/// The credit note of `chosen` against `invoice`, given the credit notes already against it:
/// number `number`, issued on `issue_date`.
pub(super) fn manual_credit(
    invoice: &IssuedInvoice,
    notes: &[CreditNote],
    chosen: Chosen<'_>,
    number: u32,
    issue_date: NaiveDate,
    now: DateTime<Utc>,
) -> Result<CreditNote> {
    let currency = invoice.invoice.currency;
    let credited = Money::checked_sum(currency, notes.iter().map(|note| note.subtotal))?;
    let subtotal_left = invoice.invoice.subtotal.checked_sub(credited)?;
    let lines_left = lines_left(invoice, notes)?;
    let lines: Vec<(usize, Money)> = match chosen {
        Chosen::Lines(chosen) => chosen_lines(invoice, &lines_left, chosen)?,
        Chosen::Amount(minor) => spread(invoice, &lines_left, minor, subtotal_left)?,
    };
    let subtotal = Money::checked_sum(currency, lines.iter().map(|(_, amount)| *amount))?;
    if subtotal.minor() > subtotal_left.minor() {
        return Err(Error::invalid(
            "credit",
            format!(
                "credits {} {}, more than the {} left to credit on invoice {}",
                subtotal.to_major(),
                currency.code(),
                subtotal_left.to_major(),
                invoice.id
            ),
        ));
    }
    // The revenue is reversed over the days the credited lines concern.
    let (mut start, mut end) = (invoice.invoice.period_start, invoice.invoice.period_end);
    let spans: Vec<(NaiveDate, NaiveDate)> = lines
        .iter()
        .map(|(position, _)| line_days(invoice, *position))
        .collect();
    if let Some(first) = spans.first() {
        (start, end) = spans
            .iter()
            .fold(*first, |(from, to), (s, e)| (from.min(*s), to.max(*e)));
    }
    let credit = Credit {
        number,
        issue_date,
        reason: "manual".to_owned(),
        lines: lines
            .iter()
            .map(|(position, amount)| {
                let line = &invoice.invoice.line_items[*position];
                let basis = credit_basis(invoice, &lines_left, chosen, *position, *amount)?;
                Ok(LineItem::new(
                    line.description.clone(),
                    line.kind,
                    *amount,
                    Some(LineBasis::Credit(basis)),
                ))
            })
            .collect::<Result<_>>()?,
        service: (start, end),
    };
    let mut note = CreditNote::against(invoice, credit, now)?;
    if subtotal == subtotal_left {
        take_the_tax_left(&mut note, invoice, notes)?;
    }
    let total_left = invoice.invoice.total.checked_sub(Money::checked_sum(
        currency,
        notes.iter().map(|note| note.total),
    )?)?;
    if note.total.minor() > total_left.minor() {
        return Err(Error::invalid(
            "credit",
            format!(
                "credits {} {} with its tax, more than the {} left of invoice {}'s total",
                note.total.to_major(),
                currency.code(),
                total_left.to_major(),
                invoice.id
            ),
        ));
    }
    Ok(note)
}

/// How the credit of `amount` on line `position` of `invoice` was reached, `left` being what
/// each line had left before the note.
fn credit_basis(
    invoice: &IssuedInvoice,
    left: &[Money],
    chosen: Chosen<'_>,
    position: usize,
    amount: Money,
) -> Result<CreditBasis> {
    let line = &invoice.invoice.line_items[position];
    let line_amount = Money::from_minor(line.amount.minor().max(0), amount.currency());
    let credited = match chosen {
        Chosen::Lines(chosen) => match chosen
            .iter()
            .find(|c| usize::try_from(c.line).ok() == position.checked_add(1))
            .and_then(|c| c.amount)
        {
            Some(_) => Credited::Asked {
                amount: amount.to_major(),
            },
            None => Credited::Rest,
        },
        Chosen::Amount(minor) => {
            let total: i64 = left.iter().map(Money::minor).sum();
            let weight = left[position].minor();
            let floor = i128::from(minor) * i128::from(weight) / i128::from(total.max(1));
            let floor = i64::try_from(floor).map_err(|_| Error::overflow("a credit share"))?;
            let currency = amount.currency();
            Credited::Share {
                requested: Money::from_minor(minor, currency).to_major(),
                weight: left[position].to_major(),
                total_weight: Money::from_minor(total, currency).to_major(),
                remainder: Money::from_minor(amount.minor() - floor, currency).to_major(),
            }
        }
    };
    Ok(CreditBasis {
        invoice_id: invoice.id.clone(),
        line: u32::try_from(position + 1).unwrap_or(u32::MAX),
        line_amount: line_amount.to_major(),
        credited_before: line_amount.checked_sub(left[position])?.to_major(),
        credited,
    })
}

/// What each line of `invoice` has left to credit: its amount less what manual credit notes
/// credited on it (a note's line with the same description; lines of equal description share
/// what was credited, first line first). Lines that are not positive have nothing to credit.
fn lines_left(invoice: &IssuedInvoice, notes: &[CreditNote]) -> Result<Vec<Money>> {
    let currency = invoice.invoice.currency;
    let mut taken: std::collections::HashMap<&str, i64> = std::collections::HashMap::new();
    for line in notes
        .iter()
        .filter(|note| note.reason == "manual")
        .flat_map(|note| &note.line_items)
    {
        let sum = taken.entry(line.description.as_str()).or_default();
        *sum = sum
            .checked_add(line.amount.minor())
            .ok_or_else(|| Error::overflow("the credited amounts"))?;
    }
    Ok(invoice
        .invoice
        .line_items
        .iter()
        .map(|line| {
            let amount = line.amount.minor().max(0);
            let credited = taken.entry(line.description.as_str()).or_default();
            let take = (*credited).min(amount);
            *credited -= take;
            Money::from_minor(amount - take, currency)
        })
        .collect())
}

/// The chosen lines (numbered from 1), each for the amount given or all it has left.
fn chosen_lines(
    invoice: &IssuedInvoice,
    left: &[Money],
    chosen: &[CreditLine],
) -> Result<Vec<(usize, Money)>> {
    let currency = invoice.invoice.currency;
    let count = left.len();
    let mut lines: Vec<(usize, Money)> = Vec::with_capacity(chosen.len());
    for (k, line) in chosen.iter().enumerate() {
        let field = format!("credit.lines[{k}]");
        let position = usize::try_from(line.line)
            .ok()
            .and_then(|n| n.checked_sub(1))
            .filter(|&position| position < count)
            .ok_or_else(|| {
                Error::invalid(
                    format!("{field}.line"),
                    format!(
                        "invoice {} has lines 1 to {count}, not line {}",
                        invoice.id, line.line
                    ),
                )
            })?;
        if lines.iter().any(|(p, _)| *p == position) {
            return Err(Error::invalid(
                format!("{field}.line"),
                format!("line {} is chosen twice", line.line),
            ));
        }
        let available = left[position];
        let amount = match line.amount {
            Some(minor) if minor <= 0 => {
                return Err(Error::invalid(
                    format!("{field}.amount"),
                    format!("must be a positive amount in minor units, got {minor}"),
                ));
            }
            Some(minor) => Money::from_minor(minor, currency),
            None => available,
        };
        if amount.minor() > available.minor() {
            return Err(Error::invalid(
                format!("{field}.amount"),
                format!(
                    "credits {} of line {} ({:?}), more than the {} left to credit on it",
                    amount.to_major(),
                    line.line,
                    invoice.invoice.line_items[position].description,
                    available.to_major()
                ),
            ));
        }
        if amount.is_zero() {
            return Err(Error::invalid(
                format!("{field}.line"),
                format!(
                    "line {} ({:?}) has nothing left to credit",
                    line.line, invoice.invoice.line_items[position].description
                ),
            ));
        }
        lines.push((position, amount));
    }
    if lines.is_empty() {
        return Err(Error::invalid("credit.lines", "choose at least one line"));
    }
    Ok(lines)
}

/// `minor` spread over the lines in proportion to what each has left ([`Money::allocate`]:
/// largest remainder, the parts summing to the amount), lines that get nothing left out.
fn spread(
    invoice: &IssuedInvoice,
    left: &[Money],
    minor: i64,
    subtotal_left: Money,
) -> Result<Vec<(usize, Money)>> {
    let currency = invoice.invoice.currency;
    if minor <= 0 {
        return Err(Error::invalid(
            "credit.amount",
            format!("must be a positive amount in minor units, got {minor}"),
        ));
    }
    let amount = Money::from_minor(minor, currency);
    let available: i64 = left.iter().map(Money::minor).sum();
    if minor > subtotal_left.minor() || minor > available {
        return Err(Error::invalid(
            "credit.amount",
            format!(
                "{} {} is more than the {} left to credit on invoice {}",
                amount.to_major(),
                currency.code(),
                Money::from_minor(subtotal_left.minor().min(available), currency).to_major(),
                invoice.id
            ),
        ));
    }
    let weights: Vec<u64> = left.iter().map(|m| m.minor().unsigned_abs()).collect();
    Ok(amount
        .allocate(&weights)?
        .into_iter()
        .enumerate()
        .filter(|(_, part)| !part.is_zero())
        .collect())
}

/// The days line `position` of `invoice` concerns: its settled span, or the invoice's period.
fn line_days(invoice: &IssuedInvoice, position: usize) -> (NaiveDate, NaiveDate) {
    invoice
        .settled
        .iter()
        .find(|span| usize::try_from(span.position).ok() == Some(position))
        .map_or(
            (invoice.invoice.period_start, invoice.invoice.period_end),
            |span| (span.start, span.end),
        )
}

/// The note that credits all the subtotal left takes all the tax left, line by line, so the
/// notes against an invoice sum to its tax exactly (each note's own rounding could miss it by a
/// cent); its total and reversed revenue follow.
fn take_the_tax_left(
    note: &mut CreditNote,
    invoice: &IssuedInvoice,
    notes: &[CreditNote],
) -> Result<()> {
    let currency = invoice.invoice.currency;
    for (position, line) in note.tax_lines.iter_mut().enumerate() {
        let billed = invoice.invoice.tax_lines.get(position).map(|t| t.amount);
        let credited = Money::checked_sum(
            currency,
            notes
                .iter()
                .filter_map(|other| other.tax_lines.get(position).map(|t| t.amount)),
        )?;
        if let Some(billed) = billed {
            line.amount = billed.checked_sub(credited)?;
        }
    }
    note.tax = Money::checked_sum(currency, note.tax_lines.iter().map(|line| line.amount))?;
    note.total = if note.tax_inclusive {
        note.subtotal
    } else {
        note.subtotal.checked_add(note.tax)?
    };
    let revenue = note.total.checked_sub(note.tax)?;
    let (start, end) = note
        .revenue_reversed
        .first()
        .zip(note.revenue_reversed.last())
        .map_or(
            (invoice.invoice.period_start, invoice.invoice.period_end),
            |(first, last)| (first.start, last.end),
        );
    note.revenue_reversed = revrec::schedule(revenue, start, end)?;
    Ok(())
}
