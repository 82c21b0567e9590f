//! `ai-billing audit show`: the audit trail of one subscription, readable by the billing people
//! who ask "why was this customer charged this amount?".

use std::fmt::Write as _;
use std::io::Write;

use std::sync::Arc;
use std::time::Duration;

use ai_billing::audit::ship::{ShipOptions, ShipSummary, ship_outbox};
use ai_billing::audit::{AuditAction, AuditSink};
use ai_billing::opensearch::{OpenSearchConfig, OpenSearchSink};
use ai_billing::{AuditEvent, Store};
use serde_json::Value;

use crate::database::{DbArgs, block_on};
use crate::failure::{CliResult, Failure};

/// `audit` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum AuditCommand {
    /// The audit trail of one subscription (or plan, or invoice), operation by operation.
    Show(ShowArgs),
    /// Ship every pending event of the outbox to OpenSearch (each under its event id: shipping
    /// twice never makes a second copy). Exits 1 when OpenSearch cannot be reached; the events
    /// stay pending.
    Ship(ShipArgs),
}

/// Where audit events are shipped.
#[derive(Debug, Clone, clap::Args)]
pub struct OpenSearchArgs {
    /// The OpenSearch node (`http://127.0.0.1:9200`). Defaults to $OPENSEARCH_URL.
    #[arg(long, value_name = "URL", env = "OPENSEARCH_URL")]
    pub opensearch_url: Option<String>,
    /// The index (and index template) events go to.
    #[arg(long, value_name = "NAME", default_value = ai_billing::opensearch::DEFAULT_INDEX)]
    pub opensearch_index: String,
}

impl OpenSearchArgs {
    /// The sink, or an error naming `--opensearch-url` when none is given.
    pub fn sink(&self) -> CliResult<Arc<dyn AuditSink>> {
        let url = self.opensearch_url.as_deref().ok_or_else(|| {
            Failure::invalid_input(
                "no OpenSearch to ship to",
                "give --opensearch-url URL or set OPENSEARCH_URL",
            )
        })?;
        let mut config = OpenSearchConfig::new(url);
        config.index = self.opensearch_index.clone();
        Ok(Arc::new(OpenSearchSink::new(config)?))
    }
}

/// Arguments of `audit ship`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Example:\n  ai-billing audit ship --db sqlite://billing.db --opensearch-url http://127.0.0.1:9200"
)]
pub struct ShipArgs {
    #[command(flatten)]
    pub db: DbArgs,
    #[command(flatten)]
    pub opensearch: OpenSearchArgs,
    /// Events per bulk request.
    #[arg(long, default_value_t = 500)]
    pub batch: u32,
    /// Print the summary as JSON.
    #[arg(long)]
    pub json: bool,
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
    match command {
        AuditCommand::Show(args) => show(args),
        AuditCommand::Ship(args) => ship(args),
    }
}

fn ship(args: &ShipArgs) -> CliResult {
    let sink = args.opensearch.sink()?;
    let summary = block_on(async {
        let store = args.db.open().await?;
        let options = ShipOptions {
            batch_size: args.batch,
            ..ShipOptions::default()
        };
        ship_outbox(store.as_ref(), sink.as_ref(), &options)
            .await
            .map_err(|e| {
                Failure::from(e)
                    .context("shipping the audit outbox to OpenSearch")
                    .hint("nothing is lost: the events stay pending; run `ai-billing audit ship` again once OpenSearch answers")
            })
    })?;
    let mut out = std::io::stdout().lock();
    if args.json {
        let json = serde_json::json!({
            "shipped": summary.shipped,
            "rejected": summary.rejected,
            "pending": summary.pending,
        });
        writeln!(out, "{json}")?;
    } else {
        writeln!(
            out,
            "Shipped {} audit events in {} batches; {} rejected (kept in the outbox); {} pending.",
            summary.shipped, summary.batches, summary.rejected, summary.pending
        )?;
    }
    Ok(())
}

