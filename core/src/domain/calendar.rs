//! Billing periods anchored on a subscription's start date, in the account's IANA time zone.
//!
//! Month and year steps keep the anchor day and clamp to the month's end, always computed from the
//! anchor (Jan 31 -> Feb 28 -> Mar 31). A period is `[start, end)` from local midnight to local
//! midnight; period index 1 is the first.

use chrono::{
    DateTime, Datelike, Days, LocalResult, Months, NaiveDate, NaiveDateTime, TimeZone, Utc,
};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The most units one billing period may span (`interval_count`).
pub const MAX_INTERVAL_COUNT: u32 = 1000;

/// The unit of a plan's billing interval.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
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

impl IntervalUnit {
    /// The unit's name in the singular, as written in plans and descriptions: `"day"`, `"week"`,
    /// `"month"`, `"year"`.
    pub fn label(&self) -> &'static str {
        match self {
            IntervalUnit::Day => "day",
            IntervalUnit::Week => "week",
            IntervalUnit::Month => "month",
            IntervalUnit::Year => "year",
        }
    }
}

/// A billing interval: `count` units (`interval` + `interval_count` on a plan).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
pub struct BillingInterval {
    /// The unit.
    pub unit: IntervalUnit,
    /// How many units make one period; at least 1.
    pub count: u32,
}

impl BillingInterval {
    /// An interval of `count` units; a count of 0 or above [`MAX_INTERVAL_COUNT`] is
    /// [`Error::InvalidInput`] (field `interval_count`).
    pub fn new(unit: IntervalUnit, count: u32) -> Result<Self> {
        let interval = BillingInterval { unit, count };
        interval.validate()?;
        Ok(interval)
    }

    /// Checks the count is within `1..=`[`MAX_INTERVAL_COUNT`] (for intervals built as struct
    /// literals or deserialised).
    pub fn validate(&self) -> Result<()> {
        self.validate_as("interval_count")
    }

    /// [`BillingInterval::validate`] naming the input `field` (`plan.interval_count`): the one
    /// check of an interval, for a plan when it is saved as for a subscription's calendar, so a
    /// plan that is saved can always be subscribed to.
    pub fn validate_as(&self, field: &str) -> Result<()> {
        if self.count == 0 || self.count > MAX_INTERVAL_COUNT {
            return Err(Error::invalid(
                field,
                format!(
                    "{} is out of range: a billing interval spans 1 to {MAX_INTERVAL_COUNT} {}s",
                    self.count,
                    self.unit.label()
                ),
            ));
        }
        Ok(())
    }
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

impl Period {
    /// The number of local calendar days in the period (`end - start`).
    pub fn days(&self) -> i64 {
        (self.end - self.start).num_days()
    }

