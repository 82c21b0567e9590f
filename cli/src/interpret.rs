//! `ai-billing interpret PROMPT`: the pricing program a plan prompt compiles to, and its reading.

use std::io::Write;

use ai_billing::calendar::{BillingInterval, IntervalUnit};
use ai_billing::interpreter::{self, PlanContext};
use ai_billing::{Currency, plan};

use crate::failure::CliResult;

/// Arguments of `interpret`.
#[derive(Debug, clap::Args)]
#[command(
    about = "Interpret a plan prompt into a pricing program, or show why it is refused",
    long_about = "Interpret a plan prompt with the offline rules interpreter (no network, no key) and \
                  print the pricing program it compiles to, as JSON, followed by the program's \
                  plain-English reading. This is what a billing admin checks before saving an AI plan.\n\n\
                  A prompt that is vague, contradictory or outside the billing language is refused: \
                  the reason (naming the words that could not be placed) goes to stderr and the exit \
                  status is 3. Nothing is ever guessed.",
    after_help = "Examples:\n  \
                  ai-billing interpret 'Bill $5 for the first month and increase by $1 per month'\n  \
                  ai-billing interpret 'EUR 9 per week' --currency EUR --interval week\n  \
                  ai-billing interpret --json '$0.75 per delivery Monday to Saturday and $2.50 per Sunday delivery'"
)]
pub struct Args {
    /// The plan's billing rule in plain language (quote it).
    pub prompt: String,
    /// The plan's currency (ISO 4217 code); amounts written without a currency are in it.
    #[arg(long, default_value = "USD", value_name = "CODE")]
    pub currency: String,
    /// The unit of the plan's billing interval.
    #[arg(long, value_enum, default_value_t = Interval::Month)]
    pub interval: Interval,
    /// How many interval units make one billing period.
    #[arg(long, default_value_t = 1, value_name = "N")]
    pub interval_count: u32,
    /// Print only the program's JSON (no plain-English reading).
    #[arg(long)]
    pub json: bool,
}

/// A billing interval unit, as the plan's `interval` field spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Interval {
    /// Calendar days.
    Day,
    /// Seven days.
    Week,
    /// Calendar months, anchored on the start day.
    Month,
    /// Twelve calendar months.
    Year,
}

impl From<Interval> for IntervalUnit {
    fn from(interval: Interval) -> Self {
        match interval {
            Interval::Day => IntervalUnit::Day,
            Interval::Week => IntervalUnit::Week,
            Interval::Month => IntervalUnit::Month,
            Interval::Year => IntervalUnit::Year,
        }
    }
}

/// Runs `interpret`.
pub fn run(args: &Args) -> CliResult {
    let context = PlanContext {
        currency: Currency::parse(&args.currency)?,
        interval: BillingInterval::new(args.interval.into(), args.interval_count)?,
    };
    plan::check_prompt(&args.prompt)?;
    let program = interpreter::interpret(&args.prompt, &context)?;
    let json = serde_json::to_string_pretty(&program)
        .map_err(|e| crate::failure::Failure::other("printing the program", e))?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "{json}")?;
    if !args.json {
        writeln!(out)?;
        writeln!(out, "In plain English:")?;
        write!(out, "{}", crate::render::indent(&program.describe(), 2))?;
    }
    out.flush()?;
    Ok(())
}
