//! A plain-English reading of a pricing program, shown to the admin beside the prompt so they can
//! check what will be billed before any customer is.

use rust_decimal::Decimal;

use super::{
    InvoiceTiming, Phase, PricingProgram, ReturnsPolicy, StepChange, Tier, UsageCharge,
    UsageMetric, UsagePricing, WEEKDAY_NAMES,
};

impl PricingProgram {
    /// The program in plain English, one sentence per line.
    pub fn describe(&self) -> String {
        let unit = self.interval.unit.label();
        let every = if self.interval.count == 1 {
            format!("every {unit}")
        } else {
            format!("every {} {unit}s", self.interval.count)
        };
        let mut out = vec![match self.invoice_timing() {
            InvoiceTiming::AtStart => format!(
                "Billed {every} in advance: each invoice is issued at the start of its period, the first at subscription start."
            ),
            InvoiceTiming::AtRenewal => format!(
                "Billed {every} in arrears: each invoice is issued at the end of its period, for that period's usage."
            ),
        }];
        for charge in &self.recurring {
            let phases: Vec<String> = charge
                .phases
                .iter()
                .map(|p| self.describe_phase(p))
                .collect();
            out.push(format!(
                "{}, per subscribed copy: {}.",
                charge.description,
                phases.join("; then ")
            ));
        }
        for charge in &self.usage {
            out.push(self.describe_usage(charge));
        }
        out.join("\n")
    }

    fn money(&self, amount: Decimal) -> String {
        let exponent = self.currency.exponent();
        let rounded = amount.round_dp(exponent.max(amount.normalize().scale()));
        let shown = if rounded.scale() < exponent {
            let mut r = rounded;
            r.rescale(exponent);
            r
        } else {
            rounded
        };
        format!("{} {}", shown, self.currency.code())
    }

    fn periods(&self, n: u32) -> String {
        let unit = if self.interval.count == 1 {
            self.interval.unit.label()
        } else {
            "period"
        };
        if n == 1 {
            unit.to_string()
        } else {
            format!("{n} {unit}s")
        }
    }

    fn describe_phase(&self, phase: &Phase) -> String {
        let noun = self.period_noun();
        let span = match phase.to_period {
            Some(to) if to == phase.from_period => format!("in {noun} {to}"),
            Some(to) => format!("in {noun}s {} to {to}", phase.from_period),
            None if phase.from_period == 1 => format!("each {noun}"),
            None => format!("from {noun} {} on", phase.from_period),
        };
        let mut text = if phase.amount.is_zero() && phase.step.is_none() {
            format!("free {span}")
        } else {
            format!("{} {span}", self.money(phase.amount))
        };
        if let Some(step) = &phase.step {
            let when = format!("every {}", self.periods(step.every_periods));
            text.push_str(&match step.change {
                StepChange::Amount(d) if d.is_sign_negative() => {
                    format!(", falling by {} {when}", self.money(-d))
                }
                StepChange::Amount(d) => format!(", rising by {} {when}", self.money(d)),
                StepChange::Percent(p) if p.is_sign_negative() => {
                    format!(", falling by {}% {when}", (-p).normalize())
                }
                StepChange::Percent(p) => format!(", rising by {}% {when}", p.normalize()),
            });
        }
        if let Some(ceiling) = phase.ceiling {
            text.push_str(&format!(", up to at most {}", self.money(ceiling)));
        }
        if let Some(floor) = phase.floor {
            text.push_str(&format!(", never below {}", self.money(floor)));
        }
        if let Some(discount) = phase.discount_percent {
            text.push_str(&format!(", less {}%", discount.normalize()));
        }
        text
    }

    fn describe_usage(&self, charge: &UsageCharge) -> String {
        let what = match charge.metric {
            UsageMetric::Shipments => "shipment",
            UsageMetric::Units => "unit shipped",
        };
        let mut text = format!("{}: ", charge.description);
        match &charge.pricing {
            UsagePricing::PerUnit { rates } => match rates.single_rate() {
                Some(rate) => text.push_str(&format!("{} per {what}", self.money(rate))),
                None => {
                    let mut groups: Vec<(Decimal, Vec<&str>)> = Vec::new();
                    for (day, rate) in WEEKDAY_NAMES.iter().zip(rates.0) {
                        let Some(rate) = rate else { continue };
                        match groups.iter_mut().find(|(r, _)| *r == rate) {
                            Some((_, days)) => days.push(day),
                            None => groups.push((rate, vec![day])),
                        }
                    }
                    let parts: Vec<String> = groups
                        .iter()
                        .map(|(r, days)| {
                            format!("{} per {what} on {}", self.money(*r), days.join(", "))
                        })
                        .collect();
                    text.push_str(&parts.join(", "));
                    let unpriced: Vec<&str> = WEEKDAY_NAMES
                        .iter()
                        .zip(rates.0)
                        .filter(|(_, r)| r.is_none())
                        .map(|(d, _)| *d)
                        .collect();
                    if !unpriced.is_empty() {
                        text.push_str(&format!(
                            " (no price for {}: usage on those days is refused, not billed)",
                            unpriced.join(", ")
                        ));
                    }
                }
            },
            UsagePricing::Graduated { tiers } => {
                text.push_str(&format!(
                    "graduated, each {what} priced in its own tier: {}",
                    self.tiers(tiers)
                ));
            }
            UsagePricing::Volume { tiers } => {
                text.push_str(&format!(
                    "volume, every {what} priced at the tier the period's total falls in: {}",
                    self.tiers(tiers)
                ));
            }
        }
        let noun = self.period_noun();
        if charge.allowance > 0 {
            text.push_str(&format!(
                "; the first {} each {noun} free",
                charge.allowance
            ));
        }
        if charge.returns == ReturnsPolicy::Credited {
            text.push_str("; returns are not billed (each return comes off the count)");
        }
        if let Some(min) = charge.minimum {
            text.push_str(&format!("; at least {} a {noun}", self.money(min)));
        }
        if let Some(cap) = charge.cap {
            text.push_str(&format!("; at most {} a {noun}", self.money(cap)));
        }
        text.push('.');
        text
    }

    fn tiers(&self, tiers: &[Tier]) -> String {
        let mut from = 1u64;
        let parts: Vec<String> = tiers
            .iter()
            .map(|t| {
                let part = match t.up_to {
                    Some(up) => format!("{from} to {up} at {} each", self.money(t.unit_price)),
                    None => format!("{from} and above at {} each", self.money(t.unit_price)),
                };
                from = t.up_to.map_or(from, |u| u + 1);
                part
            })
            .collect();
        parts.join(", ")
    }
}
