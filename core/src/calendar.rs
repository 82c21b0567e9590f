//! Billing periods anchored on a subscription's start date, in the account's IANA time zone.
//!
//! Month and year steps keep the anchor day and clamp to the month's end, always computed from the
//! anchor (Jan 31 -> Feb 28 -> Mar 31). A period is `[start, end)` from local midnight to local
//! midnight; period index 1 is the first.

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::error::Result;

/// The unit of a plan's billing interval.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum IntervalUnit {
    /// Calendar days.
    Day,
    /// Seven days.
    Week,
    /// Calendar months, anchored and clamped.
    Month,
    /// Twelve calendar months.
    Year,
}

/// A billing interval: `count` units (`interval` + `interval_count` on a plan).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct BillingInterval {
    /// The unit.
    pub unit: IntervalUnit,
    /// How many units make one period; at least 1.
    pub count: u32,
}

/// One billing period: local dates, `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Period {
    /// 1 for the first period.
    pub index: u32,
    /// The local date the period starts on (at local midnight).
    pub start: NaiveDate,
    /// The local date the next period starts on.
    pub end: NaiveDate,
}

/// The periods of one subscription.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BillingCalendar {
    anchor: NaiveDate,
    interval: BillingInterval,
    tz: Tz,
}

impl BillingCalendar {
    /// A calendar anchored on `anchor`; an interval count of 0 is [`crate::Error::InvalidInput`].
    pub fn new(anchor: NaiveDate, interval: BillingInterval, tz: Tz) -> Result<Self> {
        todo!("{anchor}{interval:?}{tz}")
    }
    /// The time zone.
    pub fn tz(&self) -> Tz {
        self.tz
    }
    /// Period `index` (1-based), computed from the anchor; 0 or a date out of range is an error.
    pub fn period(&self, index: u32) -> Result<Period> {
        todo!("{index}")
    }
    /// The period holding local date `date`, if it is on or after the anchor.
    pub fn period_containing(&self, date: NaiveDate) -> Result<Option<Period>> {
        todo!("{date}")
    }
    /// The instant of local midnight starting `date` in this calendar's zone (where midnight does
    /// not exist because of a DST gap, the first instant of that day).
    pub fn local_midnight(&self, date: NaiveDate) -> DateTime<Tz> {
        todo!("{date}")
    }
    /// The period's bounds as UTC instants, `[start, end)`.
    pub fn utc_bounds(&self, period: &Period) -> (DateTime<Utc>, DateTime<Utc>) {
        todo!("{period:?}")
    }
}
