//! A subscription's changes in force: the date it ends on (a cancellation), its pauses (vacation
//! holds), its quantity by date, and the increases settled on a period already billed that wait
//! for the next invoice. From them, the served days of a period, grouped into segments
//! ([`Changes::served`]), as `billing-conventions.md` ("Subscription changes") defines them.
//!
//! The changes are plain data kept with the subscription and written with it, over its revision;
//! every method here checks the change it makes against the ones already in force, so a state that
//! breaks a rule (overlapping pauses, a resume outside a pause) is never written.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::calendar::Period;
use crate::error::{Error, Result};
use crate::proration::{Segment, Served};
use crate::subscription::Quantity;

/// When a change takes effect, as a caller says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Effective {
    /// At the next local midnight: the day the change is made on is served as it was.
    Immediately,
    /// At the end of the current period.
    PeriodEnd,
    /// At local midnight starting this date, which may not be before the day the change is made.
    On(NaiveDate),
}

impl Effective {
    /// The local date the change takes effect on, for a change made on local date `today` while
    /// the current period ends on `period_end`. A date before `today` is invalid input on `field`
    /// (no backdating).
    pub fn resolve(
        self,
        field: &str,
        today: NaiveDate,
        period_end: NaiveDate,
    ) -> Result<NaiveDate> {
        match self {
            Effective::Immediately => today
                .succ_opt()
                .ok_or_else(|| Error::overflow("the day after the change")),
            Effective::PeriodEnd => Ok(period_end.max(today)),
            Effective::On(date) if date < today => Err(Error::invalid(
                field,
                format!(
                    "{date} is before {today}, the local date the change is made on: a change cannot be backdated"
                ),
            )),
            Effective::On(date) => Ok(date),
        }
    }
}

impl Serialize for Effective {
    fn serialize<S: serde::Serializer>(
        &self,
        serializer: S,
    ) -> std::result::Result<S::Ok, S::Error> {
        match self {
            Effective::Immediately => serializer.serialize_str("immediately"),
            Effective::PeriodEnd => serializer.serialize_str("period_end"),
            Effective::On(date) => serializer.serialize_str(&date.to_string()),
        }
    }
}

impl<'de> Deserialize<'de> for Effective {
    fn deserialize<D: serde::Deserializer<'de>>(
        deserializer: D,
    ) -> std::result::Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        match text.as_str() {
            "immediately" => Ok(Effective::Immediately),
            "period_end" => Ok(Effective::PeriodEnd),
            other => other.parse::<NaiveDate>().map(Effective::On).map_err(|_| {
                serde::de::Error::custom(format_args!(
                    "must be \"immediately\", \"period_end\" or a local date YYYY-MM-DD, got {other:?}"
                ))
            }),
        }
    }
}

impl schemars::JsonSchema for Effective {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Effective".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "\"immediately\" (the next local midnight), \"period_end\", or a local date YYYY-MM-DD.",
            "type": "string",
            "anyOf": [
                { "enum": ["immediately", "period_end"] },
                { "type": "string", "format": "date" }
            ]
        })
    }
}

/// A cancellation: the subscription is served up to local midnight starting `on`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ScheduledEnd {
    /// The first day not served.
    pub on: NaiveDate,
    /// Whether the unserved days of a period already billed are credited.
    pub credit_unused: bool,
}

/// A vacation hold: the days `from .. until - 1` are not served.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Pause {
    /// The first day not served.
    pub from: NaiveDate,
    /// The first day served again; open (until a resume) when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<NaiveDate>,
}

impl Pause {
    /// Whether local day `day` is inside the pause.
    pub fn holds(&self, day: NaiveDate) -> bool {
        self.from <= day && self.until.is_none_or(|until| day < until)
    }

    fn overlaps(&self, other: &Pause) -> bool {
        let ends_after =
            |pause: &Pause, day: NaiveDate| pause.until.is_none_or(|until| day < until);
        ends_after(self, other.from) && ends_after(other, self.from)
    }
}

/// The quantity from a date on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct QuantityFrom {
    /// The first day at this quantity.
    pub from: NaiveDate,
    /// The quantity.
    pub quantity: Quantity,
}

