//! The assembler: attaches the facts of each clause to the program being built (its phases,
//! usage charges, tiers, bounds), refusing what contradicts what came before.
//!
//! The prices themselves are placed by [`charges`], and the finished program is checked by
//! [`finish`].

use rust_decimal::Decimal;

use crate::calendar::IntervalUnit;
use crate::error::{Error, Result};
use crate::pricing::{ReturnsPolicy, Step, StepChange, UsageMetric};

use super::PlanContext;
use super::clause::{Facts, Lead, Name, NameForm, PeriodRef, Threshold, TierBound};
use super::lexer::Mark;

mod charges;
mod finish;

/// A recurring phase being built; `amount` is None for a discount whose price is stated elsewhere.
#[derive(Debug, Clone)]
struct PhaseDraft {
    from: u32,
    to: Option<u32>,
    amount: Option<Decimal>,
    step: Option<Step>,
    floor: Option<Decimal>,
    ceiling: Option<Decimal>,
    discount: Option<Decimal>,
}

#[derive(Debug, Clone)]
struct TierDraft {
    from: u64,
    to: Option<u64>,
    price: Decimal,
}

#[derive(Debug, Clone)]
struct UsageDraft {
    /// None until a clause says what is counted ("Weekdays $0.75, Sundays $2.50 per delivery").
    metric: Option<UsageMetric>,
    default_rate: Option<Decimal>,
    day_rates: [Option<Decimal>; 7],
    tiers: Vec<TierDraft>,
    volume: bool,
    minimum: Option<Decimal>,
    cap: Option<Decimal>,
    /// The admin's name for what is counted ("Daily paper"), the charge's description.
    name: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Last {
    None,
    Recurring,
    Usage(usize),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BoundKind {
    Minimum,
    Cap,
}

pub(super) struct Builder<'a> {
    ctx: &'a PlanContext,
    phases: Vec<PhaseDraft>,
    usage: Vec<UsageDraft>,
    threshold: Option<(Threshold, Option<UsageMetric>)>,
    volume_high: Option<Decimal>,
    volume_low: Option<Decimal>,
    bounds: Vec<(BoundKind, Decimal, bool)>,
    returns: Option<ReturnsPolicy>,
    arrears: Option<bool>,
    last: Last,
    /// The admin's name for the recurring charge ("Garden box"), its description.
    recurring_name: Option<String>,
    /// A name said in a clause of its own ("For the garden box, $25 a month"), for the next price.
    pending_name: Option<Name>,
    /// The clause just placed priced the recurring charge, even if it ended on a usage allowance
    /// ("a $25 monthly fee that comes with 20 parcels"): its name is the fee's.
    priced_recurring: bool,
}

fn refuse<T>(reason: impl Into<String>) -> Result<T> {
    Err(Error::not_understood(reason))
}

const DOLLAR_CURRENCIES: [&str; 7] = ["USD", "CAD", "AUD", "NZD", "SGD", "HKD", "MXN"];

/// A span or period length in days (day/week) or months (month/year), for comparing units.
fn length(unit: IntervalUnit, count: u32) -> (bool, u64) {
    match unit {
        IntervalUnit::Day => (false, u64::from(count)),
        IntervalUnit::Week => (false, 7 * u64::from(count)),
        IntervalUnit::Month => (true, u64::from(count)),
        IntervalUnit::Year => (true, 12 * u64::from(count)),
    }
}

impl<'a> Builder<'a> {
    pub(super) fn new(ctx: &'a PlanContext) -> Self {
        Builder {
            ctx,
            phases: Vec::new(),
            usage: Vec::new(),
            threshold: None,
            volume_high: None,
            volume_low: None,
            bounds: Vec::new(),
            returns: None,
            arrears: None,
            last: Last::None,
            recurring_name: None,
            pending_name: None,
            priced_recurring: false,
        }
    }

