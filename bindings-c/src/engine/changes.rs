//! The changes to a subscription (billing-conventions.md, "Subscription changes"): cancel,
//! withdraw a cancellation, pause, resume, change plan, and the credit notes they issue. One
//! JSON-in, JSON-out function each, made as the engine's other operations are (`call`).
//!
//! Every change first issues what the subscription owes up to now (billing runs come first),
//! then applies; its dates are local dates in the account's zone, never before today. Each
//! request takes an optional `"request_id"` (the platform's Idempotency-Key): sent again with
//! the same key and body, it answers the first answer and writes nothing; another body gives
//! `AI_BILLING_CONFLICT`.

use std::ffi::c_char;

use ai_billing::api::BillingEngine;

use super::{ai_billing_engine, call};
use crate::error::ai_billing_result;

/// Cancels a subscription. Request: `{"account_id":"acct_1","subscription_id":"sub_1",
/// "effective":"immediately","credit_unused":true,"actor":"ops","request_id":"r1"}` (only the
/// ids are required; a retry with the same `request_id` and body answers the first answer).
/// `effective`: `period_end` (the default: the current period is the last), `immediately` (the
/// next local midnight) or a local date `YYYY-MM-DD`; a date before today gives
/// `AI_BILLING_INVALID_INPUT` naming `cancel.effective`. The unserved days of a period billed in
/// advance are credited unless `credit_unused` is false. Answers `{"subscription":{...},
/// "credit_note":{...}}` (`credit_note` is null when nothing was credited).
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
pub unsafe extern "C" fn ai_billing_cancel_subscription(
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
            BillingEngine::cancel_subscription,
        )
    }
}

/// Withdraws a cancellation before it takes effect. Request: `{"account_id":"acct_1",
/// "subscription_id":"sub_1","actor":"ops"}`. No cancellation, or one that has taken effect,
/// gives `AI_BILLING_INVALID_INPUT`. Answers `{"subscription":{...},"credit_note":null}`.
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
pub unsafe extern "C" fn ai_billing_withdraw_cancel(
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
            BillingEngine::withdraw_cancel,
        )
    }
}

/// Pauses a subscription (a vacation hold). Request: `{"account_id":"acct_1",
/// "subscription_id":"sub_1","from":"2026-03-01","until":"2026-03-08","actor":"ops"}`: the local
/// days `from` .. `until - 1` are not served (`until` absent: until a resume). A pause overlapping
/// another gives `AI_BILLING_CONFLICT`; `from` before today gives `AI_BILLING_INVALID_INPUT`.
/// Answers `{"subscription":{...},"credit_note":{...}}` (a credit note when the days were
/// billed already, else null).
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
pub unsafe extern "C" fn ai_billing_pause_subscription(
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
            BillingEngine::pause_subscription,
        )
    }
}

/// Ends a pause. Request: `{"account_id":"acct_1","subscription_id":"sub_1","on":"2026-03-05",
/// "actor":"ops"}`: `on` is the first local day served again (the pause's own first day removes
/// it). Answers `{"subscription":{...},"credit_note":null}` (days served again that were credited
/// are billed on the next invoice).
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
pub unsafe extern "C" fn ai_billing_resume_subscription(
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
            BillingEngine::resume_subscription,
        )
    }
}

/// Moves a subscription to another saved plan. Request: `{"account_id":"acct_1",
/// "subscription_id":"sub_1","plan_id":"p2","effective":"period_end","actor":"ops"}`.
/// `effective`: `period_end` (the default: the new plan bills from the next period),
/// `immediately` or a local date (the old plan's billing ends there as an immediate
/// cancellation's would). A plan in another currency gives `AI_BILLING_INVALID_INPUT` naming
/// `plan.currency`. Answers `{"subscription":{...},"credit_note":{...}}` (`credit_note` null
/// when nothing was credited).
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
pub unsafe extern "C" fn ai_billing_change_plan(
    engine: *const ai_billing_engine,
    request_json: *const c_char,
    out_json: *mut *mut c_char,
) -> ai_billing_result {
    // SAFETY: this function's contract is `call`'s.
    unsafe { call(engine, request_json, out_json, BillingEngine::change_plan) }
}

/// A page of an account's credit notes, oldest (or newest) first. Request:
/// `{"account_id":"acct_1","subscription_id":"sub_1","customer_id":"cus_1","invoice_id":"...",
/// "issued_from":"2026-01-01","issued_to":"2026-03-31","order":"asc","limit":100,
/// "cursor":"..."}` (only `account_id` is required). Answers `{"data":[...],"next_cursor":...}`,
/// each credit note with `invoice_id` (the invoice it credits), `issue_date`, `reason`, and
/// `subtotal`, `tax`, `total` as decimal strings; `next_cursor` is `null` on the last page.
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
pub unsafe extern "C" fn ai_billing_list_credit_notes(
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
            BillingEngine::list_credit_notes,
        )
    }
}
