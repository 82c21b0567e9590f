//! Reading caps and minimums ("at most $40", "we will not bill above $40", "a minimum of
//! $10") and the conditions a price applies under ("if a customer has more than 20 deliveries").

use super::words::adverb_period;
use super::{Clause, Facts, PeriodRef, Threshold};

impl Clause {
    pub(super) fn read_bounds(&mut self, f: &mut Facts) {
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
                // "$15 minimum", "$40 max", "a $10 monthly minimum"
                let period = self
                    .w(i + 1)
                    .and_then(adverb_period)
                    .map(|(unit, count)| PeriodRef { unit, count });
                let at = i + 1 + usize::from(period.is_some());
                if let Some(m) = self.money(i)
                    && (is_ceiling && self.is_any(at, &["max", "maximum", "cap"])
                        || !is_ceiling && self.is_any(at, &["minimum", "min"]))
                {
                    self.take(i, at + 1 - i);
                    f.periods.extend(period);
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
    pub(super) fn read_negated_bound(&mut self, f: &mut Facts) {
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
                // "we don't charge more than $30": the auxiliary of the negation
                if i > 0 && self.is_any(i - 1, &["do", "does", "did"]) {
                    self.take(i - 1, 1);
                }
                if ceiling {
                    f.ceiling = Some(m);
                } else {
                    f.minimum = Some(m);
                }
                return;
            }
        }
    }

    pub(super) fn read_condition(&mut self, f: &mut Facts) {
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
    pub(super) fn consume_condition_subject(&mut self, from: usize) {
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
                    "ship",
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
}
