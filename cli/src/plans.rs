//! `ai-billing plan save`, `plan show` and `plan list`: plans in the platform's shape, versioned.

use std::io::Write;
use std::path::PathBuf;

use ai_billing::engine::SavePlan;
use ai_billing::store::{PlanListQuery, PlanQuery};
use ai_billing::{Currency, IntervalUnit, Plan, PlanType, PlanVersion};

use crate::database::{DbArgs, Setup, actor, block_on};
use crate::failure::{CliResult, Failure};
use crate::render;

/// `plan` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum PlanCommand {
    /// Create a plan, or save a new version of it. An AI plan's prompt is interpreted now; a
    /// prompt that is not understood saves nothing (exit 3).
    Save(SaveArgs),
    /// Show a plan version and the program that bills it.
    Show(ShowArgs),
    /// List an account's plans, each at its latest version, in plan id order.
    List(ListArgs),
}

/// Arguments of `plan save`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  ai-billing plan save --db sqlite://b.db --account acct_1 --id plan_news --prompt '$0.75 per delivery Monday to Saturday and $2.50 per Sunday delivery'\n  ai-billing plan save --db sqlite://b.db --account acct_1 --file plan.json"
)]
pub struct SaveArgs {
    #[command(flatten)]
    pub db: DbArgs,
    /// The account.
    #[arg(long)]
    pub account: String,
    /// The whole plan as JSON in the platform's shape (id, nickname, amount, currency, interval,
    /// interval_count, type, ai_prompt, usage_query, ...). Replaces the flags below.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["prompt", "amount"])]
    pub file: Option<PathBuf>,
    /// The plan's id.
    #[arg(long, required_unless_present = "file")]
    pub id: Option<String>,
    /// The billing rule in plain language: makes an AI plan.
    #[arg(long, conflicts_with = "amount")]
    pub prompt: Option<String>,
    /// A standard plan's price per period, in minor units (cents).
    #[arg(long, value_name = "MINOR_UNITS")]
    pub amount: Option<i64>,
    /// The display name.
    #[arg(long, default_value = "")]
    pub nickname: String,
    /// The currency (ISO 4217).
    #[arg(long, default_value = "USD")]
    pub currency: String,
    /// The period unit: day, week, month or year.
    #[arg(long, default_value = "month", value_parser = parse_interval)]
    pub interval: IntervalUnit,
    /// Units per period.
    #[arg(long, default_value_t = 1)]
    pub interval_count: u32,
    /// Who saves it, for the audit trail (default: $USER).
    #[arg(long)]
    pub actor: Option<String>,
    /// Print the saved version as JSON.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub model: crate::model::ModelArgs,
}

/// Arguments of `plan show`.
#[derive(Debug, clap::Args)]
pub struct ShowArgs {
    #[command(flatten)]
    pub db: DbArgs,
    /// The account.
    #[arg(long)]
    pub account: String,
    /// The plan's id.
    #[arg(long)]
    pub id: String,
    /// A version; the latest by default.
    #[arg(long)]
    pub version: Option<u32>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `plan list`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Example:\n  ai-billing plan list --db sqlite://b.db --account acct_1 --json"
)]
pub struct ListArgs {
    #[command(flatten)]
    pub db: DbArgs,
    /// The account.
    #[arg(long)]
    pub account: String,
    /// Print the versions as a JSON array.
    #[arg(long)]
    pub json: bool,
}

/// Plans read per [`Store::list_plans`](ai_billing::Store::list_plans) call while `plan list`
/// pages through an account.
const LIST_PAGE: u32 = 500;

/// `--interval`, spelled as in the platform's plans.
fn parse_interval(text: &str) -> Result<IntervalUnit, String> {
    serde_json::from_value(serde_json::Value::String(text.to_owned()))
        .map_err(|_| format!("{text:?} is not day, week, month or year"))
}

/// Runs `plan ...`.
pub fn run(command: &PlanCommand) -> CliResult {
    match command {
        PlanCommand::Save(args) => save(args),
        PlanCommand::Show(args) => show(args),
        PlanCommand::List(args) => list(args),
    }
}

fn plan_from_args(args: &SaveArgs) -> CliResult<Plan> {
    if let Some(path) = &args.file {
        let text = crate::input::read_json_file(path, "plan file")?;
        let mut deserializer = serde_json::Deserializer::from_str(&text);
        let mut plan: Plan = serde_path_to_error::deserialize(&mut deserializer).map_err(|e| {
            Failure::invalid_input(
                format!("invalid plan file {}", path.display()),
                format!("at {}: {}", e.path(), e.inner()),
            )
        })?;
        if let Some(id) = &args.id {
            plan.id = Some(id.clone());
        }
        return Ok(plan);
    }
    let (plan_type, amount) = match (&args.prompt, args.amount) {
        (Some(_), _) => (PlanType::Ai, 0),
        (None, Some(amount)) => (PlanType::Standard, amount),
        (None, None) => {
            return Err(Failure::invalid_input(
                "invalid plan",
                "give --prompt (an AI plan), --amount (a standard plan) or --file",
            ));
        }
    };
    Ok(Plan {
        id: args.id.clone(),
        product_id: None,
        nickname: args.nickname.clone(),
        amount,
        currency: Currency::parse(&args.currency)?,
        interval: args.interval,
        interval_count: args.interval_count,
        auto_renew: true,
        metadata: serde_json::Map::new(),
        plan_type,
        ai_prompt: args.prompt.clone(),
        usage_query: None,
        program: None,
    })
}

