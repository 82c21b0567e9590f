//! Tax on an invoice's final subtotal: the [`TaxCalculator`] port and its in-process
//! implementations, [`NoTax`] and [`FlatRate`].
//!
//! Tax is exclusive and computed once, on the subtotal: `tax = round(subtotal x rate)`, half away
//! from zero at the currency's minor unit; `total = subtotal + tax`.

use std::fmt;

use rust_decimal::Decimal;
use serde::Serialize;

use crate::error::{Error, Result};
use crate::money::Money;

/// Computes the tax of an invoice. Held as `Arc<dyn TaxCalculator>` or `&dyn TaxCalculator`; a
/// tax service adapter implements it the same way as [`FlatRate`].
pub trait TaxCalculator: Send + Sync + fmt::Debug + 'static {
    /// The tax on `request.subtotal`, in its currency.
    fn compute(&self, request: &TaxRequest) -> Result<TaxResult>;
}

/// What a [`TaxCalculator`] is asked. Fields may be added (customer, jurisdiction), so build it
/// with [`TaxRequest::new`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TaxRequest {
    /// The invoice's final subtotal, the amount tax is computed on.
    pub subtotal: Money,
}

impl TaxRequest {
    /// A request for the tax on `subtotal`.
    pub fn new(subtotal: Money) -> Self {
        TaxRequest { subtotal }
    }
}

/// The tax of one invoice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TaxResult {
    /// One line per tax applied; empty when none is.
    pub lines: Vec<TaxLine>,
    /// The sum of the lines, in the subtotal's currency.
    #[serde(serialize_with = "crate::money::serialize_major")]
    pub total: Money,
}

impl TaxResult {
    /// No tax on `subtotal` (zero in its currency).
    pub fn none(subtotal: Money) -> Self {
        TaxResult {
            lines: Vec::new(),
            total: Money::zero(subtotal.currency()),
        }
    }
}

/// One tax on an invoice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TaxLine {
    /// The tax's name ("Sales tax").
    pub name: String,
    /// The rate as a fraction (`0.0825` for 8.25%).
    #[serde(with = "rust_decimal::serde::str")]
    pub rate: Decimal,
    /// The tax amount, rounded to the minor unit.
    #[serde(serialize_with = "crate::money::serialize_major")]
    pub amount: Money,
}

/// No tax at all.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NoTax;

impl TaxCalculator for NoTax {
    fn compute(&self, request: &TaxRequest) -> Result<TaxResult> {
        Ok(TaxResult::none(request.subtotal))
    }
}

/// One exclusive tax at a flat rate: `round(subtotal x rate)`, half away from zero at the
/// currency's minor unit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlatRate {
    name: String,
    rate: Decimal,
}

impl FlatRate {
    /// A flat tax called `name` at `rate` (a fraction: `0.0825` for 8.25%); a rate outside
    /// `0..=1` is [`Error::InvalidInput`] on `tax.rate`.
    pub fn new(name: impl Into<String>, rate: Decimal) -> Result<Self> {
        check_rate(rate)?;
        Ok(FlatRate {
            name: name.into(),
            rate,
        })
    }

    /// The tax's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The rate, as a fraction.
    pub fn rate(&self) -> Decimal {
        self.rate
    }
}

/// Checks a tax rate: a fraction from 0 to 1 inclusive (field `tax.rate`).
pub fn check_rate(rate: Decimal) -> Result<()> {
    if rate < Decimal::ZERO || rate > Decimal::ONE {
        return Err(Error::invalid(
            "tax.rate",
            format!("must be a fraction from 0 to 1 (0.0825 for 8.25%), got {rate}"),
        ));
    }
    Ok(())
}

impl TaxCalculator for FlatRate {
    fn compute(&self, request: &TaxRequest) -> Result<TaxResult> {
        let subtotal = request.subtotal;
        let exact = subtotal
            .to_major()
            .checked_mul(self.rate)
            .ok_or_else(|| Error::overflow("tax"))?;
        let amount = Money::round_from_major(exact, subtotal.currency())?;
        Ok(TaxResult {
            lines: vec![TaxLine {
                name: self.name.clone(),
                rate: self.rate,
                amount,
            }],
            total: amount,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::money::Currency;

    fn usd(minor: i64) -> Money {
        Money::from_minor(minor, Currency::parse("USD").unwrap())
    }

    fn tax_of(rate: &str, subtotal: Money) -> Money {
        let calc = FlatRate::new("Tax", rate.parse().unwrap()).unwrap();
        let result = calc.compute(&TaxRequest::new(subtotal)).unwrap();
        assert_eq!(result.lines.len(), 1);
        assert_eq!(result.lines[0].amount, result.total);
        result.total
    }

    #[test]
    fn flat_rate_rounds_half_away_from_zero() {
        assert_eq!(tax_of("0.0825", usd(1000)), usd(83)); // 0.825 -> 0.83
        assert_eq!(tax_of("0.0825", usd(2500)), usd(206)); // 2.0625 -> 2.06
        assert_eq!(tax_of("0.05", usd(1010)), usd(51)); // 0.505 -> 0.51
        assert_eq!(tax_of("0.05", usd(1009)), usd(50)); // 0.5045 -> 0.50
        assert_eq!(tax_of("0.05", usd(-1010)), usd(-51)); // a credit: away from zero
        assert_eq!(tax_of("0", usd(1000)), usd(0));
        assert_eq!(tax_of("1", usd(1234)), usd(1234));
        assert_eq!(tax_of("0.0825", usd(0)), usd(0));
    }

    #[test]
    fn flat_rate_in_a_currency_without_minor_unit() {
        let jpy = Currency::parse("JPY").unwrap();
        let calc = FlatRate::new("Consumption tax", "0.1".parse().unwrap()).unwrap();
        let result = calc
            .compute(&TaxRequest::new(Money::from_minor(1235, jpy)))
            .unwrap();
        assert_eq!(result.total, Money::from_minor(124, jpy)); // 123.5 -> 124
    }

    #[test]
    fn rate_must_be_a_fraction() {
        for bad in ["-0.01", "1.0001", "8.25"] {
            match FlatRate::new("Tax", bad.parse().unwrap()) {
                Err(Error::InvalidInput { field, .. }) => assert_eq!(field, "tax.rate"),
                other => panic!("{bad}: {other:?}"),
            }
        }
        assert!(FlatRate::new("Tax", Decimal::ZERO).is_ok());
        assert!(FlatRate::new("Tax", Decimal::ONE).is_ok());
    }

    #[test]
    fn no_tax_is_zero_in_the_subtotal_currency() {
        let result = NoTax.compute(&TaxRequest::new(usd(1000))).unwrap();
        assert!(result.lines.is_empty());
        assert_eq!(result.total, usd(0));
    }

    #[test]
    fn calculators_are_usable_as_trait_objects() {
        let calcs: Vec<std::sync::Arc<dyn TaxCalculator>> = vec![
            std::sync::Arc::new(NoTax),
            std::sync::Arc::new(FlatRate::new("Tax", Decimal::ONE).unwrap()),
        ];
        let totals: Vec<i64> = calcs
            .iter()
            .map(|c| c.compute(&TaxRequest::new(usd(500))).unwrap().total.minor())
            .collect();
        assert_eq!(totals, vec![0, 500]);
    }
}