/// Ships the outbox in the background while a run bills: every second, what is pending. It never
/// blocks billing: when OpenSearch is down, events wait in the outbox and the next round (or
/// `audit ship`) takes them.
pub struct BackgroundShipper {
    stop: tokio::sync::watch::Sender<bool>,
    task: tokio::task::JoinHandle<ShipSummary>,
}

impl BackgroundShipper {
    /// Starts shipping from `store` to `sink`.
    pub fn start(store: Arc<dyn Store>, sink: Arc<dyn AuditSink>) -> Self {
        let (stop, mut stopped) = tokio::sync::watch::channel(false);
        let task = tokio::spawn(async move {
            let options = ShipOptions {
                max_batches: Some(20),
                max_retries: 0,
                ..ShipOptions::default()
            };
            let mut total = ShipSummary::default();
            loop {
                match ship_outbox(store.as_ref(), sink.as_ref(), &options).await {
                    Ok(round) => {
                        total.shipped += round.shipped;
                        total.rejected += round.rejected;
                        total.batches += round.batches;
                    }
                    Err(error) => tracing::debug!(%error, "audit shipping paused"),
                }
                tokio::select! {
                    _ = stopped.changed() => break,
                    _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                }
            }
            total
        });
        BackgroundShipper { stop, task }
    }

    /// Stops the background rounds, then ships what the run left (a few retries), and says
    /// how many events are still pending.
    pub async fn finish(
        self,
        store: &dyn Store,
        sink: &dyn AuditSink,
    ) -> (ShipSummary, Option<ai_billing::Error>) {
        let _ = self.stop.send(true);
        let mut total = self.task.await.unwrap_or_default();
        let options = ShipOptions {
            max_retries: 2,
            ..ShipOptions::default()
        };
        match ship_outbox(store, sink, &options).await {
            Ok(last) => {
                total.shipped += last.shipped;
                total.rejected += last.rejected;
                total.batches += last.batches;
                total.pending = last.pending;
                (total, None)
            }
            Err(error) => {
                total.pending = store.stats().await.map(|s| s.audit_pending).unwrap_or(0);
                (total, Some(error))
            }
        }
    }
}

fn show(args: &ShowArgs) -> CliResult {
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
        "Audit trail of {subject} (account {account}): {}",
        crate::render::count(events.len(), "event")
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
        AuditAction::QuantityChanged if d("proration") == "prorate" => format!(
            "{} -> {} from {}, prorated by day",
            d("old_quantity"),
            d("new_quantity"),
            d("effective_from")
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
        AuditAction::CancelScheduled => format!(
            "{}: ends on {}, unserved days credited: {}",
            d("requested"),
            d("ends_on"),
            d("credit_unused")
        ),
        AuditAction::CancelWithdrawn => format!("the end on {} withdrawn", d("ends_on")),
        AuditAction::SubscriptionEnded => format!("{} from {}", d("status"), d("ended_on")),
        AuditAction::SubscriptionPaused => format!("from {} until {}", d("from"), d("until")),
        AuditAction::SubscriptionResumed => format!(
            "served again on {} (the pause from {})",
            d("on"),
            d("pause_from")
        ),
        AuditAction::PlanChangeScheduled => format!(
            "{} -> {} v{}, {}: from {}",
            d("old_plan_id"),
            d("new_plan_id"),
            d("new_plan_version"),
            d("requested"),
            d("starts_on")
        ),
        AuditAction::PlanSwitched => format!(
            "{} -> {} from {}",
            d("old_plan_id"),
            d("new_plan_id"),
            d("starts_on")
        ),
        AuditAction::CreditNoteIssued => format!(
            "{}, {}: {} + tax {} = {} {} against {}",
            d("issue_date"),
            d("reason"),
            d("subtotal"),
            d("tax"),
            d("total"),
            d("currency"),
            d("invoice_id")
        ),
        _ => data.to_string(),
    }
}
