//! Late usage: a shipment or return recorded after the invoice of its period was issued is billed
//! once (`billing-conventions.md`, "Late usage"). A subscription remembers the periods it was
//! last billed for with the usage each was billed on ([`UsageHistory`]), so a renewal reads those
//! periods again in the same batch as its own and settles any difference
//! ([`LateUsage::settle`]): an increase is a line on the renewal's invoice, a decrease (a late
//! return) a credit note against that period's invoice. A period older than the look-back is read
//! one last time only to report what is no longer billed.
//!
//! Pure: no store, no clock.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::basis::{LateUsageBasis, LineBasis, UsageBasis};
use crate::error::Result;
use crate::money::Money;
use crate::pricing::PricingProgram;
use crate::proration::Served;
use crate::usage::PeriodUsage;

/// How many periods billed before a renewal it reads again, by default: two, as Kill Bill does.
pub const DEFAULT_LOOKBACK: u32 = 2;

/// The most periods a look-back may span: each is one more usage window per renewal.
pub const MAX_LOOKBACK: u32 = 12;

/// One period a subscription was billed for, and the usage it has been billed on so far (the
/// invoice's, plus any late usage settled since).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct BilledPeriod {
    /// The plan's period index.
    pub period: u32,
    /// The plan it was billed by...
    pub plan_id: String,
    /// ...at this version: late usage is priced by the program that billed the period.
    pub plan_version: u32,
    /// The plan's usage query, which read the period.
    pub query: String,
    /// The local dates it billed, `[start, end)`.
    pub start: NaiveDate,
    /// The day after the last day it billed.
    pub end: NaiveDate,
    /// Its usage window in UTC, as the plan's usage query read it.
    pub from: DateTime<Utc>,
    /// The end of the window (exclusive).
    pub to: DateTime<Utc>,
    /// The days it served, by quantity: late usage is priced for the same days.
    pub served: Served,
    /// The invoice that billed it: a late return is credited against it.
    pub invoice_id: String,
    /// What it has been billed on so far.
    pub usage: PeriodUsage,
    /// Renewals since it was billed: 0 for the one just billed.
    pub age: u32,
}

/// The periods a subscription was billed for recently, newest last: only those with usage
/// charges, and only as far back as the look-back reaches (plus the one read to report).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(transparent)]
pub struct UsageHistory(pub Vec<BilledPeriod>);

/// What a renewal does with one period of the history.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LookBack {
    /// Within the look-back: a difference is billed.
    Bill,
    /// Just past it: a difference is reported, never billed.
    Report,
}

impl UsageHistory {
    /// Whether there is nothing to remember (then nothing is stored).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The periods a renewal reads again with a look-back of `lookback` periods: the ones billed
    /// by the last `lookback` renewals are billed, the one before them reported.
    pub fn to_read(&self, lookback: u32) -> Vec<(usize, LookBack)> {
        if lookback == 0 {
            return Vec::new();
        }
        self.0
            .iter()
            .enumerate()
            .filter_map(|(index, billed)| match billed.age {
                age if age < lookback => Some((index, LookBack::Bill)),
                age if age == lookback => Some((index, LookBack::Report)),
                _ => None,
            })
            .collect()
    }

    /// The history after the invoice `voided` was voided: its period is billed by `rebilled`
    /// (the new invoice's id and the usage it was priced on, when its program reads usage), so
    /// late usage is measured against that; or, without a re-billing, the period is billed by
    /// nothing and no late usage of it is billed or reported.
    pub fn after_void(&mut self, voided: &str, rebilled: Option<(&str, Option<&PeriodUsage>)>) {
        match rebilled {
            None => self.0.retain(|billed| billed.invoice_id != voided),
            Some((id, usage)) => {
                for billed in self
                    .0
                    .iter_mut()
                    .filter(|billed| billed.invoice_id == voided)
                {
                    billed.invoice_id = id.to_owned();
                    if let Some(usage) = usage {
                        billed.usage = *usage;
                    }
                }
            }
        }
    }

