//! Tax on an invoice's final subtotal: the [`TaxCalculator`] port and its in-process
//! implementations, [`NoTax`], [`FlatRate`] and the jurisdiction table [`RateTable`].
//!
//! Tax is computed once, on the subtotal. Exclusive (the default): each rate's tax is
//! `round(subtotal x rate)`, half away from zero at the currency's minor unit, and
//! `total = subtotal + tax`. Inclusive (a site whose prices already hold the tax): the net is
//! `round(subtotal / (1 + sum of rates))`, the tax is `subtotal - net`, split over the rates in
//! proportion to them, and `total = subtotal`. A tax-exempt customer is taxed nothing.

use std::fmt;

use async_trait::async_trait;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::money::Money;

pub mod jurisdiction;

pub use jurisdiction::{RateTable, TaxRule};

/// Computes the tax of an invoice. Held as `Arc<dyn TaxCalculator>`; an adapter for an external
/// tax service implements it the same way as [`FlatRate`] (it is async for that reason).
#[async_trait]
pub trait TaxCalculator: Send + Sync + fmt::Debug + 'static {
    /// The tax on `request.subtotal`, in its currency.
    async fn compute(&self, request: &TaxRequest) -> Result<TaxResult>;
}

/// Where a customer is taxed.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
pub struct TaxAddress {
    /// ISO 3166-1 alpha-2 country code (`US`), upper case.
    pub country: String,
    /// The region (state, province) code as the country writes it (`CA`, `QC`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// The postal code (`94103`, `H2X 1Y4`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postal_code: Option<String>,
}

/// What a [`TaxCalculator`] is asked. Fields may be added, so build it with [`TaxRequest::new`]
/// and the `with_` methods.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TaxRequest {
    /// The invoice's final subtotal, the amount tax is computed on.
    pub subtotal: Money,
    /// Where the customer is taxed, if known.
    pub address: Option<TaxAddress>,
    /// Whether the customer is exempt from tax.
    pub exempt: bool,
    /// Whether the subtotal already includes the tax (a tax-inclusive site).
    pub inclusive: bool,
}

impl TaxRequest {
    /// A request for the tax on `subtotal`: no address, not exempt, exclusive.
    pub fn new(subtotal: Money) -> Self {
        TaxRequest {
            subtotal,
            address: None,
            exempt: false,
            inclusive: false,
        }
    }

    /// The request for a customer at `address` (or none).
    pub fn with_address(mut self, address: Option<TaxAddress>) -> Self {
        self.address = address;
        self
    }

    /// The request for an exempt (or not) customer.
    pub fn with_exempt(mut self, exempt: bool) -> Self {
        self.exempt = exempt;
        self
    }

    /// The request for a site whose prices include tax (or not).
    pub fn with_inclusive(mut self, inclusive: bool) -> Self {
        self.inclusive = inclusive;
        self
    }
}

/// The tax of one invoice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct TaxResult {
    /// One line per tax applied; empty when none is.
    pub lines: Vec<TaxLine>,
    /// The sum of the lines, in the subtotal's currency.
    #[serde(serialize_with = "crate::money::serialize_major")]
    #[schemars(with = "crate::json::DecimalString")]
    pub total: Money,
    /// Whether the tax is included in the subtotal rather than added to it.
    pub inclusive: bool,
}

impl TaxResult {
    /// No tax on the request's subtotal (zero in its currency).
    pub fn none(request: &TaxRequest) -> Self {
        TaxResult {
            lines: Vec::new(),
            total: Money::zero(request.subtotal.currency()),
            inclusive: request.inclusive,
        }
    }
}

/// One tax on an invoice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct TaxLine {
    /// The tax's name ("Sales tax").
    pub name: String,
    /// The rate as a fraction (`0.0825` for 8.25%).
    #[serde(with = "rust_decimal::serde::str")]
    #[schemars(with = "crate::json::DecimalString")]
    pub rate: Decimal,
    /// The tax amount, rounded to the minor unit.
    #[serde(serialize_with = "crate::money::serialize_major")]
    #[schemars(with = "crate::json::DecimalString")]
    pub amount: Money,
}