fn save(args: &SaveArgs) -> CliResult {
    let plan = plan_from_args(args)?;
    let saved = block_on(async {
        let engine = args
            .db
            .engine(Setup {
                model: Some(&args.model),
                ..Setup::default()
            })
            .await?;
        Ok(engine
            .save_plan(&SavePlan {
                account_id: args.account.clone(),
                plan,
                actor: actor(args.actor.as_deref()),
            })
            .await?)
    })?;
    print_version(&saved, args.json)
}

fn show(args: &ShowArgs) -> CliResult {
    let version = block_on(async {
        let store = args.db.open().await?;
        store
            .plan_version(&PlanQuery {
                account_id: args.account.clone(),
                plan_id: args.id.clone(),
                version: args.version,
            })
            .await?
            .ok_or_else(|| ai_billing::Error::not_found("plan", &args.id).into())
    })?;
    print_version(&version, args.json)
}

fn list(args: &ListArgs) -> CliResult {
    let versions = block_on(async {
        let store = args.db.open().await?;
        if store.account(&args.account).await?.is_none() {
            return Err(ai_billing::Error::not_found("account", &args.account).into());
        }
        let mut versions: Vec<PlanVersion> = Vec::new();
        loop {
            let page = store
                .list_plans(&PlanListQuery {
                    account_id: args.account.clone(),
                    after: versions.last().map(|last| last.plan_id().to_owned()),
                    limit: Some(LIST_PAGE),
                })
                .await?;
            let full = page.len() == LIST_PAGE as usize;
            versions.extend(page);
            if !full {
                return Ok(versions);
            }
        }
    })?;
    let mut out = std::io::stdout().lock();
    if args.json {
        let text = serde_json::to_string_pretty(&versions)
            .map_err(|e| Failure::other("printing the plans", e))?;
        writeln!(out, "{text}")?;
        return Ok(());
    }
    if versions.is_empty() {
        writeln!(out, "No plans in account {}.", args.account)?;
        return Ok(());
    }
    let lines: Vec<[String; 7]> = versions.iter().map(list_line).collect();
    let mut widths = [0; 6];
    for line in &lines {
        for (width, cell) in widths.iter_mut().zip(line) {
            *width = (*width).max(cell.chars().count());
        }
    }
    for line in &lines {
        let mut text = String::new();
        for (width, cell) in widths.iter().zip(line) {
            text.push_str(&format!("{cell:width$}  "));
        }
        text.push_str(&line[6]);
        writeln!(out, "{}", text.trim_end())?;
    }
    Ok(())
}

/// One plan of `plan list`: id, version, type, currency, interval, timing, nickname.
fn list_line(version: &PlanVersion) -> [String; 7] {
    let plan = &version.plan;
    let unit = plan.interval.label();
    let interval = match plan.interval_count {
        1 => format!("1 {unit}"),
        count => format!("{count} {unit}s"),
    };
    [
        version.plan_id().to_owned(),
        format!("v{}", version.version),
        serde_name(&plan.plan_type),
        version.program.currency.code().to_owned(),
        interval,
        serde_name(&version.program.invoice_timing()),
        if plan.nickname.is_empty() {
            "-".to_owned()
        } else {
            plan.nickname.clone()
        },
    ]
}

/// A unit enum as its JSON spells it (`step_up`, `at_renewal`), so the line and `--json` agree.
fn serde_name<T: serde::Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(name)) => name,
        _ => "?".to_owned(),
    }
}

fn print_version(version: &PlanVersion, json: bool) -> CliResult {
    let mut out = std::io::stdout().lock();
    if json {
        let text = serde_json::to_string_pretty(version)
            .map_err(|e| Failure::other("printing the plan", e))?;
        writeln!(out, "{text}")?;
        return Ok(());
    }
    writeln!(
        out,
        "Plan {} version {} of account {} ({} plan, {}):",
        version.plan_id(),
        version.version,
        version.account_id,
        serde_name(&version.plan.plan_type),
        version.program.currency.code()
    )?;
    if let Some(prompt) = &version.plan.ai_prompt {
        writeln!(out, "  prompt: {prompt}")?;
    }
    writeln!(
        out,
        "  timing: {}",
        render::timing(version.program.invoice_timing())
    )?;
    let program = serde_json::to_string_pretty(&version.program)
        .map_err(|e| Failure::other("printing the plan's program", e))?;
    writeln!(out, "  program (what every renewal evaluates):")?;
    write!(out, "{}", render::indent(&program, 4))?;
    writeln!(out, "  reading:")?;
    write!(out, "{}", render::indent(&version.program.describe(), 4))?;
    Ok(())
}