/// An increase settled on a period already billed, waiting for the subscription's next invoice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Increase {
    /// The line's description ("Quantity 2 -> 3 from 2026-04-11, 20 of 30 days").
    pub description: String,
    /// The amount, in minor units of the plan's currency.
    pub amount_minor: i64,
    /// The first day it concerns.
    pub service_start: NaiveDate,
    /// The day after the last day it concerns.
    pub service_end: NaiveDate,
    /// How the amount was reached (absent on increases settled before bases were kept).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub basis: Option<crate::basis::ChangeBasis>,
}

impl Increase {
    /// Takes `minor` units off the increase (netted against a decrease of the same period).
    pub fn take_off(&mut self, minor: i64, currency: crate::money::Currency) {
        self.amount_minor -= minor;
        if let Some(basis) = self.basis.as_mut() {
            basis.netted += crate::money::Money::from_minor(minor, currency).to_major();
        }
    }
}

/// The plan a subscription bills by now, in time: the anchor of its calendar (kept across a plan
/// change of the same interval, as Stripe and Lago keep a customer's billing day), how many of
/// that calendar's periods came before the plan's period 1, and the day the plan began (its
/// period 1 may be the part of an anchored period from that day).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Term {
    /// The calendar's anchor.
    pub anchor: NaiveDate,
    /// The anchored periods before the plan's period 1.
    pub offset: u32,
    /// The first day billed by the plan.
    pub starts_on: NaiveDate,
}

impl Term {
    /// The term of a subscription that never changed plan: anchored on its start.
    pub fn from_start(start: NaiveDate) -> Self {
        Term {
            anchor: start,
            offset: 0,
            starts_on: start,
        }
    }
}

/// A plan change waiting for its effective date: the subscription's end on the old plan
/// ([`Changes::end`]) is where the new plan's term begins.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PlanSwitch {
    /// The plan billed from the effective date.
    pub plan_id: String,
    /// Its term.
    pub term: Term,
    /// Where its period 1 ends (the next anchor date, or a whole period on).
    pub first_period_end: NaiveDate,
    /// The local date its period 1 is due: its start in advance, its end in arrears.
    pub first_due: NaiveDate,
}

/// What has been changed on a subscription and is still in force. Empty for a subscription
/// nothing has changed, which bills every period whole at its quantity.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Changes {
    /// The cancellation, once one is made (until it is withdrawn).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<ScheduledEnd>,
    /// The pauses that still concern a period not yet settled, in date order, never overlapping.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pauses: Vec<Pause>,
    /// The quantity by date, in date order, once it has changed; the first entry holds from
    /// before any period still concerned.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub quantities: Vec<QuantityFrom>,
    /// Increases settled on billed periods, for the next invoice.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub increases: Vec<Increase>,
    /// The plan's term, once a plan change took effect (the subscription's start otherwise).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub term: Option<Term>,
    /// A plan change waiting for its effective date.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub switch: Option<PlanSwitch>,
    /// How many credit notes the subscription has been issued: the next one's number is this
    /// plus one.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub credit_notes: u32,
}

fn is_zero(count: &u32) -> bool {
    *count == 0
}

impl Changes {
    /// Whether nothing is in force: every period is billed whole.
    pub fn is_empty(&self) -> bool {
        self == &Changes::default()
    }

    /// The quantity on local day `day`; `latest` (the subscription's quantity) when it never
    /// changed by date.
    pub fn quantity_on(&self, day: NaiveDate, latest: Quantity) -> Quantity {
        self.quantities
            .iter()
            .rev()
            .find(|step| step.from <= day)
            .map_or(latest, |step| step.quantity)
    }

    /// Whether local day `day` is inside a pause.
    pub fn paused_on(&self, day: NaiveDate) -> bool {
        self.pauses.iter().any(|pause| pause.holds(day))
    }

    /// `period` as it is billed: ending where the subscription ends, if that is inside it; `None`
    /// when the subscription has ended by its start.
    pub fn clip(&self, period: &Period) -> Option<Period> {
        match self.end {
            Some(end) if end.on <= period.start => None,
            Some(end) if end.on < period.end => Some(Period {
                end: end.on,
                ..*period
            }),
            _ => Some(*period),
        }
    }

