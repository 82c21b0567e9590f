//! Credit notes: what a decrease settled on a period already billed gives back, as a document of
//! its own against the invoice that billed the period (an issued invoice is never rewritten).
//! Its tax is at that invoice's rates, and the revenue of the credited share is reversed over the
//! days it concerns, by the same daily allocation as invoices.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use crate::error::{Error, Result};
use crate::invoice::{IssuedInvoice, LineItem};
use crate::money::{Currency, Money};
use crate::revrec::{self, RevenueEntry};
use crate::tax::{self, TaxLine, TaxRequest};

/// A credit note against an issued invoice. Its amounts are positive: what is credited.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct CreditNote {
    /// `cn_{subscription}_{number}`: derived from the subscription and its number, so the same
    /// credit note always has the same id.
    pub id: String,
    /// The subscription's credit notes are numbered from 1.
    pub number: u32,
    /// The account it belongs to.
    pub account_id: String,
    /// The subscription whose invoice it credits.
    pub subscription_id: String,
    /// The customer credited.
    pub customer_id: String,
    /// The invoice it credits.
    pub invoice_id: String,
    /// The start of the period that invoice billed.
    pub invoice_period_start: NaiveDate,
    /// The local date it is issued: the effective date of the change that made it.
    pub issue_date: NaiveDate,
    /// Why: `cancel`, `pause`, `quantity`, `plan_change`, or `manual`.
    pub reason: String,
    /// The invoice's currency.
    pub currency: Currency,
    /// What is credited, each line rounded once.
    pub line_items: Vec<LineItem>,
    /// The sum of the lines.
    #[serde(serialize_with = "crate::money::serialize_major")]
    #[schemars(with = "crate::json::DecimalString")]
    pub subtotal: Money,
    /// The tax credited, at the invoice's rates.
    pub tax_lines: Vec<TaxLine>,
    /// The sum of the tax lines.
    #[serde(serialize_with = "crate::money::serialize_major")]
    #[schemars(with = "crate::json::DecimalString")]
    pub tax: Money,
    /// Whether the lines include the tax, as the invoice's did.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub tax_inclusive: bool,
    /// What the customer is credited.
    #[serde(serialize_with = "crate::money::serialize_major")]
    #[schemars(with = "crate::json::DecimalString")]
    pub total: Money,
    /// The revenue taken back, per calendar month over the days it concerns (positive amounts:
    /// what is reversed).
    pub revenue_reversed: Vec<RevenueEntry>,
    /// When it was written.
    pub created_at: DateTime<Utc>,
}

/// A credit note's id: derived from its subscription and number.
pub fn credit_note_id(subscription_id: &str, number: u32) -> String {
    format!("cn_{subscription_id}_{number}")
}

/// What a credit note credits, before its tax.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credit {
    /// The subscription's credit note number.
    pub number: u32,
    /// The local issue date.
    pub issue_date: NaiveDate,
    /// Why (`cancel`, `pause`, ...).
    pub reason: String,
    /// The credited lines, positive.
    pub lines: Vec<LineItem>,
    /// The days the credit concerns, `[start, end)`: where its revenue is reversed.
    pub service: (NaiveDate, NaiveDate),
}

