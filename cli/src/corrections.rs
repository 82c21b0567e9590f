//! `ai-billing invoice release|void|credit`: invoice corrections (`billing-conventions.md`,
//! "Invoice corrections"), each made through the engine's operation: it first issues what the
//! subscription owes up to the moment it is made, then writes the correction and its audit
//! events (who: `--actor`, why: `--reason`) at once, or nothing.

use std::io::Write;

use ai_billing::engine::{CreditInvoice, CreditLine, ReleaseInvoice, VoidInvoice};
use ai_billing::money::Money;
use ai_billing::store::InvoiceQuery;
use ai_billing::subscription::invoice_subscription_id;
use ai_billing::{Engine, Error, IssuedInvoice};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use crate::database::{DbArgs, actor, block_on};
use crate::failure::{CliResult, Failure};
use crate::render;
use crate::tax::TaxArgs;

/// `ai-billing invoice ...`.
#[derive(Debug, clap::Subcommand)]
pub enum InvoiceCommand {
    /// Release a held invoice: it is issued as the program computed it.
    Release(ReleaseArgs),
    /// Void a held or open invoice (its revenue reversed); `--rebill` bills its period again.
    Void(VoidArgs),
    /// A manual credit note on an open invoice, for chosen lines or an amount.
    Credit(CreditArgs),
}

/// What every correction takes: the database, the invoice, who makes it and why, and when.
#[derive(Debug, clap::Args)]
pub struct CorrectionArgs {
    #[command(flatten)]
    pub db: DbArgs,
    /// The account.
    #[arg(long)]
    pub account: String,
    /// The invoice (`in_{subscription}_{yyyymmdd}`, as `ai-billing invoices` lists it).
    #[arg(long)]
    pub id: String,
    /// Why, for the audit trail (required).
    #[arg(long)]
    pub reason: String,
    /// Who makes it, for the audit trail (default: $USER).
    #[arg(long)]
    pub actor: Option<String>,
    /// A key for the request (an Idempotency-Key): made again with the same key and arguments,
    /// it answers what it answered and changes nothing; with other arguments, it is a conflict.
    #[arg(long, value_name = "KEY")]
    pub request_id: Option<String>,
    /// When it is made, an RFC 3339 instant (default: now). What the subscription owes up to
    /// then is issued first, as a billing run would.
    #[arg(long, value_name = "INSTANT", value_parser = crate::arguments::instant)]
    pub at: Option<DateTime<Utc>>,
    /// Tax of the invoices issued first and of a re-billed period (as `run` taxes them).
    #[command(flatten)]
    pub tax: TaxArgs,
    /// Print the answer as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `invoice release`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Example:\n  ai-billing invoice release --account acct_1 --id in_sub_1_20260101 --reason \"checked by hand\""
)]
pub struct ReleaseArgs {
    #[command(flatten)]
    pub correction: CorrectionArgs,
}

/// Arguments of `invoice void`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  ai-billing invoice void --account acct_1 --id in_sub_1_20260101 --reason \"duplicate\"\n  \
                  ai-billing invoice void --account acct_1 --id in_sub_1_20260101 --rebill --reason \"late shipments\""
)]
pub struct VoidArgs {
    #[command(flatten)]
    pub correction: CorrectionArgs,
    /// Bill the period again from the current data (a new invoice with a new id); only the
    /// period billed last can be.
    #[arg(long)]
    pub rebill: bool,
}

/// Arguments of `invoice credit`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  ai-billing invoice credit --account acct_1 --id in_sub_1_20260101 --lines 2 --reason \"missed deliveries\"\n  \
                  ai-billing invoice credit --account acct_1 --id in_sub_1_20260101 --lines 1:5.00,2 --reason \"complaint\"\n  \
                  ai-billing invoice credit --account acct_1 --id in_sub_1_20260101 --amount 5.00 --reason \"goodwill\""
)]
pub struct CreditArgs {
    #[command(flatten)]
    pub correction: CorrectionArgs,
    /// The lines credited, by number from 1 (as `invoices --lines` shows them), each all it has
    /// left or `N:AMOUNT` (in the invoice's currency, before tax), comma-separated.
    #[arg(long, value_name = "LINES", conflicts_with = "amount", required_unless_present = "amount", value_parser = lines)]
    pub lines: Option<Lines>,
    /// An amount before tax, in the invoice's currency (`5.00`), spread over the lines by what
    /// each has left.
    #[arg(long, value_name = "AMOUNT")]
    pub amount: Option<Decimal>,
}

/// `--lines`: each line's number and amount, if given.
#[derive(Debug, Clone)]
pub struct Lines(Vec<(u32, Option<Decimal>)>);

fn lines(text: &str) -> Result<Lines, String> {
    let parsed = text
        .split(',')
        .map(|part| {
            let (number, amount) = match part.trim().split_once(':') {
                Some((number, amount)) => (number, Some(amount)),
                None => (part.trim(), None),
            };
            let number = number
                .trim()
                .parse::<u32>()
                .map_err(|_| format!("{number:?} is not a line number (1, 2, ...)"))?;
            let amount = amount
                .map(|amount| {
                    amount
                        .trim()
                        .parse::<Decimal>()
                        .map_err(|_| format!("{amount:?} is not an amount (5.00)"))
                })
                .transpose()?;
            Ok((number, amount))
        })
        .collect::<Result<Vec<_>, String>>()?;
    Ok(Lines(parsed))
}

/// Runs `invoice ...`.
pub fn run(command: &InvoiceCommand) -> CliResult {
    match command {
        InvoiceCommand::Release(args) => release(args),
        InvoiceCommand::Void(args) => void(args),
        InvoiceCommand::Credit(args) => credit(args),
    }
}

