//! `ai-billing audit show`: the audit trail of one subscription, readable by the billing people
//! who ask "why was this customer charged this amount?".

use std::fmt::Write as _;
use std::io::Write;

use ai_billing::AuditEvent;
use ai_billing::audit::AuditAction;
use serde_json::Value;

use crate::database::{DbArgs, block_on};
use crate::failure::{CliResult, Failure};

/// `audit` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum AuditCommand {
    /// The audit trail of one subscription (or plan, or invoice), operation by operation.
    Show(ShowArgs),
}

/// Arguments of `audit show`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Example:\n  ai-billing audit show --db sqlite://billing.db --account acct_1 --subscription sub_1"
)]
pub struct ShowArgs {
    #[command(flatten)]
    pub db: DbArgs,
    /// The account.
    #[arg(long)]
    pub account: String,
    /// The subscription (or any subject id: a plan, an invoice).
    #[arg(long, value_name = "ID")]
    pub subscription: String,
    /// Print the events as JSON, whole.
    #[arg(long)]
    pub json: bool,
}

/// Runs `audit ...`.
pub fn run(command: &AuditCommand) -> CliResult {
    let AuditCommand::Show(args) = command;
    let events = block_on(async {
        let store = args.db.open().await?;
        Ok(store.events_for(&args.account, &args.subscription).await?)
    })?;
    let mut out = std::io::stdout().lock();
    if args.json {
        let json = serde_json::to_string_pretty(&events)
            .map_err(|e| Failure::other("printing the events", e))?;
        writeln!(out, "{json}")?;
        return Ok(());
    }
    write!(
        out,
        "{}",
        render(&args.account, &args.subscription, &events)
    )?;
    Ok(())
}

/// The trail as text: one block per operation (correlation id), one line per event.
pub fn render(account: &str, subject: &str, events: &[AuditEvent]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Audit trail of {subject} (account {account}): {} events",
        events.len()
    );
    let mut current: Option<&str> = None;
    for event in events {
        let operation = event.correlation_id.as_deref().unwrap_or(&event.id);
        if current != Some(operation) {
            current = Some(operation);
            let run = event
                .run_id
                .as_deref()
                .map(|run| format!(", run {run}"))
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "\n{} by {} (operation {operation}{run})",
                event.time.format("%Y-%m-%d %H:%M:%S UTC"),
                event.actor
            );
        }
        let _ = writeln!(
            out,
            "  {:<20} {}",
            event.action.as_str(),
            summary(event.action, &event.data)
        );
    }
    out
}

fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => "-".to_owned(),
        other => other.to_string(),
    }
}

/// The counts of one weekday map, Monday first (`[4, 4, 4, 4, 4, 0, 2]`).
fn weekdays(value: &Value) -> String {
    const DAYS: [&str; 7] = ["Mo", "Tu", "We", "Th", "Fr", "Sa", "Su"];
    match value.as_array() {
        Some(counts) => DAYS
            .iter()
            .zip(counts)
            .map(|(day, n)| format!("{day} {n}"))
            .collect::<Vec<_>>()
            .join(", "),
        None => text(value),
    }
}

/// One line saying what an event did, from its data.
fn summary(action: AuditAction, data: &Value) -> String {
    let d = |key: &str| text(&data[key]);
    match action {
        AuditAction::SubscriptionCreated => format!(
            "customer {}, plan {} v{}, quantity {}, starts {}",
            d("customer_id"),
            d("plan_id"),
            d("plan_version"),
            d("quantity"),
            d("start_date")
        ),
        AuditAction::TimingDecided => format!(
            "{}: first invoice {} ({})",
            d("invoice_timing"),
            d("first_invoice"),
            d("first_invoice_at")
        ),
        AuditAction::QuantityChanged => format!(
            "{} -> {}, from the invoice of period {}",
            d("old_quantity"),
            d("new_quantity"),
            d("effective_from_period")
        ),
        AuditAction::UsageQueried => format!(
            "period {} via {} ({}): shipments [{}], returned [{}]",
            d("period"),
            d("query"),
            d("timezone"),
            weekdays(&data["usage"]["shipments"]),
            weekdays(&data["usage"]["returned_shipments"])
        ),
        AuditAction::ModelCalled => format!(
            "attempt {} to {}: {} prompt + {} completion tokens, {} ms{}{}",
            d("attempt"),
            d("model"),
            d("prompt_tokens"),
            d("completion_tokens"),
            d("latency_ms"),
            match data["problems"].as_array() {
                Some(problems) if !problems.is_empty() => format!(
                    "; rejected: {}",
                    problems.iter().map(text).collect::<Vec<_>>().join("; ")
                ),
                _ => String::new(),
            },
            match &data["error"] {
                Value::Null => String::new(),
                error => format!("; failed: {}", text(error)),
            }
        ),
        AuditAction::CrossChecked => format!(
            "{} mode: {}{}",
            d("mode"),
            if data["agrees"] == Value::Bool(true) {
                "agrees with the program"
            } else {
                "DISAGREES with the program: held"
            },
            match data["differences"].as_array() {
                Some(list) if !list.is_empty() => format!(
                    " ({})",
                    list.iter().map(text).collect::<Vec<_>>().join("; ")
                ),
                _ => String::new(),
            }
        ),
        AuditAction::PayloadValidated => {
            let lines = data["line_items"]
                .as_array()
                .map(|lines| {
                    lines
                        .iter()
                        .map(|l| format!("{} {}", text(&l["description"]), text(&l["amount"])))
                        .collect::<Vec<_>>()
                        .join("; ")
                })
                .unwrap_or_default();
            format!(
                "{} mode, plan v{}, quantity {}: {} {}",
                d("mode"),
                d("plan_version"),
                d("quantity"),
                lines,
                d("currency")
            )
        }
        AuditAction::TaxComputed => format!(
            "on {} {}: {}{}",
            d("subtotal"),
            d("currency"),
            d("tax"),
            if data["inclusive"] == Value::Bool(true) {
                " (included)"
            } else {
                ""
            }
        ),
        AuditAction::RevenueScheduled => {
            let months = data["schedule"]
                .as_array()
                .map(|entries| {
                    entries
                        .iter()
                        .map(|e| format!("{} {}", text(&e["month"]), text(&e["amount"])))
                        .collect::<Vec<_>>()
                        .join(", ")
                })
                .unwrap_or_default();
            format!("{months} {}", d("currency"))
        }
        AuditAction::InvoiceIssued | AuditAction::InvoiceHeld => format!(
            "{} for period {} ({} to {}): subtotal {}, tax {}, total {} {}",
            d("billing_reason"),
            d("period"),
            d("period_start"),
            d("period_end"),
            d("subtotal"),
            d("tax"),
            d("total"),
            d("currency")
        ),
        AuditAction::RenewalFailed => format!(
            "period {}: {} ({}); nothing was written",
            d("period"),
            d("error"),
            d("code")
        ),
        AuditAction::PromptInterpreted | AuditAction::PromptRefused => {
            format!("{}: {}", d("interpreter"), d("prompt"))
        }
        AuditAction::PlanCreated | AuditAction::PlanChanged => {
            format!("version {}, {}", d("version"), d("invoice_timing"))
        }
        _ => data.to_string(),
    }
}
