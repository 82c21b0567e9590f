//! The catalogue of bad inputs (`tests/bad-inputs.json`) through the C ABI, called as C calls
//! it: each entry's result code, `ai_billing_last_error_code()`, a fragment of
//! `ai_billing_last_error()`, and the out-parameter left as it was. Bytes go in as a C caller
//! would pass them (non-UTF-8 included); `null_arg` passes NULL for the input, the
//! out-parameter or the engine handle.

use std::ffi::{CStr, CString, c_char};
use std::ptr;

use ai_billing_c::*;
use serde_json::Value;

mod support;

use support::{last_error, last_error_code};

#[path = "../../tests/src/catalogue.rs"]
#[allow(dead_code)]
mod catalogue;

use catalogue::{Expect, Surface};

type EngineFn = unsafe extern "C" fn(
    *const ai_billing_engine,
    *const c_char,
    *mut *mut c_char,
) -> ai_billing_result;

fn engine_fn(op: &str) -> EngineFn {
    match op {
        "save_account" => ai_billing_save_account,
        "save_customer" => ai_billing_save_customer,
        "create_plan" => ai_billing_create_plan,
        "get_plan" => ai_billing_get_plan,
        "list_plans" => ai_billing_list_plans,
        "create_subscription" => ai_billing_create_subscription,
        "get_subscription" => ai_billing_get_subscription,
        "update_subscription" => ai_billing_update_subscription,
        "preview_next_invoice" => ai_billing_preview_next_invoice,
        "run_due" => ai_billing_run_due,
        "list_invoices" => ai_billing_list_invoices,
        "cancel_subscription" => ai_billing_cancel_subscription,
        "withdraw_cancel" => ai_billing_withdraw_cancel,
        "pause_subscription" => ai_billing_pause_subscription,
        "resume_subscription" => ai_billing_resume_subscription,
        "change_plan" => ai_billing_change_plan,
        "list_credit_notes" => ai_billing_list_credit_notes,
        "release_invoice" => ai_billing_release_invoice,
        "void_invoice" => ai_billing_void_invoice,
        "credit_invoice" => ai_billing_credit_invoice,
        other => panic!("no C function for {other}"),
    }
}

/// Bytes as a C string (they hold no NUL in the catalogue).
fn c_string(bytes: Vec<u8>) -> CString {
    CString::new(bytes).expect("catalogue inputs hold no NUL byte")
}

fn open(options: &str) -> *mut ai_billing_engine {
    let options = c_string(options.as_bytes().to_vec());
    let mut engine = ptr::null_mut();
    // SAFETY: a NUL-terminated string and a writable out-parameter.
    let result = unsafe { ai_billing_engine_open(options.as_ptr(), &mut engine) };
    assert_eq!(result, ai_billing_result::AI_BILLING_OK, "{}", last_error());
    engine
}

fn call(engine: *const ai_billing_engine, op: &str, request: &Value) -> ai_billing_result {
    let request = c_string(request.to_string().into_bytes());
    let mut out: *mut c_char = ptr::null_mut();
    // SAFETY: a live handle, a NUL-terminated request and a writable out-parameter.
    let result = unsafe { engine_fn(op)(engine, request.as_ptr(), &mut out) };
    // SAFETY: NULL or a string the library returned.
    unsafe { ai_billing_string_free(out) };
    result
}

