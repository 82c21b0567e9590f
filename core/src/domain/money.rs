//! Exact money: ISO 4217 currencies with their minor unit, amounts as integer minor units, and the
//! named rounding rules of the billing conventions. No floats anywhere.

use std::fmt;
use std::str::FromStr;

use rust_decimal::prelude::ToPrimitive;
use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// An ISO 4217 currency that has a minor unit (USD: 2 decimals, JPY: 0).
///
/// Serialised as its three-letter code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Currency(iso_currency::Currency);

impl Currency {
    /// The US dollar (2 decimals).
    pub const USD: Currency = Currency(iso_currency::Currency::USD);
    /// The euro (2 decimals).
    pub const EUR: Currency = Currency(iso_currency::Currency::EUR);
    /// The pound sterling (2 decimals).
    pub const GBP: Currency = Currency(iso_currency::Currency::GBP);
    /// The Canadian dollar (2 decimals).
    pub const CAD: Currency = Currency(iso_currency::Currency::CAD);
    /// The Australian dollar (2 decimals).
    pub const AUD: Currency = Currency(iso_currency::Currency::AUD);
    /// The yen (no decimals).
    pub const JPY: Currency = Currency(iso_currency::Currency::JPY);

    /// Parses a code such as `"USD"` (case-insensitive); an unknown code, or a code without a minor
    /// unit (gold, SDR), is [`Error::UnknownCurrency`].
    pub fn parse(code: &str) -> Result<Self> {
        iso_currency::Currency::from_code(&code.to_ascii_uppercase())
            .and_then(|iso| Currency::from_iso(iso).ok())
            .ok_or_else(|| Error::UnknownCurrency {
                code: code.to_owned(),
            })
    }

    /// Wraps an [`iso_currency::Currency`]; one without a minor unit (XAU, XXX) is
    /// [`Error::UnknownCurrency`].
    pub fn from_iso(iso: iso_currency::Currency) -> Result<Self> {
        match iso.exponent() {
            Some(_) => Ok(Currency(iso)),
            None => Err(Error::UnknownCurrency {
                code: iso.code().to_owned(),
            }),
        }
    }

    /// The wrapped [`iso_currency::Currency`].
    pub fn iso(&self) -> iso_currency::Currency {
        self.0
    }

    /// The three-letter code.
    pub fn code(&self) -> &'static str {
        self.0.code()
    }

    /// Digits of the minor unit: 2 for USD, 0 for JPY, 3 for BHD.
    pub fn exponent(&self) -> u32 {
        // Every constructor checks that the exponent exists.
        self.0.exponent().map_or(0, u32::from)
    }
}

impl schemars::JsonSchema for Currency {
    fn inline_schema() -> bool {
        true
    }

    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Currency".into()
    }

    /// Its three-letter ISO 4217 code, as serialised.
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "pattern": "^[A-Z]{3}$",
            "description": "The ISO 4217 currency code, three capital letters (\"USD\").",
        })
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for Currency {
    type Err = Error;

    fn from_str(code: &str) -> Result<Self> {
        Currency::parse(code)
    }
}

impl TryFrom<String> for Currency {
    type Error = Error;

    fn try_from(code: String) -> Result<Self> {
        Currency::parse(&code)
    }
}

impl TryFrom<&str> for Currency {
    type Error = Error;

    fn try_from(code: &str) -> Result<Self> {
        Currency::parse(code)
    }
}

