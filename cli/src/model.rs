//! `--interpreter` and `--mode`: whether a language model reads plan prompts and writes invoice
//! payloads, configured from `OPENAI_API_KEY`, `OPENAI_BASE_URL` and `OPENAI_MODEL`. Without a key
//! a mode that needs the model fails with a clear error; it never falls back silently.

use std::sync::Arc;

use ai_billing::engine::BillingMode;
use ai_billing::interpreter::Interpreter;
use ai_billing::llm_interpreter::{InterpreterMode, interpreter_for};
use ai_billing::model::LanguageModel;

use crate::failure::{CliResult, Failure};

/// The model options of the commands that interpret prompts or bill. The default is no model:
/// the offline interpreter and the compiled mode.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ModelArgs {
    /// Who reads AI plans' prompts: `offline` (the rules interpreter: no network, no key),
    /// `openai` (the model), or `auto` (offline first, the model for what it refuses).
    #[arg(long, value_name = "WHO", default_value = "offline", value_parser = parse_interpreter)]
    pub interpreter: InterpreterMode,
    /// Who writes each invoice's payload: `compiled` (the pricing program, no model call),
    /// `agent` (the model, issued when its total agrees with the program, else held), or
    /// `agent_checked` (the model, issued only when every line agrees, else held).
    #[arg(long, value_name = "MODE", default_value = "compiled", value_parser = parse_mode)]
    pub mode: BillingMode,
}

fn parse_interpreter(text: &str) -> Result<InterpreterMode, String> {
    text.parse().map_err(|e: ai_billing::Error| e.to_string())
}

fn parse_mode(text: &str) -> Result<BillingMode, String> {
    text.parse().map_err(|e: ai_billing::Error| e.to_string())
}

/// The interpreter and model the options ask for.
pub struct Configured {
    /// Reads AI plans' prompts.
    pub interpreter: Arc<dyn Interpreter>,
    /// The model, when an option needs one.
    pub model: Option<Arc<dyn LanguageModel>>,
}

impl ModelArgs {
    /// Builds what the options ask for, for `preview` (which bills a scenario, not a database);
    /// the OpenAI client only when one of them needs it. The commands on a database get theirs
    /// from the front door ([`crate::database::Setup`]).
    pub fn configure(&self) -> CliResult<Configured> {
        let needed = self.interpreter.needs_model() || self.mode.uses_model();
        let model = ai_billing::api::language_model(needed, None, None)
            .map_err(|e| Failure::from(e).hint(self.key_hint()))?;
        Ok(Configured {
            interpreter: interpreter_for(self.interpreter, model.clone())?,
            model,
        })
    }

    /// What to do when the options need the model and no key is set.
    pub fn key_hint(&self) -> String {
        format!(
            "--interpreter {} --mode {} call the OpenAI API; export OPENAI_API_KEY, or use --interpreter offline --mode compiled",
            self.interpreter,
            self.mode.as_str()
        )
    }
}
