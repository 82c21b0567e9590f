//! `ai-billing subscription cancel|withdraw-cancel|pause|resume|plan`: the changes of a
//! subscription (`billing-conventions.md`, "Subscription changes"), each made through the engine's
//! operation, so it first issues what the subscription owes up to the moment it is made, then
//! writes the new state, the credit note of a period already billed and the audit events at once.
//!
//! `--at` says when the change is made (the system clock otherwise): effective dates are local
//! dates of the account resolved from that moment, so a script or a test can replay a change
//! made on a given day.

use std::io::Write;
use std::sync::Arc;

use ai_billing::changes::Effective;
use ai_billing::credit_note::CreditNote;
use ai_billing::engine::{
    CancelSubscription, ChangePlan, ChangedSubscription, PauseSubscription, ResumeSubscription,
    WithdrawCancel,
};
use ai_billing::{Engine, Error, FixedClock, Subscription};
use chrono::{DateTime, NaiveDate, Utc};

use crate::database::{DbArgs, Setup, actor};
use crate::failure::{CliResult, Failure};
use crate::render;
use crate::tax::TaxArgs;

/// What every change takes: the database, the subscription, when and by whom it is made.
#[derive(Debug, clap::Args)]
pub struct ChangeArgs {
    #[command(flatten)]
    pub db: DbArgs,
    /// The account.
    #[arg(long)]
    pub account: String,
    /// The subscription.
    #[arg(long)]
    pub id: String,
    /// When the change is made, an RFC 3339 instant (default: now). What the subscription owes
    /// up to then is issued first, as a billing run would.
    #[arg(long, value_name = "INSTANT", value_parser = crate::arguments::instant)]
    pub at: Option<DateTime<Utc>>,
    /// Tax of the invoices the change issues first (as `run` taxes them).
    #[command(flatten)]
    pub tax: TaxArgs,
    /// Who makes the change, for the audit trail (default: $USER).
    #[arg(long)]
    pub actor: Option<String>,
    /// A key for the request (an Idempotency-Key): made again with the same key and arguments,
    /// it answers what it answered and changes nothing; with other arguments, it is a conflict.
    #[arg(long, value_name = "KEY")]
    pub request_id: Option<String>,
    /// Print `{"subscription": ..., "credit_note": ...}`.
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `subscription cancel`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  ai-billing subscription cancel --account acct_1 --id sub_1\n  \
                        ai-billing subscription cancel --account acct_1 --id sub_1 --effective immediately --at 2026-02-03T15:00:00Z\n  \
                        ai-billing subscription cancel --account acct_1 --id sub_1 --effective 2026-03-01 --no-credit"
)]
pub struct CancelArgs {
    #[command(flatten)]
    pub change: ChangeArgs,
    /// When service ends: `period_end` (the current period is the last), `immediately` (the
    /// next local midnight) or a local date YYYY-MM-DD (its local midnight).
    #[arg(long, value_name = "WHEN", default_value = "period_end", value_parser = crate::arguments::effective)]
    pub effective: Effective,
    /// Do not credit the unserved days of a period already billed.
    #[arg(long)]
    pub no_credit: bool,
}

/// Arguments of `subscription withdraw-cancel`.
#[derive(Debug, clap::Args)]
pub struct WithdrawArgs {
    #[command(flatten)]
    pub change: ChangeArgs,
}

/// Arguments of `subscription pause`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Example:\n  ai-billing subscription pause --account acct_1 --id sub_1 --from 2026-03-01 --until 2026-03-08"
)]
pub struct PauseArgs {
    #[command(flatten)]
    pub change: ChangeArgs,
    /// The first local day not served, YYYY-MM-DD (not before the day the pause is made).
    #[arg(long, value_name = "DATE", value_parser = crate::arguments::date)]
    pub from: NaiveDate,
    /// The first local day served again, YYYY-MM-DD; open until `subscription resume` when left
    /// out.
    #[arg(long, value_name = "DATE", value_parser = crate::arguments::date)]
    pub until: Option<NaiveDate>,
}

/// Arguments of `subscription resume`.
#[derive(Debug, clap::Args)]
pub struct ResumeArgs {
    #[command(flatten)]
    pub change: ChangeArgs,
    /// The first local day served again, YYYY-MM-DD: it ends the pause that holds it (the
    /// pause's own first day removes the pause).
    #[arg(long, value_name = "DATE", value_parser = crate::arguments::date)]
    pub on: NaiveDate,
}

/// Arguments of `subscription plan`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Example:\n  ai-billing subscription plan --account acct_1 --id sub_1 --plan plan_pro --effective immediately"
)]
pub struct PlanArgs {
    #[command(flatten)]
    pub change: ChangeArgs,
    /// The plan to bill by (saved, in the same currency; its latest version bills).
    #[arg(long)]
    pub plan: String,
    /// When the new plan starts: `period_end` (it bills from the next period), `immediately` or a
    /// local date (the old plan's billing ends there, as an immediate cancellation's would).
    #[arg(long, value_name = "WHEN", default_value = "period_end", value_parser = crate::arguments::effective)]
    pub effective: Effective,
}

/// Runs `subscription cancel`.
pub fn cancel(args: &CancelArgs) -> CliResult {
    let change = &args.change;
    let request = CancelSubscription {
        account_id: change.account.clone(),
        subscription_id: change.id.clone(),
        effective: args.effective,
        credit_unused: !args.no_credit,
        actor: actor(change.actor.as_deref()),
        request_id: change.request_id.clone(),
    };
    let changed = make(change, "cancel", |engine| async move {
        engine.cancel_subscription(&request).await
    })?;
    let ends = changed.subscription.changes.end.map(|end| end.on);
    let said = match ends {
        Some(on) => format!("Subscription {} is canceled from {on}.", change.id),
        None => format!("Subscription {} is canceled.", change.id),
    };
    report(change, &changed, &said)
}

