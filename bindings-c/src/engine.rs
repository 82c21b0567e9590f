//! The engine handle: `ai_billing_engine_open`/`_close`/`_free` and one JSON-in, JSON-out
//! function per operation of [`ai_billing::api::BillingEngine`].

use std::ffi::c_char;

use ai_billing::api::{self, BillingEngine, EngineOptions};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::runtime::Runtime;

use crate::error::{Failure, ai_billing_result};
use crate::ffi::{OutString, read_str};
use crate::panic::{boundary, boundary_or};

// After this module's calls in the header: the changes to a subscription, then the invoice
// corrections.
mod changes;
mod corrections;
mod documents;
mod listings;
pub use changes::*;
pub use corrections::*;
pub use documents::*;
pub use listings::*;
// Then the platform's events: the feed and webhooks.
mod events;
pub use events::*;

/// An open billing engine: a database, an interpreter, a billing mode, and the async runtime
/// its calls run on. Opaque: created by `ai_billing_engine_open`, freed by
/// `ai_billing_engine_free`.
///
/// One handle may be used from several threads at once. After `ai_billing_engine_close` the
/// handle stays valid memory: every call on it returns `AI_BILLING_CLOSED` until it is freed.
#[allow(non_camel_case_types)]
pub struct ai_billing_engine {
    // Field order is drop order: the engine (and its connection pool) goes before the runtime
    // its tasks run on.
    engine: BillingEngine,
    runtime: Runtime,
}

// The header promises that one handle may be used from several threads at once.
const _: () = {
    const fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<ai_billing_engine>();
};

impl ai_billing_engine {
    /// The handle behind `engine`, or `AI_BILLING_NULL_ARGUMENT`.
    ///
    /// # Safety
    /// `engine` is NULL or a handle from `ai_billing_engine_open` that was not freed, and stays
    /// so for `'a`.
    unsafe fn from_ptr<'a>(engine: *const ai_billing_engine) -> Result<&'a Self, Failure> {
        // SAFETY: NULL or a live handle, per this function's contract.
        unsafe { engine.as_ref() }.ok_or_else(|| Failure::null("engine"))
    }
}

/// Opens an engine: connects to the database (bringing its schema up to date) and sets up the
/// interpreter, billing mode, model, tax and audit shipping that the options ask for.
///
/// - `options_json`: must not be NULL. A JSON object with camelCase keys: `databaseUrl`
///   (required: `sqlite:///path/billing.db`, `sqlite::memory:` or `postgres://...`),
///   `interpreter` (`offline` by default, `openai`, `auto`), `mode` (`compiled` by default,
///   `agent`, `agent_checked`), `openai`, `opensearch`, `tax` (`{"rate":"0.0825"}` or
///   `{"rules":[...]}`), `concurrency`. Borrowed for the call only.
/// - `out_engine`: must not be NULL. On `AI_BILLING_OK`, `*out_engine` is set to a new handle
///   the caller owns and frees with `ai_billing_engine_free`; on any error it is not written.
///
/// # Safety
/// `options_json` is NULL or a NUL-terminated string; `out_engine` is NULL or valid for writing
/// one pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ai_billing_engine_open(
    options_json: *const c_char,
    out_engine: *mut *mut ai_billing_engine,
) -> ai_billing_result {
    boundary(|| {
        // SAFETY: the caller passes NULL or a NUL-terminated string, valid during the call.
        let json = unsafe { read_str(options_json, "options_json") }?;
        if out_engine.is_null() {
            return Err(Failure::null("out_engine"));
        }
        let options: EngineOptions = api::from_json("options", json)?;
        // A multi-thread runtime: the engine renews subscriptions side by side, and background
        // work (connection pools, HTTP connections) keeps running between calls.
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .thread_name("ai-billing")
            .build()
            .map_err(|e| Failure {
                code: ai_billing_result::AI_BILLING_INTERNAL,
                message: format!("cannot start the async runtime: {e}"),
            })?;
        let engine = runtime.block_on(BillingEngine::open(&options))?;
        let handle = Box::new(ai_billing_engine { engine, runtime });
        // SAFETY: not NULL (checked above) and writable, per the caller's contract.
        unsafe { *out_engine = Box::into_raw(handle) };
        Ok(())
    })
}

