//! Reading C arguments, writing C answers, and the calls that need no engine: preview,
//! interpret, version and string_free.

use std::ffi::{CStr, CString, c_char};

use ai_billing::api::{self, InterpretOptions};
use ai_billing::{Error, Result};
use serde::Serialize;

use crate::error::{Failure, ai_billing_result};
use crate::panic::{boundary, boundary_or};

/// `ptr` as a `&str`: NULL is `AI_BILLING_NULL_ARGUMENT`, bytes that are not UTF-8 are
/// `AI_BILLING_INVALID_INPUT` naming `argument` and the offset of the first bad byte.
///
/// # Safety
/// `ptr` is NULL or points to a NUL-terminated string that outlives `'a` and is not written
/// to meanwhile.
pub(crate) unsafe fn read_str<'a>(ptr: *const c_char, argument: &str) -> Result<&'a str, Failure> {
    if ptr.is_null() {
        return Err(Failure::null(argument));
    }
    // SAFETY: not NULL (checked above); NUL-terminated and alive for 'a per this function's
    // contract.
    let bytes = unsafe { CStr::from_ptr(ptr) };
    bytes.to_str().map_err(|e| {
        Failure::from(Error::invalid(
            argument,
            format!(
                "is not UTF-8: the byte at offset {} does not start a valid UTF-8 sequence",
                e.valid_up_to()
            ),
        ))
    })
}

/// As [`read_str`], where NULL means "absent".
///
/// # Safety
/// As [`read_str`].
pub(crate) unsafe fn read_optional_str<'a>(
    ptr: *const c_char,
    argument: &str,
) -> Result<Option<&'a str>, Failure> {
    if ptr.is_null() {
        Ok(None)
    } else {
        // SAFETY: forwarded contract.
        unsafe { read_str(ptr, argument) }.map(Some)
    }
}

/// An out-parameter for a string, checked before any work is done so a call never does its
/// work and then cannot hand back the answer.
pub(crate) struct OutString(*mut *mut c_char);

impl OutString {
    /// `out`, or `AI_BILLING_NULL_ARGUMENT` naming `argument`.
    pub(crate) fn new(out: *mut *mut c_char, argument: &str) -> Result<Self, Failure> {
        if out.is_null() {
            Err(Failure::null(argument))
        } else {
            Ok(OutString(out))
        }
    }

    /// Writes `value` as JSON to the out-parameter: the one place an answer is written.
    ///
    /// # Safety
    /// The pointer given to [`OutString::new`] is valid for a write of one pointer.
    pub(crate) unsafe fn write_json<T: Serialize>(self, value: &T) -> Result<(), Failure> {
        // serde_json escapes every control character, so a NUL cannot occur.
        let json = api::to_json(value)?;
        // SAFETY: this function's contract is `write_text`'s.
        unsafe { self.write_text(&json) }
    }

    /// Writes `text` as it is to the out-parameter (a document's HTML). A text holding a NUL
    /// byte cannot be a C string: `AI_BILLING_INTERNAL`, and nothing is written.
    ///
    /// # Safety
    /// The pointer given to [`OutString::new`] is valid for a write of one pointer.
    pub(crate) unsafe fn write_text(self, text: &str) -> Result<(), Failure> {
        let text = CString::new(text).map_err(|_| Failure {
            code: ai_billing_result::AI_BILLING_INTERNAL,
            message: "the answer holds a NUL byte, which a C string cannot".to_owned(),
        })?;
        // SAFETY: not NULL (checked in `new`) and writable per this function's contract.
        unsafe { *self.0 = text.into_raw() };
        Ok(())
    }
}

/// Runs `future` on a runtime made for this one call (a current-thread runtime, dropped before
/// returning): no thread or runtime outlives the call, so nothing is left for valgrind to
/// call lost and nothing needs a shutdown function.
pub(crate) fn block_on_once<F: Future>(future: F) -> Result<F::Output, Failure> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure {
            code: ai_billing_result::AI_BILLING_INTERNAL,
            message: format!("cannot start the async runtime: {e}"),
        })?;
    Ok(runtime.block_on(future))
}

