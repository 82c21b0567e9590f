//! `ai-billing subscription ...`: create, change the quantity, show, preview the next invoice.

use std::io::Write;

use ai_billing::engine::{ChangeQuantity, CreateSubscription};
use ai_billing::{Error, Subscription};
use chrono::NaiveDate;

use crate::database::{DbArgs, Setup, actor, block_on};
use crate::failure::{CliResult, Failure};
use crate::render;
use crate::tax::TaxArgs;

/// `subscription` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum SubscriptionCommand {
    /// Create a subscription; a plan billed in advance is invoiced now if it has started.
    Create(CreateArgs),
    /// Change the quantity now, with no renewal: the next invoice issued bills it.
    Quantity(QuantityArgs),
    /// Show a subscription's state.
    Show(ShowArgs),
    /// The next invoice as it would be issued now, without writing anything.
    Preview(PreviewArgs),
}

/// Arguments of `subscription create`.
#[derive(Debug, clap::Args)]
pub struct CreateArgs {
    #[command(flatten)]
    pub db: DbArgs,
    /// The account.
    #[arg(long)]
    pub account: String,
    /// The new subscription's id.
    #[arg(long)]
    pub id: String,
    /// The customer billed (must exist: `ai-billing customer save`).
    #[arg(long)]
    pub customer: String,
    /// The plan.
    #[arg(long)]
    pub plan: String,
    /// Copies or seats, 1 to 100000.
    #[arg(long, default_value_t = 1, allow_negative_numbers = true, value_parser = crate::arguments::quantity)]
    pub quantity: u32,
    /// The local date the first period starts, YYYY-MM-DD (may be in the future).
    #[arg(long, value_name = "DATE", value_parser = crate::arguments::date)]
    pub start: NaiveDate,
    #[command(flatten)]
    pub tax: TaxArgs,
    #[command(flatten)]
    pub model: crate::model::ModelArgs,
    /// Who creates it, for the audit trail (default: $USER).
    #[arg(long)]
    pub actor: Option<String>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `subscription quantity`.
#[derive(Debug, clap::Args)]
pub struct QuantityArgs {
    #[command(flatten)]
    pub db: DbArgs,
    /// The account.
    #[arg(long)]
    pub account: String,
    /// The subscription.
    #[arg(long)]
    pub id: String,
    /// The new quantity, 1 to 100000.
    #[arg(long, allow_negative_numbers = true, value_parser = crate::arguments::quantity)]
    pub quantity: u32,
    /// Who changes it, for the audit trail (default: $USER).
    #[arg(long)]
    pub actor: Option<String>,
}

/// Arguments of `subscription show`.
#[derive(Debug, clap::Args)]
pub struct ShowArgs {
    #[command(flatten)]
    pub db: DbArgs,
    /// The account.
    #[arg(long)]
    pub account: String,
    /// The subscription.
    #[arg(long)]
    pub id: String,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `subscription preview`.
#[derive(Debug, clap::Args)]
pub struct PreviewArgs {
    #[command(flatten)]
    pub db: DbArgs,
    /// The account.
    #[arg(long)]
    pub account: String,
    /// The subscription.
    #[arg(long)]
    pub id: String,
    #[command(flatten)]
    pub tax: TaxArgs,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// Runs `subscription ...`.
pub fn run(command: &SubscriptionCommand) -> CliResult {
    match command {
        SubscriptionCommand::Create(args) => create(args),
        SubscriptionCommand::Quantity(args) => quantity(args),
        SubscriptionCommand::Show(args) => show(args),
        SubscriptionCommand::Preview(args) => preview(args),
    }
}

fn create(args: &CreateArgs) -> CliResult {
    let created = block_on(async {
        let engine = args
            .db
            .engine(Setup {
                tax: Some(&args.tax),
                model: Some(&args.model),
                ..Setup::default()
            })
            .await?;
        Ok(engine
            .create_subscription(&CreateSubscription {
                account_id: args.account.clone(),
                id: args.id.clone(),
                customer_id: args.customer.clone(),
                plan_id: args.plan.clone(),
                quantity: args.quantity,
                start_date: args.start,
                actor: actor(args.actor.as_deref()),
            })
            .await?)
    })?;
    let mut out = std::io::stdout().lock();
    if args.json {
        let json = serde_json::json!({
            "subscription": created.subscription,
            "invoice": created.invoice,
        });
        writeln!(out, "{}", pretty(&json)?)?;
        return Ok(());
    }
    write!(out, "{}", describe(&created.subscription))?;
    match &created.invoice {
        Some(invoice) => {
            writeln!(out, "First invoice {} (subscription_create):", invoice.id)?;
            write!(out, "{}", render::invoice(&invoice.invoice))?;
        }
        None => writeln!(out, "No invoice now.")?,
    }
    Ok(())
}

fn quantity(args: &QuantityArgs) -> CliResult {
    let changed = block_on(async {
        let engine = args.db.engine(Setup::default()).await?;
        Ok(engine
            .change_quantity(&ChangeQuantity {
                account_id: args.account.clone(),
                subscription_id: args.id.clone(),
                quantity: args.quantity,
                proration: Default::default(),
                effective: ai_billing::changes::Effective::Immediately,
                actor: actor(args.actor.as_deref()),
            })
            .await?)
    })?;
    writeln!(
        std::io::stdout(),
        "Subscription {} now has quantity {}; it applies from the invoice for period {}.",
        changed.id,
        changed.quantity,
        changed.next_invoice_period
    )?;
    Ok(())
}

fn show(args: &ShowArgs) -> CliResult {
    let subscription = block_on(async {
        let store = args.db.open().await?;
        store
            .subscription(&args.account, &args.id)
            .await?
            .ok_or_else(|| Error::not_found("subscription", &args.id).into())
    })?;
    let mut out = std::io::stdout().lock();
    if args.json {
        writeln!(out, "{}", pretty(&subscription)?)?;
    } else {
        write!(out, "{}", describe(&subscription))?;
    }
    Ok(())
}

fn preview(args: &PreviewArgs) -> CliResult {
    let invoice = block_on(async {
        let engine = args
            .db
            .engine(Setup {
                tax: Some(&args.tax),
                ..Setup::default()
            })
            .await?;
        Ok(engine.preview_next(&args.account, &args.id).await?)
    })?;
    let mut out = std::io::stdout().lock();
    if args.json {
        writeln!(out, "{}", pretty(&invoice)?)?;
    } else {
        writeln!(out, "Next invoice of {} (not issued):", args.id)?;
        write!(out, "{}", render::invoice(&invoice))?;
    }
    Ok(())
}

fn describe(subscription: &Subscription) -> String {
    let next = match subscription.next_invoice_at {
        Some(at) => format!(
            "next invoice for period {} due at {}",
            subscription.next_invoice_period,
            at.to_rfc3339()
        ),
        None => "no more invoices".to_owned(),
    };
    format!(
        "Subscription {} of account {}: customer {}, plan {}, quantity {}, {}; period {} from {} to {}; {}.\n",
        subscription.id,
        subscription.account_id,
        subscription.customer_id,
        subscription.plan_id,
        subscription.quantity,
        subscription.status.as_str(),
        subscription.current_period,
        subscription.current_period_start,
        subscription.current_period_end,
        next
    )
}

fn pretty(value: &impl serde::Serialize) -> CliResult<String> {
    serde_json::to_string_pretty(value).map_err(|e| Failure::other("printing JSON", e))
}
