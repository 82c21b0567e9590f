//! `ai-billing webhooks`: the endpoints the platform's events are posted to (Standard Webhooks
//! signatures), and `deliver`, one pass of the delivery pump. Secrets are never printed: `add`
//! reads one from a file or `$AI_BILLING_WEBHOOK_SECRET`, or writes a fresh one to the file.

use std::io::Write;
use std::path::{Path, PathBuf};

use ai_billing::api::{
    AddWebhook, BillingEngine, DeliverFrom, DeliverRequest, EventType, WebhookInfo, WebhookRef,
};

use crate::database::{DbArgs, block_on};
use crate::failure::{CliResult, Failure};

/// `webhooks` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum WebhooksCommand {
    /// Add an endpoint: events are posted to its URL, signed with its secret.
    Add(AddArgs),
    /// List the endpoints and their delivery state (never their secrets).
    List(ListArgs),
    /// Stop delivering to an endpoint; its events are kept for when it is enabled again.
    Disable(RefArgs),
    /// Deliver to an endpoint again, from where it stopped (also after it was disabled for failing).
    Enable(RefArgs),
    /// Remove an endpoint.
    Remove(RefArgs),
    /// One pass of the delivery pump: each enabled endpoint that is due gets its events in order,
    /// until caught up or a failure (retried later with backoff). Run it on a timer.
    Deliver(DeliverArgs),
}

/// Arguments of `webhooks add`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "The secret (whsec_<base64>) is read from --secret-file, or written there fresh when the \
                  file does not exist (mode 0600), or read from $AI_BILLING_WEBHOOK_SECRET. It is never \
                  printed.\n\nExample:\n  ai-billing webhooks add --db sqlite://billing.db --id we_1 \
                  --url https://example.com/hooks --type invoice.issued --secret-file we_1.secret"
)]
pub struct AddArgs {
    #[command(flatten)]
    pub db: DbArgs,
    /// The endpoint's id.
    #[arg(long)]
    pub id: String,
    /// Where events are posted (http:// or https://).
    #[arg(long)]
    pub url: String,
    /// Only events of this type (repeat for several); every type when absent.
    #[arg(long = "type", value_name = "TYPE")]
    pub types: Vec<String>,
    /// Only this account's events.
    #[arg(long, value_name = "ACCOUNT")]
    pub account: Option<String>,
    /// Deliver from the oldest event in the outbox instead of from now.
    #[arg(long)]
    pub from_start: bool,
    /// A file holding the secret, or where a fresh one is written when it does not exist.
    #[arg(long, value_name = "PATH")]
    pub secret_file: Option<PathBuf>,
}

/// Arguments of `webhooks list`.
#[derive(Debug, clap::Args)]
pub struct ListArgs {
    #[command(flatten)]
    pub db: DbArgs,
    /// Print `{ webhooks }` as JSON.
    #[arg(long)]
    pub json: bool,
}

/// One endpoint.
#[derive(Debug, clap::Args)]
pub struct RefArgs {
    #[command(flatten)]
    pub db: DbArgs,
    /// The endpoint's id.
    #[arg(long)]
    pub id: String,
}