/// Applies `rates` (name, fraction) to the request's subtotal, stacked: the one place where tax
/// is rounded, for every in-process calculator. Exempt requests and an empty list give no tax.
pub fn apply_rates(request: &TaxRequest, rates: &[(String, Decimal)]) -> Result<TaxResult> {
    if request.exempt || rates.is_empty() {
        return Ok(TaxResult::none(request));
    }
    for (_, rate) in rates {
        check_rate(*rate)?;
    }
    let subtotal = request.subtotal;
    let currency = subtotal.currency();
    let amounts: Vec<Money> = if request.inclusive {
        let combined = rates
            .iter()
            .try_fold(Decimal::ONE, |sum, (_, rate)| sum.checked_add(*rate))
            .ok_or_else(|| Error::overflow("the combined tax rate"))?;
        let net_exact = subtotal
            .to_major()
            .checked_div(combined)
            .ok_or_else(|| Error::overflow("the net of a tax-inclusive amount"))?;
        let net = Money::round_from_major(net_exact, currency)?;
        let tax = subtotal.checked_sub(net)?;
        let weights = rate_weights(rates)?;
        if weights.iter().all(|&w| w == 0) {
            vec![Money::zero(currency); rates.len()]
        } else {
            tax.allocate(&weights)?
        }
    } else {
        rates
            .iter()
            .map(|(_, rate)| {
                let exact = subtotal
                    .to_major()
                    .checked_mul(*rate)
                    .ok_or_else(|| Error::overflow("tax"))?;
                Money::round_from_major(exact, currency)
            })
            .collect::<Result<_>>()?
    };
    let total = Money::checked_sum(currency, amounts.iter().copied())?;
    Ok(TaxResult {
        lines: rates
            .iter()
            .zip(amounts)
            .map(|((name, rate), amount)| TaxLine {
                name: name.clone(),
                rate: *rate,
                amount,
            })
            .collect(),
        total,
        inclusive: request.inclusive,
    })
}

/// The rates as integer weights on a common scale, for splitting an included tax: `0.04` and
/// `0.04875` weigh 4000 and 4875. Trailing zeros are dropped first, so a rate written
/// `0.0400000000000000000000` weighs the same as `0.04` (on its written scale it would not fit a
/// weight). Rates are at most 1, so a weight overflows only past 19 significant decimals.
fn rate_weights(rates: &[(String, Decimal)]) -> Result<Vec<u64>> {
    let normalized: Vec<Decimal> = rates.iter().map(|(_, rate)| rate.normalize()).collect();
    let scale = normalized.iter().map(Decimal::scale).max().unwrap_or(0);
    normalized
        .into_iter()
        .map(|mut scaled| {
            // At most 28 decimals of a rate from 0 to 1: the mantissa fits a Decimal's 96 bits.
            scaled.rescale(scale);
            u64::try_from(scaled.mantissa()).map_err(|_| Error::overflow("tax rate weights"))
        })
        .collect()
}

/// No tax at all.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NoTax;

#[async_trait]
impl TaxCalculator for NoTax {
    async fn compute(&self, request: &TaxRequest) -> Result<TaxResult> {
        Ok(TaxResult::none(request))
    }
}

/// One tax at a flat rate, whatever the address.
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

    /// The tax of `request`, computed in place (the port's `compute` without the future).
    pub fn tax(&self, request: &TaxRequest) -> Result<TaxResult> {
        apply_rates(request, &[(self.name.clone(), self.rate)])
    }
}

