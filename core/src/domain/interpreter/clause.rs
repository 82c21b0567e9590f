//! Splitting a prompt into clauses, and reading each clause into the facts it states.
//!
//! A clause is read by recognisers that each consume the tokens of one construct (a name of the
//! thing sold, a price, a period, a span of periods, a step, a ceiling, a weekday set, a tier
//! bound, ...); then the words that attach to a construct bind to it (a verb of billing to its
//! amount, "each" to its noun). Whatever is left must be a word that carries no meaning on its
//! own ("the", "fee"); anything else is reported back, and the prompt is refused.

use rust_decimal::Decimal;

use super::lexer::{Kind, Mark, Token};
use crate::calendar::IntervalUnit;
use crate::pricing::{ReturnsPolicy, UsageMetric};

/// How a clause is joined to the one before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Lead {
    None,
    /// "then", "after that", "thereafter": what follows comes after what came before.
    Then,
    /// "otherwise": the alternative of a condition.
    Otherwise,
    /// "plus", "and", "with", "but", "until": joined, no order implied.
    Joined,
}

/// A period named in a clause ("per month", "monthly", "every 2 weeks", "in a month").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PeriodRef {
    pub unit: IntervalUnit,
    pub count: u32,
}

/// Which periods a price applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Span {
    /// Periods `from..=to` (`to` None: for ever), in the span's own unit.
    Absolute {
        from: u32,
        to: Option<u32>,
        unit: IntervalUnit,
    },
    /// "for 3 months": the next n units after what came before.
    For { n: u32, unit: IntervalUnit },
}

/// A bound of a usage tier.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TierBound {
    /// "first 20": units 1..=20.
    First(u64),
    /// "next 30": the 30 after the previous tier.
    Next(u64),
    /// "additional", "after that", "beyond that": the rest.
    Rest,
    /// "over 20", "more than 20", "beyond 20": units from 21 on.
    Above(u64),
    /// "21-50", "from 21 to 50".
    Range(u64, u64),
    /// "101 and above", "101+".
    From(u64),
    /// "up to 30".
    UpTo(u64),
}

/// A condition on the period's count ("if a customer has more than 25 shipments in a month").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Threshold {
    /// The count at or below which the condition is false.
    pub up_to: u64,
}

/// A step of a recurring price ("increase by $1 per month").
#[derive(Debug, Clone)]
pub(crate) struct StepFact {
    /// Signed change: an amount, or a percentage when `percent`.
    pub amount: Decimal,
    pub percent: bool,
    /// How often ("every 2 months"); once a period when not said.
    pub every: Option<PeriodRef>,
    /// The currency the amount was written in.
    pub mark: Option<(Mark, String)>,
}

/// What one clause states.
#[derive(Debug, Clone, Default)]
pub(crate) struct Facts {
    pub prices: Vec<(Decimal, Mark, String)>,
    pub periods: Vec<PeriodRef>,
    pub span: Option<Span>,
    pub step: Option<StepFact>,
    pub ceiling: Option<(Decimal, Mark, String)>,
    /// The ceiling was said as a target ("until it reaches $30"): a floor for a falling price.
    pub target: bool,
    pub minimum: Option<(Decimal, Mark, String)>,
    pub metric: Option<UsageMetric>,
    pub per_copy_recurring: bool,
    pub usage_word: bool,
    pub days: Option<[bool; 7]>,
    /// "all other days": the price of every day not priced by name.
    pub other_days: bool,
    pub free: bool,
    pub discount: Option<Decimal>,
    pub tier: Option<TierBound>,
    pub free_count: Option<u64>,
    pub threshold: Option<Threshold>,
    pub all: bool,
    pub volume: bool,
    pub graduated: bool,
    pub returns: Option<ReturnsPolicy>,
    pub arrears: Option<bool>,
    pub base_cue: bool,
    /// What is counted is said as the unit of the price ("per delivery", "each box", "$1
    /// each"), not only named ("the newspaper costs $30 a month").
    pub rate_unit: bool,
    /// A period right after an amount ("$100 per month", "$30 a month"): a price per period.
    pub price_per_period: bool,
    /// The clause starts with "plus" (or "+"): it adds to what came before.
    pub plus: bool,
    /// The thing sold, named by the admin ("Daily paper:", "The magazine costs", "for the garden
    /// box"): the description of the charge the clause's price goes to.
    pub name: Option<Name>,
}

