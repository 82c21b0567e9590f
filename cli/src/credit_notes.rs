//! `ai-billing credit-notes`: the credit notes an account holds (what cancellations, pauses, plan
//! changes and quantity decreases gave back on periods already billed).

use std::io::Write;

use ai_billing::store::CreditNoteQuery;

use crate::database::{DbArgs, block_on};
use crate::failure::{CliResult, Failure};
use crate::render;

/// Arguments of `credit-notes`.
#[derive(Debug, clap::Args)]
#[command(
    about = "List credit notes, by account and subscription",
    after_help = "Examples:\n  ai-billing credit-notes --account acct_1\n  ai-billing credit-notes --account acct_1 --subscription sub_1 --json"
)]
pub struct Args {
    #[command(flatten)]
    pub db: DbArgs,
    /// The account.
    #[arg(long)]
    pub account: String,
    /// Only this subscription's.
    #[arg(long)]
    pub subscription: Option<String>,
    /// At most this many.
    #[arg(long)]
    pub limit: Option<u32>,
    /// Show each credit note whole: its lines, tax and total.
    #[arg(long, conflicts_with = "json")]
    pub lines: bool,
    /// Print a JSON array, every credit note whole.
    #[arg(long)]
    pub json: bool,
}

/// Runs `credit-notes`.
pub fn run(args: &Args) -> CliResult {
    let notes = block_on(async {
        let store = args.db.open().await?;
        Ok(store
            .credit_notes(&CreditNoteQuery {
                account_id: args.account.clone(),
                subscription_id: args.subscription.clone(),
                limit: args.limit,
                ..Default::default()
            })
            .await?)
    })?;
    let mut out = std::io::stdout().lock();
    if args.json {
        let json = serde_json::to_string_pretty(&notes)
            .map_err(|e| Failure::other("printing the credit notes", e))?;
        writeln!(out, "{json}")?;
        return Ok(());
    }
    if !notes.is_empty() {
        write!(out, "{}", render::credit_note_table(&notes))?;
    }
    if args.lines {
        for note in &notes {
            writeln!(out)?;
            write!(out, "{}", render::indent(&render::credit_note(note), 2))?;
        }
    }
    writeln!(out, "{}", render::count(notes.len(), "credit note"))?;
    Ok(())
}