    fn interval_name(&self) -> String {
        let unit = self.ctx.interval.unit.label();
        if self.ctx.interval.count == 1 {
            unit.to_string()
        } else {
            format!("{} {unit}s", self.ctx.interval.count)
        }
    }

    /// How many plan periods `n` units make, when that is a whole number.
    fn periods_of(&self, unit: IntervalUnit, n: u32) -> Result<u32> {
        let (months, len) = length(unit, n);
        let (plan_months, plan_len) = length(self.ctx.interval.unit, self.ctx.interval.count);
        if months != plan_months || len % plan_len != 0 || len == 0 {
            return refuse(format!(
                "{n} {}(s) is not a whole number of billing periods (the plan bills every {})",
                unit.label(),
                self.interval_name()
            ));
        }
        u32::try_from(len / plan_len).map_err(|_| Error::overflow("period count"))
    }

    fn check_period(&self, p: &PeriodRef) -> Result<()> {
        if p.count == 0 {
            return Ok(()); // "per billing period"
        }
        let (months, len) = length(p.unit, p.count);
        let plan = length(self.ctx.interval.unit, self.ctx.interval.count);
        if (months, len) != plan {
            let said = if p.count == 1 {
                p.unit.label().to_string()
            } else {
                format!("{} {}s", p.count, p.unit.label())
            };
            return refuse(format!(
                "the prompt bills per {said} but the plan's interval is every {}: make them agree",
                self.interval_name()
            ));
        }
        Ok(())
    }

    fn money(&self, value: Decimal, mark: Mark, text: &str) -> Result<Decimal> {
        let code = self.ctx.currency.code();
        match mark {
            Mark::Dollar if DOLLAR_CURRENCIES.contains(&code) => Ok(value),
            Mark::Dollar => refuse(format!(
                "{text} is in dollars but the plan's currency is {code}"
            )),
            Mark::Named(c) if c == self.ctx.currency => Ok(value),
            Mark::Named(c) => refuse(format!(
                "{text} is in {} but the plan's currency is {code}",
                c.code()
            )),
            Mark::Cents if self.ctx.currency.exponent() == 2 => Ok(value),
            Mark::Cents => refuse(format!("{text}: {code} has no cents")),
            Mark::Plan => Ok(value),
            Mark::Pence if code == "GBP" => Ok(value),
            Mark::Pence => refuse(format!(
                "{text} is in pence (GBP) but the plan's currency is {code}"
            )),
        }
    }

    /// Adds a clause's facts, then gives its name (or the one said just before) to the charge
    /// its price went to.
    pub(super) fn add(&mut self, lead: Lead, mut f: Facts) -> Result<()> {
        let name = f.name.take();
        let states = !f.prices.is_empty()
            || f.free
            || f.discount.is_some()
            || f.step.is_some()
            || f.ceiling.is_some()
            || f.minimum.is_some()
            || f.threshold.is_some()
            || f.returns.is_some()
            || f.tier.is_some()
            || f.span.is_some()
            || f.metric.is_some()
            || f.days.is_some();
        if let Some(name) = &name {
            let priced = !f.prices.is_empty();
            let periodless = f.periods.is_empty() && f.span.is_none() && f.metric.is_none();
            if priced
                && periodless
                && name.head_delivered
                && !f.base_cue
                && !f.per_copy_recurring
                && f.step.is_none()
                && f.discount.is_none()
            {
                return refuse(format!(
                    "\"{}\" is a thing delivered and its price says no period: say \"per month\" for a fee, or \"per delivery\" for a usage price",
                    name.text
                ));
            }
            if priced && periodless && name.period_word {
                return refuse(format!(
                    "\"{}\" names a period: say the price's own period (\"a month\") or what it is per (\"per delivery\")",
                    name.text
                ));
            }
        }
        if !states {
            // a clause that only names the thing sold: the charge before it, or the next one
            if let Some(name) = name {
                if self.last == Last::None {
                    if self.pending_name.is_some() {
                        return refuse("two names with no price between them");
                    }
                    self.pending_name = Some(name);
                    return Ok(());
                }
                return self.give_name(name);
            }
            return self.place(lead, f);
        }
        self.priced_recurring = false;
        self.place(lead, f)?;
        match (name, self.pending_name.take()) {
            (Some(name), None) | (None, Some(name)) => self.give_name(name),
            (Some(_), Some(_)) => refuse("two names for one price"),
            (None, None) => Ok(()),
        }
    }