    /// Whether local date `date` falls in `[start, end)`.
    pub fn contains(&self, date: NaiveDate) -> bool {
        self.start <= date && date < self.end
    }
}

/// The first year a subscription may start in.
pub const FIRST_START_YEAR: i32 = 1900;
/// The last year a subscription may start in.
pub const LAST_START_YEAR: i32 = 2999;

/// Checks a subscription's start date: from [`FIRST_START_YEAR`] to [`LAST_START_YEAR`]. A date
/// outside is a typo or a bad conversion (year 0, a Unix-epoch slip), never a subscription to
/// bill; refusing it keeps every period, usage window and revenue month well inside the
/// calendar. `field` names the input (`subscription.start_date`).
pub fn check_start_date(field: &str, date: NaiveDate) -> Result<()> {
    if (FIRST_START_YEAR..=LAST_START_YEAR).contains(&date.year()) {
        return Ok(());
    }
    Err(Error::invalid(
        field,
        format!(
            "{date} is out of range: a subscription starts between {FIRST_START_YEAR}-01-01 and {LAST_START_YEAR}-12-31"
        ),
    ))
}

/// Parses an IANA time zone name such as `America/New_York` (exact spelling); an unknown name is
/// [`Error::UnknownTimeZone`].
pub fn parse_time_zone(name: &str) -> Result<Tz> {
    name.parse::<Tz>().map_err(|_| Error::UnknownTimeZone {
        name: name.to_owned(),
    })
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
    ///
    /// A count above [`MAX_INTERVAL_COUNT`] is refused the same way, and an anchor so late that
    /// its first period ends beyond the supported dates is [`Error::Overflow`].
    pub fn new(anchor: NaiveDate, interval: BillingInterval, tz: Tz) -> Result<Self> {
        interval.validate()?;
        let calendar = BillingCalendar {
            anchor,
            interval,
            tz,
        };
        calendar.period(1)?;
        Ok(calendar)
    }
    /// The anchor date: the start of period 1.
    pub fn anchor(&self) -> NaiveDate {
        self.anchor
    }
    /// The billing interval.
    pub fn interval(&self) -> BillingInterval {
        self.interval
    }
    /// The time zone.
    pub fn tz(&self) -> Tz {
        self.tz
    }
    /// Period `index` (1-based), computed from the anchor; 0 or a date out of range is an error.
    pub fn period(&self, index: u32) -> Result<Period> {
        if index == 0 {
            return Err(Error::invalid(
                "period index",
                "periods are numbered from 1",
            ));
        }
        let start = self.boundary(u64::from(index) - 1)?;
        let end = self.boundary(u64::from(index))?;
        Ok(Period { index, start, end })
    }
    /// The period holding local date `date`, if it is on or after the anchor.
    pub fn period_containing(&self, date: NaiveDate) -> Result<Option<Period>> {
        if date < self.anchor {
            return Ok(None);
        }
        // Estimate the number of whole periods elapsed, then adjust: with clamped month ends the
        // estimate is off by at most one.
        let count = u64::from(self.interval.count);
        let mut elapsed = match self.interval.unit {
            IntervalUnit::Day | IntervalUnit::Week => {
                let unit_days: u64 = if self.interval.unit == IntervalUnit::Week {
                    7
                } else {
                    1
                };
                // date >= anchor, so the day count is not negative.
                let days = (date - self.anchor).num_days().unsigned_abs();
                days / (unit_days * count)
            }
            IntervalUnit::Month | IntervalUnit::Year => {
                let months = months_between(self.anchor, date);
                let per_period = if self.interval.unit == IntervalUnit::Year {
                    12 * count
                } else {
                    count
                };
                months / per_period
            }
        };
        while elapsed > 0 && self.boundary(elapsed)? > date {
            elapsed -= 1;
        }
        while self.boundary(elapsed + 1)? <= date {
            elapsed += 1;
        }
        let index = u32::try_from(elapsed + 1).map_err(|_| {
            Error::overflow(format!("the index of the billing period holding {date}"))
        })?;
        Ok(Some(Period {
            index,
            start: self.boundary(elapsed)?,
            end: self.boundary(elapsed + 1)?,
        }))
    }
    /// The instant of local midnight starting `date` in this calendar's zone (where midnight does
    /// not exist because of a DST gap, the first instant of that day).
    ///
    /// Where midnight happens twice (a fold), the earlier instant.
    pub fn local_midnight(&self, date: NaiveDate) -> DateTime<Tz> {
        local_midnight(self.tz, date)
    }
    /// The period's bounds as UTC instants, `[start, end)`.
    pub fn utc_bounds(&self, period: &Period) -> (DateTime<Utc>, DateTime<Utc>) {
        (
            self.local_midnight(period.start).with_timezone(&Utc),
            self.local_midnight(period.end).with_timezone(&Utc),
        )
    }

    /// The start date of period `elapsed + 1`: the anchor plus `elapsed` intervals.
    fn boundary(&self, elapsed: u64) -> Result<NaiveDate> {
        let overflow = || {
            Error::overflow(format!(
                "the start of billing period {}",
                elapsed.saturating_add(1)
            ))
        };
        let count = u64::from(self.interval.count);
        let date = match self.interval.unit {
            IntervalUnit::Day | IntervalUnit::Week => {
                let unit_days: u64 = if self.interval.unit == IntervalUnit::Week {
                    7
                } else {
                    1
                };
                let days = elapsed
                    .checked_mul(unit_days * count)
                    .ok_or_else(overflow)?;
                self.anchor.checked_add_days(Days::new(days))
            }
            IntervalUnit::Month | IntervalUnit::Year => {
                let per_period = if self.interval.unit == IntervalUnit::Year {
                    12 * count
                } else {
                    count
                };
                let months = elapsed.checked_mul(per_period).ok_or_else(overflow)?;
                let months = u32::try_from(months).map_err(|_| overflow())?;
                // chrono clamps the anchor day to the target month's last day.
                self.anchor.checked_add_months(Months::new(months))
            }
        };
        date.ok_or_else(overflow)
    }
}

/// Whole calendar months from `from`'s month to `to`'s month (`to >= from`), ignoring days.
fn months_between(from: NaiveDate, to: NaiveDate) -> u64 {
    let months = (i64::from(to.year()) - i64::from(from.year())) * 12 + i64::from(to.month())
        - i64::from(from.month());
    months.max(0).unsigned_abs()
}

/// The instant of local midnight starting `date` in `tz`: the earlier instant in a fold, and the
/// first instant of the day (the end of the gap) where a DST gap swallows midnight.
pub fn local_midnight(tz: Tz, date: NaiveDate) -> DateTime<Tz> {
    let midnight = date.and_time(chrono::NaiveTime::MIN);
    match tz.from_local_datetime(&midnight) {
        LocalResult::Single(instant) => instant,
        LocalResult::Ambiguous(a, b) => a.min(b),
        LocalResult::None => first_instant_at_or_after(tz, midnight),
    }
}

/// The first instant whose local time in `tz` is at or after `local`, for a `local` time that does
/// not exist (inside a gap): the instant the gap ends.
///
/// Local time only steps back in a fold, and a fold that stepped back over `local` would make
/// `local` exist; so "local time >= `local`" is false and then true for good, and a binary search
/// over UTC seconds finds the switch.
fn first_instant_at_or_after(tz: Tz, local: NaiveDateTime) -> DateTime<Tz> {
    // UTC offsets stay well within a day, so two days either side brackets the switch.
    const WINDOW: i64 = 2 * 86_400;
    let fallback = || tz.from_utc_datetime(&local);
    let instant = |seconds: i64| DateTime::from_timestamp(seconds, 0).map(|utc| utc.naive_utc());
    let reaches = |seconds: i64| {
        instant(seconds).is_some_and(|utc| tz.from_utc_datetime(&utc).naive_local() >= local)
    };
    let seconds = local.and_utc().timestamp();
    let (mut low, mut high) = (seconds - WINDOW, seconds + WINDOW);
    if reaches(low) || !reaches(high) {
        return fallback();
    }
    // Invariant: !reaches(low) && reaches(high). Transitions fall on whole seconds.
    while high - low > 1 {
        let mid = low + (high - low) / 2;
        if reaches(mid) {
            high = mid;
        } else {
            low = mid;
        }
    }
    match instant(high) {
        Some(utc) => tz.from_utc_datetime(&utc),
        None => fallback(),
    }
}

#[cfg(test)]
mod tests {
    use chrono::{NaiveTime, TimeDelta};
    use proptest::prelude::*;

    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn utc(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
        Utc.from_utc_datetime(&date(y, m, d).and_hms_opt(h, min, 0).unwrap())
    }

