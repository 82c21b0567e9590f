//! The platform's events (docs/events.md): the pull feed and webhook endpoints with their
//! delivery pump. One JSON-in, JSON-out function each, made as the engine's other operations
//! are (`call`).

use std::ffi::c_char;

use ai_billing::api::BillingEngine;
use serde::Deserialize;

use super::{ai_billing_engine, call};
use crate::error::ai_billing_result;

/// A request with no fields: `{}`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NoFields {}

/// [`BillingEngine::list_webhooks`], taking `{}` as every operation takes a request.
async fn list_webhooks(
    engine: &BillingEngine,
    _: &NoFields,
) -> ai_billing::Result<ai_billing::api::WebhookList> {
    engine.list_webhooks().await
}

/// A page of the platform's events, oldest first. Request: `{"after":"<next of an earlier
/// page>","limit":100,"types":["invoice.issued"],"account_id":"acct_1"}` (every key optional;
/// `{}` reads from the oldest). `limit` is 1 to 500 (default 100); a bad cursor, type or limit
/// gives `AI_BILLING_INVALID_INPUT`. Answers `{"events":[...],"next":"...","has_more":false}`;
/// each event's `id` is its idempotency key (docs/events.md).
///
/// - `engine`: must not be NULL; borrowed. A closed engine gives `AI_BILLING_CLOSED`.
/// - `request_json`: a JSON object with snake_case keys; must not be NULL; borrowed for the
///   call only. A malformed request gives `AI_BILLING_INVALID_INPUT` naming the field's path.
/// - `out_json`: must not be NULL. On `AI_BILLING_OK`, `*out_json` is set to a new string the
///   caller frees with `ai_billing_string_free`; on any error it is not written.
///
/// # Safety
/// `engine` is NULL or a handle from `ai_billing_engine_open` that was not freed;
/// `request_json` is NULL or a NUL-terminated string; `out_json` is NULL or valid for writing
/// one pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ai_billing_events(
    engine: *const ai_billing_engine,
    request_json: *const c_char,
    out_json: *mut *mut c_char,
) -> ai_billing_result {
    // SAFETY: this function's contract is `call`'s.
    unsafe { call(engine, request_json, out_json, BillingEngine::events) }
}

/// Adds a webhook endpoint. Request: `{"id":"we_1","url":"https://example.com/hooks",
/// "secret":"whsec_...","types":["invoice.issued"],"account_id":"acct_1","from":"now"}` (only
/// `id` and `url` are required; a fresh secret when none is given; `from`: `now` or `start`).
/// Answers `{"webhook":{...},"secret":"whsec_..."}`: the only answer that carries the secret.
/// A taken id gives `AI_BILLING_CONFLICT`.
///
/// - `engine`: must not be NULL; borrowed. A closed engine gives `AI_BILLING_CLOSED`.
/// - `request_json`: a JSON object with snake_case keys; must not be NULL; borrowed for the
///   call only. A malformed request gives `AI_BILLING_INVALID_INPUT` naming the field's path.
/// - `out_json`: must not be NULL. On `AI_BILLING_OK`, `*out_json` is set to a new string the
///   caller frees with `ai_billing_string_free`; on any error it is not written.
///
/// # Safety
/// `engine` is NULL or a handle from `ai_billing_engine_open` that was not freed;
/// `request_json` is NULL or a NUL-terminated string; `out_json` is NULL or valid for writing
/// one pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ai_billing_add_webhook(
    engine: *const ai_billing_engine,
    request_json: *const c_char,
    out_json: *mut *mut c_char,
) -> ai_billing_result {
    // SAFETY: this function's contract is `call`'s.
    unsafe { call(engine, request_json, out_json, BillingEngine::add_webhook) }
}

/// Every webhook endpoint with its delivery state, without secrets. Request: `{}`. Answers
/// `{"webhooks":[...]}`.
///
/// - `engine`: must not be NULL; borrowed. A closed engine gives `AI_BILLING_CLOSED`.
/// - `request_json`: a JSON object with snake_case keys; must not be NULL; borrowed for the
///   call only. A malformed request gives `AI_BILLING_INVALID_INPUT` naming the field's path.
/// - `out_json`: must not be NULL. On `AI_BILLING_OK`, `*out_json` is set to a new string the
///   caller frees with `ai_billing_string_free`; on any error it is not written.
///
/// # Safety
/// `engine` is NULL or a handle from `ai_billing_engine_open` that was not freed;
/// `request_json` is NULL or a NUL-terminated string; `out_json` is NULL or valid for writing
/// one pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ai_billing_list_webhooks(
    engine: *const ai_billing_engine,
    request_json: *const c_char,
    out_json: *mut *mut c_char,
) -> ai_billing_result {
    // SAFETY: this function's contract is `call`'s.
    unsafe { call(engine, request_json, out_json, list_webhooks) }
}

