//! `usageQueries`: the predefined usage queries a plan's `usage_query` can name.

use ai_billing::api;
use napi::Env;
use napi_derive::napi;
use serde_json::Value;

use crate::{error, value};

/// The predefined usage queries (the only usage sources a plan can name), each with what it
/// counts, the databases it runs on, and whether plans use it when they name none. For a plan
/// form's usage source selector.
#[napi(ts_return_type = "UsageQuery[]")]
pub fn usage_queries(env: &Env) -> napi::Result<Value> {
    value::answer(&api::usage_queries()).map_err(|e| error::to_js(env, &e))
}
