//! Splitting a prompt into clauses, and reading each clause into the facts it states.
//!
//! A clause is read by recognisers that each consume the tokens of one construct (a price, a
//! period, a span of periods, a step, a ceiling, a weekday set, a tier bound, ...). Whatever a
//! recogniser does not consume must be a word that carries no meaning on its own ("the", "bill",
//! "fee"); anything else is reported back, and the prompt is refused.

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
}

/// One clause: its tokens, which of them are consumed, and how it joins the previous clause.
#[derive(Debug, Clone)]
pub(crate) struct Clause {
    pub lead: Lead,
    pub toks: Vec<Token>,
    used: Vec<bool>,
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
    let flush = |current: &mut Vec<Token>, lead: Lead, clauses: &mut Vec<Clause>| {
        if !current.is_empty() {
            let toks = std::mem::take(current);
            let used = vec![false; toks.len()];
            clauses.push(Clause { lead, toks, used });
        }
    };
    while i < tokens.len() {
        let t = &tokens[i];
        let prev = current.last();
        let next = tokens.get(i + 1);
        let in_list = prev.is_some_and(is_day_like) && next.is_some_and(is_day_like);
        let between = current.len() >= 2
            && current[current.len() - 2].is_word("between")
            && matches!(
                prev.map(|p| &p.kind),
                Some(Kind::Number(_) | Kind::Money(..))
            );
        let ends_sentence = matches!(t.kind, Kind::Sym(c) if SENTENCE_END.contains(&c));
        if ends_sentence {
            flush(&mut current, lead, &mut clauses);
            lead = Lead::None;
            i += 1;
            continue;
        }
        if t.is_sym(',') && !in_list {
            flush(&mut current, lead, &mut clauses);
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
                    flush(&mut current, Lead::Then, &mut clauses);
                    lead = Lead::None;
                } else {
                    flush(&mut current, lead, &mut clauses);
                    lead = Lead::Then;
                }
            }
            i += n;
            continue;
        }
        if t.is_word("otherwise") {
            flush(&mut current, lead, &mut clauses);
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
        let keeps_together = in_list || (t.is_word("and") && between) || open_range;
        if joins && !keeps_together && !current.is_empty() {
            flush(&mut current, lead, &mut clauses);
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
    flush(&mut current, lead, &mut clauses);
    clauses
}

/// Symbols that carry no meaning in a billing clause: list and quote punctuation, and the em
/// dash of prose ("Sunday papers — see below"). Not the hyphen-minus (a sign or a range), nor
/// "/" (per), nor "+" ("101+"): those are placed by a construct or refused.
pub(crate) const SKIPPABLE_SYMBOLS: &[char] =
    &[',', ':', '(', ')', '"', '\'', '—', '“', '”', '‘', '’'];

/// Verbs of billing: "customer" binds to them ("charge customers $5", "customers pay $5").
const BILLING_VERBS: &[&str] = &[
    "bill", "bills", "billed", "charge", "charges", "charged", "pay", "pays", "paid", "invoice",
    "invoiced", "is", "are", "will", "get", "gets", "has", "have", "receive", "receives",
];

/// The closed list of words that carry no billing meaning of their own: articles, prepositions,
/// pronouns, auxiliaries and verbs of billing ("is charged", "we bill", "costs you"), and the
/// nouns of a price ("fee", "rate"). Words that qualify what is billed ("subscription",
/// "customer", "each", "every", "all", "any", "whole", "only", "first", "additional") are not in
/// it: a construct places them or the prompt is refused.
pub(crate) const FILLERS: &[&str] = &[
    "the",
    "a",
    "an",
    "of",
    "for",
    "to",
    "is",
    "are",
    "be",
    "will",
    "shall",
    "should",
    "would",
    "at",
    "on",
    "in",
    "it",
    "its",
    "this",
    "that",
    "these",
    "those",
    "there",
    "per",
    "they",
    "them",
    "their",
    "we",
    "our",
    "you",
    "your",
    "please",
    "bill",
    "bills",
    "billed",
    "billing",
    "charge",
    "charges",
    "charged",
    "charging",
    "cost",
    "costs",
    "costing",
    "price",
    "priced",
    "pricing",
    "rate",
    "rates",
    "fee",
    "fees",
    "amount",
    "pay",
    "pays",
    "paid",
    "payable",
    "plan",
    "just",
    "simply",
    "flat",
    "fixed",
    "and",
    "plus",
    "with",
    "also",
    "additionally",
    "which",
    "has",
    "have",
    "having",
    "gets",
    "get",
    "as",
    "so",
    "by",
    "from",
    "starting",
    "start",
    "starts",
    "begin",
    "begins",
    "beginning",
    "recurring",
    "base",
    "basic",
    "standard",
    "regular",
    "usage",
    "but",
    "applies",
    "apply",
    "applied",
    "we'll",
    "then",
    "make",
    "makes",
    "made",
    "invoice",
    "invoiced",
    "invoices",
    "invoicing",
    "can",
    "count",
    "counts",
    "introductory",
    "intro",
    "promotional",
    "promo",
    "initial",
    "normal",
    "full",
    "usual",
    "trial",
    "period",
    "thereafter",
];

const SHIPMENT_NOUNS: &[&str] = &[
    "shipment",
    "shipments",
    "delivery",
    "deliveries",
    "package",
    "packages",
    "parcel",
    "parcels",
    "paper",
    "papers",
    "newspaper",
    "newspapers",
    "box",
    "boxes",
    "dispatch",
    "dispatches",
    "drop",
    "drops",
    "kit",
    "kits",
    "bag",
    "bags",
    "label",
    "labels",
    "issue",
    "issues",
];
const UNIT_NOUNS: &[&str] = &[
    "copy", "copies", "unit", "units", "item", "items", "piece", "pieces",
];
const SHIPPED_WORDS: &[&str] = &["delivered", "shipped", "sent", "dispatched", "mailed"];
const SEAT_NOUNS: &[&str] = &[
    "seat", "seats", "license", "licenses", "licence", "licences", "user", "users", "member",
    "members",
];

/// Adjectives of "every subsequent month": the periods after the one before, one by one.
const FOLLOWING: &[&str] = &["subsequent", "following", "succeeding", "new"];

fn unit_word(w: &str) -> Option<(IntervalUnit, u32)> {
    Some(match w {
        "day" | "days" => (IntervalUnit::Day, 1),
        "week" | "weeks" | "wk" | "wks" => (IntervalUnit::Week, 1),
        "month" | "months" | "mo" | "mos" | "mth" | "mths" | "mon" => (IntervalUnit::Month, 1),
        "quarter" | "quarters" => (IntervalUnit::Month, 3),
        "year" | "years" | "yr" | "yrs" | "annum" => (IntervalUnit::Year, 1),
        _ => return None,
    })
}

fn adverb_period(w: &str) -> Option<(IntervalUnit, u32)> {
    Some(match w {
        "daily" => (IntervalUnit::Day, 1),
        "weekly" => (IntervalUnit::Week, 1),
        "fortnightly" | "biweekly" => (IntervalUnit::Week, 2),
        "monthly" => (IntervalUnit::Month, 1),
        "quarterly" => (IntervalUnit::Month, 3),
        "yearly" | "annually" | "annual" => (IntervalUnit::Year, 1),
        _ => return None,
    })
}

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
        f
    }

    fn read_returns(&mut self, f: &mut Facts) {
        let Some(at) = (0..self.len())
            .find(|&i| self.is_any(i, &["return", "returns", "returned", "returning"]))
        else {
            return;
        };
        self.take(at, 1);
        const CREDITED: &[&[&str]] = &[
            &["are", "not", "billed"],
            &["is", "not", "billed"],
            &["not", "billed"],
            &["not", "charged"],
            &["are", "not", "charged"],
            &["not", "counted"],
            &["do", "not", "count"],
            &["does", "not", "count"],
            &["are", "not", "counted"],
            &["are", "free"],
            &["free"],
            &["credited"],
            &["are", "credited"],
            &["refunded"],
            &["deducted"],
            &["excluded"],
            &["subtracted"],
            &["removed"],
            &["are", "excluded"],
            &["come", "off"],
            &["comes", "off"],
            &["not", "invoiced"],
            &["no", "charge"],
            &["are", "deducted"],
            &["be", "credited"],
            &["be", "deducted"],
            &["not", "be", "billed"],
            &["not", "be", "charged"],
            &["be", "refunded"],
            &["don", "not", "count"],
            &["will", "not", "be", "billed"],
            &["will", "not", "be", "charged"],
        ];
        const BILLED: &[&[&str]] = &[
            &["are", "still", "billed"],
            &["still", "billed"],
            &["are", "ignored"],
            &["ignored"],
            &["still", "count"],
        ];
        for i in 0..self.len() {
            for pattern in CREDITED {
                if self.seq(i, pattern) {
                    self.take(i, pattern.len());
                    f.returns = Some(ReturnsPolicy::Credited);
                    return;
                }
            }
            for pattern in BILLED {
                if self.seq(i, pattern) {
                    self.take(i, pattern.len());
                    f.returns = Some(ReturnsPolicy::Ignored);
                    return;
                }
            }
        }
        // "credit returns", "we don't bill returns", "returns are not billed" with the verb before
        for i in 0..at {
            for pattern in [
                &["do", "not", "bill"][..],
                &["not", "bill"],
                &["never", "bill"],
                &["credit"],
                &["deduct"],
                &["exclude"],
                &["subtract"],
            ] {
                if self.seq(i, pattern) {
                    self.take(i, pattern.len());
                    f.returns = Some(ReturnsPolicy::Credited);
                    return;
                }
            }
        }
        f.returns = None;
        self.used[at] = false;
    }

    /// "at that day's price", "at the weekday's rate": what a return takes off, as the
    /// conventions say (the rate of its shipment's weekday).
    fn read_return_rate(&mut self, f: &Facts) {
        if f.returns != Some(ReturnsPolicy::Credited) {
            return;
        }
        for i in 0..self.len() {
            if self.is_any(i, &["day", "weekday", "day's"])
                && i > 0
                && self.is_any(i - 1, &["that", "the", "its", "their", "each", "same"])
                && self.is_any(i + 1, &["price", "rate", "prices", "rates"])
            {
                self.take(i - 1, 3);
            }
        }
    }

    fn read_timing(&mut self, f: &mut Facts) {
        for i in 0..self.len() {
            for (pattern, arrears) in [
                (&["in", "arrears"][..], true),
                (&["arrears"], true),
                (&["in", "arrear"], true),
                (&["in", "advance"], false),
                (&["upfront"], false),
                (&["up", "front"], false),
                (&["prepaid"], false),
            ] {
                if self.seq(i, pattern) {
                    self.take(i, pattern.len());
                    f.arrears = Some(arrears);
                }
            }
        }
    }

    fn read_step(&mut self, f: &mut Facts) {
        const UP: &[&str] = &[
            "increase",
            "increases",
            "increased",
            "increasing",
            "rise",
            "rises",
            "rising",
            "grow",
            "grows",
            "growing",
            "climb",
            "climbs",
            "climbing",
            "raise",
            "raised",
            "raising",
            "add",
            "adds",
            "adding",
            "grows",
        ];
        const DOWN: &[&str] = &[
            "decrease",
            "decreases",
            "decreased",
            "decreasing",
            "drop",
            "drops",
            "dropping",
            "fall",
            "falls",
            "falling",
            "reduce",
            "reduces",
            "reduced",
            "reducing",
            "decline",
            "declines",
            "declining",
            "lower",
            "lowered",
            "lowering",
        ];
        for i in 0..self.len() {
            let (down, mut j) = if self.is_any(i, UP) {
                (false, i + 1)
            } else if self.is_any(i, DOWN) {
                (true, i + 1)
            } else if self.is_any(
                i,
                &[
                    "go", "goes", "going", "step", "steps", "stepping", "goes", "move", "moves",
                    "moving",
                ],
            ) && self.is_any(i + 1, &["up", "down"])
            {
                (self.is(i + 1, "down"), i + 2)
            } else {
                continue;
            };
            let verb_end = j;
            if self.is(j, "by") {
                j += 1;
            }
            let (amount, percent) = match &self.toks.get(j).map(|t| &t.kind) {
                Some(Kind::Money(v, _)) if self.free(j) => (*v, false),
                Some(Kind::Percent(p)) if self.free(j) => (*p, true),
                _ => continue,
            };
            let mark = self.money(j).map(|(_, m, t)| (m, t));
            self.take(i, verb_end - i);
            self.take(j, 1);
            if j > verb_end {
                self.take(verb_end, 1);
            }
            let every = self.period_after(j + 1);
            f.step = Some(StepFact {
                amount: if down { -amount } else { amount },
                percent,
                every,
                mark,
            });
            return;
        }
        // "$1 more each month", "5% less every year": a change relative to the period before,
        // bound to the period that follows it (without one it is not a step)
        for j in 0..self.len() {
            let (amount, percent) = match self.toks.get(j).map(|t| &t.kind) {
                Some(Kind::Money(v, _)) if self.free(j) => (*v, false),
                Some(Kind::Percent(p)) if self.free(j) => (*p, true),
                _ => continue,
            };
            let down = match self.w(j + 1) {
                Some("more" | "extra" | "higher") => false,
                Some("less" | "lower") => true,
                _ => continue,
            };
            if self.is(j + 2, "than") {
                continue;
            }
            let mark = self.money(j).map(|(_, m, t)| (m, t));
            let Some((every, _)) = self.period_at(j + 2) else {
                continue;
            };
            self.take(j, 2);
            f.step = Some(StepFact {
                amount: if down { -amount } else { amount },
                percent,
                every: Some(every),
                mark,
            });
            return;
        }
    }

    /// A period named right at `i` ("per month", "each month", "every 2 months", "monthly",
    /// "a month", "/mo", "in a month"), consumed.
    fn period_at(&mut self, i: usize) -> Option<(PeriodRef, usize)> {
        if let Some(w) = self.w(i)
            && let Some((unit, count)) = adverb_period(w)
        {
            self.take(i, 1);
            return Some((PeriodRef { unit, count }, 1));
        }
        let lead = self.is_any(
            i,
            &["per", "each", "every", "a", "an", "in", "/", "that", "this"],
        ) || self
            .toks
            .get(i)
            .is_some_and(|t| t.is_sym('/') && self.free(i));
        if !lead {
            return None;
        }
        let mut j = i + 1;
        if self.is_any(i, &["in"]) {
            if !self.is_any(j, &["a", "any", "each", "every", "the", "one"]) {
                return None;
            }
            j += 1;
            if self.is(j, "given")
                || self.is(j, "single")
                || self.is(j, "calendar")
                || self.is(j, "billing")
            {
                j += 1;
            }
        } else if self.is(j, "single") || self.is(j, "calendar") || self.is(j, "billing") {
            j += 1;
        } else if self.is_any(i, &["each", "every"]) && self.is_any(j, FOLLOWING) {
            // "every subsequent month", "each following month": every period after this one
            j += 1;
        }
        let mut count = 1u32;
        if let Some(n) = self.count(j)
            && self.is_any(i, &["every", "each", "per"])
        {
            count = u32::try_from(n).ok()?;
            j += 1;
        } else if self.is(j, "other") && self.is(i, "every") {
            count = 2;
            j += 1;
        }
        let (unit, mult) = unit_word(self.w(j)?)?;
        // "per period", "per billing cycle" are handled by the caller as the plan's interval.
        self.take(i, j + 1 - i);
        Some((
            PeriodRef {
                unit,
                count: count.checked_mul(mult)?,
            },
            j + 1 - i,
        ))
    }

    fn period_after(&mut self, i: usize) -> Option<PeriodRef> {
        self.period_at(i).map(|(p, _)| p)
    }

    fn read_periods(&mut self, f: &mut Facts) {
        for i in 0..self.len() {
            if let Some((p, _)) = self.period_at(i) {
                f.periods.push(p);
                if i > 0 && matches!(self.toks[i - 1].kind, Kind::Money(..)) {
                    f.price_per_period = true;
                }
            }
            // "per billing period", "each billing cycle", "per period"
            if self.is_any(i, &["per", "each", "every", "a"]) {
                let mut j = i + 1;
                if self.is(j, "billing") {
                    j += 1;
                }
                if self.is_any(j, &["period", "cycle"]) {
                    self.take(i, j + 1 - i);
                    f.periods.push(PeriodRef {
                        unit: IntervalUnit::Day,
                        count: 0,
                    });
                }
            }
        }
    }

    fn read_bounds(&mut self, f: &mut Facts) {
        const CEILING: &[&[&str]] = &[
            &["until", "it", "reaches"],
            &["until", "reaching"],
            &["until", "it", "hits"],
            &["until", "it", "gets", "to"],
            &["until", "the", "price", "reaches"],
            &["until"],
            &["up", "to", "at", "most"],
            &["up", "to", "a", "maximum", "of"],
            &["to", "a", "maximum", "of"],
            &["a", "maximum", "of"],
            &["maximum", "of"],
            &["max", "of"],
            &["maximum"],
            &["max"],
            &["capped", "at"],
            &["cap", "of"],
            &["cap", "at"],
            &["cap"],
            &["never", "more", "than"],
            &["no", "more", "than"],
            &["not", "more", "than"],
            &["at", "most"],
            &["never", "exceeds"],
            &["never", "exceed"],
            &["not", "to", "exceed"],
            &["not", "exceeding"],
            &["does", "not", "exceed"],
            &["do", "not", "exceed"],
            &["will", "not", "exceed"],
            &["tops", "out", "at"],
            &["topping", "out", "at"],
            &["maxes", "out", "at"],
            &["maxing", "out", "at"],
            &["up", "to"],
            &["limited", "to"],
            &["limit", "of"],
            &["ceiling", "of"],
            &["never", "above"],
            &["never", "go", "above"],
            &["never", "goes", "above"],
            &["at", "the", "most"],
        ];
        const FLOOR: &[&[&str]] = &[
            &["a", "minimum", "of"],
            &["minimum", "of"],
            &["min", "of"],
            &["minimum", "charge", "of"],
            &["minimum", "fee", "of"],
            &["minimum", "spend", "of"],
            &["minimum", "bill", "of"],
            &["minimum", "charge"],
            &["minimum"],
            &["min"],
            &["at", "least"],
            &["no", "less", "than"],
            &["not", "less", "than"],
            &["never", "less", "than"],
            &["never", "below"],
            &["not", "below"],
            &["floor", "of"],
            &["a", "floor", "of"],
            &["never", "goes", "below"],
            &["never", "go", "below"],
            &["bottoms", "out", "at"],
        ];
        for (patterns, is_ceiling) in [(CEILING, true), (FLOOR, false)] {
            'outer: for i in 0..self.len() {
                for pattern in patterns {
                    if !self.seq(i, pattern) {
                        continue;
                    }
                    // the bound may be preceded by a period word: "a monthly minimum of $15"
                    let mut j = i + pattern.len();
                    let mut period = None;
                    if let Some((p, n)) = self.period_at(j) {
                        period = Some(p);
                        j += n;
                    }
                    j = self.skip_articles(j);
                    if let Some(m) = self.money(j) {
                        self.take(i, pattern.len());
                        self.take(j, 1);
                        self.used[i..j].iter_mut().for_each(|u| *u = true);
                        if let Some(p) = period {
                            f.periods.push(p);
                        }
                        if is_ceiling {
                            f.target = pattern[0] == "until";
                            f.ceiling = Some(m);
                        } else {
                            f.minimum = Some(m);
                        }
                        break 'outer;
                    }
                }
                // "$15 minimum", "$40 max"
                if let Some(m) = self.money(i)
                    && (is_ceiling && self.is_any(i + 1, &["max", "maximum", "cap"])
                        || !is_ceiling && self.is_any(i + 1, &["minimum", "min"]))
                {
                    self.take(i, 2);
                    if is_ceiling {
                        f.ceiling = Some(m)
                    } else {
                        f.minimum = Some(m)
                    }
                    break;
                }
            }
        }
    }

    /// "we will not bill above $40", "never charge more than $40", "don't go over $40": a
    /// negation, verbs of billing, then a comparison and an amount. A ceiling ("above", "more
    /// than", "over", "beyond") or a floor ("below", "less than", "under").
    fn read_negated_bound(&mut self, f: &mut Facts) {
        const VERBS: &[&str] = &[
            "bill",
            "billed",
            "charge",
            "charged",
            "be",
            "go",
            "goes",
            "cost",
            "costs",
            "invoice",
            "invoiced",
            "will",
            "we",
            "ever",
            "you",
            "them",
            "customers",
            "the",
            "total",
            "amount",
        ];
        for i in 0..self.len() {
            if !self.is_any(i, &["not", "never", "no"])
                || f.ceiling.is_some()
                || f.minimum.is_some()
            {
                continue;
            }
            let mut j = i + 1;
            while self.is_any(j, VERBS) {
                j += 1;
            }
            let (n, ceiling) = if self.seq(j, &["more", "than"]) {
                (2, true)
            } else if self.seq(j, &["less", "than"]) {
                (2, false)
            } else if self.is_any(j, &["above", "over", "beyond", "exceed", "exceeding"]) {
                (1, true)
            } else if self.is_any(j, &["below", "under"]) {
                (1, false)
            } else {
                continue;
            };
            if let Some(m) = self.money(j + n) {
                self.take(i, j + n + 1 - i);
                if ceiling {
                    f.ceiling = Some(m);
                } else {
                    f.minimum = Some(m);
                }
                return;
            }
        }
    }

    fn read_condition(&mut self, f: &mut Facts) {
        let Some(at) =
            (0..self.len()).find(|&i| self.is_any(i, &["if", "when", "once", "whenever", "where"]))
        else {
            return;
        };
        for i in at + 1..self.len() {
            // more than N | over N | above N | exceeds N | at least N | N or more
            let strict = [
                &["more", "than"][..],
                &["over"],
                &["above"],
                &["exceeds"],
                &["exceed"],
                &["in", "excess", "of"],
            ];
            for pattern in strict {
                if self.seq(i, pattern)
                    && let Some(n) = self.count(i + pattern.len())
                {
                    self.take(at, 1);
                    self.take(i, pattern.len() + 1);
                    f.threshold = Some(Threshold { up_to: n });
                    self.consume_condition_subject(at);
                    return;
                }
            }
            if self.seq(i, &["at", "least"])
                && let Some(n) = self.count(i + 2)
                && n > 0
            {
                self.take(at, 1);
                self.take(i, 3);
                f.threshold = Some(Threshold { up_to: n - 1 });
                self.consume_condition_subject(at);
                return;
            }
            if let Some(n) = self.count(i)
                && n > 0
                && self.seq(i + 1, &["or", "more"])
            {
                self.take(at, 1);
                self.take(i, 3);
                f.threshold = Some(Threshold { up_to: n - 1 });
                self.consume_condition_subject(at);
                return;
            }
        }
    }

    /// "a customer has", "there are", "the subscriber receives" between "if" and the count.
    fn consume_condition_subject(&mut self, from: usize) {
        for i in from..self.len() {
            if self.is_any(
                i,
                &[
                    "has",
                    "have",
                    "receives",
                    "receive",
                    "gets",
                    "get",
                    "ships",
                    "there",
                    "total",
                    "totals",
                    "reach",
                    "reaches",
                    "sends",
                    "send",
                    "customer",
                    "subscriber",
                ],
            ) {
                self.take(i, 1);
            }
        }
    }

    fn read_span(&mut self, f: &mut Facts) {
        for i in 0..self.len() {
            // (for) (the) first N units | first unit | first N unit's
            if matches!(self.toks[i].kind, Kind::Ordinal(1)) && self.free(i) {
                let mut j = i + 1;
                let n = match self.count(j) {
                    Some(n) => {
                        j += 1;
                        n
                    }
                    None => 1,
                };
                if let Some((unit, mult)) = self.w(j).and_then(unit_word) {
                    let n = u32::try_from(n).ok().and_then(|n| n.checked_mul(mult));
                    if let Some(n) = n {
                        self.take(i, j + 1 - i);
                        f.span = Some(Span::Absolute {
                            from: 1,
                            to: Some(n),
                            unit,
                        });
                        return;
                    }
                }
            }
            // the Nth unit (on|onwards) | starting (in|from) the Nth unit | from the Nth unit
            if let Kind::Ordinal(k) = self.toks[i].kind
                && self.free(i)
                && k > 1
                && let Some((unit, 1)) = self.w(i + 1).and_then(unit_word)
            {
                let from_word = i > 0
                    && self.is_any(i - 1, &["from", "starting", "after", "beginning"])
                    || i > 1
                        && self.is_any(i - 2, &["from", "starting", "beginning"])
                        && self.is_any(i - 1, &["the", "in", "with"]);
                let onwards = self.is_any(i + 2, &["on", "onward", "onwards", "forward"]);
                let after = i > 0 && self.is(i - 1, "after") || i > 1 && self.is(i - 2, "after");
                self.take(i, 2);
                if onwards {
                    self.take(i + 2, 1);
                }
                for back in 1..=2 {
                    if i >= back
                        && self.is_any(
                            i - back,
                            &["from", "starting", "beginning", "after", "in", "with"],
                        )
                    {
                        self.take(i - back, 1);
                    }
                }
                f.span = Some(if after {
                    Span::Absolute {
                        from: k + 1,
                        to: None,
                        unit,
                    }
                } else if from_word || onwards {
                    Span::Absolute {
                        from: k,
                        to: None,
                        unit,
                    }
                } else {
                    Span::Absolute {
                        from: k,
                        to: Some(k),
                        unit,
                    }
                });
                return;
            }
            // unit N | units N-M | units N to M | (from|starting|after) unit N (on)
            if let Some((unit, 1)) = self.w(i).and_then(unit_word)
                && let Some(a) = self.count(i + 1)
            {
                let a = u32::try_from(a).unwrap_or(u32::MAX);
                let mut to = Some(a);
                let mut n = 2;
                if (self.toks.get(i + 2).is_some_and(|t| t.is_sym('-'))
                    || self.is_any(i + 2, &["to", "through", "thru"]))
                    && let Some(b) = self.count(i + 3)
                {
                    to = Some(u32::try_from(b).unwrap_or(u32::MAX));
                    n = 4;
                }
                let mut from = a;
                let before = |c: &Self, w: &[&str]| i > 0 && c.is_any(i - 1, w);
                if before(self, &["from", "starting", "beginning"])
                    || self.is_any(i + n, &["on", "onward", "onwards"])
                {
                    to = None;
                } else if before(self, &["after"]) {
                    from = a + 1;
                    to = None;
                }
                if before(
                    self,
                    &["from", "starting", "beginning", "after", "in", "for"],
                ) {
                    self.take(i - 1, 1);
                }
                if self.is_any(i + n, &["on", "onward", "onwards"]) {
                    self.take(i + n, 1);
                }
                self.take(i, n);
                f.span = Some(Span::Absolute { from, to, unit });
                return;
            }
            // after (the first) N units | for N units | for the next N units
            if self.is_any(i, &["after", "for"]) {
                let mut j = i + 1;
                let first = self.is(j, "the")
                    && matches!(
                        self.toks.get(j + 1).map(|t| &t.kind),
                        Some(Kind::Ordinal(1))
                    );
                if self.is(j, "the") {
                    j += 1;
                }
                if self.is(j, "next") {
                    j += 1;
                }
                if first {
                    j += 1;
                }
                if let Some(n) = self.count(j)
                    && let Some((unit, mult)) = self.w(j + 1).and_then(unit_word)
                    && let Some(n) = u32::try_from(n).ok().and_then(|n| n.checked_mul(mult))
                {
                    let is_after = self.is(i, "after");
                    self.take(i, j + 2 - i);
                    f.span = Some(if is_after {
                        Span::Absolute {
                            from: n + 1,
                            to: None,
                            unit,
                        }
                    } else if first {
                        Span::Absolute {
                            from: 1,
                            to: Some(n),
                            unit,
                        }
                    } else {
                        Span::For { n, unit }
                    });
                    return;
                }
            }
        }
    }

    fn read_tiers(&mut self, f: &mut Facts) {
        for i in 0..self.len() {
            // "the first delivery (each month) is free": the first one
            if matches!(self.toks[i].kind, Kind::Ordinal(1))
                && self.free(i)
                && self.is_any(
                    i + 1,
                    &[
                        "shipment", "delivery", "package", "parcel", "box", "kit", "bag", "paper",
                        "copy", "unit", "item",
                    ],
                )
            {
                self.take(i, 1);
                f.tier = Some(TierBound::First(1));
                return;
            }
            // first N (noun)
            if matches!(self.toks[i].kind, Kind::Ordinal(1))
                && self.free(i)
                && let Some(n) = self.count(i + 1)
            {
                self.take(i, 2);
                f.tier = Some(TierBound::First(n));
                return;
            }
            // "after the first 20 (shipments)", "beyond the first 20": units from 21 on
            if self.is_any(i, &["after", "beyond", "over", "above", "past"])
                && self.is(i + 1, "the")
                && matches!(
                    self.toks.get(i + 2).map(|t| &t.kind),
                    Some(Kind::Ordinal(1))
                )
                && self.free(i + 2)
                && let Some(n) = self.count(i + 3)
            {
                self.take(i, 4);
                f.tier = Some(TierBound::Above(n));
                return;
            }
            // "includes 20 shipments", "20 shipments included"
            if self.is_any(i, &["includes", "including", "include", "included"])
                && let Some(n) = self.count(i + 1)
            {
                self.take(i, 2);
                f.free = true;
                f.free_count = Some(n);
                return;
            }
            if let Some(n) = self.count(i)
                && self.is_any(i + 2, &["included", "includes"])
            {
                self.take(i, 1);
                self.take(i + 2, 1);
                f.free = true;
                f.free_count = Some(n);
                return;
            }
            if self.is(i, "next")
                && let Some(n) = self.count(i + 1)
            {
                self.take(i, 2);
                f.tier = Some(TierBound::Next(n));
                return;
            }
            if self.is_any(
                i,
                &[
                    "additional",
                    "extra",
                    "further",
                    "remaining",
                    "subsequent",
                    "excess",
                ],
            ) && self.w(i + 1).is_none_or(|w| unit_word(w).is_none())
            {
                self.take(i, 1);
                if i > 0 && self.is_any(i - 1, &["any", "each", "every", "all"]) {
                    self.take(i - 1, 1);
                }
                f.tier = Some(TierBound::Rest);
                return;
            }
            for pattern in [
                &["beyond", "that"][..],
                &["above", "that"],
                &["over", "that"],
                &["past", "that"],
            ] {
                if self.seq(i, pattern) {
                    self.take(i, 2);
                    f.tier = Some(TierBound::Rest);
                    return;
                }
            }
            for pattern in [
                &["more", "than"][..],
                &["over"],
                &["above"],
                &["beyond"],
                &["after"],
                &["in", "excess", "of"],
                &["exceeding"],
                &["past"],
            ] {
                if self.seq(i, pattern)
                    && let Some(n) = self.count(i + pattern.len())
                {
                    self.take(i, pattern.len() + 1);
                    f.tier = Some(TierBound::Above(n));
                    return;
                }
            }
            for pattern in [&["up", "to"][..], &["upto"], &["the", "first"]] {
                if self.seq(i, pattern)
                    && let Some(n) = self.count(i + pattern.len())
                {
                    self.take(i, pattern.len() + 1);
                    f.tier = Some(TierBound::UpTo(n));
                    return;
                }
            }
            if let Some(a) = self.count(i) {
                let from_word = i > 0 && self.is_any(i - 1, &["from", "between"]);
                // N-M | N to M | N through M | between N and M
                if (self
                    .toks
                    .get(i + 1)
                    .is_some_and(|t| t.is_sym('-') && self.free(i + 1))
                    || self.is_any(i + 1, &["to", "through", "thru"])
                    || (from_word && self.is(i + 1, "and")))
                    && let Some(b) = self.count(i + 2)
                {
                    if from_word {
                        self.take(i - 1, 1);
                    }
                    self.take(i, 3);
                    f.tier = Some(TierBound::Range(a, b));
                    return;
                }
                // N and above | N and up | N or more | N+ | N and over
                for pattern in [
                    &["and", "above"][..],
                    &["and", "up"],
                    &["or", "more"],
                    &["and", "over"],
                    &["and", "beyond"],
                    &["plus"],
                    &["or", "above"],
                ] {
                    if self.seq(i + 1, pattern) {
                        self.take(i, pattern.len() + 1);
                        f.tier = Some(TierBound::From(a));
                        return;
                    }
                }
                if self.toks.get(i + 1).is_some_and(|t| t.is_sym('+')) {
                    self.take(i, 2);
                    f.tier = Some(TierBound::From(a));
                    return;
                }
            }
        }
    }

    fn read_free_and_discount(&mut self, f: &mut Facts) {
        for i in 0..self.len() {
            for pattern in [
                &["free", "of", "charge"][..],
                &["free"],
                &["no", "charge"],
                &["complimentary"],
                &["at", "no", "cost"],
                &["at", "no", "charge"],
                &["on", "the", "house"],
                &["no", "cost"],
                &["not", "charged"],
                &["not", "billed"],
                &["part", "of"],
                &["included", "in"],
                &["covered", "by"],
                &["no", "extra", "charge"],
                &["at", "no", "extra", "cost"],
                &["at", "no", "extra", "charge"],
            ] {
                if self.seq(i, pattern) {
                    self.take(i, pattern.len());
                    f.free = true;
                    // "10 free shipments", "the first 10 are free"
                    if let Some(n) = self.count(i.wrapping_sub(1)) {
                        self.take(i - 1, 1);
                        f.free_count = Some(n);
                    } else if let Some(n) = self.count(i + pattern.len()) {
                        self.take(i + pattern.len(), 1);
                        f.free_count = Some(n);
                    }
                }
            }
            if let Some(Kind::Percent(p)) = self.toks.get(i).map(|t| &t.kind)
                && self.free(i)
                && self.is_any(
                    i + 1,
                    &["off", "discount", "discounted", "reduction", "less"],
                )
            {
                f.discount = Some(*p);
                self.take(i, 2);
            }
            for pattern in [
                &["discount", "of"][..],
                &["discounted", "by"],
                &["reduction", "of"],
                &["less"],
            ] {
                if self.seq(i, pattern)
                    && let Some(Kind::Percent(p)) =
                        self.toks.get(i + pattern.len()).map(|t| &t.kind)
                {
                    f.discount = Some(*p);
                    self.take(i, pattern.len() + 1);
                }
            }
            for pattern in [
                &["half", "price"][..],
                &["half", "off"],
                &["half", "-", "price"],
            ] {
                let matches = pattern.iter().enumerate().all(|(k, w)| {
                    if *w == "-" {
                        self.toks.get(i + k).is_some_and(|t| t.is_sym('-'))
                    } else {
                        self.is(i + k, w)
                    }
                });
                if matches {
                    f.discount = Some(Decimal::from(50));
                    self.take(i, pattern.len());
                }
            }
        }
    }

    fn read_days(&mut self, f: &mut Facts) {
        let mut days = [false; 7];
        let mut any = false;
        let mut except = false;
        let mut i = 0;
        while i < self.len() {
            if !self.free(i) {
                i += 1;
                continue;
            }
            let group: Option<Vec<usize>> = match (&self.toks[i].kind, self.toks[i].word()) {
                (Kind::Weekday(d), _) => {
                    let d = *d;
                    // ranges: Monday to Saturday, Mon-Fri, Monday through Friday
                    let to = (self.toks.get(i + 1).is_some_and(|t| t.is_sym('-'))
                        || self.is_any(i + 1, &["to", "through", "thru", "till"]))
                    .then(|| match self.toks.get(i + 2).map(|t| &t.kind) {
                        Some(Kind::Weekday(e)) => Some(*e),
                        _ => None,
                    })
                    .flatten();
                    if let Some(e) = to {
                        self.take(i, 3);
                        if e < d {
                            // Friday to Monday wraps over the weekend
                            Some((d..7).chain(0..=e).collect())
                        } else {
                            Some((d..=e).collect())
                        }
                    } else {
                        self.take(i, 1);
                        Some(vec![d])
                    }
                }
                (_, Some("weekday" | "weekdays")) => {
                    self.take(i, 1);
                    Some((0..5).collect())
                }
                (_, Some("weekend" | "weekends")) => {
                    self.take(i, 1);
                    if self.is_any(i + 1, &["day", "days"]) {
                        self.take(i + 1, 1);
                    }
                    Some(vec![5, 6])
                }
                (_, Some("other" | "remaining")) if self.is_any(i + 1, &["day", "days"]) => {
                    // "all other days": the default price, below the named days' prices
                    self.take(i, 2);
                    f.other_days = true;
                    None
                }
                (_, Some("every" | "any" | "each"))
                    if self.is(i + 1, "day") && !self.is(i + 2, "of") =>
                {
                    self.take(i, 2);
                    Some((0..7).collect())
                }
                (_, Some("except" | "excluding"))
                    if self.toks.get(i + 1).is_some_and(is_day_like) =>
                {
                    self.take(i, 1);
                    except = true;
                    None
                }
                _ => None,
            };
            if let Some(group) = group {
                for d in group {
                    if except {
                        days[d] = false;
                    } else {
                        days[d] = true;
                        any = true;
                    }
                }
                // list glue: "Monday, Wednesday and Friday", "weekdays and Saturdays", "Sat/Sun"
                let glue = self.is_any(i + 1, &["and", "or"])
                    || self
                        .toks
                        .get(i + 1)
                        .is_some_and(|t| t.is_sym('/') || t.is_sym('&'));
                if glue && self.toks.get(i + 2).is_some_and(is_day_like) {
                    self.take(i + 1, 1);
                }
            }
            i += 1;
        }
        if except && !any {
            // "every day except Sunday" consumed "every day" already; "except Sunday" alone is all but Sunday
            days = [true; 7];
            for i in 0..self.len() {
                if let Kind::Weekday(d) = self.toks[i].kind {
                    days[d] = false;
                }
            }
            any = true;
        }
        if any {
            f.days = Some(days);
        }
        // "on", "deliveries on Sundays": "on" is a filler
    }

    /// Whether the usage noun at `i` is the unit of a price: "per (Sunday) delivery", "each
    /// box", "a parcel", "/shipment", "all shipments", or a price said "each" / "apiece".
    fn rate_marked(&self, i: usize) -> bool {
        let mut k = i;
        while k > 0 {
            let t = &self.toks[k - 1];
            let adjective = matches!(t.kind, Kind::Weekday(_))
                || matches!(
                    t.word(),
                    Some(
                        "weekday"
                            | "weekend"
                            | "meal"
                            | "recipe"
                            | "grocery"
                            | "additional"
                            | "extra"
                            | "further"
                            | "subsequent"
                    )
                );
            if !adjective {
                break;
            }
            k -= 1;
        }
        let marked_before = k > 0
            && (self.toks[k - 1].is_sym('/')
                || matches!(
                    self.toks[k - 1].word(),
                    Some("per" | "each" | "every" | "a" | "an" | "all")
                ));
        let word = |m: usize| self.toks.get(m).and_then(Token::word);
        marked_before
            || (0..self.len()).any(|m| {
                matches!(self.toks[m].kind, Kind::Money(..))
                    && (matches!(word(m + 1), Some("each" | "apiece"))
                        || (word(m + 1) == Some("a")
                            && matches!(word(m + 2), Some("pop" | "piece"))))
            })
    }

    fn read_nouns(&mut self, f: &mut Facts) {
        for i in 0..self.len() {
            if self.free(i)
                && self
                    .w(i)
                    .is_some_and(|w| SHIPMENT_NOUNS.contains(&w) || UNIT_NOUNS.contains(&w))
                && self.rate_marked(i)
            {
                f.rate_unit = true;
            }
            // "meal kit", "recipe box": the closed list of words that name what a delivery holds
            // without qualifying it (a "vegetarian kit" or an "express parcel" stays unplaced)
            if self.is_any(i, &["meal", "meals", "recipe", "grocery"])
                && self.is_any(i + 1, &["kit", "kits", "box", "boxes", "bag", "bags"])
            {
                self.take(i, 1);
            }
            // "$0.50/delivery": the slash is "per"
            if i > 0
                && self.toks[i - 1].is_sym('/')
                && self.free(i - 1)
                && self.w(i).is_some_and(|w| {
                    SHIPMENT_NOUNS.contains(&w)
                        || UNIT_NOUNS.contains(&w)
                        || SEAT_NOUNS.contains(&w)
                })
            {
                self.take(i - 1, 1);
            }
            if self.is_any(i, SHIPMENT_NOUNS) {
                self.take(i, 1);
                if f.metric != Some(UsageMetric::Units) {
                    f.metric = Some(UsageMetric::Shipments);
                }
            } else if self.is_any(i, UNIT_NOUNS) {
                let shipped = self.is_any(i + 1, SHIPPED_WORDS)
                    || (i > 0 && self.is_any(i - 1, SHIPPED_WORDS));
                let copy = self.is_any(i, &["copy", "copies"]);
                if shipped {
                    self.take(i, 1);
                    let k = if self.is_any(i + 1, SHIPPED_WORDS) {
                        i + 1
                    } else {
                        i - 1
                    };
                    self.take(k, 1);
                    f.metric = Some(UsageMetric::Units);
                } else if copy && !f.periods.is_empty() && !f.free {
                    // "$12 per month for each copy", "for every copy on the subscription",
                    // "each of the first 2 copies" at a monthly price: subscribed copies (the
                    // quantity), never copies delivered
                    self.take(i, 1);
                    if i > 0 && self.is(i - 1, "subscribed") {
                        self.take(i - 1, 1);
                    }
                    f.per_copy_recurring = true;
                } else if copy && i > 1 && self.is(i - 1, "subscribed") {
                    self.take(i - 1, 2);
                    f.per_copy_recurring = true;
                } else {
                    self.take(i, 1);
                    f.metric = Some(UsageMetric::Units);
                }
            } else if self.is_any(i, SEAT_NOUNS) {
                self.take(i, 1);
                f.per_copy_recurring = true;
            }
        }
        for i in 0..self.len() {
            if self.is_any(i, SHIPPED_WORDS) && f.metric.is_some() {
                self.take(i, 1);
            }
        }
        for i in 0..self.len() {
            if self.is_any(i, &["volume"]) {
                self.take(i, 1);
                f.volume = true;
            }
            if self.is_any(i, &["graduated", "tiered", "progressive"]) {
                self.take(i, 1);
                f.graduated = true;
            }
        }
    }
}
