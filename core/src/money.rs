//! Exact money: ISO 4217 currencies with their minor unit, amounts as integer minor units, and the
//! named rounding rules of the billing conventions. No floats anywhere.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// An ISO 4217 currency that has a minor unit (USD: 2 decimals, JPY: 0).
///
/// Serialised as its three-letter code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Currency(iso_currency::Currency);

impl Currency {
    /// Parses a code such as `"USD"` (case-insensitive); an unknown code, or a code without a minor
    /// unit (gold, SDR), is [`Error::UnknownCurrency`].
    pub fn parse(code: &str) -> Result<Self> {
        todo!("{code}")
    }
    /// The three-letter code.
    pub fn code(&self) -> &'static str {
        todo!()
    }
    /// Digits of the minor unit: 2 for USD, 0 for JPY, 3 for BHD.
    pub fn exponent(&self) -> u32 {
        todo!()
    }
}

/// An exact amount of one currency, held in integer minor units (cents).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Money {
    minor: i64,
    currency: Currency,
}

impl Money {
    /// An amount from minor units.
    pub fn from_minor(minor: i64, currency: Currency) -> Self {
        Money { minor, currency }
    }
    /// Zero in `currency`.
    pub fn zero(currency: Currency) -> Self {
        Money { minor: 0, currency }
    }
    /// The amount in minor units.
    pub fn minor(&self) -> i64 {
        self.minor
    }
    /// The currency.
    pub fn currency(&self) -> Currency {
        self.currency
    }
    /// A major-unit decimal rounded to the minor unit half away from zero: the line-item rule.
    pub fn round_from_major(amount: Decimal, currency: Currency) -> Result<Self> {
        todo!("{amount}{currency:?}")
    }
    /// A major-unit decimal that must already be exact to the minor unit (agent payload amounts);
    /// finer precision is an [`Error::InvalidInput`] naming `field`.
    pub fn exact_from_major(amount: Decimal, currency: Currency, field: &str) -> Result<Self> {
        todo!("{amount}{currency:?}{field}")
    }
    /// The amount in major units, scaled to the currency's exponent (`5.00`, `1200` for JPY).
    pub fn to_major(&self) -> Decimal {
        todo!()
    }
    /// Sum; a different currency is [`Error::CurrencyMismatch`], overflow is [`Error::Overflow`].
    pub fn checked_add(&self, other: Money) -> Result<Money> {
        todo!("{other:?}")
    }
    /// Difference, with the same checks as [`Money::checked_add`].
    pub fn checked_sub(&self, other: Money) -> Result<Money> {
        todo!("{other:?}")
    }
    /// Splits the amount over parts in proportion to `weights`; the parts always sum to the whole,
    /// the remainder going one minor unit at a time to the largest fractional parts (ties to the
    /// earlier part). All-zero or empty weights are [`Error::InvalidInput`].
    pub fn allocate(&self, weights: &[u64]) -> Result<Vec<Money>> {
        todo!("{weights:?}")
    }
}

/// Rounds a major-unit amount to `exponent` decimals, half away from zero (the conventions' rule
/// for line items and tax).
pub fn round_half_away_from_zero(amount: Decimal, exponent: u32) -> Decimal {
    todo!("{amount}{exponent}")
}

/// Serialises a [`Money`] as a decimal string in major units (`"5.00"`), the form of every amount
/// in the CLI's JSON and the bindings' objects.
pub fn serialize_major<S: serde::Serializer>(money: &Money, serializer: S) -> std::result::Result<S::Ok, S::Error> {
    serializer.collect_str(&money.to_major())
}