    /// Gives `name` to the charge the last price went to: the invoice line's description.
    fn give_name(&mut self, name: Name) -> Result<()> {
        let target = if self.priced_recurring {
            Last::Recurring
        } else {
            self.last
        };
        let slot = match target {
            Last::None => {
                return refuse(format!("\"{}\" names nothing that has a price", name.text));
            }
            Last::Recurring => &mut self.recurring_name,
            Last::Usage(i) => {
                if name.form == NameForm::For
                    || (name.form == NameForm::Subject && name.head_delivered)
                {
                    // "$2 per box for the garden box": a kind of box, a qualifier of what is counted
                    return refuse(format!(
                        "\"{}\" beside a price per delivery or per copy: a kind of thing delivered cannot be billed apart; to name the product, write it as a heading (\"{}: ...\")",
                        name.text, name.text
                    ));
                }
                &mut self.usage[i].name
            }
        };
        match slot {
            Some(given) if *given != name.text => refuse(format!(
                "one charge is named both \"{given}\" and \"{}\"",
                name.text
            )),
            _ => {
                *slot = Some(name.text);
                Ok(())
            }
        }
    }

    fn place(&mut self, lead: Lead, f: Facts) -> Result<()> {
        for p in &f.periods {
            self.check_period(p)?;
        }
        let mut prices = Vec::new();
        for (v, m, t) in &f.prices {
            prices.push(self.money(*v, *m, t)?);
        }
        let usage_cue = f.metric.is_some() || f.usage_word;
        if f.per_copy_recurring
            && (f.tier.is_some() || f.metric.is_some() || f.threshold.is_some() || f.days.is_some())
        {
            return refuse(
                "a recurring price by subscribed copies is one price for every copy: prices that change with the number of copies, or by day, cannot be billed; say \"$10 per month for each copy\"",
            );
        }

        if let Some(policy) = f.returns {
            if !prices.is_empty() {
                return refuse(
                    "a price in the same clause as returns: say \"returns are not billed\" or \"returns are billed\"",
                );
            }
            if self.returns.is_some_and(|r| r != policy) {
                return refuse("returns are said to be both billed and not billed");
            }
            self.returns = Some(policy);
            return Ok(());
        }
        if let Some(arrears) = f.arrears {
            if self.arrears.is_some_and(|a| a != arrears) {
                return refuse("the prompt says both in advance and in arrears");
            }
            self.arrears = Some(arrears);
        }
        if let Some(t) = f.threshold {
            if self.threshold.is_some() {
                return refuse("more than one condition on the period's count");
            }
            self.threshold = Some((t, f.metric));
            if prices.is_empty() {
                return Ok(());
            }
        }
        if let Some(step) = &f.step {
            let amount = match &step.mark {
                Some((mark, text)) => {
                    let value = self.money(step.amount.abs(), *mark, text)?;
                    if step.amount.is_sign_negative() {
                        -value
                    } else {
                        value
                    }
                }
                None => step.amount,
            };
            // "$20 per month increasing $2.50 monthly": the price first, then the step
            if let [price] = prices.as_slice() {
                self.recurring_price(lead, Some(*price), f.span, None)?;
                prices.clear();
            } else if !prices.is_empty() {
                return refuse(
                    "several prices around a step: give the starting price and the step in separate phrases",
                );
            }
            let every = match step.every {
                Some(p) if p.count > 0 => self.periods_of(p.unit, p.count)?,
                _ => 1,
            };
            let Some(phase) = self.phases.last_mut() else {
                return refuse("a step with no price to step from: say the starting price first");
            };
            if phase.step.is_some() {
                return refuse("two steps for the same price");
            }
            match phase.to {
                Some(to) if to == phase.from => phase.to = None,
                Some(_) => {
                    return refuse(
                        "a step on a price that only lasts some periods: say when the step applies",
                    );
                }
                None => {}
            }
            let change = if step.percent {
                StepChange::Percent(amount)
            } else {
                StepChange::Amount(amount)
            };
            phase.step = Some(Step {
                every_periods: every,
                change,
            });
            self.last = Last::Recurring;
        }
        if let Some((v, m, t)) = &f.ceiling {
            let value = self.money(*v, *m, t)?;
            let kind = if f.target && self.falling_step() {
                BoundKind::Minimum
            } else {
                BoundKind::Cap
            };
            self.bound(
                kind,
                value,
                usage_cue || (!prices.is_empty() && self.is_usage_clause(lead, &f)),
            )?;
        }
        if let Some((v, m, t)) = &f.minimum {
            let value = self.money(*v, *m, t)?;
            self.bound(
                BoundKind::Minimum,
                value,
                usage_cue || (!prices.is_empty() && self.is_usage_clause(lead, &f)),
            )?;
        }

        // Free units, free days, free periods, discounts.
        if f.free {
            if let [fee] = prices.as_slice()
                && (!f.periods.is_empty() || f.base_cue)
                && f.metric.is_some()
                && f.days.is_none()
                && f.span.is_none()
                && matches!(
                    (f.tier, f.free_count),
                    (Some(TierBound::First(_) | TierBound::UpTo(_)), None) | (None, Some(_))
                )
            {
                // "the first 4 boxes each month are included in the $40 monthly fee", "$40 a
                // month including 4 boxes": a recurring fee and the allowance it comes with
                self.recurring_price(lead, Some(*fee), None, None)?;
                self.priced_recurring = true;
                prices.clear();
            }
            if !prices.is_empty() {
                return refuse("a clause that is both free and priced");
            }
            if f.days.is_some() || f.other_days {
                // "free on weekdays", "Saturdays are on the house", "other days are not billed"
                if f.free_count.is_some() || f.tier.is_some() {
                    return refuse(
                        "free units on some days only: say which days are free, or how many units each period are free",
                    );
                }
                return self.usage_price(lead, &f, Decimal::ZERO);
            }
            if usage_cue || f.tier.is_some() || f.free_count.is_some() {
                let n = match (f.tier, f.free_count) {
                    (Some(TierBound::First(n) | TierBound::UpTo(n)), _) | (None, Some(n)) => n,
                    _ => {
                        return refuse(
                            "say how many units are free, for example \"the first 10 shipments each month are free\"",
                        );
                    }
                };
                let idx = self.usage_draft(f.metric)?;
                self.add_tier(idx, TierBound::First(n), Decimal::ZERO)?;
                self.last = Last::Usage(idx);
                return Ok(());
            }
            if f.span.is_none() {
                return refuse("say which periods are free, for example \"the first month free\"");
            }
            self.recurring_price(lead, Some(Decimal::ZERO), f.span, None)?;
            return Ok(());
        }
        if let Some(discount) = f.discount {
            if f.span.is_none() {
                return refuse(
                    "say which periods the discount applies to, for example \"20% off the first 3 months\"",
                );
            }
            match prices.as_slice() {
                [] => self.recurring_price(lead, None, f.span, Some(discount))?,
                [price] => self.recurring_price(lead, Some(*price), f.span, Some(discount))?,
                _ => return refuse("several prices around one discount"),
            }
            return Ok(());
        }

        match prices.as_slice() {
            [] => {
                if f.span.is_some() || f.tier.is_some() {
                    return refuse("a span or tier without a price");
                }
                let states_a_rule = f.step.is_some()
                    || f.ceiling.is_some()
                    || f.minimum.is_some()
                    || f.threshold.is_some()
                    || f.arrears.is_some();
                if !states_a_rule
                    && (f.metric.is_some()
                        || f.days.is_some()
                        || f.other_days
                        || f.per_copy_recurring)
                {
                    // "shipments with more than 2 copies are $2": "shipments" alone prices nothing
                    return refuse(
                        "names what is billed but gives it no price or rule: say what it costs",
                    );
                }
                Ok(())
            }
            [price] => {
                let fee_like =
                    f.price_per_period || (!f.periods.is_empty() && f.tier.is_none() && !f.all);
                if self.is_usage_clause(lead, &f) && f.metric.is_some() && fee_like && !f.rate_unit
                {
                    // "the newspaper costs $30 a month": a monthly fee, or a price per paper?
                    return refuse(
                        "could not tell whether this is a fee per period or a price per delivery: say \"per month\" for a fee, or \"per delivery\" for a usage price",
                    );
                }
                if self.is_usage_clause(lead, &f) {
                    self.usage_price(lead, &f, *price)
                } else if self.is_recurring_clause(lead, &f) {
                    if f.all {
                        return refuse("\"all\" with a recurring price");
                    }
                    self.recurring_price(lead, Some(*price), f.span, None)
                } else {
                    refuse(
                        "could not tell whether this price is a recurring fee (say \"per month\") or a usage price (say \"per shipment\")",
                    )
                }
            }
            _ => refuse("several prices in one phrase: give each price its own phrase"),
        }
    }

