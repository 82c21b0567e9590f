//! Deterministic evaluation of a pricing program for one period: the only place that decides what
//! a period costs. Intermediate values are exact decimals; each line item is rounded once, half
//! away from zero, by [`Money::round_from_major`].

use rust_decimal::Decimal;
use serde::Serialize;

use super::{
    Phase, PricingProgram, RecurringCharge, ReturnsPolicy, Tier, UsageCharge, UsageMetric,
    UsagePricing, WEEKDAY_NAMES,
};
use crate::basis::{
    DaysBasis, LimitBasis, LineBasis, PriceBasis, RecurringBasis, StepBasis, TierBasis, UsageBasis,
    UsagePriceBasis, WeekdayCount, capitalised,
};
use crate::error::{Error, Result};
use crate::money::Money;
use crate::proration::{Segment, Served};
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
    /// How the amount was reached (absent only on lines carried from before bases were kept).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub basis: Option<LineBasis>,
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
        self.usage_lines(period_index, usage, None, &mut lines)?;
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
        self.usage_lines(period_index, usage, Some(served), &mut lines)?;
        Ok(lines)
    }

    /// The usage lines of period `period_index`, which `served` those days with `usage`, as
    /// [`PricingProgram::evaluate_served`] prices them: what late usage is settled on.
    pub fn usage_due(
        &self,
        period_index: u32,
        served: &Served,
        usage: &PeriodUsage,
    ) -> Result<Vec<PricedLine>> {
        let mut lines = Vec::with_capacity(self.usage.len());
        let prorated = served.whole_at().is_none().then_some(served);
        self.usage_lines(period_index, usage, prorated, &mut lines)?;
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
                    .map(|segment| {
                        self.segment_line(charge, period_index, price.clone(), segment, served)
                    })
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
        price: PriceBasis,
        quantity: u32,
    ) -> Result<PricedLine> {
        let mut description = format!(
            "{} ({} {period_index})",
            charge.description,
            self.period_noun()
        );
        if quantity != 1 {
            description.push_str(&format!(", {quantity} x {}", price.unit_price.normalize()));
        }
        self.recurring_line(charge, period_index, price, quantity, None, description)
    }

    /// The line of a recurring charge for the days of one segment of a period.
    fn segment_line(
        &self,
        charge: &RecurringCharge,
        period_index: u32,
        price: PriceBasis,
        segment: &Segment,
        served: &Served,
    ) -> Result<PricedLine> {
        let quantity = segment.quantity.get();
        let mut description = format!(
            "{} ({} {period_index}), {} of {} days",
            charge.description,
            self.period_noun(),
            segment.days,
            served.period_days
        );
        if quantity != 1 {
            description.push_str(&format!(
                " at {quantity} x {}",
                price.unit_price.normalize()
            ));
        }
        let days = DaysBasis {
            days: segment.days,
            period_days: served.period_days,
        };
        self.recurring_line(
            charge,
            period_index,
            price,
            quantity,
            Some(days),
            description,
        )
    }

    /// A recurring line, its amount computed from its basis.
    fn recurring_line(
        &self,
        charge: &RecurringCharge,
        period_index: u32,
        price: PriceBasis,
        quantity: u32,
        days: Option<DaysBasis>,
        description: String,
    ) -> Result<PricedLine> {
        let basis = RecurringBasis {
            charge: charge.description.clone(),
            period_index,
            period_noun: self.period_noun().to_owned(),
            price,
            quantity,
            days,
        };
        Ok(PricedLine {
            description,
            kind: ChargeKind::Recurring,
            amount: basis.amount(self.currency)?,
            basis: Some(LineBasis::Recurring(basis)),
        })
    }

    /// One line per usage charge, its minimum and cap prorated by the days `served` (whole when
    /// `None`).
    fn usage_lines(
        &self,
        period_index: u32,
        usage: &PeriodUsage,
        served: Option<&Served>,
        lines: &mut Vec<PricedLine>,
    ) -> Result<()> {
        for charge in &self.usage {
            let basis = usage_basis(charge, period_index, usage, served)?;
            let noun = match (charge.metric, basis.count) {
                (UsageMetric::Shipments, 1) => "shipment",
                (UsageMetric::Shipments, _) => "shipments",
                (UsageMetric::Units, 1) => "unit",
                (UsageMetric::Units, _) => "units",
            };
            lines.push(PricedLine {
                description: format!("{} ({} {noun})", charge.description, basis.count),
                kind: ChargeKind::Usage,
                amount: basis.amount(self.currency)?,
                basis: Some(LineBasis::Usage(basis)),
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

/// The price per copy of `charge` in period `k`, with its arithmetic, or `None` once the charge
/// has ended.
pub(crate) fn recurring_price(charge: &RecurringCharge, k: u32) -> Result<Option<PriceBasis>> {
    let Some(phase) = charge
        .phases
        .iter()
        .find(|p| p.from_period <= k && p.to_period.is_none_or(|to| k <= to))
    else {
        return Ok(None);
    };
    phase_price(phase, k).map(Some)
}

fn phase_price(phase: &Phase, k: u32) -> Result<PriceBasis> {
    let step = phase.step.as_ref().map(|step| StepBasis {
        steps: (k - phase.from_period) / step.every_periods,
        every_periods: step.every_periods,
        change: step.change,
    });
    PriceBasis::of(
        phase.amount,
        step,
        phase.ceiling,
        phase.floor,
        phase.discount_percent,
    )
}

/// The basis of a usage charge for a period: its counts per weekday, returns, allowance, tiers,
/// and its minimum and cap prorated by the days `served` when the period was not served whole.
fn usage_basis(
    charge: &UsageCharge,
    period_index: u32,
    usage: &PeriodUsage,
    served: Option<&Served>,
) -> Result<UsageBasis> {
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
    let count = u64::try_from(net.iter().sum::<i128>().max(0))
        .map_err(|_| Error::overflow("usage count"))?;
    let billable = count.saturating_sub(charge.allowance);
    let single_rate = match &charge.pricing {
        UsagePricing::PerUnit { rates } => rates.single_rate(),
        _ => None,
    };
    let mut weekdays = Vec::new();
    for d in 0..7 {
        if counted[d] == 0 && returned[d] == 0 {
            continue;
        }
        let rate = match &charge.pricing {
            UsagePricing::PerUnit { rates } if single_rate.is_none() => {
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
                Some(rate)
            }
            _ => None,
        };
        weekdays.push(WeekdayCount {
            weekday: WEEKDAY_NAMES[d].to_owned(),
            counted: counted[d],
            returned: returned[d],
            rate,
        });
    }
    let tiers_of = |tiers: &[Tier], units: &dyn Fn(usize, u64, Option<u64>) -> u64| {
        let mut from = 1u64;
        tiers
            .iter()
            .enumerate()
            .map(|(i, tier)| {
                let basis = TierBasis {
                    from,
                    up_to: tier.up_to,
                    unit_price: tier.unit_price,
                    units: units(i, from, tier.up_to),
                };
                from = tier.up_to.map_or(from, |up| up.saturating_add(1));
                basis
            })
            .collect::<Vec<_>>()
    };
    let pricing = match &charge.pricing {
        UsagePricing::PerUnit { .. } => match single_rate {
            Some(rate) => UsagePriceBasis::PerUnit { rate },
            None => UsagePriceBasis::ByWeekday,
        },
        UsagePricing::Graduated { tiers } => UsagePriceBasis::Graduated {
            tiers: tiers_of(tiers, &|_, from, up_to| {
                let upper = up_to.map_or(billable, |up| up.min(billable));
                upper.saturating_sub(from.saturating_sub(1))
            }),
        },
        UsagePricing::Volume { tiers } => {
            let in_tier = tiers
                .iter()
                .position(|t| t.up_to.is_none_or(|up| billable <= up))
                .ok_or_else(|| {
                    Error::invalid(
                        "program.usage.pricing.tiers",
                        "tiers must end with an open-ended tier",
                    )
                })?;
            UsagePriceBasis::Volume {
                tiers: tiers_of(tiers, &|i, _, _| if i == in_tier { billable } else { 0 }),
            }
        }
    };
    let days = served.map(|served| DaysBasis {
        days: served.served_days(),
        period_days: served.period_days,
    });
    let limit = |amount: Option<Decimal>| {
        amount.map(|amount| LimitBasis {
            amount,
            days,
            applied: false,
        })
    };
    let mut basis = UsageBasis {
        charge: charge.description.clone(),
        period_index,
        metric: charge.metric,
        returns: charge.returns,
        weekdays,
        count,
        allowance: charge.allowance,
        pricing,
        priced: Decimal::ZERO,
        minimum: limit(charge.minimum),
        cap: limit(charge.cap),
    };
    basis.settle_limits()?;
    Ok(basis)
}
