//! Reading the name of the thing sold: the admin's own words for it, which become the description
//! of the charge on the invoice ("Daily paper (26 shipments)").
//!
//! A name is a noun phrase in one of three places, and nowhere else:
//! - a heading that opens a sentence, before its colon: "Daily paper: $0.75 per delivery";
//! - the subject of a verb of cost that opens a sentence: "The magazine costs $5 a month";
//! - "for the ..." beside a recurring price: "$25 a month for the garden box".
//!
//! The phrase ends in a head noun from the closed list [`HEADS`] (a thing sold), and its other
//! words are the admin's own, minus every word that carries billing meaning (quantifiers, days,
//! periods, counted nouns, conditions; [`NOT_IN_NAMES`] and the grammar's word lists). A plural
//! ("for vegetarian kits"), a phrase without an article after "for" ("for same-day delivery") or
//! a head outside the list ("for the digital edition") is not a name: a class of things is a
//! qualifier, which the prompt must not drop, so its words stay unplaced and the prompt is
//! refused.

use super::super::lexer::{Kind, Token, word_currency};
use super::words::{
    BILLING_VERBS, FILLERS, PRICE_VERBS, SEAT_NOUNS, SHIPMENT_NOUNS, SHIPPED_WORDS, UNIT_NOUNS,
    adverb_period, unit_word,
};
use super::{Clause, Facts};

/// Where a name stood.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NameForm {
    /// "Daily paper: ...".
    Heading,
    /// "The magazine costs ...".
    Subject,
    /// "... for the garden box".
    For,
}

/// The name of the thing sold, as the admin wrote it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Name {
    /// The words as written, without the article, the first letter capitalised.
    pub text: String,
    pub form: NameForm,
    /// The head is a thing delivered ("paper", "box"): on its own it does not say whether a
    /// price is a fee per period or a price per delivery.
    pub head_delivered: bool,
    /// A word of the name is a period ("Daily paper", "Weekly box"): the price must say its own
    /// period or unit.
    pub period_word: bool,
}

/// Head nouns of a name: the things a plan sells. A thing delivered whole names the product as
/// well as a unit of usage; the generic ones (plan, subscription, ...) need a word before them.
pub(super) const HEADS: &[&str] = &[
    "paper",
    "newspaper",
    "box",
    "kit",
    "bag",
    "parcel",
    "package",
    "delivery",
    "magazine",
    "newsletter",
    "journal",
    "digest",
    "gazette",
    "bulletin",
    "bundle",
    "plan",
    "subscription",
    "membership",
    "service",
];

const GENERIC_HEADS: &[&str] = &["plan", "subscription", "membership", "service"];

/// Words that carry billing meaning wherever they stand and so never belong to a name, beyond
/// those of the grammar's own lists (periods, days, counted nouns, verbs of billing).
pub(super) const NOT_IN_NAMES: &[&str] = &[
    "each",
    "every",
    "all",
    "any",
    "only",
    "whole",
    "entire",
    "first",
    "next",
    "last",
    "other",
    "another",
    "additional",
    "extra",
    "further",
    "remaining",
    "subsequent",
    "excess",
    "new",
    "existing",
    "returning",
    "same",
    "single",
    "both",
    "either",
    "neither",
    "no",
    "not",
    "never",
    "none",
    "free",
    "complimentary",
    "included",
    "includes",
    "including",
    "return",
    "returns",
    "returned",
    "more",
    "less",
    "most",
    "least",
    "over",
    "above",
    "below",
    "under",
    "beyond",
    "after",
    "before",
    "until",
    "till",
    "up",
    "max",
    "maximum",
    "min",
    "minimum",
    "cap",
    "capped",
    "ceiling",
    "floor",
    "limit",
    "discount",
    "discounted",
    "off",
    "half",
    "percent",
    "if",
    "when",
    "once",
    "unless",
    "except",
    "excluding",
    "usage",
    "metered",
    "volume",
    "graduated",
    "tiered",
    "progressive",
    "tier",
    "tiers",
    "band",
    "bands",
    "customer",
    "customers",
    "subscriber",
    "subscribers",
    "weekday",
    "weekdays",
    "weekend",
    "weekends",
    "holiday",
    "holidays",
    "daytime",
    "period",
    "cycle",
    "or",
    "total",
    "ever",
    "overall",
    "life",
    "lifetime",
    "trial",
    "credit",
    "credited",
    "refund",
    "refunded",
    "late",
    "early",
];

/// Fillers that may stand in a name as the admin's adjective ("Basic plan", "Standard box").
const ADJECTIVE_FILLERS: &[&str] = &["basic", "standard", "regular"];

/// Determiners before a name, left out of it.
const DETERMINERS: &[&str] = &["the", "our", "your", "this", "my"];

/// Verbs of cost after a subject: "The magazine costs", "Home delivery is", "The box runs".
const COST_VERBS: &[&str] = &[
    "costs", "cost", "is", "runs", "run", "will", "comes", "sells", "goes", "retails",
];

