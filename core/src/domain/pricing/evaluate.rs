//! Deterministic evaluation of a pricing program for one period: the only place that decides what
//! a period costs. Intermediate values are exact decimals; each line item is rounded once, half
//! away from zero, by [`Money::round_from_major`].

use rust_decimal::Decimal;
use serde::Serialize;

use super::{
    Phase, PricingProgram, RecurringCharge, ReturnsPolicy, StepChange, Tier, UsageCharge,
    UsageMetric, UsagePricing, WEEKDAY_NAMES,
};
use crate::error::{Error, Result};
use crate::money::Money;
use crate::usage::PeriodUsage;

/// Which kind of charge a line item comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ChargeKind {
    /// A recurring (flat or base) fee.
    Recurring,
    /// A usage charge.
    Usage,
}

/// One priced line of a period's invoice, rounded to the minor unit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PricedLine {
    /// What the line is for, with the period or the count it priced.
    pub description: String,
    /// Recurring or usage.
    pub kind: ChargeKind,
    /// The amount.
    #[serde(serialize_with = "crate::money::serialize_major")]
    pub amount: Money,
}

impl PricingProgram {
    /// Prices period `period_index` (1-based) for a subscription of `quantity` copies with `usage`.
    /// Returns one line per recurring charge still running and one per usage charge. Usage on a
    /// weekday the program gives no price for is [`Error::UsageNotPriced`].
    pub fn evaluate(
        &self,
        period_index: u32,
        quantity: u32,
        usage: &PeriodUsage,
    ) -> Result<Vec<PricedLine>> {
        if period_index == 0 {
            return Err(Error::invalid("period_index", "periods are counted from 1"));
        }
        let mut lines = Vec::with_capacity(self.recurring.len() + self.usage.len());
        for charge in &self.recurring {
            if let Some(price) = recurring_price(charge, period_index)? {
                let amount = price
                    .checked_mul(Decimal::from(quantity))
                    .ok_or_else(|| Error::overflow("recurring charge x quantity"))?;
                let mut description = format!(
                    "{} ({} {period_index})",
                    charge.description,
                    self.period_noun()
                );
                if quantity != 1 {
                    description.push_str(&format!(", {quantity} x {}", price.normalize()));
                }
                lines.push(PricedLine {
                    description,
                    kind: ChargeKind::Recurring,
                    amount: Money::round_from_major(amount, self.currency)?,
                });
            }
        }
        for charge in &self.usage {
            let (amount, count) = usage_amount(charge, usage)?;
            let noun = match (charge.metric, count) {
                (UsageMetric::Shipments, 1) => "shipment",
                (UsageMetric::Shipments, _) => "shipments",
                (UsageMetric::Units, 1) => "unit",
                (UsageMetric::Units, _) => "units",
            };
            lines.push(PricedLine {
                description: format!("{} ({count} {noun})", charge.description),
                kind: ChargeKind::Usage,
                amount: Money::round_from_major(amount, self.currency)?,
            });
        }
        Ok(lines)
    }

    /// "month", "week", ... for one-unit intervals, "period" otherwise.
    pub(crate) fn period_noun(&self) -> &'static str {
        if self.interval.count == 1 {
            self.interval.unit.label()
        } else {
            "period"
        }
    }
}

/// The price per copy of `charge` in period `k`, or `None` once the charge has ended.
pub(crate) fn recurring_price(charge: &RecurringCharge, k: u32) -> Result<Option<Decimal>> {
    let Some(phase) = charge
        .phases
        .iter()
        .find(|p| p.from_period <= k && p.to_period.is_none_or(|to| k <= to))
    else {
        return Ok(None);
    };
    phase_price(phase, k).map(Some)
}

fn phase_price(phase: &Phase, k: u32) -> Result<Decimal> {
    let overflow = || Error::overflow("stepped recurring price");
    let mut price = phase.amount;
    if let Some(step) = &phase.step {
        let steps = (k - phase.from_period) / step.every_periods;
        match step.change {
            StepChange::Amount(delta) => {
                price = delta
                    .checked_mul(Decimal::from(steps))
                    .and_then(|d| price.checked_add(d))
                    .ok_or_else(overflow)?;
            }
            StepChange::Percent(percent) => {
                let factor = Decimal::ONE + percent / Decimal::ONE_HUNDRED;
                for _ in 0..steps {
                    price = price.checked_mul(factor).ok_or_else(overflow)?;
                    let past_ceiling = phase
                        .ceiling
                        .is_some_and(|c| factor > Decimal::ONE && price >= c);
                    let past_floor = phase
                        .floor
                        .is_some_and(|f| factor < Decimal::ONE && price <= f);
                    if past_ceiling || past_floor || price.is_zero() {
                        break;
                    }
                }
            }
        }
    }
    if let Some(ceiling) = phase.ceiling {
        price = price.min(ceiling);
    }
    if let Some(floor) = phase.floor {
        price = price.max(floor);
    }
    price = price.max(Decimal::ZERO);
    if let Some(discount) = phase.discount_percent {
        price = price * (Decimal::ONE_HUNDRED - discount) / Decimal::ONE_HUNDRED;
    }
    Ok(price)
}