/// Closes the engine's database connections. Every later call on the handle returns
/// `AI_BILLING_CLOSED`; closing again returns `AI_BILLING_OK`. The handle must still be freed
/// with `ai_billing_engine_free`.
///
/// `engine` must not be NULL (`AI_BILLING_NULL_ARGUMENT`). It is borrowed, not freed.
///
/// # Safety
/// `engine` is NULL or a handle from `ai_billing_engine_open` that was not freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ai_billing_engine_close(
    engine: *mut ai_billing_engine,
) -> ai_billing_result {
    boundary(|| {
        // SAFETY: NULL or a live handle, per the caller's contract.
        let handle = unsafe { ai_billing_engine::from_ptr(engine) }?;
        handle.runtime.block_on(handle.engine.close())?;
        Ok(())
    })
}

/// Frees the handle, closing the engine first if it is open, and stops its runtime. NULL is a
/// no-op. The handle must not be used afterwards, nor be in use by another thread meanwhile.
///
/// # Safety
/// `engine` is NULL or a handle from `ai_billing_engine_open` that was not freed yet.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ai_billing_engine_free(engine: *mut ai_billing_engine) {
    boundary_or((), || {
        if engine.is_null() {
            return;
        }
        // SAFETY: a live handle from `Box::into_raw` in `ai_billing_engine_open`, freed once and
        // not in use elsewhere, per the caller's contract.
        let handle = unsafe { Box::from_raw(engine) };
        let ai_billing_engine { engine, runtime } = *handle;
        // A failure to close cannot be reported from here; the connections go with the engine.
        let _ = runtime.block_on(engine.close());
        {
            // The pool may spawn its last tasks as it drops: inside the runtime's context.
            let _context = runtime.enter();
            drop(engine);
        }
        drop(runtime);
    })
}

/// One operation on the handle: checks the pointers, parses `request_json` as a `Req`, calls
/// `operation` on the engine's runtime and writes its answer as JSON to `out_json`.
///
/// # Safety
/// As every operation's export: `engine` is NULL or a live handle, `request_json` is NULL or a
/// NUL-terminated string, `out_json` is NULL or valid for writing one pointer.
unsafe fn call<Req, Resp>(
    engine: *const ai_billing_engine,
    request_json: *const c_char,
    out_json: *mut *mut c_char,
    operation: impl AsyncFnOnce(&BillingEngine, &Req) -> ai_billing::Result<Resp>,
) -> ai_billing_result
where
    Req: DeserializeOwned,
    Resp: Serialize,
{
    let write = |out: OutString, answer: &Resp| {
        // SAFETY: `out_json` is valid for writing one pointer, per the caller's contract.
        unsafe { out.write_json(answer) }
    };
    // SAFETY: this function's contract is `call_with`'s.
    unsafe { call_with(engine, request_json, out_json, operation, write) }
}

/// As [`call`], for an operation that answers text to hand over as it is (a document's HTML),
/// not as JSON.
///
/// # Safety
/// As [`call`].
unsafe fn call_text<Req>(
    engine: *const ai_billing_engine,
    request_json: *const c_char,
    out_text: *mut *mut c_char,
    operation: impl AsyncFnOnce(&BillingEngine, &Req) -> ai_billing::Result<String>,
) -> ai_billing_result
where
    Req: DeserializeOwned,
{
    let write = |out: OutString, answer: &String| {
        // SAFETY: `out_text` is valid for writing one pointer, per the caller's contract.
        unsafe { out.write_text(answer) }
    };
    // SAFETY: this function's contract is `call_with`'s.
    unsafe { call_with(engine, request_json, out_text, operation, write) }
}

