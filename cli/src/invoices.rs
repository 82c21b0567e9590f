//! `ai-billing invoices`: the invoices a database holds.

use std::io::Write;

use ai_billing::store::InvoiceQuery;

use crate::database::{DbArgs, block_on};
use crate::failure::{CliResult, Failure};
use crate::render;

/// Arguments of `invoices`.
#[derive(Debug, clap::Args)]
#[command(about = "List invoices, by account and subscription")]
pub struct Args {
    #[command(flatten)]
    pub db: DbArgs,
    /// Only this account's.
    #[arg(long)]
    pub account: Option<String>,
    /// Only this subscription's (with --account).
    #[arg(long, requires = "account")]
    pub subscription: Option<String>,
    /// At most this many.
    #[arg(long)]
    pub limit: Option<u32>,
    /// Show each invoice whole: its line items, tax, total and revenue schedule.
    #[arg(long, conflicts_with = "json")]
    pub lines: bool,
    /// Print a JSON array, every invoice whole.
    #[arg(long)]
    pub json: bool,
}

/// Runs `invoices`.
pub fn run(args: &Args) -> CliResult {
    let invoices = block_on(async {
        let store = args.db.open().await?;
        Ok(store
            .invoices(&InvoiceQuery {
                account_id: args.account.clone(),
                subscription_id: args.subscription.clone(),
                limit: args.limit,
                ..Default::default()
            })
            .await?)
    })?;
    let mut out = std::io::stdout().lock();
    if args.json {
        let json = serde_json::to_string_pretty(&invoices)
            .map_err(|e| Failure::other("printing the invoices", e))?;
        writeln!(out, "{json}")?;
        return Ok(());
    }
    for issued in &invoices {
        writeln!(
            out,
            "{} {}/{} plan {} v{} qty {} {} {}: {}",
            issued.id,
            issued.account_id,
            issued.subscription_id,
            issued.plan_id,
            issued.plan_version,
            issued.quantity,
            issued.billing_reason.as_str(),
            issued.status.as_str(),
            render::money(&issued.invoice.total)
        )?;
        if args.lines {
            writeln!(
                out,
                "{}",
                render::indent(&render::invoice(&issued.invoice), 2)
            )?;
        }
        if let Some(review) = &issued.review {
            write!(
                out,
                "{}",
                render::indent(&render::review(issued, review), 2)
            )?;
        }
    }
    writeln!(out, "{}", render::count(invoices.len(), "invoice"))?;
    Ok(())
}
