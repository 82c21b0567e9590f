//! The invoice of one billing period, as the engine issues it: line items, subtotal, tax, total
//! and the revenue schedule. Amounts serialise as decimal strings in major units (`"5.00"`), dates
//! as local `YYYY-MM-DD` in the account's time zone.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::agent::PayloadInvoice;

use crate::basis::LineBasis;
use crate::late_usage::InvoiceUsage;
use crate::money::{Currency, Money};
use crate::pricing::ChargeKind;
use crate::revrec::RevenueEntry;
use crate::subscription::{BillingReason, InvoiceStatus};
use crate::tax::TaxLine;

/// The invoice of one billing period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Invoice {
    /// The period it bills, 1 for the first.
    pub period_index: u32,
    /// The local date it is issued: the period's start (in advance) or end (in arrears).
    pub issue_date: NaiveDate,
    /// The local date the period starts on.
    pub period_start: NaiveDate,
    /// The local date the next period starts on (`[period_start, period_end)`).
    pub period_end: NaiveDate,
    /// The plan's currency; every amount is in it.
    pub currency: Currency,
    /// What is billed, each line rounded to the minor unit.
    pub line_items: Vec<LineItem>,
    /// The sum of the line items.
    #[serde(serialize_with = "crate::money::serialize_major")]
    #[schemars(with = "crate::json::DecimalString")]
    pub subtotal: Money,
    /// The taxes applied to the subtotal.
    pub tax_lines: Vec<TaxLine>,
    /// The sum of the tax lines.
    #[serde(serialize_with = "crate::money::serialize_major")]
    #[schemars(with = "crate::json::DecimalString")]
    pub tax: Money,
    /// Whether the line items already include the tax (a tax-inclusive site): then `total` is
    /// `subtotal` and `tax` is the part of it that is tax.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub tax_inclusive: bool,
    /// What the customer pays: `subtotal + tax`, or `subtotal` when the tax is included.
    #[serde(serialize_with = "crate::money::serialize_major")]
    #[schemars(with = "crate::json::DecimalString")]
    pub total: Money,
    /// The revenue (the total less tax) recognised per calendar month over the service period.
    pub revenue_schedule: Vec<RevenueEntry>,
}

impl Invoice {
    /// The revenue the invoice earns: the total less tax.
    pub fn revenue(&self) -> crate::Result<Money> {
        self.total.checked_sub(self.tax)
    }
}

/// An invoice as a store keeps it: the billed [`Invoice`] with who it bills and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct IssuedInvoice {
    /// Derived from the subscription and the period start
    /// ([`invoice_id`](crate::subscription::invoice_id)).
    pub id: String,
    /// The account it belongs to.
    pub account_id: String,
    /// The subscription it bills.
    pub subscription_id: String,
    /// The customer it bills.
    pub customer_id: String,
    /// The plan it was billed by...
    pub plan_id: String,
    /// ...at this version of the plan.
    pub plan_version: u32,
    /// The subscription's quantity it was billed for.
    pub quantity: u32,
    /// The first invoice, or a renewal.
    pub billing_reason: BillingReason,
    /// Open (issued), held for review, or void.
    pub status: InvoiceStatus,
    /// When it was written.
    pub created_at: DateTime<Utc>,
    /// The usage it was billed on: its period's per local weekday, and the periods billed before
    /// whose late usage it settled.
    #[serde(default, skip_serializing_if = "InvoiceUsage::is_empty")]
    pub usage: InvoiceUsage,
    /// The lines that settle other periods (increases of changes), with the days each concerns:
    /// what a re-billing of the period carries over unchanged. Empty (and absent in JSON) for
    /// most invoices.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub settled: Vec<SettledSpan>,
    /// For an invoice held because a model's answer disagreed with the program: the model's
    /// answer and what differed (the program's answer is the invoice's own lines), so a
    /// reviewer can decide. Absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub review: Option<InvoiceReview>,
    /// What it bills.
    #[serde(flatten)]
    pub invoice: Invoice,
}

/// One line of an invoice (or of a credit note).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct LineItem {
    /// What the line is for ("Base charge (month 1)").
    pub description: String,
    /// Recurring or usage.
    pub kind: ChargeKind,
    /// The amount, exact in minor units.
    #[serde(serialize_with = "crate::money::serialize_major")]
    #[schemars(with = "crate::json::DecimalString")]
    pub amount: Money,
    /// How the amount was reached, as data: [`LineBasis::recompute`] gives the amount again.
    /// Absent only on lines written before bases were kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub basis: Option<LineBasis>,
    /// The basis in one sentence ("Month 3: 5.00 + 2 x 1.00 = 7.00"), shown under the line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub explanation: Option<String>,
}

impl LineItem {
    /// A line with its basis, and the sentence made from it.
    pub fn new(
        description: impl Into<String>,
        kind: ChargeKind,
        amount: Money,
        basis: Option<LineBasis>,
    ) -> Self {
        let explanation = basis.as_ref().map(|basis| basis.explain(amount.currency()));
        LineItem {
            description: description.into(),
            kind,
            amount,
            basis,
            explanation,
        }
    }
}

/// A line of an invoice that settles another period than the invoice's own: its position among
/// the invoice's lines (from 0) and the local days `[start, end)` it concerns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct SettledSpan {
    /// The line's position among the invoice's line items, from 0.
    pub position: u32,
    /// The first day the line concerns.
    pub start: NaiveDate,
    /// The day after the last day it concerns.
    pub end: NaiveDate,
}

/// Both answers of a held invoice: the model's (its amount and lines, as it wrote them) and what
/// differed from the program's (the invoice's own lines).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct InvoiceReview {
    /// The invoice the model wrote (amount before tax and lines, in major units).
    pub model: PayloadInvoice,
    /// What differed from the program's lines, in words.
    pub differences: Vec<String>,
}