/// The body of [`call`] and [`call_text`]: `write` hands the answer to the out-parameter.
///
/// # Safety
/// As [`call`].
unsafe fn call_with<Req, Resp>(
    engine: *const ai_billing_engine,
    request_json: *const c_char,
    out_json: *mut *mut c_char,
    operation: impl AsyncFnOnce(&BillingEngine, &Req) -> ai_billing::Result<Resp>,
    write: impl FnOnce(OutString, &Resp) -> Result<(), Failure>,
) -> ai_billing_result
where
    Req: DeserializeOwned,
{
    boundary(|| {
        // SAFETY: NULL or a live handle, per the caller's contract.
        let handle = unsafe { ai_billing_engine::from_ptr(engine) }?;
        // SAFETY: NULL or a NUL-terminated string, valid during the call.
        let json = unsafe { read_str(request_json, "request_json") }?;
        let out = OutString::new(out_json, "out_json")?;
        // A closed engine says so before the request is read.
        handle.engine.engine()?;
        let request: Req = api::from_json("request", json)?;
        let answer = handle
            .runtime
            .block_on(operation(&handle.engine, &request))?;
        write(out, &answer)
    })
}

/// Creates or updates an account. Request: `{"account":{"id":"acct_1","abstracted":true,
/// "timezone":"America/New_York"},"actor":"admin"}` (`actor` is optional). Answers the account.
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
pub unsafe extern "C" fn ai_billing_save_account(
    engine: *const ai_billing_engine,
    request_json: *const c_char,
    out_json: *mut *mut c_char,
) -> ai_billing_result {
    // SAFETY: this function's contract is `call`'s.
    unsafe { call(engine, request_json, out_json, BillingEngine::save_account) }
}

/// Creates or updates a customer of an existing account. Request:
/// `{"customer":{"account_id":"acct_1","id":"cus_1"}}`. Answers the customer.
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
pub unsafe extern "C" fn ai_billing_save_customer(
    engine: *const ai_billing_engine,
    request_json: *const c_char,
    out_json: *mut *mut c_char,
) -> ai_billing_result {
    // SAFETY: this function's contract is `call`'s.
    unsafe { call(engine, request_json, out_json, BillingEngine::save_customer) }
}

/// Creates a plan, or saves its next version. Request: `{"account_id":"acct_1","plan":{"id":"p1",
/// "type":"ai","currency":"USD","interval":"month","ai_prompt":"..."},"actor":"admin"}`.
/// An AI plan's prompt is interpreted now: a refused prompt saves nothing
/// (`AI_BILLING_PROMPT_NOT_UNDERSTOOD`), and an account that is not abstracted gives
/// `AI_BILLING_PLAN_NOT_AVAILABLE`. Answers the saved plan version with its program.
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
pub unsafe extern "C" fn ai_billing_create_plan(
    engine: *const ai_billing_engine,
    request_json: *const c_char,
    out_json: *mut *mut c_char,
) -> ai_billing_result {
    // SAFETY: this function's contract is `call`'s.
    unsafe { call(engine, request_json, out_json, BillingEngine::create_plan) }
}

/// A plan at a version. Request: `{"account_id":"acct_1","plan_id":"p1","version":null}` (the
/// latest when `version` is null). `AI_BILLING_NOT_FOUND` when there is none.
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
pub unsafe extern "C" fn ai_billing_get_plan(
    engine: *const ai_billing_engine,
    request_json: *const c_char,
    out_json: *mut *mut c_char,
) -> ai_billing_result {
    // SAFETY: this function's contract is `call`'s.
    unsafe { call(engine, request_json, out_json, BillingEngine::get_plan) }
}

/// A page of an account's plans, each at its latest version, in plan id order. Request:
/// `{"account_id":"acct_1","after":null,"limit":100}`. Answers `{"plans":[...],"next_after":"..."}`
/// (`next_after` is absent on the last page).
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
pub unsafe extern "C" fn ai_billing_list_plans(
    engine: *const ai_billing_engine,
    request_json: *const c_char,
    out_json: *mut *mut c_char,
) -> ai_billing_result {
    // SAFETY: this function's contract is `call`'s.
    unsafe { call(engine, request_json, out_json, BillingEngine::list_plans) }
}