/// Enables a webhook endpoint: the events it missed are delivered by the next pump. Request:
/// `{"id":"we_1"}`. Answers the endpoint; an unknown id gives `AI_BILLING_NOT_FOUND`.
///
/// - `engine`: must not be NULL; borrowed. A closed engine gives `AI_BILLING_CLOSED`.
/// - `request_json`: a JSON object with snake_case keys; must not be NULL; borrowed for the
///   call only. A malformed request gives `AI_BILLING_INVALID_INPUT` naming the field's path.
/// - `out_json`: must not be NULL. On `AI_BILLING_OK`, `*out_json` is set to a new string the
///   caller frees with `ai_billing_string_free`; on any error it is not written.
///
/// # Safety
/// `engine` is NULL or a handle from `ai_billing_engine_open` that was not freed;
/// `request_json` is NULL or a NUL-terminated string; `out_json` is NULL or valid for writing
/// one pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ai_billing_enable_webhook(
    engine: *const ai_billing_engine,
    request_json: *const c_char,
    out_json: *mut *mut c_char,
) -> ai_billing_result {
    // SAFETY: this function's contract is `call`'s.
    unsafe {
        call(
            engine,
            request_json,
            out_json,
            BillingEngine::enable_webhook,
        )
    }
}

/// Disables a webhook endpoint; its events are kept for when it is enabled again. Request:
/// `{"id":"we_1"}`. Answers the endpoint; an unknown id gives `AI_BILLING_NOT_FOUND`.
///
/// - `engine`: must not be NULL; borrowed. A closed engine gives `AI_BILLING_CLOSED`.
/// - `request_json`: a JSON object with snake_case keys; must not be NULL; borrowed for the
///   call only. A malformed request gives `AI_BILLING_INVALID_INPUT` naming the field's path.
/// - `out_json`: must not be NULL. On `AI_BILLING_OK`, `*out_json` is set to a new string the
///   caller frees with `ai_billing_string_free`; on any error it is not written.
///
/// # Safety
/// `engine` is NULL or a handle from `ai_billing_engine_open` that was not freed;
/// `request_json` is NULL or a NUL-terminated string; `out_json` is NULL or valid for writing
/// one pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ai_billing_disable_webhook(
    engine: *const ai_billing_engine,
    request_json: *const c_char,
    out_json: *mut *mut c_char,
) -> ai_billing_result {
    // SAFETY: this function's contract is `call`'s.
    unsafe {
        call(
            engine,
            request_json,
            out_json,
            BillingEngine::disable_webhook,
        )
    }
}

/// Removes a webhook endpoint. Request: `{"id":"we_1"}`. Answers the endpoint removed; an
/// unknown id gives `AI_BILLING_NOT_FOUND`.
///
/// - `engine`: must not be NULL; borrowed. A closed engine gives `AI_BILLING_CLOSED`.
/// - `request_json`: a JSON object with snake_case keys; must not be NULL; borrowed for the
///   call only. A malformed request gives `AI_BILLING_INVALID_INPUT` naming the field's path.
/// - `out_json`: must not be NULL. On `AI_BILLING_OK`, `*out_json` is set to a new string the
///   caller frees with `ai_billing_string_free`; on any error it is not written.
///
/// # Safety
/// `engine` is NULL or a handle from `ai_billing_engine_open` that was not freed;
/// `request_json` is NULL or a NUL-terminated string; `out_json` is NULL or valid for writing
/// one pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ai_billing_remove_webhook(
    engine: *const ai_billing_engine,
    request_json: *const c_char,
    out_json: *mut *mut c_char,
) -> ai_billing_result {
    // SAFETY: this function's contract is `call`'s.
    unsafe {
        call(
            engine,
            request_json,
            out_json,
            BillingEngine::remove_webhook,
        )
    }
}

/// One pass of the webhook delivery pump: each enabled endpoint that is due gets its events, in
/// order, until caught up or a failure (which schedules a retry with backoff, or disables the
/// endpoint after `max_failures` in a row). Request: `{"max_events":100,"max_failures":10,
/// "timeout_ms":15000,"initial_backoff_ms":5000,"max_backoff_ms":3600000}` (every key
/// optional). Answers `{"endpoints":1,"delivered":3,"failed":0,"disabled":0,"waiting":0}`.
///
/// - `engine`: must not be NULL; borrowed. A closed engine gives `AI_BILLING_CLOSED`.
/// - `request_json`: a JSON object with snake_case keys; must not be NULL; borrowed for the
///   call only. A malformed request gives `AI_BILLING_INVALID_INPUT` naming the field's path.
/// - `out_json`: must not be NULL. On `AI_BILLING_OK`, `*out_json` is set to a new string the
///   caller frees with `ai_billing_string_free`; on any error it is not written.
///
/// # Safety
/// `engine` is NULL or a handle from `ai_billing_engine_open` that was not freed;
/// `request_json` is NULL or a NUL-terminated string; `out_json` is NULL or valid for writing
/// one pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ai_billing_deliver_webhooks(
    engine: *const ai_billing_engine,
    request_json: *const c_char,
    out_json: *mut *mut c_char,
) -> ai_billing_result {
    // SAFETY: this function's contract is `call`'s.
    unsafe {
        call(
            engine,
            request_json,
            out_json,
            BillingEngine::deliver_webhooks,
        )
    }
}