fn name_word(t: &Token) -> bool {
    let Some(w) = t.word() else {
        return false;
    };
    let plural_counted = (SHIPMENT_NOUNS.contains(&w) && !HEADS.contains(&w))
        || UNIT_NOUNS.contains(&w)
        || SEAT_NOUNS.contains(&w)
        || SHIPPED_WORDS.contains(&w);
    w.chars().all(char::is_alphabetic)
        && (!FILLERS.contains(&w) || ADJECTIVE_FILLERS.contains(&w) || HEADS.contains(&w))
        && !NOT_IN_NAMES.contains(&w)
        && !BILLING_VERBS.contains(&w)
        && !PRICE_VERBS.contains(&w)
        && !COST_VERBS.contains(&w)
        && !plural_counted
        && unit_word(w).is_none()
        && word_currency(w).is_none()
}

impl Clause {
    /// The run of name words from `at` (words, or two words joined by a hyphen), as token indices.
    fn name_run(&self, at: usize) -> Vec<usize> {
        let mut run = Vec::new();
        let mut i = at;
        while self.free(i) && name_word(&self.toks[i]) {
            run.push(i);
            let hyphen = self.toks.get(i + 1).is_some_and(|t| t.is_sym('-'))
                && self.free(i + 1)
                && self.toks.get(i + 2).is_some_and(name_word)
                && self.free(i + 2);
            if hyphen {
                run.push(i + 1);
                i += 2;
            } else {
                i += 1;
            }
        }
        run
    }

    /// The name the run makes, if its last word is a head (a generic head needs a word before).
    fn name_of(&self, run: &[usize], form: NameForm) -> Option<Name> {
        let head = self.toks[*run.last()?].word()?;
        // a generic head needs a word of the admin's before it: "Monthly plan" is a period
        let own_word = run[..run.len() - 1].iter().any(|&i| {
            self.toks[i]
                .word()
                .is_some_and(|w| adverb_period(w).is_none())
        });
        if !HEADS.contains(&head) || (GENERIC_HEADS.contains(&head) && !own_word) {
            return None;
        }
        let mut text = String::new();
        for (k, &i) in run.iter().enumerate() {
            let t = &self.toks[i];
            let glued = t.is_sym('-') || (k > 0 && self.toks[run[k - 1]].is_sym('-'));
            if k > 0 && !glued {
                text.push(' ');
            }
            text.push_str(&t.text);
        }
        let mut chars = text.chars();
        let text = match chars.next() {
            Some(c) => c.to_uppercase().chain(chars).collect(),
            None => return None,
        };
        Some(Name {
            text,
            form,
            head_delivered: SHIPMENT_NOUNS.contains(&head),
            period_word: run
                .iter()
                .any(|&i| self.toks[i].word().and_then(adverb_period).is_some()),
        })
    }

    /// A price said per unit anywhere in the clause ("$1 each", "per delivery"): a subject that
    /// is a thing delivered is then what is counted, not a name.
    fn priced_per_unit(&self) -> bool {
        (0..self.len()).any(|i| {
            let word = |k: usize| self.toks.get(k).and_then(Token::word);
            self.money_per_unit(i)
                || ((matches!(word(i), Some("per" | "each" | "every")) || self.toks[i].is_sym('/'))
                    && word(i + 1)
                        .is_some_and(|w| SHIPMENT_NOUNS.contains(&w) || UNIT_NOUNS.contains(&w)))
        })
    }

    fn has_money(&self) -> bool {
        self.toks.iter().any(|t| matches!(t.kind, Kind::Money(..)))
    }

    /// Reads a name in one of its three places, consuming its words (and the determiner).
    pub(super) fn read_name(&mut self, f: &mut Facts) {
        if self.sentence_start {
            let start = usize::from(self.is_any(0, DETERMINERS));
            let run = self.name_run(start);
            if let Some(&last) = run.last() {
                let next = last + 1;
                let colon_later = (next..self.len()).any(|k| self.toks[k].is_sym(':'));
                let heading = self.toks.get(next).is_some_and(|t| t.is_sym(':'))
                    || (self.is_any(next, &["for", "in"]) && colon_later);
                let subject = !heading && self.is_any(next, COST_VERBS);
                let form = if heading {
                    Some(NameForm::Heading)
                } else if subject {
                    Some(NameForm::Subject)
                } else {
                    None
                };
                if let Some(form) = form
                    && let Some(name) = self.name_of(&run, form)
                    && !(form == NameForm::Subject
                        && name.head_delivered
                        && (self.priced_per_unit() || !self.has_money()))
                {
                    self.take(0, next);
                    f.name = Some(name);
                    return;
                }
            }
        }
        for i in 0..self.len() {
            if self.is(i, "for") && self.is_any(i + 1, DETERMINERS) {
                let run = self.name_run(i + 2);
                let Some(&last) = run.last() else { continue };
                // "for the box of the month": the phrase goes on, so it is not this name
                if self.is(last + 1, "of") || self.priced_per_unit() {
                    continue;
                }
                if let Some(name) = self.name_of(&run, NameForm::For) {
                    self.take(i, last + 1 - i);
                    f.name = Some(name);
                    return;
                }
            }
        }
    }

    /// After the other readers: a heading that is a thing delivered names what a price said
    /// "each" counts ("Meal kit: $11.50 each").
    pub(super) fn name_counts(&self, f: &mut Facts) {
        let Some(name) = &f.name else { return };
        if name.form == NameForm::Heading
            && name.head_delivered
            && f.metric.is_none()
            && self.priced_per_unit()
        {
            f.metric = Some(crate::pricing::UsageMetric::Shipments);
            f.rate_unit = true;
        }
    }
}
