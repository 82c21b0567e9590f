//! The offline rules interpreter: plan prompt -> [`PricingProgram`], with no network and no key.
//!
//! A real front end for billing language: a [lexer](lexer) for money, numbers (in digits or
//! words), percentages, weekdays, periods and ordinals; a reader of billing [clauses](clause)
//! (recurring charge, usage charge, phase, step, tier, allowance, minimum, cap, discount, return
//! credit); and an assembler, here, that attaches clauses to each other. Every word that carries
//! meaning is consumed into the program, or the prompt is refused naming the words that could not
//! be placed. It never guesses.
//!
//! What may be skipped is closed and listed: the filler words of `clause::FILLERS` (articles,
//! prepositions, pronouns, verbs of billing, nouns of a price) and the symbols of
//! `clause::SKIPPABLE_SYMBOLS` (list and quote punctuation, the em dash). Words that qualify what
//! is billed ("subscription", "customer", "each", "all", "first", "additional", "only") bind to
//! a construct or are named in the refusal. A minus sign or dash before an amount is refused by
//! the lexer (amounts are never negative). Two prices for one thing are always refused, equal or
//! not ("$1 per delivery plus $1 per delivery" like "$1 per delivery and $2 per delivery"): a
//! second price is never summed with nor absorbed into the first.
//!
//! A usage charge priced by day prices every day or says the others are free or not billed; one
//! that leaves a day without a price is refused here, when the plan is saved, naming the day.
//! The program's reading ([`PricingProgram::describe`]) is itself a prompt that reads back to the
//! same program (`core/tests/interpreter_roundtrip.rs`).

mod clause;
mod lexer;

use rust_decimal::Decimal;

use crate::calendar::{BillingInterval, IntervalUnit};
use crate::error::{Error, Result};
use crate::money::Currency;
use crate::pricing::{
    Phase, PricingProgram, RecurringCharge, ReturnsPolicy, Step, StepChange, Tier, UsageCharge,
    UsageMetric, UsagePricing, WeekdayRates,
};

use clause::{Facts, Lead, PeriodRef, Span, Threshold, TierBound};
use lexer::{Kind, Mark};

/// The longest prompt the interpreter reads, in characters.
pub const MAX_PROMPT_CHARS: usize = 4000;

/// Reads plan prompts into pricing programs: the offline rules interpreter here, a language
/// model behind the same port. Held as `Arc<dyn Interpreter>`. Every program it returns is checked
/// by [`crate::plan::Plan::compile_with`] like the offline interpreter's.
#[async_trait::async_trait]
pub trait Interpreter: Send + Sync + std::fmt::Debug + 'static {
    /// The interpreter's name, stored with every program it reads (`offline`).
    fn name(&self) -> &str;

    /// The program `prompt` says, or [`Error::PromptNotUnderstood`] naming what it could not place.
    async fn interpret(&self, prompt: &str, context: &PlanContext) -> Result<PricingProgram>;

    /// As [`Interpreter::interpret`], also handing back in `calls` every model answer it got
    /// (tokens, latency, the answer), also when it fails: the audit trail records them. An
    /// interpreter that calls no model keeps the default.
    async fn interpret_recorded(
        &self,
        prompt: &str,
        context: &PlanContext,
        calls: &mut Vec<crate::chat::ModelResponse>,
    ) -> Result<PricingProgram> {
        let _ = calls;
        self.interpret(prompt, context).await
    }
}

/// The offline rules interpreter ([`interpret`]) as an [`Interpreter`]: no network, no key.
#[derive(Debug, Clone, Copy, Default)]
pub struct OfflineInterpreter;

#[async_trait::async_trait]
impl Interpreter for OfflineInterpreter {
    fn name(&self) -> &str {
        "offline"
    }

    async fn interpret(&self, prompt: &str, context: &PlanContext) -> Result<PricingProgram> {
        interpret(prompt, context)
    }
}

/// What the interpreter knows of the plan a prompt belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlanContext {
    /// The plan's currency: amounts written without one are in it; others must match it.
    pub currency: Currency,
    /// The plan's billing interval: the prompt's periods must agree with it.
    pub interval: BillingInterval,
}