/// One clause: its tokens, which of them are consumed, and how it joins the previous clause.
#[derive(Debug, Clone)]
pub(crate) struct Clause {
    pub lead: Lead,
    pub toks: Vec<Token>,
    used: Vec<bool>,
    /// The clause begins a sentence (or the prompt): where a heading or a subject can name the
    /// thing sold.
    sentence_start: bool,
}

const SENTENCE_END: [char; 5] = ['.', ';', '!', '?', '\n'];

fn is_day_like(t: &Token) -> bool {
    matches!(t.kind, Kind::Weekday(_))
        || matches!(
            t.word(),
            Some("weekday" | "weekdays" | "weekend" | "weekends" | "holidays")
        )
}

/// Splits tokens into clauses at sentence ends, commas and joining words, keeping lists of
/// weekdays ("Monday, Wednesday and Friday") and ranges ("between 10 and 20") whole.
pub(crate) fn split(tokens: Vec<Token>) -> Vec<Clause> {
    let mut clauses = Vec::new();
    let mut current: Vec<Token> = Vec::new();
    let mut lead = Lead::None;
    let mut i = 0;
    let mut sentence_start = true;
    let flush =
        |start: &mut bool, current: &mut Vec<Token>, lead: Lead, clauses: &mut Vec<Clause>| {
            if !current.is_empty() {
                let toks = std::mem::take(current);
                let used = vec![false; toks.len()];
                clauses.push(Clause {
                    lead,
                    toks,
                    used,
                    sentence_start: *start,
                });
                *start = false;
            }
        };
    while i < tokens.len() {
        let t = &tokens[i];
        let prev = current.last();
        let next = tokens.get(i + 1);
        // "Monday, Wednesday, Friday" is one list of days; but after a priced clause, "...,
        // Sundays are free" starts a clause of its own (a day with its own verb).
        let own_predicate = tokens
            .get(i + 2)
            .is_some_and(|t| matches!(t.word(), Some("is" | "are")))
            && current.iter().any(|t| matches!(t.kind, Kind::Money(..)));
        let in_list =
            prev.is_some_and(is_day_like) && next.is_some_and(is_day_like) && !own_predicate;
        let between = current.len() >= 2
            && current[current.len() - 2].is_word("between")
            && matches!(
                prev.map(|p| &p.kind),
                Some(Kind::Number(_) | Kind::Money(..))
            );
        let ends_sentence = matches!(t.kind, Kind::Sym(c) if SENTENCE_END.contains(&c));
        if ends_sentence {
            flush(&mut sentence_start, &mut current, lead, &mut clauses);
            sentence_start = true;
            lead = Lead::None;
            i += 1;
            continue;
        }
        if t.is_sym(',') && !in_list {
            flush(&mut sentence_start, &mut current, lead, &mut clauses);
            lead = Lead::Joined;
            i += 1;
            continue;
        }
        // "after that", "after which", "from then on", "thereafter", "afterwards", "then"
        let two = |a: &str, b: &str| t.is_word(a) && next.is_some_and(|n| n.is_word(b));
        let then_len = if two("after", "that") || two("after", "which") || two("from", "then") {
            let mut n = 2;
            if two("from", "then") && tokens.get(i + 2).is_some_and(|t| t.is_word("on")) {
                n = 3;
            }
            Some(n)
        } else if matches!(
            t.word(),
            Some("then" | "thereafter" | "afterwards" | "afterward")
        ) {
            Some(1)
        } else {
            None
        };
        if let Some(n) = then_len {
            if current.is_empty()
                || current
                    .iter()
                    .all(|t| matches!(t.word(), Some("and" | "but")))
            {
                current.clear();
                lead = Lead::Then;
            } else {
                // "$14.99 per month after that": the marker closes its own clause
                let closes_clause = tokens.get(i + n).is_none_or(
                    |t| matches!(t.kind, Kind::Sym(c) if SENTENCE_END.contains(&c) || c == ','),
                );
                if closes_clause {
                    flush(&mut sentence_start, &mut current, Lead::Then, &mut clauses);
                    lead = Lead::None;
                } else {
                    flush(&mut sentence_start, &mut current, lead, &mut clauses);
                    lead = Lead::Then;
                }
            }
            i += n;
            continue;
        }
        if t.is_word("otherwise") {
            flush(&mut sentence_start, &mut current, lead, &mut clauses);
            lead = Lead::Otherwise;
            i += 1;
            continue;
        }
        let joins = matches!(
            t.word(),
            Some("plus" | "but" | "with" | "and" | "until" | "while")
        );
        let open_range = t.is_word("and")
            && matches!(prev.map(|p| &p.kind), Some(Kind::Number(_)))
            && next.is_some_and(|n| {
                matches!(
                    n.word(),
                    Some("above" | "up" | "over" | "beyond" | "higher" | "more")
                )
            });
        // "the $20 fee comes with 10 deliveries": what a fee comes with, not a second clause
        let comes_with =
            t.is_word("with") && prev.is_some_and(|p| matches!(p.word(), Some("comes" | "come")));
        let keeps_together = in_list || (t.is_word("and") && between) || open_range || comes_with;
        if joins && !keeps_together && !current.is_empty() {
            flush(&mut sentence_start, &mut current, lead, &mut clauses);
            lead = Lead::Joined;
            // "until" starts a bound, "plus" says the clause adds to what came before: both stay
            if !t.is_word("until") && !t.is_word("plus") {
                i += 1;
                continue;
            }
        }
        current.push(t.clone());
        i += 1;
    }
    flush(&mut sentence_start, &mut current, lead, &mut clauses);
    clauses
}

