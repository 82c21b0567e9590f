//! `ai-billing credit-notes`: the credit notes an account holds (what cancellations, pauses, plan
//! changes and quantity decreases gave back on periods already billed).

use std::io::Write;
use std::path::PathBuf;

use ai_billing::document::{DocumentOptions, render_credit_note};
use ai_billing::store::CreditNoteQuery;

use crate::database::{DbArgs, block_on};
use crate::documents::{Document, HtmlOutput, Locales};
use crate::failure::{CliResult, Failure};
use crate::render;

/// Arguments of `credit-notes`.
#[derive(Debug, clap::Args)]
#[command(
    about = "List credit notes, by account and subscription",
    after_help = "Examples:\n  ai-billing credit-notes --account acct_1\n  ai-billing credit-notes --account acct_1 --subscription sub_1 --json\n  \
                  ai-billing credit-notes --account acct_1 --credit-note cn_sub_1_1 --html > credit-note.html\n  \
                  ai-billing credit-notes --account acct_1 --html notes/   (one file per credit note: notes/ID.html)\n\n\
                  Documents (--html): each credit note as one self-contained HTML page in the account's \
                  locale (print it from a browser for a PDF). Without a folder, --html prints exactly \
                  one credit note: more or none is an error (exit 2)."
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
    /// Only the credit note with this id.
    #[arg(long, value_name = "ID")]
    pub credit_note: Option<String>,
    /// At most this many.
    #[arg(long)]
    pub limit: Option<u32>,
    /// The HTML document of the one credit note selected on stdout; with a folder, the document
    /// of each credit note listed, written to DIR/ID.html (the paths are printed).
    #[arg(long, value_name = "DIR", num_args = 0..=1, conflicts_with_all = ["json", "lines"])]
    pub html: Option<Option<PathBuf>>,
    /// Show each credit note whole: its lines, tax and total.
    #[arg(long, conflicts_with = "json")]
    pub lines: bool,
    /// Print a JSON array, every credit note whole.
    #[arg(long)]
    pub json: bool,
}

/// Runs `credit-notes`.
pub fn run(args: &Args) -> CliResult {
    let html = HtmlOutput::of(&args.html);
    let (notes, documents) = block_on(async {
        let store = args.db.open().await?;
        let notes: Vec<_> = store
            .credit_notes(&CreditNoteQuery {
                account_id: args.account.clone(),
                subscription_id: args.subscription.clone(),
                limit: args.limit,
                ..Default::default()
            })
            .await?
            .into_iter()
            .filter(|note| args.credit_note.as_ref().is_none_or(|id| *id == note.id))
            .collect();
        let mut documents = Vec::new();
        if html.is_some() {
            let locale = Locales::default().of(store.as_ref(), &args.account).await?;
            let options = DocumentOptions::new(locale);
            documents = notes
                .iter()
                .map(|note| Document {
                    name: note.id.clone(),
                    html: render_credit_note(note, &options),
                })
                .collect();
        }
        Ok((notes, documents))
    })?;
    if let Some(output) = html {
        return crate::documents::emit(output, "credit note", "--credit-note ID", &documents);
    }
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
