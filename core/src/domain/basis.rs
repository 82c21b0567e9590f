//! The basis of a line item: the arithmetic that gives its amount, as data.
//!
//! Every line the engine writes carries one: the recurring price of its period (with the step-up
//! arithmetic, the quantity and the days of a partial period), the usage counted per local
//! weekday with the returns taken off and the allowance, tiers, minimum or cap that applied, the
//! change or late usage a settlement line settles, the share of a line a credit note credits.
//! [`LineBasis::recompute`] gives the amount again from the basis alone, checking every stated
//! intermediate on the way, so a basis that does not add up to its line is an error, never a
//! wrong explanation. The evaluation of a program computes each line's amount through the same
//! functions, so the explanation and the amount cannot drift apart. [`LineBasis::explain`]
//! writes the one-line sentence shown under the line.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::json::DecimalString;
use crate::money::{Currency, Money};
use crate::pricing::{ReturnsPolicy, StepChange, UsageMetric};

mod arithmetic;
mod explain;

pub(crate) use explain::capitalised;

/// How a line's amount was reached.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum LineBasis {
    /// A recurring (flat, base or step-up) charge of a period, or of the days of one segment.
    Recurring(RecurringBasis),
    /// A usage charge of a period.
    Usage(UsageBasis),
    /// A settlement of a subscription change on a period billed before: an increase on a later
    /// invoice, or a line of a credit note.
    Change(ChangeBasis),
    /// Late usage of a period billed before, priced again.
    LateUsage(LateUsageBasis),
    /// The share of an invoice line that a credit note credits.
    Credit(CreditBasis),
    /// A period the program prices nothing for.
    NoCharge(NoChargeBasis),
}

/// A recurring charge: `round(unit price x quantity x days / period days)`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct RecurringBasis {
    /// The charge, as the program names it ("Base charge").
    pub charge: String,
    /// The period, 1 for the first.
    pub period_index: u32,
    /// What a period is called ("month", "week", "period").
    pub period_noun: String,
    /// How the price per copy of the period was reached.
    pub price: PriceBasis,
    /// The copies it is multiplied by.
    pub quantity: u32,
    /// The days billed of the period, when not the whole period.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub days: Option<DaysBasis>,
}

/// The price per copy of a period: `base`, stepped, then held between floor and ceiling, then
/// discounted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct PriceBasis {
    /// The price the phase starts at.
    #[schemars(with = "DecimalString")]
    pub base: Decimal,
    /// The steps taken since the phase started, when it steps.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step: Option<StepBasis>,
    /// The highest the price goes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<DecimalString>")]
    pub ceiling: Option<Decimal>,
    /// The lowest the price goes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<DecimalString>")]
    pub floor: Option<Decimal>,
    /// The discount taken off, in percent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<DecimalString>")]
    pub discount_percent: Option<Decimal>,
    /// What the arithmetic gives, exact.
    #[schemars(with = "DecimalString")]
    pub unit_price: Decimal,
}

/// The steps of a step-up: `steps` times `change`, one every `every_periods` periods.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct StepBasis {
    /// How many steps were taken by this period.
    pub steps: u32,
    /// The periods between two steps.
    pub every_periods: u32,
    /// What each step does.
    pub change: StepChange,
}

/// The days of a partial period: `days` of `period_days`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct DaysBasis {
    /// The days billed.
    pub days: u32,
    /// The days of the whole period (the proration denominator).
    pub period_days: u32,
}

/// A usage charge: the period's count per local weekday, less the returns credited and the
/// allowance, priced per unit, by weekday or in tiers, then held between minimum and cap.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct UsageBasis {
    /// The charge, as the program names it ("Usage (Shipment) charge").
    pub charge: String,
    /// The period, 1 for the first.
    pub period_index: u32,
    /// What it counts: shipments (rows) or units (copies).
    pub metric: UsageMetric,
    /// Whether returns come off the count.
    pub returns: ReturnsPolicy,
    /// The count of each local weekday that has any, Monday first.
    pub weekdays: Vec<WeekdayCount>,
    /// The period's count: the weekdays' counts less their returns, never below zero.
    pub count: u64,
    /// The free allowance taken off the count.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub allowance: u64,
    /// How the count is priced.
    pub pricing: UsagePriceBasis,
    /// The amount before the minimum and the cap, exact.
    #[schemars(with = "DecimalString")]
    pub priced: Decimal,
    /// The minimum charge, when the charge has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minimum: Option<LimitBasis>,
    /// The cap, when the charge has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cap: Option<LimitBasis>,
}

/// One local weekday's usage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct WeekdayCount {
    /// The weekday, lower case ("monday").
    pub weekday: String,
    /// Shipments (or units) on that weekday.
    pub counted: u64,
    /// Returns (or returned units) taken off on that weekday.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub returned: u64,
    /// The weekday's price, when prices differ by weekday.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<DecimalString>")]
    pub rate: Option<Decimal>,
}