/// Runs `subscription withdraw-cancel`.
pub fn withdraw(args: &WithdrawArgs) -> CliResult {
    let change = &args.change;
    let request = WithdrawCancel {
        account_id: change.account.clone(),
        subscription_id: change.id.clone(),
        actor: actor(change.actor.as_deref()),
        request_id: change.request_id.clone(),
    };
    let changed = make(
        change,
        "withdraw the cancellation of",
        |engine| async move { engine.withdraw_cancel(&request).await },
    )?;
    let said = format!(
        "The cancellation of subscription {} is withdrawn.",
        change.id
    );
    report(change, &changed, &said)
}

/// Runs `subscription pause`.
pub fn pause(args: &PauseArgs) -> CliResult {
    let change = &args.change;
    let request = PauseSubscription {
        account_id: change.account.clone(),
        subscription_id: change.id.clone(),
        from: args.from,
        until: args.until,
        actor: actor(change.actor.as_deref()),
        request_id: change.request_id.clone(),
    };
    let changed = make(change, "pause", |engine| async move {
        engine.pause_subscription(&request).await
    })?;
    let until = args
        .until
        .map_or("further notice".to_owned(), |until| until.to_string());
    let said = format!(
        "Subscription {} is paused from {} until {until}.",
        change.id, args.from
    );
    report(change, &changed, &said)
}

/// Runs `subscription resume`.
pub fn resume(args: &ResumeArgs) -> CliResult {
    let change = &args.change;
    let request = ResumeSubscription {
        account_id: change.account.clone(),
        subscription_id: change.id.clone(),
        on: args.on,
        actor: actor(change.actor.as_deref()),
        request_id: change.request_id.clone(),
    };
    let changed = make(change, "resume", |engine| async move {
        engine.resume_subscription(&request).await
    })?;
    let said = format!(
        "Subscription {} is served again from {}.",
        change.id, args.on
    );
    report(change, &changed, &said)
}

/// Runs `subscription plan`.
pub fn plan(args: &PlanArgs) -> CliResult {
    let change = &args.change;
    let request = ChangePlan {
        account_id: change.account.clone(),
        subscription_id: change.id.clone(),
        plan_id: args.plan.clone(),
        effective: args.effective,
        actor: actor(change.actor.as_deref()),
        request_id: change.request_id.clone(),
    };
    let changed = make(change, "change the plan of", |engine| async move {
        engine.change_plan(&request).await
    })?;
    let from = changed
        .subscription
        .changes
        .switch
        .as_ref()
        .map(|switch| switch.term.starts_on)
        .or(changed.subscription.changes.term.map(|term| term.starts_on));
    let said = match from {
        Some(on) => format!(
            "Subscription {} bills by plan {} from {on}.",
            change.id, args.plan
        ),
        None => format!("Subscription {} bills by plan {}.", change.id, args.plan),
    };
    report(change, &changed, &said)
}

/// The engine of a change: tax as asked, the clock at `--at` when given.
pub async fn engine(db: &DbArgs, tax: &TaxArgs, at: Option<DateTime<Utc>>) -> CliResult<Engine> {
    let engine = db
        .engine(Setup {
            tax: Some(tax),
            ..Setup::default()
        })
        .await?;
    Ok(match at {
        Some(at) => engine.with_clock(Arc::new(FixedClock::new(at))),
        None => engine,
    })
}

/// A library error of a change, its code first (`CONFLICT: cannot pause subscription sub_1`), so
/// a script can tell a refusal from a failure; the exit status is the error's own.
pub fn refused(error: Error, doing: &str, id: &str) -> Failure {
    let code = error.code();
    Failure::from(error).context(format!("{code}: cannot {doing} subscription {id}"))
}

/// Opens the engine and makes one change with it.
fn make<F, Fut>(change: &ChangeArgs, doing: &str, operation: F) -> CliResult<ChangedSubscription>
where
    F: FnOnce(Engine) -> Fut,
    Fut: std::future::Future<Output = ai_billing::Result<ChangedSubscription>>,
{
    crate::database::block_on(async {
        let engine = engine(&change.db, &change.tax, change.at).await?;
        operation(engine)
            .await
            .map_err(|e| refused(e, doing, &change.id))
    })
}

/// Prints what a change did: JSON, or a sentence, the subscription and its credit note.
fn report(change: &ChangeArgs, changed: &ChangedSubscription, said: &str) -> CliResult {
    print_changed(
        change.json,
        &changed.subscription,
        changed.credit_note.as_ref(),
        said,
    )
}

/// Prints a subscription after a change and the credit note the change issued, if any.
pub fn print_changed(
    json: bool,
    subscription: &Subscription,
    credit_note: Option<&CreditNote>,
    said: &str,
) -> CliResult {
    let mut out = std::io::stdout().lock();
    if json {
        let value = serde_json::json!({
            "subscription": subscription,
            "credit_note": credit_note,
        });
        let text =
            serde_json::to_string_pretty(&value).map_err(|e| Failure::other("printing JSON", e))?;
        writeln!(out, "{text}")?;
        return Ok(());
    }
    writeln!(out, "{said}")?;
    write!(out, "{}", crate::subscriptions::describe(subscription))?;
    match credit_note {
        Some(note) => {
            writeln!(
                out,
                "Credit note {} (against invoice {}):",
                note.id, note.invoice_id
            )?;
            write!(out, "{}", render::credit_note(note))?;
        }
        None => writeln!(out, "No credit note.")?,
    }
    Ok(())
}
