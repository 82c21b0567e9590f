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

#[cfg(test)]
mod tests {
    use std::ffi::CStr;

    use super::*;
    use crate::error::{ai_billing_last_error, ai_billing_last_error_code};

    fn last_error() -> String {
        // SAFETY: the library's NUL-terminated last error, read before the next call.
        unsafe { CStr::from_ptr(ai_billing_last_error()) }
            .to_string_lossy()
            .into_owned()
    }

    #[test]
    fn a_panic_becomes_a_result_code() {
        let result = boundary(|| panic!("boom {}", 42));
        assert_eq!(result, ai_billing_result::AI_BILLING_PANIC);
        assert!(last_error().contains("boom 42"), "{}", last_error());
        // SAFETY: a static string.
        let code = unsafe { CStr::from_ptr(ai_billing_last_error_code()) };
        assert_eq!(code, c"PANIC");

        let result = boundary(|| std::panic::panic_any(7_u8));
        assert_eq!(result, ai_billing_result::AI_BILLING_PANIC);
        assert!(last_error().contains("no message"), "{}", last_error());

        assert_eq!(boundary(|| Ok(())), ai_billing_result::AI_BILLING_OK);
        assert_eq!(last_error(), "");
    }

    #[test]
    fn a_panic_inside_the_runtime_is_caught_too() {
        let result = boundary(|| {
            crate::ffi::block_on_once(async { panic!("in a future") })?;
            Ok(())
        });
        assert_eq!(result, ai_billing_result::AI_BILLING_PANIC);
        assert!(last_error().contains("in a future"), "{}", last_error());
    }

    #[test]
    fn a_getter_that_panics_gives_its_fallback() {
        assert_eq!(boundary_or(3, || panic!("getter")), 3);
    }

    #[test]
    fn a_nul_in_a_message_is_spelled_out() {
        let result = boundary(|| {
            Err(Failure {
                code: ai_billing_result::AI_BILLING_INVALID_INPUT,
                message: "bad \0 byte".to_owned(),
            })
        });
        assert_eq!(result, ai_billing_result::AI_BILLING_INVALID_INPUT);
        assert_eq!(last_error(), "bad \\u0000 byte");
    }
}