/// How a usage count is priced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "model", rename_all = "snake_case")]
pub enum UsagePriceBasis {
    /// One price for every unit past the allowance.
    PerUnit {
        /// The price of a unit.
        #[schemars(with = "DecimalString")]
        rate: Decimal,
    },
    /// Each weekday's net count at its weekday's rate (in `weekdays`).
    ByWeekday,
    /// Each unit in its own tier.
    Graduated {
        /// The tiers, with the units each priced.
        tiers: Vec<TierBasis>,
    },
    /// Every unit at the tier the count falls in.
    Volume {
        /// The tiers, with the units each priced (all in one).
        tiers: Vec<TierBasis>,
    },
}

/// A tier of a usage charge and the units it priced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct TierBasis {
    /// The first unit of the tier (1 for the first tier).
    pub from: u64,
    /// The last unit of the tier; absent on the open-ended tier.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub up_to: Option<u64>,
    /// The price of each unit in it.
    #[schemars(with = "DecimalString")]
    pub unit_price: Decimal,
    /// The units priced in it.
    pub units: u64,
}

/// A usage minimum or cap, prorated by the days served of a partial period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct LimitBasis {
    /// The amount as the plan states it, for a whole period.
    #[schemars(with = "DecimalString")]
    pub amount: Decimal,
    /// The days served, when the period was not served whole.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub days: Option<DaysBasis>,
    /// Whether it set the amount.
    pub applied: bool,
}

/// The settlement of a change on one charge of a period billed before: what the charge was due
/// before the change and after it; the line is the difference, less what was netted against
/// increases not yet invoiced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ChangeBasis {
    /// The change, in words ("Quantity 2 -> 3 from 2026-04-11").
    pub change: String,
    /// The charge it settles.
    pub charge: String,
    /// The period it settles.
    pub period_index: u32,
    /// The period's first day.
    pub period_start: NaiveDate,
    /// The day after its last day.
    pub period_end: NaiveDate,
    /// The charge's lines due before the change.
    pub before: Vec<RecurringBasis>,
    /// The charge's lines due after it.
    pub after: Vec<RecurringBasis>,
    /// What was taken off the difference against an opposite settlement not yet invoiced.
    #[serde(default, skip_serializing_if = "Decimal::is_zero")]
    #[schemars(with = "DecimalString")]
    pub netted: Decimal,
}

/// Late usage of a period billed before: its usage charges priced on the usage billed and on the
/// usage the tables hold now; the line is the difference.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct LateUsageBasis {
    /// The period read again.
    pub period_index: u32,
    /// Its first day.
    pub period_start: NaiveDate,
    /// The day after its last day.
    pub period_end: NaiveDate,
    /// Its usage charges as they were billed.
    pub billed: Vec<UsageBasis>,
    /// Its usage charges on the usage the tables hold now.
    pub now: Vec<UsageBasis>,
}

/// What a credit note credits of one invoice line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct CreditBasis {
    /// The invoice credited.
    pub invoice_id: String,
    /// The line's position on it, from 1.
    pub line: u32,
    /// The line's amount on the invoice.
    #[schemars(with = "DecimalString")]
    pub line_amount: Decimal,
    /// What earlier credit notes credited on the line.
    #[serde(default, skip_serializing_if = "Decimal::is_zero")]
    #[schemars(with = "DecimalString")]
    pub credited_before: Decimal,
    /// How much of what is left this note credits.
    pub credited: Credited,
}

/// How much of a line's rest a credit note credits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "how", rename_all = "snake_case")]
pub enum Credited {
    /// All the line has left: its amount less what was credited before.
    Rest,
    /// An amount asked for this line.
    Asked {
        /// The amount.
        #[schemars(with = "DecimalString")]
        amount: Decimal,
    },
    /// The line's share of an amount spread over the invoice's lines by what each has left:
    /// `floor(requested x weight / total_weight)` in minor units, plus the minor units of the
    /// remainder it was given (largest remainders first).
    Share {
        /// The amount the credit note was asked for.
        #[schemars(with = "DecimalString")]
        requested: Decimal,
        /// What this line has left to credit.
        #[schemars(with = "DecimalString")]
        weight: Decimal,
        /// What all the lines have left.
        #[schemars(with = "DecimalString")]
        total_weight: Decimal,
        /// The remainder given to this line so the shares sum to the request.
        #[serde(default, skip_serializing_if = "Decimal::is_zero")]
        #[schemars(with = "DecimalString")]
        remainder: Decimal,
    },
}

/// A period the program prices nothing for: 0.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct NoChargeBasis {
    /// The period, 1 for the first.
    pub period_index: u32,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl LineBasis {
    /// The line's amount, computed again from the basis alone; an error names the first stated
    /// intermediate (a unit price, a count, a tier's units) its arithmetic does not give.
    pub fn recompute(&self, currency: Currency) -> Result<Money> {
        match self {
            LineBasis::Recurring(basis) => basis.amount(currency),
            LineBasis::Usage(basis) => basis.amount(currency),
            LineBasis::Change(basis) => basis.amount(currency),
            LineBasis::LateUsage(basis) => basis.amount(currency),
            LineBasis::Credit(basis) => basis.amount(currency),
            LineBasis::NoCharge(_) => Ok(Money::zero(currency)),
        }
    }

    /// The sentence shown under the line ("month 3: 5.00 + 2 x 1.00 = 7.00").
    pub fn explain(&self, currency: Currency) -> String {
        explain::sentence(self, currency)
    }
}

#[cfg(test)]
mod tests;