    fn calendar(anchor: NaiveDate, unit: IntervalUnit, count: u32, tz: &str) -> BillingCalendar {
        let interval = BillingInterval::new(unit, count).unwrap();
        BillingCalendar::new(anchor, interval, parse_time_zone(tz).unwrap()).unwrap()
    }

    fn starts(calendar: &BillingCalendar, periods: u32) -> Vec<NaiveDate> {
        (1..=periods)
            .map(|k| calendar.period(k).unwrap().start)
            .collect()
    }

    fn days_in_month(year: i32, month: u32) -> u32 {
        let first = date(year, month, 1);
        let next = first.checked_add_months(Months::new(1)).unwrap();
        u32::try_from((next - first).num_days()).unwrap()
    }

    #[test]
    fn monthly_periods_keep_the_anchor_day_and_clamp() {
        let cal = calendar(date(2023, 1, 31), IntervalUnit::Month, 1, "UTC");
        assert_eq!(
            starts(&cal, 6),
            [
                date(2023, 1, 31),
                date(2023, 2, 28),
                date(2023, 3, 31),
                date(2023, 4, 30),
                date(2023, 5, 31),
                date(2023, 6, 30),
            ]
        );
        let first = cal.period(1).unwrap();
        assert_eq!(
            first,
            Period {
                index: 1,
                start: date(2023, 1, 31),
                end: date(2023, 2, 28)
            }
        );
        assert_eq!(first.days(), 28);
        assert_eq!(cal.period(2).unwrap().days(), 31);
        // A leap year clamps to the 29th.
        let leap = calendar(date(2024, 1, 31), IntervalUnit::Month, 1, "UTC");
        assert_eq!(
            starts(&leap, 3),
            [date(2024, 1, 31), date(2024, 2, 29), date(2024, 3, 31)]
        );
    }