    /// The served days of the local days `[start, end)` of a period of `period_days` days, by
    /// quantity (`latest` where the quantity never changed by date). Days on or after the
    /// subscription's end, and days inside a pause, are not served.
    pub fn served(
        &self,
        start: NaiveDate,
        end: NaiveDate,
        period_days: u32,
        latest: Quantity,
    ) -> Served {
        let end = self.end.map_or(end, |scheduled| scheduled.on.min(end));
        if end <= start {
            return Served {
                period_days,
                segments: Vec::new(),
            };
        }
        // Every day where the state may change, inside the range.
        let mut cuts: Vec<NaiveDate> = vec![start, end];
        let inside = |day: NaiveDate| start < day && day < end;
        for pause in &self.pauses {
            cuts.extend(
                [Some(pause.from), pause.until]
                    .into_iter()
                    .flatten()
                    .filter(|&d| inside(d)),
            );
        }
        cuts.extend(
            self.quantities
                .iter()
                .map(|step| step.from)
                .filter(|&d| inside(d)),
        );
        cuts.sort_unstable();
        cuts.dedup();
        let mut segments: Vec<Segment> = Vec::new();
        for pair in cuts.windows(2) {
            let (from, to) = (pair[0], pair[1]);
            if self.paused_on(from) {
                continue;
            }
            // A range inside one period: fewer than 2^32 days.
            let days = u32::try_from((to - from).num_days()).unwrap_or(u32::MAX);
            let quantity = self.quantity_on(from, latest);
            match segments
                .iter_mut()
                .find(|segment| segment.quantity == quantity)
            {
                Some(segment) => segment.days += days,
                None => segments.push(Segment { quantity, days }),
            }
        }
        Served {
            period_days,
            segments,
        }
    }

    /// Cancels the subscription from `on` (its first unserved day). A cancellation already made
    /// is replaced, and so is a plan change from that day or later (the subscription ends
    /// first); a cancellation after a plan change that has not taken effect is invalid input
    /// (cancel once the new plan bills).
    pub fn cancel(&mut self, on: NaiveDate, credit_unused: bool) -> Result<()> {
        if let (Some(end), Some(_)) = (self.end, &self.switch) {
            if on > end.on {
                return Err(Error::invalid(
                    "cancel.effective",
                    format!(
                        "a plan change takes effect on {}; a cancellation after it can be made once it has",
                        end.on
                    ),
                ));
            }
            self.switch = None;
        }
        self.end = Some(ScheduledEnd { on, credit_unused });
        self.pauses.retain(|pause| pause.from < on);
        Ok(())
    }

    /// Schedules a plan change from `on`: the current plan's billing ends there as a cancellation
    /// would (its unserved days credited), and `switch` begins. A cancellation already made is
    /// invalid input (withdraw it first); a plan change not yet in effect is replaced.
    pub fn switch_plan(&mut self, on: NaiveDate, switch: PlanSwitch) -> Result<()> {
        if let (Some(end), None) = (self.end, &self.switch) {
            return Err(Error::invalid(
                "plan.effective",
                format!(
                    "the subscription is canceled from {}; withdraw the cancellation before changing its plan",
                    end.on
                ),
            ));
        }
        self.end = Some(ScheduledEnd {
            on,
            credit_unused: true,
        });
        self.switch = Some(switch);
        Ok(())
    }

    /// Withdraws the cancellation, made on local date `today`: only one that has not taken effect.
    pub fn withdraw_cancel(&mut self, today: NaiveDate) -> Result<()> {
        if self.switch.is_some() {
            return Err(Error::invalid(
                "cancel",
                "the subscription has a plan change scheduled, not a cancellation",
            ));
        }
        match self.end {
            None => Err(Error::invalid(
                "cancel",
                "the subscription has no cancellation to withdraw",
            )),
            Some(end) if end.on <= today => Err(Error::invalid(
                "cancel",
                format!(
                    "the cancellation took effect on {}; it can no longer be withdrawn",
                    end.on
                ),
            )),
            Some(_) => {
                self.end = None;
                Ok(())
            }
        }
    }

