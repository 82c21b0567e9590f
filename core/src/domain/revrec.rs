//! Time-based revenue recognition: an invoice's subtotal spread evenly per day over its service
//! period and allocated to calendar months, the parts summing exactly to the subtotal.

use chrono::{Datelike, NaiveDate};
use serde::Serialize;

use crate::error::{Error, Result};
use crate::money::Money;

/// Revenue recognised in one calendar month for one invoice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
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
    #[schemars(with = "crate::json::DecimalString")]
    pub amount: Money,
}

/// Spreads `amount` over the local service days `[start, end)`, one entry per calendar month, in
/// month order, allocated by [`Money::allocate`] with the day counts as weights. An empty or
/// reversed period is [`crate::Error::InvalidInput`].
pub fn schedule(amount: Money, start: NaiveDate, end: NaiveDate) -> Result<Vec<RevenueEntry>> {
    if start >= end {
        return Err(Error::invalid(
            "service period",
            format!("the period must end after it starts; got {start} to {end}"),
        ));
    }
    let mut months: Vec<(NaiveDate, NaiveDate)> = Vec::new();
    let mut month_start = start;
    while month_start < end {
        let next_month = first_of_next_month(month_start)
            .ok_or_else(|| Error::overflow(format!("the revenue schedule after {month_start}")))?;
        let month_end = next_month.min(end);
        months.push((month_start, month_end));
        month_start = month_end;
    }
    let weights: Vec<u64> = months
        .iter()
        .map(|(from, to)| (*to - *from).num_days().unsigned_abs())
        .collect();
    let amounts = amount.allocate(&weights)?;
    Ok(months
        .into_iter()
        .zip(weights)
        .zip(amounts)
        .map(|(((from, to), days), amount)| RevenueEntry {
            month: format!("{:04}-{:02}", from.year(), from.month()),
            start: from,
            end: to,
            // At most 31 days in a month.
            days: u32::try_from(days).unwrap_or(u32::MAX),
            amount,
        })
        .collect())
}

/// The first day of the month after `date`'s month.
fn first_of_next_month(date: NaiveDate) -> Option<NaiveDate> {
    let (year, month) = if date.month() == 12 {
        (date.year().checked_add(1)?, 1)
    } else {
        (date.year(), date.month() + 1)
    };
    NaiveDate::from_ymd_opt(year, month, 1)
}

#[cfg(test)]
mod tests {
    use chrono::{Days, TimeDelta};
    use proptest::prelude::*;

    use super::*;
    use crate::money::Currency;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn usd(minor: i64) -> Money {
        Money::from_minor(minor, Currency::USD)
    }

    fn summary(entries: &[RevenueEntry]) -> Vec<(&str, u32, i64)> {
        entries
            .iter()
            .map(|e| (e.month.as_str(), e.days, e.amount.minor()))
            .collect()
    }

    #[test]
    fn a_period_across_two_months_splits_by_days() {
        // Jan 15 to Feb 15: 17 days in January, 14 in February; 31.00 is 1.00 a day.
        let entries = schedule(usd(3100), date(2024, 1, 15), date(2024, 2, 15)).unwrap();
        assert_eq!(
            summary(&entries),
            [("2024-01", 17, 1700), ("2024-02", 14, 1400)]
        );
        assert_eq!(entries[0].start, date(2024, 1, 15));
        assert_eq!(entries[0].end, date(2024, 2, 1));
        assert_eq!(entries[1].start, date(2024, 2, 1));
        assert_eq!(entries[1].end, date(2024, 2, 15));
    }

    #[test]
    fn remainders_are_allocated_and_sum_to_the_amount() {
        // Jan 31 to Feb 28 2023: 1 day in January, 27 in February; 10.00 / 28 = 0.357 a day.
        let entries = schedule(usd(1000), date(2023, 1, 31), date(2023, 2, 28)).unwrap();
        assert_eq!(
            summary(&entries),
            [("2023-01", 1, 36), ("2023-02", 27, 964)]
        );
        // A year across a leap February.
        let entries = schedule(usd(36600), date(2024, 1, 1), date(2025, 1, 1)).unwrap();
        assert_eq!(entries.len(), 12);
        assert_eq!(summary(&entries)[1], ("2024-02", 29, 2900));
        assert_eq!(entries.last().unwrap().month, "2024-12");
        // Within one month: a single entry with everything.
        let entries = schedule(usd(999), date(2024, 3, 4), date(2024, 3, 11)).unwrap();
        assert_eq!(summary(&entries), [("2024-03", 7, 999)]);
    }

    #[test]
    fn zero_and_negative_amounts() {
        let entries = schedule(usd(0), date(2024, 12, 20), date(2025, 1, 10)).unwrap();
        assert_eq!(summary(&entries), [("2024-12", 12, 0), ("2025-01", 9, 0)]);
        let entries = schedule(usd(-3100), date(2024, 1, 15), date(2024, 2, 15)).unwrap();
        assert_eq!(
            summary(&entries),
            [("2024-01", 17, -1700), ("2024-02", 14, -1400)]
        );
    }

    #[test]
    fn empty_or_reversed_periods_are_refused() {
        let day = date(2024, 1, 1);
        assert!(matches!(
            schedule(usd(100), day, day),
            Err(Error::InvalidInput { .. })
        ));
        assert!(matches!(
            schedule(usd(100), day, date(2023, 12, 31)),
            Err(Error::InvalidInput { .. })
        ));
    }

    #[test]
    fn entries_serialise_with_major_amounts() {
        let entries = schedule(usd(3100), date(2024, 1, 15), date(2024, 2, 15)).unwrap();
        let json = serde_json::to_value(&entries[0]).unwrap();
        assert_eq!(json["month"], "2024-01");
        assert_eq!(json["amount"], "17.00");
        assert_eq!(json["start"], "2024-01-15");
        assert_eq!(json["days"], 17);
    }

    proptest! {
        #[test]
        fn the_schedule_sums_to_the_amount_and_covers_every_day(
            start_offset in 0u64..80_000,
            length in 1i64..1_500,
            minor in -10_000_000i64..10_000_000,
        ) {
            let start = date(1950, 1, 1) + Days::new(start_offset);
            let end = start + TimeDelta::days(length);
            let amount = usd(minor);
            let entries = schedule(amount, start, end).unwrap();
            let total: i64 = entries.iter().map(|e| e.amount.minor()).sum();
            prop_assert_eq!(total, minor);
            let days: i64 = entries.iter().map(|e| i64::from(e.days)).sum();
            prop_assert_eq!(days, length);
            prop_assert_eq!(entries.first().unwrap().start, start);
            prop_assert_eq!(entries.last().unwrap().end, end);
            for pair in entries.windows(2) {
                prop_assert_eq!(pair[0].end, pair[1].start);
                prop_assert!(pair[0].month < pair[1].month);
            }
            for entry in &entries {
                prop_assert_eq!(i64::from(entry.days), (entry.end - entry.start).num_days());
                prop_assert_eq!(entry.month.clone(), entry.start.format("%Y-%m").to_string());
                // Every day of the entry is in its month.
                prop_assert_eq!(entry.start.format("%Y-%m").to_string(), entry.end.pred_opt().unwrap().format("%Y-%m").to_string());
                // Within one minor unit of the exact daily share.
                let gap = i128::from(entry.amount.minor()) * i128::from(length)
                    - i128::from(minor) * i128::from(entry.days);
                prop_assert!(gap.abs() < i128::from(length));
            }
        }
    }
}