    #[test]
    fn yearly_periods_from_a_leap_day() {
        let cal = calendar(date(2024, 2, 29), IntervalUnit::Year, 1, "UTC");
        assert_eq!(
            starts(&cal, 5),
            [
                date(2024, 2, 29),
                date(2025, 2, 28),
                date(2026, 2, 28),
                date(2027, 2, 28),
                date(2028, 2, 29),
            ]
        );
        assert_eq!(cal.period(1).unwrap().days(), 365);
        assert_eq!(cal.period(4).unwrap().days(), 366);
    }

    #[test]
    fn every_three_months() {
        let cal = calendar(date(2024, 11, 30), IntervalUnit::Month, 3, "UTC");
        assert_eq!(
            starts(&cal, 4),
            [
                date(2024, 11, 30),
                date(2025, 2, 28),
                date(2025, 5, 30),
                date(2025, 8, 30),
            ]
        );
    }

    #[test]
    fn weekly_and_daily_periods() {
        let weekly = calendar(date(2024, 2, 26), IntervalUnit::Week, 1, "UTC");
        assert_eq!(
            weekly.period(2).unwrap(),
            Period {
                index: 2,
                start: date(2024, 3, 4),
                end: date(2024, 3, 11)
            }
        );
        let fortnightly = calendar(date(2024, 2, 26), IntervalUnit::Week, 2, "UTC");
        assert_eq!(fortnightly.period(2).unwrap().start, date(2024, 3, 11));
        assert_eq!(fortnightly.period(2).unwrap().days(), 14);
        let daily = calendar(date(2024, 2, 28), IntervalUnit::Day, 1, "UTC");
        assert_eq!(
            starts(&daily, 3),
            [date(2024, 2, 28), date(2024, 2, 29), date(2024, 3, 1)]
        );
        let every_ten_days = calendar(date(2024, 2, 28), IntervalUnit::Day, 10, "UTC");
        assert_eq!(every_ten_days.period(3).unwrap().start, date(2024, 3, 19));
    }

    #[test]
    fn interval_counts_and_indexes_are_checked() {
        for count in [0, 1001] {
            match BillingInterval::new(IntervalUnit::Month, count) {
                Err(Error::InvalidInput { field, .. }) => assert_eq!(field, "interval_count"),
                other => panic!("{count}: {other:?}"),
            }
            let interval = BillingInterval {
                unit: IntervalUnit::Month,
                count,
            };
            assert!(BillingCalendar::new(date(2024, 1, 1), interval, Tz::UTC).is_err());
        }
        assert!(BillingInterval::new(IntervalUnit::Day, 1000).is_ok());
        let cal = calendar(date(2024, 1, 1), IntervalUnit::Month, 1, "UTC");
        assert!(matches!(cal.period(0), Err(Error::InvalidInput { .. })));
        // Far beyond the supported dates: an error, not a panic.
        let cal = calendar(date(2024, 1, 1), IntervalUnit::Year, 1000, "UTC");
        assert!(matches!(cal.period(u32::MAX), Err(Error::Overflow { .. })));
        let cal = calendar(date(2024, 1, 1), IntervalUnit::Week, 1000, "UTC");
        assert!(cal.period(u32::MAX).is_err());
        let late = NaiveDate::MAX.checked_sub_days(Days::new(3)).unwrap();
        let interval = BillingInterval::new(IntervalUnit::Week, 1).unwrap();
        assert!(matches!(
            BillingCalendar::new(late, interval, Tz::UTC),
            Err(Error::Overflow { .. })
        ));
        let last = calendar(
            NaiveDate::MAX.checked_sub_days(Days::new(30)).unwrap(),
            IntervalUnit::Day,
            7,
            "UTC",
        );
        assert!(last.period_containing(NaiveDate::MAX).is_err());
        // Local midnight at the ends of the supported dates: no panic.
        for tz in [
            Tz::America__New_York,
            Tz::Pacific__Kiritimati,
            Tz::Etc__GMTPlus12,
        ] {
            for day in [NaiveDate::MIN, NaiveDate::MAX] {
                assert_eq!(local_midnight(tz, day).date_naive(), day);
            }
        }
    }

