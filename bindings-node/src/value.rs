//! JavaScript values in and out, through napi's `serde_json::Value` conversion.
//!
//! A request is read as JSON first, then as the core's request type with
//! [`ai_billing::api::from_value`], so a wrong type, a missing field or an unknown key is an
//! `INVALID_INPUT` error naming the field's path (`request.quantity`). Properties whose value is
//! `undefined` are left out, as `JSON.stringify` would. Answers are serialised by the core's
//! types: money as decimal strings, dates as ISO 8601 text.

use ai_billing::api;
use ai_billing::{Error, Result};
use napi::ValueType;
use napi::bindgen_prelude::{FromNapiValue, Unknown};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Number, Value};

/// The largest integer a JavaScript number holds exactly (2^53 - 1).
const MAX_SAFE_INTEGER: f64 = 9_007_199_254_740_991.0;

/// The argument `what` as a `T`. `undefined` is "missing".
pub fn request<T: DeserializeOwned>(what: &str, value: Unknown<'_>) -> Result<T> {
    api::from_value(what, json(what, value)?)
}

/// The optional argument `what` as a `T`; `T::default()` when it is `undefined` or `null`.
pub fn options<T: DeserializeOwned + Default>(what: &str, value: Option<Unknown<'_>>) -> Result<T> {
    match value {
        Some(value)
            if !matches!(
                type_of(what, &value)?,
                ValueType::Undefined | ValueType::Null
            ) =>
        {
            request(what, value)
        }
        _ => Ok(T::default()),
    }
}

/// The argument `what` as JSON.
pub fn json(what: &str, value: Unknown<'_>) -> Result<Value> {
    if type_of(what, &value)? == ValueType::Undefined {
        return Err(Error::invalid(what, "is missing"));
    }
    let mut json =
        Value::from_unknown(value).map_err(|error| Error::invalid(what, error.reason.clone()))?;
    integral_numbers(&mut json);
    Ok(json)
}

/// `answer` as the JSON value handed to JavaScript.
pub fn answer<T: Serialize>(answer: &T) -> Result<Value> {
    serde_json::to_value(answer)
        .map_err(|e| Error::invalid("answer", format!("cannot be written as JSON: {e}")))
}

fn type_of(what: &str, value: &Unknown<'_>) -> Result<ValueType> {
    value
        .get_type()
        .map_err(|error| Error::invalid(what, error.reason.clone()))
}

/// napi reads a JavaScript number above `u32::MAX` or below `i32::MIN` as a float, even when it
/// is a whole number; the core's integer fields (minor units are `i64`) would refuse it. Whole
/// numbers that JavaScript holds exactly become integers again.
fn integral_numbers(value: &mut Value) {
    match value {
        Value::Number(number) if number.is_f64() => {
            if let Some(float) = number.as_f64()
                && float.fract() == 0.0
                && float.abs() <= MAX_SAFE_INTEGER
            {
                *number = Number::from(float as i64);
            }
        }
        Value::Array(values) => values.iter_mut().for_each(integral_numbers),
        Value::Object(map) => map.values_mut().for_each(integral_numbers),
        _ => {}
    }
}
