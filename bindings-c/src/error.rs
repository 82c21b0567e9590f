//! The result codes, and each thread's last error.

use std::cell::RefCell;
use std::ffi::{CStr, CString, c_char};

use ai_billing::{Error, ErrorCode, api};

/// The result of every call that can fail. `AI_BILLING_OK` (0) is success; every other value
/// is an error whose message `ai_billing_last_error` gives.
///
/// The numbers are part of the ABI and never change: a new code gets the next free number.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[allow(non_camel_case_types)]
pub enum ai_billing_result {
    /// The call succeeded; its out-parameters are written.
    AI_BILLING_OK = 0,
    /// The plan prompt does not say how to bill (rephrase it); nothing was saved or billed.
    AI_BILLING_PROMPT_NOT_UNDERSTOOD = 1,
    /// AI plans exist only for abstracted accounts.
    AI_BILLING_PLAN_NOT_AVAILABLE = 2,
    /// An input value was refused: bad JSON, a field (the message names its path), or a string
    /// that is not UTF-8 (the message names the byte offset).
    AI_BILLING_INVALID_INPUT = 3,
    /// A model's invoice payload failed validation.
    AI_BILLING_INVALID_PAYLOAD = 4,
    /// Something the request names does not exist.
    AI_BILLING_NOT_FOUND = 5,
    /// The same thing kept changing concurrently; nothing was written. Retrying is safe.
    AI_BILLING_CONTENDED = 6,
    /// The language model could not be reached or kept failing.
    AI_BILLING_MODEL = 7,
    /// The database failed.
    AI_BILLING_STORAGE = 8,
    /// The engine was closed with `ai_billing_engine_close`.
    AI_BILLING_CLOSED = 9,
    /// An internal consistency failure (currency mismatch, overflow).
    AI_BILLING_INTERNAL = 10,
    /// A pointer argument that must not be NULL was NULL.
    AI_BILLING_NULL_ARGUMENT = 11,
    /// The library panicked (a bug: please report it with the message). The call had no effect
    /// on the caller's out-parameters; an engine it used may be left in an unknown state.
    AI_BILLING_PANIC = 12,
    /// What the call would create already exists (an id, an invoice for the period), or it
    /// changed since the change was computed; nothing was written. Read it before writing again:
    /// a retry of a call that already succeeded ends here.
    AI_BILLING_CONFLICT = 13,
}

impl ai_billing_result {
    /// The code's name as `ai_billing_last_error_code` gives it: the core's spelling
    /// (`PROMPT_NOT_UNDERSTOOD`), and `""` for `AI_BILLING_OK`.
    pub fn name(self) -> &'static CStr {
        match self {
            ai_billing_result::AI_BILLING_OK => c"",
            ai_billing_result::AI_BILLING_PROMPT_NOT_UNDERSTOOD => c"PROMPT_NOT_UNDERSTOOD",
            ai_billing_result::AI_BILLING_PLAN_NOT_AVAILABLE => c"PLAN_NOT_AVAILABLE",
            ai_billing_result::AI_BILLING_INVALID_INPUT => c"INVALID_INPUT",
            ai_billing_result::AI_BILLING_INVALID_PAYLOAD => c"INVALID_PAYLOAD",
            ai_billing_result::AI_BILLING_NOT_FOUND => c"NOT_FOUND",
            ai_billing_result::AI_BILLING_CONTENDED => c"CONTENDED",
            ai_billing_result::AI_BILLING_MODEL => c"MODEL",
            ai_billing_result::AI_BILLING_STORAGE => c"STORAGE",
            ai_billing_result::AI_BILLING_CLOSED => c"CLOSED",
            ai_billing_result::AI_BILLING_INTERNAL => c"INTERNAL",
            ai_billing_result::AI_BILLING_NULL_ARGUMENT => c"NULL_ARGUMENT",
            ai_billing_result::AI_BILLING_PANIC => c"PANIC",
            ai_billing_result::AI_BILLING_CONFLICT => c"CONFLICT",
        }
    }
}

impl From<ErrorCode> for ai_billing_result {
    fn from(code: ErrorCode) -> Self {
        match code {
            ErrorCode::PromptNotUnderstood => ai_billing_result::AI_BILLING_PROMPT_NOT_UNDERSTOOD,
            ErrorCode::PlanNotAvailable => ai_billing_result::AI_BILLING_PLAN_NOT_AVAILABLE,
            ErrorCode::InvalidInput => ai_billing_result::AI_BILLING_INVALID_INPUT,
            ErrorCode::InvalidPayload => ai_billing_result::AI_BILLING_INVALID_PAYLOAD,
            ErrorCode::NotFound => ai_billing_result::AI_BILLING_NOT_FOUND,
            ErrorCode::Conflict => ai_billing_result::AI_BILLING_CONFLICT,
            ErrorCode::Contended => ai_billing_result::AI_BILLING_CONTENDED,
            ErrorCode::Model => ai_billing_result::AI_BILLING_MODEL,
            ErrorCode::Storage => ai_billing_result::AI_BILLING_STORAGE,
            ErrorCode::Closed => ai_billing_result::AI_BILLING_CLOSED,
            ErrorCode::Internal => ai_billing_result::AI_BILLING_INTERNAL,
            // ErrorCode is non-exhaustive: a code added to the core before this enum learns it
            // is still an error, never a success.
            _ => ai_billing_result::AI_BILLING_INTERNAL,
        }
    }
}