    fn is_usage_clause(&self, lead: Lead, f: &Facts) -> bool {
        f.metric.is_some()
            || f.days.is_some()
            || f.other_days
            || f.tier.is_some()
            || f.usage_word
            || (lead == Lead::Otherwise && self.threshold.is_some())
            || (f.all && self.threshold.is_some())
            || (matches!(self.last, Last::Usage(_))
                && lead == Lead::Then
                && f.periods.is_empty()
                && f.span.is_none()
                && !f.base_cue)
    }

    fn is_recurring_clause(&self, lead: Lead, f: &Facts) -> bool {
        !f.periods.is_empty()
            || f.span.is_some()
            || f.base_cue
            || f.per_copy_recurring
            || (self.last == Last::Recurring && lead == Lead::Then)
            || (self.last == Last::Recurring
                && self.phases.last().is_some_and(|p| p.to.is_some())
                && !f.all)
            || (self.last == Last::None && self.phases.is_empty())
    }

    fn falling_step(&self) -> bool {
        self.last == Last::Recurring
            && self
                .phases
                .last()
                .and_then(|p| p.step.as_ref())
                .is_some_and(|s| match s.change {
                    StepChange::Amount(d) | StepChange::Percent(d) => d.is_sign_negative(),
                })
    }

    fn bound(&mut self, kind: BoundKind, value: Decimal, usage_cue: bool) -> Result<()> {
        // Right after a stepped price, a ceiling or floor belongs to the step.
        if !usage_cue
            && self.last == Last::Recurring
            && let Some(phase) = self.phases.last_mut()
            && let Some(step) = &phase.step
        {
            let rising = match step.change {
                StepChange::Amount(d) | StepChange::Percent(d) => d.is_sign_positive(),
            };
            match (kind, rising) {
                (BoundKind::Cap, true) => phase.ceiling = Some(value),
                (BoundKind::Minimum, false) => phase.floor = Some(value),
                (BoundKind::Cap, false) => {
                    return refuse("a maximum on a falling price: did you mean a minimum?");
                }
                (BoundKind::Minimum, true) => phase.floor = Some(value),
            }
            return Ok(());
        }
        self.bounds.push((kind, value, usage_cue));
        Ok(())
    }
}
