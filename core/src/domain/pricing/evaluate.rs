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
use crate::proration::{Segment, Served, share};
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
                lines.push(self.whole_line(charge, period_index, price, quantity)?);
            }
        }
        self.usage_lines(usage, None, &mut lines)?;
        Ok(lines)
    }

    /// Prices period `period_index` for the days it `served`: a period served whole at one
    /// quantity exactly as [`PricingProgram::evaluate`]; otherwise each recurring charge has one
    /// line per segment, `round(price x quantity x days / period_days)`, and the usage minimums
    /// and caps are prorated by the served days (usage itself is what the period's usage holds).
    pub fn evaluate_served(
        &self,
        period_index: u32,
        served: &Served,
        usage: &PeriodUsage,
    ) -> Result<Vec<PricedLine>> {
        if let Some(quantity) = served.whole_at() {
            return self.evaluate(period_index, quantity.get(), usage);
        }
        if period_index == 0 {
            return Err(Error::invalid("period_index", "periods are counted from 1"));
        }
        let mut lines: Vec<PricedLine> = self
            .recurring_due(period_index, served)?
            .into_iter()
            .flat_map(|(_, lines)| lines)
            .collect();
        self.usage_lines(usage, Some(served), &mut lines)?;
        Ok(lines)
    }

    /// The usage lines of a period that `served` those days with `usage`, as
    /// [`PricingProgram::evaluate_served`] prices them: what late usage is settled on.
    pub fn usage_due(&self, served: &Served, usage: &PeriodUsage) -> Result<Vec<PricedLine>> {
        let mut lines = Vec::with_capacity(self.usage.len());
        let prorated = served.whole_at().is_none().then_some(served);
        self.usage_lines(usage, prorated, &mut lines)?;
        Ok(lines)
    }

    /// The recurring lines due for the days `served` of period `period_index`, by charge (its
    /// index in the program, and its lines: one per segment, or one for a period served whole).
    /// What a change settles on a period already billed is the difference of these sums.
    pub fn recurring_due(
        &self,
        period_index: u32,
        served: &Served,
    ) -> Result<Vec<(usize, Vec<PricedLine>)>> {
        let mut due = Vec::with_capacity(self.recurring.len());
        for (index, charge) in self.recurring.iter().enumerate() {
            let Some(price) = recurring_price(charge, period_index)? else {
                continue;
            };
            let lines = match served.whole_at() {
                Some(quantity) => {
                    vec![self.whole_line(charge, period_index, price, quantity.get())?]
                }
                None => served
                    .segments
                    .iter()
                    .map(|segment| self.segment_line(charge, period_index, price, segment, served))
                    .collect::<Result<_>>()?,
            };
            due.push((index, lines));
        }
        Ok(due)
    }

    /// The line of a recurring charge for a whole period at `quantity`.
    fn whole_line(
        &self,
        charge: &RecurringCharge,
        period_index: u32,
        price: Decimal,
        quantity: u32,
    ) -> Result<PricedLine> {
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
        Ok(PricedLine {
            description,
            kind: ChargeKind::Recurring,
            amount: Money::round_from_major(amount, self.currency)?,
        })
    }

    /// The line of a recurring charge for the days of one segment of a period.
    fn segment_line(
        &self,
        charge: &RecurringCharge,
        period_index: u32,
        price: Decimal,
        segment: &Segment,
        served: &Served,
    ) -> Result<PricedLine> {
        let quantity = segment.quantity.get();
        let amount = price
            .checked_mul(Decimal::from(quantity))
            .ok_or_else(|| Error::overflow("recurring charge x quantity"))?;
        let mut description = format!(
            "{} ({} {period_index}), {} of {} days",
            charge.description,
            self.period_noun(),
            segment.days,
            served.period_days
        );
        if quantity != 1 {
            description.push_str(&format!(" at {quantity} x {}", price.normalize()));
        }
        Ok(PricedLine {
            description,
            kind: ChargeKind::Recurring,
            amount: Money::round_from_major(
                share(amount, segment.days, served.period_days)?,
                self.currency,
            )?,
        })
    }

    /// One line per usage charge, its minimum and cap prorated by the days `served` (whole when
    /// `None`).
    fn usage_lines(
        &self,
        usage: &PeriodUsage,
        served: Option<&Served>,
        lines: &mut Vec<PricedLine>,
    ) -> Result<()> {
        for charge in &self.usage {
            let (amount, count) = usage_amount(charge, usage, served)?;
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
        Ok(())
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

/// The unrounded amount of a usage charge and the count it priced; its minimum and cap are
/// prorated by the days `served` when the period was not served whole.
fn usage_amount(
    charge: &UsageCharge,
    usage: &PeriodUsage,
    served: Option<&Served>,
) -> Result<(Decimal, u64)> {
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
    let prorated = |limit: Decimal| match served {
        Some(served) => served.share_of(limit),
        None => Ok(limit),
    };
    if let Some(minimum) = charge.minimum {
        amount = amount.max(prorated(minimum)?);
    }
    if let Some(cap) = charge.cap {
        amount = amount.min(prorated(cap)?);
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
