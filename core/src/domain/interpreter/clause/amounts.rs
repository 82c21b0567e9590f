//! Reading what is free and what is discounted: "the first delivery is free", "10% off".

use rust_decimal::Decimal;

use super::super::lexer::Kind;
use super::{Clause, Facts};

impl Clause {
    pub(super) fn read_free_and_discount(&mut self, f: &mut Facts) {
        for i in 0..self.len() {
            for pattern in [
                &["free", "of", "charge"][..],
                &["free"],
                &["no", "charge"],
                &["complimentary"],
                &["at", "no", "cost"],
                &["at", "no", "charge"],
                &["on", "the", "house"],
                &["on", "us"],
                &["no", "cost"],
                &["not", "charged"],
                &["not", "billed"],
                &["part", "of"],
                &["included", "in"],
                &["covered", "by"],
                &["no", "extra", "charge"],
                &["do", "not", "charge", "for"],
                &["do", "not", "bill", "for"],
                &["never", "charge", "for"],
                &["never", "bill", "for"],
                &["waive"],
                &["waives"],
                &["waived"],
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
}
