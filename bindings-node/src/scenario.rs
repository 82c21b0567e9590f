//! `previewScenario`: a scenario billed as `ai-billing preview --json` bills it, with the
//! documents of its invoices and credit notes when asked.

use ai_billing::api::PreviewScenarioOptions;
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
/// With `{ documents: true }` the report also has `documents: { invoices, credit_notes }`: the
/// HTML document of each invoice and credit note, in order, in the scenario account's locale
/// (what `ai-billing preview --html DIR` writes and the plan builder's preview shows).
///
/// `scenario` is the scenario object or its JSON text (a scenario file's content). Rejects with
/// `INVALID_INPUT` naming the field for a malformed scenario and `PROMPT_NOT_UNDERSTOOD` when the
/// plan's prompt is refused.
#[napi(
    ts_args_type = "scenario: Scenario | string, options?: PreviewScenarioOptions | undefined | null",
    ts_return_type = "Promise<PreviewReport | DocumentedPreview>"
)]
pub fn preview_scenario(
    env: &Env,
    scenario: Unknown<'_>,
    options: Option<Unknown<'_>>,
) -> napi::Result<AsyncBlock<Value>> {
    let json = value::json("scenario", scenario).and_then(|scenario| match scenario {
        Value::String(text) => Ok(text),
        object @ Value::Object(_) => Ok(object.to_string()),
        _ => Err(Error::invalid(
            "scenario",
            "expected a scenario object or its JSON text",
        )),
    });
    let options = value::options::<PreviewScenarioOptions>("options", options);
    promise::spawn(env, async move {
        let json = json?;
        if options?.documents {
            value::answer(&api::preview_scenario_documents(&json).await?)
        } else {
            value::answer(&api::preview_scenario(&json).await?)
        }
    })
}
