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

use crate::error::{Error, Result};
use crate::json::DecimalString;
use crate::money::{Currency, Money};
use crate::pricing::{ReturnsPolicy, StepChange, UsageMetric};
use crate::proration::share;

mod explain;

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

fn mismatch(what: &str, stated: impl std::fmt::Display, computed: impl std::fmt::Display) -> Error {
    Error::invalid(
        "line_item.basis",
        format!("{what} is stated as {stated} but its arithmetic gives {computed}"),
    )
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

impl PriceBasis {
    /// The price of a phase starting at `base`, `step` taken, held between `floor` and
    /// `ceiling`, then discounted: the one place a period's recurring price is computed.
    pub fn of(
        base: Decimal,
        step: Option<StepBasis>,
        ceiling: Option<Decimal>,
        floor: Option<Decimal>,
        discount_percent: Option<Decimal>,
    ) -> Result<Self> {
        let mut basis = PriceBasis {
            base,
            step,
            ceiling,
            floor,
            discount_percent,
            unit_price: Decimal::ZERO,
        };
        basis.unit_price = basis.arithmetic()?;
        Ok(basis)
    }

    /// The price before it is held between floor and ceiling and discounted.
    pub fn stepped(&self) -> Result<Decimal> {
        let overflow = || Error::overflow("stepped recurring price");
        let mut price = self.base;
        let Some(step) = &self.step else {
            return Ok(price);
        };
        match step.change {
            StepChange::Amount(delta) => delta
                .checked_mul(Decimal::from(step.steps))
                .and_then(|d| price.checked_add(d))
                .ok_or_else(overflow),
            StepChange::Percent(percent) => {
                let factor = Decimal::ONE + percent / Decimal::ONE_HUNDRED;
                for _ in 0..step.steps {
                    price = price.checked_mul(factor).ok_or_else(overflow)?;
                    // Past the ceiling (or floor) further steps change nothing: stop there, so
                    // a long-running compounding price cannot overflow.
                    let past_ceiling = self
                        .ceiling
                        .is_some_and(|c| factor > Decimal::ONE && price >= c);
                    let past_floor = self
                        .floor
                        .is_some_and(|f| factor < Decimal::ONE && price <= f);
                    if past_ceiling || past_floor || price.is_zero() {
                        break;
                    }
                }
                Ok(price)
            }
        }
    }

    fn arithmetic(&self) -> Result<Decimal> {
        let mut price = self.stepped()?;
        if let Some(ceiling) = self.ceiling {
            price = price.min(ceiling);
        }
        if let Some(floor) = self.floor {
            price = price.max(floor);
        }
        price = price.max(Decimal::ZERO);
        if let Some(discount) = self.discount_percent {
            price = price * (Decimal::ONE_HUNDRED - discount) / Decimal::ONE_HUNDRED;
        }
        Ok(price)
    }
}

impl RecurringBasis {
    /// `round(unit price x quantity x days / period days)`, once.
    pub fn amount(&self, currency: Currency) -> Result<Money> {
        let unit_price = self.price.arithmetic()?;
        if unit_price != self.price.unit_price {
            return Err(mismatch(
                "the unit price",
                self.price.unit_price,
                unit_price,
            ));
        }
        let amount = unit_price
            .checked_mul(Decimal::from(self.quantity))
            .ok_or_else(|| Error::overflow("recurring charge x quantity"))?;
        let amount = match self.days {
            Some(days) => share(amount, days.days, days.period_days)?,
            None => amount,
        };
        Money::round_from_major(amount, currency)
    }
}

impl UsageBasis {
    /// The net count, the allowance, the pricing, then the minimum and the cap; rounded once.
    pub fn amount(&self, currency: Currency) -> Result<Money> {
        let (count, priced, minimum, cap) = self.arithmetic()?;
        if count != self.count {
            return Err(mismatch("the count", self.count, count));
        }
        if priced != self.priced {
            return Err(mismatch("the priced amount", self.priced, priced));
        }
        let mut amount = priced;
        if let Some((limit, basis)) = minimum.zip(self.minimum.as_ref()) {
            let applies = amount < limit;
            if applies != basis.applied {
                return Err(mismatch(
                    "whether the minimum applied",
                    basis.applied,
                    applies,
                ));
            }
            amount = amount.max(limit);
        }
        if let Some((limit, basis)) = cap.zip(self.cap.as_ref()) {
            let applies = amount > limit;
            if applies != basis.applied {
                return Err(mismatch("whether the cap applied", basis.applied, applies));
            }
            amount = amount.min(limit);
        }
        Money::round_from_major(amount, currency)
    }

    /// Fills in the priced amount and whether the minimum and the cap apply, from the counts and
    /// the pricing: how the evaluation of a program completes the basis it builds.
    pub(crate) fn settle_limits(&mut self) -> Result<()> {
        let (_, priced, minimum, cap) = self.arithmetic()?;
        self.priced = priced;
        let mut amount = priced;
        if let (Some(limit), Some(basis)) = (minimum, self.minimum.as_mut()) {
            basis.applied = amount < limit;
            amount = amount.max(limit);
        }
        if let (Some(limit), Some(basis)) = (cap, self.cap.as_mut()) {
            basis.applied = amount > limit;
        }
        Ok(())
    }

    /// The count, the priced amount and the limits (prorated) the basis gives, checking the
    /// units of each tier.
    #[allow(clippy::type_complexity)]
    fn arithmetic(&self) -> Result<(u64, Decimal, Option<Decimal>, Option<Decimal>)> {
        let overflow = || Error::overflow("usage charge");
        let net: i128 = self
            .weekdays
            .iter()
            .map(|day| i128::from(day.counted) - i128::from(day.returned))
            .sum();
        let count = u64::try_from(net.max(0)).map_err(|_| Error::overflow("usage count"))?;
        let billable = count.saturating_sub(self.allowance);
        let priced = match &self.pricing {
            UsagePriceBasis::PerUnit { rate } => rate
                .checked_mul(Decimal::from(billable))
                .ok_or_else(overflow)?,
            UsagePriceBasis::ByWeekday => {
                let mut sum = Decimal::ZERO;
                for day in &self.weekdays {
                    let rate = day.rate.ok_or_else(|| {
                        Error::invalid(
                            "line_item.basis",
                            format!("{} has usage but no rate", day.weekday),
                        )
                    })?;
                    let n = i128::from(day.counted) - i128::from(day.returned);
                    sum = rate
                        .checked_mul(Decimal::from_i128_with_scale(n, 0))
                        .and_then(|v| sum.checked_add(v))
                        .ok_or_else(overflow)?;
                }
                sum.max(Decimal::ZERO)
            }
            UsagePriceBasis::Graduated { tiers } => {
                let mut sum = Decimal::ZERO;
                let mut priced_units = 0u64;
                for tier in tiers {
                    let upper = tier.up_to.map_or(billable, |up| up.min(billable));
                    let units = upper.saturating_sub(priced_units.max(tier.from.saturating_sub(1)));
                    if units != tier.units {
                        return Err(mismatch(
                            &format!("the units of the tier from {}", tier.from),
                            tier.units,
                            units,
                        ));
                    }
                    sum = tier
                        .unit_price
                        .checked_mul(Decimal::from(units))
                        .and_then(|v| sum.checked_add(v))
                        .ok_or_else(overflow)?;
                    priced_units = priced_units.max(upper);
                }
                sum
            }
            UsagePriceBasis::Volume { tiers } => {
                let mut sum = Decimal::ZERO;
                let in_tier = tiers
                    .iter()
                    .position(|t| t.up_to.is_none_or(|up| billable <= up));
                for (i, tier) in tiers.iter().enumerate() {
                    let units = if Some(i) == in_tier { billable } else { 0 };
                    if units != tier.units {
                        return Err(mismatch(
                            &format!("the units of the tier from {}", tier.from),
                            tier.units,
                            units,
                        ));
                    }
                    sum = tier
                        .unit_price
                        .checked_mul(Decimal::from(units))
                        .and_then(|v| sum.checked_add(v))
                        .ok_or_else(overflow)?;
                }
                sum
            }
        };
        let prorated = |limit: &LimitBasis| match limit.days {
            Some(days) => share(limit.amount, days.days, days.period_days),
            None => Ok(limit.amount),
        };
        let minimum = self.minimum.as_ref().map(prorated).transpose()?;
        let cap = self.cap.as_ref().map(prorated).transpose()?;
        Ok((count, priced, minimum, cap))
    }
}

/// The sum of `lines`' amounts, each rounded once.
fn sum_of<'a, T: 'a>(
    lines: impl IntoIterator<Item = &'a T>,
    currency: Currency,
    amount: impl Fn(&T, Currency) -> Result<Money>,
) -> Result<Money> {
    let amounts = lines
        .into_iter()
        .map(|line| amount(line, currency))
        .collect::<Result<Vec<_>>>()?;
    Money::checked_sum(currency, amounts)
}

impl ChangeBasis {
    /// What the charge was due before the change.
    pub fn due_before(&self, currency: Currency) -> Result<Money> {
        sum_of(&self.before, currency, RecurringBasis::amount)
    }

    /// What the charge is due after it.
    pub fn due_after(&self, currency: Currency) -> Result<Money> {
        sum_of(&self.after, currency, RecurringBasis::amount)
    }

    /// `|due after - due before| - netted`.
    pub fn amount(&self, currency: Currency) -> Result<Money> {
        let difference = self
            .due_after(currency)?
            .checked_sub(self.due_before(currency)?)?;
        let magnitude = Money::from_minor(difference.minor().abs(), currency);
        magnitude.checked_sub(Money::exact_from_major(
            self.netted,
            currency,
            "line_item.basis.netted",
        )?)
    }

    /// Whether the change raised what the period owes (an increase) rather than lowered it.
    pub fn is_increase(&self, currency: Currency) -> Result<bool> {
        Ok(self.due_after(currency)?.minor() > self.due_before(currency)?.minor())
    }
}

impl LateUsageBasis {
    /// What the usage charges owe now, each line rounded once.
    pub fn owed_now(&self, currency: Currency) -> Result<Money> {
        sum_of(&self.now, currency, UsageBasis::amount)
    }

    /// What they were billed.
    pub fn owed_billed(&self, currency: Currency) -> Result<Money> {
        sum_of(&self.billed, currency, UsageBasis::amount)
    }

    /// `|owed now - billed|`.
    pub fn amount(&self, currency: Currency) -> Result<Money> {
        let difference = self
            .owed_now(currency)?
            .checked_sub(self.owed_billed(currency)?)?;
        Ok(Money::from_minor(difference.minor().abs(), currency))
    }
}

impl CreditBasis {
    /// All the line has left, the amount asked, or its share of the amount requested.
    pub fn amount(&self, currency: Currency) -> Result<Money> {
        let exact = |value: Decimal, field: &str| Money::exact_from_major(value, currency, field);
        let left = exact(self.line_amount, "line_item.basis.line_amount")?.checked_sub(exact(
            self.credited_before,
            "line_item.basis.credited_before",
        )?)?;
        let amount = match &self.credited {
            Credited::Rest => left,
            Credited::Asked { amount } => exact(*amount, "line_item.basis.credited.amount")?,
            Credited::Share {
                requested,
                weight,
                total_weight,
                remainder,
            } => {
                let requested = exact(*requested, "line_item.basis.credited.requested")?;
                let weight = exact(*weight, "line_item.basis.credited.weight")?;
                let total = exact(*total_weight, "line_item.basis.credited.total_weight")?;
                if total.minor() <= 0 {
                    return Err(Error::invalid(
                        "line_item.basis.credited.total_weight",
                        "must be above zero",
                    ));
                }
                if weight != left {
                    return Err(mismatch(
                        "the line's weight",
                        weight.to_major(),
                        left.to_major(),
                    ));
                }
                let floor = i128::from(requested.minor()) * i128::from(weight.minor())
                    / i128::from(total.minor());
                let floor = i64::try_from(floor).map_err(|_| Error::overflow("a credit share"))?;
                Money::from_minor(floor, currency)
                    .checked_add(exact(*remainder, "line_item.basis.credited.remainder")?)?
            }
        };
        if amount.minor() > left.minor() {
            return Err(mismatch(
                "the credited amount (at most what the line has left)",
                amount.to_major(),
                left.to_major(),
            ));
        }
        Ok(amount)
    }
}

#[cfg(test)]
mod tests;
