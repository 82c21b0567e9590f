//! Reading what a usage charge counts: the usage nouns (deliveries, units, seats) and
//! whether they are the unit of a price, the weekdays priced by name, and the credit for returns.

use crate::pricing::{ReturnsPolicy, UsageMetric};

use super::super::lexer::{Kind, Token};
use super::words::{SEAT_NOUNS, SHIPMENT_NOUNS, SHIPPED_WORDS, UNIT_NOUNS, unit_word};
use super::{Clause, Facts, is_day_like};

impl Clause {
    pub(super) fn read_returns(&mut self, f: &mut Facts) {
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
                &["do", "not", "charge", "for"],
                &["do", "not", "charge"],
                &["not", "charge", "for"],
                &["never", "charge", "for"],
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
    pub(super) fn read_return_rate(&mut self, f: &Facts) {
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

    pub(super) fn read_days(&mut self, f: &mut Facts) {
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
    pub(super) fn rate_marked(&self, i: usize) -> bool {
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
        // "a" marks a unit right after an amount ("$2 a parcel"); "A newspaper costs $30 a
        // month" names one
        let money_before = k > 1 && matches!(self.toks[k - 2].kind, Kind::Money(..));
        let marked_before = k > 0
            && (self.toks[k - 1].is_sym('/')
                || matches!(
                    self.toks[k - 1].word(),
                    Some("per" | "each" | "every" | "all")
                )
                || (matches!(self.toks[k - 1].word(), Some("a" | "an")) && money_before));
        marked_before || (0..self.len()).any(|m| self.money_per_unit(m))
    }

    /// The amount at `m` is said per unit: "$2 each", "$2 apiece", "$2 a pop" (not "$30 each
    /// month", a price per period).
    pub(super) fn money_per_unit(&self, m: usize) -> bool {
        let word = |k: usize| self.toks.get(k).and_then(Token::word);
        let period_after = matches!(self.toks.get(m + 2).map(|t| &t.kind), Some(Kind::Number(_)))
            || word(m + 2).is_some_and(|w| {
                unit_word(w).is_some()
                    || matches!(
                        w,
                        "other"
                            | "subsequent"
                            | "following"
                            | "billing"
                            | "period"
                            | "calendar"
                            | "single"
                            | "cycle"
                    )
            });
        matches!(self.toks.get(m).map(|t| &t.kind), Some(Kind::Money(..)))
            && ((word(m + 1) == Some("each") && !period_after)
                || word(m + 1) == Some("apiece")
                || (word(m + 1) == Some("a") && matches!(word(m + 2), Some("pop" | "piece"))))
    }

    pub(super) fn read_nouns(&mut self, f: &mut Facts) {
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
            // "copies delivered", or "delivered every other week": how often deliveries come,
            // which must be the plan's interval (the period is checked against it)
            if self.is_any(i, SHIPPED_WORDS) && (f.metric.is_some() || !f.periods.is_empty()) {
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