    /// The history after a renewal billed one more period (`billed`, when it has usage charges):
    /// every period one renewal older, those past the look-back forgotten.
    pub fn after_renewal(&self, billed: Option<BilledPeriod>, lookback: u32) -> UsageHistory {
        if lookback == 0 {
            return UsageHistory::default();
        }
        let mut kept: Vec<BilledPeriod> = self
            .0
            .iter()
            .filter(|period| period.age < lookback)
            .map(|period| BilledPeriod {
                age: period.age + 1,
                ..period.clone()
            })
            .collect();
        kept.extend(billed);
        UsageHistory(kept)
    }
}

/// A period billed before, read again: the usage it had been billed on and the usage the tables
/// hold now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Reread {
    /// The period read again.
    pub period: u32,
    /// Its local dates, `[start, end)`.
    pub start: NaiveDate,
    /// The day after its last day.
    pub end: NaiveDate,
    /// The invoice that billed it.
    pub invoice_id: String,
    /// The usage it had been billed on.
    pub billed: PeriodUsage,
    /// The usage the tables hold now.
    pub now: PeriodUsage,
}

impl Reread {
    /// `billed` read again with `now`, when the tables hold something else than was billed.
    pub fn of(billed: &BilledPeriod, now: &PeriodUsage) -> Option<Reread> {
        (*now != billed.usage).then(|| Reread {
            period: billed.period,
            start: billed.start,
            end: billed.end,
            invoice_id: billed.invoice_id.clone(),
            billed: billed.usage,
            now: *now,
        })
    }

    /// The counts that changed, signed ("+4 shipments, -1 return").
    pub fn counts(&self) -> String {
        let mut counts = Vec::new();
        let delta = |now: u64, before: u64| i128::from(now) - i128::from(before);
        let shipments = delta(self.now.total_shipments(), self.billed.total_shipments());
        let units = delta(self.now.total_units(), self.billed.total_units());
        let returned = delta(
            self.now.total_returned_shipments(),
            self.billed.total_returned_shipments(),
        );
        let returned_units = delta(
            self.now.total_returned_units(),
            self.billed.total_returned_units(),
        );
        let signed = |n: i128, one: &str, many: &str| {
            let noun = if n.abs() == 1 { one } else { many };
            format!("{n:+} {noun}")
        };
        if shipments != 0 {
            counts.push(signed(shipments, "shipment", "shipments"));
        }
        if units != shipments && units != 0 {
            counts.push(signed(units, "copy", "copies"));
        }
        if returned != 0 {
            counts.push(signed(returned, "return", "returns"));
        }
        if returned_units != returned && returned_units != 0 {
            counts.push(signed(returned_units, "returned copy", "returned copies"));
        }
        if counts.is_empty() {
            counts.push("usage moved between weekdays".to_owned());
        }
        counts.join(", ")
    }
}

/// The difference late usage makes to one period billed before.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LateUsage {
    /// The period read again.
    pub read: Reread,
    /// What its usage charges owe now less what they were billed: positive is billed on the
    /// renewal's invoice, negative credited against the period's invoice.
    pub amount: Money,
    /// Its usage charges priced on the usage billed and on the usage now.
    pub basis: LateUsageBasis,
}

impl LateUsage {
    /// The difference `now` (the usage the tables hold) makes to `billed`, priced by `program`
    /// (the version that billed the period) for the days it served; `None` when the tables hold
    /// what was billed.
    pub fn settle(
        program: &PricingProgram,
        billed: &BilledPeriod,
        now: &PeriodUsage,
    ) -> Result<Option<LateUsage>> {
        let Some(read) = Reread::of(billed, now) else {
            return Ok(None);
        };
        let priced = |usage: &PeriodUsage| -> Result<(Money, Vec<UsageBasis>)> {
            let lines = program.usage_due(billed.period, &billed.served, usage)?;
            let owed = Money::checked_sum(program.currency, lines.iter().map(|line| line.amount))?;
            let bases = lines
                .into_iter()
                .filter_map(|line| match line.basis {
                    Some(LineBasis::Usage(basis)) => Some(basis),
                    _ => None,
                })
                .collect();
            Ok((owed, bases))
        };
        let (owed_now, now_bases) = priced(now)?;
        let (owed_billed, billed_bases) = priced(&billed.usage)?;
        let amount = owed_now.checked_sub(owed_billed)?;
        let basis = LateUsageBasis {
            period_index: billed.period,
            period_start: billed.start,
            period_end: billed.end,
            billed: billed_bases,
            now: now_bases,
        };
        Ok(Some(LateUsage {
            read,
            amount,
            basis,
        }))
    }

