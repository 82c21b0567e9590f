//! Reading a step: a price that rises or falls by an amount or a percentage, once or every
//! few periods ("increase by $2 every 3 months").

use super::super::lexer::Kind;
use super::{Clause, Facts, StepFact};

impl Clause {
    pub(super) fn read_step(&mut self, f: &mut Facts) {
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
}