/// Bills a scenario as `ai-billing preview --json` does (offline interpreter, compiled mode,
/// nothing written anywhere) and gives the report as JSON: `invoice_timing`, `invoices` (each
/// with `subtotal`, `tax`, `total` as decimal strings), `program`, `reading`.
///
/// - `scenario_json`: the JSON of a scenario file (as `examples/scenarios/newspaper.json`);
///   must not be NULL. Borrowed for the call only.
/// - `out_json`: must not be NULL. On `AI_BILLING_OK`, `*out_json` is set to a new
///   NUL-terminated string the caller owns and frees with `ai_billing_string_free`. On any
///   error, `*out_json` is not written.
///
/// Errors: `AI_BILLING_NULL_ARGUMENT`, `AI_BILLING_INVALID_INPUT` (malformed JSON, a bad field,
/// bytes that are not UTF-8), `AI_BILLING_PROMPT_NOT_UNDERSTOOD` (the plan's prompt was refused),
/// and the other codes; `ai_billing_last_error()` gives the message.
///
/// # Safety
/// `scenario_json` is NULL or a NUL-terminated string; `out_json` is NULL or valid for writing
/// one pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ai_billing_preview(
    scenario_json: *const c_char,
    out_json: *mut *mut c_char,
) -> ai_billing_result {
    boundary(|| {
        // SAFETY: the caller passes NULL or a NUL-terminated string, valid during the call.
        let scenario = unsafe { read_str(scenario_json, "scenario_json") }?;
        let out = OutString::new(out_json, "out_json")?;
        let report = block_on_once(api::preview_scenario(scenario))??;
        // SAFETY: `out_json` is valid for writing one pointer, per the caller's contract.
        unsafe { out.write_json(&report) }
    })
}

/// Reads a plan prompt as `ai-billing interpret` does and gives the answer as JSON: either
/// `{"outcome":"understood","program":...,"reading":...,"invoice_timing":...,"interpreter":...}`
/// or `{"outcome":"refused","reason":...}`. A refused prompt is an answer (`AI_BILLING_OK`),
/// not an error: the admin rephrases it.
///
/// - `prompt`: the prompt; must not be NULL. Borrowed for the call only.
/// - `options_json`: may be NULL (USD, monthly, the offline interpreter), else a JSON object with
///   camelCase keys: `currency`, `interval`, `intervalCount`, `interpreter` (`offline`, `openai`,
///   `auto`), `openai` (`apiKey`, `baseUrl`, `model`, ...). Borrowed for the call only.
/// - `out_json`: must not be NULL. On `AI_BILLING_OK`, `*out_json` is set to a new string the
///   caller frees with `ai_billing_string_free`; on any error it is not written.
///
/// # Safety
/// `prompt` and `options_json` are NULL or NUL-terminated strings; `out_json` is NULL or valid
/// for writing one pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ai_billing_interpret(
    prompt: *const c_char,
    options_json: *const c_char,
    out_json: *mut *mut c_char,
) -> ai_billing_result {
    boundary(|| {
        // SAFETY: the caller passes NULL or NUL-terminated strings, valid during the call.
        let prompt = unsafe { read_str(prompt, "prompt") }?;
        // SAFETY: as above.
        let options = match unsafe { read_optional_str(options_json, "options_json") }? {
            Some(json) => api::from_json::<InterpretOptions>("options", json)?,
            None => InterpretOptions::default(),
        };
        let out = OutString::new(out_json, "out_json")?;
        let interpretation = block_on_once(api::interpret_prompt(prompt, &options))??;
        // SAFETY: `out_json` is valid for writing one pointer, per the caller's contract.
        unsafe { out.write_json(&interpretation) }
    })
}

/// Frees a string the library returned (through any `out_json`). NULL is a no-op. Each string
/// is freed once; a string not returned by this library must not be passed here.
///
/// # Safety
/// `s` is NULL or a string this library returned and that was not freed yet.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ai_billing_string_free(s: *mut c_char) {
    boundary_or((), || {
        if !s.is_null() {
            // SAFETY: `s` came from `CString::into_raw` in `OutString::write_json` and is freed
            // once, per the caller's contract.
            drop(unsafe { CString::from_raw(s) });
        }
    })
}

/// The library's version (`0.1.0`): a static string, never freed. Also the cheapest call
/// across the C boundary (the no-op of the benchmark).
#[unsafe(no_mangle)]
pub extern "C" fn ai_billing_version() -> *const c_char {
    const VERSION: &CStr =
        match CStr::from_bytes_with_nul(concat!(env!("CARGO_PKG_VERSION"), "\0").as_bytes()) {
            Ok(version) => version,
            Err(_) => panic!("the package version holds no NUL"),
        };
    boundary_or(c"".as_ptr(), || VERSION.as_ptr())
}