/// Creates a subscription. Request: `{"account_id":"acct_1","id":"sub_1","customer_id":"cus_1",
/// "plan_id":"p1","quantity":1,"start_date":"2026-01-15","actor":"admin","request_id":"r1"}`
/// (`actor` and `request_id` optional). A plan billed in advance whose start has come is invoiced
/// now. Answers `{"subscription":{...},"invoice":{...}}` (`invoice` is null when nothing was
/// billed yet). Sent again with the same `request_id` (or, without one, the same `id`) and the
/// same body, it answers the first answer and writes nothing; another body gives
/// `AI_BILLING_CONFLICT`.
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
pub unsafe extern "C" fn ai_billing_create_subscription(
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
            BillingEngine::create_subscription,
        )
    }
}

/// A subscription. Request: `{"account_id":"acct_1","subscription_id":"sub_1"}`.
/// `AI_BILLING_NOT_FOUND` when there is none.
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
pub unsafe extern "C" fn ai_billing_get_subscription(
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
            BillingEngine::get_subscription,
        )
    }
}

/// Changes a subscription's quantity, with no renewal. Request:
/// `{"account_id":"acct_1","subscription_id":"sub_1","quantity":4,"proration":"prorate",
/// "effective":"immediately","actor":"ops"}` (only the first three are required). `proration`
/// `none` (the default): from the next invoice issued; `prorate`: from `effective`
/// (`immediately`, the default, or a local date `YYYY-MM-DD`, never before today), the days at
/// each quantity billed, a period already billed settled (a decrease is a credit note, listed by
/// `ai_billing_list_credit_notes`; an increase a line on the next invoice). Answers the
/// subscription.
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
pub unsafe extern "C" fn ai_billing_update_subscription(
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
            BillingEngine::update_subscription,
        )
    }
}

/// The invoice a subscription's next renewal would issue, from the usage so far; writes nothing.
/// Request: `{"account_id":"acct_1","subscription_id":"sub_1"}`. Answers the invoice.
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
pub unsafe extern "C" fn ai_billing_preview_next_invoice(
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
            BillingEngine::preview_next_invoice,
        )
    }
}

/// Bills everything due at or before `now` (RFC 3339; the current time when absent). Request:
/// `{"now":"2026-03-15T12:00:00Z"}`. Answers the run's report: `run_id`, `subscriptions`, `issued`,
/// `held`, `failed`, `failures`, and `audit` when the engine ships to OpenSearch.
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
pub unsafe extern "C" fn ai_billing_run_due(
    engine: *const ai_billing_engine,
    request_json: *const c_char,
    out_json: *mut *mut c_char,
) -> ai_billing_result {
    // SAFETY: this function's contract is `call`'s.
    unsafe { call(engine, request_json, out_json, BillingEngine::run_due) }
}

/// A page of an account's invoices, oldest (or newest) first. Request:
/// `{"account_id":"acct_1","subscription_id":"sub_1","customer_id":"cus_1","status":"open",
/// "issued_from":"2026-01-01","issued_to":"2026-03-31","order":"desc","limit":100,
/// "cursor":"..."}` (only `account_id` is required; `limit` 1 to 500, 100 by default). Answers
/// `{"data":[invoices...],"next_cursor":"..."}`: pass `next_cursor` as `cursor` for the next
/// page; it is `null` on the last.
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
pub unsafe extern "C" fn ai_billing_list_invoices(
    engine: *const ai_billing_engine,
    request_json: *const c_char,
    out_json: *mut *mut c_char,
) -> ai_billing_result {
    // SAFETY: this function's contract is `call`'s.
    unsafe { call(engine, request_json, out_json, BillingEngine::list_invoices) }
}
