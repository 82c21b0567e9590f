//! `previewScenario`: a scenario billed as `ai-billing preview --json` bills it.

use ai_billing::{Error, api};
use napi::Env;
use napi::bindgen_prelude::{AsyncBlock, Unknown};
use napi_derive::napi;
use serde_json::Value;

use crate::{promise, value};

/// Bills a scenario (an account, a plan, a subscription, the number of periods, an optional tax
/// rate, shipments and returns) on a throwaway SQLite database, with the offline interpreter,
/// and gives the report `ai-billing preview --json` prints: the invoice timing, the program, its
/// reading and every invoice, amounts as decimal strings.
///
/// `scenario` is the scenario object or its JSON text (a scenario file's content). Rejects with
/// `INVALID_INPUT` naming the field for a malformed scenario and `PROMPT_NOT_UNDERSTOOD` when the
/// plan's prompt is refused.
#[napi(
    ts_args_type = "scenario: Scenario | string",
    ts_return_type = "Promise<PreviewReport>"
)]
pub fn preview_scenario(env: &Env, scenario: Unknown<'_>) -> napi::Result<AsyncBlock<Value>> {
    let json = value::json("scenario", scenario).and_then(|scenario| match scenario {
        Value::String(text) => Ok(text),
        object @ Value::Object(_) => Ok(object.to_string()),
        _ => Err(Error::invalid(
            "scenario",
            "expected a scenario object or its JSON text",
        )),
    });
    promise::answer(env, async move { api::preview_scenario(&json?).await })
}
