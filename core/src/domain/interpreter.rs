//! The offline rules interpreter: plan prompt -> [`PricingProgram`], with no network and no key.
//!
//! A real front end for billing language: a [lexer](lexer) for money, numbers (in digits or
//! words), percentages, weekdays, periods and ordinals; a reader of billing [clauses](clause)
//! (recurring charge, usage charge, phase, step, tier, allowance, minimum, cap, discount, return
//! credit); and an assembler (`builder`) that attaches clauses to each other. Every word that
//! carries meaning is consumed into the program, or the prompt is refused naming the words that
//! could not be placed. It never guesses.
//!
//! What may be skipped is closed and listed: the filler words of `clause::FILLERS` (articles,
//! prepositions, pronouns, auxiliaries, nouns of a price) and the symbols of
//! `clause::SKIPPABLE_SYMBOLS` (list and quote punctuation, the em dash). Verbs of billing ("we
//! bill", "is charged", "costs you", "runs") bind to the amount or construct beside them, and the
//! admin's name for the thing sold ("Daily paper:", "The magazine costs", "for the garden box")
//! becomes its charge's description; words that qualify what is billed ("subscription",
//! "customer", "each", "all", "first", "additional", "only") bind to a construct. Whatever binds
//! to nothing is named in the refusal. A minus sign or dash before an amount is refused by
//! the lexer (amounts are never negative). Two prices for one thing are always refused, equal or
//! not ("$1 per delivery plus $1 per delivery" like "$1 per delivery and $2 per delivery"): a
//! second price is never summed with nor absorbed into the first.
//!
//! A usage charge priced by day prices every day or says the others are free or not billed; one
//! that leaves a day without a price is refused here, when the plan is saved, naming the day.
//! The program's reading ([`PricingProgram::describe`]) is itself a prompt that reads back to the
//! same program (`core/tests/interpreter_roundtrip.rs`).

mod builder;
mod clause;
mod lexer;

use crate::calendar::BillingInterval;
use crate::error::{Error, Result};
use crate::money::Currency;
use crate::pricing::PricingProgram;

use builder::Builder;
use lexer::Kind;

/// The longest prompt the interpreter reads, in characters.
pub const MAX_PROMPT_CHARS: usize = 4000;

/// Reads plan prompts into pricing programs: the offline rules interpreter here, a language
/// model behind the same port. Held as `Arc<dyn Interpreter>`. Every program it returns is checked
/// by [`crate::plan::Plan::compile_with`] like the offline interpreter's.
#[async_trait::async_trait]
pub trait Interpreter: Send + Sync + std::fmt::Debug + 'static {
    /// The interpreter's name, stored with every program it reads (`offline`).
    fn name(&self) -> &str;

    /// The program `prompt` says, or [`Error::PromptNotUnderstood`] naming what it could not place.
    async fn interpret(&self, prompt: &str, context: &PlanContext) -> Result<PricingProgram>;

    /// As [`Interpreter::interpret`], also handing back in `calls` every model answer it got
    /// (tokens, latency, the answer), also when it fails: the audit trail records them. An
    /// interpreter that calls no model keeps the default.
    async fn interpret_recorded(
        &self,
        prompt: &str,
        context: &PlanContext,
        calls: &mut Vec<crate::chat::ModelResponse>,
    ) -> Result<PricingProgram> {
        let _ = calls;
        self.interpret(prompt, context).await
    }
}

/// The offline rules interpreter ([`interpret`]) as an [`Interpreter`]: no network, no key.
#[derive(Debug, Clone, Copy, Default)]
pub struct OfflineInterpreter;

#[async_trait::async_trait]
impl Interpreter for OfflineInterpreter {
    fn name(&self) -> &str {
        "offline"
    }

    async fn interpret(&self, prompt: &str, context: &PlanContext) -> Result<PricingProgram> {
        interpret(prompt, context)
    }
}

/// What the interpreter knows of the plan a prompt belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlanContext {
    /// The plan's currency: amounts written without one are in it; others must match it.
    pub currency: Currency,
    /// The plan's billing interval: the prompt's periods must agree with it.
    pub interval: BillingInterval,
}

/// Interprets `prompt` for a plan described by `context`; a prompt that is vague, contradictory or
/// outside the billing language is [`Error::PromptNotUnderstood`] with what to rephrase.
pub fn interpret(prompt: &str, context: &PlanContext) -> Result<PricingProgram> {
    if prompt.trim().is_empty() {
        return Err(Error::not_understood(
            "the plan prompt is empty: say what to charge, for example \"$25 per month\"",
        ));
    }
    if prompt.chars().count() > MAX_PROMPT_CHARS {
        return Err(Error::invalid(
            "plan.ai_prompt",
            format!("is longer than {MAX_PROMPT_CHARS} characters"),
        ));
    }
    let tokens = lexer::lex(prompt)?;
    if !tokens.iter().any(|t| matches!(t.kind, Kind::Money(..))) {
        return Err(Error::not_understood(
            "the prompt names no price: write amounts such as \"$25 per month\" or \"$0.50 per shipment\"",
        ));
    }
    let mut clauses = clause::split(tokens);
    let mut builder = Builder::new(context);
    let mut unplaced = Vec::new();
    for clause in &mut clauses {
        let facts = clause.read();
        unplaced.extend(clause.leftovers());
        if unplaced.is_empty() {
            let text: Vec<&str> = clause.toks.iter().map(|t| t.text.as_str()).collect();
            builder.add(clause.lead, facts).map_err(|e| match e {
                Error::PromptNotUnderstood { reason } => {
                    Error::not_understood(format!("in \"{}\": {reason}", text.join(" ")))
                }
                other => other,
            })?;
        }
    }
    if !unplaced.is_empty() {
        let words: Vec<String> = unplaced.iter().map(|w| format!("\"{w}\"")).collect();
        return Err(Error::not_understood(format!(
            "could not place {} in a billing rule; rephrase with prices, periods, shipments or deliveries, weekdays, tiers, minimums, caps or returns",
            words.join(", ")
        )));
    }
    builder.finish()
}

#[cfg(test)]
mod tests;