/// Interprets `prompt` for a plan described by `context`; a prompt that is vague, contradictory or
/// outside the billing language is [`Error::PromptNotUnderstood`] with what to rephrase.
pub fn interpret(prompt: &str, context: &PlanContext) -> Result<PricingProgram> {
    if prompt.trim().is_empty() {
        return Err(Error::not_understood(
            "the plan prompt is empty: say what to charge, for example \"$25 per month\"",
        ));
    }
    if prompt.chars().count() > MAX_PROMPT_CHARS {
        return Err(Error::invalid(
            "plan.ai_prompt",
            format!("is longer than {MAX_PROMPT_CHARS} characters"),
        ));
    }
    let tokens = lexer::lex(prompt)?;
    if !tokens.iter().any(|t| matches!(t.kind, Kind::Money(..))) {
        return Err(Error::not_understood(
            "the prompt names no price: write amounts such as \"$25 per month\" or \"$0.50 per shipment\"",
        ));
    }
    let mut clauses = clause::split(tokens);
    let mut builder = Builder::new(context);
    let mut unplaced = Vec::new();
    for clause in &mut clauses {
        let facts = clause.read();
        unplaced.extend(clause.leftovers());
        if unplaced.is_empty() {
            let text: Vec<&str> = clause.toks.iter().map(|t| t.text.as_str()).collect();
            builder.add(clause.lead, facts).map_err(|e| match e {
                Error::PromptNotUnderstood { reason } => {
                    Error::not_understood(format!("in \"{}\": {reason}", text.join(" ")))
                }
                other => other,
            })?;
        }
    }
    if !unplaced.is_empty() {
        let words: Vec<String> = unplaced.iter().map(|w| format!("\"{w}\"")).collect();
        return Err(Error::not_understood(format!(
            "could not place {} in a billing rule; rephrase with prices, periods, shipments or deliveries, weekdays, tiers, minimums, caps or returns",
            words.join(", ")
        )));
    }
    builder.finish()
}

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

struct Builder<'a> {
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
    fn new(ctx: &'a PlanContext) -> Self {
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

    fn add(&mut self, lead: Lead, f: Facts) -> Result<()> {
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
                && !f.periods.is_empty()
                && f.metric.is_some()
                && f.days.is_none()
                && f.span.is_none()
                && matches!(
                    (f.tier, f.free_count),
                    (Some(TierBound::First(_)), None) | (None, Some(_))
                )
            {
                // "the first 4 boxes each month are included in the $40 monthly fee", "$40 a
                // month including 4 boxes": a recurring fee and the allowance it comes with
                self.recurring_price(lead, Some(*fee), None, None)?;
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

    fn recurring_price(
        &mut self,
        lead: Lead,
        amount: Option<Decimal>,
        span: Option<Span>,
        discount: Option<Decimal>,
    ) -> Result<()> {
        let next_free = self.phases.last().map_or(Some(1), |p| p.to.map(|t| t + 1));
        let (from, to) = match span {
            Some(Span::Absolute { from, to, unit }) => {
                let per = self.periods_of(unit, 1)?;
                let from = (from - 1) * per + 1;
                let to = match to {
                    Some(t) => Some(t.checked_mul(per).ok_or_else(|| Error::overflow("span"))?),
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

    fn usage_draft(&mut self, metric: Option<UsageMetric>) -> Result<usize> {
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
        });
        Ok(self.usage.len() - 1)
    }

    fn usage_price(&mut self, lead: Lead, f: &Facts, price: Decimal) -> Result<()> {
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

    fn add_tier(&mut self, idx: usize, bound: TierBound, price: Decimal) -> Result<()> {
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

    fn finish(mut self) -> Result<PricingProgram> {
        let mut program = PricingProgram::new(self.ctx.currency, self.ctx.interval);

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
                description: "Base charge".into(),
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
            let description = match metric {
                UsageMetric::Shipments => "Usage (Shipment) charge",
                UsageMetric::Units => "Usage (Unit) charge",
            };
            program.usage.push(UsageCharge {
                description: description.into(),
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

#[cfg(test)]
mod tests;
