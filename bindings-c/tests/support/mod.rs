//! What the C ABI tests share: the calling thread's last error, as Rust strings.

use std::ffi::CStr;

use ai_billing_c::{ai_billing_last_error, ai_billing_last_error_code};

/// The message of this thread's last error (empty after a success).
pub fn last_error() -> String {
    // SAFETY: the library returns a NUL-terminated string, valid until this thread's next call.
    unsafe { CStr::from_ptr(ai_billing_last_error()) }
        .to_string_lossy()
        .into_owned()
}

/// The code of this thread's last error (`OK` after a success).
pub fn last_error_code() -> String {
    // SAFETY: a static NUL-terminated string.
    unsafe { CStr::from_ptr(ai_billing_last_error_code()) }
        .to_string_lossy()
        .into_owned()
}
