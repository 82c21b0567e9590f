//! Reading tier bounds: "first 20", "next 30", "over 20", "21-50", "101 and above", "up to 30".

use super::super::lexer::Kind;
use super::words::unit_word;
use super::{Clause, Facts, TierBound};

impl Clause {
    pub(super) fn read_tiers(&mut self, f: &mut Facts) {
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
            // "includes 20 shipments", "comes with 20 shipments", "covers 20 shipments", "20
            // shipments included"
            let includes = if self.is_any(
                i,
                &[
                    "includes",
                    "including",
                    "include",
                    "included",
                    "covers",
                    "cover",
                ],
            ) {
                1
            } else if self.is_any(i, &["comes", "come"]) && self.is(i + 1, "with") {
                2
            } else {
                0
            };
            if includes > 0
                && let Some(n) = self.count(i + includes)
            {
                self.take(i, includes + 1);
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
}