    #[test]
    fn period_containing_finds_the_right_period() {
        let cal = calendar(date(2023, 1, 31), IntervalUnit::Month, 1, "UTC");
        let index_of = |d| cal.period_containing(d).unwrap().map(|p| p.index);
        assert_eq!(index_of(date(2023, 1, 30)), None);
        assert_eq!(index_of(date(2023, 1, 31)), Some(1));
        assert_eq!(index_of(date(2023, 2, 27)), Some(1));
        assert_eq!(index_of(date(2023, 2, 28)), Some(2));
        assert_eq!(index_of(date(2023, 3, 30)), Some(2));
        assert_eq!(index_of(date(2023, 3, 31)), Some(3));
        assert_eq!(index_of(date(2023, 4, 29)), Some(3));
        assert_eq!(index_of(date(2024, 1, 31)), Some(13));
        assert_eq!(
            cal.period_containing(date(2024, 2, 29)).unwrap(),
            Some(Period {
                index: 14,
                start: date(2024, 2, 29),
                end: date(2024, 3, 31)
            })
        );
        let weekly = calendar(date(2024, 2, 26), IntervalUnit::Week, 1, "UTC");
        assert_eq!(
            weekly
                .period_containing(date(2024, 3, 10))
                .unwrap()
                .unwrap()
                .index,
            2
        );
        assert_eq!(
            weekly
                .period_containing(date(2024, 3, 11))
                .unwrap()
                .unwrap()
                .index,
            3
        );
    }

    #[test]
    fn labels_and_time_zones() {
        let labels: Vec<_> = [
            IntervalUnit::Day,
            IntervalUnit::Week,
            IntervalUnit::Month,
            IntervalUnit::Year,
        ]
        .iter()
        .map(IntervalUnit::label)
        .collect();
        assert_eq!(labels, ["day", "week", "month", "year"]);
        assert_eq!(
            parse_time_zone("America/New_York").unwrap(),
            Tz::America__New_York
        );
        match parse_time_zone("Mars/Olympus_Mons") {
            Err(Error::UnknownTimeZone { name }) => assert_eq!(name, "Mars/Olympus_Mons"),
            other => panic!("{other:?}"),
        }
    }

    fn hours(bounds: (DateTime<Utc>, DateTime<Utc>)) -> i64 {
        (bounds.1 - bounds.0).num_hours()
    }

    #[test]
    fn weeks_across_dst_changes_in_new_york() {
        let cal = calendar(date(2024, 3, 4), IntervalUnit::Week, 1, "America/New_York");
        let spring = cal.period(1).unwrap(); // holds Sunday 2024-03-10
        let bounds = cal.utc_bounds(&spring);
        assert_eq!(bounds, (utc(2024, 3, 4, 5, 0), utc(2024, 3, 11, 4, 0)));
        assert_eq!(hours(bounds), 7 * 24 - 1);
        assert_eq!(hours(cal.utc_bounds(&cal.period(2).unwrap())), 7 * 24);
        let fall = cal.period_containing(date(2024, 11, 3)).unwrap().unwrap();
        assert_eq!(
            (fall.start, fall.end),
            (date(2024, 10, 28), date(2024, 11, 4))
        );
        assert_eq!(hours(cal.utc_bounds(&fall)), 7 * 24 + 1);
        let monthly = calendar(date(2024, 3, 1), IntervalUnit::Month, 1, "America/New_York");
        assert_eq!(
            hours(monthly.utc_bounds(&monthly.period(1).unwrap())),
            31 * 24 - 1
        );
    }

