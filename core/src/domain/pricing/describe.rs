//! A plain-English reading of a pricing program, shown to the admin beside the prompt so they can
//! check what will be billed before any customer is.
//!
//! The reading is itself a plan prompt: the offline interpreter reads it back to the identical
//! program (for every program it makes, on a plan billed every day, week, month or year or every
//! N of them), so what the admin approves is exactly what is billed. It therefore uses only the
//! words of the billing grammar: one sentence per rule, amounts with their currency code, spans
//! in the interval's own unit ("weeks 3 to 4" on a plan billed every 2 weeks), and each charge
//! under its description, which is the admin's name for the thing sold when the prompt gave one
//! ("Daily paper: 0.75 USD per shipment"), read back as a heading.

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
            InvoiceTiming::AtStart => format!("Billed {every} in advance."),
            InvoiceTiming::AtRenewal => format!("Billed {every} in arrears."),
        }];
        for charge in &self.recurring {
            let phases: Vec<String> = charge
                .phases
                .iter()
                .map(|p| self.describe_phase(p))
                .collect();
            out.push(format!(
                "{} for each subscribed copy: {}.",
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

    /// `n` periods in the interval's unit: "month", "3 months"; "4 weeks" on a plan billed every
    /// 2 weeks.
    fn units(&self, n: u32) -> String {
        let unit = self.interval.unit.label();
        match n.saturating_mul(self.interval.count) {
            1 => unit.to_string(),
            n => format!("{n} {unit}s"),
        }
    }

    /// "each month"; "per day" for a daily plan, where "each day" would name the weekdays.
    fn each_period(&self) -> String {
        let noun = self.period_noun();
        if noun == "day" {
            "per day".into()
        } else {
            format!("each {noun}")
        }
    }

    /// Periods `from..=to` in the interval's own unit: "month 2", "months 1 to 3"; on a plan
    /// billed every 2 weeks, period 2 is "weeks 3 to 4".
    fn span(&self, from: u32, to: Option<u32>) -> String {
        let unit = self.interval.unit.label();
        let c = self.interval.count;
        let first = (from - 1) * c + 1;
        match to {
            Some(to) if first == to * c => format!("in {unit} {first}"),
            Some(to) => format!("in {unit}s {first} to {}", to * c),
            None if from == 1 => self.each_period(),
            None => format!("from {unit} {first} on"),
        }
    }

    fn describe_phase(&self, phase: &Phase) -> String {
        let span = self.span(phase.from_period, phase.to_period);
        // "free" needs the periods it is said of; a zero price for ever is said as an amount
        let bounded = phase.to_period.is_some() || phase.from_period > 1;
        let mut text = if phase.amount.is_zero() && phase.step.is_none() && bounded {
            format!("free {span}")
        } else {
            format!("{} {span}", self.money(phase.amount))
        };
        if let Some(discount) = phase.discount_percent {
            text.push_str(&format!(" less {}%", discount.normalize()));
        }
        if let Some(step) = &phase.step {
            let when = format!("every {}", self.units(step.every_periods));
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
        text
    }

    fn describe_usage(&self, charge: &UsageCharge) -> String {
        let (one, many) = match charge.metric {
            UsageMetric::Shipments => ("shipment", "shipments"),
            UsageMetric::Units => ("unit shipped", "units shipped"),
        };
        let mut text = charge.description.clone();
        match &charge.pricing {
            UsagePricing::PerUnit { rates } => match rates.single_rate() {
                Some(rate) => text.push_str(&format!(": {} per {one}", self.money(rate))),
                None => {
                    let mut groups: Vec<(Decimal, Vec<usize>)> = Vec::new();
                    for (day, rate) in rates.0.iter().enumerate() {
                        let Some(rate) = rate else { continue };
                        match groups.iter_mut().find(|(r, _)| r == rate) {
                            Some((_, days)) => days.push(day),
                            None => groups.push((*rate, vec![day])),
                        }
                    }
                    // Priced days first, then the days not billed, each group its own clause.
                    groups.sort_by_key(|(rate, _)| rate.is_zero());
                    let parts: Vec<String> = groups
                        .iter()
                        .map(|(r, days)| {
                            if r.is_zero() {
                                format!("not billed on {}", day_list(days))
                            } else {
                                format!("{} per {one} on {}", self.money(*r), day_list(days))
                            }
                        })
                        .collect();
                    text.push_str(&format!(": {}", parts.join(", ")));
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
                text.push_str(&format!(" in graduated tiers: {}", self.tiers(tiers, many)));
            }
            UsagePricing::Volume { tiers } => {
                text.push_str(&format!(" in volume tiers: {}", self.tiers(tiers, many)));
            }
        }
        let each = self.each_period();
        if charge.allowance > 0 {
            text.push_str(&format!(
                "; the first {} {many} {each} are free",
                charge.allowance
            ));
        }
        if charge.returns == ReturnsPolicy::Credited {
            text.push_str("; returns come off the count");
        }
        let noun = self.period_noun();
        if let Some(min) = charge.minimum {
            text.push_str(&format!(
                "; a usage minimum of {} a {noun}",
                self.money(min)
            ));
        }
        if let Some(cap) = charge.cap {
            text.push_str(&format!(
                "; a usage maximum of {} a {noun}",
                self.money(cap)
            ));
        }
        text.push('.');
        text
    }

    fn tiers(&self, tiers: &[Tier], many: &str) -> String {
        let mut from = 1u64;
        let parts: Vec<String> = tiers
            .iter()
            .enumerate()
            .map(|(i, t)| {
                let what = if i == 0 {
                    format!(" {many}")
                } else {
                    String::new()
                };
                let part = match t.up_to {
                    Some(up) => {
                        format!("{from} to {up}{what} at {} each", self.money(t.unit_price))
                    }
                    None => format!(
                        "{from} and above{what} at {} each",
                        self.money(t.unit_price)
                    ),
                };
                from = t.up_to.map_or(from, |u| u + 1);
                part
            })
            .collect();
        parts.join(", ")
    }
}

/// Weekdays by index, runs of three or more as a range ("monday to friday, sunday").
fn day_list(days: &[usize]) -> String {
    let mut parts = Vec::new();
    let mut k = 0;
    while k < days.len() {
        let mut end = k;
        while end + 1 < days.len() && days[end + 1] == days[end] + 1 {
            end += 1;
        }
        if end >= k + 2 {
            parts.push(format!(
                "{} to {}",
                WEEKDAY_NAMES[days[k]], WEEKDAY_NAMES[days[end]]
            ));
        } else {
            parts.extend(days[k..=end].iter().map(|d| WEEKDAY_NAMES[*d].to_string()));
        }
        k = end + 1;
    }
    parts.join(", ")
}