impl From<Currency> for String {
    fn from(currency: Currency) -> Self {
        currency.code().to_owned()
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
    /// Whether the amount is zero.
    pub fn is_zero(&self) -> bool {
        self.minor == 0
    }
    /// Whether the amount is below zero.
    pub fn is_negative(&self) -> bool {
        self.minor < 0
    }
    /// A major-unit decimal rounded to the minor unit half away from zero: the line-item rule.
    pub fn round_from_major(amount: Decimal, currency: Currency) -> Result<Self> {
        let exponent = currency.exponent();
        let rounded = round_half_away_from_zero(amount, exponent);
        Self::from_exact_major(rounded, currency)
    }
    /// A major-unit decimal that must already be exact to the minor unit (agent payload amounts);
    /// finer precision is an [`Error::InvalidInput`] naming `field`.
    pub fn exact_from_major(amount: Decimal, currency: Currency, field: &str) -> Result<Self> {
        let exponent = currency.exponent();
        if amount.normalize().scale() > exponent {
            return Err(Error::invalid(
                field,
                format!("{amount} has more decimals than the currency's minor unit ({exponent})"),
            ));
        }
        Self::from_exact_major(amount, currency)
    }
    /// Converts a major-unit amount already exact to the minor unit.
    fn from_exact_major(amount: Decimal, currency: Currency) -> Result<Self> {
        let overflow = || Error::overflow(format!("{amount} {currency} in minor units"));
        let factor = Decimal::from(10_i64.pow(currency.exponent()));
        let minor = amount.checked_mul(factor).ok_or_else(overflow)?;
        let minor = minor.to_i64().ok_or_else(overflow)?;
        Ok(Money { minor, currency })
    }
    /// The amount in major units, scaled to the currency's exponent (`5.00`, `1200` for JPY).
    pub fn to_major(&self) -> Decimal {
        Decimal::new(self.minor, self.currency.exponent())
    }
    /// Sum; a different currency is [`Error::CurrencyMismatch`], overflow is [`Error::Overflow`].
    pub fn checked_add(&self, other: Money) -> Result<Money> {
        self.same_currency(other)?;
        let minor = self
            .minor
            .checked_add(other.minor)
            .ok_or_else(|| Error::overflow(format!("{self} + {other}")))?;
        Ok(Money {
            minor,
            currency: self.currency,
        })
    }
    /// Difference, with the same checks as [`Money::checked_add`].
    pub fn checked_sub(&self, other: Money) -> Result<Money> {
        self.same_currency(other)?;
        let minor = self
            .minor
            .checked_sub(other.minor)
            .ok_or_else(|| Error::overflow(format!("{self} - {other}")))?;
        Ok(Money {
            minor,
            currency: self.currency,
        })
    }
    /// The amount times an integer (a quantity); overflow is [`Error::Overflow`].
    pub fn checked_mul(&self, factor: i64) -> Result<Money> {
        let minor = self
            .minor
            .checked_mul(factor)
            .ok_or_else(|| Error::overflow(format!("{self} x {factor}")))?;
        Ok(Money {
            minor,
            currency: self.currency,
        })
    }
    /// The opposite amount; overflow (the most negative amount) is [`Error::Overflow`].
    pub fn checked_neg(&self) -> Result<Money> {
        let minor = self
            .minor
            .checked_neg()
            .ok_or_else(|| Error::overflow(format!("-({self})")))?;
        Ok(Money {
            minor,
            currency: self.currency,
        })
    }
    /// The sum of `amounts`, all in `currency` (zero when empty), with the checks of
    /// [`Money::checked_add`].
    pub fn checked_sum(
        currency: Currency,
        amounts: impl IntoIterator<Item = Money>,
    ) -> Result<Money> {
        amounts
            .into_iter()
            .try_fold(Money::zero(currency), |total, amount| {
                total.checked_add(amount)
            })
    }
    /// Splits the amount over parts in proportion to `weights`; the parts always sum to the whole,
    /// the remainder going one minor unit at a time to the largest fractional parts (ties to the
    /// earlier part). All-zero or empty weights are [`Error::InvalidInput`].
    pub fn allocate(&self, weights: &[u64]) -> Result<Vec<Money>> {
        // A slice holds fewer than 2^64 items of at most 2^64 - 1: the sum fits in a u128.
        let total_weight: u128 = weights.iter().map(|&w| u128::from(w)).sum();
        if total_weight == 0 {
            return Err(Error::invalid(
                "allocation weights",
                "at least one weight must be above zero",
            ));
        }
        // Allocate the magnitude, then give every part the amount's sign: symmetric under negation.
        let magnitude = u128::from(self.minor.unsigned_abs());
        // magnitude * weight < 2^63 * 2^64 = 2^127: no overflow.
        let mut parts: Vec<u128> = Vec::with_capacity(weights.len());
        let mut remainders: Vec<(u128, usize)> = Vec::with_capacity(weights.len());
        for (index, &weight) in weights.iter().enumerate() {
            let exact = magnitude * u128::from(weight);
            parts.push(exact / total_weight);
            remainders.push((exact % total_weight, index));
        }
        let allocated: u128 = parts.iter().sum();
        // Each floor loses less than one unit, so fewer than `weights.len()` units are left over.
        let left_over = usize::try_from(magnitude - allocated)
            .map_err(|_| Error::overflow("the remainder of an allocation"))?;
        // Largest remainder first; on equal remainders the earlier part first.
        remainders.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        for &(_, index) in remainders.iter().take(left_over) {
            parts[index] += 1;
        }
        let negative = self.minor < 0;
        parts
            .into_iter()
            .map(|part| {
                // Every part is at most the magnitude (< 2^64), so it fits with the amount's sign.
                let part =
                    i128::try_from(part).map_err(|_| Error::overflow("an allocated part"))?;
                let signed = if negative { -part } else { part };
                let minor =
                    i64::try_from(signed).map_err(|_| Error::overflow("an allocated part"))?;
                Ok(Money {
                    minor,
                    currency: self.currency,
                })
            })
            .collect()
    }

    fn same_currency(&self, other: Money) -> Result<()> {
        if self.currency == other.currency {
            Ok(())
        } else {
            Err(Error::CurrencyMismatch {
                expected: self.currency.code().to_owned(),
                found: other.currency.code().to_owned(),
            })
        }
    }
}

impl fmt::Display for Money {
    /// `5.00 USD`, `1200 JPY`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.to_major(), self.currency)
    }
}

