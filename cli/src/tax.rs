//! The tax options of the commands that bill: a flat rate or a jurisdiction rate table.

use std::path::PathBuf;
use std::sync::Arc;

use ai_billing::TaxCalculator;
use ai_billing::tax::{FlatRate, NoTax, RateTable};
use rust_decimal::Decimal;

use crate::failure::{CliResult, Failure};

/// How invoices are taxed.
#[derive(Debug, Clone, clap::Args)]
pub struct TaxArgs {
    /// One flat tax rate on every invoice, as a fraction (0.0825 for 8.25%).
    #[arg(long, value_name = "RATE", conflicts_with = "tax_rates")]
    pub tax_rate: Option<Decimal>,
    /// A JSON rate table by jurisdiction (country, region, postal prefix), stacked per address:
    /// `{"rules": [{"name": "CA state tax", "country": "US", "region": "CA", "rate": "0.0725"}]}`.
    #[arg(long, value_name = "FILE")]
    pub tax_rates: Option<PathBuf>,
}

impl TaxArgs {
    /// The calculator the options ask for; no tax when neither is given.
    pub fn calculator(&self) -> CliResult<Arc<dyn TaxCalculator>> {
        if let Some(rate) = self.tax_rate {
            return Ok(Arc::new(FlatRate::new("Tax", rate)?));
        }
        if let Some(path) = &self.tax_rates {
            let text = crate::input::read_json_file(path, "the tax rate table")?;
            let table = RateTable::from_json(&text).map_err(|e| {
                Failure::from(e).context(format!("in the tax rate table {}", path.display()))
            })?;
            return Ok(Arc::new(table));
        }
        Ok(Arc::new(NoTax))
    }
}