/// Why a call failed: its code and the message `ai_billing_last_error` gives. The one place an
/// error is rendered for C.
#[derive(Debug)]
pub(crate) struct Failure {
    pub(crate) code: ai_billing_result,
    pub(crate) message: String,
}

impl Failure {
    /// A required pointer argument was NULL.
    pub(crate) fn null(argument: &str) -> Self {
        Failure {
            code: ai_billing_result::AI_BILLING_NULL_ARGUMENT,
            message: format!("{argument} is NULL"),
        }
    }
}

impl From<Error> for Failure {
    fn from(error: Error) -> Self {
        Failure {
            code: error.code().into(),
            message: api::error_message(&error),
        }
    }
}

/// This thread's last failure: what `ai_billing_last_error` and `ai_billing_last_error_code`
/// point into until the thread's next call that returns an `ai_billing_result`.
struct LastError {
    code: ai_billing_result,
    message: CString,
}

thread_local! {
    static LAST_ERROR: RefCell<Option<LastError>> = const { RefCell::new(None) };
}

/// Records `failure` as this thread's last error and gives its code.
pub(crate) fn set_last_error(failure: Failure) -> ai_billing_result {
    // A message can hold a NUL only if an input did (a JSON string with \u0000): spell it out
    // rather than cut the message there.
    let message =
        CString::new(failure.message.replace('\0', "\\u0000")).expect("every NUL was replaced");
    let code = failure.code;
    LAST_ERROR.with(|last| *last.borrow_mut() = Some(LastError { code, message }));
    code
}

/// Forgets this thread's last error (the call succeeded).
pub(crate) fn clear_last_error() {
    // Dropping the message outside the borrow: a `with` during thread teardown is harmless.
    let _ = LAST_ERROR.try_with(|last| last.borrow_mut().take());
}

/// The message of this thread's last failed call, with its cause chain: for example
/// `the plan prompt was not understood: ...`.
///
/// Returns the empty string `""` (never NULL) when the thread's last call that returns an
/// `ai_billing_result` succeeded, or when it made none. The string is owned by the library:
/// do not free it. It stays valid until this thread's next call of a function that returns an
/// `ai_billing_result`; copy it to keep it longer. Calls of `ai_billing_last_error`,
/// `ai_billing_last_error_code`, `ai_billing_string_free`, `ai_billing_engine_free` and
/// `ai_billing_version` do not change it.
#[unsafe(no_mangle)]
pub extern "C" fn ai_billing_last_error() -> *const c_char {
    crate::panic::boundary_or(c"".as_ptr(), || {
        LAST_ERROR.with(|last| match &*last.borrow() {
            Some(error) => error.message.as_ptr(),
            None => c"".as_ptr(),
        })
    })
}

/// The stable code of this thread's last failed call, as a string to branch or log on:
/// `PROMPT_NOT_UNDERSTOOD`, `PLAN_NOT_AVAILABLE`, `INVALID_INPUT`, `INVALID_PAYLOAD`,
/// `NOT_FOUND`, `CONTENDED`, `MODEL`, `STORAGE`, `CLOSED`, `INTERNAL`, `NULL_ARGUMENT`, `PANIC`
/// or `CONFLICT` (the `ai_billing_result` name without `AI_BILLING_`).
///
/// Returns `""` (never NULL) when the thread's last call succeeded. The string is static: do not
/// free it; it stays valid for the life of the process.
#[unsafe(no_mangle)]
pub extern "C" fn ai_billing_last_error_code() -> *const c_char {
    crate::panic::boundary_or(c"".as_ptr(), || {
        LAST_ERROR.with(|last| match &*last.borrow() {
            Some(error) => error.code.name().as_ptr(),
            None => c"".as_ptr(),
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_conflict_has_its_own_code_after_the_others() {
        let failure = Failure::from(Error::conflict("subscription.id", "sub_a already exists"));
        assert_eq!(failure.code, ai_billing_result::AI_BILLING_CONFLICT);
        assert_eq!(
            failure.code as i32, 13,
            "a new code takes the next free number"
        );
        assert_eq!(failure.code.name(), c"CONFLICT");
        assert_eq!(ai_billing_result::AI_BILLING_PANIC as i32, 12);
        assert_eq!(
            ai_billing_result::from(ErrorCode::InvalidInput),
            ai_billing_result::AI_BILLING_INVALID_INPUT
        );
    }
}
