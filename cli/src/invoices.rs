//! `ai-billing invoices`: the invoices a database holds.

use std::io::Write;
use std::path::PathBuf;

use ai_billing::InvoiceStatus;
use ai_billing::document::{DocumentOptions, render_issued_invoice};
use ai_billing::store::InvoiceQuery;
use chrono::NaiveDate;

use crate::database::{DbArgs, block_on};
use crate::documents::{Document, HtmlOutput, Locales};
use crate::failure::{CliResult, Failure};
use crate::render;

/// Arguments of `invoices`.
#[derive(Debug, clap::Args)]
#[command(
    about = "List invoices, by account and subscription",
    after_help = "Documents (--html): the invoice as one self-contained HTML page in its account's \
                  locale, the page the library, Node and the plan builder render; print it from a \
                  browser for a PDF.\n  \
                  ai-billing invoices --account acct_1 --invoice in_sub_1_20260101 --html > invoice.html\n  \
                  ai-billing invoices --account acct_1 --html invoices/   (one file per invoice: invoices/ID.html)\n\
                  Without a folder, --html prints exactly one invoice: more or none is an error (exit 2)."
)]
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
    /// Only the invoice with this id (with --account).
    #[arg(long, value_name = "ID", requires = "account")]
    pub invoice: Option<String>,
    /// At most this many.
    #[arg(long)]
    pub limit: Option<u32>,
    /// The HTML document of the one invoice selected on stdout; with a folder, the document of
    /// each invoice listed, written to DIR/ID.html (the paths are printed).
    #[arg(long, value_name = "DIR", num_args = 0..=1, conflicts_with_all = ["json", "lines"])]
    pub html: Option<Option<PathBuf>>,
    /// Show each invoice whole: its line items, tax, total and revenue schedule.
    #[arg(long, conflicts_with = "json")]
    pub lines: bool,
    /// Print a JSON array, every invoice whole.
    #[arg(long)]
    pub json: bool,
}

/// Runs `invoices`.
pub fn run(args: &Args) -> CliResult {
    let html = HtmlOutput::of(&args.html);
    let (invoices, documents) = block_on(async {
        let store = args.db.open().await?;
        let invoices: Vec<_> = store
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
            .await?
            .into_iter()
            .filter(|invoice| args.invoice.as_ref().is_none_or(|id| *id == invoice.id))
            .collect();
        let mut documents = Vec::new();
        if html.is_some() {
            let mut locales = Locales::default();
            for invoice in &invoices {
                let locale = locales.of(store.as_ref(), &invoice.account_id).await?;
                documents.push(Document {
                    name: invoice.id.clone(),
                    html: render_issued_invoice(invoice, &DocumentOptions::new(locale)),
                });
            }
        }
        Ok((invoices, documents))
    })?;
    if let Some(output) = html {
        return crate::documents::emit(output, "invoice", "--account and --invoice ID", &documents);
    }
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
