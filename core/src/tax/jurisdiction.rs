//! A tax rate table by jurisdiction (country, region, postal prefix), with stacked rates.
//! Being written: see the tax section.

use async_trait::async_trait;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::{TaxCalculator, TaxRequest, TaxResult, apply_rates};
use crate::error::Result;

/// One rate of the table: it applies to every address inside its jurisdiction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaxRule {
    /// The tax's name on the invoice ("CA state sales tax").
    pub name: String,
    /// ISO 3166-1 alpha-2 country code.
    pub country: String,
    /// The region it is limited to, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// The postal code prefix it is limited to, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postal_prefix: Option<String>,
    /// The rate, a fraction.
    #[serde(with = "rust_decimal::serde::str")]
    pub rate: Decimal,
}

/// A table of [`TaxRule`]s.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RateTable {
    rules: Vec<TaxRule>,
}

impl RateTable {
    /// A table of `rules`.
    pub fn new(rules: Vec<TaxRule>) -> Result<Self> {
        Ok(RateTable { rules })
    }

    /// The tax of `request`.
    pub fn tax(&self, request: &TaxRequest) -> Result<TaxResult> {
        let Some(address) = &request.address else {
            return Ok(TaxResult::none(request));
        };
        let rates: Vec<(String, Decimal)> = self
            .rules
            .iter()
            .filter(|rule| rule.country == address.country)
            .map(|rule| (rule.name.clone(), rule.rate))
            .collect();
        apply_rates(request, &rates)
    }
}

#[async_trait]
impl TaxCalculator for RateTable {
    async fn compute(&self, request: &TaxRequest) -> Result<TaxResult> {
        self.tax(request)
    }
}
