//! The arithmetic of each basis: the one place a line's amount is computed from its basis, by
//! the evaluation of a program as by [`LineBasis::recompute`](super::LineBasis::recompute).

use rust_decimal::Decimal;

use super::{
    ChangeBasis, CreditBasis, Credited, LateUsageBasis, LimitBasis, PriceBasis, RecurringBasis,
    StepBasis, UsageBasis, UsagePriceBasis,
};
use crate::error::{Error, Result};
use crate::money::{Currency, Money};
use crate::pricing::StepChange;
use crate::proration::share;

fn mismatch(what: &str, stated: impl std::fmt::Display, computed: impl std::fmt::Display) -> Error {
    Error::invalid(
        "line_item.basis",
        format!("{what} is stated as {stated} but its arithmetic gives {computed}"),
    )
}

impl PriceBasis {
    /// The price of a phase starting at `base`, `step` taken, held between `floor` and
    /// `ceiling`, then discounted: the one place a period's recurring price is computed.
    pub fn of(
        base: Decimal,
        step: Option<StepBasis>,
        ceiling: Option<Decimal>,
        floor: Option<Decimal>,
        discount_percent: Option<Decimal>,
    ) -> Result<Self> {
        let mut basis = PriceBasis {
            base,
            step,
            ceiling,
            floor,
            discount_percent,
            unit_price: Decimal::ZERO,
        };
        basis.unit_price = basis.arithmetic()?;
        Ok(basis)
    }

    /// The price before it is held between floor and ceiling and discounted.
    pub fn stepped(&self) -> Result<Decimal> {
        let overflow = || Error::overflow("stepped recurring price");
        let mut price = self.base;
        let Some(step) = &self.step else {
            return Ok(price);
        };
        match step.change {
            StepChange::Amount(delta) => delta
                .checked_mul(Decimal::from(step.steps))
                .and_then(|d| price.checked_add(d))
                .ok_or_else(overflow),
            StepChange::Percent(percent) => {
                let factor = Decimal::ONE + percent / Decimal::ONE_HUNDRED;
                for _ in 0..step.steps {
                    price = price.checked_mul(factor).ok_or_else(overflow)?;
                    // Past the ceiling (or floor) further steps change nothing: stop there, so
                    // a long-running compounding price cannot overflow.
                    let past_ceiling = self
                        .ceiling
                        .is_some_and(|c| factor > Decimal::ONE && price >= c);
                    let past_floor = self
                        .floor
                        .is_some_and(|f| factor < Decimal::ONE && price <= f);
                    if past_ceiling || past_floor || price.is_zero() {
                        break;
                    }
                }
                Ok(price)
            }
        }
    }

    pub(super) fn arithmetic(&self) -> Result<Decimal> {
        let mut price = self.stepped()?;
        if let Some(ceiling) = self.ceiling {
            price = price.min(ceiling);
        }
        if let Some(floor) = self.floor {
            price = price.max(floor);
        }
        price = price.max(Decimal::ZERO);
        if let Some(discount) = self.discount_percent {
            price = price * (Decimal::ONE_HUNDRED - discount) / Decimal::ONE_HUNDRED;
        }
        Ok(price)
    }
}

impl RecurringBasis {
    /// `round(unit price x quantity x days / period days)`, once.
    pub fn amount(&self, currency: Currency) -> Result<Money> {
        let unit_price = self.price.arithmetic()?;
        if unit_price != self.price.unit_price {
            return Err(mismatch(
                "the unit price",
                self.price.unit_price,
                unit_price,
            ));
        }
        let amount = unit_price
            .checked_mul(Decimal::from(self.quantity))
            .ok_or_else(|| Error::overflow("recurring charge x quantity"))?;
        let amount = match self.days {
            Some(days) => share(amount, days.days, days.period_days)?,
            None => amount,
        };
        Money::round_from_major(amount, currency)
    }
}

