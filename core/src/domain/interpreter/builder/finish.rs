//! Finishing the program: every draft becomes a phase or a usage charge, the bounds and returns
//! are attached, and what is still ambiguous or incomplete (a day without a price) is refused.

use crate::error::{Error, Result};
use crate::pricing::{
    Phase, PricingProgram, RecurringCharge, Tier, UsageCharge, UsageMetric, UsagePricing,
    WeekdayRates,
};

use super::{BoundKind, Builder, PhaseDraft, TierDraft, refuse};

impl Builder<'_> {
    pub(in super::super) fn finish(mut self) -> Result<PricingProgram> {
        let mut program = PricingProgram::new(self.ctx.currency, self.ctx.interval);
        if let Some(name) = &self.pending_name {
            return refuse(format!(
                "\"{}\" is named but given no price: say what it costs",
                name.text
            ));
        }

        // Volume pricing from a condition.
        if let Some((t, metric)) = self.threshold {
            let (Some(high), Some(low)) = (self.volume_high, self.volume_low) else {
                return refuse(
                    "a condition on the count needs a price when it holds and one otherwise",
                );
            };
            let idx = self.usage_draft(metric)?;
            let draft = &mut self.usage[idx];
            if !draft.tiers.is_empty()
                || draft.default_rate.is_some()
                || draft.day_rates.iter().any(Option::is_some)
            {
                return refuse("a volume condition mixed with other prices for the same usage");
            }
            draft.volume = true;
            draft.tiers = vec![
                TierDraft {
                    from: 1,
                    to: Some(t.up_to),
                    price: low,
                },
                TierDraft {
                    from: t.up_to + 1,
                    to: None,
                    price: high,
                },
            ];
        }

        // Minimums and caps.
        for (kind, value, usage_cue) in std::mem::take(&mut self.bounds) {
            let target = if self.usage.len() == 1 && (usage_cue || self.phases.is_empty()) {
                0
            } else if self.usage.is_empty() {
                return refuse(match kind {
                    BoundKind::Cap => "a maximum on a fixed price: say what rises to it",
                    BoundKind::Minimum => "a minimum on a fixed price: say what falls to it",
                });
            } else {
                return refuse(
                    "say which charge the minimum or maximum applies to (for example \"a usage minimum of $15\")",
                );
            };
            let slot = match kind {
                BoundKind::Minimum => &mut self.usage[target].minimum,
                BoundKind::Cap => &mut self.usage[target].cap,
            };
            if slot.is_some() {
                return refuse("two minimums or two maximums for one charge");
            }
            *slot = Some(value);
        }

        // Recurring charge.
        if !self.phases.is_empty() {
            let n = self.phases.len();
            for i in 0..n {
                if self.phases[i].amount.is_none() {
                    let borrowed = self.phases[i + 1..]
                        .iter()
                        .chain(self.phases[..i].iter().rev())
                        .find_map(|p| p.amount);
                    let Some(amount) = borrowed else {
                        return refuse("a discount with no price to discount");
                    };
                    self.phases[i].amount = Some(amount);
                }
            }
            if let Some(last) = self.phases.last().cloned()
                && let Some(to) = last.to
            {
                if last.discount.is_some() {
                    // "20% off the first 3 months of a $25 monthly plan": full price afterwards
                    self.phases.push(PhaseDraft {
                        from: to + 1,
                        to: None,
                        discount: None,
                        ..last
                    });
                } else {
                    return refuse(format!(
                        "the prompt gives no price after {} {to}: say what is billed from then on",
                        self.ctx.interval.unit.label()
                    ));
                }
            }
            let phases = self
                .phases
                .iter()
                .map(|p| Phase {
                    from_period: p.from,
                    to_period: p.to,
                    amount: p.amount.expect("filled above"),
                    step: p.step.clone(),
                    floor: p.floor,
                    ceiling: p.ceiling,
                    discount_percent: p.discount,
                })
                .collect();
            program.recurring.push(RecurringCharge {
                description: self
                    .recurring_name
                    .take()
                    .unwrap_or_else(|| "Base charge".into()),
                phases,
            });
        }

        // Usage charges.
        let returns = self.returns.unwrap_or_default();
        if self.returns.is_some() && self.usage.is_empty() {
            return refuse("returns are mentioned but nothing is billed on usage");
        }
        for draft in self.usage {
            let Some(metric) = draft.metric else {
                return refuse("say what is counted: shipments, deliveries or copies delivered");
            };
            let any_days = draft.day_rates.iter().any(Option::is_some);
            let mut allowance = 0u64;
            let pricing = if draft.tiers.is_empty() {
                let rates = WeekdayRates(std::array::from_fn(|d| {
                    draft.day_rates[d].or(draft.default_rate)
                }));
                UsagePricing::PerUnit { rates }
            } else {
                let mut tiers = draft.tiers.clone();
                if any_days {
                    if tiers.len() == 1
                        && tiers[0].from == 1
                        && tiers[0].price.is_zero()
                        && !draft.volume
                    {
                        allowance = tiers[0].to.unwrap_or(0);
                        tiers.clear();
                    } else {
                        return refuse(
                            "tiers with weekday prices are ambiguous: price tiers or weekdays, not both",
                        );
                    }
                }
                if tiers.is_empty() {
                    UsagePricing::PerUnit {
                        rates: WeekdayRates(std::array::from_fn(|d| {
                            draft.day_rates[d].or(draft.default_rate)
                        })),
                    }
                } else {
                    if tiers.last().is_some_and(|t| t.to.is_some()) {
                        match draft.default_rate {
                            Some(rate) => {
                                let from = tiers.last().and_then(|t| t.to).expect("checked") + 1;
                                tiers.push(TierDraft {
                                    from,
                                    to: None,
                                    price: rate,
                                });
                            }
                            None => {
                                let end = tiers.last().and_then(|t| t.to).expect("checked");
                                return refuse(format!("say what units beyond {end} cost"));
                            }
                        }
                    } else if draft.default_rate.is_some() {
                        return refuse(
                            "a flat usage price beside tiers: say which tier it belongs to",
                        );
                    }
                    let free_first = tiers.len() == 2 && tiers[0].price.is_zero() && !draft.volume;
                    if free_first {
                        allowance = tiers[0].to.expect("first tier is bounded");
                        UsagePricing::PerUnit {
                            rates: WeekdayRates::uniform(tiers[1].price),
                        }
                    } else {
                        let tiers = tiers
                            .iter()
                            .map(|t| Tier {
                                up_to: t.to,
                                unit_price: t.price,
                            })
                            .collect();
                        if draft.volume {
                            UsagePricing::Volume { tiers }
                        } else {
                            UsagePricing::Graduated { tiers }
                        }
                    }
                }
            };
            if let UsagePricing::PerUnit { rates } = &pricing {
                refuse_unpriced_days(rates, metric)?;
            }
            let description = draft.name.clone().unwrap_or_else(|| {
                match metric {
                    UsageMetric::Shipments => "Usage (Shipment) charge",
                    UsageMetric::Units => "Usage (Unit) charge",
                }
                .into()
            });
            program.usage.push(UsageCharge {
                description,
                metric,
                pricing,
                returns,
                allowance,
                minimum: draft.minimum,
                cap: draft.cap,
            });
        }

        match (self.arrears, program.usage.is_empty()) {
            (Some(true), true) => {
                return refuse(
                    "flat and step-up plans are billed in advance; \"in arrears\" applies to usage-based plans",
                );
            }
            (Some(false), false) => {
                return refuse(
                    "usage-based plans are billed in arrears, for the period's usage; \"in advance\" cannot apply",
                );
            }
            _ => {}
        }
        if program.recurring.is_empty() && program.usage.is_empty() {
            return refuse("no charge could be read from the prompt");
        }
        program.validate().map_err(|e| match e {
            Error::InvalidInput { field, reason } => {
                Error::not_understood(format!("{field} {reason}"))
            }
            other => other,
        })?;
        Ok(program)
    }
}

/// A usage charge priced by day must price every day, or say the others are free or not billed
/// (the conventions): refused here, when the plan is saved, naming the days and how to say them,
/// rather than at the first renewal that has usage on such a day.
fn refuse_unpriced_days(rates: &WeekdayRates, metric: UsageMetric) -> Result<()> {
    const DAYS: [&str; 7] = [
        "Monday",
        "Tuesday",
        "Wednesday",
        "Thursday",
        "Friday",
        "Saturday",
        "Sunday",
    ];
    let missing: Vec<&str> = DAYS
        .iter()
        .zip(rates.0)
        .filter(|(_, rate)| rate.is_none())
        .map(|(day, _)| *day)
        .collect();
    let Some((last, rest)) = missing.split_last() else {
        return Ok(());
    };
    let days = if rest.is_empty() {
        (*last).to_owned()
    } else {
        format!("{} and {last}", rest.join(", "))
    };
    let noun = match metric {
        UsageMetric::Shipments => "deliveries",
        UsageMetric::Units => "copies",
    };
    refuse(format!(
        "{days} {noun} have no price: say what {days} {noun} cost, or that they are not billed (for example \"other days are not billed\")"
    ))
}