    /// Adds a pause, made on local date `today`. `from` may not be before `today` nor on or
    /// after the subscription's end, `until` must be after `from`; a pause overlapping one in
    /// force is [`Error::Conflict`].
    pub fn pause(&mut self, pause: Pause, today: NaiveDate) -> Result<()> {
        if pause.from < today {
            return Err(Error::invalid(
                "pause.from",
                format!(
                    "{} is before {today}, the local date the pause is made on: a pause cannot be backdated",
                    pause.from
                ),
            ));
        }
        if let Some(until) = pause.until
            && until <= pause.from
        {
            return Err(Error::invalid(
                "pause.until",
                format!(
                    "{until} must be after the pause's first day, {}",
                    pause.from
                ),
            ));
        }
        if let Some(end) = self.end
            && self.switch.is_none()
            && pause.from >= end.on
        {
            return Err(Error::invalid(
                "pause.from",
                format!(
                    "{} is on or after {}, the day the subscription ends",
                    pause.from, end.on
                ),
            ));
        }
        if let Some(other) = self.pauses.iter().find(|other| other.overlaps(&pause)) {
            let until = |p: &Pause| p.until.map_or("open".to_owned(), |d| d.to_string());
            return Err(Error::Conflict {
                what: "pause".to_owned(),
                reason: format!(
                    "the pause from {} until {} overlaps the pause from {} until {}",
                    pause.from,
                    until(&pause),
                    other.from,
                    until(other)
                ),
            });
        }
        self.pauses.push(pause);
        self.pauses.sort_by_key(|pause| pause.from);
        Ok(())
    }

    /// Ends the pause in force on `on` (the first day served again), made on local date `today`:
    /// `on` equal to the pause's first day removes the pause. `on` before `today`, or a day no
    /// pause holds, is invalid input.
    pub fn resume(&mut self, on: NaiveDate, today: NaiveDate) -> Result<Pause> {
        if on < today {
            return Err(Error::invalid(
                "resume.on",
                format!(
                    "{on} is before {today}, the local date the resume is made on: a resume cannot be backdated"
                ),
            ));
        }
        let Some(index) = self.pauses.iter().position(|pause| pause.holds(on)) else {
            let next = self.pauses.iter().find(|pause| pause.from > on);
            return Err(Error::invalid(
                "resume.on",
                match next {
                    Some(next) => format!(
                        "no pause holds {on}: the next pause begins on {}; resume on that day to remove it",
                        next.from
                    ),
                    None => format!("no pause holds {on}"),
                },
            ));
        };
        let before = self.pauses[index];
        if on == before.from {
            self.pauses.remove(index);
        } else {
            self.pauses[index].until = Some(on);
        }
        Ok(before)
    }

    /// Sets the quantity to `quantity` from local day `from` on, replacing any quantity set for
    /// a later day; `latest` is the quantity the subscription had until now. Nothing changes
    /// when every day from `from` on is at `quantity` already.
    pub fn set_quantity(&mut self, from: NaiveDate, quantity: Quantity, latest: Quantity) {
        let holds = self.quantity_on(from, latest) == quantity
            && self
                .quantities
                .iter()
                .all(|step| step.from <= from || step.quantity == quantity);
        if holds {
            return;
        }
        if self.quantities.is_empty() {
            self.quantities.push(QuantityFrom {
                from: NaiveDate::MIN,
                quantity: latest,
            });
        }
        self.quantities.retain(|step| step.from < from);
        self.quantities.push(QuantityFrom { from, quantity });
    }

