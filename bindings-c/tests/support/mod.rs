//! What the C ABI tests share: the calling thread's last error, as Rust strings, and an engine
//! handle that calls an operation and checks that a failure writes nothing.
#![allow(dead_code)]

use std::ffi::{CStr, CString, c_char};
use std::ptr;

use ai_billing_c::ai_billing_result::AI_BILLING_OK;
use ai_billing_c::{
    ai_billing_engine, ai_billing_engine_free, ai_billing_engine_open, ai_billing_last_error,
    ai_billing_last_error_code, ai_billing_result, ai_billing_string_free,
};
use serde_json::Value;

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

/// An engine operation's export: `(engine, request_json, out) -> result`.
pub type EngineFn = unsafe extern "C" fn(
    *const ai_billing_engine,
    *const c_char,
    *mut *mut c_char,
) -> ai_billing_result;

/// What an out-parameter holds before a call: a failed call must leave it so.
pub fn sentinel() -> *mut c_char {
    ptr::dangling_mut::<c_char>()
}

/// An engine handle, freed when the test ends. Each test file adds the checks it needs (an
/// `impl Engine` of its own: the module is part of each test's crate).
pub struct Engine(pub *mut ai_billing_engine);

impl Engine {
    /// An engine opened with `options` (JSON).
    pub fn open(options: &CStr) -> Self {
        let mut engine = ptr::null_mut();
        // SAFETY: a NUL-terminated string and a writable out-parameter.
        let result = unsafe { ai_billing_engine_open(options.as_ptr(), &mut engine) };
        assert_eq!(result, AI_BILLING_OK, "{}", last_error());
        Engine(engine)
    }

    /// Calls `operation` with `request`: its result, and the text it answered when it
    /// succeeded (checking that a failure left the out-parameter alone).
    pub fn call_text(
        &self,
        operation: EngineFn,
        request: &Value,
    ) -> (ai_billing_result, Option<String>) {
        let request = CString::new(request.to_string()).unwrap();
        let mut out = sentinel();
        // SAFETY: a live handle, a NUL-terminated request and a writable out-parameter.
        let result = unsafe { operation(self.0, request.as_ptr(), &mut out) };
        if result != AI_BILLING_OK {
            assert_eq!(out, sentinel(), "an error wrote the out-parameter");
            return (result, None);
        }
        // SAFETY: a NUL-terminated string the library returned, freed once below.
        let text = unsafe { CStr::from_ptr(out) }.to_str().unwrap().to_owned();
        // SAFETY: returned by the library, not freed yet.
        unsafe { ai_billing_string_free(out) };
        (result, Some(text))
    }

    /// As [`Engine::call_text`], the answer read as JSON.
    pub fn call(&self, operation: EngineFn, request: &Value) -> (ai_billing_result, Option<Value>) {
        let (result, text) = self.call_text(operation, request);
        (
            result,
            text.map(|text| serde_json::from_str(&text).unwrap()),
        )
    }

    /// The JSON answer of a call that must succeed.
    pub fn ok(&self, operation: EngineFn, request: Value) -> Value {
        let (result, answer) = self.call(operation, &request);
        assert_eq!(result, AI_BILLING_OK, "{request}: {}", last_error());
        answer.unwrap()
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        // SAFETY: the handle from `open`, freed once.
        unsafe { ai_billing_engine_free(self.0) };
    }
}
