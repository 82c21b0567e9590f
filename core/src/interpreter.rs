//! The offline rules interpreter: plan prompt -> [`PricingProgram`], with no network and no key.
//!
//! A real front end for billing language: a lexer for money, numbers (in digits or words),
//! percentages, weekdays, periods and ordinals; a grammar of billing clauses; and an assembler that
//! attaches clauses to each other. Every word that carries meaning is consumed into the program, or
//! the prompt is refused naming the words that could not be placed. It never guesses.

use crate::calendar::BillingInterval;
use crate::error::Result;
use crate::money::Currency;
use crate::pricing::PricingProgram;

/// What the interpreter knows of the plan a prompt belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlanContext {
    /// The plan's currency: amounts written without one are in it; others must match it.
    pub currency: Currency,
    /// The plan's billing interval: the prompt's periods must agree with it.
    pub interval: BillingInterval,
}

/// Interprets `prompt` for a plan described by `context`; a prompt that is vague, contradictory or
/// outside the billing language is [`crate::Error::PromptNotUnderstood`] with what to rephrase.
pub fn interpret(prompt: &str, context: &PlanContext) -> Result<PricingProgram> {
    todo!("{prompt}{context:?}")
}
