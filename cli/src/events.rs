//! `ai-billing events`: a page of the platform's events (the pull feed), oldest first, with the
//! cursor of the next page.

use std::io::Write;

use ai_billing::api::{EventType, EventsRequest};

use crate::database::{DbArgs, block_on};
use crate::failure::{CliResult, Failure};

/// Arguments of `events`.
#[derive(Debug, clap::Args)]
#[command(
    about = "List the platform's events, oldest first, page by page",
    long_about = "Lists the platform's events (invoice.issued, subscription.canceled, ...: \
                  docs/events.md), oldest first. Pass the `next` cursor a page prints as --after to \
                  read the next one; a consumer that is caught up keeps it and asks again later. \
                  Each event's id is its idempotency key.",
    after_help = "Examples:\n  ai-billing events --db sqlite://billing.db --limit 50\n  ai-billing events --db sqlite://billing.db --type invoice.issued --account acct_1 --after CURSOR --json"
)]
pub struct Args {
    #[command(flatten)]
    pub db: DbArgs,
    /// Events after this cursor (the `next` of an earlier page); from the oldest when absent.
    #[arg(long, value_name = "CURSOR")]
    pub after: Option<String>,
    /// At most this many events: 1 to 500.
    #[arg(long, default_value_t = ai_billing::audit::feed::DEFAULT_EVENTS_PAGE)]
    pub limit: u32,
    /// Only events of this type (repeat for several).
    #[arg(long = "type", value_name = "TYPE")]
    pub types: Vec<String>,
    /// Only this account's events.
    #[arg(long, value_name = "ACCOUNT")]
    pub account: Option<String>,
    /// Print the page as JSON: `{ events, next, has_more }`.
    #[arg(long)]
    pub json: bool,
}

/// Runs `events`.
pub fn run(args: &Args) -> CliResult {
    let request = EventsRequest {
        after: args.after.clone(),
        limit: Some(args.limit),
        types: EventType::parse_list("--type", &args.types)?,
        account_id: args.account.clone(),
    };
    let page = block_on(async { Ok(args.db.billing().await?.events(&request).await?) })?;
    let mut out = std::io::stdout().lock();
    if args.json {
        let json = serde_json::to_string_pretty(&page)
            .map_err(|e| Failure::other("printing the events", e))?;
        writeln!(out, "{json}")?;
        return Ok(());
    }
    for event in &page.events {
        let subject = event
            .data
            .get("id")
            .and_then(|id| id.as_str())
            .unwrap_or("");
        writeln!(
            out,
            "{}  {:<36}  {:<12}  {:<24}  {}",
            event.created_at.format("%Y-%m-%dT%H:%M:%SZ"),
            event.event_type.as_str(),
            event.account_id,
            subject,
            event.id
        )?;
    }
    writeln!(
        out,
        "{}{}; next: {}",
        crate::render::count(page.events.len(), "event"),
        if page.has_more { ", more after" } else { "" },
        page.next
    )?;
    Ok(())
}