impl UsageBasis {
    /// The net count, the allowance, the pricing, then the minimum and the cap; rounded once.
    pub fn amount(&self, currency: Currency) -> Result<Money> {
        let (count, priced, minimum, cap) = self.arithmetic()?;
        if count != self.count {
            return Err(mismatch("the count", self.count, count));
        }
        if priced != self.priced {
            return Err(mismatch("the priced amount", self.priced, priced));
        }
        let mut amount = priced;
        if let Some((limit, basis)) = minimum.zip(self.minimum.as_ref()) {
            let applies = amount < limit;
            if applies != basis.applied {
                return Err(mismatch(
                    "whether the minimum applied",
                    basis.applied,
                    applies,
                ));
            }
            amount = amount.max(limit);
        }
        if let Some((limit, basis)) = cap.zip(self.cap.as_ref()) {
            let applies = amount > limit;
            if applies != basis.applied {
                return Err(mismatch("whether the cap applied", basis.applied, applies));
            }
            amount = amount.min(limit);
        }
        Money::round_from_major(amount, currency)
    }

    /// Fills in the priced amount and whether the minimum and the cap apply, from the counts and
    /// the pricing: how the evaluation of a program completes the basis it builds.
    pub(crate) fn settle_limits(&mut self) -> Result<()> {
        let (_, priced, minimum, cap) = self.arithmetic()?;
        self.priced = priced;
        let mut amount = priced;
        if let (Some(limit), Some(basis)) = (minimum, self.minimum.as_mut()) {
            basis.applied = amount < limit;
            amount = amount.max(limit);
        }
        if let (Some(limit), Some(basis)) = (cap, self.cap.as_mut()) {
            basis.applied = amount > limit;
        }
        Ok(())
    }

    /// The count, the priced amount and the limits (prorated) the basis gives, checking the
    /// units of each tier.
    #[allow(clippy::type_complexity)]
    fn arithmetic(&self) -> Result<(u64, Decimal, Option<Decimal>, Option<Decimal>)> {
        let overflow = || Error::overflow("usage charge");
        let net: i128 = self
            .weekdays
            .iter()
            .map(|day| i128::from(day.counted) - i128::from(day.returned))
            .sum();
        let count = u64::try_from(net.max(0)).map_err(|_| Error::overflow("usage count"))?;
        let billable = count.saturating_sub(self.allowance);
        let priced = match &self.pricing {
            UsagePriceBasis::PerUnit { rate } => rate
                .checked_mul(Decimal::from(billable))
                .ok_or_else(overflow)?,
            UsagePriceBasis::ByWeekday => {
                let mut sum = Decimal::ZERO;
                for day in &self.weekdays {
                    let rate = day.rate.ok_or_else(|| {
                        Error::invalid(
                            "line_item.basis",
                            format!("{} has usage but no rate", day.weekday),
                        )
                    })?;
                    let n = i128::from(day.counted) - i128::from(day.returned);
                    sum = rate
                        .checked_mul(Decimal::from_i128_with_scale(n, 0))
                        .and_then(|v| sum.checked_add(v))
                        .ok_or_else(overflow)?;
                }
                sum.max(Decimal::ZERO)
            }
            UsagePriceBasis::Graduated { tiers } => {
                let mut sum = Decimal::ZERO;
                let mut priced_units = 0u64;
                for tier in tiers {
                    let upper = tier.up_to.map_or(billable, |up| up.min(billable));
                    let units = upper.saturating_sub(priced_units.max(tier.from.saturating_sub(1)));
                    if units != tier.units {
                        return Err(mismatch(
                            &format!("the units of the tier from {}", tier.from),
                            tier.units,
                            units,
                        ));
                    }
                    sum = tier
                        .unit_price
                        .checked_mul(Decimal::from(units))
                        .and_then(|v| sum.checked_add(v))
                        .ok_or_else(overflow)?;
                    priced_units = priced_units.max(upper);
                }
                sum
            }
            UsagePriceBasis::Volume { tiers } => {
                let mut sum = Decimal::ZERO;
                let in_tier = tiers
                    .iter()
                    .position(|t| t.up_to.is_none_or(|up| billable <= up));
                for (i, tier) in tiers.iter().enumerate() {
                    let units = if Some(i) == in_tier { billable } else { 0 };
                    if units != tier.units {
                        return Err(mismatch(
                            &format!("the units of the tier from {}", tier.from),
                            tier.units,
                            units,
                        ));
                    }
                    sum = tier
                        .unit_price
                        .checked_mul(Decimal::from(units))
                        .and_then(|v| sum.checked_add(v))
                        .ok_or_else(overflow)?;
                }
                sum
            }
        };
        let prorated = |limit: &LimitBasis| match limit.days {
            Some(days) => share(limit.amount, days.days, days.period_days),
            None => Ok(limit.amount),
        };
        let minimum = self.minimum.as_ref().map(prorated).transpose()?;
        let cap = self.cap.as_ref().map(prorated).transpose()?;
        Ok((count, priced, minimum, cap))
    }
}