impl CreditNote {
    /// The credit note of `credit` against `invoice`: its tax at the invoice's rates (stacked as
    /// the invoice's were, included when the invoice's were), its revenue reversed over
    /// `credit.service`. A line that is not positive, or a subtotal above what the invoice's
    /// subtotal is, is invalid input: a credit note never credits more than was billed.
    pub fn against(
        invoice: &IssuedInvoice,
        credit: Credit,
        created_at: DateTime<Utc>,
    ) -> Result<CreditNote> {
        let currency = invoice.invoice.currency;
        if let Some(line) = credit
            .lines
            .iter()
            .find(|line| line.amount.is_zero() || line.amount.is_negative())
        {
            return Err(Error::invalid(
                "credit_note.line_items",
                format!(
                    "{:?} credits {}: a credited line must be positive",
                    line.description,
                    line.amount.to_major()
                ),
            ));
        }
        let subtotal = Money::checked_sum(currency, credit.lines.iter().map(|line| line.amount))?;
        if subtotal.minor() > invoice.invoice.subtotal.minor() {
            return Err(Error::invalid(
                "credit_note.subtotal",
                format!(
                    "{} is more than invoice {}'s subtotal of {}",
                    subtotal.to_major(),
                    invoice.id,
                    invoice.invoice.subtotal.to_major()
                ),
            ));
        }
        let rates: Vec<(String, rust_decimal::Decimal)> = invoice
            .invoice
            .tax_lines
            .iter()
            .map(|line| (line.name.clone(), line.rate))
            .collect();
        let taxed = tax::apply_rates(
            &TaxRequest::new(subtotal).with_inclusive(invoice.invoice.tax_inclusive),
            &rates,
        )?;
        let total = if taxed.inclusive {
            subtotal
        } else {
            subtotal.checked_add(taxed.total)?
        };
        let revenue = total.checked_sub(taxed.total)?;
        let (start, end) = credit.service;
        Ok(CreditNote {
            id: credit_note_id(&invoice.subscription_id, credit.number),
            number: credit.number,
            account_id: invoice.account_id.clone(),
            subscription_id: invoice.subscription_id.clone(),
            customer_id: invoice.customer_id.clone(),
            invoice_id: invoice.id.clone(),
            invoice_period_start: invoice.invoice.period_start,
            issue_date: credit.issue_date,
            reason: credit.reason,
            currency,
            line_items: credit.lines,
            subtotal,
            tax_lines: taxed.lines,
            tax: taxed.total,
            tax_inclusive: taxed.inclusive,
            total,
            revenue_reversed: revrec::schedule(revenue, start, end)?,
            created_at,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::invoice::Invoice;
    use crate::pricing::ChargeKind;
    use crate::subscription::{BillingReason, InvoiceStatus};
    use rust_decimal::Decimal;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn usd(cents: i64) -> Money {
        Money::from_minor(cents, Currency::parse("USD").unwrap())
    }

    fn invoice(subtotal: i64, rate: &str) -> IssuedInvoice {
        let rate: Decimal = rate.parse().unwrap();
        let taxed =
            tax::apply_rates(&TaxRequest::new(usd(subtotal)), &[("Tax".into(), rate)]).unwrap();
        IssuedInvoice {
            id: "in_sub_20260115".into(),
            account_id: "acct".into(),
            subscription_id: "sub".into(),
            customer_id: "cust".into(),
            plan_id: "plan".into(),
            plan_version: 1,
            quantity: 1,
            billing_reason: BillingReason::SubscriptionCreate,
            status: InvoiceStatus::Open,
            created_at: "2026-01-15T05:00:00Z".parse().unwrap(),
            usage: Default::default(),
            settled: Vec::new(),
            review: None,
            invoice: Invoice {
                period_index: 1,
                issue_date: date(2026, 1, 15),
                period_start: date(2026, 1, 15),
                period_end: date(2026, 2, 15),
                currency: Currency::parse("USD").unwrap(),
                line_items: vec![LineItem::new(
                    "Base charge (month 1)",
                    ChargeKind::Recurring,
                    usd(subtotal),
                    None,
                )],
                subtotal: usd(subtotal),
                tax_lines: taxed.lines,
                tax: taxed.total,
                tax_inclusive: false,
                total: usd(subtotal).checked_add(taxed.total).unwrap(),
                revenue_schedule: Vec::new(),
            },
        }
    }

    fn credit(cents: i64) -> Credit {
        Credit {
            number: 1,
            issue_date: date(2026, 2, 4),
            reason: "cancel".into(),
            lines: vec![LineItem::new(
                "Base charge (month 1), 11 of 31 days unserved",
                ChargeKind::Recurring,
                usd(cents),
                None,
            )],
            service: (date(2026, 2, 4), date(2026, 2, 15)),
        }
    }

    #[test]
    fn a_cancel_credits_the_unserved_days_with_the_invoices_tax() {
        // billing-conventions.md: credit note on Feb 4 for the Jan 15 invoice: 11.00, tax 0.91.
        let note = CreditNote::against(
            &invoice(3100, "0.0825"),
            credit(1100),
            "2026-02-03T15:00:00Z".parse().unwrap(),
        )
        .unwrap();
        assert_eq!(note.id, "cn_sub_1");
        assert_eq!(note.invoice_period_start, date(2026, 1, 15));
        assert_eq!(
            [note.subtotal, note.tax, note.total].map(|m| m.minor()),
            [1100, 91, 1191]
        );
        let reversed: i64 = note.revenue_reversed.iter().map(|e| e.amount.minor()).sum();
        assert_eq!(reversed, 1100);
        assert_eq!(note.revenue_reversed[0].start, date(2026, 2, 4));
    }

    #[test]
    fn a_credit_note_never_credits_more_than_was_billed_nor_a_negative_line() {
        let invoice = invoice(3100, "0.0825");
        assert!(CreditNote::against(&invoice, credit(3101), Utc::now()).is_err());
        assert!(CreditNote::against(&invoice, credit(0), Utc::now()).is_err());
        assert!(CreditNote::against(&invoice, credit(-5), Utc::now()).is_err());
    }
}