#[async_trait]
impl TaxCalculator for FlatRate {
    async fn compute(&self, request: &TaxRequest) -> Result<TaxResult> {
        self.tax(request)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::money::Currency;

    fn usd(minor: i64) -> Money {
        Money::from_minor(minor, Currency::parse("USD").unwrap())
    }

    fn tax_of(rate: &str, subtotal: Money) -> Money {
        let calc = FlatRate::new("Tax", rate.parse().unwrap()).unwrap();
        let result = calc.tax(&TaxRequest::new(subtotal)).unwrap();
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
            .tax(&TaxRequest::new(Money::from_minor(1235, jpy)))
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

    #[tokio::test]
    async fn no_tax_is_zero_in_the_subtotal_currency() {
        let result = NoTax.compute(&TaxRequest::new(usd(1000))).await.unwrap();
        assert!(result.lines.is_empty());
        assert_eq!(result.total, usd(0));
    }

    #[tokio::test]
    async fn calculators_are_usable_as_trait_objects() {
        let calcs: Vec<std::sync::Arc<dyn TaxCalculator>> = vec![
            std::sync::Arc::new(NoTax),
            std::sync::Arc::new(FlatRate::new("Tax", Decimal::ONE).unwrap()),
        ];
        let mut totals = Vec::new();
        for calc in &calcs {
            totals.push(
                calc.compute(&TaxRequest::new(usd(500)))
                    .await
                    .unwrap()
                    .total
                    .minor(),
            );
        }
        assert_eq!(totals, vec![0, 500]);
    }

    #[test]
    fn inclusive_tax_is_the_part_of_the_amount_that_is_tax() {
        let calc = FlatRate::new("VAT", "0.0825".parse().unwrap()).unwrap();
        // 10.00 / 1.0825 = 9.2379... -> net 9.24, tax 0.76.
        let result = calc
            .tax(&TaxRequest::new(usd(1000)).with_inclusive(true))
            .unwrap();
        assert!(result.inclusive);
        assert_eq!(result.total, usd(76));
    }

    #[test]
    fn exempt_customers_pay_no_tax() {
        let calc = FlatRate::new("Tax", "0.0825".parse().unwrap()).unwrap();
        let result = calc
            .tax(&TaxRequest::new(usd(1000)).with_exempt(true))
            .unwrap();
        assert!(result.lines.is_empty());
        assert_eq!(result.total, usd(0));
    }

    #[test]
    fn included_tax_weights_ignore_trailing_zeros() {
        // 0.04 written with 22 decimals weighed 4 x 10^20, past a u64, and failed as an overflow;
        // it weighs 4000 against 4875 like 0.04. 108.88 / 1.08875 = 100.0045... -> net 100.00,
        // tax 8.88, split 888 x 4000/8875 = 400.23 and 888 x 4875/8875 = 487.77 -> 400 + 488.
        let rates = [
            (
                "State".to_owned(),
                "0.0400000000000000000000".parse().unwrap(),
            ),
            ("City".to_owned(), "0.04875".parse().unwrap()),
        ];
        let result =
            apply_rates(&TaxRequest::new(usd(10_888)).with_inclusive(true), &rates).unwrap();
        let amounts: Vec<i64> = result.lines.iter().map(|l| l.amount.minor()).collect();
        assert_eq!(amounts, vec![400, 488]);
        assert_eq!(result.total, usd(888));
    }

    #[test]
    fn included_tax_with_a_zero_rate_gives_it_nothing() {
        // 10.00 / 1.05 = 9.5238... -> net 9.52, tax 0.48, all of it on the 5% rate.
        let rates = [
            ("Zero".to_owned(), Decimal::ZERO),
            ("Five".to_owned(), "0.05".parse().unwrap()),
        ];
        let result = apply_rates(&TaxRequest::new(usd(1000)).with_inclusive(true), &rates).unwrap();
        let amounts: Vec<i64> = result.lines.iter().map(|l| l.amount.minor()).collect();
        assert_eq!(amounts, vec![0, 48]);
        // Only zero rates: no tax, and the lines are still shown.
        let zero = [("Zero".to_owned(), Decimal::ZERO)];
        let result = apply_rates(&TaxRequest::new(usd(1000)).with_inclusive(true), &zero).unwrap();
        assert_eq!(result.total, usd(0));
        assert_eq!(result.lines.len(), 1);
    }

    /// `numerator / denominator` rounded half away from zero, in exact integers.
    fn div_round(numerator: i128, denominator: i128) -> i128 {
        let quotient = (2 * numerator.abs() + denominator) / (2 * denominator);
        if numerator < 0 { -quotient } else { quotient }
    }

    proptest::proptest! {
        #[test]
        fn stacked_tax_matches_exact_integer_arithmetic(
            subtotal in -1_000_000_000_i64..=1_000_000_000,
            raw_rates in proptest::collection::vec((0_i64..=100_000, 0_u32..=5), 1..=4),
            currency in proptest::sample::select(vec!["USD", "JPY", "BHD"]),
        ) {
            let currency = Currency::parse(currency).unwrap();
            let gross = Money::from_minor(subtotal, currency);
            // Rates from 0 to 1 with up to 5 decimals (100000 at scale 5 is 1).
            let rates: Vec<(String, Decimal)> = raw_rates
                .iter()
                .enumerate()
                .map(|(i, &(n, scale))| {
                    let rate = Decimal::new(n, scale).min(Decimal::ONE);
                    (format!("Tax {i}"), rate)
                })
                .collect();
            // Every rate as an integer over 10^5.
            let scaled: Vec<i128> = rates
                .iter()
                .map(|(_, rate)| {
                    let mut r = *rate;
                    r.rescale(5);
                    r.mantissa()
                })
                .collect();
            let unit: i128 = 100_000;

            let exclusive = apply_rates(&TaxRequest::new(gross), &rates).unwrap();
            proptest::prop_assert_eq!(exclusive.lines.len(), rates.len());
            for (line, &rate) in exclusive.lines.iter().zip(&scaled) {
                // Each line is round(subtotal x rate) on its own.
                proptest::prop_assert_eq!(
                    i128::from(line.amount.minor()),
                    div_round(i128::from(subtotal) * rate, unit)
                );
            }
            let sum: i64 = exclusive.lines.iter().map(|l| l.amount.minor()).sum();
            proptest::prop_assert_eq!(exclusive.total.minor(), sum);

            let inclusive =
                apply_rates(&TaxRequest::new(gross).with_inclusive(true), &rates).unwrap();
            let tax = inclusive.total.minor();
            let sum: i64 = inclusive.lines.iter().map(|l| l.amount.minor()).sum();
            proptest::prop_assert_eq!(sum, tax);
            // net + tax == gross, the net being round(gross / (1 + sum of rates)).
            let combined = unit + scaled.iter().sum::<i128>();
            let net = div_round(i128::from(subtotal) * unit, combined);
            proptest::prop_assert_eq!(net + i128::from(tax), i128::from(subtotal));
            // Each part is within one minor unit of its exact share, and has the tax's sign.
            let total_rate: i128 = scaled.iter().sum();
            for (line, &rate) in inclusive.lines.iter().zip(&scaled) {
                let part = i128::from(line.amount.minor());
                if total_rate == 0 {
                    proptest::prop_assert_eq!(part, 0);
                } else {
                    // |part x total_rate - tax x rate| < total_rate
                    let gap = (part * total_rate - i128::from(tax) * rate).abs();
                    proptest::prop_assert!(gap < total_rate);
                    proptest::prop_assert!(part == 0 || (part > 0) == (tax > 0));
                }
            }
        }
    }
}
