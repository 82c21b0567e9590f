//! Placing prices: a recurring price into its phase, a usage price into its charge (per unit,
//! by weekday or by tier), and a tier after the tiers before it.

use rust_decimal::Decimal;

use crate::error::Result;
use crate::pricing::UsageMetric;

use super::super::clause::{Facts, Lead, Span, TierBound};
use super::{Builder, Last, PhaseDraft, TierDraft, UsageDraft, refuse};

impl Builder<'_> {
    pub(super) fn recurring_price(
        &mut self,
        lead: Lead,
        amount: Option<Decimal>,
        span: Option<Span>,
        discount: Option<Decimal>,
    ) -> Result<()> {
        let next_free = self.phases.last().map_or(Some(1), |p| p.to.map(|t| t + 1));
        let (from, to) = match span {
            Some(Span::Absolute { from, to, unit }) => {
                // "months 4 to 6" on a quarterly plan is period 2: the span's edges must fall on
                // the plan's period edges ("in month 2" on a quarterly plan is refused)
                let from = if from > 1 {
                    self.periods_of(unit, from - 1)? + 1
                } else {
                    1
                };
                let to = match to {
                    Some(t) => Some(self.periods_of(unit, t)?),
                    None => None,
                };
                (from, to)
            }
            Some(Span::For { n, unit }) => {
                let n = self.periods_of(unit, n)?;
                let Some(from) = next_free else {
                    return refuse("\"for N periods\" after a price that runs for ever");
                };
                (from, Some(from + n - 1))
            }
            None => match next_free {
                Some(from) => (from, None),
                None if discount.is_none() => {
                    return refuse(
                        "two recurring prices for the same periods: say which periods each applies to",
                    );
                }
                None => return refuse("say which periods the discount applies to"),
            },
        };
        let draft = PhaseDraft {
            from,
            to,
            amount,
            step: None,
            floor: None,
            ceiling: None,
            discount,
        };
        let _ = lead;
        let single = self.phases.len() == 1;
        match self.phases.last_mut() {
            None if from == 1 => self.phases.push(draft),
            None => {
                // "$14.99 from month 4" with nothing before: periods 1-3 would have no price
                return refuse(format!("no price is given for periods before {from}"));
            }
            Some(last) if last.to.is_some_and(|t| t + 1 == from) => self.phases.push(draft),
            Some(last) if last.to.is_none() && from > last.from && last.step.is_none() => {
                // "$10 per month, $8 per month from the 7th month": the open phase ends before this one
                last.to = Some(from - 1);
                self.phases.push(draft);
            }
            Some(last) if last.to.is_none() && from == last.from && to.is_some() && single => {
                // "$20 per month; the first 3 months free / 50% off": this phase comes first
                let mut open = self.phases.pop().expect("one phase");
                let mut draft = draft;
                if draft.amount.is_none() {
                    draft.amount = open.amount;
                }
                open.from = to.expect("checked") + 1;
                self.phases.push(draft);
                self.phases.push(open);
            }
            Some(_) => return refuse("recurring prices whose periods overlap or leave a gap"),
        }
        self.last = Last::Recurring;
        Ok(())
    }

    pub(super) fn usage_draft(&mut self, metric: Option<UsageMetric>) -> Result<usize> {
        let metric = match (metric, self.last, self.threshold.and_then(|(_, m)| m)) {
            (Some(m), _, _) => Some(m),
            (None, Last::Usage(i), _) => return Ok(i),
            (None, _, Some(m)) => Some(m),
            (None, _, None) if self.usage.len() == 1 => return Ok(0),
            (None, _, None) => None,
        };
        if let Some(i) = self.usage.iter().position(|u| u.metric == metric) {
            return Ok(i);
        }
        // A draft that did not yet say what it counts takes the first metric named.
        if let Some(i) = self.usage.iter().position(|u| u.metric.is_none())
            && metric.is_some()
        {
            self.usage[i].metric = metric;
            return Ok(i);
        }
        self.usage.push(UsageDraft {
            metric,
            default_rate: None,
            day_rates: [None; 7],
            tiers: Vec::new(),
            volume: false,
            minimum: None,
            cap: None,
            name: None,
        });
        Ok(self.usage.len() - 1)
    }

    pub(super) fn usage_price(&mut self, lead: Lead, f: &Facts, price: Decimal) -> Result<()> {
        if f.span.is_some() {
            return refuse(
                "usage prices that change with the subscription's age are not supported yet",
            );
        }
        let idx = self.usage_draft(f.metric)?;
        self.last = Last::Usage(idx);
        if f.volume {
            self.usage[idx].volume = true;
        }
        // volume: "if more than 25 ... all at $0.50; otherwise $0.70 each"
        if self.threshold.is_some() && f.tier.is_some() {
            return refuse(
                "a condition on the count with tiers: say \"first 25 at X, additional at Y\" or \"all at X\"",
            );
        }
        if self.threshold.is_some()
            && (lead == Lead::Otherwise
                || f.all
                || f.threshold.is_some()
                || self.volume_high.is_none())
        {
            let slot = if lead == Lead::Otherwise {
                &mut self.volume_low
            } else {
                &mut self.volume_high
            };
            if slot.is_some() {
                return refuse("two prices for the same side of the condition");
            }
            *slot = Some(price);
            return Ok(());
        }
        let tier = match f.tier {
            Some(t) => Some(t),
            None if lead == Lead::Then && !self.usage[idx].tiers.is_empty() => {
                Some(TierBound::Rest)
            }
            None => None,
        };
        if let Some(tier) = tier {
            if f.days.is_some() {
                return refuse(
                    "tiers with weekday prices are ambiguous: price tiers or weekdays, not both",
                );
            }
            return self.add_tier(idx, tier, price);
        }
        let draft = &mut self.usage[idx];
        // "$1 per delivery plus $0.50 on Sundays": the Sunday price, or $1.50? Never guessed.
        let overlaps = match f.days {
            Some(_) => draft.default_rate.is_some(),
            None => draft.day_rates.iter().any(Option::is_some),
        };
        if f.plus && overlaps {
            return refuse(
                "\"plus\" a price for days that already have one: say each day's whole price, for example \"$1 per delivery, $1.50 per Sunday delivery\"",
            );
        }
        match f.days {
            None if f.other_days && draft.default_rate.is_some() => {
                return refuse("two prices for the other days");
            }
            None => {
                // "$1 per delivery plus $1 per delivery" is refused like "$1 ... and $2 per
                // delivery": two prices for one thing are never summed nor merged.
                if draft.default_rate.is_some() {
                    return refuse(
                        "two prices for the same usage: say which weekdays or tiers each applies to",
                    );
                }
                draft.default_rate = Some(price);
            }
            Some(days) => {
                for (d, on) in days.iter().enumerate() {
                    if *on {
                        if draft.day_rates[d].is_some() {
                            return refuse(format!(
                                "two prices for {}",
                                crate::pricing::WEEKDAY_NAMES[d]
                            ));
                        }
                        draft.day_rates[d] = Some(price);
                    }
                }
            }
        }
        Ok(())
    }

    pub(super) fn add_tier(&mut self, idx: usize, bound: TierBound, price: Decimal) -> Result<()> {
        let draft = &mut self.usage[idx];
        let covered = match draft.tiers.last() {
            None => 0,
            Some(TierDraft { to: Some(t), .. }) => *t,
            Some(TierDraft { to: None, .. }) => {
                return refuse("a tier after the open-ended last tier");
            }
        };
        let (from, to) = match bound {
            TierBound::First(n) | TierBound::UpTo(n) if covered == 0 => (1, Some(n)),
            TierBound::First(_) | TierBound::UpTo(_) => {
                return refuse("\"first\" tier after other tiers");
            }
            TierBound::Next(n) => (covered + 1, Some(covered + n)),
            TierBound::Rest if covered == 0 => {
                return refuse("\"additional\" units with no first tier");
            }
            TierBound::Rest => (covered + 1, None),
            TierBound::Above(n) => {
                if covered < n {
                    // "$0.25 per shipment after the first 20": the first 20 are free
                    let rate = match draft.default_rate.take() {
                        Some(rate) => rate,
                        None if covered == 0 => Decimal::ZERO,
                        None => return refuse(format!("no price is given for units up to {n}")),
                    };
                    draft.tiers.push(TierDraft {
                        from: covered + 1,
                        to: Some(n),
                        price: rate,
                    });
                } else if covered > n {
                    return refuse("tiers overlap");
                }
                (n + 1, None)
            }
            TierBound::Range(a, b) => {
                let a = if a == 0 && covered == 0 { 1 } else { a };
                if a != covered + 1 || b < a {
                    return refuse(format!(
                        "the tier {a}-{b} does not follow the tier before it"
                    ));
                }
                (a, Some(b))
            }
            TierBound::From(a) => {
                if a != covered + 1 {
                    return refuse(format!(
                        "the tier from {a} does not follow the tier before it (which ends at {covered})"
                    ));
                }
                (a, None)
            }
        };
        if let Some(t) = to
            && t < from
        {
            return refuse("an empty tier");
        }
        // "beyond 30" after "up to 30" gives an open tier whose start already matches
        draft.tiers.push(TierDraft { from, to, price });
        Ok(())
    }
}