/// The unrounded amount of a usage charge and the count it priced.
fn usage_amount(charge: &UsageCharge, usage: &PeriodUsage) -> Result<(Decimal, u64)> {
    let (counted, returned) = match charge.metric {
        UsageMetric::Shipments => (usage.shipments, usage.returned_shipments),
        UsageMetric::Units => (usage.units, usage.returned_units),
    };
    let returned = match charge.returns {
        ReturnsPolicy::Ignored => [0; 7],
        ReturnsPolicy::Credited => returned,
    };
    // Net count per weekday; a return may belong to a shipment of an earlier period, so a weekday
    // can go negative here. The period's count as a whole never does.
    let net: [i128; 7] = std::array::from_fn(|d| i128::from(counted[d]) - i128::from(returned[d]));
    let total = u64::try_from(net.iter().sum::<i128>().max(0))
        .map_err(|_| Error::overflow("usage count"))?;
    let overflow = || Error::overflow("usage charge");

    let mut amount = match &charge.pricing {
        UsagePricing::PerUnit { rates } => match rates.single_rate() {
            Some(rate) => rate
                .checked_mul(Decimal::from(total.saturating_sub(charge.allowance)))
                .ok_or_else(overflow)?,
            None => {
                let mut sum = Decimal::ZERO;
                for d in 0..7 {
                    if counted[d] == 0 && returned[d] == 0 {
                        continue;
                    }
                    let Some(rate) = rates.0[d] else {
                        return Err(Error::UsageNotPriced {
                            reason: format!(
                                "the period has {} {} on {}s, and the plan prompt gives no {} price",
                                counted[d],
                                if charge.metric == UsageMetric::Units {
                                    "units"
                                } else {
                                    "shipments"
                                },
                                capitalised(WEEKDAY_NAMES[d]),
                                capitalised(WEEKDAY_NAMES[d]),
                            ),
                        });
                    };
                    let n = Decimal::from_i128_with_scale(net[d], 0);
                    sum = rate
                        .checked_mul(n)
                        .and_then(|v| sum.checked_add(v))
                        .ok_or_else(overflow)?;
                }
                sum.max(Decimal::ZERO)
            }
        },
        UsagePricing::Graduated { tiers } => {
            graduated(tiers, total.saturating_sub(charge.allowance))?
        }
        UsagePricing::Volume { tiers } => {
            let count = total.saturating_sub(charge.allowance);
            let tier = tiers
                .iter()
                .find(|t| t.up_to.is_none_or(|up| count <= up))
                .ok_or_else(|| {
                    Error::invalid(
                        "program.usage.pricing.tiers",
                        "tiers must end with an open-ended tier",
                    )
                })?;
            tier.unit_price
                .checked_mul(Decimal::from(count))
                .ok_or_else(overflow)?
        }
    };
    if let Some(minimum) = charge.minimum {
        amount = amount.max(minimum);
    }
    if let Some(cap) = charge.cap {
        amount = amount.min(cap);
    }
    Ok((amount, total))
}

fn graduated(tiers: &[Tier], count: u64) -> Result<Decimal> {
    let mut amount = Decimal::ZERO;
    let mut priced = 0u64;
    for tier in tiers {
        if priced >= count {
            break;
        }
        let upper = tier.up_to.map_or(count, |up| up.min(count));
        let in_tier = upper.saturating_sub(priced);
        amount = tier
            .unit_price
            .checked_mul(Decimal::from(in_tier))
            .and_then(|v| amount.checked_add(v))
            .ok_or_else(|| Error::overflow("graduated usage charge"))?;
        priced = upper;
    }
    Ok(amount)
}

fn capitalised(word: &str) -> String {
    let mut chars = word.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}
