//! Invoice corrections (billing-conventions.md, "Invoice corrections"): release a held invoice,
//! void an invoice (and bill its period again), and manual credit notes. One JSON-in, JSON-out
//! function each, made as the engine's other operations are (`call`).
//!
//! Every correction is audited with its `actor` and its `reason` (required), and either is
//! written whole or writes nothing.

use std::ffi::c_char;

use ai_billing::api::BillingEngine;

use super::{ai_billing_engine, call};
use crate::error::ai_billing_result;

/// Releases a held invoice: it is issued as the program computed it. Request:
/// `{"account_id":"acct_1","invoice_id":"in_sub_1_20260101","reason":"checked","actor":"ops"}`
/// (`actor` defaults to `api`). An invoice that is not held gives `AI_BILLING_CONFLICT` naming
/// its status, so releasing twice issues it once; an unknown invoice `AI_BILLING_NOT_FOUND`.
/// Answers the invoice, now `"status":"open"`.
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
pub unsafe extern "C" fn ai_billing_release_invoice(
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
            BillingEngine::release_invoice,
        )
    }
}

/// Voids a held or open invoice, its revenue reversed; with `"rebill":true` its period is billed
/// again from the current data (a new invoice, a new id: `{id}_r1`). Request:
/// `{"account_id":"acct_1","invoice_id":"in_sub_1_20260101","rebill":true,"reason":"wrong data",
/// "actor":"ops"}`. An invoice with credit notes against it, one already void, or a re-billing
/// of a period before the one billed last gives `AI_BILLING_CONFLICT`. Answers
/// `{"invoice":{...},"revenue_reversed":[...],"rebilled":{...}}` (`rebilled` absent without
/// `rebill`).
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
pub unsafe extern "C" fn ai_billing_void_invoice(
    engine: *const ai_billing_engine,
    request_json: *const c_char,
    out_json: *mut *mut c_char,
) -> ai_billing_result {
    // SAFETY: this function's contract is `call`'s.
    unsafe { call(engine, request_json, out_json, BillingEngine::void_invoice) }
}

/// A manual credit note on an open invoice, for chosen lines (numbered from 1, each all it has
/// left or an `amount` of it) or an `amount`, in cents before tax, never more than is left to
/// credit. Request: `{"account_id":"acct_1","invoice_id":"in_sub_1_20260101",
/// "lines":[{"line":1,"amount":500}],"reason":"missed delivery"}` or `{..., "amount":500, ...}`.
/// More than is left gives `AI_BILLING_INVALID_INPUT` naming what is left; a held or void
/// invoice `AI_BILLING_CONFLICT`. Answers the credit note.
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
pub unsafe extern "C" fn ai_billing_credit_invoice(
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
            BillingEngine::credit_invoice,
        )
    }
}