mod amounts;
mod bounds;
mod names;
mod periods;
mod steps;
mod tiers;
mod usage;
mod words;

pub(crate) use names::{Name, NameForm};
use words::{BILLING_VERBS, PRICE_VERBS, SHIPMENT_NOUNS, UNIT_NOUNS};
pub(crate) use words::{FILLERS, SKIPPABLE_SYMBOLS};

impl Clause {
    fn len(&self) -> usize {
        self.toks.len()
    }
    fn free(&self, i: usize) -> bool {
        i < self.len() && !self.used[i]
    }
    fn w(&self, i: usize) -> Option<&str> {
        if self.free(i) {
            self.toks[i].word()
        } else {
            None
        }
    }
    fn is(&self, i: usize, word: &str) -> bool {
        self.w(i) == Some(word)
    }
    fn is_any(&self, i: usize, words: &[&str]) -> bool {
        self.w(i).is_some_and(|w| words.contains(&w))
    }
    fn number(&self, i: usize) -> Option<Decimal> {
        match &self.toks.get(i)?.kind {
            Kind::Number(n) if self.free(i) => Some(*n),
            _ => None,
        }
    }
    fn count(&self, i: usize) -> Option<u64> {
        let n = self.number(i)?;
        (n.fract().is_zero() && !n.is_sign_negative())
            .then(|| u64::try_from(n).ok())
            .flatten()
    }
    fn money(&self, i: usize) -> Option<(Decimal, Mark, String)> {
        match &self.toks.get(i)?.kind {
            Kind::Money(v, m) if self.free(i) => Some((*v, *m, self.toks[i].text.clone())),
            _ => None,
        }
    }
    fn take(&mut self, from: usize, n: usize) {
        for u in &mut self.used[from..from + n] {
            *u = true;
        }
    }
    /// Skips fillers "the", "a", "an", "of", "at" from `i` and returns the next index.
    fn skip_articles(&self, mut i: usize) -> usize {
        while self.is_any(i, &["the", "a", "an", "of", "at", "to", "is", "are", "be"]) {
            i += 1;
        }
        i
    }
    /// Matches a sequence of words at `i`.
    fn seq(&self, i: usize, words: &[&str]) -> bool {
        words.iter().enumerate().all(|(k, w)| self.is(i + k, w))
    }

