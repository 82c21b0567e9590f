//! JavaScript values in and out, through napi's `serde_json::Value` conversion.
//!
//! A request is read as JSON first, then as the core's request type with
//! [`ai_billing::api::from_json`], so a wrong type, a missing field or an unknown key is an
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
///
/// Read from the JSON's text rather than the value: with serde_json's `arbitrary_precision`
/// (a workspace feature), reading a number from a `Value` into a field that cannot hold it
/// (`1.5` or `5e9` for a `u32`) says only "invalid number", while the text says
/// "invalid value: integer `5000000000`, expected u32". Requests are small; the extra pass costs
/// a few microseconds.
pub fn request<T: DeserializeOwned>(what: &str, value: Unknown<'_>) -> Result<T> {
    api::from_json(what, &json(what, value)?.to_string()).map_err(|error| match error {
        // The position is in text the caller never saw.
        Error::InvalidInput { field, reason } => Error::InvalidInput {
            reason: without_position(&reason).to_owned(),
            field,
        },
        other => other,
    })
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

/// `reason` without serde_json's ` at line L column C` suffix.
fn without_position(reason: &str) -> &str {
    match reason.rsplit_once(" at line ") {
        Some((message, position))
            if position
                .split_once(" column ")
                .is_some_and(|(line, column)| is_number(line) && is_number(column)) =>
        {
            message
        }
        _ => reason,
    }
}

fn is_number(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit())
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_are_dropped_from_reasons_only_when_they_are_serde_json_positions() {
        assert_eq!(
            without_position("invalid type: string \"2\", expected u32 at line 1 column 82"),
            "invalid type: string \"2\", expected u32"
        );
        assert_eq!(without_position("must be at line 1"), "must be at line 1");
        assert_eq!(
            without_position("stops at line one column two"),
            "stops at line one column two"
        );
    }

    #[test]
    fn whole_floats_become_integers_and_fractions_stay() {
        let mut value = serde_json::json!({
            "amount": Number::from_f64(5e9).unwrap(),
            "rate": Number::from_f64(1.5).unwrap(),
            "huge": Number::from_f64(1e300).unwrap(),
            "list": [Number::from_f64(-3e9).unwrap()],
        });
        integral_numbers(&mut value);
        assert_eq!(value["amount"].as_i64(), Some(5_000_000_000));
        assert_eq!(value["rate"].as_f64(), Some(1.5));
        assert!(value["huge"].is_f64());
        assert_eq!(value["list"][0].as_i64(), Some(-3_000_000_000));
    }
}