    #[test]
    fn weeks_across_dst_changes_in_london() {
        let cal = calendar(date(2024, 3, 25), IntervalUnit::Week, 1, "Europe/London");
        let spring = cal.period(1).unwrap(); // holds Sunday 2024-03-31
        let bounds = cal.utc_bounds(&spring);
        assert_eq!(bounds, (utc(2024, 3, 25, 0, 0), utc(2024, 3, 31, 23, 0)));
        assert_eq!(hours(bounds), 7 * 24 - 1);
        let fall = cal.period_containing(date(2024, 10, 27)).unwrap().unwrap();
        assert_eq!(fall.start, date(2024, 10, 21));
        assert_eq!(
            cal.utc_bounds(&fall),
            (utc(2024, 10, 20, 23, 0), utc(2024, 10, 28, 0, 0))
        );
        assert_eq!(hours(cal.utc_bounds(&fall)), 7 * 24 + 1);
    }

    #[test]
    fn local_midnight_in_a_dst_gap_is_the_first_instant_of_the_day() {
        // Sao Paulo skipped 00:00-01:00 on 2018-11-04: the day starts at 01:00 -02:00.
        let sao_paulo = calendar(
            date(2018, 11, 1),
            IntervalUnit::Month,
            1,
            "America/Sao_Paulo",
        );
        let midnight = sao_paulo.local_midnight(date(2018, 11, 4));
        assert_eq!(midnight.with_timezone(&Utc), utc(2018, 11, 4, 3, 0));
        assert_eq!(
            midnight.naive_local(),
            date(2018, 11, 4).and_hms_opt(1, 0, 0).unwrap()
        );
        // Havana springs forward at midnight too (2024-03-10, -05:00 -> -04:00)...
        let havana = calendar(date(2024, 3, 1), IntervalUnit::Month, 1, "America/Havana");
        let midnight = havana.local_midnight(date(2024, 3, 10));
        assert_eq!(midnight.with_timezone(&Utc), utc(2024, 3, 10, 5, 0));
        assert_eq!(
            midnight.naive_local().time(),
            NaiveTime::from_hms_opt(1, 0, 0).unwrap()
        );
        // ... and falls back at 01:00 to 00:00 (2024-11-03): midnight happens twice, take the earlier.
        let midnight = havana.local_midnight(date(2024, 11, 3));
        assert_eq!(midnight.with_timezone(&Utc), utc(2024, 11, 3, 4, 0));
        // A period holding the gap is an hour short.
        let week = calendar(date(2024, 3, 4), IntervalUnit::Week, 1, "America/Havana");
        assert_eq!(hours(week.utc_bounds(&week.period(1).unwrap())), 7 * 24 - 1);
        // Samoa skipped 2011-12-30 entirely: its "midnight" is the next day's.
        let apia = calendar(date(2011, 12, 1), IntervalUnit::Month, 1, "Pacific/Apia");
        let midnight = apia.local_midnight(date(2011, 12, 30));
        assert_eq!(
            midnight.naive_local(),
            date(2011, 12, 31).and_time(NaiveTime::MIN)
        );
        assert_eq!(midnight.with_timezone(&Utc), utc(2011, 12, 30, 10, 0));
        // The gap search also works for a gap that does not start at midnight.
        let new_york = parse_time_zone("America/New_York").unwrap();
        let half_past_two = date(2024, 3, 10).and_hms_opt(2, 30, 0).unwrap();
        let after_gap = first_instant_at_or_after(new_york, half_past_two);
        assert_eq!(after_gap.with_timezone(&Utc), utc(2024, 3, 10, 7, 0));
    }

    fn unit() -> impl Strategy<Value = IntervalUnit> {
        prop_oneof![
            Just(IntervalUnit::Day),
            Just(IntervalUnit::Week),
            Just(IntervalUnit::Month),
            Just(IntervalUnit::Year),
        ]
    }

