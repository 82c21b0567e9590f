//! `ai-billing`: the command line of the ai-billing library.
//!
//! - `preview FILE`: bills a scenario file and prints its invoices (`--json` for the scorer's
//!   contract);
//! - `interpret PROMPT`: the pricing program a plan prompt compiles to, and its reading;
//! - `demo`: three plain-language plans billed for six months from an embedded SQLite file;
//! - `init`, `generate`, `run`, `stats`: a database of plans and subscriptions, and its billing
//!   runs;
//! - `account`, `customer`, `plan`, `subscription`, `invoices`, `credit-notes`: what the database
//!   holds, and the changes of a subscription (cancel, pause, resume, plan, prorated quantity);
//! - `usage load`: shipments and returns from a CSV or JSON-lines file;
//! - `events`, `webhooks`: the platform's events, as a feed and as webhooks.
//!
//! Exit status: 0 success; 1 any other failure; 2 malformed input (the message names the field);
//! 3 a plan prompt that could not be interpreted (nothing is billed). See [`failure`].

mod accounts;
mod arguments;
mod audit;
mod changes;
mod corrections;
mod credit_notes;
mod database;
mod demo;
mod documents;
mod events;
mod failure;
mod generate;
mod input;
mod interpret;
mod invoices;
mod model;
mod plans;
mod preview;
mod render;
mod run;
mod subscriptions;
mod synth;
mod tax;
mod traffic;
mod usage;
mod webhooks;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Plain-language billing plans, compiled to exact pricing programs and billed deterministically.
#[derive(Debug, Parser)]
#[command(
    name = "ai-billing",
    version,
    about = "Plain-language billing plans, compiled to exact pricing programs and billed deterministically",
    long_about = "ai-billing turns a billing rule written in plain language (\"Bill $5 for the first month \
                  and increase by $1 per month\", \"$0.75 per delivery Monday to Saturday and $2.50 per Sunday \
                  delivery\") into a typed pricing program, and bills every period of a subscription by \
                  it: on time, to the cent, with tax and a revenue schedule. The offline interpreter \
                  needs no network and no key; a prompt it does not understand is refused, never guessed.",
    after_help = "Exit status: 0 success; 1 any other failure; 2 malformed input (the message names the \
                  field); 3 the plan prompt could not be interpreted (nothing is billed).\n\n\
                  Start with `ai-billing demo`."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    Preview(preview::Args),
    Interpret(interpret::Args),
    Demo(demo::Args),
    /// Create or upgrade a database's tables.
    Init(InitArgs),
    Generate(generate::Args),
    Run(run::Args),
    Stats(run::StatsArgs),
    /// Accounts: their zone, whether they may have AI plans, tax-inclusive prices.
    #[command(subcommand)]
    Account(accounts::AccountCommand),
    /// Customers: their tax address and exemption.
    #[command(subcommand)]
    Customer(accounts::CustomerCommand),
    /// Plans in the platform's shape, versioned.
    #[command(subcommand)]
    Plan(plans::PlanCommand),
    /// Subscriptions: create, change the quantity, cancel, pause, resume, change the plan, show,
    /// preview the next invoice.
    #[command(subcommand)]
    Subscription(subscriptions::SubscriptionCommand),
    /// Usage: load the platform's shipments and returns from a file.
    #[command(subcommand)]
    Usage(usage::UsageCommand),
    Invoices(invoices::Args),
    /// Correct an invoice: release a held one, void one (and bill its period again), credit one.
    #[command(subcommand)]
    Invoice(corrections::InvoiceCommand),
    CreditNotes(credit_notes::Args),
    /// The audit trail: every action, input, model answer and result.
    #[command(subcommand)]
    Audit(audit::AuditCommand),
    Events(events::Args),
    /// Webhook endpoints for the platform's events, and their delivery pump.
    #[command(subcommand)]
    Webhooks(webhooks::WebhooksCommand),
}

/// Arguments of `init`.
#[derive(Debug, clap::Args)]
#[command(
    long_about = "Creates or upgrades a database's tables (idempotent). A SQLite file is created if \
                  missing; a PostgreSQL database that does not exist yet is created first, through \
                  the server's `postgres` database, as `createdb` does (the user needs the right to \
                  create databases; otherwise the error says how to create it by hand).",
    after_help = "Examples:\n  ai-billing init --db sqlite://billing.db\n  ai-billing init --db postgres://postgres@127.0.0.1:5432/billing"
)]
struct InitArgs {
    #[command(flatten)]
    db: database::DbArgs,
}

fn init(args: &InitArgs) -> failure::CliResult {
    let created = database::block_on(async {
        let created = database::create_if_missing(&args.db.db).await?;
        args.db.open().await?;
        Ok(created)
    })?;
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    if let Some(name) = created {
        writeln!(out, "Created the PostgreSQL database {name}.")?;
    }
    writeln!(
        out,
        "The database {} is ready.",
        database::redact(&args.db.db)
    )?;
    Ok(())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match &cli.command {
        Command::Preview(args) => preview::run(args),
        Command::Interpret(args) => interpret::run(args),
        Command::Demo(args) => demo::run(args),
        Command::Init(args) => init(args),
        Command::Generate(args) => generate::run(args),
        Command::Run(args) => run::run(args),
        Command::Stats(args) => run::stats(args),
        Command::Account(command) => accounts::account(command),
        Command::Customer(command) => accounts::customer(command),
        Command::Plan(command) => plans::run(command),
        Command::Subscription(command) => subscriptions::run(command),
        Command::Usage(command) => usage::run(command),
        Command::Invoices(args) => invoices::run(args),
        Command::Invoice(command) => corrections::run(command),
        Command::CreditNotes(args) => credit_notes::run(args),
        Command::Audit(command) => audit::run(command),
        Command::Events(args) => events::run(args),
        Command::Webhooks(command) => webhooks::run(command),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => failure.exit(),
    }
}