    /// The tokens that were not consumed and carry meaning: every token but the closed lists of
    /// [`FILLERS`] and [`SKIPPABLE_SYMBOLS`], and a hyphen that joins two words ("drop-off").
    /// A dash before a number is never skipped (the lexer refuses one before an amount).
    pub fn leftovers(&self) -> Vec<String> {
        (0..self.len())
            .filter(|&i| {
                let t = &self.toks[i];
                !self.used[i]
                    && match &t.kind {
                        Kind::Word(w) => !FILLERS.contains(&w.as_str()),
                        Kind::Sym('-') => {
                            let word = |k: Option<&Token>| {
                                k.is_some_and(|t| {
                                    matches!(t.kind, Kind::Word(_) | Kind::Weekday(_))
                                })
                            };
                            !(i > 0 && word(self.toks.get(i - 1)) && word(self.toks.get(i + 1)))
                        }
                        Kind::Sym(c) => !SKIPPABLE_SYMBOLS.contains(c),
                        _ => true,
                    }
            })
            .map(|i| self.toks[i].text.clone())
            .collect()
    }

    /// Binds the words whose meaning is the construct they stand beside, once every recogniser
    /// has run: "each", "every" and "per" to the noun, period or price next to them ("$1 each",
    /// "each month"); "customer" to a billing verb or a condition ("charge customers", "if a
    /// customer has"); "subscription" to a recurring price; "all" to a price. Where they attach to
    /// nothing ("each of the first 2 copies", "the first 5 shipments of the subscription") they
    /// stay unplaced and the prompt is refused, naming them.
    fn bind_attached_words(&mut self, f: &mut Facts) {
        let content = |c: &Self, k: usize| {
            k < c.len()
                && c.used[k]
                && !matches!(c.toks[k].kind, Kind::Sym(_))
                && !c.toks[k].is_word("all")
        };
        let priced = !f.prices.is_empty() || f.ceiling.is_some() || f.minimum.is_some();
        for i in 0..self.len() {
            if self.is_any(i, &["subscription", "subscriptions"])
                && f.metric.is_none()
                && f.tier.is_none()
                && f.days.is_none()
                && !f.free
                && !f.usage_word
            {
                self.take(i, 1);
                f.base_cue = true;
            }
            if self.is_any(i, &["customer", "customers", "subscriber", "subscribers"]) {
                let verb = |k: usize| {
                    self.toks
                        .get(k)
                        .and_then(Token::word)
                        .is_some_and(|w| BILLING_VERBS.contains(&w))
                };
                if verb(i + 1) || (i > 0 && verb(i - 1)) {
                    self.take(i, 1);
                }
            }
        }
        for i in 0..self.len() {
            if self.is_any(i, &["pop", "apiece"]) && (priced || f.metric.is_some()) {
                // "$2 a pop", "$2 apiece": each
                self.take(i, 1);
            }
        }
        for i in (0..self.len()).rev() {
            if self.is_any(i, &["each", "every", "per"]) {
                let money_before = i > 0 && matches!(self.toks[i - 1].kind, Kind::Money(..));
                if money_before || content(self, i + 1) || (i > 0 && content(self, i - 1)) {
                    self.take(i, 1);
                }
            }
        }
        if f.tier.is_some() {
            // "Pricing bands: 1-30 deliveries at $1 each": the heading of a tier table
            for i in 0..self.len() {
                if self.is_any(
                    i,
                    &[
                        "band", "bands", "tier", "tiers", "bracket", "brackets", "level", "levels",
                        "table", "schedule",
                    ],
                ) {
                    self.take(i, 1);
                }
            }
        }
        if priced || f.metric.is_some() || f.threshold.is_some() {
            for i in 0..self.len() {
                if self.is(i, "all") {
                    self.take(i, 1);
                }
            }
        }
    }

