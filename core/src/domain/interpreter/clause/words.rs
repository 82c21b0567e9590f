//! The closed word lists of the clause reader: what may be skipped (fillers, symbols), the verbs
//! of billing, the usage nouns, and the words for a period ("month", "monthly").

use crate::calendar::IntervalUnit;

/// Symbols that carry no meaning in a billing clause: list and quote punctuation, and the em
/// dash of prose ("Sunday papers — see below"). Not the hyphen-minus (a sign or a range), nor
/// "/" (per), nor "+" ("101+"): those are placed by a construct or refused.
pub(crate) const SKIPPABLE_SYMBOLS: &[char] =
    &[',', ':', '(', ')', '"', '\'', '—', '“', '”', '‘', '’'];

/// Verbs of billing: "customer" binds to them ("charge customers $5", "customers pay $5").
pub(super) const BILLING_VERBS: &[&str] = &[
    "bill", "bills", "billed", "charge", "charges", "charged", "pay", "pays", "paid", "invoice",
    "invoiced", "is", "are", "will", "get", "gets", "has", "have", "receive", "receives",
];

/// Verbs of billing: each binds to the construct it stands beside (an amount, a period, a
/// timing, a price: "we bill $5", "$5 is charged per delivery", "billed monthly", "it runs $5 a
/// month"), through auxiliaries and pronouns ("will be billed", "costs you"); one that stands
/// beside nothing placed is refused, naming it. They are not skipped.
pub(super) const PRICE_VERBS: &[&str] = &[
    "bill", "bills", "billed", "charge", "charges", "charged", "cost", "costs", "pay", "pays",
    "paid", "invoice", "invoiced", "priced", "runs", "run", "sells", "retails",
];

/// The closed list of words that carry no billing meaning of their own: articles, prepositions,
/// pronouns, auxiliaries, and the nouns of a price ("fee", "rate"). Verbs of billing are not in
/// it ([`PRICE_VERBS`]: they bind to their price), nor are the words that qualify what is billed
/// ("subscription", "customer", "each", "every", "all", "any", "whole", "only", "first",
/// "additional"): a construct places them or the prompt is refused.
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
    "billing",
    "charging",
    "costing",
    "price",
    "pricing",
    "rate",
    "rates",
    "fee",
    "fees",
    "amount",
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

pub(super) const SHIPMENT_NOUNS: &[&str] = &[
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
    "edition",
    "editions",
];
pub(super) const UNIT_NOUNS: &[&str] = &[
    "copy", "copies", "unit", "units", "item", "items", "piece", "pieces",
];
pub(super) const SHIPPED_WORDS: &[&str] = &["delivered", "shipped", "sent", "dispatched", "mailed"];
pub(super) const SEAT_NOUNS: &[&str] = &[
    "seat", "seats", "license", "licenses", "licence", "licences", "user", "users", "member",
    "members",
];

/// Adjectives of "every subsequent month": the periods after the one before, one by one.
pub(super) const FOLLOWING: &[&str] = &["subsequent", "following", "succeeding", "new"];

pub(super) fn unit_word(w: &str) -> Option<(IntervalUnit, u32)> {
    Some(match w {
        "day" | "days" => (IntervalUnit::Day, 1),
        "week" | "weeks" | "wk" | "wks" => (IntervalUnit::Week, 1),
        "fortnight" | "fortnights" => (IntervalUnit::Week, 2),
        "month" | "months" | "mo" | "mos" | "mth" | "mths" | "mon" => (IntervalUnit::Month, 1),
        "quarter" | "quarters" => (IntervalUnit::Month, 3),
        "year" | "years" | "yr" | "yrs" | "annum" => (IntervalUnit::Year, 1),
        _ => return None,
    })
}

pub(super) fn adverb_period(w: &str) -> Option<(IntervalUnit, u32)> {
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