    /// Forgets what no longer concerns a day on or after `day` (the first day of the earliest
    /// period that may still be billed or settled): ended pauses, superseded quantities.
    pub fn prune(&mut self, day: NaiveDate) {
        self.pauses
            .retain(|pause| pause.until.is_none_or(|until| until > day));
        let superseded = self
            .quantities
            .iter()
            .rposition(|step| step.from <= day)
            .unwrap_or(0);
        self.quantities.drain(..superseded);
        if let [only] = self.quantities.as_slice()
            && only.from <= day
        {
            // One quantity for every day still concerned: the subscription's own.
            self.quantities.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn q(n: u32) -> Quantity {
        Quantity::new(n).unwrap()
    }

    #[test]
    fn effective_dates() {
        let today = date(2026, 2, 3);
        let end = date(2026, 2, 15);
        assert_eq!(
            Effective::Immediately.resolve("e", today, end).unwrap(),
            date(2026, 2, 4)
        );
        assert_eq!(Effective::PeriodEnd.resolve("e", today, end).unwrap(), end);
        assert_eq!(
            Effective::On(today).resolve("e", today, end).unwrap(),
            today
        );
        match Effective::On(date(2026, 2, 2)).resolve("cancel.effective", today, end) {
            Err(Error::InvalidInput { field, reason }) => {
                assert_eq!(field, "cancel.effective");
                assert!(reason.contains("cannot be backdated"), "{reason}");
            }
            other => panic!("{other:?}"),
        }
        for (json, effective) in [
            ("\"immediately\"", Effective::Immediately),
            ("\"period_end\"", Effective::PeriodEnd),
            ("\"2026-03-01\"", Effective::On(date(2026, 3, 1))),
        ] {
            assert_eq!(serde_json::from_str::<Effective>(json).unwrap(), effective);
            assert_eq!(serde_json::to_string(&effective).unwrap(), json);
        }
        let error = serde_json::from_str::<Effective>("\"soon\"").unwrap_err();
        assert!(
            error
                .to_string()
                .contains("\"immediately\", \"period_end\""),
            "{error}"
        );
    }

    #[test]
    fn the_served_days_of_the_worked_examples() {
        // A pause from Mar 1 until Mar 8 in the period Feb 15 - Mar 15 (28 days): 21 served.
        let mut changes = Changes::default();
        changes
            .pause(
                Pause {
                    from: date(2026, 3, 1),
                    until: Some(date(2026, 3, 8)),
                },
                date(2026, 2, 20),
            )
            .unwrap();
        let served = changes.served(date(2026, 2, 15), date(2026, 3, 15), 28, q(1));
        assert_eq!(
            served.segments,
            vec![Segment {
                quantity: q(1),
                days: 21
            }]
        );

        // Quantity 2 -> 3 from Apr 11 in April (30 days): 10 days at 2, 20 at 3.
        let mut changes = Changes::default();
        changes.set_quantity(date(2026, 4, 11), q(3), q(2));
        let served = changes.served(date(2026, 4, 1), date(2026, 5, 1), 30, q(3));
        assert_eq!(
            served.segments,
            vec![
                Segment {
                    quantity: q(2),
                    days: 10
                },
                Segment {
                    quantity: q(3),
                    days: 20
                }
            ]
        );

        // Canceled from Feb 4 in the period Jan 15 - Feb 15 (31 days): 20 served.
        let mut changes = Changes::default();
        changes.cancel(date(2026, 2, 4), true).unwrap();
        let served = changes.served(date(2026, 1, 15), date(2026, 2, 15), 31, q(1));
        assert_eq!(served.served_days(), 20);
        let period = Period {
            index: 1,
            start: date(2026, 1, 15),
            end: date(2026, 2, 15),
        };
        assert_eq!(changes.clip(&period).unwrap().end, date(2026, 2, 4));
        let later = Period {
            index: 2,
            start: date(2026, 2, 15),
            end: date(2026, 3, 15),
        };
        assert_eq!(changes.clip(&later), None);
    }

    #[test]
    fn pauses_never_overlap_and_resumes_end_them() {
        let today = date(2026, 1, 20);
        let mut changes = Changes::default();
        let hold = |from, until| Pause { from, until };
        changes
            .pause(hold(date(2026, 3, 1), Some(date(2026, 3, 8))), today)
            .unwrap();
        // Two pauses made on the same day, back to back: both hold.
        changes
            .pause(hold(date(2026, 3, 8), Some(date(2026, 3, 10))), today)
            .unwrap();
        assert!(matches!(
            changes.pause(hold(date(2026, 3, 9), None), today),
            Err(Error::Conflict { .. })
        ));
        assert!(matches!(
            changes.pause(hold(date(2026, 2, 1), None), today),
            Err(Error::Conflict { .. })
        ));
        assert!(changes.pause(hold(date(2026, 1, 19), None), today).is_err());
        assert!(
            changes
                .pause(hold(date(2026, 4, 2), Some(date(2026, 4, 2))), today)
                .is_err()
        );
        // A resume before the hold began removes it; one inside shortens it.
        changes.resume(date(2026, 3, 8), today).unwrap();
        assert_eq!(changes.pauses.len(), 1);
        changes.resume(date(2026, 3, 5), today).unwrap();
        assert_eq!(
            changes.pauses,
            vec![hold(date(2026, 3, 1), Some(date(2026, 3, 5)))]
        );
        match changes.resume(date(2026, 2, 25), today) {
            Err(Error::InvalidInput { field, reason }) => {
                assert_eq!(field, "resume.on");
                assert!(
                    reason.contains("next pause begins on 2026-03-01"),
                    "{reason}"
                );
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_cancellation_is_withdrawn_only_before_it_takes_effect() {
        let mut changes = Changes::default();
        changes.cancel(date(2026, 3, 1), true).unwrap();
        assert!(changes.withdraw_cancel(date(2026, 3, 1)).is_err());
        changes.withdraw_cancel(date(2026, 2, 28)).unwrap();
        assert!(changes.is_empty());
        assert!(changes.withdraw_cancel(date(2026, 2, 28)).is_err());
    }

    #[test]
    fn pruning_keeps_what_a_later_day_needs() {
        let mut changes = Changes::default();
        changes.set_quantity(date(2026, 4, 11), q(3), q(2));
        changes.set_quantity(date(2026, 5, 1), q(4), q(3));
        changes.prune(date(2026, 4, 20));
        assert_eq!(changes.quantity_on(date(2026, 4, 20), q(4)), q(3));
        assert_eq!(changes.quantity_on(date(2026, 5, 2), q(4)), q(4));
        changes.prune(date(2026, 5, 1));
        assert!(changes.quantities.is_empty());
        assert_eq!(changes.quantity_on(date(2026, 4, 20), q(4)), q(4));
    }

    fn arb_changes() -> impl Strategy<Value = (Changes, u32)> {
        let pauses = prop::collection::vec((0i64..60, prop::option::of(1i64..40)), 0..4);
        let quantities = prop::collection::vec((0i64..60, 1u32..5), 0..4);
        let end = prop::option::of(0i64..70);
        (pauses, quantities, end, 28u32..32).prop_map(|(pauses, quantities, end, days)| {
            let base = date(2026, 1, 1);
            let today = base;
            let day = |n: i64| base + chrono::Days::new(n.unsigned_abs());
            let mut changes = Changes::default();
            for (from, len) in pauses {
                let _ = changes.pause(
                    Pause {
                        from: day(from),
                        until: len.map(|len| day(from + len)),
                    },
                    today,
                );
            }
            let mut latest = q(1);
            for (from, n) in quantities {
                changes.set_quantity(day(from), q(n), latest);
                latest = q(n);
            }
            if let Some(end) = end {
                changes.cancel(day(end), true).unwrap();
            }
            (changes, days)
        })
    }

    proptest! {
        /// Served days and unserved days partition the period: each day is counted once, in the
        /// segment of its quantity, or is paused or after the end.
        #[test]
        fn served_days_partition_the_period((changes, days) in arb_changes()) {
            let start = date(2026, 1, 10);
            let end = start + chrono::Days::new(u64::from(days));
            let served = changes.served(start, end, days, q(1));
            let mut by_day = std::collections::HashMap::new();
            let mut day = start;
            let mut unserved = 0;
            while day < end {
                let ended = changes.end.is_some_and(|e| day >= e.on);
                if ended || changes.paused_on(day) {
                    unserved += 1;
                } else {
                    *by_day.entry(changes.quantity_on(day, q(1))).or_insert(0u32) += 1;
                }
                day = day.succ_opt().unwrap();
            }
            prop_assert_eq!(served.served_days() + unserved, days);
            for segment in &served.segments {
                prop_assert_eq!(by_day.get(&segment.quantity).copied(), Some(segment.days));
            }
            prop_assert_eq!(served.segments.len(), by_day.len());
        }
    }
}
