//! Time-based revenue recognition: an invoice's subtotal spread evenly per day over its service
//! period and allocated to calendar months, the parts summing exactly to the subtotal.

use chrono::NaiveDate;
use serde::Serialize;

use crate::error::Result;
use crate::money::Money;

/// Revenue recognised in one calendar month for one invoice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RevenueEntry {
    /// The calendar month, `YYYY-MM`.
    pub month: String,
    /// First service day of the period in this month.
    pub start: NaiveDate,
    /// Day after the last service day of the period in this month.
    pub end: NaiveDate,
    /// Service days in this month.
    pub days: u32,
    /// Revenue recognised in this month.
    #[serde(serialize_with = "crate::money::serialize_major")]
    pub amount: Money,
}

/// Spreads `amount` over the local service days `[start, end)`, one entry per calendar month, in
/// month order, allocated by [`Money::allocate`] with the day counts as weights. An empty or
/// reversed period is [`crate::Error::InvalidInput`].
pub fn schedule(amount: Money, start: NaiveDate, end: NaiveDate) -> Result<Vec<RevenueEntry>> {
    todo!("{amount:?}{start}{end}")
}
