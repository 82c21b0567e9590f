//! The documents of stored invoices and credit notes (docs/invoice-documents.md): one
//! self-contained HTML page each, in the account's locale, the page every other surface shows.
//! The answer is the HTML itself, not JSON.

use std::ffi::c_char;

use ai_billing::api::BillingEngine;

use super::{ai_billing_engine, call_text};
use crate::error::ai_billing_result;

/// The HTML document of a stored invoice, in its account's locale. Request:
/// `{"account_id":"acct_1","invoice_id":"in_sub_1_20260101"}`. An unknown account or invoice
/// gives `AI_BILLING_NOT_FOUND` naming it. Answers the page (`<!DOCTYPE html>...`): print it in
/// a browser for a PDF.
///
/// - `engine`: must not be NULL; borrowed. A closed engine gives `AI_BILLING_CLOSED`.
/// - `request_json`: a JSON object with snake_case keys; must not be NULL; borrowed for the
///   call only. A malformed request gives `AI_BILLING_INVALID_INPUT` naming the field's path.
/// - `out_html`: must not be NULL. On `AI_BILLING_OK`, `*out_html` is set to a new string the
///   caller frees with `ai_billing_string_free`; on any error it is not written.
///
/// # Safety
/// `engine` is NULL or a handle from `ai_billing_engine_open` that was not freed;
/// `request_json` is NULL or a NUL-terminated string; `out_html` is NULL or valid for writing
/// one pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ai_billing_render_invoice(
    engine: *const ai_billing_engine,
    request_json: *const c_char,
    out_html: *mut *mut c_char,
) -> ai_billing_result {
    // SAFETY: this function's contract is `call_text`'s.
    unsafe {
        call_text(
            engine,
            request_json,
            out_html,
            BillingEngine::render_invoice,
        )
    }
}

/// The HTML document of a stored credit note, in its account's locale. Request:
/// `{"account_id":"acct_1","credit_note_id":"cn_sub_1_1"}`. An unknown account or credit note
/// gives `AI_BILLING_NOT_FOUND` naming it. Answers the page (`<!DOCTYPE html>...`).
///
/// - `engine`: must not be NULL; borrowed. A closed engine gives `AI_BILLING_CLOSED`.
/// - `request_json`: a JSON object with snake_case keys; must not be NULL; borrowed for the
///   call only. A malformed request gives `AI_BILLING_INVALID_INPUT` naming the field's path.
/// - `out_html`: must not be NULL. On `AI_BILLING_OK`, `*out_html` is set to a new string the
///   caller frees with `ai_billing_string_free`; on any error it is not written.
///
/// # Safety
/// `engine` is NULL or a handle from `ai_billing_engine_open` that was not freed;
/// `request_json` is NULL or a NUL-terminated string; `out_html` is NULL or valid for writing
/// one pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ai_billing_render_credit_note(
    engine: *const ai_billing_engine,
    request_json: *const c_char,
    out_html: *mut *mut c_char,
) -> ai_billing_result {
    // SAFETY: this function's contract is `call_text`'s.
    unsafe {
        call_text(
            engine,
            request_json,
            out_html,
            BillingEngine::render_credit_note,
        )
    }
}