    /// The line's description: the period, its dates and the counts that changed
    /// ("Late usage, period 3 (2026-03-15 to 2026-04-15): +4 shipments").
    pub fn description(&self) -> String {
        format!(
            "Late usage, period {} ({} to {}): {}",
            self.read.period,
            self.read.start,
            self.read.end,
            self.read.counts()
        )
    }
}

/// The usage an invoice was billed on, kept with it: its own period's (per local weekday), and
/// each period billed before that it settled late usage for.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct InvoiceUsage {
    /// The usage of the invoice's own period; `None` when its program has no usage charges.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub period: Option<PeriodUsage>,
    /// The periods read again whose difference this invoice (or a credit note issued with it)
    /// settled.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub late: Vec<Reread>,
}

impl InvoiceUsage {
    /// Whether there is nothing to keep (then nothing is stored).
    pub fn is_empty(&self) -> bool {
        self.period.is_none() && self.late.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::subscription::Quantity;

    fn billed(period: u32, age: u32) -> BilledPeriod {
        BilledPeriod {
            period,
            plan_id: "plan".into(),
            plan_version: 1,
            query: "shipments_by_weekday".into(),
            start: NaiveDate::from_ymd_opt(2026, 1, 15).unwrap(),
            end: NaiveDate::from_ymd_opt(2026, 2, 15).unwrap(),
            from: "2026-01-15T05:00:00Z".parse().unwrap(),
            to: "2026-02-15T05:00:00Z".parse().unwrap(),
            served: Served::whole(Quantity::ONE, 31),
            invoice_id: format!("in_{period}"),
            usage: PeriodUsage::default(),
            age,
        }
    }

    #[test]
    fn a_history_reads_the_lookback_and_reports_the_one_before() {
        let history = UsageHistory(vec![billed(1, 2), billed(2, 1), billed(3, 0)]);
        assert_eq!(
            history.to_read(2),
            vec![
                (0, LookBack::Report),
                (1, LookBack::Bill),
                (2, LookBack::Bill)
            ]
        );
        assert!(history.to_read(0).is_empty());
        let next = history.after_renewal(Some(billed(4, 0)), 2);
        let kept: Vec<(u32, u32)> = next.0.iter().map(|b| (b.period, b.age)).collect();
        assert_eq!(kept, vec![(2, 2), (3, 1), (4, 0)]);
        assert!(history.after_renewal(None, 0).is_empty());
    }

    #[test]
    fn a_difference_is_priced_by_the_periods_program() {
        let account = crate::plan::Account::new("acct", chrono_tz::America::New_York);
        let plan: crate::plan::Plan = serde_json::from_value(serde_json::json!({
            "id": "plan", "type": "ai", "currency": "USD", "interval": "month",
            "ai_prompt": "$0.50 per delivery", "usage_query": "shipments_by_weekday",
        }))
        .unwrap();
        let program = plan.compile(&account).unwrap();
        let mut period = billed(1, 0);
        period.usage.shipments[0] = 10;
        period.usage.units[0] = 10;
        let mut now = period.usage;
        now.shipments[2] = 4;
        now.units[2] = 4;
        let late = LateUsage::settle(&program, &period, &now).unwrap().unwrap();
        assert_eq!(late.amount.to_major().to_string(), "2.00");
        assert_eq!(
            late.description(),
            "Late usage, period 1 (2026-01-15 to 2026-02-15): +4 shipments"
        );
        assert!(
            LateUsage::settle(&program, &period, &period.usage.clone())
                .unwrap()
                .is_none()
        );
    }
}
