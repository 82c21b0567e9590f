//! The tax options of the commands that bill: a flat rate or a jurisdiction rate table.

use std::path::PathBuf;

use ai_billing::api::TaxOptions;
use ai_billing::tax::RateTable;
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
    /// The engine's tax options (the front door's [`TaxOptions`]); `None` (no tax) when
    /// neither is given. A rate table is checked here, so its errors name the file.
    pub fn options(&self) -> CliResult<Option<TaxOptions>> {
        if let Some(rate) = self.tax_rate {
            return Ok(Some(TaxOptions {
                rate: Some(rate),
                rules: None,
            }));
        }
        let Some(path) = &self.tax_rates else {
            return Ok(None);
        };
        let text = crate::input::read_json_file(path, "the tax rate table")?;
        let in_file =
            |e| Failure::from(e).context(format!("in the tax rate table {}", path.display()));
        RateTable::from_json(&text).map_err(in_file)?;
        let rules = match serde_json::from_str::<serde_json::Value>(&text) {
            Ok(serde_json::Value::Object(mut table)) => match table.remove("rules") {
                Some(serde_json::Value::Array(rules)) => rules,
                _ => Vec::new(),
            },
            _ => Vec::new(),
        };
        Ok(Some(TaxOptions {
            rate: None,
            rules: Some(rules),
        }))
    }
}
