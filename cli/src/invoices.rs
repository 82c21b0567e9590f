//! `ai-billing invoices`: the invoices a database holds.

use std::io::Write;

use ai_billing::InvoiceStatus;
use ai_billing::store::InvoiceQuery;
use chrono::NaiveDate;

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
    /// Only this customer's (with --account).
    #[arg(long, requires = "account")]
    pub customer: Option<String>,
    /// Only those in this status: open, held or void.
    #[arg(long, value_parser = parse_status)]
    pub status: Option<InvoiceStatus>,
    /// Only those issued on or after this local date (YYYY-MM-DD).
    #[arg(long, value_name = "DATE")]
    pub issued_from: Option<NaiveDate>,
    /// Only those issued on or before this local date (YYYY-MM-DD).
    #[arg(long, value_name = "DATE")]
    pub issued_to: Option<NaiveDate>,
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
                customer_id: args.customer.clone(),
                status: args.status,
                issued_from: args.issued_from,
                issued_to: args.issued_to,
                limit: args.limit,
                page: None,
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

/// An invoice status as `--status` names it.
fn parse_status(text: &str) -> Result<InvoiceStatus, String> {
    InvoiceStatus::parse(text)
        .ok_or_else(|| format!("{text:?} is not a status: open, held or void"))
}