/// Rounds a major-unit amount to `exponent` decimals, half away from zero (the conventions' rule
/// for line items and tax).
pub fn round_half_away_from_zero(amount: Decimal, exponent: u32) -> Decimal {
    amount.round_dp_with_strategy(exponent, RoundingStrategy::MidpointAwayFromZero)
}

/// Serialises a [`Money`] as a decimal string in major units (`"5.00"`), the form of every amount
/// in the CLI's JSON and the bindings' objects.
pub fn serialize_major<S: serde::Serializer>(
    money: &Money,
    serializer: S,
) -> std::result::Result<S::Ok, S::Error> {
    serializer.collect_str(&money.to_major())
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use proptest::prelude::*;

    use super::*;

    fn usd(minor: i64) -> Money {
        Money::from_minor(minor, Currency::USD)
    }

    fn dec(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    fn minors(parts: &[Money]) -> Vec<i64> {
        parts.iter().map(Money::minor).collect()
    }

    #[test]
    fn parse_is_case_insensitive_and_keeps_the_exponent() {
        let usd = Currency::parse("usd").unwrap();
        assert_eq!(usd, Currency::USD);
        assert_eq!(usd.code(), "USD");
        assert_eq!(usd.exponent(), 2);
        assert_eq!(Currency::parse("Jpy").unwrap().exponent(), 0);
        assert_eq!(Currency::parse("BHD").unwrap().exponent(), 3);
        assert_eq!("eur".parse::<Currency>().unwrap(), Currency::EUR);
        assert_eq!(Currency::JPY.to_string(), "JPY");
    }

    #[test]
    fn unknown_codes_and_codes_without_a_minor_unit_are_refused() {
        for code in ["ABC", "US", "USDX", "", " USD", "USD ", "XAU", "xxx", "XDR"] {
            match Currency::parse(code) {
                Err(Error::UnknownCurrency { code: given }) => assert_eq!(given, code),
                other => panic!("{code:?} gave {other:?}"),
            }
        }
    }

    #[test]
    fn currency_serialises_as_its_code() {
        let json = serde_json::to_string(&Currency::EUR).unwrap();
        assert_eq!(json, "\"EUR\"");
        let back: Currency = serde_json::from_str("\"eur\"").unwrap();
        assert_eq!(back, Currency::EUR);
        assert!(serde_json::from_str::<Currency>("\"XAU\"").is_err());
    }

    #[test]
    fn tax_example_rounds_half_away_from_zero() {
        let tax = round_half_away_from_zero(dec("10.00") * dec("0.0825"), 2);
        assert_eq!(tax, dec("0.83"));
        assert_eq!(tax.to_string(), "0.83");
        assert_eq!(round_half_away_from_zero(dec("0.825"), 2), dec("0.83"));
        assert_eq!(round_half_away_from_zero(dec("-0.825"), 2), dec("-0.83"));
        assert_eq!(round_half_away_from_zero(dec("2.5"), 0), dec("3"));
        assert_eq!(round_half_away_from_zero(dec("-2.5"), 0), dec("-3"));
        assert_eq!(round_half_away_from_zero(dec("0.8249"), 2), dec("0.82"));
        let tax = Money::round_from_major(dec("10.00") * dec("0.0825"), Currency::USD).unwrap();
        assert_eq!(tax, usd(83));
    }

    #[test]
    fn round_from_major_converts_to_minor_units() {
        assert_eq!(
            Money::round_from_major(dec("5"), Currency::USD).unwrap(),
            usd(500)
        );
        assert_eq!(
            Money::round_from_major(dec("-1.005"), Currency::USD).unwrap(),
            usd(-101)
        );
        let yen = Money::round_from_major(dec("1199.5"), Currency::JPY).unwrap();
        assert_eq!(yen.minor(), 1200);
        let huge = dec("99999999999999999999");
        assert!(matches!(
            Money::round_from_major(huge, Currency::USD),
            Err(Error::Overflow { .. })
        ));
    }

    #[test]
    fn exact_from_major_refuses_extra_decimals() {
        let cents =
            Money::exact_from_major(dec("12.50"), Currency::USD, "lines[0].amount").unwrap();
        assert_eq!(cents, usd(1250));
        // Trailing zeros beyond the minor unit are still exact.
        assert_eq!(
            Money::exact_from_major(dec("1.2000"), Currency::USD, "x").unwrap(),
            usd(120)
        );
        assert_eq!(
            Money::exact_from_major(dec("1200.0"), Currency::JPY, "x")
                .unwrap()
                .minor(),
            1200
        );
        match Money::exact_from_major(dec("12.505"), Currency::USD, "lines[0].amount") {
            Err(Error::InvalidInput { field, reason }) => {
                assert_eq!(field, "lines[0].amount");
                assert_eq!(
                    reason,
                    "12.505 has more decimals than the currency's minor unit (2)"
                );
            }
            other => panic!("{other:?}"),
        }
        assert!(Money::exact_from_major(dec("1.5"), Currency::JPY, "x").is_err());
    }

    #[test]
    fn to_major_is_scaled_to_the_exponent() {
        assert_eq!(usd(500).to_major().to_string(), "5.00");
        assert_eq!(usd(-5).to_major().to_string(), "-0.05");
        assert_eq!(
            Money::from_minor(1200, Currency::JPY)
                .to_major()
                .to_string(),
            "1200"
        );
        let bhd = Money::from_minor(1, Currency::parse("BHD").unwrap());
        assert_eq!(bhd.to_major().to_string(), "0.001");
        assert_eq!(usd(1234).to_string(), "12.34 USD");
        let json = serde_json::to_value(SerializeMajor(usd(500))).unwrap();
        assert_eq!(json, serde_json::json!("5.00"));
    }

    #[derive(Serialize)]
    struct SerializeMajor(#[serde(serialize_with = "serialize_major")] Money);

    #[test]
    fn arithmetic_is_checked() {
        assert_eq!(usd(150).checked_add(usd(250)).unwrap(), usd(400));
        assert_eq!(usd(150).checked_sub(usd(250)).unwrap(), usd(-100));
        assert_eq!(usd(150).checked_mul(3).unwrap(), usd(450));
        assert_eq!(usd(150).checked_neg().unwrap(), usd(-150));
        assert_eq!(
            Money::checked_sum(Currency::USD, [usd(1), usd(2), usd(3)]).unwrap(),
            usd(6)
        );
        assert_eq!(
            Money::checked_sum(Currency::USD, []).unwrap(),
            Money::zero(Currency::USD)
        );
        assert!(matches!(
            usd(i64::MAX).checked_add(usd(1)),
            Err(Error::Overflow { .. })
        ));
        assert!(matches!(
            usd(i64::MIN).checked_sub(usd(1)),
            Err(Error::Overflow { .. })
        ));
        assert!(matches!(
            usd(i64::MAX).checked_mul(2),
            Err(Error::Overflow { .. })
        ));
        assert!(matches!(
            usd(i64::MIN).checked_neg(),
            Err(Error::Overflow { .. })
        ));
        let yen = Money::from_minor(1, Currency::JPY);
        match usd(1).checked_add(yen) {
            Err(Error::CurrencyMismatch { expected, found }) => {
                assert_eq!((expected.as_str(), found.as_str()), ("USD", "JPY"));
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            usd(1).checked_sub(yen),
            Err(Error::CurrencyMismatch { .. })
        ));
    }

    #[test]
    fn allocation_examples() {
        assert_eq!(
            minors(&usd(100).allocate(&[1, 1, 1]).unwrap()),
            [34, 33, 33]
        );
        assert_eq!(
            minors(&usd(-100).allocate(&[1, 1, 1]).unwrap()),
            [-34, -33, -33]
        );
        assert_eq!(
            minors(&usd(101).allocate(&[1, 1, 1]).unwrap()),
            [34, 34, 33]
        );
        assert_eq!(minors(&usd(5).allocate(&[1, 2]).unwrap()), [2, 3]);
        assert_eq!(minors(&usd(100).allocate(&[0, 1, 0]).unwrap()), [0, 100, 0]);
        assert_eq!(minors(&usd(0).allocate(&[3, 4]).unwrap()), [0, 0]);
        // Remainder to the largest fraction: 10 x 3/7 = 4.29, 10 x 4/7 = 5.71.
        assert_eq!(minors(&usd(10).allocate(&[3, 4]).unwrap()), [4, 6]);
        assert_eq!(
            minors(&usd(i64::MAX).allocate(&[u64::MAX, u64::MAX]).unwrap()),
            [i64::MAX / 2 + 1, i64::MAX / 2]
        );
        assert_eq!(minors(&usd(i64::MIN).allocate(&[1]).unwrap()), [i64::MIN]);
        assert!(usd(100).allocate(&[]).is_err());
        assert!(matches!(
            usd(100).allocate(&[0, 0]),
            Err(Error::InvalidInput { .. })
        ));
    }

    fn currency() -> impl Strategy<Value = Currency> {
        prop_oneof![
            Just(Currency::USD),
            Just(Currency::JPY),
            Just(Currency::parse("BHD").unwrap())
        ]
    }

    proptest! {
        #[test]
        fn allocation_sums_to_the_whole_and_stays_within_one_unit_of_the_share(
            minor in any::<i64>(),
            weights in prop::collection::vec(prop_oneof![0u64..1000, any::<u64>()], 1..12),
        ) {
            prop_assume!(weights.iter().any(|&w| w > 0));
            let parts = usd(minor).allocate(&weights).unwrap();
            prop_assert_eq!(parts.len(), weights.len());
            let sum: i128 = parts.iter().map(|p| i128::from(p.minor())).sum();
            prop_assert_eq!(sum, i128::from(minor));
            let total: i128 = weights.iter().map(|&w| i128::from(w)).sum();
            for (part, &weight) in parts.iter().zip(&weights) {
                prop_assert_eq!(part.currency(), Currency::USD);
                // |part - minor * weight / total| < 1, i.e. |part * total - minor * weight| < total.
                let gap = i128::from(part.minor()) * total - i128::from(minor) * i128::from(weight);
                prop_assert!(gap.abs() < total, "part {} for weight {}", part.minor(), weight);
            }
        }

        #[test]
        fn allocation_is_symmetric_under_negation(
            minor in -1_000_000_000i64..1_000_000_000,
            weights in prop::collection::vec(1u64..100, 1..8),
        ) {
            let positive = minors(&usd(minor).allocate(&weights).unwrap());
            let negative = minors(&usd(-minor).allocate(&weights).unwrap());
            let negated: Vec<i64> = positive.iter().map(|m| -m).collect();
            prop_assert_eq!(negative, negated);
        }

        #[test]
        fn rounding_half_away_from_zero_is_symmetric_under_negation(
            mantissa in any::<i64>(),
            scale in 0u32..10,
            exponent in 0u32..5,
        ) {
            let amount = Decimal::new(mantissa, scale);
            let rounded = round_half_away_from_zero(amount, exponent);
            prop_assert_eq!(round_half_away_from_zero(-amount, exponent), -rounded);
            // Never more than half a minor unit away.
            let half = Decimal::new(5, exponent + 1);
            prop_assert!((rounded - amount).abs() <= half);
            prop_assert!(rounded.normalize().scale() <= exponent);
        }

        #[test]
        fn exact_amounts_round_trip_through_major_units(minor in any::<i64>(), currency in currency()) {
            let money = Money::from_minor(minor, currency);
            let major = money.to_major();
            prop_assert_eq!(major.scale(), currency.exponent());
            prop_assert_eq!(Money::exact_from_major(major, currency, "amount").unwrap(), money);
            prop_assert_eq!(Money::round_from_major(major, currency).unwrap(), money);
        }
    }
}