    /// Dates from 1900 to about 2150.
    fn any_date() -> impl Strategy<Value = NaiveDate> {
        (0u64..91_000).prop_map(|days| date(1900, 1, 1) + Days::new(days))
    }

    fn count() -> impl Strategy<Value = u32> {
        prop_oneof![4 => 1u32..=4, 1 => 1u32..=MAX_INTERVAL_COUNT]
    }

    fn zone() -> impl Strategy<Value = Tz> {
        prop_oneof![
            Just(Tz::UTC),
            Just(Tz::America__New_York),
            Just(Tz::Europe__London),
            Just(Tz::America__Sao_Paulo),
            Just(Tz::Australia__Lord_Howe),
        ]
    }

    proptest! {
        #[test]
        fn periods_are_contiguous_and_not_empty(
            anchor in any_date(), unit in unit(), count in count(), k in 1u32..200,
        ) {
            let cal = BillingCalendar::new(anchor, BillingInterval::new(unit, count).unwrap(), Tz::UTC).unwrap();
            let period = cal.period(k).unwrap();
            let next = cal.period(k + 1).unwrap();
            prop_assert_eq!(period.index, k);
            prop_assert!(period.start < period.end);
            prop_assert_eq!(period.end, next.start);
            if k == 1 {
                prop_assert_eq!(period.start, anchor);
            }
        }

        #[test]
        fn monthly_periods_start_on_the_clamped_anchor_day(
            anchor in any_date(), count in 1u32..=24, k in 1u32..300, years in any::<bool>(),
        ) {
            let unit = if years { IntervalUnit::Year } else { IntervalUnit::Month };
            let cal = BillingCalendar::new(anchor, BillingInterval::new(unit, count).unwrap(), Tz::UTC).unwrap();
            let start = cal.period(k).unwrap().start;
            let per_period = if years { 12 * count } else { count };
            let months = i64::from(anchor.month0()) + i64::from(k - 1) * i64::from(per_period);
            prop_assert_eq!(i64::from(start.year()), i64::from(anchor.year()) + months.div_euclid(12));
            prop_assert_eq!(i64::from(start.month0()), months.rem_euclid(12));
            prop_assert_eq!(start.day(), anchor.day().min(days_in_month(start.year(), start.month())));
        }

        #[test]
        fn the_period_containing_a_date_holds_it(
            anchor in any_date(), unit in unit(), count in count(), offset in -100i64..40_000,
        ) {
            let cal = BillingCalendar::new(anchor, BillingInterval::new(unit, count).unwrap(), Tz::UTC).unwrap();
            let day = anchor + TimeDelta::days(offset);
            match cal.period_containing(day).unwrap() {
                None => prop_assert!(day < anchor),
                Some(period) => {
                    prop_assert!(day >= anchor);
                    prop_assert!(period.contains(day), "{:?} does not hold {}", period, day);
                    prop_assert_eq!(cal.period(period.index).unwrap(), period);
                }
            }
        }

        #[test]
        fn utc_bounds_are_whole_days_give_or_take_the_dst_shift(
            anchor in any_date(), unit in unit(), count in 1u32..=3, k in 1u32..50, tz in zone(),
        ) {
            let cal = BillingCalendar::new(anchor, BillingInterval::new(unit, count).unwrap(), tz).unwrap();
            let period = cal.period(k).unwrap();
            let (start, end) = cal.utc_bounds(&period);
            prop_assert!(start < end);
            prop_assert_eq!(start.with_timezone(&tz).date_naive(), period.start);
            prop_assert_eq!(end.with_timezone(&tz).date_naive(), period.end);
            let drift = (end - start) - TimeDelta::days(period.days());
            // New York and London have shifted by one hour at a time since 1950; other zones have
            // changed their standard offset too (Lord Howe went from +10:00 to +10:30 in 1981).
            let steady = matches!(tz, Tz::UTC | Tz::America__New_York | Tz::Europe__London)
                && period.start.year() >= 1950;
            let bound = TimeDelta::hours(if steady { 1 } else { 3 });
            prop_assert!(drift.abs() <= bound, "drift {}", drift);
            prop_assert_eq!(cal.utc_bounds(&cal.period(k + 1).unwrap()).0, end);
        }
    }
}
