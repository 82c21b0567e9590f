//! The invoice of one billing period, as the engine issues it: line items, subtotal, tax, total
//! and the revenue schedule. Amounts serialise as decimal strings in major units (`"5.00"`), dates
//! as local `YYYY-MM-DD` in the account's time zone.

use chrono::NaiveDate;
use serde::Serialize;

use crate::money::{Currency, Money};
use crate::pricing::ChargeKind;
use crate::revrec::RevenueEntry;
use crate::tax::TaxLine;

/// The invoice of one billing period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
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
    pub subtotal: Money,
    /// The taxes applied to the subtotal.
    pub tax_lines: Vec<TaxLine>,
    /// The sum of the tax lines.
    #[serde(serialize_with = "crate::money::serialize_major")]
    pub tax: Money,
    /// `subtotal + tax`.
    #[serde(serialize_with = "crate::money::serialize_major")]
    pub total: Money,
    /// The subtotal recognised per calendar month over the service period.
    pub revenue_schedule: Vec<RevenueEntry>,
}

/// One line of an invoice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LineItem {
    /// What the line is for ("Base charge (month 1)").
    pub description: String,
    /// Recurring or usage.
    pub kind: ChargeKind,
    /// The amount, exact in minor units.
    #[serde(serialize_with = "crate::money::serialize_major")]
    pub amount: Money,
}
