//! The operations that need no engine: reading a plan prompt, previewing a scenario, and listing
//! the predefined usage queries.

use schemars::JsonSchema;
use serde::Serialize;

use crate::calendar::BillingInterval;
use crate::error::{Error, Result};
use crate::llm_interpreter::interpreter_for;
use crate::plan::{Account, Plan};
use crate::pricing::{InvoiceTiming, PricingProgram};

#[cfg(feature = "sqlite")]
use super::json::check_request_size;
use super::options::{InterpretOptions, language_model};

/// What a prompt says: the program, or why it was refused. A refusal is an answer, not an
/// error: the admin rephrases.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Interpretation {
    /// The prompt was understood.
    Understood {
        /// The pricing program it compiles to.
        program: PricingProgram,
        /// The program in plain English.
        reading: String,
        /// When its invoices are issued: `at_start` (in advance) or `at_renewal` (in arrears).
        invoice_timing: InvoiceTiming,
        /// Who read it (`offline`, or the model's name).
        interpreter: String,
    },
    /// The prompt was refused: nothing would be billed from it.
    Refused {
        /// What to rephrase, naming the words or the clause that could not be placed.
        reason: String,
    },
}

/// Reads `prompt` as the plan `options` describes: its program, or the refusal.
pub async fn interpret_prompt(prompt: &str, options: &InterpretOptions) -> Result<Interpretation> {
    let interval = BillingInterval::new(options.interval, options.interval_count)?;
    // The prompt is read as an AI plan's would be when it is saved, and its program checked the
    // same way: what this answers is what `create_plan` would store.
    let plan = Plan::ai("interpreted", options.currency, interval, prompt);
    plan.validate()?;
    let account = Account::new("interpreted", chrono_tz::UTC);
    let model = language_model(
        options.interpreter.needs_model(),
        options.openai.as_ref(),
        None,
    )?;
    let interpreter = interpreter_for(options.interpreter, model)?;
    let read = interpreter
        .interpret(prompt, &plan.interpreter_context()?)
        .await
        .and_then(|program| plan.compile_with(&account, Some(program)));
    match read {
        Ok(program) => Ok(Interpretation::Understood {
            reading: program.describe(),
            invoice_timing: program.invoice_timing(),
            interpreter: interpreter.name().to_owned(),
            program,
        }),
        Err(Error::PromptNotUnderstood { reason }) | Err(Error::UsageNotPriced { reason }) => {
            Ok(Interpretation::Refused { reason })
        }
        Err(error) => Err(error),
    }
}

/// Bills a scenario (the JSON of a scenario file) as `ai-billing preview --json` does, with
/// the offline interpreter in the compiled mode.
#[cfg(feature = "sqlite")]
pub async fn preview_scenario(scenario_json: &str) -> Result<crate::scenario::PreviewReport> {
    check_request_size("scenario", scenario_json.len())?;
    let scenario = crate::scenario::Scenario::from_json(scenario_json)?;
    crate::scenario::preview(&scenario).await
}

/// What a scenario preview of the bindings adds to its report (`previewScenario(scenario,
/// options)`).
#[derive(Debug, Clone, Default, serde::Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PreviewScenarioOptions {
    /// Add `documents`: the HTML document of each invoice and credit note, in the scenario
    /// account's locale (`false` when absent).
    #[serde(default)]
    pub documents: bool,
}

/// Bills a scenario as [`preview_scenario`] does, with the HTML document of each invoice and
/// credit note in the scenario account's locale.
#[cfg(feature = "sqlite")]
pub async fn preview_scenario_documents(
    scenario_json: &str,
) -> Result<crate::scenario::DocumentedPreview> {
    check_request_size("scenario", scenario_json.len())?;
    let scenario = crate::scenario::Scenario::from_json(scenario_json)?;
    let report = crate::scenario::preview(&scenario).await?;
    let documents = report.documents(&scenario.account.locale);
    Ok(crate::scenario::DocumentedPreview { report, documents })
}

/// A predefined usage query, as the plan form's usage source selector lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct UsageQuery {
    /// The name a plan's `usage_query` gives (`shipments_by_weekday`).
    pub name: String,
    /// What it counts.
    pub description: String,
    /// The databases it runs on (`sqlite`, `postgres`, `mysql`).
    pub dialects: Vec<String>,
    /// Whether plans use it when they name none.
    pub default: bool,
}

/// The predefined usage queries (from `sql/queries/`): the only usage sources a plan can name.
pub fn usage_queries() -> Vec<UsageQuery> {
    crate::usage::predefined_queries()
        .iter()
        .map(|query| UsageQuery {
            name: query.name.to_owned(),
            description: query.description.to_owned(),
            dialects: [
                ("sqlite", query.sqlite),
                ("postgres", query.postgres),
                ("mysql", query.mysql),
            ]
            .into_iter()
            .filter(|(_, text)| !text.trim().is_empty())
            .map(|(dialect, _)| dialect.to_owned())
            .collect(),
            default: query.name == crate::plan::DEFAULT_USAGE_QUERY,
        })
        .collect()
}
