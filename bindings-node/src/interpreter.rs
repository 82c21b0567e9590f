//! `interpretPrompt`: what a plan prompt says, as the core reads it when an AI plan is saved.

use ai_billing::api::{self, InterpretOptions};
use napi::Env;
use napi::bindgen_prelude::{AsyncBlock, Unknown};
use napi_derive::napi;
use serde_json::Value;

use crate::{promise, value};

/// Reads `prompt` as an AI plan's prompt: the pricing program it compiles to, in plain English
/// too, and when its invoices are issued (`outcome: "understood"`), or why it was refused
/// (`outcome: "refused"`, nothing would be billed from it: rephrase).
///
/// `options` gives the plan's currency and interval (USD, every month by default) and who reads
/// the prompt: `offline` (default: no network, no key), `openai`, or `auto`. Rejects with
/// `INVALID_INPUT` for bad options and `MODEL` when the model cannot be reached.
#[napi(
    ts_args_type = "prompt: string, options?: InterpretOptions | undefined | null",
    ts_return_type = "Promise<Interpretation>"
)]
pub fn interpret_prompt(
    env: &Env,
    prompt: Unknown<'_>,
    options: Option<Unknown<'_>>,
) -> napi::Result<AsyncBlock<Value>> {
    let input = value::request::<String>("prompt", prompt).and_then(|prompt| {
        let options = value::options::<InterpretOptions>("options", options)?;
        Ok((prompt, options))
    });
    promise::answer(env, async move {
        let (prompt, options) = input?;
        api::interpret_prompt(&prompt, &options).await
    })
}