fn release(args: &ReleaseArgs) -> CliResult {
    let c = &args.correction;
    let request = ReleaseInvoice {
        account_id: c.account.clone(),
        invoice_id: c.id.clone(),
        actor: actor(c.actor.as_deref()),
        reason: c.reason.clone(),
        request_id: c.request_id.clone(),
    };
    let invoice = block_on(async {
        let engine = engine(c).await?;
        engine
            .release_invoice(&request)
            .await
            .map_err(|e| refused(e, "release", &c.id))
    })?;
    let mut out = std::io::stdout().lock();
    if c.json {
        return print_json(&mut out, &invoice);
    }
    writeln!(out, "Invoice {} is released: it is open.", invoice.id)?;
    write!(
        out,
        "{}",
        render::indent(&render::invoice(&invoice.invoice), 2)
    )?;
    Ok(())
}

fn void(args: &VoidArgs) -> CliResult {
    let c = &args.correction;
    let request = VoidInvoice {
        account_id: c.account.clone(),
        invoice_id: c.id.clone(),
        rebill: args.rebill,
        actor: actor(c.actor.as_deref()),
        reason: c.reason.clone(),
        request_id: c.request_id.clone(),
    };
    let voided = block_on(async {
        let engine = engine(c).await?;
        engine
            .void_invoice(&request)
            .await
            .map_err(|e| refused(e, "void", &c.id))
    })?;
    let mut out = std::io::stdout().lock();
    if c.json {
        return print_json(&mut out, &voided);
    }
    let reversed = Money::checked_sum(
        voided.invoice.invoice.currency,
        voided.revenue_reversed.iter().map(|entry| entry.amount),
    )
    .map_err(Failure::from)?;
    writeln!(
        out,
        "Invoice {} is void; its revenue of {} is reversed.",
        voided.invoice.id,
        render::money(&reversed)
    )?;
    match &voided.rebilled {
        Some(rebilled) => {
            writeln!(
                out,
                "Its period is billed again by invoice {}: {} (was {}).",
                rebilled.id,
                render::money(&rebilled.invoice.total),
                render::money(&voided.invoice.invoice.total)
            )?;
            write!(
                out,
                "{}",
                render::indent(&render::invoice(&rebilled.invoice), 2)
            )?;
        }
        None => writeln!(out, "Its period is not billed again.")?,
    }
    Ok(())
}

fn credit(args: &CreditArgs) -> CliResult {
    let c = &args.correction;
    let note = block_on(async {
        let engine = engine(c).await?;
        // Amounts are given in the invoice's currency: its minor unit makes them exact.
        let currency = invoice(&engine, c)
            .await?
            .map(|invoice| invoice.invoice.currency);
        let minor = |amount: Decimal, field: &str| -> CliResult<i64> {
            match currency {
                Some(currency) => Ok(Money::exact_from_major(amount, currency, field)?.minor()),
                // No such invoice: the engine says so; the amount is never used.
                None => Ok(0),
            }
        };
        let lines = match &args.lines {
            Some(Lines(lines)) => lines
                .iter()
                .map(|(line, amount)| {
                    Ok(CreditLine {
                        line: *line,
                        amount: amount.map(|a| minor(a, "--lines")).transpose()?,
                    })
                })
                .collect::<CliResult<Vec<_>>>()?,
            None => Vec::new(),
        };
        let request = CreditInvoice {
            account_id: c.account.clone(),
            invoice_id: c.id.clone(),
            lines,
            amount: args.amount.map(|a| minor(a, "--amount")).transpose()?,
            actor: actor(c.actor.as_deref()),
            reason: c.reason.clone(),
            request_id: c.request_id.clone(),
        };
        engine
            .credit_invoice(&request)
            .await
            .map_err(|e| refused(e, "credit", &c.id))
    })?;
    let mut out = std::io::stdout().lock();
    if c.json {
        return print_json(&mut out, &note);
    }
    writeln!(
        out,
        "Credit note {} credits {} of invoice {}.",
        note.id,
        render::money(&note.total),
        note.invoice_id
    )?;
    write!(out, "{}", render::indent(&render::credit_note(&note), 2))?;
    Ok(())
}

/// The engine of a correction: tax as asked, the clock at `--at` when given.
async fn engine(c: &CorrectionArgs) -> CliResult<Engine> {
    crate::changes::engine(&c.db, &c.tax, c.at).await
}

/// The invoice `--id` names, if its subscription has it.
async fn invoice(engine: &Engine, c: &CorrectionArgs) -> CliResult<Option<IssuedInvoice>> {
    let Some(subscription) = invoice_subscription_id(&c.id) else {
        return Ok(None);
    };
    Ok(engine
        .store()
        .invoices(&InvoiceQuery {
            account_id: Some(c.account.clone()),
            subscription_id: Some(subscription.to_owned()),
            limit: None,
            ..Default::default()
        })
        .await?
        .into_iter()
        .find(|invoice| invoice.id == c.id))
}

/// A library error of a correction, its code first (`CONFLICT: cannot void invoice in_...`).
fn refused(error: Error, doing: &str, id: &str) -> Failure {
    let code = error.code();
    Failure::from(error).context(format!("{code}: cannot {doing} invoice {id}"))
}

fn print_json(out: &mut dyn Write, value: &impl serde::Serialize) -> CliResult {
    let text =
        serde_json::to_string_pretty(value).map_err(|e| Failure::other("printing JSON", e))?;
    writeln!(out, "{text}")?;
    Ok(())
}
