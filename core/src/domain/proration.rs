//! Proration: a period's served days grouped into segments, and the one function that prorates a
//! money amount by days (`billing-conventions.md`, "Subscription changes").
//!
//! A period's fixed amounts (recurring charges times quantity, usage minimums and caps) are due
//! for the days served, segment by segment: `round(amount x quantity x days / period_days)`, half
//! away from zero, once per line. Every prorated or credited amount of the library comes from
//! [`share`]; the line that holds it rounds it once ([`crate::money::Money::round_from_major`]).

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::subscription::Quantity;

/// The exact share `days / of_days` of `amount`, unrounded (the line that bills it rounds once).
/// `days` above `of_days`, or `of_days` of 0, is invalid input: a share is never more than the
/// whole.
pub fn share(amount: Decimal, days: u32, of_days: u32) -> Result<Decimal> {
    if of_days == 0 || days > of_days {
        return Err(Error::invalid(
            "proration",
            format!("cannot prorate {days} days of a period of {of_days} days"),
        ));
    }
    if days == of_days {
        return Ok(amount);
    }
    // The product first, so a share that ends in an exact half stays exact before rounding.
    amount
        .checked_mul(Decimal::from(days))
        .and_then(|product| product.checked_div(Decimal::from(of_days)))
        .ok_or_else(|| Error::overflow("a prorated amount"))
}

/// The days of one state of a period: all the served days at one quantity, contiguous or not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Segment {
    /// The subscription's quantity on those days.
    pub quantity: Quantity,
    /// How many local days.
    pub days: u32,
}

/// What a period serves: its length (the days of the whole anchored period, the denominator of
/// every share) and its served days, grouped into segments in the order they first occur.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Served {
    /// The days of the whole period.
    pub period_days: u32,
    /// The served days by state; empty when no day is served.
    pub segments: Vec<Segment>,
}

impl Served {
    /// A whole period of `period_days` days served at one `quantity`: the period of a subscription
    /// nothing has changed.
    pub fn whole(quantity: Quantity, period_days: u32) -> Self {
        Served {
            period_days,
            segments: vec![Segment {
                quantity,
                days: period_days,
            }],
        }
    }

    /// The served days, all segments together.
    pub fn served_days(&self) -> u32 {
        self.segments.iter().map(|segment| segment.days).sum()
    }

    /// The one quantity of a period served whole at one quantity, else `None`: such a period is
    /// billed exactly as a subscription that never changed.
    pub fn whole_at(&self) -> Option<Quantity> {
        match self.segments.as_slice() {
            [only] if only.days == self.period_days => Some(only.quantity),
            _ => None,
        }
    }

    /// The share of `amount` the served days are due, for amounts that do not depend on the
    /// quantity (usage minimums and caps).
    pub fn share_of(&self, amount: Decimal) -> Result<Decimal> {
        share(amount, self.served_days(), self.period_days)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::money::{Currency, Money};
    use proptest::prelude::*;

    fn usd(amount: Decimal) -> String {
        Money::round_from_major(amount, Currency::parse("USD").unwrap())
            .unwrap()
            .to_major()
            .to_string()
    }

    #[test]
    fn shares_of_the_worked_examples() {
        // billing-conventions.md, "Worked numbers".
        assert_eq!(usd(share(Decimal::from(31), 20, 31).unwrap()), "20.00");
        assert_eq!(usd(share(Decimal::from(15), 19, 31).unwrap()), "9.19");
        assert_eq!(usd(share(Decimal::from(31), 21, 28).unwrap()), "23.25");
        assert_eq!(usd(share(Decimal::from(10), 24, 31).unwrap()), "7.74");
        assert_eq!(usd(share(Decimal::from(24), 10, 30).unwrap()), "8.00");
        assert_eq!(usd(share(Decimal::from(20), 11, 31).unwrap()), "7.10");
        // An exact half rounds away from zero: 0.15 x 1/2 = 0.075.
        assert_eq!(usd(share(Decimal::new(15, 2), 1, 2).unwrap()), "0.08");
    }

    #[test]
    fn a_share_is_never_more_than_the_whole() {
        assert!(share(Decimal::ONE, 32, 31).is_err());
        assert!(share(Decimal::ONE, 0, 0).is_err());
        assert_eq!(share(Decimal::ONE, 0, 31).unwrap(), Decimal::ZERO);
    }

    #[test]
    fn a_whole_period_is_whole() {
        let served = Served::whole(Quantity::new(2).unwrap(), 30);
        assert_eq!(served.whole_at(), Some(Quantity::new(2).unwrap()));
        assert_eq!(served.served_days(), 30);
        let part = Served {
            period_days: 30,
            segments: vec![Segment {
                quantity: Quantity::ONE,
                days: 29,
            }],
        };
        assert_eq!(part.whole_at(), None);
    }

    proptest! {
        /// Shares of a split never drift from the whole by more than the rounding of each part.
        #[test]
        fn shares_of_a_split_sum_to_the_whole(cents in 0i64..10_000_000, days in 1u32..367, cut in 0u32..367) {
            let cut = cut.min(days);
            let amount = Decimal::new(cents, 2);
            let a = share(amount, cut, days).unwrap();
            let b = share(amount, days - cut, days).unwrap();
            let sum = a + b;
            prop_assert!((sum - amount).abs() < Decimal::new(1, 20), "{a} + {b} != {amount}");
        }
    }
}