/// Arguments of `webhooks deliver`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Example (every minute from cron):\n  ai-billing webhooks deliver --db sqlite://billing.db"
)]
pub struct DeliverArgs {
    #[command(flatten)]
    pub db: DbArgs,
    /// At most this many events per endpoint in this pass.
    #[arg(long)]
    pub max_events: Option<u32>,
    /// Failures in a row after which an endpoint is disabled (default 10).
    #[arg(long)]
    pub max_failures: Option<u32>,
    /// Milliseconds one request may take (default 15000).
    #[arg(long)]
    pub timeout_ms: Option<u64>,
    /// Print the summary as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Runs a `webhooks` subcommand.
pub fn run(command: &WebhooksCommand) -> CliResult {
    let mut out = std::io::stdout().lock();
    match command {
        WebhooksCommand::Add(args) => {
            let added = block_on(add(args))?;
            writeln!(out, "Added webhook endpoint {}.", added.id)?;
            show(&mut out, &added)?;
        }
        WebhooksCommand::List(args) => {
            let list = block_on(async { Ok(args.db.billing().await?.list_webhooks().await?) })?;
            if args.json {
                let json = serde_json::to_string_pretty(&list)
                    .map_err(|e| Failure::other("printing the endpoints", e))?;
                writeln!(out, "{json}")?;
                return Ok(());
            }
            for endpoint in &list.webhooks {
                show(&mut out, endpoint)?;
            }
            writeln!(
                out,
                "{}",
                crate::render::count(list.webhooks.len(), "endpoint")
            )?;
        }
        WebhooksCommand::Disable(args) => {
            let endpoint = switch(args, BillingEngine::disable_webhook)?;
            writeln!(out, "Disabled {}; its events are kept.", endpoint.id)?;
        }
        WebhooksCommand::Enable(args) => {
            let endpoint = switch(args, BillingEngine::enable_webhook)?;
            writeln!(out, "Enabled {}.", endpoint.id)?;
        }
        WebhooksCommand::Remove(args) => {
            let endpoint = switch(args, BillingEngine::remove_webhook)?;
            writeln!(out, "Removed {}.", endpoint.id)?;
        }
        WebhooksCommand::Deliver(args) => {
            let request = DeliverRequest {
                max_events: args.max_events,
                max_failures: args.max_failures,
                timeout_ms: args.timeout_ms,
                ..DeliverRequest::default()
            };
            let summary =
                block_on(async { Ok(args.db.billing().await?.deliver_webhooks(&request).await?) })?;
            if args.json {
                let json = serde_json::to_string(&summary)
                    .map_err(|e| Failure::other("printing the summary", e))?;
                writeln!(out, "{json}")?;
            } else {
                writeln!(
                    out,
                    "Delivered {} to {}; {} failed, {} disabled, {} waiting to retry.",
                    crate::render::count(summary.delivered, "event"),
                    crate::render::count(summary.endpoints, "endpoint"),
                    summary.failed,
                    summary.disabled,
                    summary.waiting
                )?;
            }
        }
    }
    Ok(())
}

async fn add(args: &AddArgs) -> CliResult<WebhookInfo> {
    let secret = match &args.secret_file {
        Some(path) if path.exists() => Some(read_secret(path)?),
        Some(_) => None,
        None => Some(std::env::var("AI_BILLING_WEBHOOK_SECRET").map_err(|_| {
            Failure::invalid_input(
                "no webhook secret",
                "give --secret-file PATH (read, or written with a fresh secret) or set \
                 AI_BILLING_WEBHOOK_SECRET",
            )
        })?),
    };
    let engine = args.db.billing().await?;
    let added = engine
        .add_webhook(&AddWebhook {
            id: args.id.clone(),
            url: args.url.clone(),
            secret,
            types: EventType::parse_list("--type", &args.types)?,
            account_id: args.account.clone(),
            from: if args.from_start {
                DeliverFrom::Start
            } else {
                DeliverFrom::Now
            },
        })
        .await?;
    if let Some(path) = args.secret_file.as_deref().filter(|path| !path.exists())
        && let Err(failure) = write_secret(path, &added.secret)
    {
        // Without its secret on record the endpoint is no use: take it back.
        let _ = engine
            .remove_webhook(&WebhookRef {
                id: args.id.clone(),
            })
            .await;
        return Err(failure);
    }
    Ok(added.webhook)
}

fn read_secret(path: &Path) -> CliResult<String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Failure::other(format!("reading {}", path.display()), e))?;
    Ok(text.trim().to_owned())
}

/// Writes a fresh secret to a new file only its owner can read.
fn write_secret(path: &Path, secret: &str) -> CliResult {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(path)
        .map_err(|e| Failure::other(format!("writing the secret to {}", path.display()), e))?;
    writeln!(file, "{secret}")
        .map_err(|e| Failure::other(format!("writing the secret to {}", path.display()), e))
}

fn switch<F>(args: &RefArgs, operation: F) -> CliResult<WebhookInfo>
where
    F: AsyncFnOnce(&BillingEngine, &WebhookRef) -> ai_billing::Result<WebhookInfo>,
{
    block_on(async {
        let engine = args.db.billing().await?;
        Ok(operation(
            &engine,
            &WebhookRef {
                id: args.id.clone(),
            },
        )
        .await?)
    })
}

/// One endpoint, without its secret.
fn show(out: &mut impl Write, endpoint: &WebhookInfo) -> CliResult {
    let types: Vec<&str> = endpoint.types.iter().map(|ty| ty.as_str()).collect();
    writeln!(
        out,
        "{}  {}  {}  types: {}{}",
        endpoint.id,
        if endpoint.enabled {
            "enabled"
        } else {
            "disabled"
        },
        endpoint.url,
        if types.is_empty() {
            "all".to_owned()
        } else {
            types.join(",")
        },
        endpoint
            .account_id
            .as_ref()
            .map(|account| format!("  account: {account}"))
            .unwrap_or_default()
    )?;
    write!(
        out,
        "    delivered {}, failures in a row {}",
        endpoint.delivered, endpoint.failures
    )?;
    if let Some(at) = endpoint.next_attempt_at {
        write!(out, ", next attempt {}", at.format("%Y-%m-%dT%H:%M:%SZ"))?;
    }
    if let Some(error) = &endpoint.last_error {
        write!(out, ", last error: {error}")?;
    }
    writeln!(out)?;
    Ok(())
}
