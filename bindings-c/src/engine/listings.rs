//! Listings in pages: an account's subscriptions and customers, each page ending with the
//! opaque `next_cursor` of the next (`null` on the last). One JSON-in, JSON-out function each,
//! made as the engine's other operations are (`call`). Invoices and credit notes are listed by
//! `ai_billing_list_invoices` and `ai_billing_list_credit_notes`, the same way.

use std::ffi::c_char;

use ai_billing::api::BillingEngine;

use super::{ai_billing_engine, call};
use crate::error::ai_billing_result;

/// A page of an account's subscriptions, oldest (or newest) first. Request:
/// `{"account_id":"acct_1","status":"active","plan_id":"plan_1","customer_id":"cus_1",
/// "order":"desc","limit":100,"cursor":"..."}` (only `account_id` is required; `limit` 1 to 500,
/// 100 by default). Answers `{"data":[subscriptions...],"next_cursor":"..."}`.
///
/// - `engine`: must not be NULL; borrowed. A closed engine gives `AI_BILLING_CLOSED`.
/// - `request_json`: a JSON object with snake_case keys; must not be NULL; borrowed for the
///   call only. A malformed request or cursor gives `AI_BILLING_INVALID_INPUT` naming the field.
/// - `out_json`: must not be NULL. On `AI_BILLING_OK`, `*out_json` is set to a new string the
///   caller frees with `ai_billing_string_free`; on any error it is not written.
///
/// # Safety
/// `engine` is NULL or a handle from `ai_billing_engine_open` that was not freed;
/// `request_json` is NULL or a NUL-terminated string; `out_json` is NULL or valid for writing
/// one pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ai_billing_list_subscriptions(
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
            BillingEngine::list_subscriptions,
        )
    }
}

/// A page of an account's customers, by id. Request: `{"account_id":"acct_1","order":"asc",
/// "limit":100,"cursor":"..."}` (only `account_id` is required). Answers
/// `{"data":[customers...],"next_cursor":"..."}`.
///
/// - `engine`: must not be NULL; borrowed. A closed engine gives `AI_BILLING_CLOSED`.
/// - `request_json`: a JSON object with snake_case keys; must not be NULL; borrowed for the
///   call only. A malformed request or cursor gives `AI_BILLING_INVALID_INPUT` naming the field.
/// - `out_json`: must not be NULL. On `AI_BILLING_OK`, `*out_json` is set to a new string the
///   caller frees with `ai_billing_string_free`; on any error it is not written.
///
/// # Safety
/// `engine` is NULL or a handle from `ai_billing_engine_open` that was not freed;
/// `request_json` is NULL or a NUL-terminated string; `out_json` is NULL or valid for writing
/// one pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ai_billing_list_customers(
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
            BillingEngine::list_customers,
        )
    }
}