/// The sum of `lines`' amounts, each rounded once.
fn sum_of<'a, T: 'a>(
    lines: impl IntoIterator<Item = &'a T>,
    currency: Currency,
    amount: impl Fn(&T, Currency) -> Result<Money>,
) -> Result<Money> {
    let amounts = lines
        .into_iter()
        .map(|line| amount(line, currency))
        .collect::<Result<Vec<_>>>()?;
    Money::checked_sum(currency, amounts)
}

impl ChangeBasis {
    /// What the charge was due before the change.
    pub fn due_before(&self, currency: Currency) -> Result<Money> {
        sum_of(&self.before, currency, RecurringBasis::amount)
    }

    /// What the charge is due after it.
    pub fn due_after(&self, currency: Currency) -> Result<Money> {
        sum_of(&self.after, currency, RecurringBasis::amount)
    }

    /// `|due after - due before| - netted`.
    pub fn amount(&self, currency: Currency) -> Result<Money> {
        let difference = self
            .due_after(currency)?
            .checked_sub(self.due_before(currency)?)?;
        let magnitude = Money::from_minor(difference.minor().abs(), currency);
        magnitude.checked_sub(Money::exact_from_major(
            self.netted,
            currency,
            "line_item.basis.netted",
        )?)
    }

    /// Whether the change raised what the period owes (an increase) rather than lowered it.
    pub fn is_increase(&self, currency: Currency) -> Result<bool> {
        Ok(self.due_after(currency)?.minor() > self.due_before(currency)?.minor())
    }
}

impl LateUsageBasis {
    /// What the usage charges owe now, each line rounded once.
    pub fn owed_now(&self, currency: Currency) -> Result<Money> {
        sum_of(&self.now, currency, UsageBasis::amount)
    }

    /// What they were billed.
    pub fn owed_billed(&self, currency: Currency) -> Result<Money> {
        sum_of(&self.billed, currency, UsageBasis::amount)
    }

    /// `|owed now - billed|`.
    pub fn amount(&self, currency: Currency) -> Result<Money> {
        let difference = self
            .owed_now(currency)?
            .checked_sub(self.owed_billed(currency)?)?;
        Ok(Money::from_minor(difference.minor().abs(), currency))
    }
}

impl CreditBasis {
    /// All the line has left, the amount asked, or its share of the amount requested.
    pub fn amount(&self, currency: Currency) -> Result<Money> {
        let exact = |value: Decimal, field: &str| Money::exact_from_major(value, currency, field);
        let left = exact(self.line_amount, "line_item.basis.line_amount")?.checked_sub(exact(
            self.credited_before,
            "line_item.basis.credited_before",
        )?)?;
        let amount = match &self.credited {
            Credited::Rest => left,
            Credited::Asked { amount } => exact(*amount, "line_item.basis.credited.amount")?,
            Credited::Share {
                requested,
                weight,
                total_weight,
                remainder,
            } => {
                let requested = exact(*requested, "line_item.basis.credited.requested")?;
                let weight = exact(*weight, "line_item.basis.credited.weight")?;
                let total = exact(*total_weight, "line_item.basis.credited.total_weight")?;
                if total.minor() <= 0 {
                    return Err(Error::invalid(
                        "line_item.basis.credited.total_weight",
                        "must be above zero",
                    ));
                }
                if weight != left {
                    return Err(mismatch(
                        "the line's weight",
                        weight.to_major(),
                        left.to_major(),
                    ));
                }
                let floor = i128::from(requested.minor()) * i128::from(weight.minor())
                    / i128::from(total.minor());
                let floor = i64::try_from(floor).map_err(|_| Error::overflow("a credit share"))?;
                Money::from_minor(floor, currency)
                    .checked_add(exact(*remainder, "line_item.basis.credited.remainder")?)?
            }
        };
        if amount.minor() > left.minor() {
            return Err(mismatch(
                "the credited amount (at most what the line has left)",
                amount.to_major(),
                left.to_major(),
            ));
        }
        Ok(amount)
    }
}