    /// Reads the clause's facts, consuming the tokens of each construct found.
    pub fn read(&mut self) -> Facts {
        let mut f = Facts {
            plus: self.toks.first().is_some_and(|t| t.is_word("plus")),
            ..Facts::default()
        };
        self.read_name(&mut f);
        self.read_returns(&mut f);
        self.read_return_rate(&f);
        self.read_timing(&mut f);
        self.read_step(&mut f);
        self.read_bounds(&mut f);
        self.read_negated_bound(&mut f);
        self.read_condition(&mut f);
        self.read_span(&mut f);
        self.read_tiers(&mut f);
        self.read_free_and_discount(&mut f);
        self.read_periods(&mut f);
        self.read_days(&mut f);
        self.read_nouns(&mut f);
        self.name_counts(&mut f);
        for i in 0..self.len() {
            if let Some(m) = self.money(i) {
                self.take(i, 1);
                f.prices.push(m);
            } else if let Some(v) = self.number(i)
                && self.is_any(i + 1, &["per", "a", "each", "every"])
                && self
                    .toks
                    .get(i + 2)
                    .and_then(Token::word)
                    .is_some_and(|w| SHIPMENT_NOUNS.contains(&w) || UNIT_NOUNS.contains(&w))
            {
                // "plus 0.15 per shipment": an amount with no currency, in the plan's
                self.take(i, 1);
                f.prices.push((v, Mark::Plan, self.toks[i].text.clone()));
            }
        }
        f.all = (0..self.len()).any(|i| self.is(i, "all"));
        for i in 0..self.len() {
            if self.is_any(
                i,
                &[
                    "fee",
                    "fees",
                    "base",
                    "recurring",
                    "flat",
                    "fixed",
                    "membership",
                    "access",
                    "platform",
                    "service",
                ],
            ) {
                f.base_cue = true;
                if self.is_any(i, &["membership", "access", "platform", "service"]) {
                    self.take(i, 1);
                }
            }
            if self.is_any(i, &["usage", "metered"]) {
                f.usage_word = true;
                self.take(i, 1);
            }
        }
        self.bind_attached_words(&mut f);
        self.bind_verbs();
        f
    }

    /// Binds each verb of billing ([`PRICE_VERBS`]) to the construct beside it: the nearest
    /// token before or after it, past auxiliaries, pronouns and other verbs of billing ("will be
    /// billed", "costs you"), that an amount is or that a construct placed ("we bill $5", "$5 is
    /// charged per delivery", "billed monthly in arrears"). One beside nothing stays unplaced.
    fn bind_verbs(&mut self) {
        let verb = |c: &Self, k: usize| c.is_any(k, PRICE_VERBS);
        let glue = |c: &Self, k: usize| {
            c.free(k)
                && match &c.toks[k].kind {
                    Kind::Word(w) => FILLERS.contains(&w.as_str()) || verb(c, k),
                    Kind::Sym(s) => SKIPPABLE_SYMBOLS.contains(s),
                    _ => false,
                }
        };
        let placed = |c: &Self, k: usize| {
            k < c.len()
                && (matches!(c.toks[k].kind, Kind::Money(..))
                    || (c.used[k] && !matches!(c.toks[k].kind, Kind::Sym(_))))
        };
        let mut bound = Vec::new();
        for i in 0..self.len() {
            if !verb(self, i) {
                continue;
            }
            let mut after = i + 1;
            while after < self.len() && glue(self, after) {
                after += 1;
            }
            let mut before = i;
            while before > 0 && glue(self, before - 1) {
                before -= 1;
            }
            if placed(self, after) || (before > 0 && placed(self, before - 1)) {
                bound.push(i);
            }
        }
        for i in bound {
            self.take(i, 1);
        }
    }
}
