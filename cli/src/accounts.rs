//! `ai-billing account save` and `ai-billing customer save`: who plans and subscriptions belong to.

use std::io::Write;

use ai_billing::calendar::parse_time_zone;
use ai_billing::locale::Locale;
use ai_billing::tax::TaxAddress;
use ai_billing::{Account, Customer};

use crate::database::{DbArgs, Setup, actor, block_on};
use crate::failure::CliResult;

/// `account` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum AccountCommand {
    /// Create an account or replace its settings.
    Save(AccountArgs),
}

/// Arguments of `account save`.
#[derive(Debug, clap::Args)]
pub struct AccountArgs {
    #[command(flatten)]
    pub db: DbArgs,
    /// The account's id.
    #[arg(long)]
    pub id: String,
    /// The account's IANA time zone: periods and weekdays are local to it.
    #[arg(long, value_name = "ZONE")]
    pub timezone: String,
    /// The account is abstracted (only abstracted accounts may have AI plans).
    #[arg(long)]
    pub abstracted: bool,
    /// The account's prices include tax.
    #[arg(long)]
    pub tax_inclusive: bool,
    /// How the account's invoice and credit note documents write dates and money: a BCP 47
    /// tag with a region (en-US, fr-FR, de-DE).
    #[arg(long, value_name = "TAG", default_value = "en-US")]
    pub locale: String,
    /// Who makes the change, for the audit trail (default: $USER).
    #[arg(long)]
    pub actor: Option<String>,
}

/// `customer` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum CustomerCommand {
    /// Create a customer or replace its tax details.
    Save(CustomerArgs),
}

/// Arguments of `customer save`.
#[derive(Debug, clap::Args)]
pub struct CustomerArgs {
    #[command(flatten)]
    pub db: DbArgs,
    /// The account.
    #[arg(long)]
    pub account: String,
    /// The customer's id.
    #[arg(long)]
    pub id: String,
    /// ISO 3166-1 alpha-2 country of the tax address; no tax applies without one.
    #[arg(long)]
    pub country: Option<String>,
    /// Region (state, province) of the tax address.
    #[arg(long, requires = "country")]
    pub region: Option<String>,
    /// Postal code of the tax address.
    #[arg(long, requires = "country")]
    pub postal_code: Option<String>,
    /// The customer is exempt from tax.
    #[arg(long)]
    pub tax_exempt: bool,
    /// Who makes the change, for the audit trail (default: $USER).
    #[arg(long)]
    pub actor: Option<String>,
}

/// Runs `account ...`.
pub fn account(command: &AccountCommand) -> CliResult {
    let AccountCommand::Save(args) = command;
    let account = Account {
        id: args.id.clone(),
        abstracted: args.abstracted,
        timezone: parse_time_zone(&args.timezone)?,
        tax_inclusive: args.tax_inclusive,
        locale: Locale::parse(&args.locale, "--locale")?,
    };
    block_on(async {
        let engine = args.db.engine(Setup::default()).await?;
        engine
            .save_account(&account, &actor(args.actor.as_deref()))
            .await?;
        Ok(())
    })?;
    writeln!(std::io::stdout(), "Saved account {}.", account.id)?;
    Ok(())
}

/// Runs `customer ...`.
pub fn customer(command: &CustomerCommand) -> CliResult {
    let CustomerCommand::Save(args) = command;
    let customer = Customer {
        account_id: args.account.clone(),
        id: args.id.clone(),
        tax_address: args.country.as_ref().map(|country| TaxAddress {
            country: country.to_ascii_uppercase(),
            region: args.region.clone(),
            postal_code: args.postal_code.clone(),
        }),
        tax_exempt: args.tax_exempt,
    };
    block_on(async {
        let engine = args.db.engine(Setup::default()).await?;
        engine
            .save_customer(&customer, &actor(args.actor.as_deref()))
            .await?;
        Ok(())
    })?;
    writeln!(
        std::io::stdout(),
        "Saved customer {} of account {}.",
        customer.id,
        customer.account_id
    )?;
    Ok(())
}
