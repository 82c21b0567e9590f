//! Errors as JavaScript sees them, rendered in one place.
//!
//! Every failure of the addon is a JavaScript `Error` whose `code` is the core's stable code
//! ([`ai_billing::ErrorCode::as_str`]: `PROMPT_NOT_UNDERSTOOD`, `PLAN_NOT_AVAILABLE`,
//! `INVALID_INPUT`, `INVALID_PAYLOAD`, `INTERNAL`, `NOT_FOUND`, `CONFLICT`, `CONTENDED`, `MODEL`,
//! `STORAGE`, `CLOSED`) and whose `message` is the error with its cause chain
//! ([`ai_billing::api::error_message`]). The core never puts an API key or a password in an
//! error, so neither does this.

use ai_billing::api;
use napi::{Env, JsError};

/// `error` as the JavaScript `Error` a Promise rejects with: `code` and `message` set.
///
/// Must run on the JavaScript thread (it creates the object there); the future's own error
/// travels to it as an [`ai_billing::Error`].
pub fn to_js(env: &Env, error: &ai_billing::Error) -> napi::Error {
    let error = napi::Error::new(error.code().as_str(), api::error_message(error));
    // napi_create_error sets `code` from the status string and `message` from the reason;
    // rejecting with an error that references this object keeps both as they are.
    napi::Error::from(JsError::from(error).into_unknown(*env))
}