/// An engine on a new in-memory database, set up as the catalogue says.
fn set_up(setup: &[Value]) -> *mut ai_billing_engine {
    let engine = open(r#"{"databaseUrl": "sqlite::memory:"}"#);
    for step in setup {
        let result = call(engine, step["op"].as_str().unwrap(), &step["request"]);
        assert_eq!(
            result,
            ai_billing_result::AI_BILLING_OK,
            "{step}: {}",
            last_error()
        );
    }
    engine
}

#[test]
fn every_bad_input_of_the_catalogue_fails_with_its_code_through_the_c_abi() {
    let catalogue = catalogue::catalogue();
    let base = &catalogue["base_scenario"];
    let setup = catalogue["setup"].as_array().unwrap();
    let engine = set_up(setup);
    let closed = set_up(setup);
    // SAFETY: a live handle; closing leaves it valid until it is freed.
    unsafe { ai_billing_engine_close(closed) };
    let (mut tried, mut skipped) = (0, 0);
    let mut wrong = Vec::new();
    for entry in catalogue["inputs"].as_array().unwrap() {
        let id = entry["id"].as_str().unwrap();
        let expected = catalogue::expect(entry, Surface::C);
        if let Expect::Skip(_) = expected {
            skipped += 1;
            continue;
        }
        tried += 1;
        let op = entry["op"].as_str().unwrap();
        let null = entry["null_arg"].as_str().unwrap_or_default();
        let input = catalogue::input_bytes(entry, base).map(c_string);
        let input_ptr = input.as_ref().map_or(ptr::null(), |s| s.as_ptr());
        // What the out-parameter holds before the call: a failing call must leave it.
        let sentinel = ptr::dangling_mut::<c_char>();
        let mut out: *mut c_char = sentinel;
        let out_ptr: *mut *mut c_char = if null == "out" {
            ptr::null_mut()
        } else {
            &mut out
        };
        let mut fresh: *mut ai_billing_engine = ptr::null_mut();
        // SAFETY (every call below): NUL-terminated strings or NULL where the catalogue asks for
        // it, live handles or NULL, and writable out-parameters or NULL.
        let result = unsafe {
            match op {
                "preview" => ai_billing_preview(input_ptr, out_ptr),
                "interpret" => {
                    let options = catalogue::options_text(entry).map(|o| c_string(o.into_bytes()));
                    ai_billing_interpret(
                        input_ptr,
                        options.as_ref().map_or(ptr::null(), |s| s.as_ptr()),
                        out_ptr,
                    )
                }
                "engine_open" => {
                    let mut handle = ptr::dangling_mut::<ai_billing_engine>();
                    let result = ai_billing_engine_open(input_ptr, &mut handle);
                    if result == ai_billing_result::AI_BILLING_OK {
                        fresh = handle;
                    } else {
                        assert_eq!(handle, ptr::dangling_mut(), "{id}: out_engine written");
                    }
                    result
                }
                _ => {
                    let handle: *const ai_billing_engine = if null == "engine" {
                        ptr::null()
                    } else if entry["closed"] == true {
                        closed
                    } else if op == "create_subscription" || op == "create_plan" {
                        // Writes that may succeed get an engine of their own.
                        fresh = set_up(setup);
                        fresh
                    } else {
                        engine
                    };
                    engine_fn(op)(handle, input_ptr, out_ptr)
                }
            }
        };
        let code = last_error_code();
        let message = last_error();
        let outcome = match expected {
            Expect::Ok => result == ai_billing_result::AI_BILLING_OK,
            Expect::Error {
                code: expected_code,
                message: fragment,
            } if op == "interpret" && expected_code == "PROMPT_NOT_UNDERSTOOD" => {
                // A refusal is an answer.
                result == ai_billing_result::AI_BILLING_OK && {
                    // SAFETY: written on success: a string the library returned.
                    let text = unsafe { CStr::from_ptr(out) }
                        .to_string_lossy()
                        .into_owned();
                    text.contains("\"refused\"") && text.contains(&fragment)
                }
            }
            Expect::Error {
                code: expected_code,
                message: fragment,
            } => {
                format!("{result:?}") == format!("AI_BILLING_{expected_code}")
                    && code == expected_code
                    && message.contains(&fragment)
                    && out == sentinel
            }
            Expect::Skip(_) | Expect::Exit { .. } => unreachable!(),
        };
        if result == ai_billing_result::AI_BILLING_OK && out != sentinel {
            // SAFETY: a string the library returned, freed once.
            unsafe { ai_billing_string_free(out) };
        }
        // SAFETY: NULL or a handle opened above, freed once.
        unsafe { ai_billing_engine_free(fresh) };
        if !outcome {
            wrong.push(format!(
                "{id}: expected {:?}; got {result:?} {code}: {}",
                catalogue::expect(entry, Surface::C),
                message.chars().take(300).collect::<String>()
            ));
        }
    }
    // SAFETY: handles opened above, freed once.
    unsafe {
        ai_billing_engine_free(engine);
        ai_billing_engine_free(closed);
    }
    catalogue::assert_all_right(&wrong, tried, skipped, "through C");
    eprintln!("bad inputs: {tried} tried through the C ABI, {skipped} not applicable");
}
