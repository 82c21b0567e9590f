//! The panic boundary every export runs inside: a panic never unwinds into C.

use std::any::Any;
use std::panic::{AssertUnwindSafe, catch_unwind};

use crate::error::{Failure, ai_billing_result, clear_last_error, set_last_error};

/// Runs `call`, records its outcome as this thread's last error, and gives its result code. A
/// panic becomes `AI_BILLING_PANIC` with the panic's message.
pub(crate) fn boundary(call: impl FnOnce() -> Result<(), Failure>) -> ai_billing_result {
    // AssertUnwindSafe: after a panic nothing the closure touched is used again by this call;
    // an engine it was using may be in an unknown state, which AI_BILLING_PANIC documents.
    match catch_unwind(AssertUnwindSafe(call)) {
        Ok(Ok(())) => {
            clear_last_error();
            ai_billing_result::AI_BILLING_OK
        }
        Ok(Err(failure)) => set_last_error(failure),
        Err(payload) => set_last_error(Failure {
            code: ai_billing_result::AI_BILLING_PANIC,
            message: format!(
                "ai-billing panicked (a bug; please report it): {}",
                panic_message(payload.as_ref())
            ),
        }),
    }
}

/// Runs `call` for an export that returns no `ai_billing_result` (a free, a getter): a panic
/// gives `fallback` and leaves the last error as it was.
pub(crate) fn boundary_or<T>(fallback: T, call: impl FnOnce() -> T) -> T {
    catch_unwind(AssertUnwindSafe(call)).unwrap_or(fallback)
}

fn panic_message(payload: &(dyn Any + Send)) -> &str {
    if let Some(text) = payload.downcast_ref::<&'static str>() {
        text
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text
    } else {
        "no message"
    }
}
