//! `ai-billing subscription ...`: create, change the quantity, show, preview the next invoice; the
//! other changes (cancel, pause, resume, plan) are in [`crate::changes`].

use std::io::Write;

use ai_billing::changes::Effective;
use ai_billing::credit_note::CreditNote;
use ai_billing::engine::{ChangeQuantity, CreateSubscription, Proration};
use ai_billing::store::CreditNoteQuery;
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
    /// Change the quantity: from the next invoice issued, or with --prorate from a date, the
    /// days at each quantity billed.
    Quantity(QuantityArgs),
    /// Cancel: at the period's end, immediately or on a date; unserved days billed are credited.
    Cancel(crate::changes::CancelArgs),
    /// Withdraw a cancellation that has not taken effect.
    WithdrawCancel(crate::changes::WithdrawArgs),
    /// Pause (a vacation hold) from a date, until a date or until resumed.
    Pause(crate::changes::PauseArgs),
    /// End a pause: the subscription is served again from a date.
    Resume(crate::changes::ResumeArgs),
    /// Move to another plan in the same currency, at the period's end, immediately or on a date.
    Plan(crate::changes::PlanArgs),
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
    /// When it is created, an RFC 3339 instant (default: now): a plan billed in advance is
    /// invoiced then if its start has come.
    #[arg(long, value_name = "INSTANT", value_parser = crate::arguments::instant)]
    pub at: Option<chrono::DateTime<chrono::Utc>>,
    /// Who creates it, for the audit trail (default: $USER).
    #[arg(long)]
    pub actor: Option<String>,
    /// A key for the request (an Idempotency-Key; the subscription's id without one): made
    /// again with the same key and arguments, it answers what it answered and creates nothing;
    /// with other arguments, it is a conflict.
    #[arg(long, value_name = "KEY")]
    pub request_id: Option<String>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `subscription quantity`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  ai-billing subscription quantity --account acct_1 --id sub_1 --quantity 3\n  \
                        ai-billing subscription quantity --account acct_1 --id sub_1 --quantity 3 --prorate --at 2026-04-10T15:00:00Z"
)]
pub struct QuantityArgs {
    #[command(flatten)]
    pub change: crate::changes::ChangeArgs,
    /// The new quantity, 1 to 100000.
    #[arg(long, allow_negative_numbers = true, value_parser = crate::arguments::quantity)]
    pub quantity: u32,
    /// Bill the days at each quantity: the new quantity holds from --effective, and a period
    /// already billed is settled (a credit note for a decrease, a line on the next invoice for an
    /// increase). Without it the new quantity applies from the next invoice issued.
    #[arg(long)]
    pub prorate: bool,
    /// With --prorate: `immediately` (the next local midnight, the default), `period_end` or a
    /// local date YYYY-MM-DD.
    #[arg(long, value_name = "WHEN", requires = "prorate", value_parser = crate::arguments::effective)]
    pub effective: Option<Effective>,
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
        SubscriptionCommand::Cancel(args) => crate::changes::cancel(args),
        SubscriptionCommand::WithdrawCancel(args) => crate::changes::withdraw(args),
        SubscriptionCommand::Pause(args) => crate::changes::pause(args),
        SubscriptionCommand::Resume(args) => crate::changes::resume(args),
        SubscriptionCommand::Plan(args) => crate::changes::plan(args),
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
        let engine = match args.at {
            Some(at) => engine.with_clock(std::sync::Arc::new(ai_billing::FixedClock::new(at))),
            None => engine,
        };
        Ok(engine
            .create_subscription(&CreateSubscription {
                account_id: args.account.clone(),
                id: args.id.clone(),
                customer_id: args.customer.clone(),
                plan_id: args.plan.clone(),
                quantity: args.quantity,
                start_date: args.start,
                actor: actor(args.actor.as_deref()),
                request_id: args.request_id.clone(),
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
    let change = &args.change;
    let request = ChangeQuantity {
        account_id: change.account.clone(),
        subscription_id: change.id.clone(),
        quantity: args.quantity,
        proration: if args.prorate {
            Proration::Prorate
        } else {
            Proration::None
        },
        effective: args.effective.unwrap_or(Effective::Immediately),
        actor: actor(change.actor.as_deref()),
        request_id: change.request_id.clone(),
    };
    let (changed, credit_note) = block_on(async {
        let engine = crate::changes::engine(&change.db, &change.tax, change.at).await?;
        let refused = |e| crate::changes::refused(e, "change the quantity of", &change.id);
        let before = engine
            .store()
            .subscription(&change.account, &change.id)
            .await?
            .map_or(0, |subscription| subscription.changes.credit_notes);
        let changed = engine.change_quantity(&request).await.map_err(refused)?;
        // `change_quantity` gives the subscription; the credit note it issued, if any, is the
        // one numbered after those it had.
        let credit_note = if changed.changes.credit_notes > before {
            latest_credit_note(&engine, &changed).await?
        } else {
            None
        };
        Ok((changed, credit_note))
    })?;
    if !change.json && !args.prorate {
        writeln!(
            std::io::stdout(),
            "Subscription {} now has quantity {}; it applies from the invoice for period {}.",
            changed.id,
            changed.quantity,
            changed.next_invoice_period
        )?;
        return Ok(());
    }
    let from = changed
        .changes
        .quantities
        .last()
        .map(|step| step.from.to_string())
        .unwrap_or_else(|| "the next invoice".to_owned());
    let said = format!(
        "Subscription {} has quantity {} from {from}, prorated by day.",
        changed.id, changed.quantity
    );
    crate::changes::print_changed(change.json, &changed, credit_note.as_ref(), &said)
}

/// The last credit note of `subscription`.
async fn latest_credit_note(
    engine: &ai_billing::Engine,
    subscription: &Subscription,
) -> CliResult<Option<CreditNote>> {
    let notes = engine
        .credit_notes(&CreditNoteQuery {
            account_id: subscription.account_id.clone(),
            subscription_id: Some(subscription.id.clone()),
            limit: None,
            ..Default::default()
        })
        .await?;
    Ok(notes
        .into_iter()
        .find(|note| note.number == subscription.changes.credit_notes))
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

/// A subscription in one sentence (its plan, quantity, status, period and next invoice), then
/// one line for each change scheduled or in force (a cancellation, a pause, a plan change).
pub fn describe(subscription: &Subscription) -> String {
    let next = match subscription.next_invoice_at {
        Some(at) => format!(
            "next invoice for period {} due at {}",
            subscription.next_invoice_period,
            at.to_rfc3339()
        ),
        None => "no more invoices".to_owned(),
    };
    let mut changes = String::new();
    // A plan change waiting for its day ends the old plan there: it is told as the change.
    if let (Some(end), None) = (subscription.changes.end, &subscription.changes.switch) {
        let credit = if end.credit_unused {
            ""
        } else {
            " (unserved days not credited)"
        };
        changes.push_str(&format!("  Canceled from {}{credit}.\n", end.on));
    }
    for pause in &subscription.changes.pauses {
        let until = pause
            .until
            .map_or("further notice".to_owned(), |until| until.to_string());
        changes.push_str(&format!("  Paused from {} until {until}.\n", pause.from));
    }
    if let Some(switch) = &subscription.changes.switch {
        changes.push_str(&format!(
            "  Plan {} from {}.\n",
            switch.plan_id, switch.term.starts_on
        ));
    }
    format!(
        "Subscription {} of account {}: customer {}, plan {}, quantity {}, {}; period {} from {} to {}; {}.\n{changes}",
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
