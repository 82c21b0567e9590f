//! Reading periods ("per month", "every 2 months", "monthly"), when a charge is billed (in
//! advance or in arrears), and the spans of periods a price holds for ("for the first 3
//! months").

use crate::calendar::IntervalUnit;

use super::super::lexer::Kind;
use super::words::{FOLLOWING, adverb_period, unit_word};
use super::{Clause, Facts, PeriodRef, Span};

impl Clause {
    pub(super) fn read_timing(&mut self, f: &mut Facts) {
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

    /// A period named right at `i` ("per month", "each month", "every 2 months", "monthly",
    /// "a month", "/mo", "in a month"), consumed.
    pub(super) fn period_at(&mut self, i: usize) -> Option<(PeriodRef, usize)> {
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

    pub(super) fn period_after(&mut self, i: usize) -> Option<PeriodRef> {
        self.period_at(i).map(|(p, _)| p)
    }

    pub(super) fn read_periods(&mut self, f: &mut Facts) {
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

    pub(super) fn read_span(&mut self, f: &mut Facts) {
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
}
